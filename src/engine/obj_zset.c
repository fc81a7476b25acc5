/*
 * obj_zset.c — the sorted set object: its two encodings behind one API
 * (obj_zset.h), conversions between them, and the lookups, ranges and
 * iteration the commands use. The type's ops (serialize, load, dup,
 * apply) are in obj_zset_ops.c.
 *
 * Pack layout: items member, score, member, score... in order. A score
 * item of 8 bytes is an IEEE double (little-endian); a shorter one (0..7
 * bytes) is a signed little-endian integer, which is what most scores are
 * (ranks, timestamps, counters): "m:1234" with score 1234 costs 10 bytes,
 * where a fixed double would cost 16 and Redis's listpack 11.
 */
#include "engine/obj_zset.h"

#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/pack.h"
#include "fastcache.h"

/* The large encoding's parts live in their own block, so that the object
 * of a small value (most keys) stays 48 bytes: measured, a 1-element set
 * went from 167 to 123 bytes per key (Redis 7.0.15: 116). */
typedef struct zbig {
    zs_tree t;
    zs_index ix;
    size_t elem_bytes;
} zbig;

typedef struct zset {
    eng_obj h;
    union {
        eng_pack pk;
        zbig *big;
    } u;
} zset;

#define Z(o) ((zset *)(o))
#define CZ(o) ((const zset *)(o))

static void refresh_bytes(zset *z)
{
    size_t b = malloc_usable_size(z);
    if (z->h.enc == ZS_ENC_PACK)
        b += pk_heap(&z->u.pk);
    else
        b += malloc_usable_size(z->u.big) + z->u.big->t.bytes +
             z->u.big->ix.bytes + z->u.big->elem_bytes;
    z->h.bytes = b;
}

eng_obj *zs_new(void)
{
    zset *z = calloc(1, sizeof(*z));
    if (!z)
        return NULL;
    z->h.type = ENG_TYPE_ZSET;
    z->h.enc = ZS_ENC_PACK;
    refresh_bytes(z);
    return &z->h;
}

size_t zs_len(const eng_obj *o)
{
    const zset *z = CZ(o);
    return o->enc == ZS_ENC_PACK ? z->u.pk.count / 2 : z->u.big->t.count;
}

/* --- pack scores --- */

#define INT_SCORE_LIM 36028797018963968.0 /* 2^55: fits 7 bytes signed */

static size_t score_put(double d, uint8_t out[8])
{
    if (d > -INT_SCORE_LIM && d < INT_SCORE_LIM && d == (double)(int64_t)d) {
        int64_t v = (int64_t)d;
        size_t n = 0;
        if (v != 0) {
            n = 1;
            while (n < 7 && (v < -(INT64_C(1) << (8 * n - 1)) ||
                             v >= (INT64_C(1) << (8 * n - 1))))
                n++;
        }
        for (size_t i = 0; i < n; i++)
            out[i] = (uint8_t)((uint64_t)v >> (8 * i));
        return n;
    }
    uint64_t u;
    memcpy(&u, &d, 8);
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(u >> (8 * i));
    return 8;
}

static double score_get(const uint8_t *p, size_t n)
{
    uint64_t u = 0;
    for (size_t i = 0; i < n; i++)
        u |= (uint64_t)p[i] << (8 * i);
    if (n == 8) {
        double d;
        memcpy(&d, &u, 8);
        return d;
    }
    if (n == 0)
        return 0;
    unsigned sh = (unsigned)(64 - 8 * n);
    return (double)((int64_t)(u << sh) >> sh);
}

/* One pair of the pack at off: member, score; returns the next pair's
 * offset. */
static size_t pair_at(const eng_pack *pk, size_t off, const char **m, size_t *n,
                      double *score)
{
    const uint8_t *it, *sp;
    size_t len, sn;
    off = pk_item(pk, off, &it, &len);
    off = pk_item(pk, off, &sp, &sn);
    *m = (const char *)it;
    *n = len;
    *score = score_get(sp, sn);
    return off;
}

/* Offset of member m's pair, or PK_NONE. */
static size_t pack_find(const eng_pack *pk, const void *m, size_t n,
                        double *score)
{
    for (size_t off = 0; off < pk->used;) {
        const char *pm;
        size_t pn;
        double s;
        size_t next = pair_at(pk, off, &pm, &pn, &s);
        if (pn == n && memcmp(pm, m, n) == 0) {
            if (score)
                *score = s;
            return off;
        }
        off = next;
    }
    return PK_NONE;
}

/* --- the large encoding --- */

static zs_elem *elem_new(const void *m, size_t n, double score)
{
    zs_elem *e = malloc(sizeof(*e) + n);
    if (!e)
        return NULL;
    e->score = score;
    e->len = (uint32_t)n;
    if (n)
        memcpy(e->m, m, n);
    return e;
}

/* Adds a member known to be absent. */
static int big_insert(zset *z, const void *m, size_t n, double score)
{
    if (n > UINT32_MAX)
        return FC_ETOOBIG;
    if (zi_reserve(&z->u.big->ix, 1) != FC_OK)
        return FC_ENOMEM;
    zs_elem *e = elem_new(m, n, score);
    if (!e)
        return FC_ENOMEM;
    if (zt_insert(&z->u.big->t, e) != FC_OK) {
        free(e);
        return FC_ENOMEM;
    }
    zi_add(&z->u.big->ix, e);
    z->u.big->elem_bytes += malloc_usable_size(e);
    return FC_OK;
}

static void big_remove(zset *z, zs_elem *e)
{
    zt_remove(&z->u.big->t, e);
    zi_remove(&z->u.big->ix, e);
    z->u.big->elem_bytes -= malloc_usable_size(e);
    free(e);
}

static void big_free(zset *z)
{
    zt_free_all(&z->u.big->t, true);
    zi_free(&z->u.big->ix);
    free(z->u.big);
    z->u.big = NULL;
}

/* pack -> tree; on ENOMEM the pack stays. */
static int to_tree(zset *z)
{
    zset nz;
    memset(&nz, 0, sizeof(nz));
    nz.h.enc = ZS_ENC_TREE;
    nz.u.big = calloc(1, sizeof(zbig));
    if (!nz.u.big)
        return FC_ENOMEM;
    int rc = zi_reserve(&nz.u.big->ix, z->u.pk.count / 2);
    for (size_t off = 0; rc == FC_OK && off < z->u.pk.used;) {
        const char *m;
        size_t n;
        double s;
        off = pair_at(&z->u.pk, off, &m, &n, &s);
        rc = big_insert(&nz, m, n, s);
    }
    if (rc != FC_OK) {
        big_free(&nz);
        return rc;
    }
    pk_free(&z->u.pk);
    z->u.big = nz.u.big;
    z->h.enc = ZS_ENC_TREE;
    return FC_OK;
}

/* tree -> pack when the value has at most ent elements, none longer than
 * val bytes. */
static void to_pack_within(zset *z, long ent, long val)
{
    size_t cnt = z->u.big->t.count;
    if (cnt == 0 || (long)cnt > ent)
        return;
    zt_iter it;
    for (zt_iter_at(&z->u.big->t, 0, &it); it.valid; zt_iter_next(&it))
        if ((long)zt_iter_get(&it)->len > val)
            return;
    eng_pack pk = {0};
    for (zt_iter_at(&z->u.big->t, 0, &it); it.valid; zt_iter_next(&it)) {
        const zs_elem *e = zt_iter_get(&it);
        uint8_t sb[8];
        size_t sn = score_put(e->score, sb);
        if (pk_insert2(&pk, pk.used, e->m, e->len, sb, sn) != FC_OK) {
            pk_free(&pk); /* stays a tree: correct, only larger */
            return;
        }
    }
    big_free(z);
    z->u.pk = pk;
    z->h.enc = ZS_ENC_PACK;
}

/* After a removal: back to the pack at half of both limits, so that a
 * value on the edge does not flip at every write. */
static void maybe_to_pack(zset *z)
{
    to_pack_within(z, eng_limit(&eng_limits.zset_max_listpack_entries) / 2,
                   eng_limit(&eng_limits.zset_max_listpack_value) / 2);
}

void zs_fit(eng_obj *o)
{
    if (o->enc != ZS_ENC_TREE)
        return;
    to_pack_within(Z(o), eng_limit(&eng_limits.zset_max_listpack_entries),
                   eng_limit(&eng_limits.zset_max_listpack_value));
    refresh_bytes(Z(o));
}

eng_obj *zs_new_tree(void)
{
    eng_obj *o = zs_new();
    if (o && to_tree(Z(o)) != FC_OK) {
        zs_free(o);
        return NULL;
    }
    if (o)
        refresh_bytes(Z(o));
    return o;
}

/* --- the API --- */

bool zs_score(const eng_obj *o, const void *m, size_t n, double *score)
{
    const zset *z = CZ(o);
    if (o->enc == ZS_ENC_PACK)
        return pack_find(&z->u.pk, m, n, score) != PK_NONE;
    const zs_elem *e = zi_find(&z->u.big->ix, m, n);
    if (e)
        *score = e->score;
    return e != NULL;
}

/* Offset where (score, m) belongs in the pack, skipping the pair at
 * `skip` (PK_NONE: none). */
static size_t pack_pos(const eng_pack *pk, const void *m, size_t n,
                       double score, size_t skip)
{
    size_t off = 0;
    while (off < pk->used) {
        const char *pm;
        size_t pn;
        double s;
        size_t next = pair_at(pk, off, &pm, &pn, &s);
        if (off != skip && zs_cmp_key(s, pm, pn, score, m, n) > 0)
            break;
        off = next;
    }
    return off;
}

/* New score for a member of the pack at old: the new pair goes in first,
 * so that an ENOMEM leaves the old one. */
static int pack_update(eng_pack *pk, size_t old, const void *m, size_t n,
                       double score)
{
    uint8_t sb[8];
    size_t sn = score_put(score, sb);
    size_t pos = pack_pos(pk, m, n, score, old);
    size_t old_end = pk_skip(pk, pk_skip(pk, old));
    if (pos == old || pos == old_end) /* same place: the score item only */
        return pk_replace(pk, pk_skip(pk, old), sb, sn);
    size_t before = pk->used;
    int rc = pk_insert2(pk, pos, m, n, sb, sn);
    if (rc != FC_OK)
        return rc;
    if (pos < old)
        old += pk->used - before;
    pk_erase(pk, old, 2);
    return FC_OK;
}

/* New score for an element of the tree: a new element goes in first, so
 * that an ENOMEM leaves the old one. */
static int big_update(zset *z, zs_elem *e, double score)
{
    zs_elem *ne = elem_new(e->m, e->len, score);
    if (!ne)
        return FC_ENOMEM;
    if (zt_insert(&z->u.big->t, ne) != FC_OK) {
        free(ne);
        return FC_ENOMEM;
    }
    zt_remove(&z->u.big->t, e);
    zi_remove(&z->u.big->ix, e);
    zi_add(&z->u.big->ix, ne); /* room: one just left */
    z->u.big->elem_bytes += malloc_usable_size(ne);
    z->u.big->elem_bytes -= malloc_usable_size(e);
    free(e);
    return FC_OK;
}

/* Sets member m to score: `old` is its pack offset / element when present
 * (NULL / PK_NONE when absent). Converts the pack past the limits. */
static int set_score(zset *z, const void *m, size_t n, double score)
{
    int rc;
    if (z->h.enc == ZS_ENC_PACK) {
        eng_pack *pk = &z->u.pk;
        size_t old = pack_find(pk, m, n, NULL);
        if (old != PK_NONE)
            return pack_update(pk, old, m, n, score);
        long ent = eng_limit(&eng_limits.zset_max_listpack_entries);
        long val = eng_limit(&eng_limits.zset_max_listpack_value);
        if ((long)n <= val && (long)(pk->count / 2 + 1) <= ent) {
            uint8_t sb[8];
            size_t sn = score_put(score, sb);
            return pk_insert2(pk, pack_pos(pk, m, n, score, PK_NONE), m, n, sb,
                              sn);
        }
        if ((rc = to_tree(z)) != FC_OK)
            return rc;
    }
    zs_elem *e = zi_find(&z->u.big->ix, m, n);
    if (e)
        return big_update(z, e, score);
    return big_insert(z, m, n, score);
}

/* -0 is stored as 0 in every encoding. Redis's listpack stores 0 and its
 * skiplist -0, so which one a Redis value holds depends on its encoding
 * history; ours must not, or a replica (whose encodings can differ: a
 * loaded value is packed by its final size) would diverge. Only a -0
 * that Redis would keep in a skiplist (ZSCORE, ZUNION replies) prints
 * "0" here. */
static double no_neg_zero(double d)
{
    return d == 0 ? 0.0 : d;
}

int zs_add(eng_obj *o, const void *m, size_t n, double score, unsigned flags,
           unsigned *out, double *newscore)
{
    zset *z = Z(o);
    double cur;
    int rc;
    *out = 0;
    if ((flags & ZS_INCR) && isnan(score)) {
        *out = ZS_OUT_NAN;
        return FC_OK;
    }
    score = no_neg_zero(score);
    if (zs_score(o, m, n, &cur)) {
        if (flags & ZS_NX) {
            *out = ZS_OUT_NOP;
            return FC_OK;
        }
        if (flags & ZS_INCR) {
            score = no_neg_zero(score + cur);
            if (isnan(score)) {
                *out = ZS_OUT_NAN;
                return FC_OK;
            }
        }
        if (((flags & ZS_LT) && score >= cur) ||
            ((flags & ZS_GT) && score <= cur)) {
            *out = ZS_OUT_NOP;
            return FC_OK;
        }
        *newscore = score;
        if (score != cur) { /* as Redis: -0 over 0 is no change */
            if ((rc = set_score(z, m, n, score)) != FC_OK)
                return rc;
            *out = ZS_OUT_UPDATED;
            refresh_bytes(z);
        }
        return FC_OK;
    }
    if (flags & ZS_XX) {
        *out = ZS_OUT_NOP;
        return FC_OK;
    }
    if (n > UINT32_MAX)
        return FC_ETOOBIG;
    if ((rc = set_score(z, m, n, score)) != FC_OK)
        return rc;
    *newscore = score;
    *out = ZS_OUT_ADDED;
    refresh_bytes(z);
    return FC_OK;
}

bool zs_del(eng_obj *o, const void *m, size_t n)
{
    zset *z = Z(o);
    if (o->enc == ZS_ENC_PACK) {
        size_t off = pack_find(&z->u.pk, m, n, NULL);
        if (off == PK_NONE)
            return false;
        pk_erase(&z->u.pk, off, 2);
    } else {
        zs_elem *e = zi_find(&z->u.big->ix, m, n);
        if (!e)
            return false;
        big_remove(z, e);
        maybe_to_pack(z);
    }
    refresh_bytes(z);
    return true;
}

void zs_del_range(eng_obj *o, size_t start, size_t count)
{
    zset *z = Z(o);
    if (count == 0)
        return;
    if (o->enc == ZS_ENC_PACK) {
        pk_erase(&z->u.pk, pk_offset(&z->u.pk, 2 * start), 2 * count);
    } else {
        for (size_t i = 0; i < count; i++) {
            zt_iter it;
            zt_iter_at(&z->u.big->t, start, &it);
            big_remove(z, zt_iter_get(&it));
        }
        maybe_to_pack(z);
    }
    refresh_bytes(z);
}

bool zs_rank(const eng_obj *o, const void *m, size_t n, size_t *rank)
{
    const zset *z = CZ(o);
    if (o->enc == ZS_ENC_PACK) {
        size_t r = 0;
        for (size_t off = 0; off < z->u.pk.used; r++) {
            const char *pm;
            size_t pn;
            double s;
            off = pair_at(&z->u.pk, off, &pm, &pn, &s);
            if (pn == n && memcmp(pm, m, n) == 0) {
                *rank = r;
                return true;
            }
        }
        return false;
    }
    const zs_elem *e = zi_find(&z->u.big->ix, m, n);
    if (!e)
        return false;
    *rank = zt_rank(&z->u.big->t, e);
    return true;
}

/* --- ranges: "before" predicates, monotone over the order --- */

static bool before_min(double s, const char *m, size_t n, const void *ctx)
{
    const zs_srange *r = ctx;
    (void)m, (void)n;
    return r->minex ? s <= r->min : s < r->min;
}

static bool within_max(double s, const char *m, size_t n, const void *ctx)
{
    const zs_srange *r = ctx;
    (void)m, (void)n;
    return r->maxex ? s < r->max : s <= r->max;
}

static int lex_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

static bool before_lex_min(double s, const char *m, size_t n, const void *ctx)
{
    const zs_lrange *r = ctx;
    (void)s;
    if (r->mink == ZL_NEG)
        return false;
    if (r->mink == ZL_POS)
        return true;
    int c = lex_cmp(m, n, r->min, r->minn);
    return r->mink == ZL_EXCL ? c <= 0 : c < 0;
}

static bool within_lex_max(double s, const char *m, size_t n, const void *ctx)
{
    const zs_lrange *r = ctx;
    (void)s;
    if (r->maxk == ZL_POS)
        return true;
    if (r->maxk == ZL_NEG)
        return false;
    int c = lex_cmp(m, n, r->max, r->maxn);
    return r->maxk == ZL_EXCL ? c < 0 : c <= 0;
}

static size_t lower(const eng_obj *o, zt_before_fn pred, const void *ctx)
{
    const zset *z = CZ(o);
    if (o->enc == ZS_ENC_TREE)
        return zt_lower(&z->u.big->t, pred, ctx);
    size_t r = 0;
    for (size_t off = 0; off < z->u.pk.used; r++) {
        const char *m;
        size_t n;
        double s;
        off = pair_at(&z->u.pk, off, &m, &n, &s);
        if (!pred(s, m, n, ctx))
            break;
    }
    return r;
}

size_t zs_score_first(const eng_obj *o, const zs_srange *r)
{
    return lower(o, before_min, r);
}

size_t zs_score_end(const eng_obj *o, const zs_srange *r)
{
    return lower(o, within_max, r);
}

/* Redis's zslIsInLexRange / zzlIsInLexRange, checked before any lex
 * walk: min <= max, the last element not below min, the first not above
 * max. With equal scores it only spares the walk; with mixed scores (where
 * lex ranges are undefined) it is what makes Redis answer "empty", and
 * matching it keeps our pack's answers equal to its listpack's. */
static bool lex_in_range(const eng_obj *o, const zs_lrange *r)
{
    size_t len = zs_len(o);
    if (len == 0)
        return false;
    if (r->mink == ZL_POS || r->maxk == ZL_NEG)
        return false;
    if (r->mink != ZL_NEG && r->maxk != ZL_POS) {
        int c = lex_cmp(r->min, r->minn, r->max, r->maxn);
        if (c > 0 || (c == 0 && (r->mink == ZL_EXCL || r->maxk == ZL_EXCL)))
            return false;
    }
    zs_iter it;
    const char *m;
    size_t n;
    double s;
    bool ok;
    zs_iter_init(&it, o, len - 1, false);
    ok = zs_iter_next(&it, &m, &n, &s) && !before_lex_min(s, m, n, r);
    zs_iter_done(&it);
    if (!ok)
        return false;
    zs_iter_init(&it, o, 0, false);
    ok = zs_iter_next(&it, &m, &n, &s) && within_lex_max(s, m, n, r);
    zs_iter_done(&it);
    return ok;
}

/* Redis's walk of a lex range over a listpack, step for step: the first
 * element >= min (or, reversed, the last <= max) must be inside the range,
 * the offset is skipped without looking, then elements are taken while
 * they stay within the far bound. With equal scores this is the same
 * window the bounds give; with mixed scores (undefined in Redis) it makes
 * our pack answer as its listpack does. */
static void pack_lex_walk(const eng_obj *o, const zs_lrange *r, bool rev,
                          int64_t offset, int64_t limit, size_t *from,
                          size_t *count)
{
    size_t len = zs_len(o);
    struct lv {
        const char *m;
        size_t n;
    } *v = malloc(len * sizeof(*v));
    zs_iter it;
    double s;
    if (!v) { /* fall back to the bounds: right for equal scores */
        size_t f = lower(o, before_lex_min, r), e = lower(o, within_lex_max, r);
        if (f < e && offset >= 0 && (uint64_t)offset < e - f) {
            size_t n = e - f - (size_t)offset;
            *count = limit >= 0 && (uint64_t)limit < n ? (size_t)limit : n;
            *from = rev ? e - 1 - (size_t)offset : f + (size_t)offset;
        }
        return;
    }
    zs_iter_init(&it, o, 0, false);
    for (size_t i = 0; i < len; i++)
        zs_iter_next(&it, &v[i].m, &v[i].n, &s);
    zs_iter_done(&it);
    size_t i = 0, n = 0;
    if (!rev) {
        while (i < len && before_lex_min(0, v[i].m, v[i].n, r))
            i++;
        if (i == len || !within_lex_max(0, v[i].m, v[i].n, r) || offset < 0 ||
            (uint64_t)offset >= len - i)
            goto out;
        i += (size_t)offset;
        while (i + n < len && (limit < 0 || n < (uint64_t)limit) &&
               within_lex_max(0, v[i + n].m, v[i + n].n, r))
            n++;
    } else {
        i = len;
        while (i > 0 && !within_lex_max(0, v[i - 1].m, v[i - 1].n, r))
            i--;
        if (i == 0 || before_lex_min(0, v[i - 1].m, v[i - 1].n, r) ||
            offset < 0 || (uint64_t)offset >= i)
            goto out;
        i -= 1 + (size_t)offset;
        while (n <= i && (limit < 0 || n < (uint64_t)limit) &&
               !before_lex_min(0, v[i - n].m, v[i - n].n, r))
            n++;
    }
    *from = i;
    *count = n;
out:
    free(v);
}

void zs_lex_window(const eng_obj *o, const zs_lrange *r, bool rev,
                   int64_t offset, int64_t limit, size_t *from, size_t *count)
{
    *from = 0;
    *count = 0;
    if (!lex_in_range(o, r))
        return;
    if (o->enc == ZS_ENC_PACK) {
        pack_lex_walk(o, r, rev, offset, limit, from, count);
        return;
    }
    size_t f = lower(o, before_lex_min, r), e = lower(o, within_lex_max, r);
    if (f >= e || offset < 0 || (uint64_t)offset >= e - f)
        return;
    size_t n = e - f - (size_t)offset;
    *count = limit >= 0 && (uint64_t)limit < n ? (size_t)limit : n;
    *from = rev ? e - 1 - (size_t)offset : f + (size_t)offset;
}

/* --- iteration --- */

void zs_iter_init(zs_iter *it, const eng_obj *o, size_t rank, bool rev)
{
    const zset *z = CZ(o);
    it->o = o;
    it->rev = rev;
    it->i = rank;
    it->offs = NULL;
    if (o->enc == ZS_ENC_TREE) {
        zt_iter_at(&z->u.big->t, rank, &it->t);
        return;
    }
    size_t cnt = z->u.pk.count / 2;
    if (!rev) {
        it->off = rank < cnt ? pk_offset(&z->u.pk, 2 * rank) : z->u.pk.used;
        return;
    }
    if (rank >= cnt) {
        it->i = SIZE_MAX; /* nothing */
        return;
    }
    /* Reverse over a forward-only pack: the offsets once, up to rank. */
    it->offs = rank < ZS_ITER_LOCAL ? it->offs_local
                                    : malloc((rank + 1) * sizeof(size_t));
    size_t off = 0;
    for (size_t i = 0; i <= rank; i++) {
        if (it->offs)
            it->offs[i] = off;
        off = pk_skip(&z->u.pk, pk_skip(&z->u.pk, off));
    }
}

bool zs_iter_next(zs_iter *it, const char **m, size_t *n, double *score)
{
    const zset *z = CZ(it->o);
    if (it->o->enc == ZS_ENC_TREE) {
        if (!it->t.valid)
            return false;
        const zs_elem *e = zt_iter_get(&it->t);
        *m = e->m;
        *n = e->len;
        *score = e->score;
        if (it->rev)
            zt_iter_prev(&it->t);
        else
            zt_iter_next(&it->t);
        return true;
    }
    if (!it->rev) {
        if (it->off >= z->u.pk.used)
            return false;
        it->off = pair_at(&z->u.pk, it->off, m, n, score);
        return true;
    }
    if (it->i == SIZE_MAX)
        return false;
    size_t off = it->offs ? it->offs[it->i] : pk_offset(&z->u.pk, 2 * it->i);
    pair_at(&z->u.pk, off, m, n, score);
    it->i = it->i == 0 ? SIZE_MAX : it->i - 1;
    return true;
}

void zs_iter_done(zs_iter *it)
{
    if (it->offs && it->offs != it->offs_local)
        free(it->offs);
    it->offs = NULL;
}

struct scan_tramp {
    void (*fn)(void *ctx, const char *m, size_t n, double score);
    void *ctx;
};

static void scan_one(void *ctx, const zs_elem *e)
{
    struct scan_tramp *t = ctx;
    t->fn(t->ctx, e->m, e->len, e->score);
}

size_t zs_scan(const eng_obj *o, size_t cursor,
               void (*fn)(void *ctx, const char *m, size_t n, double score),
               void *ctx)
{
    struct scan_tramp t = {fn, ctx};
    if (o->enc != ZS_ENC_TREE)
        return 0;
    return zi_scan(&CZ(o)->u.big->ix, cursor, scan_one, &t);
}

/* --- the object's life (used by obj_zset_ops.c) --- */

void zs_free(eng_obj *o)
{
    zset *z = Z(o);
    if (o->enc == ZS_ENC_PACK)
        pk_free(&z->u.pk);
    else
        big_free(z);
    free(z);
}

const char *zs_encoding(const eng_obj *o)
{
    return o->enc == ZS_ENC_PACK ? "pack" : "btree";
}
