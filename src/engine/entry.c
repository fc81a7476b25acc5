/*
 * entry.c — allocation, reshaping and public accessors of entries.
 * See entry.h for the layout.
 */
#include "engine/entry.h"
#include "engine/obj.h"

#include <malloc.h>

static uint8_t *put_header(eng_entry *e, unsigned flags, size_t klen,
                           size_t vlen, int64_t expire_at)
{
    uint8_t *p;
    e->flags = (uint8_t)flags;
    p = ent_varint_put(e->rest, klen);
    p = ent_varint_put(p, vlen);
    if (flags & ENT_F_TTL) {
        memcpy(p, &expire_at, sizeof(expire_at));
        p += sizeof(expire_at);
    }
    return p;
}

/* Blocks up to SLAB_MAX come from the slab once their class is open there
 * (slab_class_open: it has a page, or enough of it on malloc to fill half
 * of one); the path taken is kept in the ENT_F_HEAP flag (*heap), since an
 * entry's size can change in place. */
static eng_entry *ent_alloc(struct slab *s, size_t n, unsigned *heap)
{
    if (n <= SLAB_MAX && slab_class_open(s, n)) {
        *heap = 0;
        return slab_alloc(s, n);
    }
    *heap = ENT_F_HEAP;
    return slab_big_alloc(s, n);
}

void ent_free(struct slab *s, eng_entry *e)
{
    if (!e)
        return;
    if (e->flags & ENT_F_HEAP)
        slab_big_free(s, e);
    else
        slab_free(s, e);
}

eng_entry *ent_new(struct slab *s, const void *key, size_t klen,
                   const void *val, size_t vlen, int64_t expire_at,
                   unsigned type, size_t slack)
{
    bool ttl = expire_at != 0;
    size_t need = ent_hdr_size(klen, vlen, ttl) + klen + vlen;
    unsigned flags = (type << ENT_TYPE_SHIFT) & ENT_TYPE_MASK, heap;
    eng_entry *e = ent_alloc(s, need + slack, &heap);
    uint8_t *p;

    if (!e)
        return NULL;
    flags |= heap | (ttl ? ENT_F_TTL : 0);
    memset(e->meta, 0, sizeof(e->meta));
    p = put_header(e, flags, klen, vlen, expire_at);
    if (klen)
        memcpy(p, key, klen);
    if (vlen && val)
        memcpy(p + klen, val, vlen);
    return e;
}

size_t ent_usable(const eng_entry *e)
{
    if (e->flags & ENT_F_HEAP)
        return malloc_usable_size((void *)e);
    return slab_usable(e);
}

size_t eng_entry_memory(const eng_entry *e)
{
    const eng_obj *o = eng_entry_obj(e);
    return ent_usable(e) + (o ? o->bytes : 0);
}

/* In-place reuse must not hoard memory: a value that shrank a lot gets a
 * fresh, right-sized block instead. */
static bool fits_snugly(size_t need, size_t usable)
{
    return need <= usable && (usable - need < 64 || need >= usable / 2);
}

eng_entry *ent_resize_value(struct slab *s, eng_entry *e, size_t new_vlen,
                            size_t slack)
{
    struct ent_view v;
    bool ttl = ent_has_ttl(e);
    size_t hdr, need;
    unsigned heap;
    int64_t exp = ttl ? ent_expire(e) : 0;
    eng_entry *n;
    uint8_t *p;

    ent_decode(e, &v);
    hdr = ent_hdr_size(v.klen, new_vlen, ttl);
    need = hdr + v.klen + new_vlen;
    if (hdr == v.hdr && fits_snugly(need, ent_usable(e))) {
        put_header(e, e->flags, v.klen, new_vlen, exp);
        return e;
    }
    n = ent_alloc(s, need + slack, &heap);
    if (!n)
        return NULL;
    memcpy(n->meta, e->meta, sizeof(n->meta));
    p = put_header(n, (e->flags & ~ENT_F_HEAP) | heap, v.klen, new_vlen, exp);
    memcpy(p, v.key, v.klen + (new_vlen < v.vlen ? new_vlen : v.vlen));
    return n;
}

eng_entry *ent_with_ttl(struct slab *s, eng_entry *e, int64_t expire_at)
{
    struct ent_view v;
    eng_entry *n;
    unsigned heap;
    uint8_t *p;

    if (ent_has_ttl(e)) {
        ent_decode(e, &v);
        memcpy(v.key - sizeof(expire_at), &expire_at, sizeof(expire_at));
        return e;
    }
    ent_decode(e, &v);
    n = ent_alloc(s, v.hdr + 8 + v.klen + v.vlen, &heap);
    if (!n)
        return NULL;
    memcpy(n->meta, e->meta, sizeof(n->meta));
    p = put_header(n, (e->flags & ~ENT_F_HEAP) | heap | ENT_F_TTL, v.klen,
                   v.vlen, expire_at);
    memcpy(p, v.key, v.klen + v.vlen);
    return n;
}

void ent_drop_ttl(eng_entry *e)
{
    struct ent_view v;
    if (!ent_has_ttl(e))
        return;
    ent_decode(e, &v);
    memmove(v.key - 8, v.key, v.klen + v.vlen);
    e->flags &= (uint8_t)~ENT_F_TTL;
}

bool ent_try_overwrite(eng_entry *e, const void *val, size_t vlen,
                       int64_t expire_at)
{
    struct ent_view v;
    bool ttl = expire_at != 0;
    size_t hdr, need;
    unsigned flags;
    uint8_t *p;

    ent_decode(e, &v);
    hdr = ent_hdr_size(v.klen, vlen, ttl);
    need = hdr + v.klen + vlen;
    if (hdr != v.hdr || !fits_snugly(need, ent_usable(e)))
        return false;
    /* A new value is a string, and a fresh write is not yet an access; the
     * key keeps its level (evict.c counts entries per level). */
    flags = (ENG_TYPE_STRING << ENT_TYPE_SHIFT) | (ttl ? ENT_F_TTL : 0) |
            (e->flags & (ENT_F_HEAP | ENT_LVL_MASK));
    p = put_header(e, flags, v.klen, vlen, expire_at);
    if (vlen)
        memmove(p + v.klen, val, vlen); /* val may alias the old value */
    return true;
}

/* --- public accessors --- */

const uint8_t *eng_entry_key(const eng_entry *e, size_t *len)
{
    struct ent_view v;
    ent_decode(e, &v);
    *len = v.klen;
    return v.key;
}

const uint8_t *eng_entry_value(const eng_entry *e, size_t *len)
{
    struct ent_view v;
    ent_decode(e, &v);
    *len = v.vlen;
    return v.val;
}

int64_t eng_entry_expire_at(const eng_entry *e)
{
    return ent_has_ttl(e) ? ent_expire(e) : 0;
}

enum eng_type eng_entry_type(const eng_entry *e)
{
    return (enum eng_type)ent_type(e);
}
