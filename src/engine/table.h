/*
 * table.h — private to the engine: the open-addressing hash table of one
 * shard (groups of 7 slots with a 64-bit control word), with incremental
 * resize. table.c's top comment explains the design.
 *
 * Owns: the group arrays (posix_memalign'd). Not the entries: slots hold
 *   borrowed pointers; the shard allocates and frees entries.
 * Threads: the shard's thread.
 */
#ifndef FC_ENGINE_TABLE_H
#define FC_ENGINE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/entry.h"

#define HT_SLOTS 7 /* per group: 8 B ctrl + 7 x 8 B slots = one cache line */

#define CTRL_EMPTY 0x80u
#define CTRL_DELETED 0xFEu
#define CTRL_SENTINEL 0xFFu /* byte 7 of every ctrl word: no slot behind it */
/* Byte 7 once an insert has probed past the group (table.c, "Probing").
 * Like the sentinel it matches no tag, is neither EMPTY nor DELETED nor
 * full for the masks below (bits 7, 1 and 0 set). */
#define CTRL_SENTINEL_PASSED 0xFBu
#define CTRL_LSB 0x0101010101010101ULL
#define CTRL_MSB 0x8080808080808080ULL
#define CTRL_INIT 0xFF80808080808080ULL /* 7 x EMPTY + SENTINEL */

struct ht_group {
    uint64_t ctrl; /* byte i (bits 8i..8i+7) describes slot[i] */
    eng_entry *slot[HT_SLOTS];
};

struct ht_table {
    struct ht_group *g; /* NULL: no table */
    size_t n;           /* groups, 1 .. 2^32-1 (any count, not a power of 2) */
    size_t count;       /* live entries */
    size_t growth_left; /* EMPTY slots that may still be filled */
    size_t passed;      /* groups marked CTRL_SENTINEL_PASSED (table.c) */
    size_t erased;      /* erases since the array was made */
    uint16_t serial;    /* identifies this array for scan cursors */
};

/* Two tables while a resize migrates entries from `old` into `cur`. */
struct eng_ht {
    struct ht_table cur;
    struct ht_table old; /* old.g == NULL when not migrating */
    size_t mig_pos;      /* next old group to migrate */
    size_t mig_step;     /* groups migrated per step */
    size_t bytes;        /* usable bytes of both group arrays */
    size_t min_groups;   /* from the capacity hint: no shrinking below */
    uint64_t seed;       /* key hash seed (eng_hash_seeded), for rehashing */
    uint16_t next_serial;
};

/* The geometry (g, n) of a shard's tables is also read by eng_prefetch,
 * which runs without holding the shard (a hint taken before a lock). So that
 * those reads are not data races, g and n of `cur` and `old` are only ever
 * written through ht_table_assign / ht_geom_set (relaxed atomic stores:
 * plain moves on x86-64 and AArch64) and read there with relaxed atomic
 * loads; everything else reads them plainly, as the shard's owner. */
static inline void ht_geom_set(struct ht_table *t, struct ht_group *g, size_t n)
{
    __atomic_store_n(&t->g, g, __ATOMIC_RELAXED);
    __atomic_store_n(&t->n, n, __ATOMIC_RELAXED);
}

static inline void ht_table_assign(struct ht_table *dst,
                                   const struct ht_table *src)
{
    ht_geom_set(dst, src->g, src->n);
    dst->count = src->count;
    dst->growth_left = src->growth_left;
    dst->passed = src->passed;
    dst->erased = src->erased;
    dst->serial = src->serial;
}

/* A found slot. */
struct ht_ref {
    struct ht_table *t;
    struct ht_group *g;
    unsigned i;
};

/* --- control-word matching (SWAR, portable) --- */

/* Bytes equal to tag (tag < 0x80). False positives are possible only on
 * full slots whose tag differs in bit 0 (the key compare rejects those);
 * EMPTY, DELETED and the sentinel never match. */
static inline uint64_t ctrl_match(uint64_t c, unsigned tag)
{
    uint64_t x = c ^ (CTRL_LSB * tag);
    return (x - CTRL_LSB) & ~x & CTRL_MSB;
}

/* EMPTY bytes: bit 7 set, bit 1 clear. */
static inline uint64_t ctrl_empty(uint64_t c)
{
    return c & ~(c << 6) & CTRL_MSB;
}

/* EMPTY or DELETED bytes: bit 7 set, bit 0 clear. */
static inline uint64_t ctrl_free(uint64_t c)
{
    return c & ~(c << 7) & CTRL_MSB;
}

/* Whether a probe may stop after this group (not finding its key here):
 * no insert has ever probed past it, so no key lies beyond it on a probe
 * path through it (table.c, "Probing"). */
static inline bool ctrl_stops(uint64_t c)
{
    return (c >> 56) != CTRL_SENTINEL_PASSED;
}

/* Full (live) slots: bit 7 clear. */
static inline uint64_t ctrl_full(uint64_t c)
{
    return ~c & CTRL_MSB;
}

static inline unsigned ctrl_byte(uint64_t c, unsigned i)
{
    return (unsigned)(c >> (8 * i)) & 0xffu;
}

static inline unsigned ctrl_first(uint64_t mask)
{
    return (unsigned)__builtin_ctzll(mask) >> 3;
}

/* The shard's own bits of the hash: the store routes on its low bits (shard
 * = hash & (S-1), S <= 65536), so the tag takes bits 16..22 and the home group
 * bits 32..63. */
static inline unsigned ht_tag(uint64_t h)
{
    return (unsigned)(h >> 16) & 0x7fu;
}

static inline size_t ht_home(uint64_t h, size_t n)
{
    return (size_t)(((h >> 32) * (uint64_t)n) >> 32);
}

static inline bool ht_table_find(struct ht_table *t, uint64_t h,
                                 const void *key, size_t klen, struct ht_ref *r)
{
    size_t n = t->n, gi = ht_home(h, n);
    unsigned tag = ht_tag(h);

    for (size_t probes = 0; probes < n; probes++) {
        struct ht_group *g = &t->g[gi];
        uint64_t c = g->ctrl;
        for (uint64_t m = ctrl_match(c, tag); m; m &= m - 1) {
            unsigned i = ctrl_first(m);
            if (ent_key_eq(g->slot[i], key, klen)) {
                r->t = t;
                r->g = g;
                r->i = i;
                return true;
            }
        }
        if (ctrl_stops(c))
            return false;
        if (++gi == n)
            gi = 0;
    }
    return false;
}

/* The lookup of reads, when no resize is running: only the entry is wanted
 * (no slot reference), which keeps the loop in few registers. */
static inline eng_entry *ht_table_get(const struct ht_table *t, uint64_t h,
                                      const void *key, size_t klen)
{
    const struct ht_group *base = t->g, *end = base + t->n;
    const struct ht_group *g = base + ht_home(h, t->n);
    unsigned tag = ht_tag(h);

    for (size_t probes = t->n; probes; probes--) {
        uint64_t c = g->ctrl;
        for (uint64_t m = ctrl_match(c, tag); m; m &= m - 1) {
            eng_entry *e = g->slot[ctrl_first(m)];
            /* The value usually runs into the entry's next line: fetch it
             * alongside the first instead of after the key compare. */
            __builtin_prefetch((const char *)e + 64);
            if (ent_key_eq(e, key, klen))
                return e;
        }
        if (ctrl_stops(c))
            return NULL;
        if (++g == end)
            g = base;
    }
    return NULL;
}

/* Finds key in either table. */
static inline bool ht_find(struct eng_ht *ht, uint64_t h, const void *key,
                           size_t klen, struct ht_ref *r)
{
    if (ht->old.g && ht->old.count && ht_table_find(&ht->old, h, key, klen, r))
        return true;
    return ht_table_find(&ht->cur, h, key, klen, r);
}

/* Finds the slot holding exactly e (h: the hash of e's key), in either
 * table: pointer identity, so a detached entry with the same key is not
 * found. For defragmentation, which repoints the slot at a moved copy. */
static inline bool ht_table_find_ptr(struct ht_table *t, uint64_t h,
                                     const eng_entry *e, struct ht_ref *r)
{
    size_t n = t->n, gi = ht_home(h, n);
    unsigned tag = ht_tag(h);

    for (size_t probes = 0; t->g && probes < n; probes++) {
        struct ht_group *g = &t->g[gi];
        uint64_t c = g->ctrl;
        for (uint64_t m = ctrl_match(c, tag); m; m &= m - 1) {
            unsigned i = ctrl_first(m);
            if (g->slot[i] == e) {
                r->t = t;
                r->g = g;
                r->i = i;
                return true;
            }
        }
        if (ctrl_stops(c))
            return false;
        if (++gi == n)
            gi = 0;
    }
    return false;
}

static inline bool ht_find_ptr(struct eng_ht *ht, uint64_t h,
                               const eng_entry *e, struct ht_ref *r)
{
    if (ht->old.g && ht->old.count && ht_table_find_ptr(&ht->old, h, e, r))
        return true;
    return ht_table_find_ptr(&ht->cur, h, e, r);
}

static inline size_t ht_len(const struct eng_ht *ht)
{
    return ht->cur.count + ht->old.count;
}

/* Sized for `capacity` keys. FC_OK or FC_ENOMEM. */
int ht_init(struct eng_ht *ht, size_t capacity);
/* Empties the table (entries already freed by the caller), back to its
 * initial size; never fails (reuses the current array when it must). */
void ht_reset(struct eng_ht *ht);
/* Frees the group arrays (not the entries). */
void ht_destroy(struct eng_ht *ht);
/* Inserts an entry whose key is in neither table. FC_OK or FC_ENOMEM (the
 * table is unchanged). */
int ht_insert(struct eng_ht *ht, uint64_t h, eng_entry *e);
/* Empties a slot and returns its entry. */
eng_entry *ht_erase(struct eng_ht *ht, const struct ht_ref *r);
/* One bounded step of an ongoing migration (no-op otherwise). */
void ht_step(struct eng_ht *ht);
/* Migrates up to `groups` old groups (no-op when not migrating). */
void ht_step_n(struct eng_ht *ht, size_t groups);
/* Starts shrinking when the table became sparse (best effort). */
void ht_maybe_shrink(struct eng_ht *ht);
/* The most groups a lookup of an absent key reads: the longest run of
 * passed groups, plus the group that ends it. A figure for
 * tests and diagnostics, O(groups). */
size_t ht_longest_probe(const struct ht_table *t);

#endif /* FC_ENGINE_TABLE_H */
