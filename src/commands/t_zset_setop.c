/*
 * t_zset_setop.c — ZUNION, ZINTER, ZDIFF, ZINTERCARD and the STORE forms
 * (Redis's zunionInterDiffGenericCommand: its argument order, its errors,
 * its NaN rules and its order of aggregation, so that float sums come out
 * bit-identical).
 *
 * The keys may live on several workers: the router then runs the command
 * with the other workers parked, so every source is read in place. The
 * result is built as a new object and only then stored (a destination
 * that is also a source dies with the old value), or deleted when empty.
 *
 * Plain sets are sources too, as in Redis (every member scores 1): read
 * into a temporary sorted set (zsrc_open).
 */
#include <math.h>
#include <stdlib.h>

#include "commands/cmd_fns.h"
#include "commands/t_zset_int.h"
#include "engine/obj_set.h"

enum { OP_UNION, OP_INTER, OP_DIFF };
enum { AGG_SUM, AGG_MIN, AGG_MAX };

typedef struct zsrc {
    eng_obj *o; /* NULL: missing key (empty) */
    size_t len;
    double w;
    size_t pos;  /* argument order, for a stable sort */
    bool owned;  /* o is a temporary copy of a plain set (freed after) */
} zsrc;

static int by_len(const void *a, const void *b)
{
    const zsrc *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void aggregate(double *t, double v, int how)
{
    if (how == AGG_SUM) {
        *t += v;
        if (isnan(*t)) /* inf + -inf */
            *t = 0;
    } else if (how == AGG_MIN) {
        *t = v < *t ? v : *t;
    } else {
        *t = v > *t ? v : *t;
    }
}

static int setop_union(eng_obj *res, zsrc *src, size_t ns, int how)
{
    for (size_t i = 0; i < ns; i++) {
        if (!src[i].o)
            continue;
        zs_iter it;
        const char *m;
        size_t n;
        double s, cur;
        zs_iter_init(&it, src[i].o, 0, false);
        while (zs_iter_next(&it, &m, &n, &s)) {
            double v = src[i].w * s;
            if (isnan(v))
                v = 0;
            if (zs_score(res, m, n, &cur)) {
                aggregate(&cur, v, how);
                v = cur;
            }
            unsigned out;
            double nv;
            if (zs_add(res, m, n, v, 0, &out, &nv) != FC_OK) {
                zs_iter_done(&it);
                return FC_ENOMEM;
            }
        }
        zs_iter_done(&it);
    }
    return FC_OK;
}

/* res NULL: count only, up to limit (0: no limit). */
static int setop_inter(eng_obj *res, zsrc *src, size_t ns, int how,
                       int64_t limit, size_t *card)
{
    *card = 0;
    for (size_t i = 0; i < ns; i++)
        if (!src[i].o)
            return FC_OK;
    zs_iter it;
    const char *m;
    size_t n;
    double s;
    int rc = FC_OK;
    zs_iter_init(&it, src[0].o, 0, false);
    while (zs_iter_next(&it, &m, &n, &s)) {
        double score = src[0].w * s, v;
        if (isnan(score))
            score = 0;
        size_t j = 1;
        for (; j < ns; j++) {
            if (!zs_score(src[j].o, m, n, &v))
                break;
            aggregate(&score, v * src[j].w, how);
        }
        if (j < ns)
            continue;
        (*card)++;
        if (!res) {
            if (limit && *card >= (uint64_t)limit)
                break;
            continue;
        }
        unsigned out;
        double nv;
        if ((rc = zs_add(res, m, n, score, 0, &out, &nv)) != FC_OK)
            break;
    }
    zs_iter_done(&it);
    return rc;
}

static int setop_diff(eng_obj *res, zsrc *src, size_t ns)
{
    if (!src[0].o)
        return FC_OK;
    zs_iter it;
    const char *m;
    size_t n;
    double s, v;
    int rc = FC_OK;
    zs_iter_init(&it, src[0].o, 0, false);
    while (zs_iter_next(&it, &m, &n, &s)) {
        size_t j = 1;
        while (j < ns && !(src[j].o && zs_score(src[j].o, m, n, &v)))
            j++;
        if (j < ns)
            continue;
        unsigned out;
        double nv;
        if ((rc = zs_add(res, m, n, s, 0, &out, &nv)) != FC_OK)
            break;
    }
    zs_iter_done(&it);
    return rc;
}

/* A plain set as a source (Redis accepts them: every member scores 1),
 * as a temporary sorted set: O(members), as reading it is anyway. */
static int set_as_zset(const eng_obj *set, eng_obj **out)
{
    eng_obj *z = zs_new_tree();
    if (!z)
        return FC_ENOMEM;
    sobj_it it = {0};
    const uint8_t *m;
    size_t ml;
    while (sobj_next(set, &it, &m, &ml)) {
        unsigned got;
        double nscore;
        if (zs_add(z, m, ml, 1.0, 0, &got, &nscore) != FC_OK) {
            eng_obj_free(z);
            return FC_ENOMEM;
        }
    }
    *out = z;
    return FC_OK;
}

/* false after replying an error (WRONGTYPE, OOM). */
static bool zsrc_open(cmd_ctx *c, size_t i, zsrc *s)
{
    cmd_key k = cmd_key_at(c, i);
    s->o = NULL;
    s->len = 0;
    s->w = 1.0;
    s->owned = false;
    int rc = eng_obj_get(k.sh, k.h, k.p, k.n, ENG_TYPE_ZSET, c->now, &s->o);
    if (rc == FC_EWRONGTYPE) {
        eng_obj *set;
        if (eng_obj_get(k.sh, k.h, k.p, k.n, ENG_TYPE_SET, c->now, &set) !=
            FC_OK) {
            resp_error(c->w, CMD_ERR_WRONGTYPE);
            return false;
        }
        if (set_as_zset(set, &s->o) != FC_OK) {
            resp_error(c->w, CMD_ERR_OOM);
            return false;
        }
        s->owned = true;
        rc = FC_OK;
    }
    if (rc == FC_OK)
        s->len = zs_len(s->o);
    else
        s->o = NULL;
    return true;
}

static void zsrc_close(zsrc *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (src[i].owned)
            eng_obj_free(src[i].o);
}

/* dst: argv index of the destination (0: none); nk: numkeys' index. */
static void setop(cmd_ctx *c, const char *name, size_t dst, size_t nk, int op,
                  bool card_only)
{
    int64_t ns;
    if (!cmd_arg_ll(c, nk, &ns))
        return;
    if (ns < 1) {
        resp_errorf(c->w, "ERR at least 1 input key is needed for '%s' command",
                    name);
        return;
    }
    if ((uint64_t)ns > c->argc - nk - 1) {
        resp_error(c->w, CMD_ERR_SYNTAX);
        return;
    }
    zsrc *src = malloc((size_t)ns * sizeof(*src));
    if (!src) {
        resp_error(c->w, CMD_ERR_OOM);
        return;
    }
    size_t j = nk + 1, opened = 0;
    for (size_t i = 0; i < (size_t)ns; i++, j++, opened++) {
        src[i].pos = i;
        if (!zsrc_open(c, j, &src[i]))
            goto out;
    }
    int how = AGG_SUM;
    bool withscores = false;
    int64_t limit = 0;
    while (j < c->argc) {
        size_t left = c->argc - j;
        const resp_arg *a = &c->argv[j];
        if (op != OP_DIFF && !card_only && left >= (size_t)ns + 1 &&
            cmd_arg_is(a, "weights")) {
            j++;
            for (size_t i = 0; i < (size_t)ns; i++, j++)
                if (!zc_arg_double(c, j, &src[i].w,
                                   "ERR weight value is not a float"))
                    goto out;
        } else if (op != OP_DIFF && !card_only && left >= 2 &&
                   cmd_arg_is(a, "aggregate")) {
            const resp_arg *v = &c->argv[j + 1];
            if (cmd_arg_is(v, "sum"))
                how = AGG_SUM;
            else if (cmd_arg_is(v, "min"))
                how = AGG_MIN;
            else if (cmd_arg_is(v, "max"))
                how = AGG_MAX;
            else {
                resp_error(c->w, CMD_ERR_SYNTAX);
                goto out;
            }
            j += 2;
        } else if (!dst && !card_only && cmd_arg_is(a, "withscores")) {
            withscores = true;
            j++;
        } else if (card_only && left >= 2 && cmd_arg_is(a, "limit")) {
            /* getPositiveLongFromObjectOrReply: one message for both */
            if (!cmd_parse_ll(c->argv[j + 1].ptr, c->argv[j + 1].len, &limit) ||
                limit < 0) {
                resp_error(c->w, "ERR LIMIT can't be negative");
                goto out;
            }
            j += 2;
        } else {
            resp_error(c->w, CMD_ERR_SYNTAX);
            goto out;
        }
    }
    if (op != OP_DIFF) /* smallest first: fewer lookups, Redis's order */
        qsort(src, (size_t)ns, sizeof(*src), by_len);
    if (card_only) {
        size_t card;
        setop_inter(NULL, src, (size_t)ns, how, limit, &card);
        resp_int(c->w, (int64_t)card);
        goto out;
    }
    eng_obj *res = zs_new_tree(); /* a STORE packs it at the end */
    int rc = res ? FC_OK : FC_ENOMEM;
    size_t card;
    if (rc == FC_OK) {
        if (op == OP_UNION)
            rc = setop_union(res, src, (size_t)ns, how);
        else if (op == OP_INTER)
            rc = setop_inter(res, src, (size_t)ns, how, 0, &card);
        else
            rc = setop_diff(res, src, (size_t)ns);
    }
    if (rc != FC_OK) {
        eng_obj_free(res);
        resp_error(c->w, CMD_ERR_OOM);
        goto out;
    }
    size_t len = zs_len(res);
    if (!dst) {
        zc_reply_ranks(c, res, 0, len, false, withscores);
        eng_obj_free(res);
    } else {
        cmd_key d = cmd_key_at(c, dst);
        if (len == 0) {
            eng_obj_free(res);
            zc_del_key(c, &d);
            resp_int(c->w, 0);
        } else if (zs_fit(res), zc_store(c, &d, res)) {
            resp_int(c->w, (int64_t)len);
        }
    }
out:
    zsrc_close(src, opened);
    free(src);
}

void cmd_zunion(cmd_ctx *c)
{
    setop(c, "zunion", 0, 1, OP_UNION, false);
}

void cmd_zinter(cmd_ctx *c)
{
    setop(c, "zinter", 0, 1, OP_INTER, false);
}

void cmd_zdiff(cmd_ctx *c)
{
    setop(c, "zdiff", 0, 1, OP_DIFF, false);
}

void cmd_zintercard(cmd_ctx *c)
{
    setop(c, "zintercard", 0, 1, OP_INTER, true);
}

void cmd_zunionstore(cmd_ctx *c)
{
    setop(c, "zunionstore", 1, 2, OP_UNION, false);
}

void cmd_zinterstore(cmd_ctx *c)
{
    setop(c, "zinterstore", 1, 2, OP_INTER, false);
}

void cmd_zdiffstore(cmd_ctx *c)
{
    setop(c, "zdiffstore", 1, 2, OP_DIFF, false);
}
