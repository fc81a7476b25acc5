/*
 * obj_tab.h — the large encoding shared by hashes and sets: an
 * open-addressing table (linear probing, backward-shift deletion, no
 * tombstones) of pointers to one malloc'd block per element.
 *
 * A block starts with the element's key as a pack item (LEB128 length,
 * then its bytes); a hash appends the value as a second item, a set has
 * nothing more. So an element costs its block (malloc's chunk) plus 8 /
 * load bytes of slot; Redis's dict spends a 24-byte dictEntry, one or two
 * sds and a bucket pointer on the same element.
 *
 * A slot holds the block pointer in its low 48 bits and 16 bits of the
 * key's hash above them (a tag): a probe compares tags before it touches
 * a block, so a miss rarely reads memory outside the slot array. Linux
 * user pointers fit in 48 bits on x86-64 and arm64 (otab_insert checks).
 *
 * Scans (HSCAN, SSCAN) walk home slots in Redis's reverse-binary cursor
 * order, so an element present for the whole scan is returned at least
 * once across any number of grows and shrinks, as with Redis's dict.
 *
 * Owns: the slot array and every block in it (otab_free frees both).
 * Threads: the owning shard's thread.
 */
#ifndef FC_ENGINE_OBJ_TAB_H
#define FC_ENGINE_OBJ_TAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OT_NONE SIZE_MAX

/* 24 bytes: with the eng_obj header a hash or set object is 56 bytes,
 * one glibc chunk class below 64-byte requests (which take 80). */
typedef struct otab {
    uint64_t *slot; /* tag << 48 | pointer; 0 = empty */
    uint32_t mask;  /* slots - 1 (slots is a power of two), or 0 if none */
    uint32_t count; /* at most 2^31: slots_for stops there */
    size_t bytes;   /* heap bytes: the slot array and every block */
} otab;

/* The block's key item. */
static inline const uint8_t *ot_key(const uint8_t *b, size_t *len)
{
    size_t x = *b & 0x7f;
    unsigned shift = 7;
    while (*b++ & 0x80) {
        x |= (size_t)(*b & 0x7f) << shift;
        shift += 7;
    }
    *len = x;
    return b;
}

/* The block's second item (a hash's value). */
static inline const uint8_t *ot_val(const uint8_t *b, size_t *len)
{
    size_t kl;
    const uint8_t *k = ot_key(b, &kl);
    return ot_key(k + kl, len);
}

static inline uint8_t *ot_block(uint64_t s)
{
    return (uint8_t *)(uintptr_t)(s & 0xffffffffffffull);
}

/* A new block holding one or two items (b == NULL: one). NULL on ENOMEM. */
uint8_t *ot_block_new(const void *a, size_t alen, const void *b, size_t blen);

void otab_init(otab *t);
void otab_free(otab *t);
/* Index of the slot holding key, or OT_NONE. */
size_t otab_find(const otab *t, const void *key, size_t klen);
/* Adds a block whose key is not in the table (takes it on FC_OK; on
 * FC_ENOMEM the caller still owns it). */
int otab_insert(otab *t, uint8_t *block);
/* Swaps the block at slot i for one with the same key (frees the old). */
void otab_replace(otab *t, size_t i, uint8_t *block);
/* Removes and frees the block at slot i. */
void otab_remove(otab *t, size_t i);
/* Makes room for n elements in all (FC_OK or FC_ENOMEM, table unchanged). */
int otab_reserve(otab *t, size_t n);
/* A random occupied slot (the table is not empty). rng: xorshift state. */
size_t otab_random(const otab *t, uint64_t *rng);
/* One scan step from cursor: calls fn for every block whose home slot is
 * visited, visiting home slots until `want` blocks were emitted or 10 *
 * want slots were seen; returns the next cursor (0: done). */
uint64_t otab_scan(const otab *t, uint64_t cursor, size_t want,
                   void (*fn)(void *ctx, const uint8_t *block), void *ctx);
/* Heap bytes of one block. */
size_t ot_block_bytes(const uint8_t *b);

/* xorshift64* step for the random picks; state must not be 0. */
static inline uint64_t ot_rand(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

#endif /* FC_ENGINE_OBJ_TAB_H */
