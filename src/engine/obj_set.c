/*
 * obj_set.c — the set type: intset, pack or table (obj_set.h), the
 * conversions between them, its serialized form, op replay and type ops.
 */
#include "engine/obj_set.h"

#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/obj_intset.h"
#include "engine/obj_tab.h"
#include "engine/pack.h"
#include "fastcache.h"
#include "util/num.h"

enum { SENC_INT = 0, SENC_PACK = 1, SENC_TABLE = 2 };

typedef struct set_obj {
    eng_obj o;
    union {
        intset is;
        eng_pack pk;
        otab t;
    } u;
} set_obj;

/* 56 bytes: glibc serves it from a 64-byte chunk (64 would take 80). */
_Static_assert(sizeof(set_obj) <= 56, "object header grew");

#define S(o) ((set_obj *)(o))
#define CS(o) ((const set_obj *)(o))

static size_t enc_heap(const set_obj *s)
{
    switch (s->o.enc) {
    case SENC_INT:
        return is_heap(&s->u.is);
    case SENC_PACK:
        return pk_heap(&s->u.pk);
    default:
        return s->u.t.bytes;
    }
}

static void update_bytes(set_obj *s)
{
    s->o.bytes = malloc_usable_size(s) + enc_heap(s);
}

static void enc_free(set_obj *s)
{
    if (s->o.enc == SENC_INT)
        is_free(&s->u.is);
    else if (s->o.enc == SENC_PACK)
        pk_free(&s->u.pk);
    else
        otab_free(&s->u.t);
}

static eng_obj *set_create(void)
{
    set_obj *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->o.type = ENG_TYPE_SET;
    s->o.enc = SENC_INT;
    update_bytes(s);
    return &s->o;
}

eng_obj *sobj_new(void)
{
    return set_create();
}

static void set_free(eng_obj *o)
{
    enc_free(S(o));
    free(o);
}

size_t sobj_len(const eng_obj *o)
{
    switch (o->enc) {
    case SENC_INT:
        return CS(o)->u.is.count;
    case SENC_PACK:
        return CS(o)->u.pk.count;
    default:
        return CS(o)->u.t.count;
    }
}

static size_t set_len(const eng_obj *o)
{
    return sobj_len(o);
}

static const char *set_encoding(const eng_obj *o)
{
    static const char *const names[] = {"intset", "pack", "hashtable"};
    return names[o->enc];
}

bool sobj_has(const eng_obj *o, const void *m, size_t ml)
{
    const set_obj *s = CS(o);
    int64_t v;
    size_t pos;
    switch (o->enc) {
    case SENC_INT:
        return fc_parse_i64(m, ml, &v) && is_find(&s->u.is, v, &pos);
    case SENC_PACK:
        return pk_find(&s->u.pk, m, ml, 1) != PK_NONE;
    default:
        return otab_find(&s->u.t, m, ml) != OT_NONE;
    }
}

static void member_at_slot(const otab *t, size_t i, const uint8_t **m,
                           size_t *ml)
{
    *m = ot_key(ot_block(t->slot[i]), ml);
}

bool sobj_next(const eng_obj *o, sobj_it *it, const uint8_t **m, size_t *ml)
{
    const set_obj *s = CS(o);
    if (o->enc == SENC_INT) {
        if (it->pos >= s->u.is.count)
            return false;
        int n = snprintf(it->num, sizeof(it->num), "%" PRId64,
                         is_get(&s->u.is, it->pos++));
        *m = (const uint8_t *)it->num;
        *ml = (size_t)n;
        return true;
    }
    if (o->enc == SENC_PACK) {
        if (it->pos >= s->u.pk.used)
            return false;
        it->pos = pk_item(&s->u.pk, it->pos, m, ml);
        return true;
    }
    const otab *t = &s->u.t;
    for (size_t i = it->pos; t->slot && i <= t->mask; i++) {
        if (t->slot[i]) {
            member_at_slot(t, i, m, ml);
            it->pos = i + 1;
            return true;
        }
    }
    it->pos = SIZE_MAX;
    return false;
}

/* Adds a member known absent to encoding enc, no thresholds checked. */
static int raw_add(set_obj *s, const void *m, size_t ml)
{
    int64_t v;
    if (s->o.enc == SENC_INT) {
        if (!fc_parse_i64(m, ml, &v))
            return FC_EINVAL;
        return is_add(&s->u.is, v);
    }
    if (s->o.enc == SENC_PACK)
        return pk_append(&s->u.pk, m, ml);
    uint8_t *b = ot_block_new(m, ml, NULL, 0);
    if (!b)
        return FC_ENOMEM;
    int rc = otab_insert(&s->u.t, b);
    if (rc != FC_OK)
        free(b);
    return rc;
}

/* Re-encodes s as enc (room reserved for `want` members in a table). */
static int convert(set_obj *s, unsigned enc, size_t want)
{
    set_obj n;
    memset(&n, 0, sizeof(n));
    n.o.enc = (uint8_t)enc;
    if (enc == SENC_TABLE && otab_reserve(&n.u.t, want) != FC_OK)
        return FC_ENOMEM;
    sobj_it it = {0};
    const uint8_t *m;
    size_t ml;
    while (sobj_next(&s->o, &it, &m, &ml)) {
        int rc = raw_add(&n, m, ml);
        if (rc != FC_OK) {
            enc_free(&n);
            return rc;
        }
    }
    enc_free(s);
    s->u = n.u;
    s->o.enc = (uint8_t)enc;
    return FC_OK;
}

int sobj_add(eng_obj *o, const void *m, size_t ml, bool *added)
{
    set_obj *s = S(o);
    long ents = eng_limit(&eng_limits.set_max_listpack_entries);
    long vmax = eng_limit(&eng_limits.set_max_listpack_value);
    size_t n = sobj_len(o) + 1;
    int64_t v;
    int rc = FC_OK;
    *added = false;
    if (sobj_has(o, m, ml))
        return FC_OK;
    if (o->enc == SENC_INT) {
        bool num = fc_parse_i64(m, ml, &v);
        if (num && (long)n <= eng_limit(&eng_limits.set_max_intset_entries))
            goto add;
        if (!num && (long)n <= ents && (long)ml <= vmax)
            rc = convert(s, SENC_PACK, n);
        else
            rc = convert(s, SENC_TABLE, n);
    } else if (o->enc == SENC_PACK && ((long)n > ents || (long)ml > vmax)) {
        rc = convert(s, SENC_TABLE, n);
    }
    if (rc != FC_OK)
        goto out;
add:
    if ((rc = raw_add(s, m, ml)) == FC_OK)
        *added = true;
out:
    update_bytes(s);
    return rc;
}

/* Table -> intset or pack at half the limits (no flip-flop on the edge). */
static void maybe_compact(set_obj *s)
{
    long ints = eng_limit(&eng_limits.set_max_intset_entries) / 2;
    long ents = eng_limit(&eng_limits.set_max_listpack_entries) / 2;
    long vmax = eng_limit(&eng_limits.set_max_listpack_value) / 2;
    long n = (long)s->u.t.count;
    if (n > ints && n > ents)
        return;
    bool all_int = true;
    size_t longest = 0;
    sobj_it it = {0};
    const uint8_t *m;
    size_t ml;
    int64_t v;
    while (sobj_next(&s->o, &it, &m, &ml)) {
        all_int = all_int && fc_parse_i64(m, ml, &v);
        if (ml > longest)
            longest = ml;
    }
    if (all_int && n <= ints)
        (void)convert(s, SENC_INT, 0); /* failure: stays a table */
    else if (n <= ents && (long)longest <= vmax)
        (void)convert(s, SENC_PACK, 0);
}

bool sobj_rem(eng_obj *o, const void *m, size_t ml)
{
    set_obj *s = S(o);
    bool found = false;
    int64_t v;
    size_t pos;
    if (o->enc == SENC_INT) {
        found = fc_parse_i64(m, ml, &v) && is_find(&s->u.is, v, &pos);
        if (found)
            is_remove(&s->u.is, pos);
    } else if (o->enc == SENC_PACK) {
        size_t off = pk_find(&s->u.pk, m, ml, 1);
        found = off != PK_NONE;
        if (found)
            pk_erase(&s->u.pk, off, 1);
    } else {
        size_t i = otab_find(&s->u.t, m, ml);
        found = i != OT_NONE;
        if (found) {
            otab_remove(&s->u.t, i);
            maybe_compact(s);
        }
    }
    update_bytes(s);
    return found;
}

/* --- random picks and scans --- */

static void emit_index(const set_obj *s, size_t i, sobj_fn fn, void *ctx)
{
    const uint8_t *m;
    size_t ml;
    if (s->o.enc == SENC_INT) {
        char num[24];
        int n = snprintf(num, sizeof(num), "%" PRId64, is_get(&s->u.is, i));
        fn(ctx, (const uint8_t *)num, (size_t)n);
    } else if (s->o.enc == SENC_PACK) {
        pk_item(&s->u.pk, pk_offset(&s->u.pk, i), &m, &ml);
        fn(ctx, m, ml);
    } else {
        member_at_slot(&s->u.t, i, &m, &ml);
        fn(ctx, m, ml);
    }
}

void sobj_random(const eng_obj *o, uint64_t *rng, sobj_fn fn, void *ctx)
{
    const set_obj *s = CS(o);
    if (o->enc == SENC_TABLE)
        emit_index(s, otab_random(&s->u.t, rng), fn, ctx);
    else
        emit_index(s, ot_rand(rng) % sobj_len(o), fn, ctx);
}

int sobj_sample(const eng_obj *o, size_t count, uint64_t *rng, sobj_fn fn,
                void *ctx)
{
    const set_obj *s = CS(o);
    size_t n = sobj_len(o);
    if (o->enc == SENC_TABLE && count * 4 < n) {
        /* Few of many: random slots, a bitmap of those taken. */
        const otab *t = &s->u.t;
        uint64_t *seen = calloc((t->mask + 64) / 64, sizeof(*seen));
        if (!seen)
            return FC_ENOMEM;
        for (size_t got = 0; got < count;) {
            size_t i = otab_random(t, rng);
            if (seen[i / 64] & (1ull << (i % 64)))
                continue;
            seen[i / 64] |= 1ull << (i % 64);
            emit_index(s, i, fn, ctx);
            got++;
        }
        free(seen);
        return FC_OK;
    }
    /* Knuth's selection sampling: one pass. */
    sobj_it it = {0};
    const uint8_t *m;
    size_t ml, left = n, need = count;
    while (need > 0 && sobj_next(o, &it, &m, &ml)) {
        if (ot_rand(rng) % left < need) {
            fn(ctx, m, ml);
            need--;
        }
        left--;
    }
    return FC_OK;
}

struct scan_ctx {
    sobj_fn fn;
    void *ctx;
};

static void scan_cb(void *ctx, const uint8_t *b)
{
    struct scan_ctx *sc = ctx;
    size_t ml;
    const uint8_t *m = ot_key(b, &ml);
    sc->fn(sc->ctx, m, ml);
}

uint64_t sobj_scan(const eng_obj *o, uint64_t cursor, size_t count, sobj_fn fn,
                   void *ctx)
{
    if (o->enc != SENC_TABLE) {
        sobj_it it = {0};
        const uint8_t *m;
        size_t ml;
        while (sobj_next(o, &it, &m, &ml))
            fn(ctx, m, ml);
        return 0;
    }
    struct scan_ctx sc = {fn, ctx};
    return otab_scan(&CS(o)->u.t, cursor, count ? count : 1, scan_cb, &sc);
}

/* --- serialized form: varint count, then count members as items --- */

static void set_serialize(const eng_obj *o, fc_buf *out)
{
    sobj_it it = {0};
    const uint8_t *m;
    size_t ml;
    pk_varint_append(out, sobj_len(o));
    while (sobj_next(o, &it, &m, &ml)) {
        pk_varint_append(out, ml);
        fc_buf_append(out, m, ml);
    }
}

static int set_load(const uint8_t *p, size_t n, eng_obj **out)
{
    const uint8_t *end = p + n;
    size_t count;
    *out = NULL;
    if (!pk_varint_take(&p, end, &count) || count > n)
        return FC_EINVAL; /* each member takes a byte at least */
    eng_obj *o = set_create();
    if (!o)
        return FC_ENOMEM;
    int rc = FC_OK;
    long ints = eng_limit(&eng_limits.set_max_intset_entries);
    long ents = eng_limit(&eng_limits.set_max_listpack_entries);
    if ((long)count > ints && (long)count > ents &&
        (rc = convert(S(o), SENC_TABLE, count)) != FC_OK)
        goto fail;
    for (size_t i = 0; i < count; i++) {
        size_t ml;
        bool added;
        if (!pk_varint_take(&p, end, &ml) || ml > (size_t)(end - p)) {
            rc = FC_EINVAL;
            goto fail;
        }
        if ((rc = sobj_add(o, p, ml, &added)) != FC_OK)
            goto fail;
        if (!added) { /* a repeated member: not a form we write */
            rc = FC_EINVAL;
            goto fail;
        }
        p += ml;
    }
    if (p != end) {
        rc = FC_EINVAL;
        goto fail;
    }
    *out = o;
    return FC_OK;
fail:
    set_free(o);
    return rc;
}

static eng_obj *set_dup(const eng_obj *o)
{
    set_obj *d = S(set_create());
    int rc;
    if (!d)
        return NULL;
    if (o->enc == SENC_INT) {
        rc = is_copy(&d->u.is, &CS(o)->u.is);
    } else if (o->enc == SENC_PACK) {
        d->o.enc = SENC_PACK;
        rc = pk_copy(&d->u.pk, &CS(o)->u.pk);
    } else {
        d->o.enc = SENC_TABLE;
        rc = otab_reserve(&d->u.t, sobj_len(o));
        sobj_it it = {0};
        const uint8_t *m;
        size_t ml;
        while (rc == FC_OK && sobj_next(o, &it, &m, &ml))
            rc = raw_add(d, m, ml);
    }
    if (rc != FC_OK) {
        set_free(&d->o);
        return NULL;
    }
    update_bytes(d);
    return &d->o;
}

static int set_apply(eng_obj *o, unsigned code, eng_op_reader *r)
{
    const uint8_t *m;
    size_t ml;
    bool added;
    if (r->left == 0 || (code != SOP_ADD && code != SOP_REM))
        return FC_EINVAL;
    /* Every argument is checked before the first change. */
    eng_op_reader chk = *r;
    while (chk.left)
        if (!eng_op_next(&chk, &m, &ml))
            return FC_EINVAL;
    while (eng_op_next(r, &m, &ml)) {
        if (code == SOP_REM) {
            sobj_rem(o, m, ml);
            continue;
        }
        int rc = sobj_add(o, m, ml, &added);
        if (rc != FC_OK)
            return rc;
    }
    return FC_OK;
}

const eng_type_ops eng_set_ops = {
    .name = "set",
    .create = set_create,
    .free = set_free,
    .len = set_len,
    .encoding = set_encoding,
    .serialize = set_serialize,
    .load = set_load,
    .dup = set_dup,
    .apply = set_apply,
};
