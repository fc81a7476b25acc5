/*
 * t_zset_range.c — ZRANGE with BYSCORE / BYLEX / REV / LIMIT /
 * WITHSCORES, its older forms (ZREVRANGE, Z[REV]RANGEBYSCORE,
 * Z[REV]RANGEBYLEX), ZRANGESTORE, and ZREMRANGEBYRANK / BYSCORE / BYLEX.
 *
 * One parser, Redis's zrangeGenericCommand, turns every form into a rank
 * window [first, first + count) walked up or down; the engine gives ranks
 * for score and lex bounds in O(log n). The removals log the members they
 * remove (ZOP_REM).
 */
#include "commands/cmd_fns.h"
#include "commands/t_zset_int.h"

typedef struct zrange_req {
    int type; /* ZR_RANK, ZR_SCORE, ZR_LEX */
    bool rev;
    bool withscores;
    int64_t offset, limit; /* limit -1: none */
    int64_t start, end;    /* ZR_RANK */
    zs_srange sr;
    zs_lrange lr;
} zrange_req;

/* Parses argv[key + 1 ..]: false when an error was replied. type and dir
 * are the command's (ZR_AUTO / -1: the options may set them). */
static bool zrange_parse(cmd_ctx *c, size_t key, bool store, int type, int dir,
                         zrange_req *q)
{
    size_t minidx = key + 1, maxidx = key + 2;
    q->withscores = false;
    q->offset = 0;
    q->limit = -1;
    for (size_t j = key + 3; j < c->argc; j++) {
        size_t left = c->argc - j - 1;
        const resp_arg *a = &c->argv[j];
        if (!store && cmd_arg_is(a, "withscores")) {
            q->withscores = true;
        } else if (cmd_arg_is(a, "limit") && left >= 2) {
            if (!cmd_arg_ll(c, j + 1, &q->offset) ||
                !cmd_arg_ll(c, j + 2, &q->limit))
                return false;
            j += 2;
        } else if (dir == -1 && cmd_arg_is(a, "rev")) {
            dir = 1;
        } else if (type == ZR_AUTO && cmd_arg_is(a, "bylex")) {
            type = ZR_LEX;
        } else if (type == ZR_AUTO && cmd_arg_is(a, "byscore")) {
            type = ZR_SCORE;
        } else {
            resp_error(c->w, CMD_ERR_SYNTAX);
            return false;
        }
    }
    q->rev = dir == 1;
    q->type = type == ZR_AUTO ? ZR_RANK : type;
    if (q->limit != -1 && q->type == ZR_RANK) {
        resp_error(c->w, "ERR syntax error, LIMIT is only supported in "
                         "combination with either BYSCORE or BYLEX");
        return false;
    }
    if (q->withscores && q->type == ZR_LEX) {
        resp_error(c->w, "ERR syntax error, WITHSCORES not supported in "
                         "combination with BYLEX");
        return false;
    }
    if (q->rev && q->type != ZR_RANK) { /* given as max, min */
        size_t t = minidx;
        minidx = maxidx;
        maxidx = t;
    }
    switch (q->type) {
    case ZR_RANK:
        return cmd_arg_ll(c, minidx, &q->start) &&
               cmd_arg_ll(c, maxidx, &q->end);
    case ZR_SCORE:
        if (!zc_parse_srange(&c->argv[minidx], &c->argv[maxidx], &q->sr)) {
            resp_error(c->w, ZERR_RANGE_FLOAT);
            return false;
        }
        return true;
    default:
        if (!zc_parse_lrange(&c->argv[minidx], &c->argv[maxidx], &q->lr)) {
            resp_error(c->w, ZERR_RANGE_LEX);
            return false;
        }
        return true;
    }
}

/* Redis's start/end normalization of a rank range: false when empty. */
static bool rank_window(int64_t start, int64_t end, size_t len, size_t *first,
                        size_t *count)
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
    *first = (size_t)start;
    *count = (size_t)(end - start + 1);
    return true;
}

/* The window in walk order: the rank to start at (ascending ranks; the
 * walk goes down from it when q->rev) and how many. */
static void zrange_window(const eng_obj *o, const zrange_req *q, size_t *from,
                          size_t *count)
{
    size_t len = zs_len(o), first, end;
    *count = 0;
    *from = 0;
    if (q->type == ZR_RANK) {
        size_t f, n;
        if (!rank_window(q->start, q->end, len, &f, &n))
            return;
        *from = q->rev ? len - 1 - f : f;
        *count = n;
        return;
    }
    if (q->type == ZR_LEX) {
        zs_lex_window(o, &q->lr, q->rev, q->offset, q->limit, from, count);
        return;
    }
    first = zs_score_first(o, &q->sr);
    end = zs_score_end(o, &q->sr);
    if (first >= end || q->offset < 0 || (uint64_t)q->offset >= end - first)
        return;
    size_t n = end - first - (size_t)q->offset;
    if (q->limit >= 0 && (uint64_t)q->limit < n)
        n = (size_t)q->limit;
    *from = q->rev ? end - 1 - (size_t)q->offset : first + (size_t)q->offset;
    *count = n;
}

static void zrange_generic(cmd_ctx *c, size_t key, int type, int dir)
{
    zrange_req q;
    if (!zrange_parse(c, key, false, type, dir, &q))
        return;
    cmd_key k = cmd_key_at(c, key);
    eng_obj *o;
    int rc = zc_get(c, &k, &o);
    if (rc == FC_EWRONGTYPE)
        return;
    if (rc == FC_ENOTFOUND) {
        resp_array(c->w, 0);
        return;
    }
    size_t from, count;
    zrange_window(o, &q, &from, &count);
    zc_reply_ranks(c, o, from, count, q.rev, q.withscores);
}

void cmd_zrange(cmd_ctx *c)
{
    zrange_generic(c, 1, ZR_AUTO, -1);
}

void cmd_zrevrange(cmd_ctx *c)
{
    zrange_generic(c, 1, ZR_RANK, 1);
}

void cmd_zrangebyscore(cmd_ctx *c)
{
    zrange_generic(c, 1, ZR_SCORE, 0);
}

void cmd_zrevrangebyscore(cmd_ctx *c)
{
    zrange_generic(c, 1, ZR_SCORE, 1);
}

void cmd_zrangebylex(cmd_ctx *c)
{
    zrange_generic(c, 1, ZR_LEX, 0);
}

void cmd_zrevrangebylex(cmd_ctx *c)
{
    zrange_generic(c, 1, ZR_LEX, 1);
}

void cmd_zrangestore(cmd_ctx *c)
{
    zrange_req q;
    if (!zrange_parse(c, 2, true, ZR_AUTO, -1, &q))
        return;
    cmd_key src = cmd_key_at(c, 2), dst = cmd_key_at(c, 1);
    eng_obj *o;
    int rc = zc_get(c, &src, &o);
    if (rc == FC_EWRONGTYPE)
        return;
    size_t from = 0, count = 0;
    if (rc == FC_OK)
        zrange_window(o, &q, &from, &count);
    if (count == 0) {
        zc_del_key(c, &dst);
        resp_int(c->w, 0);
        return;
    }
    eng_obj *res = zs_new_tree(); /* packed at the end when it fits */
    if (!res) {
        resp_error(c->w, CMD_ERR_OOM);
        return;
    }
    zs_iter it;
    const char *m;
    size_t n;
    double s;
    zs_iter_init(&it, o, from, q.rev);
    for (size_t i = 0; i < count && zs_iter_next(&it, &m, &n, &s); i++) {
        unsigned out;
        double ns;
        if (zs_add(res, m, n, s, 0, &out, &ns) != FC_OK) {
            zs_iter_done(&it);
            eng_obj_free(res);
            resp_error(c->w, CMD_ERR_OOM);
            return;
        }
    }
    zs_iter_done(&it);
    zs_fit(res);
    if (zc_store(c, &dst, res))
        resp_int(c->w, (int64_t)count);
}

/* --- removals --- */

static void zremrange(cmd_ctx *c, int type)
{
    zrange_req q = {.type = type, .limit = -1};
    bool ok;
    if (type == ZR_RANK) {
        ok = cmd_arg_ll(c, 2, &q.start) && cmd_arg_ll(c, 3, &q.end);
    } else if (type == ZR_SCORE) {
        ok = zc_parse_srange(&c->argv[2], &c->argv[3], &q.sr);
        if (!ok)
            resp_error(c->w, ZERR_RANGE_FLOAT);
    } else {
        ok = zc_parse_lrange(&c->argv[2], &c->argv[3], &q.lr);
        if (!ok)
            resp_error(c->w, ZERR_RANGE_LEX);
    }
    if (!ok)
        return;
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
    size_t from, count;
    zrange_window(o, &q, &from, &count);
    eng_op *op = NULL;
    if (count) {
        op = eng_obj_logging(k.sh) ? eng_op_begin(ZOP_REM) : NULL;
        zc_log_members(op, o, from, count);
        zs_del_range(o, from, count);
    }
    eng_obj_commit(k.sh, k.h, k.p, k.n, o, op);
    resp_int(c->w, (int64_t)count);
}

void cmd_zremrangebyrank(cmd_ctx *c)
{
    zremrange(c, ZR_RANK);
}

void cmd_zremrangebyscore(cmd_ctx *c)
{
    zremrange(c, ZR_SCORE);
}

void cmd_zremrangebylex(cmd_ctx *c)
{
    zremrange(c, ZR_LEX);
}
