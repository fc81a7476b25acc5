/*
 * pack.h — the compact encoding of small typed values: one malloc'd block
 * of items, each a LEB128 varint length then its bytes (a listpack without
 * back-links: a small value is only ever walked forwards). A hash stores
 * field, value, field, value...; a zset member, score (8 bytes); a set or
 * a list one item per element. Large values use per-type structures
 * (obj_*.c) and convert past the Redis-named thresholds.
 *
 * Owns: data (malloc/realloc/free). Threads: the owning shard's thread.
 */
#ifndef FC_ENGINE_PACK_H
#define FC_ENGINE_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define PK_NONE SIZE_MAX

/* --- LEB128 varints, as every typed layout (pack items, serialized
 * values, op records, element blocks) writes its lengths --- */

static inline size_t pk_varint_size(size_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Writes v at p (pk_varint_size(v) bytes); returns the byte after it. */
static inline uint8_t *pk_varint_put(uint8_t *p, size_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* Appends v to b (oom through b). */
void pk_varint_append(fc_buf *b, size_t v);

/* Reads a varint from untrusted bytes [*p, end): false when it runs past
 * end or past 64 bits; *p moves past it on success. */
bool pk_varint_take(const uint8_t **p, const uint8_t *end, size_t *out);

typedef struct eng_pack {
    uint8_t *data;
    uint32_t used;  /* bytes of items */
    uint32_t count; /* items */
} eng_pack;

/* Heap bytes the pack holds (malloc's usable size of data). */
size_t pk_heap(const eng_pack *pk);
void pk_free(eng_pack *pk);

/* Reads the item at byte offset off: its bytes and length; returns the
 * offset of the next item. */
static inline size_t pk_item(const eng_pack *pk, size_t off,
                             const uint8_t **item, size_t *len)
{
    const uint8_t *p = pk->data + off;
    size_t x = *p & 0x7f;
    unsigned shift = 7;
    while (*p++ & 0x80) {
        x |= (size_t)(*p & 0x7f) << shift;
        shift += 7;
    }
    *item = p;
    *len = x;
    return (size_t)(p - pk->data) + x;
}

/* Offset just past the item at off. */
static inline size_t pk_skip(const eng_pack *pk, size_t off)
{
    const uint8_t *it;
    size_t n;
    return pk_item(pk, off, &it, &n);
}

/* Inserts an item before the one at off (off == used appends). FC_OK or
 * FC_ENOMEM (the pack unchanged). */
int pk_insert(eng_pack *pk, size_t off, const void *item, size_t len);
/* Inserts two items (a field and its value) at off, as one growth. */
int pk_insert2(eng_pack *pk, size_t off, const void *a, size_t alen,
               const void *b, size_t blen);
static inline int pk_append(eng_pack *pk, const void *item, size_t len)
{
    return pk_insert(pk, pk->used, item, len);
}
/* Replaces the item at off. FC_OK or FC_ENOMEM (unchanged). */
int pk_replace(eng_pack *pk, size_t off, const void *item, size_t len);
/* Removes n items starting at off (shrinking the block when it became
 * much larger than needed). */
void pk_erase(eng_pack *pk, size_t off, size_t n);
/* Offset of the first item equal to (item, len) among the items at
 * positions 0, stride, 2*stride..., or PK_NONE. */
size_t pk_find(const eng_pack *pk, const void *item, size_t len,
               size_t stride);
/* Offset of item number i (walks from the front), or used when i == count. */
size_t pk_offset(const eng_pack *pk, size_t i);
/* Makes dst a copy of src: FC_OK or FC_ENOMEM. */
int pk_copy(eng_pack *dst, const eng_pack *src);

#endif /* FC_ENGINE_PACK_H */
