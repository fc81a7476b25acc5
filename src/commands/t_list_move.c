/*
 * t_list_move.c — LMOVE, RPOPLPUSH, LMPOP, and the blocking forms' one
 * attempt (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP: cmd_list_block).
 *
 * The blocking commands in this table are their non-blocking behaviour,
 * which is what Redis does where a client may not block (inside MULTI):
 * pop when a key has elements, else the empty reply. The server's
 * blocking layer (src/server/blocking.c) wraps the same attempt and, when
 * it found nothing, parks the client until a write touches a key.
 *
 * A move touches two keys, possibly on two shards: it logs a pop on the
 * source and a push on the destination, two records.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands/cmd_fns.h"
#include "commands/t_list_int.h"

/* Moves one element from src's `from` end to dst's `to` end (the keys at
 * argv[si], argv[di]); replies the element, or null when src is absent. */
static void move_generic(cmd_ctx *c, size_t si, size_t di, bool from_tail,
                         bool to_tail)
{
    cmd_key s = cmd_key_at(c, si), d = cmd_key_at(c, di);
    eng_obj *so, *dobj;
    int rc = eng_obj_get(s.sh, s.h, s.p, s.n, ENG_TYPE_LIST, c->now, &so);
    if (rc == FC_ENOTFOUND) {
        resp_null(c->w);
        return;
    }
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    bool same = s.n == d.n && memcmp(s.p, d.p, s.n) == 0;
    if (!same) {
        rc = eng_obj_get(d.sh, d.h, d.p, d.n, ENG_TYPE_LIST, c->now, &dobj);
        if (rc == FC_EWRONGTYPE) {
            cmd_reply_fc_error(c, rc);
            return;
        }
        /* dst first: making room for it may evict; src is opened after,
         * without creating, so its object is the one we change. */
        rc = eng_obj_open(d.sh, d.h, d.p, d.n, ENG_TYPE_LIST, true,
                          cmd_now(c), &dobj);
        if (rc != FC_OK) {
            cmd_reply_fc_error(c, rc);
            return;
        }
    }
    rc = eng_obj_open(s.sh, s.h, s.p, s.n, ENG_TYPE_LIST, false, cmd_now(c),
                      &so);
    if (rc != FC_OK) { /* evicted while making room for dst */
        if (!same)
            eng_obj_commit(d.sh, d.h, d.p, d.n, dobj, NULL);
        resp_null(c->w);
        return;
    }
    if (same)
        dobj = so;
    size_t len = lst_len(so);
    const uint8_t *e;
    size_t n;
    lst_index(so, from_tail ? len - 1 : 0, &e, &n);
    uint8_t small[256], *val = n <= sizeof(small) ? small : malloc(n);
    if (!val) {
        eng_obj_commit(s.sh, s.h, s.p, s.n, so, NULL);
        if (!same)
            eng_obj_commit(d.sh, d.h, d.p, d.n, dobj, NULL);
        cmd_reply_fc_error(c, FC_ENOMEM);
        return;
    }
    memcpy(val, e, n);
    if (same && len == 1) {
        /* Rotating a one-element list changes nothing. */
        eng_obj_commit(s.sh, s.h, s.p, s.n, so, NULL);
    } else {
        /* Push first: a failed push leaves both lists as they were. */
        rc = lst_push(dobj, to_tail, val, n);
        if (rc != FC_OK) {
            eng_obj_commit(s.sh, s.h, s.p, s.n, so, NULL);
            if (!same)
                eng_obj_commit(d.sh, d.h, d.p, d.n, dobj, NULL);
            if (val != small)
                free(val);
            cmd_reply_fc_error(c, rc);
            return;
        }
        size_t pos = from_tail ? lst_len(so) - 1 : 0;
        if (same && to_tail == from_tail) {
            /* pushed at the end we pop from: the old element moved by one */
            pos = from_tail ? lst_len(so) - 2 : 1;
        } else if (same && !to_tail) {
            pos = lst_len(so) - 1; /* from tail, pushed at head */
        } else if (same) {
            pos = 0; /* from head, pushed at tail */
        }
        lst_del(so, pos, 1);
        /* Records: a pop on src, a push on dst (for a rotation, both on
         * the one key, in the order that replays to the same list). */
        eng_op *op = eng_obj_logging(s.sh) ? eng_op_begin(LOP_POP) : NULL;
        if (op) {
            eng_op_arg(op, from_tail ? "1" : "0", 1);
            eng_op_arg_i64(op, 1);
        }
        if (same && op) {
            /* replay order: pop then push; the state after both equals
             * ours whichever order we applied them in */
            eng_obj_commit(s.sh, s.h, s.p, s.n, so, op);
            op = eng_op_begin(LOP_PUSH);
            eng_op_arg(op, to_tail ? "1" : "0", 1);
            eng_op_arg(op, val, n);
            eng_obj_commit(s.sh, s.h, s.p, s.n, so, op);
        } else if (same) {
            eng_obj_commit(s.sh, s.h, s.p, s.n, so, NULL);
        } else {
            eng_obj_commit(s.sh, s.h, s.p, s.n, so, op);
            op = eng_obj_logging(d.sh) ? eng_op_begin(LOP_PUSH) : NULL;
            if (op) {
                eng_op_arg(op, to_tail ? "1" : "0", 1);
                eng_op_arg(op, val, n);
            }
            eng_obj_commit(d.sh, d.h, d.p, d.n, dobj, op);
        }
    }
    resp_bulk(c->w, val, n);
    if (val != small)
        free(val);
}

void cmd_lmove(cmd_ctx *c)
{
    bool from, to;
    if (!tl_side(c, 3, &from) || !tl_side(c, 4, &to))
        return;
    move_generic(c, 1, 2, from, to);
}

void cmd_rpoplpush(cmd_ctx *c)
{
    move_generic(c, 1, 2, true, false);
}

/* LMPOP/BLMPOP arguments: numkeys at argv[at], then the keys, the side
 * and COUNT (Redis's lmpopGenericCommand order). */
static bool mpop_args(cmd_ctx *c, size_t at, size_t *nkeys, bool *tail,
                      int64_t *count)
{
    int64_t nk;
    if (!cmd_parse_ll(c->argv[at].ptr, c->argv[at].len, &nk) || nk < 1) {
        resp_error(c->w, "ERR numkeys should be greater than 0");
        return false;
    }
    if ((uint64_t)nk >= c->argc - at) {
        resp_error(c->w, CMD_ERR_SYNTAX);
        return false;
    }
    size_t wi = at + (size_t)nk + 1;
    if (wi >= c->argc) {
        resp_error(c->w, CMD_ERR_SYNTAX);
        return false;
    }
    if (!tl_side(c, wi, tail))
        return false;
    *count = -1;
    for (size_t j = wi + 1; j < c->argc; j++) {
        if (*count == -1 && cmd_arg_is(&c->argv[j], "count") &&
            j + 1 < c->argc) {
            j++;
            if (!cmd_parse_ll(c->argv[j].ptr, c->argv[j].len, count) ||
                *count < 1) {
                resp_error(c->w, "ERR count should be greater than 0");
                return false;
            }
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

/* Pops from the first non-empty key among argv[first..first+nkeys): count
 * < 0 = BLPOP's [key, element] reply, else LMPOP's [key, [elements]].
 * CMD_BLK_EMPTY (nothing written) when every key is absent or, on a retry,
 * holds another type. */
static int pop_first(cmd_ctx *c, size_t first, size_t nkeys, bool tail,
                     int64_t count, bool retry)
{
    for (size_t i = 0; i < nkeys; i++) {
        cmd_key k = cmd_key_at(c, first + i);
        eng_obj *o;
        int rc = eng_obj_open(k.sh, k.h, k.p, k.n, ENG_TYPE_LIST, false,
                              cmd_now(c), &o);
        if (rc == FC_ENOTFOUND || (retry && rc == FC_EWRONGTYPE))
            continue;
        if (rc != FC_OK) {
            cmd_reply_fc_error(c, rc);
            return CMD_BLK_DONE;
        }
        size_t len = lst_len(o);
        size_t n = count < 0 ? 1 : (uint64_t)count > len ? len : (size_t)count;
        resp_array(c->w, 2);
        resp_bulk(c->w, k.p, k.n);
        if (count < 0) {
            const uint8_t *e;
            size_t elen;
            lst_index(o, tail ? len - 1 : 0, &e, &elen);
            resp_bulk(c->w, e, elen);
        } else {
            tl_reply_range(c, o, tail ? len - n : 0, n, tail);
        }
        tl_pop_commit(c, &k, o, tail, n);
        return CMD_BLK_DONE;
    }
    return CMD_BLK_EMPTY;
}

void cmd_lmpop(cmd_ctx *c)
{
    size_t nkeys;
    bool tail;
    int64_t count;
    if (!mpop_args(c, 1, &nkeys, &tail, &count))
        return;
    if (pop_first(c, 2, nkeys, tail, count, false) == CMD_BLK_EMPTY)
        resp_null_array(c->w);
}

/* Which blocking command argv is (by name). */
enum blk_kind { BK_BLPOP, BK_BRPOP, BK_BLMOVE, BK_BRPOPLPUSH, BK_BLMPOP };

static enum blk_kind kind_of(const cmd_ctx *c)
{
    const resp_arg *a = &c->argv[0];
    if (cmd_arg_is(a, "blpop"))
        return BK_BLPOP;
    if (cmd_arg_is(a, "brpop"))
        return BK_BRPOP;
    if (cmd_arg_is(a, "blmove"))
        return BK_BLMOVE;
    if (cmd_arg_is(a, "brpoplpush"))
        return BK_BRPOPLPUSH;
    return BK_BLMPOP;
}

int cmd_list_block(cmd_ctx *c, bool retry, int64_t *timeout_ms)
{
    enum blk_kind kd = kind_of(c);
    bool from = false, to = false, tail = kd == BK_BRPOP;
    size_t nkeys;
    int64_t count = -1;
    switch (kd) {
    case BK_BLPOP:
    case BK_BRPOP:
        if (!cmd_arg_timeout(c, c->argc - 1, timeout_ms))
            return CMD_BLK_DONE;
        return pop_first(c, 1, c->argc - 2, tail, -1, retry);
    case BK_BLMPOP:
        if (!mpop_args(c, 2, &nkeys, &tail, &count) ||
            !cmd_arg_timeout(c, 1, timeout_ms))
            return CMD_BLK_DONE;
        return pop_first(c, 3, nkeys, tail, count, retry);
    case BK_BLMOVE:
        if (!tl_side(c, 3, &from) || !tl_side(c, 4, &to) ||
            !cmd_arg_timeout(c, 5, timeout_ms))
            return CMD_BLK_DONE;
        break;
    case BK_BRPOPLPUSH:
        if (!cmd_arg_timeout(c, 3, timeout_ms))
            return CMD_BLK_DONE;
        from = true;
        to = false;
        break;
    }
    cmd_key s = cmd_key_at(c, 1);
    eng_obj *so;
    int rc = eng_obj_get(s.sh, s.h, s.p, s.n, ENG_TYPE_LIST, c->now, &so);
    if (rc == FC_ENOTFOUND || (retry && rc == FC_EWRONGTYPE))
        return CMD_BLK_EMPTY;
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return CMD_BLK_DONE;
    }
    move_generic(c, 1, 2, from, to);
    return CMD_BLK_DONE;
}

void cmd_list_block_empty(cmd_ctx *c, bool timed_out)
{
    enum blk_kind kd = kind_of(c);
    /* Redis: BLMOVE in MULTI answers a null bulk, every timeout a null
     * array. */
    if (!timed_out && (kd == BK_BLMOVE || kd == BK_BRPOPLPUSH))
        resp_null(c->w);
    else
        resp_null_array(c->w);
}

/* The table's rows: the non-blocking behaviour (see the top). */
static void block_once(cmd_ctx *c)
{
    int64_t ms;
    if (cmd_list_block(c, false, &ms) == CMD_BLK_EMPTY)
        cmd_list_block_empty(c, false);
}

void cmd_blpop(cmd_ctx *c) { block_once(c); }
void cmd_brpop(cmd_ctx *c) { block_once(c); }
void cmd_blmove(cmd_ctx *c) { block_once(c); }
void cmd_brpoplpush(cmd_ctx *c) { block_once(c); }
void cmd_blmpop(cmd_ctx *c) { block_once(c); }
