/*
 * obj_list_node.c — the items of a list node (obj_list_int.h).
 *
 * A node is an eng_pack block whose items are a varint header h, then:
 * h even: a string of h / 2 bytes; h odd: an integer of h >> 1 bytes
 * (1..8, little-endian two's complement). An element is stored as an
 * integer exactly when it is the canonical decimal text of an int64 (no
 * '+', no leading zero, no "-0": what formatting the integer gives back),
 * so decoding returns the very bytes pushed, and equal elements always
 * have equal items: matching (LREM, LINSERT's pivot) compares encoded
 * bytes. Why: a list of ids, counters, timestamps is common, and this is
 * what keeps those at or below Redis's listpack, which encodes integers
 * too ("12345": 3 bytes here, 6 as text). A string pays one header byte
 * below 64 bytes, two below 8 KiB (Redis: one or two plus its back-length).
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "engine/obj_list_int.h"
#include "fastcache.h"
#include "util/num.h"

static inline size_t get_varint(const uint8_t *p, size_t *v)
{
    size_t x = *p & 0x7f, i = 1;
    unsigned shift = 7;
    while (p[i - 1] & 0x80) {
        x |= (size_t)(p[i] & 0x7f) << shift;
        shift += 7;
        i++;
    }
    *v = x;
    return i;
}

/* The canonical decimal text of an int64, or false. */
static bool canonical_int(const uint8_t *p, size_t n, int64_t *v)
{
    if (n == 0 || n > 20 || !((p[0] >= '0' && p[0] <= '9') || p[0] == '-'))
        return false;
    if (!fc_parse_i64((const char *)p, n, v))
        return false;
    char buf[LN_NUM_MAX];
    return ln_format(*v, buf) == n && memcmp(buf, p, n) == 0;
}

size_t ln_format(int64_t v, char *buf)
{
    char tmp[LN_NUM_MAX];
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    size_t n = 0, k = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[k++] = '-';
    while (n)
        buf[k++] = tmp[--n];
    return k;
}

void ln_encode(const void *p, size_t n, ln_enc *e)
{
    int64_t v;
    if (canonical_int(p, n, &v)) {
        size_t nb = 1;
        while (nb < 8 && (v < -((int64_t)1 << (8 * nb - 1)) ||
                          v >= ((int64_t)1 << (8 * nb - 1))))
            nb++;
        uint8_t *q = pk_varint_put(e->hdr, nb * 2 + 1);
        uint64_t u = (uint64_t)v;
        for (size_t i = 0; i < nb; i++)
            *q++ = (uint8_t)(u >> (8 * i));
        e->hlen = (size_t)(q - e->hdr);
        e->tail = NULL;
        e->tlen = 0;
        return;
    }
    e->hlen = (size_t)(pk_varint_put(e->hdr, n * 2) - e->hdr);
    e->tail = p;
    e->tlen = n;
}

size_t ln_skip(const eng_pack *pk, size_t off)
{
    size_t h, hl = get_varint(pk->data + off, &h);
    return off + hl + (h >> 1);
}

size_t ln_read(const eng_pack *pk, size_t off, char *num, const uint8_t **p,
               size_t *n)
{
    const uint8_t *at = pk->data + off;
    size_t h, hl = get_varint(at, &h), len = h >> 1;
    at += hl;
    if (!(h & 1)) {
        *p = at;
        *n = len;
        return off + hl + len;
    }
    uint64_t u = 0;
    for (size_t i = 0; i < len; i++)
        u |= (uint64_t)at[i] << (8 * i);
    if (len < 8 && (u >> (8 * len - 1)) & 1) /* sign-extend */
        u |= ~(uint64_t)0 << (8 * len);
    *n = ln_format((int64_t)u, num);
    *p = (const uint8_t *)num;
    return off + hl + len;
}

bool ln_equal(const eng_pack *pk, size_t off, size_t end, const ln_enc *e)
{
    const uint8_t *at = pk->data + off;
    return end - off == e->hlen + e->tlen && memcmp(at, e->hdr, e->hlen) == 0 &&
           (e->tlen == 0 || memcmp(at + e->hlen, e->tail, e->tlen) == 0);
}

size_t ln_offset(const eng_pack *pk, size_t idx)
{
    size_t off = 0;
    while (idx-- > 0 && off < pk->used)
        off = ln_skip(pk, off);
    return off;
}

/* Room for `extra` more bytes, growing by an eighth (pack.c's rule). */
static int room(eng_pack *pk, size_t extra)
{
    size_t have = pk_heap(pk), need = (size_t)pk->used + extra;
    if (need > UINT32_MAX)
        return FC_ETOOBIG;
    if (need <= have)
        return FC_OK;
    uint8_t *d = realloc(pk->data, need + need / 8);
    if (!d)
        return FC_ENOMEM;
    pk->data = d;
    return FC_OK;
}

static void write_item(uint8_t *at, const ln_enc *e)
{
    memcpy(at, e->hdr, e->hlen);
    if (e->tlen)
        memmove(at + e->hlen, e->tail, e->tlen); /* tail may be in the node */
}

int ln_insert(eng_pack *pk, size_t off, const ln_enc *e)
{
    size_t add = e->hlen + e->tlen;
    int rc = room(pk, add);
    if (rc != FC_OK)
        return rc;
    memmove(pk->data + off + add, pk->data + off, pk->used - off);
    write_item(pk->data + off, e);
    pk->used += (uint32_t)add;
    pk->count++;
    return FC_OK;
}

void ln_shrink(eng_pack *pk)
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

int ln_replace(eng_pack *pk, size_t off, const ln_enc *e)
{
    size_t end = ln_skip(pk, off), old = end - off, add = e->hlen + e->tlen;
    if (add > old) {
        int rc = room(pk, add - old);
        if (rc != FC_OK)
            return rc;
    }
    memmove(pk->data + off + add, pk->data + end, pk->used - end);
    write_item(pk->data + off, e);
    pk->used = (uint32_t)(pk->used - old + add);
    if (add < old)
        ln_shrink(pk);
    return FC_OK;
}

void ln_erase(eng_pack *pk, size_t off, size_t n)
{
    size_t end = off;
    for (size_t i = 0; i < n && end < pk->used; i++) {
        end = ln_skip(pk, end);
        pk->count--;
    }
    memmove(pk->data + off, pk->data + end, pk->used - end);
    pk->used -= (uint32_t)(end - off);
    ln_shrink(pk);
}
