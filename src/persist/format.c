/*
 * format.c — encoders and decoders of format.h. Byte order is explicit
 * (shifts, not casts), so the files read the same on any host.
 */
#include "persist/format.h"

#include <string.h>
#include <xxhash.h>

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

uint32_t pf_check32(const void *p, size_t n)
{
    return (uint32_t)XXH3_64bits(p, n);
}

uint64_t pf_check64(const void *p, size_t n)
{
    return XXH3_64bits(p, n);
}

/* --- segment header ------------------------------------------------------ */

void pf_seg_header_encode(uint8_t out[PF_SEG_HEADER_LEN],
                          const pf_seg_header *h)
{
    memset(out, 0, PF_SEG_HEADER_LEN);
    memcpy(out, PF_SEG_MAGIC, 8);
    put32(out + 8, PF_FORMAT_VERSION);
    put32(out + 12, PF_SEG_HEADER_LEN);
    put64(out + 16, h->segno);
    put64(out + 24, h->epoch);
    put64(out + 32, h->seed);
    put32(out + 40, h->nshards);
    put64(out + 48, (uint64_t)h->created_unix_ms);
    put64(out + 56, pf_check64(out, 56));
}

int pf_seg_header_decode(const uint8_t *p, size_t avail, pf_seg_header *h)
{
    if (avail < PF_SEG_HEADER_LEN)
        return PF_MORE;
    if (memcmp(p, PF_SEG_MAGIC, 8) || get32(p + 8) != PF_FORMAT_VERSION ||
        get32(p + 12) != PF_SEG_HEADER_LEN || get64(p + 56) != pf_check64(p, 56))
        return PF_BAD;
    h->segno = get64(p + 16);
    h->epoch = get64(p + 24);
    h->seed = get64(p + 32);
    h->nshards = get32(p + 40);
    h->created_unix_ms = (int64_t)get64(p + 48);
    if (h->nshards == 0 || (h->nshards & (h->nshards - 1)))
        return PF_BAD;
    return PF_OK;
}

/* --- WAL records ----------------------------------------------------------- */

void pf_rec_encode(uint8_t *out, const pf_rec *r)
{
    uint32_t len = PF_REC_FIXED + r->klen + r->vlen;
    uint8_t *b = out + PF_REC_PREFIX;
    put32(out + 4, len);
    b[0] = r->kind;
    b[1] = r->vtype;
    put16(b + 2, 0);
    put32(b + 4, r->shard);
    put64(b + 8, r->seq);
    put64(b + 16, (uint64_t)r->expire_unix_ms);
    put32(b + 24, r->klen);
    put32(b + 28, r->vlen);
    if (r->klen)
        memcpy(b + PF_REC_FIXED, r->key, r->klen);
    if (r->vlen)
        memcpy(b + PF_REC_FIXED + r->klen, r->value, r->vlen);
    put32(out, pf_check32(out + 4, 4 + (size_t)len));
}

int pf_rec_decode(const uint8_t *p, size_t avail, pf_rec *r, size_t *used)
{
    if (avail < PF_REC_PREFIX)
        return PF_MORE;
    uint64_t len = get32(p + 4);
    if (len < PF_REC_FIXED || len > PF_REC_FIXED + PF_MAX_KEY + PF_MAX_VALUE)
        return PF_BAD;
    if (avail - PF_REC_PREFIX < len)
        return PF_MORE;
    if (get32(p) != pf_check32(p + 4, 4 + (size_t)len))
        return PF_BAD;
    const uint8_t *b = p + PF_REC_PREFIX;
    r->kind = b[0];
    r->vtype = b[1];
    r->shard = get32(b + 4);
    r->seq = get64(b + 8);
    r->expire_unix_ms = (int64_t)get64(b + 16);
    r->klen = get32(b + 24);
    r->vlen = get32(b + 28);
    if (get16(b + 2) != 0 || (uint64_t)r->klen + r->vlen != len - PF_REC_FIXED ||
        r->klen > PF_MAX_KEY || r->vlen > PF_MAX_VALUE)
        return PF_BAD;
    if (r->vtype > PF_VTYPE_MAX)
        return PF_BAD;
    switch (r->kind) {
    case PF_REC_SET:
        break;
    case PF_REC_OP:
        if (r->vtype == 0 || r->vlen == 0)
            return PF_BAD;
        break;
    case PF_REC_DEL:
    case PF_REC_EXPIRE:
        if (r->vlen || r->vtype)
            return PF_BAD;
        break;
    case PF_REC_CLEAR:
        if (r->klen || r->vlen || r->vtype)
            return PF_BAD;
        break;
    default:
        return PF_BAD;
    }
    if (r->expire_unix_ms < 0)
        return PF_BAD;
    r->key = b + PF_REC_FIXED;
    r->value = r->key + r->klen;
    *used = PF_REC_PREFIX + (size_t)len;
    return PF_OK;
}

/* --- snapshot header and trailer --------------------------------------- */

void pf_snap_header_encode(uint8_t out[PF_SNAP_HEADER_LEN],
                           const pf_snap_header *h)
{
    memset(out, 0, PF_SNAP_HEADER_LEN);
    memcpy(out, PF_SNAP_MAGIC, 8);
    put32(out + 8, PF_FORMAT_VERSION);
    put32(out + 12, h->flags);
    put64(out + 16, h->epoch);
    put64(out + 24, h->snap_id);
    put64(out + 32, h->wal_from_segno);
    put64(out + 40, h->seed);
    put32(out + 48, h->nshards);
    put64(out + 56, (uint64_t)h->created_unix_ms);
}

int pf_snap_header_decode(const uint8_t *p, size_t avail, pf_snap_header *h)
{
    if (avail < PF_SNAP_HEADER_LEN)
        return PF_MORE;
    if (memcmp(p, PF_SNAP_MAGIC, 8) || get32(p + 8) != PF_FORMAT_VERSION)
        return PF_BAD;
    h->flags = get32(p + 12);
    h->epoch = get64(p + 16);
    h->snap_id = get64(p + 24);
    h->wal_from_segno = get64(p + 32);
    h->seed = get64(p + 40);
    h->nshards = get32(p + 48);
    h->created_unix_ms = (int64_t)get64(p + 56);
    if ((h->flags & ~PF_SNAP_F_ZSTD) || get32(p + 52) != 0 || h->nshards == 0 ||
        (h->nshards & (h->nshards - 1)))
        return PF_BAD;
    return PF_OK;
}

void pf_snap_trailer_encode(uint8_t out[PF_SNAP_TRAILER_LEN], uint64_t check)
{
    memcpy(out, PF_SNAP_TRAILER_MAGIC, 8);
    put64(out + 8, check);
}

int pf_snap_trailer_decode(const uint8_t *p, size_t avail, uint64_t *check)
{
    if (avail < PF_SNAP_TRAILER_LEN)
        return PF_MORE;
    if (memcmp(p, PF_SNAP_TRAILER_MAGIC, 8))
        return PF_BAD;
    *check = get64(p + 8);
    return PF_OK;
}

/* --- snapshot body items ---------------------------------------------- */

size_t pf_item_shard_encode(uint8_t *out, uint8_t tag, uint32_t shard,
                            uint64_t num)
{
    out[0] = tag;
    put32(out + 1, shard);
    put64(out + 5, num);
    return PF_ITEM_SHARD_LEN;
}

size_t pf_item_entry_encode(uint8_t *out, uint8_t vtype, int64_t expire,
                            const void *key, uint32_t klen, const void *val,
                            uint32_t vlen)
{
    out[0] = PF_ITEM_ENTRY;
    out[1] = vtype;
    put64(out + 2, (uint64_t)expire);
    put32(out + 10, klen);
    put32(out + 14, vlen);
    if (klen)
        memcpy(out + PF_ITEM_ENTRY_FIXED, key, klen);
    if (vlen)
        memcpy(out + PF_ITEM_ENTRY_FIXED + klen, val, vlen);
    return pf_entry_size(klen, vlen);
}

size_t pf_item_typed_encode(uint8_t *out, uint8_t vtype, int64_t expire,
                            uint64_t seq, const void *key, uint32_t klen,
                            const void *val, uint32_t vlen)
{
    out[0] = PF_ITEM_TYPED;
    out[1] = vtype;
    put64(out + 2, (uint64_t)expire);
    put64(out + 10, seq);
    put32(out + 18, klen);
    put32(out + 22, vlen);
    if (klen)
        memcpy(out + PF_ITEM_TYPED_FIXED, key, klen);
    if (vlen)
        memcpy(out + PF_ITEM_TYPED_FIXED + klen, val, vlen);
    return pf_typed_size(klen, vlen);
}

int pf_item_decode(const uint8_t *p, size_t avail, pf_item *it, size_t *used)
{
    if (avail < 1)
        return PF_MORE;
    memset(it, 0, sizeof(*it));
    it->tag = p[0];
    switch (p[0]) {
    case PF_ITEM_SHARD_BEGIN:
    case PF_ITEM_SHARD_END:
    case PF_ITEM_END:
        if (avail < PF_ITEM_SHARD_LEN)
            return PF_MORE;
        it->shard = get32(p + 1);
        it->num = get64(p + 5);
        *used = PF_ITEM_SHARD_LEN;
        return PF_OK;
    case PF_ITEM_ENTRY:
        if (avail < PF_ITEM_ENTRY_FIXED)
            return PF_MORE;
        it->vtype = p[1];
        it->expire_unix_ms = (int64_t)get64(p + 2);
        it->klen = get32(p + 10);
        it->vlen = get32(p + 14);
        if (it->klen > PF_MAX_KEY || it->vlen > PF_MAX_VALUE ||
            it->expire_unix_ms < 0 || it->vtype != 0)
            return PF_BAD;
        if (avail - PF_ITEM_ENTRY_FIXED < (uint64_t)it->klen + it->vlen)
            return PF_MORE;
        it->key = p + PF_ITEM_ENTRY_FIXED;
        it->value = it->key + it->klen;
        *used = pf_entry_size(it->klen, it->vlen);
        return PF_OK;
    case PF_ITEM_TYPED:
        if (avail < PF_ITEM_TYPED_FIXED)
            return PF_MORE;
        it->vtype = p[1];
        it->expire_unix_ms = (int64_t)get64(p + 2);
        it->num = get64(p + 10);
        it->klen = get32(p + 18);
        it->vlen = get32(p + 22);
        if (it->klen > PF_MAX_KEY || it->vlen > PF_MAX_VALUE ||
            it->expire_unix_ms < 0 || it->vtype == 0 ||
            it->vtype > PF_VTYPE_MAX)
            return PF_BAD;
        if (avail - PF_ITEM_TYPED_FIXED < (uint64_t)it->klen + it->vlen)
            return PF_MORE;
        it->key = p + PF_ITEM_TYPED_FIXED;
        it->value = it->key + it->klen;
        *used = pf_typed_size(it->klen, it->vlen);
        return PF_OK;
    default:
        return PF_BAD;
    }
}
