/*
 * t_zset_util.c — score and range parsing with Redis's exact rules, the
 * (member, score) reply shapes, and the key helpers the sorted set
 * commands share (t_zset_int.h).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands/t_zset_int.h"

/* strtod wants a NUL: a copy on the stack, or the heap for long text. */
typedef struct numtxt {
    char local[128];
    char *p;
} numtxt;

static bool numtxt_init(numtxt *t, const char *p, size_t n)
{
    t->p = n < sizeof(t->local) ? t->local : malloc(n + 1);
    if (!t->p)
        return false;
    memcpy(t->p, p, n);
    t->p[n] = '\0';
    return true;
}

static void numtxt_done(numtxt *t)
{
    if (t->p != t->local)
        free(t->p);
}

/* Most scores are short integers, exact as doubles: their digits give
 * what strtod would (-0 included) at a tenth of its cost. */
static bool small_int(const char *p, size_t n, double *out)
{
    size_t i = p[0] == '-' || p[0] == '+';
    if (n == i || n - i > 15) /* below 2^53: exact */
        return false;
    uint64_t v = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)p[i] - '0';
        if (d > 9)
            return false;
        v = v * 10 + d;
    }
    double x = (double)v;
    *out = p[0] == '-' ? -x : x;
    return true;
}

bool zc_parse_double(const resp_arg *a, double *out)
{
    if (a->len && small_int(a->ptr, a->len, out))
        return true;
    numtxt t;
    char *end;
    if (a->len == 0 || isspace((unsigned char)a->ptr[0]) ||
        !numtxt_init(&t, a->ptr, a->len))
        return false;
    errno = 0;
    double v = strtod(t.p, &end);
    bool ok = (size_t)(end - t.p) == a->len &&
              !(errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL ||
                                    fpclassify(v) == FP_ZERO)) &&
              !isnan(v);
    numtxt_done(&t);
    if (ok)
        *out = v;
    return ok;
}

bool zc_arg_double(cmd_ctx *c, size_t i, double *out, const char *msg)
{
    if (zc_parse_double(&c->argv[i], out))
        return true;
    resp_error(c->w, msg ? msg : CMD_ERR_NOTFLOAT);
    return false;
}

/* One side of a score range: "(" makes it exclusive; the rest is strtod
 * to the end, NaN refused (Redis does not check ERANGE here). */
static bool parse_bound(const resp_arg *a, double *v, bool *ex)
{
    const char *p = a->ptr;
    size_t n = a->len;
    numtxt t;
    char *end;
    *ex = n > 0 && p[0] == '(';
    if (*ex)
        p++, n--;
    if (!numtxt_init(&t, p, n))
        return false;
    *v = strtod(t.p, &end);
    /* As Redis: the text ends at the first NUL ("" reads as 0). */
    bool ok = *end == '\0' && !isnan(*v);
    numtxt_done(&t);
    return ok;
}

bool zc_parse_srange(const resp_arg *min, const resp_arg *max, zs_srange *r)
{
    return parse_bound(min, &r->min, &r->minex) &&
           parse_bound(max, &r->max, &r->maxex);
}

static bool parse_lex(const resp_arg *a, const char **p, size_t *n, int *kind)
{
    if (a->len == 0)
        return false;
    switch (a->ptr[0]) {
    case '+':
        if (a->len != 1)
            return false;
        *kind = ZL_POS;
        break;
    case '-':
        if (a->len != 1)
            return false;
        *kind = ZL_NEG;
        break;
    case '(':
    case '[':
        *kind = a->ptr[0] == '(' ? ZL_EXCL : ZL_INCL;
        *p = a->ptr + 1;
        *n = a->len - 1;
        return true;
    default:
        return false;
    }
    *p = NULL;
    *n = 0;
    return true;
}

bool zc_parse_lrange(const resp_arg *min, const resp_arg *max, zs_lrange *r)
{
    return parse_lex(min, &r->min, &r->minn, &r->mink) &&
           parse_lex(max, &r->max, &r->maxn, &r->maxk);
}

int zc_get(cmd_ctx *c, const cmd_key *k, eng_obj **o)
{
    int rc = eng_obj_get(k->sh, k->h, k->p, k->n, ENG_TYPE_ZSET, c->now, o);
    if (rc == FC_EWRONGTYPE)
        resp_error(c->w, CMD_ERR_WRONGTYPE);
    return rc;
}

void zc_reply_list_header(cmd_ctx *c, size_t n, bool withscores)
{
    resp_array(c->w, withscores && c->w->proto < 3 ? 2 * n : n);
}

void zc_reply_elem(cmd_ctx *c, const char *m, size_t n, double score,
                   bool withscores)
{
    if (withscores && c->w->proto >= 3)
        resp_array(c->w, 2);
    resp_bulk(c->w, m, n);
    if (withscores)
        resp_double(c->w, score);
}

void zc_reply_ranks(cmd_ctx *c, const eng_obj *o, size_t rank, size_t count,
                    bool rev, bool withscores)
{
    zs_iter it;
    const char *m;
    size_t n;
    double s;
    zc_reply_list_header(c, count, withscores);
    zs_iter_init(&it, o, rank, rev);
    for (size_t i = 0; i < count && zs_iter_next(&it, &m, &n, &s); i++)
        zc_reply_elem(c, m, n, s, withscores);
    zs_iter_done(&it);
}

void zc_log_members(eng_op *op, const eng_obj *o, size_t rank, size_t count)
{
    zs_iter it;
    const char *m;
    size_t n;
    double s;
    if (!op)
        return;
    zs_iter_init(&it, o, rank, false);
    for (size_t i = 0; i < count && zs_iter_next(&it, &m, &n, &s); i++)
        eng_op_arg(op, m, n);
    zs_iter_done(&it);
}

void zc_del_key(cmd_ctx *c, const cmd_key *k)
{
    (void)eng_del(k->sh, k->h, k->p, k->n, cmd_now(c), NULL);
}

bool zc_store(cmd_ctx *c, const cmd_key *k, eng_obj *o)
{
    int rc = eng_set_obj(k->sh, k->h, k->p, k->n, o, 0, cmd_now(c));
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return false;
    }
    return true;
}
