/*
 * pack.c — the compact encoding of small typed values (pack.h).
 */
#include "engine/pack.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "fastcache.h"

void pk_varint_append(fc_buf *b, size_t v)
{
    uint8_t tmp[10];
    fc_buf_append(b, tmp, (size_t)(pk_varint_put(tmp, v) - tmp));
}

bool pk_varint_take(const uint8_t **p, const uint8_t *end, size_t *out)
{
    size_t x = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return false;
        uint8_t c = *(*p)++;
        x |= (size_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = x;
            return true;
        }
    }
    return false;
}

size_t pk_heap(const eng_pack *pk)
{
    return pk->data ? malloc_usable_size(pk->data) : 0;
}

void pk_free(eng_pack *pk)
{
    free(pk->data);
    pk->data = NULL;
    pk->used = pk->count = 0;
}

/* Room for `extra` more bytes. Growth by an eighth keeps a small value
 * within a few percent of its size (memory per element is the point of
 * the encoding); malloc's own rounding absorbs most reallocs anyway. */
static int pk_room(eng_pack *pk, size_t extra)
{
    size_t have = pk_heap(pk), need = (size_t)pk->used + extra;
    if (need > UINT32_MAX)
        return FC_ETOOBIG;
    if (need <= have)
        return FC_OK;
    size_t want = need + need / 8;
    uint8_t *d = realloc(pk->data, want);
    if (!d)
        return FC_ENOMEM;
    pk->data = d;
    return FC_OK;
}

int pk_insert(eng_pack *pk, size_t off, const void *item, size_t len)
{
    size_t vs = pk_varint_size(len), add = vs + len;
    int rc = pk_room(pk, add);
    if (rc != FC_OK)
        return rc;
    memmove(pk->data + off + add, pk->data + off, pk->used - off);
    uint8_t *p = pk_varint_put(pk->data + off, len);
    if (len)
        memcpy(p, item, len);
    pk->used += (uint32_t)add;
    pk->count++;
    return FC_OK;
}

int pk_insert2(eng_pack *pk, size_t off, const void *a, size_t alen,
               const void *b, size_t blen)
{
    size_t add = pk_varint_size(alen) + alen + pk_varint_size(blen) + blen;
    int rc = pk_room(pk, add);
    if (rc != FC_OK)
        return rc;
    memmove(pk->data + off + add, pk->data + off, pk->used - off);
    uint8_t *p = pk_varint_put(pk->data + off, alen);
    if (alen)
        memcpy(p, a, alen);
    p = pk_varint_put(p + alen, blen);
    if (blen)
        memcpy(p, b, blen);
    pk->used += (uint32_t)add;
    pk->count += 2;
    return FC_OK;
}

static void pk_maybe_shrink(eng_pack *pk)
{
    size_t have = pk_heap(pk);
    if (pk->used == 0) {
        free(pk->data);
        pk->data = NULL;
        return;
    }
    if (have > 64 && have > (size_t)pk->used * 2) {
        uint8_t *d = realloc(pk->data, pk->used);
        if (d) /* a failed shrink keeps the larger block: harmless */
            pk->data = d;
    }
}

int pk_replace(eng_pack *pk, size_t off, const void *item, size_t len)
{
    size_t end = pk_skip(pk, off), old = end - off;
    size_t add = pk_varint_size(len) + len;
    if (add > old) {
        int rc = pk_room(pk, add - old);
        if (rc != FC_OK)
            return rc;
    }
    memmove(pk->data + off + add, pk->data + end, pk->used - end);
    uint8_t *p = pk_varint_put(pk->data + off, len);
    if (len)
        memmove(p, item, len); /* item may point into the pack */
    pk->used = (uint32_t)(pk->used - old + add);
    if (add < old)
        pk_maybe_shrink(pk);
    return FC_OK;
}

void pk_erase(eng_pack *pk, size_t off, size_t n)
{
    size_t end = off;
    for (size_t i = 0; i < n && end < pk->used; i++)
        end = pk_skip(pk, end), pk->count--;
    memmove(pk->data + off, pk->data + end, pk->used - end);
    pk->used -= (uint32_t)(end - off);
    pk_maybe_shrink(pk);
}

size_t pk_find(const eng_pack *pk, const void *item, size_t len,
               size_t stride)
{
    size_t off = 0;
    while (off < pk->used) {
        const uint8_t *it;
        size_t n, next = pk_item(pk, off, &it, &n);
        if (n == len && memcmp(it, item, len) == 0)
            return off;
        off = next;
        for (size_t s = 1; s < stride && off < pk->used; s++)
            off = pk_skip(pk, off);
    }
    return PK_NONE;
}

size_t pk_offset(const eng_pack *pk, size_t i)
{
    size_t off = 0;
    while (i-- > 0 && off < pk->used)
        off = pk_skip(pk, off);
    return off;
}

int pk_copy(eng_pack *dst, const eng_pack *src)
{
    dst->data = NULL;
    dst->used = dst->count = 0;
    if (!src->used)
        return FC_OK;
    dst->data = malloc(src->used);
    if (!dst->data)
        return FC_ENOMEM;
    memcpy(dst->data, src->data, src->used);
    dst->used = src->used;
    dst->count = src->count;
    return FC_OK;
}
