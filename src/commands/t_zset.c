/*
 * t_zset.c — the single-member sorted set commands: ZADD, ZINCRBY, ZREM,
 * ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK, ZCOUNT, ZLEXCOUNT.
 *
 * Every write parses all of its arguments before it changes anything, and
 * logs its effect: ZADD/ZINCRBY the resulting (score, member) of each
 * member that changed (ZOP_ADD), ZREM the members removed (ZOP_REM).
 */
#include <stdlib.h>

#include "commands/cmd_fns.h"
#include "commands/t_zset_int.h"

#define ZADD_LOCAL 32

void cmd_zadd(cmd_ctx *c)
{
    unsigned flags = 0;
    bool ch = false;
    size_t j = 2;
    for (; j < c->argc; j++) {
        const resp_arg *a = &c->argv[j];
        if (cmd_arg_is(a, "nx"))
            flags |= ZS_NX;
        else if (cmd_arg_is(a, "xx"))
            flags |= ZS_XX;
        else if (cmd_arg_is(a, "ch"))
            ch = true;
        else if (cmd_arg_is(a, "incr"))
            flags |= ZS_INCR;
        else if (cmd_arg_is(a, "gt"))
            flags |= ZS_GT;
        else if (cmd_arg_is(a, "lt"))
            flags |= ZS_LT;
        else
            break;
    }
    size_t elems = c->argc - j;
    if (elems == 0 || elems % 2) {
        resp_error(c->w, CMD_ERR_SYNTAX);
        return;
    }
    elems /= 2;
    if ((flags & ZS_NX) && (flags & ZS_XX)) {
        resp_error(c->w,
                   "ERR XX and NX options at the same time are not compatible");
        return;
    }
    if (((flags & ZS_GT) && (flags & ZS_NX)) ||
        ((flags & ZS_LT) && (flags & ZS_NX)) ||
        ((flags & ZS_GT) && (flags & ZS_LT))) {
        resp_error(c->w, "ERR GT, LT, and/or NX options at the same time are "
                         "not compatible");
        return;
    }
    if ((flags & ZS_INCR) && elems > 1) {
        resp_error(c->w,
                   "ERR INCR option supports a single increment-element pair");
        return;
    }
    double local[ZADD_LOCAL];
    double *scores =
        elems <= ZADD_LOCAL ? local : malloc(elems * sizeof(double));
    if (!scores) {
        resp_error(c->w, CMD_ERR_OOM);
        return;
    }
    for (size_t i = 0; i < elems; i++) {
        if (!zc_arg_double(c, j + 2 * i, &scores[i], NULL))
            goto out;
    }

    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc = eng_obj_open(k.sh, k.h, k.p, k.n, ENG_TYPE_ZSET, !(flags & ZS_XX),
                          cmd_now(c), &o);
    if (rc == FC_ENOTFOUND) { /* XX on a missing key: nothing to do */
        if (flags & ZS_INCR)
            resp_null(c->w);
        else
            resp_int(c->w, 0);
        goto out;
    }
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        goto out;
    }
    eng_op *op = eng_obj_logging(k.sh) ? eng_op_begin(ZOP_ADD) : NULL;
    size_t added = 0, updated = 0, processed = 0;
    double score = 0;
    bool failed = false;
    for (size_t i = 0; i < elems; i++) {
        const resp_arg *m = &c->argv[j + 2 * i + 1];
        unsigned res;
        double ns = 0;
        rc = zs_add(o, m->ptr, m->len, scores[i], flags, &res, &ns);
        if (rc != FC_OK || (res & ZS_OUT_NAN)) {
            if (rc != FC_OK)
                cmd_reply_fc_error(c, rc);
            else
                resp_error(c->w, ZERR_NAN);
            failed = true;
            break;
        }
        if (res & ZS_OUT_ADDED)
            added++;
        if (res & ZS_OUT_UPDATED)
            updated++;
        if (!(res & ZS_OUT_NOP))
            processed++;
        if ((res & (ZS_OUT_ADDED | ZS_OUT_UPDATED)) && op) {
            eng_op_arg_f64(op, ns);
            eng_op_arg(op, m->ptr, m->len);
        }
        score = ns;
    }
    eng_obj_commit(k.sh, k.h, k.p, k.n, o, op && op->argc ? op : NULL);
    if (failed)
        goto out;
    if (flags & ZS_INCR) {
        if (processed)
            resp_double(c->w, score);
        else
            resp_null(c->w);
    } else {
        resp_int(c->w, (int64_t)(ch ? added + updated : added));
    }
out:
    if (scores != local)
        free(scores);
}

void cmd_zincrby(cmd_ctx *c)
{
    double incr, ns = 0;
    unsigned res;
    if (!zc_arg_double(c, 2, &incr, NULL))
        return;
    cmd_key k = cmd_key_at(c, 1);
    const resp_arg *m = &c->argv[3];
    eng_obj *o;
    int rc =
        eng_obj_open(k.sh, k.h, k.p, k.n, ENG_TYPE_ZSET, true, cmd_now(c), &o);
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    rc = zs_add(o, m->ptr, m->len, incr, ZS_INCR, &res, &ns);
    eng_op *op = NULL;
    if (rc == FC_OK && (res & (ZS_OUT_ADDED | ZS_OUT_UPDATED)) &&
        eng_obj_logging(k.sh)) {
        op = eng_op_begin(ZOP_ADD);
        eng_op_arg_f64(op, ns);
        eng_op_arg(op, m->ptr, m->len);
    }
    eng_obj_commit(k.sh, k.h, k.p, k.n, o, op);
    if (rc != FC_OK)
        cmd_reply_fc_error(c, rc);
    else if (res & ZS_OUT_NAN)
        resp_error(c->w, ZERR_NAN);
    else
        resp_double(c->w, ns);
}

void cmd_zrem(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc =
        eng_obj_open(k.sh, k.h, k.p, k.n, ENG_TYPE_ZSET, false, cmd_now(c), &o);
    if (rc == FC_ENOTFOUND) {
        resp_int(c->w, 0);
        return;
    }
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    eng_op *op = eng_obj_logging(k.sh) ? eng_op_begin(ZOP_REM) : NULL;
    int64_t removed = 0;
    for (size_t i = 2; i < c->argc && zs_len(o) > 0; i++) {
        const resp_arg *m = &c->argv[i];
        if (zs_del(o, m->ptr, m->len)) {
            removed++;
            if (op)
                eng_op_arg(op, m->ptr, m->len);
        }
    }
    eng_obj_commit(k.sh, k.h, k.p, k.n, o, removed ? op : NULL);
    resp_int(c->w, removed);
}

void cmd_zcard(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc = zc_get(c, &k, &o);
    if (rc == FC_OK)
        resp_int(c->w, (int64_t)zs_len(o));
    else if (rc == FC_ENOTFOUND)
        resp_int(c->w, 0);
}

void cmd_zscore(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    double s;
    int rc = zc_get(c, &k, &o);
    if (rc == FC_EWRONGTYPE)
        return;
    if (rc == FC_OK && zs_score(o, c->argv[2].ptr, c->argv[2].len, &s))
        resp_double(c->w, s);
    else
        resp_null(c->w);
}

void cmd_zmscore(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    double s;
    int rc = zc_get(c, &k, &o);
    if (rc == FC_EWRONGTYPE)
        return;
    resp_array(c->w, c->argc - 2);
    for (size_t i = 2; i < c->argc; i++) {
        if (rc == FC_OK && zs_score(o, c->argv[i].ptr, c->argv[i].len, &s))
            resp_double(c->w, s);
        else
            resp_null(c->w);
    }
}

static void zrank(cmd_ctx *c, bool rev)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    size_t r;
    int rc = zc_get(c, &k, &o);
    if (rc == FC_EWRONGTYPE)
        return;
    if (rc == FC_OK && zs_rank(o, c->argv[2].ptr, c->argv[2].len, &r))
        resp_int(c->w, (int64_t)(rev ? zs_len(o) - 1 - r : r));
    else
        resp_null(c->w);
}

void cmd_zrank(cmd_ctx *c)
{
    zrank(c, false);
}

void cmd_zrevrank(cmd_ctx *c)
{
    zrank(c, true);
}

void cmd_zcount(cmd_ctx *c)
{
    zs_srange r;
    if (!zc_parse_srange(&c->argv[2], &c->argv[3], &r)) {
        resp_error(c->w, ZERR_RANGE_FLOAT);
        return;
    }
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc = zc_get(c, &k, &o);
    if (rc == FC_EWRONGTYPE)
        return;
    size_t n = 0;
    if (rc == FC_OK) {
        size_t first = zs_score_first(o, &r), end = zs_score_end(o, &r);
        n = end > first ? end - first : 0;
    }
    resp_int(c->w, (int64_t)n);
}

void cmd_zlexcount(cmd_ctx *c)
{
    zs_lrange r;
    if (!zc_parse_lrange(&c->argv[2], &c->argv[3], &r)) {
        resp_error(c->w, ZERR_RANGE_LEX);
        return;
    }
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc = zc_get(c, &k, &o);
    if (rc == FC_EWRONGTYPE)
        return;
    size_t n = 0;
    if (rc == FC_OK) {
        size_t from;
        zs_lex_window(o, &r, false, 0, -1, &from, &n);
    }
    resp_int(c->w, (int64_t)n);
}
