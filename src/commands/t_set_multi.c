/*
 * t_set_multi.c — the multi-key set commands: SINTER SINTERCARD
 * SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE.
 *
 * Keys may live on several workers' shards: the router then runs the
 * command with every other worker parked, so each key is read on its own
 * shard (cmd_key_at). Every source is looked up and type-checked before
 * any work, as Redis does (a WRONGTYPE anywhere wins over a missing key).
 * A result is always built as a new object, then stored with eng_set_obj
 * (one whole-value record) or, when empty, the destination is deleted:
 * the destination may be one of the sources, whose object dies when the
 * key is overwritten.
 */
#include <stdlib.h>
#include <string.h>

#include "commands/cmd_fns.h"
#include "commands/cmd_util.h"
#include "commands/t_set_util.h"
#include "engine/obj_set.h"

enum set_op { OP_INTER, OP_UNION, OP_DIFF };

/* The sets at argv[first..first+n), into a new array (NULL entries:
 * absent keys). NULL when WRONGTYPE or OOM was replied. */
static eng_obj **read_sets(cmd_ctx *c, size_t first, size_t n, bool *missing)
{
    eng_obj **sets = calloc(n, sizeof(*sets));
    *missing = false;
    if (!sets) {
        resp_error(c->w, CMD_ERR_OOM);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!set_read(c, first + i, &sets[i])) {
            free(sets);
            return NULL;
        }
        *missing = *missing || !sets[i];
    }
    return sets;
}

static int by_size(const void *a, const void *b)
{
    size_t x = sobj_len(*(eng_obj *const *)a);
    size_t y = sobj_len(*(eng_obj *const *)b);
    return (x > y) - (x < y);
}

struct sink {
    eng_obj *out; /* NULL: only count */
    size_t n, limit;
    int rc;
};

static void sink_add(struct sink *s, const uint8_t *m, size_t ml)
{
    bool added = true;
    if (s->out && s->rc == FC_OK)
        s->rc = sobj_add(s->out, m, ml, &added);
    s->n += added;
}

/* Runs op over sets[0..n) (none absent for OP_INTER) into s. */
static void compute(enum set_op op, eng_obj **sets, size_t n, struct sink *s)
{
    sobj_it it = {0};
    const uint8_t *m;
    size_t ml;
    if (op == OP_UNION) {
        for (size_t i = 0; i < n && s->rc == FC_OK; i++) {
            memset(&it, 0, sizeof(it));
            while (sets[i] && sobj_next(sets[i], &it, &m, &ml))
                sink_add(s, m, ml);
        }
        return;
    }
    if (op == OP_INTER) /* walk the smallest, probe the others */
        qsort(sets, n, sizeof(*sets), by_size);
    if (!sets[0])
        return;
    while (sobj_next(sets[0], &it, &m, &ml) && s->rc == FC_OK) {
        bool keep = true;
        for (size_t i = 1; i < n && keep; i++) {
            if (op == OP_INTER)
                keep = sets[i] == sets[0] || sobj_has(sets[i], m, ml);
            else
                keep = !sets[i] || !sobj_has(sets[i], m, ml);
        }
        if (keep) {
            sink_add(s, m, ml);
            if (s->limit && s->n >= s->limit)
                return;
        }
    }
}

/* The result of op over argv[first..argc) as a new object; NULL when an
 * error was replied. An absent key in an intersection gives an empty set
 * without looking further (Redis does the same). */
static eng_obj *run(cmd_ctx *c, enum set_op op, size_t first)
{
    bool missing;
    size_t n = c->argc - first;
    eng_obj **sets = read_sets(c, first, n, &missing);
    if (!sets)
        return NULL;
    struct sink s = {sobj_new(), 0, 0, FC_OK};
    if (!s.out)
        s.rc = FC_ENOMEM;
    else if (!(op == OP_INTER && missing))
        compute(op, sets, n, &s);
    free(sets);
    if (s.rc != FC_OK) {
        eng_obj_free(s.out);
        resp_error(c->w, CMD_ERR_OOM);
        return NULL;
    }
    return s.out;
}

static void reply_op(cmd_ctx *c, enum set_op op)
{
    eng_obj *r = run(c, op, 1);
    if (!r)
        return;
    set_reply_members(c, r);
    eng_obj_free(r);
}

/* Stores op over argv[2..) at argv[1]: replaces whatever it held (and
 * its TTL), or deletes it when the result is empty. */
static void store_op(cmd_ctx *c, enum set_op op)
{
    eng_obj *r = run(c, op, 2);
    if (!r)
        return;
    cmd_key d = cmd_key_at(c, 1);
    size_t n = sobj_len(r);
    if (n == 0) {
        eng_obj_free(r);
        eng_del(d.sh, d.h, d.p, d.n, cmd_now(c), NULL);
        resp_int(c->w, 0);
        return;
    }
    int rc = eng_set_obj(d.sh, d.h, d.p, d.n, r, 0, cmd_now(c));
    if (rc != FC_OK)
        cmd_reply_fc_error(c, rc);
    else
        resp_int(c->w, (int64_t)n);
}

void cmd_sinter(cmd_ctx *c)
{
    reply_op(c, OP_INTER);
}

void cmd_sunion(cmd_ctx *c)
{
    reply_op(c, OP_UNION);
}

void cmd_sdiff(cmd_ctx *c)
{
    reply_op(c, OP_DIFF);
}

void cmd_sinterstore(cmd_ctx *c)
{
    store_op(c, OP_INTER);
}

void cmd_sunionstore(cmd_ctx *c)
{
    store_op(c, OP_UNION);
}

void cmd_sdiffstore(cmd_ctx *c)
{
    store_op(c, OP_DIFF);
}

/* SINTERCARD numkeys key [key ...] [LIMIT limit] */
void cmd_sintercard(cmd_ctx *c)
{
    int64_t nk, limit = 0;
    if (!cmd_parse_ll(c->argv[1].ptr, c->argv[1].len, &nk) || nk < 1) {
        resp_error(c->w, "ERR numkeys should be greater than 0");
        return;
    }
    if ((uint64_t)nk > c->argc - 2) {
        resp_error(c->w,
                   "ERR Number of keys can't be greater than number of args");
        return;
    }
    for (size_t i = 2 + (size_t)nk; i < c->argc; i++) {
        if (cmd_arg_is(&c->argv[i], "limit") && i + 1 < c->argc) {
            i++;
            if (!cmd_parse_ll(c->argv[i].ptr, c->argv[i].len, &limit) ||
                limit < 0) {
                resp_error(c->w, "ERR LIMIT can't be negative");
                return;
            }
        } else {
            resp_error(c->w, CMD_ERR_SYNTAX);
            return;
        }
    }
    bool missing;
    eng_obj **sets = read_sets(c, 2, (size_t)nk, &missing);
    if (!sets)
        return;
    struct sink s = {NULL, 0, (size_t)limit, FC_OK};
    if (!missing)
        compute(OP_INTER, sets, (size_t)nk, &s);
    free(sets);
    resp_int(c->w, (int64_t)s.n);
}
