/*
 * t_set.c — the single-key set commands and SMOVE: SADD SREM SISMEMBER
 * SMISMEMBER SCARD SMEMBERS SRANDMEMBER SPOP SSCAN SMOVE, with Redis
 * 7.0's replies and error texts. The multi-key ones (SINTER, SUNION,
 * SDIFF and their STORE forms, SINTERCARD) are in t_set_multi.c.
 *
 * Writes follow obj.h's pattern; SPOP logs the members it removed, SMOVE
 * a removal on one key and an addition on the other.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/cmd_fns.h"
#include "commands/cmd_util.h"
#include "commands/t_coll.h"
#include "commands/t_set_util.h"
#include "engine/obj_set.h"

bool set_read(cmd_ctx *c, size_t i, eng_obj **o)
{
    cmd_key k = cmd_key_at(c, i);
    int rc = eng_obj_get(k.sh, k.h, k.p, k.n, ENG_TYPE_SET, c->now, o);
    if (rc == FC_OK || rc == FC_ENOTFOUND)
        return true;
    cmd_reply_fc_error(c, rc);
    return false;
}

void cmd_sadd(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc =
        eng_obj_open(k.sh, k.h, k.p, k.n, ENG_TYPE_SET, true, cmd_now(c), &o);
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    eng_op *op = eng_obj_logging(k.sh) ? eng_op_begin(SOP_ADD) : NULL;
    int64_t added = 0;
    for (size_t i = 2; i < c->argc; i++) {
        const resp_arg *m = &c->argv[i];
        bool add;
        if ((rc = sobj_add(o, m->ptr, m->len, &add)) != FC_OK)
            break;
        if (add) {
            added++;
            if (op)
                eng_op_arg(op, m->ptr, m->len);
        }
    }
    /* On ENOMEM mid-way the members added so far stay, and are logged. */
    eng_obj_commit(k.sh, k.h, k.p, k.n, o, added ? op : NULL);
    if (rc != FC_OK)
        cmd_reply_fc_error(c, rc);
    else
        resp_int(c->w, added);
}

void cmd_srem(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc =
        eng_obj_open(k.sh, k.h, k.p, k.n, ENG_TYPE_SET, false, cmd_now(c), &o);
    if (rc == FC_ENOTFOUND) {
        resp_int(c->w, 0);
        return;
    }
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    eng_op *op = eng_obj_logging(k.sh) ? eng_op_begin(SOP_REM) : NULL;
    int64_t n = 0;
    for (size_t i = 2; i < c->argc; i++) {
        const resp_arg *m = &c->argv[i];
        if (sobj_rem(o, m->ptr, m->len)) {
            n++;
            if (op)
                eng_op_arg(op, m->ptr, m->len);
        }
    }
    eng_obj_commit(k.sh, k.h, k.p, k.n, o, n ? op : NULL);
    resp_int(c->w, n);
}

void cmd_sismember(cmd_ctx *c)
{
    eng_obj *o;
    if (set_read(c, 1, &o))
        resp_int(c->w, o && sobj_has(o, c->argv[2].ptr, c->argv[2].len));
}

void cmd_smismember(cmd_ctx *c)
{
    eng_obj *o;
    if (!set_read(c, 1, &o))
        return;
    resp_array(c->w, c->argc - 2);
    for (size_t i = 2; i < c->argc; i++)
        resp_int(c->w, o && sobj_has(o, c->argv[i].ptr, c->argv[i].len));
}

void cmd_scard(cmd_ctx *c)
{
    eng_obj *o;
    if (set_read(c, 1, &o))
        resp_int(c->w, o ? (int64_t)sobj_len(o) : 0);
}

void set_reply_members(cmd_ctx *c, const eng_obj *o)
{
    sobj_it it = {0};
    const uint8_t *m;
    size_t ml;
    resp_set(c->w, o ? sobj_len(o) : 0);
    while (o && sobj_next(o, &it, &m, &ml))
        resp_bulk(c->w, m, ml);
}

void cmd_smembers(cmd_ctx *c)
{
    eng_obj *o;
    if (set_read(c, 1, &o))
        set_reply_members(c, o);
}

static void emit_bulk(void *ctx, const uint8_t *m, size_t ml)
{
    resp_bulk(((cmd_ctx *)ctx)->w, m, ml);
}

/* The count argument of SRANDMEMBER (Redis: -LONG_MAX..LONG_MAX). */
static bool rand_count(cmd_ctx *c, int64_t *l)
{
    if (!cmd_arg_ll(c, 2, l))
        return false;
    if (*l == INT64_MIN) {
        resp_error(c->w, "ERR value is out of range, value must between "
                         "-9223372036854775807 and 9223372036854775807");
        return false;
    }
    return true;
}

void cmd_srandmember(cmd_ctx *c)
{
    eng_obj *o;
    int64_t l = 0;
    if (c->argc > 3) {
        resp_error(c->w, CMD_ERR_SYNTAX);
        return;
    }
    if (c->argc == 3 && !rand_count(c, &l))
        return;
    if (!set_read(c, 1, &o))
        return;
    if (c->argc == 2) {
        if (o)
            sobj_random(o, c->rng, emit_bulk, c);
        else
            resp_null(c->w);
        return;
    }
    if (!o || l == 0) {
        resp_array(c->w, 0);
        return;
    }
    size_t size = sobj_len(o);
    uint64_t count = l < 0 ? (uint64_t)-l : (uint64_t)l;
    if (l < 0 || count == 1) {
        resp_array(c->w, (size_t)count);
        for (uint64_t i = 0; i < count && !c->w->out->oom; i++)
            sobj_random(o, c->rng, emit_bulk, c);
    } else if (count >= size) {
        sobj_it it = {0};
        const uint8_t *m;
        size_t ml;
        resp_array(c->w, size);
        while (sobj_next(o, &it, &m, &ml))
            resp_bulk(c->w, m, ml);
    } else {
        size_t mark = c->w->out->len;
        resp_array(c->w, (size_t)count);
        if (sobj_sample(o, (size_t)count, c->rng, emit_bulk, c) != FC_OK) {
            c->w->out->len = mark;
            resp_error(c->w, CMD_ERR_OOM);
        }
    }
}

/* Members copied out of a set (SPOP removes them after choosing). */
static void collect(void *ctx, const uint8_t *m, size_t ml)
{
    fc_buf *b = ctx;
    fc_buf_append(b, &ml, sizeof(ml));
    fc_buf_append(b, m, ml);
}

void cmd_spop(cmd_ctx *c)
{
    int64_t count = 1;
    if (c->argc > 3) {
        resp_error(c->w, CMD_ERR_SYNTAX);
        return;
    }
    if (c->argc == 3 &&
        (!cmd_parse_ll(c->argv[2].ptr, c->argv[2].len, &count) || count < 0)) {
        resp_error(c->w, "ERR value is out of range, must be positive");
        return;
    }
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc =
        eng_obj_open(k.sh, k.h, k.p, k.n, ENG_TYPE_SET, false, cmd_now(c), &o);
    if (rc == FC_ENOTFOUND || (rc == FC_OK && count == 0)) {
        if (rc == FC_OK)
            eng_obj_commit(k.sh, k.h, k.p, k.n, o, NULL);
        if (c->argc == 2)
            resp_null(c->w);
        else
            resp_set(c->w, 0);
        return;
    }
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    size_t size = sobj_len(o),
           n = (uint64_t)count < size ? (size_t)count : size;
    fc_buf picked = {0};
    if (n == 1)
        sobj_random(o, c->rng, collect, &picked);
    else if (n == size) {
        sobj_it it = {0};
        const uint8_t *m;
        size_t ml;
        while (sobj_next(o, &it, &m, &ml))
            collect(&picked, m, ml);
    } else if (sobj_sample(o, n, c->rng, collect, &picked) != FC_OK) {
        picked.oom = true;
    }
    if (picked.oom) {
        fc_buf_free(&picked);
        eng_obj_commit(k.sh, k.h, k.p, k.n, o, NULL);
        resp_error(c->w, CMD_ERR_OOM);
        return;
    }
    eng_op *op = eng_obj_logging(k.sh) ? eng_op_begin(SOP_REM) : NULL;
    if (c->argc == 3)
        resp_set(c->w, n);
    for (size_t off = 0; off < picked.len;) {
        size_t ml;
        memcpy(&ml, picked.data + off, sizeof(ml));
        const char *m = picked.data + off + sizeof(ml);
        off += sizeof(ml) + ml;
        sobj_rem(o, m, ml);
        if (op)
            eng_op_arg(op, m, ml);
        resp_bulk(c->w, m, ml);
    }
    fc_buf_free(&picked);
    eng_obj_commit(k.sh, k.h, k.p, k.n, o, op);
}

/* --- SSCAN --- */

struct scan_out {
    resp_writer *w;
    const coll_scan *s;
    size_t n;
};

static void scan_emit(void *ctx, const uint8_t *m, size_t ml)
{
    struct scan_out *so = ctx;
    if (!coll_scan_match(so->s, m, ml))
        return;
    resp_bulk(so->w, m, ml);
    so->n++;
}

void cmd_sscan(cmd_ctx *c)
{
    coll_scan s;
    eng_obj *o;
    if (!coll_scan_cursor(c, &s) || !set_read(c, 1, &o))
        return;
    if (!o) {
        coll_reply_empty_scan(c);
        return;
    }
    if (!coll_scan_opts(c, &s))
        return;
    fc_buf items = {0};
    resp_writer w = {&items, c->w->proto};
    struct scan_out so = {&w, &s, 0};
    uint64_t next = sobj_scan(o, s.cursor, s.count, scan_emit, &so);
    if (items.oom) {
        fc_buf_free(&items);
        resp_error(c->w, CMD_ERR_OOM);
        return;
    }
    char cur[24];
    resp_array(c->w, 2);
    resp_bulk(c->w, cur, (size_t)snprintf(cur, sizeof(cur), "%" PRIu64, next));
    resp_array(c->w, so.n);
    fc_buf_append(c->w->out, items.data, items.len);
    fc_buf_free(&items);
}

/* --- SMOVE --- */

void cmd_smove(cmd_ctx *c)
{
    cmd_key src = cmd_key_at(c, 1), dst = cmd_key_at(c, 2);
    const resp_arg *m = &c->argv[3];
    eng_obj *so, *d;
    int rc =
        eng_obj_get(src.sh, src.h, src.p, src.n, ENG_TYPE_SET, c->now, &so);
    if (rc == FC_ENOTFOUND) {
        resp_int(c->w, 0);
        return;
    }
    if (rc != FC_OK ||
        (rc = eng_obj_get(dst.sh, dst.h, dst.p, dst.n, ENG_TYPE_SET, c->now,
                          &d)) == FC_EWRONGTYPE) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    if (src.n == dst.n && memcmp(src.p, dst.p, src.n) == 0) {
        resp_int(c->w, sobj_has(so, m->ptr, m->len));
        return;
    }
    /* The source changes and commits first: opening the destination may
     * make room on a shared shard, which must not find src mid-change. */
    rc = eng_obj_open(src.sh, src.h, src.p, src.n, ENG_TYPE_SET, false,
                      cmd_now(c), &so);
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    bool moved = sobj_rem(so, m->ptr, m->len);
    eng_op *op = NULL;
    if (moved && eng_obj_logging(src.sh)) {
        op = eng_op_begin(SOP_REM);
        eng_op_arg(op, m->ptr, m->len);
    }
    eng_obj_commit(src.sh, src.h, src.p, src.n, so, op);
    if (!moved) {
        resp_int(c->w, 0);
        return;
    }
    rc = eng_obj_open(dst.sh, dst.h, dst.p, dst.n, ENG_TYPE_SET, true,
                      cmd_now(c), &d);
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    bool added;
    rc = sobj_add(d, m->ptr, m->len, &added);
    op = NULL;
    if (rc == FC_OK && added && eng_obj_logging(dst.sh)) {
        op = eng_op_begin(SOP_ADD);
        eng_op_arg(op, m->ptr, m->len);
    }
    eng_obj_commit(dst.sh, dst.h, dst.p, dst.n, d, op);
    if (rc != FC_OK)
        cmd_reply_fc_error(c, rc);
    else
        resp_int(c->w, 1);
}
