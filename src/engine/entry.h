/*
 * entry.h — private to the engine: the layout of one entry (key + value +
 * metadata in a single malloc'd block) and fast inline decoders.
 *
 * Layout (byte-packed, no alignment needed):
 *
 *   flags (1) | meta (3) | klen (varint) | vlen (varint) | [expire_at (8)]
 *   | key | value
 *
 * flags: bit 0 ENT_F_TTL (the expire_at field is present), bit 1
 * ENT_F_ACCESSED (set on reads: the default eviction policy's visited bit,
 * evict.c), bits 2-4
 * the value type (enum eng_type), bit 5 ENT_F_HEAP (the block came from
 * malloc, not from the shard's slab: blocks above SLAB_MAX bytes, and
 * smaller ones while their class has no page, slab.h), bits 6-7 the
 * entry's level under the default eviction policy (enum eng_tier: 0 cold,
 * 1 warm, 2 hot; evict.c), which stays with the key when a write
 * reallocates or rewrites its entry (shard_replace, ent_try_overwrite),
 * like meta. meta is
 * Redis's 24 bits of access metadata (evict.h): the LRU clock in seconds,
 * or under an LFU policy 16 bits of minutes and an 8-bit logarithmic
 * counter; it moves with the entry when a write reallocates it. Lengths are
 * LEB128 varints (one byte below 128). expire_at is a host-order int64 read and
 * written with memcpy.
 *
 * Owns: nothing; the shard owns entries, allocated from and freed to its
 * slab (slab.h) by the functions below. Threads: the shard's thread.
 */
#ifndef FC_ENGINE_ENTRY_H
#define FC_ENGINE_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/bytes.h"
#include "engine/engine.h"
#include "engine/slab.h"

#define ENT_F_TTL 0x01u
#define ENT_F_ACCESSED 0x02u
#define ENT_TYPE_SHIFT 2
#define ENT_TYPE_MASK 0x1cu
#define ENT_F_HEAP 0x20u
#define ENT_LVL_SHIFT 6
#define ENT_LVL_MASK 0xc0u

struct eng_entry {
    uint8_t flags;
    uint8_t meta[3]; /* little-endian 24 bits, see evict.h */
    uint8_t rest[];  /* varints, optional expire_at, key, value */
};

/* Decoded view of an entry. */
struct ent_view {
    uint8_t *key;
    uint8_t *val;
    size_t klen;
    size_t vlen;
    size_t hdr; /* bytes before the key */
};

static inline size_t ent_varint_size(size_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static inline uint8_t *ent_varint_put(uint8_t *p, size_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static inline const uint8_t *ent_varint_get(const uint8_t *p, size_t *v)
{
    size_t x = *p & 0x7f;
    unsigned shift = 7;
    while (*p++ & 0x80) {
        x |= (size_t)(*p & 0x7f) << shift;
        shift += 7;
    }
    *v = x;
    return p;
}

static inline size_t ent_hdr_size(size_t klen, size_t vlen, bool ttl)
{
    return sizeof(struct eng_entry) + ent_varint_size(klen) +
           ent_varint_size(vlen) + (ttl ? 8 : 0);
}

static inline void ent_decode(const eng_entry *e, struct ent_view *v)
{
    const uint8_t *p = e->rest;
    /* The common case: short key, short value. */
    if (p[0] < 0x80 && p[1] < 0x80) {
        v->klen = p[0];
        v->vlen = p[1];
        p += 2;
    } else {
        p = ent_varint_get(p, &v->klen);
        p = ent_varint_get(p, &v->vlen);
    }
    if (e->flags & ENT_F_TTL)
        p += 8;
    v->key = (uint8_t *)p;
    v->val = v->key + v->klen;
    v->hdr = (size_t)(p - (const uint8_t *)e);
}

/* The hot comparison of table probes: decodes only what it needs, with a
 * fast path for one-byte lengths (keys and values under 128 bytes). */
static inline bool ent_key_eq(const eng_entry *e, const void *key, size_t klen)
{
    const uint8_t *p = e->rest;
    size_t kl;
    if (__builtin_expect(p[0] < 0x80 && p[1] < 0x80, 1)) {
        if (p[0] != klen)
            return false;
        p += 2 + (e->flags & ENT_F_TTL) * 8;
        return eng_bytes_eq(p, key, klen);
    }
    p = ent_varint_get(p, &kl);
    if (kl != klen)
        return false;
    while (*p++ & 0x80) /* skip vlen */
        ;
    if (e->flags & ENT_F_TTL)
        p += 8;
    return memcmp(p, key, klen) == 0;
}

static inline bool ent_has_ttl(const eng_entry *e)
{
    return e->flags & ENT_F_TTL;
}

/* Only meaningful when ent_has_ttl(e). */
static inline int64_t ent_expire(const eng_entry *e)
{
    const uint8_t *p = e->rest;
    int64_t x;
    while (*p++ & 0x80) /* klen */
        ;
    while (*p++ & 0x80) /* vlen */
        ;
    memcpy(&x, p, sizeof(x));
    return x;
}

static inline uint32_t ent_meta(const eng_entry *e)
{
    return (uint32_t)e->meta[0] | (uint32_t)e->meta[1] << 8 |
           (uint32_t)e->meta[2] << 16;
}

static inline void ent_set_meta(eng_entry *e, uint32_t m)
{
    e->meta[0] = (uint8_t)m;
    e->meta[1] = (uint8_t)(m >> 8);
    e->meta[2] = (uint8_t)(m >> 16);
}

static inline unsigned ent_level(const eng_entry *e)
{
    return (e->flags & ENT_LVL_MASK) >> ENT_LVL_SHIFT;
}

static inline void ent_set_level(eng_entry *e, unsigned lvl)
{
    e->flags = (uint8_t)((e->flags & ~ENT_LVL_MASK) | (lvl << ENT_LVL_SHIFT));
}

static inline unsigned ent_type(const eng_entry *e)
{
    return (e->flags & ENT_TYPE_MASK) >> ENT_TYPE_SHIFT;
}

/* Allocates an entry holding key and a value of vlen bytes (copied from val
 * unless val is NULL), with room for `slack` more value bytes. expire_at 0 =
 * no TTL field. NULL on allocation failure. */
eng_entry *ent_new(struct slab *s, const void *key, size_t klen,
                   const void *val, size_t vlen, int64_t expire_at,
                   unsigned type, size_t slack);

/* Frees an entry made by the functions here from the same slab. */
void ent_free(struct slab *s, eng_entry *e);

/* Rewrites e's value length to new_vlen, keeping key, flags, TTL and the
 * first min(old, new) value bytes. Returns e when done in place, a new entry
 * otherwise (e untouched: the caller swaps the slot, copies any data that may
 * alias e, then frees e), or NULL on allocation failure (e untouched). */
eng_entry *ent_resize_value(struct slab *s, eng_entry *e, size_t new_vlen,
                            size_t slack);

/* Returns an entry with a TTL field set to expire_at (> 0): e itself when
 * it already has one, else a new entry (caller frees e) or NULL (ENOMEM). */
eng_entry *ent_with_ttl(struct slab *s, eng_entry *e, int64_t expire_at);

/* Drops the TTL field in place (no allocation, cannot fail). */
void ent_drop_ttl(eng_entry *e);

/* Overwrites the value in place when the new value fits without changing the
 * header and without wasting much memory; false if it does not. */
bool ent_try_overwrite(eng_entry *e, const void *val, size_t vlen,
                       int64_t expire_at);

size_t ent_usable(const eng_entry *e);

#endif /* FC_ENGINE_ENTRY_H */
