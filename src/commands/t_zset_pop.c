/*
 * t_zset_pop.c — ZPOPMIN, ZPOPMAX, ZMPOP, one attempt of BZPOPMIN,
 * BZPOPMAX and BZMPOP (the server's blocking layer waits and retries:
 * src/server/blocking.c), ZRANDMEMBER and ZSCAN.
 *
 * Pops log the members they removed (ZOP_REM). ZRANDMEMBER draws from the
 * worker's RNG; which members it picks cannot match Redis's, only the
 * rules (distinct for a positive count, repeats for a negative one).
 * ZSCAN's cursor over the large encoding is the index's reverse-binary
 * home-slot cursor (obj_zset_tree.h), with Redis's guarantees; a pack is
 * returned whole with cursor 0, as Redis does for a listpack.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands/cmd_fns.h"
#include "commands/t_list.h"
#include "commands/t_zset_int.h"

#define ERR_POSITIVE "ERR value is out of range, must be positive"

int zc_pop(cmd_ctx *c, const cmd_key *k, bool max, int64_t count, int shape)
{
    eng_obj *o;
    int rc = eng_obj_open(k->sh, k->h, k->p, k->n, ENG_TYPE_ZSET, false,
                          cmd_now(c), &o);
    if (rc != FC_OK)
        return rc;
    size_t len = zs_len(o);
    size_t n = count >= 0 && (uint64_t)count < len ? (size_t)count : len;
    if (count < 0) /* one element, no count given */
        n = 1;
    if (n == 0) {
        eng_obj_commit(k->sh, k->h, k->p, k->n, o, NULL);
        resp_array(c->w, 0);
        return FC_OK;
    }
    size_t start = max ? len - n : 0;
    bool pairs =
        shape == ZC_POP_KEYED || (shape == ZC_POP_NESTED && c->w->proto >= 3);
    if (shape == ZC_POP_KEYED) {
        resp_array(c->w, 2);
        resp_bulk(c->w, k->p, k->n);
        resp_array(c->w, n);
    } else if (shape == ZC_POP_BLOCKING) {
        resp_array(c->w, 3);
        resp_bulk(c->w, k->p, k->n);
    } else {
        resp_array(c->w, pairs ? n : 2 * n);
    }
    zs_iter it;
    const char *m;
    size_t mn;
    double s;
    zs_iter_init(&it, o, max ? len - 1 : 0, max);
    for (size_t i = 0; i < n && zs_iter_next(&it, &m, &mn, &s); i++) {
        if (pairs)
            resp_array(c->w, 2);
        resp_bulk(c->w, m, mn);
        resp_double(c->w, s);
    }
    zs_iter_done(&it);
    eng_op *op = eng_obj_logging(k->sh) ? eng_op_begin(ZOP_REM) : NULL;
    zc_log_members(op, o, start, n);
    zs_del_range(o, start, n);
    eng_obj_commit(k->sh, k->h, k->p, k->n, o, op);
    return FC_OK;
}

/* Redis's genericZpopCommand over argv[first..first+nkeys): the first
 * key that holds a value serves (WRONGTYPE stops the search). */
static void zpop_keys(cmd_ctx *c, size_t first, size_t nkeys, bool max,
                      int64_t count, int shape)
{
    for (size_t i = 0; i < nkeys; i++) {
        cmd_key k = cmd_key_at(c, first + i);
        int rc = zc_pop(c, &k, max, count, shape);
        if (rc == FC_ENOTFOUND)
            continue;
        if (rc != FC_OK)
            cmd_reply_fc_error(c, rc);
        return;
    }
    if (shape == ZC_POP_KEYED)
        resp_null_array(c->w);
    else
        resp_array(c->w, 0);
}

static void zpop(cmd_ctx *c, bool max)
{
    int64_t count = 1;
    if (c->argc > 3) {
        resp_error(c->w, CMD_ERR_SYNTAX);
        return;
    }
    if (c->argc == 3) { /* getPositiveLongFromObjectOrReply: one message */
        if (!cmd_parse_ll(c->argv[2].ptr, c->argv[2].len, &count) ||
            count < 0) {
            resp_error(c->w, ERR_POSITIVE);
            return;
        }
    }
    zpop_keys(c, 1, 1, max, c->argc == 3 ? count : -1,
              c->argc == 3 ? ZC_POP_NESTED : ZC_POP_FLAT);
}

void cmd_zpopmin(cmd_ctx *c)
{
    zpop(c, false);
}

void cmd_zpopmax(cmd_ctx *c)
{
    zpop(c, true);
}

/* getRangeLongFromObjectOrReply(1, LONG_MAX, msg): msg for a bad number
 * too. */
static bool arg_positive(cmd_ctx *c, size_t i, int64_t *v, const char *msg)
{
    if (!cmd_parse_ll(c->argv[i].ptr, c->argv[i].len, v) || *v < 1) {
        resp_error(c->w, msg);
        return false;
    }
    return true;
}

/* ZMPOP's arguments from argv[at] (numkeys, keys, MIN|MAX, [COUNT n]),
 * as BZMPOP has them after its timeout. false after replying an error. */
static bool zmpop_args(cmd_ctx *c, size_t at, size_t *nkeys, bool *max,
                       int64_t *count)
{
    int64_t nk;
    *count = -1;
    if (!arg_positive(c, at, &nk, "ERR numkeys should be greater than 0"))
        return false;
    if ((uint64_t)nk >= c->argc - at - 1) { /* no room for MIN|MAX */
        resp_error(c->w, CMD_ERR_SYNTAX);
        return false;
    }
    size_t where = at + 1 + (size_t)nk;
    if (cmd_arg_is(&c->argv[where], "min")) {
        *max = false;
    } else if (cmd_arg_is(&c->argv[where], "max")) {
        *max = true;
    } else {
        resp_error(c->w, CMD_ERR_SYNTAX);
        return false;
    }
    for (size_t j = where + 1; j < c->argc; j++) {
        if (*count == -1 && cmd_arg_is(&c->argv[j], "count") &&
            j + 1 < c->argc) {
            if (!arg_positive(c, ++j, count,
                              "ERR count should be greater than 0"))
                return false;
        } else {
            resp_error(c->w, CMD_ERR_SYNTAX);
            return false;
        }
    }
    if (*count == -1)
        *count = 1;
    *nkeys = (size_t)nk;
    return true;
}

void cmd_zmpop(cmd_ctx *c)
{
    size_t nk;
    bool max;
    int64_t count;
    if (zmpop_args(c, 1, &nk, &max, &count))
        zpop_keys(c, 2, nk, max, count, ZC_POP_KEYED);
}

/* --- BZPOPMIN, BZPOPMAX, BZMPOP: one attempt (the server blocks) --- */

/* The first key among argv[first..first+n) with members serves; on a
 * retry a key that now holds another type counts as empty (the client
 * keeps waiting, as in Redis). */
static int zblock_keys(cmd_ctx *c, size_t first, size_t n, bool max,
                       int64_t count, int shape, bool retry)
{
    for (size_t i = 0; i < n; i++) {
        cmd_key k = cmd_key_at(c, first + i);
        int rc = zc_pop(c, &k, max, count, shape);
        if (rc == FC_ENOTFOUND || (retry && rc == FC_EWRONGTYPE))
            continue;
        if (rc != FC_OK)
            cmd_reply_fc_error(c, rc);
        return CMD_BLK_DONE;
    }
    return CMD_BLK_EMPTY;
}

int cmd_zset_block(cmd_ctx *c, bool retry, int64_t *timeout_ms)
{
    if (cmd_arg_is(&c->argv[0], "bzmpop")) {
        size_t nk;
        bool max;
        int64_t count;
        if (!cmd_arg_timeout(c, 1, timeout_ms) ||
            !zmpop_args(c, 2, &nk, &max, &count))
            return CMD_BLK_DONE;
        return zblock_keys(c, 3, nk, max, count, ZC_POP_KEYED, retry);
    }
    bool max = cmd_arg_is(&c->argv[0], "bzpopmax");
    if (!cmd_arg_timeout(c, c->argc - 1, timeout_ms))
        return CMD_BLK_DONE;
    return zblock_keys(c, 1, c->argc - 2, max, -1, ZC_POP_BLOCKING, retry);
}

void cmd_zset_block_empty(cmd_ctx *c, bool timed_out)
{
    (void)timed_out; /* a null array either way, as Redis */
    resp_null_array(c->w);
}

/* The table's rows: inside MULTI (and wherever nothing may wait) one
 * attempt, then the empty answer. */
static void zblock_once(cmd_ctx *c)
{
    int64_t ms;
    if (cmd_zset_block(c, false, &ms) == CMD_BLK_EMPTY)
        cmd_zset_block_empty(c, false);
}

void cmd_bzpopmin(cmd_ctx *c)
{
    zblock_once(c);
}

void cmd_bzpopmax(cmd_ctx *c)
{
    zblock_once(c);
}

void cmd_bzmpop(cmd_ctx *c)
{
    zblock_once(c);
}

/* --- ZRANDMEMBER --- */

static uint64_t zrand(cmd_ctx *c)
{
    static _Thread_local uint64_t fallback;
    uint64_t *st = c->rng ? c->rng : &fallback;
    uint64_t x = *st ? *st : 0x9E3779B97F4A7C15ull ^ (uint64_t)cmd_now(c);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *st = x;
    return x;
}

typedef struct zview {
    const char *m;
    size_t n;
    double s;
} zview;

static void view_at(const eng_obj *o, size_t rank, zview *v)
{
    zs_iter it;
    zs_iter_init(&it, o, rank, false);
    zs_iter_next(&it, &v->m, &v->n, &v->s);
    zs_iter_done(&it);
}

/* Every element, in order (NULL on ENOMEM). */
static zview *all_views(const eng_obj *o, size_t len)
{
    zview *v = malloc((len ? len : 1) * sizeof(*v));
    zs_iter it;
    if (!v)
        return NULL;
    zs_iter_init(&it, o, 0, false);
    for (size_t i = 0; i < len; i++)
        zs_iter_next(&it, &v[i].m, &v[i].n, &v[i].s);
    zs_iter_done(&it);
    return v;
}

/* count distinct ranks out of len (count < len / 3): random picks with
 * an open-addressing set to refuse repeats. */
static void reply_sparse(cmd_ctx *c, const eng_obj *o, size_t len, size_t count,
                         bool withscores)
{
    size_t cap = 16;
    while (cap < count * 2)
        cap *= 2;
    size_t *seen = malloc(cap * sizeof(size_t));
    if (!seen) {
        resp_error(c->w, CMD_ERR_OOM);
        return;
    }
    for (size_t i = 0; i < cap; i++)
        seen[i] = SIZE_MAX;
    zc_reply_list_header(c, count, withscores);
    for (size_t got = 0; got < count;) {
        size_t r = (size_t)(zrand(c) % len),
               s = (r * 0x9E3779B97F4A7C15ull) & (cap - 1);
        while (seen[s] != SIZE_MAX && seen[s] != r)
            s = (s + 1) & (cap - 1);
        if (seen[s] == r)
            continue;
        seen[s] = r;
        zview v;
        view_at(o, r, &v);
        zc_reply_elem(c, v.m, v.n, v.s, withscores);
        got++;
    }
    free(seen);
}

static void zrandmember_count(cmd_ctx *c, int64_t l, bool withscores)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc = zc_get(c, &k, &o);
    if (rc == FC_EWRONGTYPE)
        return;
    if (rc == FC_ENOTFOUND || l == 0) {
        resp_array(c->w, 0);
        return;
    }
    size_t len = zs_len(o);
    if (l < 0) { /* repeats allowed */
        size_t count = (size_t)(-l);
        zc_reply_list_header(c, count, withscores);
        for (size_t i = 0; i < count; i++) {
            zview v;
            view_at(o, (size_t)(zrand(c) % len), &v);
            zc_reply_elem(c, v.m, v.n, v.s, withscores);
        }
        return;
    }
    size_t count = (size_t)l;
    if (count >= len) { /* the whole set */
        zc_reply_ranks(c, o, 0, len, false, withscores);
        return;
    }
    if (count * 3 < len) {
        reply_sparse(c, o, len, count, withscores);
        return;
    }
    zview *v = all_views(o, len);
    if (!v) {
        resp_error(c->w, CMD_ERR_OOM);
        return;
    }
    zc_reply_list_header(c, count, withscores);
    for (size_t i = 0; i < count; i++) { /* a partial Fisher-Yates */
        size_t j = i + (size_t)(zrand(c) % (len - i));
        zview t = v[i];
        v[i] = v[j];
        v[j] = t;
        zc_reply_elem(c, v[i].m, v[i].n, v[i].s, withscores);
    }
    free(v);
}

void cmd_zrandmember(cmd_ctx *c)
{
    if (c->argc >= 3) {
        int64_t l;
        if (!cmd_arg_ll(c, 2, &l))
            return;
        if (l == INT64_MIN) {
            resp_error(c->w, "ERR value is out of range, value must between "
                             "-9223372036854775807 and 9223372036854775807");
            return;
        }
        if (c->argc > 4 ||
            (c->argc == 4 && !cmd_arg_is(&c->argv[3], "withscores"))) {
            resp_error(c->w, CMD_ERR_SYNTAX);
            return;
        }
        bool ws = c->argc == 4;
        if (ws && l < -INT64_MAX / 2) { /* the reply would overflow */
            resp_error(c->w, "ERR value is out of range");
            return;
        }
        zrandmember_count(c, l, ws);
        return;
    }
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc = zc_get(c, &k, &o);
    if (rc == FC_EWRONGTYPE)
        return;
    if (rc == FC_ENOTFOUND) {
        resp_null(c->w);
        return;
    }
    zview v;
    view_at(o, (size_t)(zrand(c) % zs_len(o)), &v);
    resp_bulk(c->w, v.m, v.n);
}

/* --- ZSCAN --- */

typedef struct scan_acc {
    zview *v;
    size_t n, cap;
    bool oom;
} scan_acc;

static void scan_add(void *ctx, const char *m, size_t n, double s)
{
    scan_acc *a = ctx;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        zview *v = realloc(a->v, cap * sizeof(*v));
        if (!v) {
            a->oom = true;
            return;
        }
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = (zview){m, n, s};
}

static size_t score_text(double d, char *buf, size_t cap)
{
    if (isinf(d))
        return (size_t)snprintf(buf, cap, "%s", d > 0 ? "inf" : "-inf");
    if (cap < FC_G17_MAX)
        return (size_t)snprintf(buf, cap, "%.17g", d);
    return fc_fmt_g17(d, buf);
}

void cmd_zscan(cmd_ctx *c)
{
    uint64_t cursor;
    if (!cmd_scan_cursor(&c->argv[2], &cursor)) {
        resp_error(c->w, "ERR invalid cursor");
        return;
    }
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc = zc_get(c, &k, &o);
    if (rc == FC_EWRONGTYPE)
        return;
    if (rc == FC_ENOTFOUND) {
        resp_array(c->w, 2);
        resp_bulk(c->w, "0", 1);
        resp_array(c->w, 0);
        return;
    }
    int64_t count = 10;
    const resp_arg *pat = NULL;
    for (size_t i = 3; i < c->argc; i += 2) {
        bool more = i + 1 < c->argc;
        if (more && cmd_arg_is(&c->argv[i], "count")) {
            if (!cmd_arg_ll(c, i + 1, &count))
                return;
            if (count < 1) {
                resp_error(c->w, CMD_ERR_SYNTAX);
                return;
            }
        } else if (more && cmd_arg_is(&c->argv[i], "match")) {
            pat = &c->argv[i + 1];
        } else {
            resp_error(c->w, CMD_ERR_SYNTAX);
            return;
        }
    }
    scan_acc a = {0};
    if (o->enc == ZS_ENC_PACK) {
        zs_iter it;
        const char *m;
        size_t n;
        double s;
        zs_iter_init(&it, o, 0, false);
        while (zs_iter_next(&it, &m, &n, &s))
            scan_add(&a, m, n, s);
        zs_iter_done(&it);
        cursor = 0;
    } else {
        int64_t maxit = count > INT64_MAX / 10 ? INT64_MAX : count * 10;
        do {
            cursor = zs_scan(o, (size_t)cursor, scan_add, &a);
        } while (cursor && maxit-- > 0 && a.n < (size_t)count);
    }
    if (a.oom) {
        free(a.v);
        resp_error(c->w, CMD_ERR_OOM);
        return;
    }
    size_t keep = 0;
    for (size_t i = 0; i < a.n; i++) {
        if (!pat ||
            cmd_glob_match(pat->ptr, pat->len, a.v[i].m, a.v[i].n, false))
            a.v[keep++] = a.v[i];
    }
    char buf[32];
    int cn = snprintf(buf, sizeof(buf), "%" PRIu64, cursor);
    resp_array(c->w, 2);
    resp_bulk(c->w, buf, (size_t)cn);
    resp_array(c->w, 2 * keep);
    for (size_t i = 0; i < keep; i++) {
        resp_bulk(c->w, a.v[i].m, a.v[i].n);
        resp_bulk(c->w, buf, score_text(a.v[i].s, buf, sizeof(buf)));
    }
    free(a.v);
}
