/*
 * obj_hash.c — the hash type: a pack of field, value pairs while small,
 * an otab of field+value blocks past the thresholds (obj_hash.h), its
 * serialized form, op replay and type ops.
 */
#include "engine/obj_hash.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "engine/obj_tab.h"
#include "engine/pack.h"
#include "fastcache.h"

enum { HENC_PACK = 0, HENC_TABLE = 1 };

typedef struct hash_obj {
    eng_obj o;
    union {
        eng_pack pk;
        otab t;
    } u;
} hash_obj;

/* 56 bytes: glibc serves it from a 64-byte chunk (64 would take 80). */
_Static_assert(sizeof(hash_obj) <= 56, "object header grew");

#define H(o) ((hash_obj *)(o))
#define CH(o) ((const hash_obj *)(o))

static void update_bytes(hash_obj *h)
{
    h->o.bytes = malloc_usable_size(h) +
                 (h->o.enc == HENC_PACK ? pk_heap(&h->u.pk) : h->u.t.bytes);
}

static eng_obj *hash_create(void)
{
    hash_obj *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->o.type = ENG_TYPE_HASH;
    h->o.enc = HENC_PACK;
    update_bytes(h);
    return &h->o;
}

static void hash_free(eng_obj *o)
{
    hash_obj *h = H(o);
    if (o->enc == HENC_PACK)
        pk_free(&h->u.pk);
    else
        otab_free(&h->u.t);
    free(h);
}

size_t hobj_len(const eng_obj *o)
{
    return o->enc == HENC_PACK ? CH(o)->u.pk.count / 2 : CH(o)->u.t.count;
}

static size_t hash_len(const eng_obj *o)
{
    return hobj_len(o);
}

static const char *hash_encoding(const eng_obj *o)
{
    return o->enc == HENC_PACK ? "pack" : "hashtable";
}

bool hobj_get(const eng_obj *o, const void *f, size_t fl, const uint8_t **v,
              size_t *vl)
{
    const hash_obj *h = CH(o);
    if (o->enc == HENC_PACK) {
        size_t off = pk_find(&h->u.pk, f, fl, 2);
        if (off == PK_NONE)
            return false;
        pk_item(&h->u.pk, pk_skip(&h->u.pk, off), v, vl);
        return true;
    }
    size_t i = otab_find(&h->u.t, f, fl);
    if (i == OT_NONE)
        return false;
    *v = ot_val(ot_block(h->u.t.slot[i]), vl);
    return true;
}

bool hobj_next(const eng_obj *o, size_t *pos, const uint8_t **f, size_t *fl,
               const uint8_t **v, size_t *vl)
{
    const hash_obj *h = CH(o);
    if (o->enc == HENC_PACK) {
        if (*pos >= h->u.pk.used)
            return false;
        size_t off = pk_item(&h->u.pk, *pos, f, fl);
        *pos = pk_item(&h->u.pk, off, v, vl);
        return true;
    }
    const otab *t = &h->u.t;
    if (!t->slot)
        return false;
    for (size_t i = *pos; i <= t->mask; i++) {
        if (t->slot[i]) {
            const uint8_t *b = ot_block(t->slot[i]);
            *f = ot_key(b, fl);
            *v = ot_val(b, vl);
            *pos = i + 1;
            return true;
        }
    }
    *pos = t->mask + 1;
    return false;
}

/* Pack -> table, reserving room for `want` fields. */
static int to_table(hash_obj *h, size_t want)
{
    otab t;
    otab_init(&t);
    if (otab_reserve(&t, want) != FC_OK)
        return FC_ENOMEM;
    size_t pos = 0, fl, vl;
    const uint8_t *f, *v;
    while (hobj_next(&h->o, &pos, &f, &fl, &v, &vl)) {
        uint8_t *b = ot_block_new(f, fl, v, vl);
        if (!b || otab_insert(&t, b) != FC_OK) {
            free(b);
            otab_free(&t);
            return FC_ENOMEM;
        }
    }
    pk_free(&h->u.pk);
    h->u.t = t;
    h->o.enc = HENC_TABLE;
    return FC_OK;
}

/* Table -> pack when the hash fits half of both limits (so a hash on the
 * edge does not convert at every write). */
static void maybe_to_pack(hash_obj *h)
{
    long ents = eng_limit(&eng_limits.hash_max_listpack_entries);
    long vmax = eng_limit(&eng_limits.hash_max_listpack_value);
    if ((long)h->u.t.count > ents / 2)
        return;
    size_t pos = 0, fl, vl;
    const uint8_t *f, *v;
    while (hobj_next(&h->o, &pos, &f, &fl, &v, &vl))
        if ((long)fl > vmax / 2 || (long)vl > vmax / 2)
            return;
    eng_pack pk = {0};
    pos = 0;
    while (hobj_next(&h->o, &pos, &f, &fl, &v, &vl)) {
        if (pk_insert2(&pk, pk.used, f, fl, v, vl) != FC_OK) {
            pk_free(&pk); /* stays a table: correct, only larger */
            return;
        }
    }
    otab_free(&h->u.t);
    h->u.pk = pk;
    h->o.enc = HENC_PACK;
}

int hobj_set(eng_obj *o, const void *f, size_t fl, const void *v, size_t vl,
             bool *added)
{
    hash_obj *h = H(o);
    int rc = FC_OK;
    if (o->enc == HENC_PACK) {
        long vmax = eng_limit(&eng_limits.hash_max_listpack_value);
        size_t off = pk_find(&h->u.pk, f, fl, 2);
        bool big = (long)fl > vmax || (long)vl > vmax;
        if (!big && off != PK_NONE) {
            *added = false;
            rc = pk_replace(&h->u.pk, pk_skip(&h->u.pk, off), v, vl);
            goto out;
        }
        if (!big && (long)hobj_len(o) + 1 <=
                        eng_limit(&eng_limits.hash_max_listpack_entries)) {
            *added = true;
            rc = pk_insert2(&h->u.pk, h->u.pk.used, f, fl, v, vl);
            goto out;
        }
        if ((rc = to_table(h, hobj_len(o) + 1)) != FC_OK)
            goto out;
    }
    uint8_t *b = ot_block_new(f, fl, v, vl);
    if (!b) {
        rc = FC_ENOMEM;
        goto out;
    }
    size_t i = otab_find(&h->u.t, f, fl);
    *added = i == OT_NONE;
    if (i != OT_NONE)
        otab_replace(&h->u.t, i, b);
    else if ((rc = otab_insert(&h->u.t, b)) != FC_OK)
        free(b);
out:
    update_bytes(h);
    return rc;
}

bool hobj_del(eng_obj *o, const void *f, size_t fl)
{
    hash_obj *h = H(o);
    bool found;
    if (o->enc == HENC_PACK) {
        size_t off = pk_find(&h->u.pk, f, fl, 2);
        found = off != PK_NONE;
        if (found)
            pk_erase(&h->u.pk, off, 2);
    } else {
        size_t i = otab_find(&h->u.t, f, fl);
        found = i != OT_NONE;
        if (found) {
            otab_remove(&h->u.t, i);
            maybe_to_pack(h);
        }
    }
    update_bytes(h);
    return found;
}

/* --- random picks and scans --- */

static void emit_block(hobj_fn fn, void *ctx, const uint8_t *b)
{
    size_t fl, vl;
    const uint8_t *f = ot_key(b, &fl), *v = ot_val(b, &vl);
    fn(ctx, f, fl, v, vl);
}

static void emit_pack_at(const eng_pack *pk, size_t idx, hobj_fn fn, void *ctx)
{
    const uint8_t *f, *v;
    size_t fl, vl, off = pk_offset(pk, idx * 2);
    off = pk_item(pk, off, &f, &fl);
    pk_item(pk, off, &v, &vl);
    fn(ctx, f, fl, v, vl);
}

void hobj_random(const eng_obj *o, uint64_t *rng, hobj_fn fn, void *ctx)
{
    const hash_obj *h = CH(o);
    if (o->enc == HENC_PACK)
        emit_pack_at(&h->u.pk, ot_rand(rng) % hobj_len(o), fn, ctx);
    else
        emit_block(fn, ctx, ot_block(h->u.t.slot[otab_random(&h->u.t, rng)]));
}

int hobj_sample(const eng_obj *o, size_t count, uint64_t *rng, hobj_fn fn,
                void *ctx)
{
    const hash_obj *h = CH(o);
    size_t n = hobj_len(o);
    if (o->enc == HENC_TABLE && count * 4 < n) {
        /* Few of many: random slots, a bitmap of those taken. */
        const otab *t = &h->u.t;
        size_t words = (t->mask + 64) / 64;
        uint64_t *seen = calloc(words, sizeof(*seen));
        if (!seen)
            return FC_ENOMEM;
        for (size_t got = 0; got < count;) {
            size_t i = otab_random(t, rng);
            if (seen[i / 64] & (1ull << (i % 64)))
                continue;
            seen[i / 64] |= 1ull << (i % 64);
            emit_block(fn, ctx, ot_block(t->slot[i]));
            got++;
        }
        free(seen);
        return FC_OK;
    }
    /* Knuth's selection sampling: one pass, each field kept with
     * probability (still needed) / (still left). */
    size_t pos = 0, fl, vl, left = n, need = count;
    const uint8_t *f, *v;
    while (need > 0 && hobj_next(o, &pos, &f, &fl, &v, &vl)) {
        if (ot_rand(rng) % left < need) {
            fn(ctx, f, fl, v, vl);
            need--;
        }
        left--;
    }
    return FC_OK;
}

struct scan_ctx {
    hobj_fn fn;
    void *ctx;
};

static void scan_cb(void *ctx, const uint8_t *b)
{
    struct scan_ctx *s = ctx;
    emit_block(s->fn, s->ctx, b);
}

uint64_t hobj_scan(const eng_obj *o, uint64_t cursor, size_t count, hobj_fn fn,
                   void *ctx)
{
    if (o->enc == HENC_PACK) {
        size_t pos = 0, fl, vl;
        const uint8_t *f, *v;
        while (hobj_next(o, &pos, &f, &fl, &v, &vl))
            fn(ctx, f, fl, v, vl);
        return 0;
    }
    struct scan_ctx s = {fn, ctx};
    return otab_scan(&CH(o)->u.t, cursor, count ? count : 1, scan_cb, &s);
}

/* --- serialized form: varint count, then count x (field item, value
 * item), items as in pack.h --- */

static bool get_item(const uint8_t **p, const uint8_t *end, const uint8_t **it,
                     size_t *n)
{
    if (!pk_varint_take(p, end, n) || *n > (size_t)(end - *p))
        return false;
    *it = *p;
    *p += *n;
    return true;
}

static void hash_serialize(const eng_obj *o, fc_buf *out)
{
    size_t pos = 0, fl, vl;
    const uint8_t *f, *v;
    pk_varint_append(out, hobj_len(o));
    while (hobj_next(o, &pos, &f, &fl, &v, &vl)) {
        pk_varint_append(out, fl);
        fc_buf_append(out, f, fl);
        pk_varint_append(out, vl);
        fc_buf_append(out, v, vl);
    }
}

static int hash_load(const uint8_t *p, size_t n, eng_obj **out)
{
    const uint8_t *end = p + n;
    size_t count;
    *out = NULL;
    if (!pk_varint_take(&p, end, &count) || count > n / 2)
        return FC_EINVAL; /* each pair takes two bytes at least */
    eng_obj *o = hash_create();
    if (!o)
        return FC_ENOMEM;
    int rc = FC_OK;
    if (count > (size_t)eng_limit(&eng_limits.hash_max_listpack_entries) &&
        (rc = to_table(H(o), count)) != FC_OK)
        goto fail;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *f, *v;
        size_t fl, vl;
        bool added;
        if (!get_item(&p, end, &f, &fl) || !get_item(&p, end, &v, &vl)) {
            rc = FC_EINVAL;
            goto fail;
        }
        if ((rc = hobj_set(o, f, fl, v, vl, &added)) != FC_OK)
            goto fail;
        if (!added) { /* a repeated field: not a form we write */
            rc = FC_EINVAL;
            goto fail;
        }
    }
    if (p != end) {
        rc = FC_EINVAL;
        goto fail;
    }
    *out = o;
    return FC_OK;
fail:
    hash_free(o);
    return rc;
}

static eng_obj *hash_dup(const eng_obj *o)
{
    hash_obj *d = H(hash_create());
    if (!d)
        return NULL;
    if (o->enc == HENC_PACK) {
        if (pk_copy(&d->u.pk, &CH(o)->u.pk) != FC_OK) {
            hash_free(&d->o);
            return NULL;
        }
    } else {
        size_t pos = 0, fl, vl;
        const uint8_t *f, *v;
        if (to_table(d, hobj_len(o)) != FC_OK) {
            hash_free(&d->o);
            return NULL;
        }
        while (hobj_next(o, &pos, &f, &fl, &v, &vl)) {
            uint8_t *b = ot_block_new(f, fl, v, vl);
            if (!b || otab_insert(&d->u.t, b) != FC_OK) {
                free(b);
                hash_free(&d->o);
                return NULL;
            }
        }
    }
    update_bytes(d);
    return &d->o;
}

static int hash_apply(eng_obj *o, unsigned code, eng_op_reader *r)
{
    const uint8_t *f, *v;
    size_t fl, vl;
    bool added;
    if (r->left == 0 || (code == HOP_SET && r->left % 2))
        return FC_EINVAL;
    if (code != HOP_SET && code != HOP_DEL)
        return FC_EINVAL;
    /* Every argument is checked before the first change: a malformed
     * record changes nothing. */
    eng_op_reader chk = *r;
    while (chk.left)
        if (!eng_op_next(&chk, &f, &fl))
            return FC_EINVAL;
    while (r->left) {
        eng_op_next(r, &f, &fl);
        if (code == HOP_DEL) {
            hobj_del(o, f, fl);
            continue;
        }
        eng_op_next(r, &v, &vl);
        int rc = hobj_set(o, f, fl, v, vl, &added);
        if (rc != FC_OK)
            return rc;
    }
    return FC_OK;
}

const eng_type_ops eng_hash_ops = {
    .name = "hash",
    .create = hash_create,
    .free = hash_free,
    .len = hash_len,
    .encoding = hash_encoding,
    .serialize = hash_serialize,
    .load = hash_load,
    .dup = hash_dup,
    .apply = hash_apply,
};
