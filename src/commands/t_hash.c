/*
 * t_hash.c — the hash commands: HSET HSETNX HMSET HGET HMGET HDEL HLEN
 * HSTRLEN HEXISTS HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD
 * HSCAN, with Redis 7.0's replies and error texts.
 *
 * Writes follow obj.h's pattern: every argument is checked before the
 * first change, the change goes through obj_hash.h, and the op record
 * carries its effect (HINCRBY logs the field's new value, not the delta).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/cmd_fns.h"
#include "commands/cmd_util.h"
#include "commands/t_coll.h"
#include "engine/obj_hash.h"

/* The hash at argv[1] for reading: true with *o (NULL: absent), false
 * when WRONGTYPE was replied. */
static bool hash_read(cmd_ctx *c, eng_obj **o)
{
    cmd_key k = cmd_key_at(c, 1);
    int rc = eng_obj_get(k.sh, k.h, k.p, k.n, ENG_TYPE_HASH, c->now, o);
    if (rc == FC_OK || rc == FC_ENOTFOUND)
        return true;
    cmd_reply_fc_error(c, rc);
    return false;
}

/* Sets the pairs at argv[from..argc): replies with the fields added or
 * +OK (hmset). */
static void hset_pairs(cmd_ctx *c, bool hmset)
{
    if ((c->argc - 2) % 2 != 0) {
        cmd_reply_arity(c, hmset ? "hmset" : "hset");
        return;
    }
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc =
        eng_obj_open(k.sh, k.h, k.p, k.n, ENG_TYPE_HASH, true, cmd_now(c), &o);
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    eng_op *op = eng_obj_logging(k.sh) ? eng_op_begin(HOP_SET) : NULL;
    int64_t added = 0;
    size_t i;
    for (i = 2; i < c->argc; i += 2) {
        const resp_arg *f = &c->argv[i], *v = &c->argv[i + 1];
        bool add;
        if ((rc = hobj_set(o, f->ptr, f->len, v->ptr, v->len, &add)) != FC_OK)
            break;
        added += add;
        if (op) {
            eng_op_arg(op, f->ptr, f->len);
            eng_op_arg(op, v->ptr, v->len);
        }
    }
    /* On ENOMEM mid-way the fields set so far stay set, and logged. */
    eng_obj_commit(k.sh, k.h, k.p, k.n, o, i > 2 ? op : NULL);
    if (rc != FC_OK)
        cmd_reply_fc_error(c, rc);
    else if (hmset)
        resp_ok(c->w);
    else
        resp_int(c->w, added);
}

void cmd_hset(cmd_ctx *c)
{
    hset_pairs(c, false);
}

void cmd_hmset(cmd_ctx *c)
{
    hset_pairs(c, true);
}

void cmd_hsetnx(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    const resp_arg *f = &c->argv[2], *v = &c->argv[3];
    eng_obj *o;
    int rc =
        eng_obj_open(k.sh, k.h, k.p, k.n, ENG_TYPE_HASH, true, cmd_now(c), &o);
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    const uint8_t *cur;
    size_t cl;
    bool add = false;
    eng_op *op = NULL;
    if (!hobj_get(o, f->ptr, f->len, &cur, &cl)) {
        rc = hobj_set(o, f->ptr, f->len, v->ptr, v->len, &add);
        if (rc == FC_OK && eng_obj_logging(k.sh)) {
            op = eng_op_begin(HOP_SET);
            eng_op_arg(op, f->ptr, f->len);
            eng_op_arg(op, v->ptr, v->len);
        }
    }
    eng_obj_commit(k.sh, k.h, k.p, k.n, o, op);
    if (rc != FC_OK)
        cmd_reply_fc_error(c, rc);
    else
        resp_int(c->w, add);
}

void cmd_hget(cmd_ctx *c)
{
    eng_obj *o;
    const uint8_t *v;
    size_t vl;
    if (!hash_read(c, &o))
        return;
    if (o && hobj_get(o, c->argv[2].ptr, c->argv[2].len, &v, &vl))
        resp_bulk(c->w, v, vl);
    else
        resp_null(c->w);
}

void cmd_hmget(cmd_ctx *c)
{
    eng_obj *o;
    if (!hash_read(c, &o))
        return;
    resp_array(c->w, c->argc - 2);
    for (size_t i = 2; i < c->argc; i++) {
        const uint8_t *v;
        size_t vl;
        if (o && hobj_get(o, c->argv[i].ptr, c->argv[i].len, &v, &vl))
            resp_bulk(c->w, v, vl);
        else
            resp_null(c->w);
    }
}

void cmd_hdel(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc =
        eng_obj_open(k.sh, k.h, k.p, k.n, ENG_TYPE_HASH, false, cmd_now(c), &o);
    if (rc == FC_ENOTFOUND) {
        resp_int(c->w, 0);
        return;
    }
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    eng_op *op = eng_obj_logging(k.sh) ? eng_op_begin(HOP_DEL) : NULL;
    int64_t n = 0;
    for (size_t i = 2; i < c->argc; i++) {
        const resp_arg *f = &c->argv[i];
        if (hobj_del(o, f->ptr, f->len)) {
            n++;
            if (op)
                eng_op_arg(op, f->ptr, f->len);
        }
    }
    eng_obj_commit(k.sh, k.h, k.p, k.n, o, n ? op : NULL);
    resp_int(c->w, n);
}

void cmd_hlen(cmd_ctx *c)
{
    eng_obj *o;
    if (hash_read(c, &o))
        resp_int(c->w, o ? (int64_t)hobj_len(o) : 0);
}

void cmd_hstrlen(cmd_ctx *c)
{
    eng_obj *o;
    const uint8_t *v;
    size_t vl = 0;
    if (!hash_read(c, &o))
        return;
    if (!o || !hobj_get(o, c->argv[2].ptr, c->argv[2].len, &v, &vl))
        vl = 0;
    resp_int(c->w, (int64_t)vl);
}

void cmd_hexists(cmd_ctx *c)
{
    eng_obj *o;
    const uint8_t *v;
    size_t vl;
    if (hash_read(c, &o))
        resp_int(c->w,
                 o && hobj_get(o, c->argv[2].ptr, c->argv[2].len, &v, &vl));
}

enum { ALL_KEYS = 1, ALL_VALS = 2 };

static void hash_all(cmd_ctx *c, unsigned what)
{
    eng_obj *o;
    if (!hash_read(c, &o))
        return;
    size_t n = o ? hobj_len(o) : 0, pos = 0, fl, vl;
    const uint8_t *f, *v;
    if (what == (ALL_KEYS | ALL_VALS))
        resp_map(c->w, n);
    else
        resp_array(c->w, n);
    while (o && hobj_next(o, &pos, &f, &fl, &v, &vl)) {
        if (what & ALL_KEYS)
            resp_bulk(c->w, f, fl);
        if (what & ALL_VALS)
            resp_bulk(c->w, v, vl);
    }
}

void cmd_hkeys(cmd_ctx *c)
{
    hash_all(c, ALL_KEYS);
}

void cmd_hvals(cmd_ctx *c)
{
    hash_all(c, ALL_VALS);
}

void cmd_hgetall(cmd_ctx *c)
{
    hash_all(c, ALL_KEYS | ALL_VALS);
}

/* Writes field = (buf, len) as one op and replies through reply(). */
static int set_logged(cmd_ctx *c, const cmd_key *k, eng_obj *o,
                      const resp_arg *f, const char *buf, size_t len)
{
    bool add;
    int rc = hobj_set(o, f->ptr, f->len, buf, len, &add);
    eng_op *op = NULL;
    if (rc == FC_OK && eng_obj_logging(k->sh)) {
        op = eng_op_begin(HOP_SET);
        eng_op_arg(op, f->ptr, f->len);
        eng_op_arg(op, buf, len);
    }
    eng_obj_commit(k->sh, k->h, k->p, k->n, o, rc == FC_OK ? op : NULL);
    return rc;
}

void cmd_hincrby(cmd_ctx *c)
{
    int64_t incr, cur = 0;
    if (!cmd_arg_ll(c, 3, &incr))
        return;
    cmd_key k = cmd_key_at(c, 1);
    const resp_arg *f = &c->argv[2];
    eng_obj *o;
    int rc =
        eng_obj_open(k.sh, k.h, k.p, k.n, ENG_TYPE_HASH, true, cmd_now(c), &o);
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    const uint8_t *v;
    size_t vl;
    const char *err = NULL;
    if (hobj_get(o, f->ptr, f->len, &v, &vl) &&
        !cmd_parse_ll((const char *)v, vl, &cur))
        err = "ERR hash value is not an integer";
    else if (__builtin_add_overflow(cur, incr, &cur))
        err = CMD_ERR_OVERFLOW;
    if (err) {
        eng_obj_commit(k.sh, k.h, k.p, k.n, o, NULL);
        resp_error(c->w, err);
        return;
    }
    char buf[24];
    size_t len = (size_t)snprintf(buf, sizeof(buf), "%" PRId64, cur);
    if ((rc = set_logged(c, &k, o, f, buf, len)) != FC_OK)
        cmd_reply_fc_error(c, rc);
    else
        resp_int(c->w, cur);
}

void cmd_hincrbyfloat(cmd_ctx *c)
{
    long double incr, cur = 0;
    if (!cmd_parse_ld(c->argv[3].ptr, c->argv[3].len, &incr)) {
        resp_error(c->w, CMD_ERR_NOTFLOAT);
        return;
    }
    if (isnan(incr) || isinf(incr)) {
        resp_error(c->w, "ERR value is NaN or Infinity");
        return;
    }
    cmd_key k = cmd_key_at(c, 1);
    const resp_arg *f = &c->argv[2];
    eng_obj *o;
    int rc =
        eng_obj_open(k.sh, k.h, k.p, k.n, ENG_TYPE_HASH, true, cmd_now(c), &o);
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    const uint8_t *v;
    size_t vl, len = 0;
    const char *err = NULL;
    char buf[COLL_LD_BUF];
    if (hobj_get(o, f->ptr, f->len, &v, &vl) &&
        !cmd_parse_ld((const char *)v, vl, &cur))
        err = "ERR hash value is not a float";
    else if (cur += incr, isnan(cur) || isinf(cur))
        err = "ERR increment would produce NaN or Infinity";
    else if ((len = coll_format_ld(buf, sizeof(buf), cur)) == 0)
        err = CMD_ERR_NOTFLOAT;
    if (err) {
        eng_obj_commit(k.sh, k.h, k.p, k.n, o, NULL);
        resp_error(c->w, err);
        return;
    }
    if ((rc = set_logged(c, &k, o, f, buf, len)) != FC_OK)
        cmd_reply_fc_error(c, rc);
    else
        resp_bulk(c->w, buf, len);
}

/* --- HRANDFIELD --- */

struct rand_ctx {
    cmd_ctx *c;
    bool withvalues;
};

static void rand_emit(void *ctx, const uint8_t *f, size_t fl, const uint8_t *v,
                      size_t vl)
{
    struct rand_ctx *r = ctx;
    if (r->withvalues && r->c->w->proto > 2)
        resp_array(r->c->w, 2);
    resp_bulk(r->c->w, f, fl);
    if (r->withvalues)
        resp_bulk(r->c->w, v, vl);
}

static void hrandfield_count(cmd_ctx *c, int64_t l, bool withvalues)
{
    eng_obj *o;
    if (!hash_read(c, &o))
        return;
    if (!o || l == 0) {
        resp_array(c->w, 0);
        return;
    }
    size_t size = hobj_len(o);
    uint64_t count = l < 0 ? (uint64_t)-l : (uint64_t)l;
    bool uniq = l > 0;
    struct rand_ctx r = {c, withvalues};
    size_t per = withvalues && c->w->proto == 2 ? 2 : 1;
    if (!uniq || count == 1) {
        resp_array(c->w, (size_t)count * per);
        for (uint64_t i = 0; i < count && !c->w->out->oom; i++)
            hobj_random(o, c->rng, rand_emit, &r);
        return;
    }
    if (count >= size) {
        size_t pos = 0, fl, vl;
        const uint8_t *f, *v;
        resp_array(c->w, size * per);
        while (hobj_next(o, &pos, &f, &fl, &v, &vl))
            rand_emit(&r, f, fl, v, vl);
        return;
    }
    size_t mark = c->w->out->len;
    resp_array(c->w, (size_t)count * per);
    if (hobj_sample(o, (size_t)count, c->rng, rand_emit, &r) != FC_OK) {
        c->w->out->len = mark;
        resp_error(c->w, CMD_ERR_OOM);
    }
}

void cmd_hrandfield(cmd_ctx *c)
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
        bool wv = c->argc == 4 && cmd_arg_is(&c->argv[3], "withvalues");
        if (c->argc > 4 || (c->argc == 4 && !wv)) {
            resp_error(c->w, CMD_ERR_SYNTAX);
            return;
        }
        if (wv && (l < -INT64_MAX / 2 || l > INT64_MAX / 2)) {
            resp_error(c->w, "ERR value is out of range");
            return;
        }
        hrandfield_count(c, l, wv);
        return;
    }
    eng_obj *o;
    if (!hash_read(c, &o))
        return;
    if (!o) {
        resp_null(c->w);
        return;
    }
    struct rand_ctx r = {c, false};
    hobj_random(o, c->rng, rand_emit, &r);
}

/* --- HSCAN --- */

struct scan_out {
    resp_writer *w; /* the side buffer's writer */
    const coll_scan *s;
    size_t n;
};

static void scan_emit(void *ctx, const uint8_t *f, size_t fl, const uint8_t *v,
                      size_t vl)
{
    struct scan_out *so = ctx;
    if (!coll_scan_match(so->s, f, fl))
        return;
    resp_bulk(so->w, f, fl);
    resp_bulk(so->w, v, vl);
    so->n += 2;
}

void cmd_hscan(cmd_ctx *c)
{
    coll_scan s;
    eng_obj *o;
    if (!coll_scan_cursor(c, &s) || !hash_read(c, &o))
        return;
    if (!o) {
        coll_reply_empty_scan(c);
        return;
    }
    if (!coll_scan_opts(c, &s))
        return;
    /* The element count is known only after the step: write the items
     * to a side buffer, then the header, then the items. */
    fc_buf items = {0};
    resp_writer w = {&items, c->w->proto};
    struct scan_out so = {&w, &s, 0};
    uint64_t next = hobj_scan(o, s.cursor, s.count, scan_emit, &so);
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
