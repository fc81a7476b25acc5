/*
 * t_list.c — LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LINDEX LSET LRANGE
 * LTRIM LINSERT LREM LPOS, with Redis 7.0's replies and argument order
 * (arguments are parsed before the key is looked up wherever Redis does
 * so, since that decides which error a client sees). The moves (LMOVE,
 * RPOPLPUSH, LMPOP) and the blocking forms are in t_list_move.c.
 *
 * Every change logs its effect as a list op record (obj_list.h) when the
 * shard has an observer.
 */
#include <stdlib.h>
#include <string.h>

#include "commands/cmd_fns.h"
#include "commands/t_list_int.h"

bool tl_side(cmd_ctx *c, size_t i, bool *tail)
{
    if (cmd_arg_is(&c->argv[i], "right"))
        *tail = true;
    else if (cmd_arg_is(&c->argv[i], "left"))
        *tail = false;
    else {
        resp_error(c->w, CMD_ERR_SYNTAX);
        return false;
    }
    return true;
}

static void reply_one(void *ctx, const uint8_t *p, size_t len)
{
    resp_bulk(ctx, p, len);
}

void tl_reply_range(cmd_ctx *c, const eng_obj *o, size_t start, size_t n,
                    bool rev)
{
    resp_array(c->w, n);
    if (rev) { /* nodes walk forwards only: one node at a time, backwards */
        if (lst_walk_back(o, start + n, n, reply_one, c->w) != FC_OK)
            c->w->out->oom = true;
        return;
    }
    lst_iter it;
    const uint8_t *e;
    size_t len;
    lst_iter_at(o, start, &it);
    for (size_t i = 0; i < n && lst_iter_next(&it, &e, &len); i++)
        resp_bulk(c->w, e, len);
}

void tl_pop_commit(cmd_ctx *c, const cmd_key *k, eng_obj *o, bool tail,
                   size_t n)
{
    size_t len = lst_len(o);
    eng_op *op = eng_obj_logging(k->sh) ? eng_op_begin(LOP_POP) : NULL;
    if (op) {
        eng_op_arg(op, tail ? "1" : "0", 1);
        eng_op_arg_i64(op, (int64_t)n);
    }
    lst_del(o, tail ? len - n : 0, n);
    eng_obj_commit(k->sh, k->h, k->p, k->n, o, op);
    (void)c;
}

static void push_generic(cmd_ctx *c, bool tail, bool only_existing)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc = eng_obj_open(k.sh, k.h, k.p, k.n, ENG_TYPE_LIST, !only_existing,
                          cmd_now(c), &o);
    if (rc == FC_ENOTFOUND) {
        resp_int(c->w, 0);
        return;
    }
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    eng_op *op = eng_obj_logging(k.sh) ? eng_op_begin(LOP_PUSH) : NULL;
    if (op)
        eng_op_arg(op, tail ? "1" : "0", 1);
    size_t done = 0;
    for (size_t i = 2; i < c->argc; i++) {
        rc = lst_push(o, tail, c->argv[i].ptr, c->argv[i].len);
        if (rc != FC_OK)
            break;
        if (op)
            eng_op_arg(op, c->argv[i].ptr, c->argv[i].len);
        done++;
    }
    size_t len = lst_len(o);
    eng_obj_commit(k.sh, k.h, k.p, k.n, o, done ? op : NULL);
    if (rc != FC_OK)
        cmd_reply_fc_error(c, rc);
    else
        resp_int(c->w, (int64_t)len);
}

void cmd_lpush(cmd_ctx *c) { push_generic(c, false, false); }
void cmd_rpush(cmd_ctx *c) { push_generic(c, true, false); }
void cmd_lpushx(cmd_ctx *c) { push_generic(c, false, true); }
void cmd_rpushx(cmd_ctx *c) { push_generic(c, true, true); }

/* Redis's getPositiveLongFromObjectOrReply: both failures say msg. */
static bool positive_arg(cmd_ctx *c, size_t i, const char *msg, int64_t *v)
{
    if (!cmd_parse_ll(c->argv[i].ptr, c->argv[i].len, v) || *v < 0) {
        resp_error(c->w, msg);
        return false;
    }
    return true;
}

static void pop_generic(cmd_ctx *c, bool tail)
{
    int64_t count = 0;
    bool has_count = c->argc == 3;
    if (c->argc > 3) {
        cmd_reply_arity(c, tail ? "rpop" : "lpop");
        return;
    }
    if (has_count &&
        !positive_arg(c, 2, "ERR value is out of range, must be positive",
                      &count))
        return;
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc = eng_obj_open(k.sh, k.h, k.p, k.n, ENG_TYPE_LIST, false,
                          cmd_now(c), &o);
    if (rc == FC_ENOTFOUND) {
        if (has_count)
            resp_null_array(c->w);
        else
            resp_null(c->w);
        return;
    }
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    size_t len = lst_len(o);
    if (has_count && count == 0) {
        eng_obj_commit(k.sh, k.h, k.p, k.n, o, NULL);
        resp_array(c->w, 0);
        return;
    }
    size_t n = !has_count ? 1 : (uint64_t)count > len ? len : (size_t)count;
    if (!has_count) {
        const uint8_t *e;
        size_t elen;
        lst_index(o, tail ? len - 1 : 0, &e, &elen);
        resp_bulk(c->w, e, elen);
    } else {
        tl_reply_range(c, o, tail ? len - n : 0, n, tail);
    }
    tl_pop_commit(c, &k, o, tail, n);
}

void cmd_lpop(cmd_ctx *c) { pop_generic(c, false); }
void cmd_rpop(cmd_ctx *c) { pop_generic(c, true); }

void cmd_llen(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc = eng_obj_get(k.sh, k.h, k.p, k.n, ENG_TYPE_LIST, c->now, &o);
    if (rc == FC_ENOTFOUND)
        resp_int(c->w, 0);
    else if (rc != FC_OK)
        cmd_reply_fc_error(c, rc);
    else
        resp_int(c->w, (int64_t)lst_len(o));
}

/* A Redis index (negative from the end) as a position; false when out of
 * range. */
static bool resolve(int64_t idx, size_t len, size_t *pos)
{
    if (idx < 0)
        idx += (int64_t)len;
    if (idx < 0 || (uint64_t)idx >= len)
        return false;
    *pos = (size_t)idx;
    return true;
}

void cmd_lindex(cmd_ctx *c)
{
    int64_t idx;
    if (!cmd_arg_ll(c, 2, &idx))
        return;
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc = eng_obj_get(k.sh, k.h, k.p, k.n, ENG_TYPE_LIST, c->now, &o);
    size_t pos;
    const uint8_t *e;
    size_t n;
    if (rc == FC_ENOTFOUND)
        resp_null(c->w);
    else if (rc != FC_OK)
        cmd_reply_fc_error(c, rc);
    else if (!resolve(idx, lst_len(o), &pos) || !lst_index(o, pos, &e, &n))
        resp_null(c->w);
    else
        resp_bulk(c->w, e, n);
}

void cmd_lset(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int64_t idx;
    size_t pos;
    int rc = eng_obj_get(k.sh, k.h, k.p, k.n, ENG_TYPE_LIST, c->now, &o);
    if (rc == FC_ENOTFOUND) {
        resp_error(c->w, CMD_ERR_NOKEY);
        return;
    }
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    if (!cmd_arg_ll(c, 2, &idx))
        return;
    if (!resolve(idx, lst_len(o), &pos)) {
        resp_error(c->w, "ERR index out of range");
        return;
    }
    rc = eng_obj_open(k.sh, k.h, k.p, k.n, ENG_TYPE_LIST, false, cmd_now(c),
                      &o);
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    const resp_arg *v = &c->argv[3];
    rc = lst_set(o, pos, v->ptr, v->len);
    eng_op *op = NULL;
    if (rc == FC_OK && eng_obj_logging(k.sh)) {
        op = eng_op_begin(LOP_SET);
        eng_op_arg_i64(op, (int64_t)pos);
        eng_op_arg(op, v->ptr, v->len);
    }
    eng_obj_commit(k.sh, k.h, k.p, k.n, o, rc == FC_OK ? op : NULL);
    if (rc != FC_OK)
        cmd_reply_fc_error(c, rc);
    else
        resp_ok(c->w);
}

/* Redis's range clamp (addListRangeReply, ltrimCommand): false when the
 * range is empty. */
static bool clamp_range(int64_t start, int64_t end, size_t len, size_t *from,
                        size_t *n)
{
    int64_t l = (int64_t)len;
    if (start < 0)
        start += l;
    if (end < 0)
        end += l;
    if (start < 0)
        start = 0;
    if (start > end || start >= l)
        return false;
    if (end >= l)
        end = l - 1;
    *from = (size_t)start;
    *n = (size_t)(end - start + 1);
    return true;
}

void cmd_lrange(cmd_ctx *c)
{
    int64_t start, end;
    if (!cmd_arg_ll(c, 2, &start) || !cmd_arg_ll(c, 3, &end))
        return;
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    size_t from, n;
    int rc = eng_obj_get(k.sh, k.h, k.p, k.n, ENG_TYPE_LIST, c->now, &o);
    if (rc == FC_ENOTFOUND)
        resp_array(c->w, 0);
    else if (rc != FC_OK)
        cmd_reply_fc_error(c, rc);
    else if (!clamp_range(start, end, lst_len(o), &from, &n))
        resp_array(c->w, 0);
    else
        tl_reply_range(c, o, from, n, false);
}

void cmd_ltrim(cmd_ctx *c)
{
    int64_t start, end;
    if (!cmd_arg_ll(c, 2, &start) || !cmd_arg_ll(c, 3, &end))
        return;
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc = eng_obj_open(k.sh, k.h, k.p, k.n, ENG_TYPE_LIST, false,
                          cmd_now(c), &o);
    if (rc == FC_ENOTFOUND) {
        resp_ok(c->w);
        return;
    }
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    size_t len = lst_len(o), from, n, front, back;
    if (clamp_range(start, end, len, &from, &n)) {
        front = from;
        back = len - from - n;
    } else {
        front = len;
        back = 0;
    }
    eng_op *op = NULL;
    if (front + back > 0) {
        lst_del(o, len - back, back);
        lst_del(o, 0, front);
        if (eng_obj_logging(k.sh)) {
            op = eng_op_begin(LOP_TRIM);
            eng_op_arg_i64(op, (int64_t)front);
            eng_op_arg_i64(op, (int64_t)back);
        }
    }
    eng_obj_commit(k.sh, k.h, k.p, k.n, o, op);
    resp_ok(c->w);
}

void cmd_linsert(cmd_ctx *c)
{
    bool after;
    if (cmd_arg_is(&c->argv[2], "after"))
        after = true;
    else if (cmd_arg_is(&c->argv[2], "before"))
        after = false;
    else {
        resp_error(c->w, CMD_ERR_SYNTAX);
        return;
    }
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc = eng_obj_open(k.sh, k.h, k.p, k.n, ENG_TYPE_LIST, false,
                          cmd_now(c), &o);
    if (rc == FC_ENOTFOUND) {
        resp_int(c->w, 0);
        return;
    }
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    const resp_arg *piv = &c->argv[3], *v = &c->argv[4];
    size_t pos = lst_find(o, 0, piv->ptr, piv->len);
    if (pos == SIZE_MAX) {
        eng_obj_commit(k.sh, k.h, k.p, k.n, o, NULL);
        resp_int(c->w, -1);
        return;
    }
    if (after)
        pos++;
    rc = lst_insert(o, pos, v->ptr, v->len);
    eng_op *op = NULL;
    if (rc == FC_OK && eng_obj_logging(k.sh)) {
        op = eng_op_begin(LOP_INSERT);
        eng_op_arg_i64(op, (int64_t)pos);
        eng_op_arg(op, v->ptr, v->len);
    }
    size_t len = lst_len(o);
    eng_obj_commit(k.sh, k.h, k.p, k.n, o, rc == FC_OK ? op : NULL);
    if (rc != FC_OK)
        cmd_reply_fc_error(c, rc);
    else
        resp_int(c->w, (int64_t)len);
}

void cmd_lrem(cmd_ctx *c)
{
    int64_t count;
    if (!cmd_arg_ll(c, 2, &count))
        return;
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc = eng_obj_open(k.sh, k.h, k.p, k.n, ENG_TYPE_LIST, false,
                          cmd_now(c), &o);
    if (rc == FC_ENOTFOUND) {
        resp_int(c->w, 0);
        return;
    }
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    const resp_arg *v = &c->argv[3];
    size_t removed = lst_rem(o, count, v->ptr, v->len);
    eng_op *op = NULL;
    if (removed && eng_obj_logging(k.sh)) {
        op = eng_op_begin(LOP_REM);
        eng_op_arg_i64(op, count);
        eng_op_arg(op, v->ptr, v->len);
    }
    eng_obj_commit(k.sh, k.h, k.p, k.n, o, op);
    resp_int(c->w, (int64_t)removed);
}

/* LPOS from the tail: matches collected per pass of the window, since a
 * pack walks forwards only. */
static void lpos_reply(cmd_ctx *c, const eng_obj *o, const resp_arg *v,
                       int64_t rank, int64_t count, int64_t maxlen)
{
    size_t len = lst_len(o);
    size_t win = maxlen == 0 || (uint64_t)maxlen > len ? len : (size_t)maxlen;
    bool rev = rank < 0;
    uint64_t r = rev ? (uint64_t)(-(rank + 1)) + 1 : (uint64_t)rank;
    size_t cap = 16, nm = 0, *m = malloc(cap * sizeof(size_t));
    if (!m) {
        c->w->out->oom = true;
        return;
    }
    lst_iter it;
    const uint8_t *e;
    size_t n;
    size_t from = rev ? len - win : 0;
    uint64_t want = count == 0 ? UINT64_MAX : (uint64_t)count;
    lst_iter_at(o, from, &it);
    for (size_t pos = from; pos < from + win && lst_iter_next(&it, &e, &n);
         pos++) {
        if (n != v->len || memcmp(e, v->ptr, n) != 0)
            continue;
        if (nm == cap) {
            size_t *b = realloc(m, cap * 2 * sizeof(size_t));
            if (!b) {
                free(m);
                c->w->out->oom = true;
                return;
            }
            m = b;
            cap *= 2;
        }
        m[nm++] = pos;
        /* From the head, enough matches end the walk. */
        if (!rev && nm >= r && (count == -1 || nm - r + 1 >= want))
            break;
    }
    size_t got = 0;
    if (count == -1) {
        if (nm >= r)
            resp_int(c->w, (int64_t)m[rev ? nm - r : r - 1]);
        else
            resp_null(c->w);
        free(m);
        return;
    }
    if (nm >= r)
        got = nm - r + 1 < want ? nm - r + 1 : (size_t)want;
    resp_array(c->w, got);
    for (size_t i = 0; i < got; i++)
        resp_int(c->w, (int64_t)m[rev ? nm - r - i : r - 1 + i]);
    free(m);
}

void cmd_lpos(cmd_ctx *c)
{
    int64_t rank = 1, count = -1, maxlen = 0;
    for (size_t j = 3; j < c->argc; j++) {
        bool more = j + 1 < c->argc;
        if (cmd_arg_is(&c->argv[j], "rank") && more) {
            if (!cmd_arg_ll(c, ++j, &rank))
                return;
            if (rank == 0) {
                resp_error(c->w, "ERR RANK can't be zero: use 1 to start "
                                 "from the first match, 2 from the second "
                                 "... or use negative to start from the end "
                                 "of the list");
                return;
            }
        } else if (cmd_arg_is(&c->argv[j], "count") && more) {
            if (!positive_arg(c, ++j, "ERR COUNT can't be negative", &count))
                return;
        } else if (cmd_arg_is(&c->argv[j], "maxlen") && more) {
            if (!positive_arg(c, ++j, "ERR MAXLEN can't be negative", &maxlen))
                return;
        } else {
            resp_error(c->w, CMD_ERR_SYNTAX);
            return;
        }
    }
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc = eng_obj_get(k.sh, k.h, k.p, k.n, ENG_TYPE_LIST, c->now, &o);
    if (rc == FC_ENOTFOUND) {
        if (count != -1)
            resp_array(c->w, 0);
        else
            resp_null(c->w);
        return;
    }
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    lpos_reply(c, o, &c->argv[2], rank, count, maxlen);
}
