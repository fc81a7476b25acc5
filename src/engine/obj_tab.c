/*
 * obj_tab.c — the open-addressing table of element blocks (obj_tab.h).
 *
 * Load stays between 1/8 and 13/16: at 13/16 a miss probes ~15 slots on
 * average, two cache lines of tags, while 100k elements fit 131072 slots
 * (10.5 bytes each) instead of twice that at a 3/4 limit. Below 1/8 the
 * table halves, which also keeps otab_random's retries short.
 */
#include "engine/obj_tab.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "engine/bytes.h"
#include "engine/engine.h"
#include "engine/pack.h"
#include "fastcache.h"

#define MIN_SLOTS 8
#define PTR_BITS 0xffffffffffffull

/* One random seed per process: element hashes never leave the process
 * (a loaded value is hashed again), and a random seed keeps clients from
 * building fields that all collide in one probe chain. */
static _Atomic uint64_t tab_seed;

static uint64_t seed(void)
{
    uint64_t s = atomic_load_explicit(&tab_seed, memory_order_relaxed);
    if (s)
        return s;
    if (getrandom(&s, sizeof(s), 0) != (ssize_t)sizeof(s))
        s = (uint64_t)(uintptr_t)&s ^ 0x9e3779b97f4a7c15ull;
    s |= 1;
    uint64_t zero = 0;
    if (!atomic_compare_exchange_strong(&tab_seed, &zero, s))
        s = zero;
    return s;
}

static uint64_t hash_key(const void *k, size_t n)
{
    return eng_hash_seeded(seed(), k, n);
}

static uint64_t block_hash(const uint8_t *b)
{
    size_t n;
    const uint8_t *k = ot_key(b, &n);
    return hash_key(k, n);
}

uint8_t *ot_block_new(const void *a, size_t alen, const void *b, size_t blen)
{
    size_t n =
        pk_varint_size(alen) + alen + (b ? pk_varint_size(blen) + blen : 0);
    uint8_t *blk = malloc(n), *p;
    if (!blk)
        return NULL;
    p = pk_varint_put(blk, alen);
    if (alen)
        memcpy(p, a, alen);
    if (b) {
        p = pk_varint_put(p + alen, blen);
        if (blen)
            memcpy(p, b, blen);
    }
    return blk;
}

size_t ot_block_bytes(const uint8_t *b)
{
    return malloc_usable_size((void *)b);
}

void otab_init(otab *t)
{
    memset(t, 0, sizeof(*t));
}

void otab_free(otab *t)
{
    if (t->slot) {
        for (size_t i = 0; i <= t->mask; i++)
            if (t->slot[i])
                free(ot_block(t->slot[i]));
        free(t->slot);
    }
    otab_init(t);
}

static inline uint64_t make_slot(uint8_t *b, uint64_t h)
{
    return (uint64_t)(uintptr_t)b | (h & ~PTR_BITS);
}

size_t otab_find(const otab *t, const void *key, size_t klen)
{
    if (!t->slot)
        return OT_NONE;
    uint64_t h = hash_key(key, klen), tag = h & ~PTR_BITS;
    for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
        uint64_t s = t->slot[i];
        if (!s)
            return OT_NONE;
        if ((s & ~PTR_BITS) != tag)
            continue;
        size_t n;
        const uint8_t *k = ot_key(ot_block(s), &n);
        if (n == klen && eng_bytes_eq(k, key, klen))
            return i;
    }
}

static void place(uint64_t *slot, size_t mask, uint64_t s, uint64_t h)
{
    size_t i = h & mask;
    while (slot[i])
        i = (i + 1) & mask;
    slot[i] = s;
}

/* Rebuilds into `slots` slots (a power of two holding count). */
static int resize(otab *t, size_t slots)
{
    uint64_t *ns = calloc(slots, sizeof(*ns));
    if (!ns)
        return FC_ENOMEM;
    if (t->slot) {
        for (size_t i = 0; i <= t->mask; i++)
            if (t->slot[i])
                place(ns, slots - 1, t->slot[i],
                      block_hash(ot_block(t->slot[i])));
        t->bytes -= malloc_usable_size(t->slot);
        free(t->slot);
    }
    t->slot = ns;
    t->mask = (uint32_t)(slots - 1);
    t->bytes += malloc_usable_size(ns);
    return FC_OK;
}

#define MAX_SLOTS ((size_t)1 << 31)

static size_t slots_for(size_t n)
{
    size_t s = MIN_SLOTS;
    while (n > s / 16 * 13 && s < MAX_SLOTS)
        s <<= 1;
    return s;
}

int otab_reserve(otab *t, size_t n)
{
    if (n > MAX_SLOTS / 16 * 13)
        return FC_ENOMEM; /* past what a u32 count and mask describe */
    size_t want = slots_for(n);
    if (t->slot && want <= t->mask + 1)
        return FC_OK;
    return resize(t, want);
}

int otab_insert(otab *t, uint8_t *block)
{
    if ((uintptr_t)block & ~PTR_BITS)
        abort(); /* a pointer above 48 bits: the tag layout is wrong here */
    int rc = otab_reserve(t, t->count + 1);
    if (rc != FC_OK)
        return rc;
    uint64_t h = block_hash(block);
    place(t->slot, t->mask, make_slot(block, h), h);
    t->count++;
    t->bytes += ot_block_bytes(block);
    return FC_OK;
}

void otab_replace(otab *t, size_t i, uint8_t *block)
{
    if ((uintptr_t)block & ~PTR_BITS)
        abort();
    uint8_t *old = ot_block(t->slot[i]);
    t->bytes -= ot_block_bytes(old);
    t->bytes += ot_block_bytes(block);
    t->slot[i] = (t->slot[i] & ~PTR_BITS) | (uint64_t)(uintptr_t)block;
    free(old);
}

void otab_remove(otab *t, size_t i)
{
    uint8_t *old = ot_block(t->slot[i]);
    t->bytes -= ot_block_bytes(old);
    free(old);
    t->slot[i] = 0;
    t->count--;
    /* Backward shift: pull later members of the cluster into the hole
     * when their home slot is not in (hole, j], so no lookup meets an
     * empty slot before its element. */
    for (size_t j = (i + 1) & t->mask; t->slot[j]; j = (j + 1) & t->mask) {
        size_t home = block_hash(ot_block(t->slot[j])) & t->mask;
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            t->slot[i] = t->slot[j];
            t->slot[j] = 0;
            i = j;
        }
    }
    if (t->count == 0) {
        t->bytes -= malloc_usable_size(t->slot);
        free(t->slot);
        t->slot = NULL;
        t->mask = 0;
    } else if (t->mask + 1 > MIN_SLOTS && t->count < (t->mask + 1) / 8) {
        (void)resize(t, slots_for(t->count)); /* failed shrink: harmless */
    }
}

size_t otab_random(const otab *t, uint64_t *rng)
{
    for (;;) {
        size_t i = ot_rand(rng) & t->mask;
        if (t->slot[i])
            return i;
    }
}

/* Redis's reverse-binary increment (dictScan): the cursor's high bits
 * count up, so a cursor of a smaller or larger table still names the
 * home slots left to visit. */
static uint64_t rev64(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
    v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
    v = ((v >> 4) & 0x0f0f0f0f0f0f0f0full) | ((v & 0x0f0f0f0f0f0f0f0full) << 4);
    return __builtin_bswap64(v);
}

uint64_t otab_scan(const otab *t, uint64_t cursor, size_t want,
                   void (*fn)(void *ctx, const uint8_t *block), void *ctx)
{
    if (!t->slot)
        return 0;
    uint64_t mask = t->mask, v = cursor;
    size_t emitted = 0, seen = 0;
    do {
        size_t home = v & mask;
        for (size_t j = home; t->slot[j]; j = (j + 1) & mask) {
            const uint8_t *b = ot_block(t->slot[j]);
            if ((block_hash(b) & mask) == home) {
                fn(ctx, b);
                emitted++;
            }
            if (((j + 1) & mask) == home)
                break; /* a full circle (cannot happen below load 1) */
        }
        seen++;
        v |= ~mask;
        v = rev64(v);
        v++;
        v = rev64(v);
    } while (v != 0 && emitted < want && seen / 10 < want);
    return v;
}
