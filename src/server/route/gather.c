/*
 * gather.c — requests over several workers: split commands (one part per
 * owner: argv[0], any arguments before the first or after the last key,
 * and the owner's key groups in input order, merged by the command's split
 * rule) and srv_every (one visit per worker, merged by the command's
 * function), once all parts are back.
 *
 * The local part runs first and inline, then the remote ones are sent: the
 * slot can therefore only complete (and merge) after the local part is in.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "server/route/route.h"

void srv_gather_free(srv_gather *g)
{
    if (!g)
        return;
    if (g->part)
        for (uint32_t i = 0; i < g->nworkers; i++)
            fc_buf_free(&g->part[i]);
    free(g->part);
    free(g->group_owner);
    free(g->arg);
    free(g);
}

typedef struct split_plan {
    const resp_arg *argv;
    size_t argc, first, last, step;
    size_t *count;  /* [W] key groups per owner */
    size_t *bytes;  /* [W] bytes of those groups */
    size_t fixed_n; /* arguments every part carries */
    size_t fixed_bytes;
} split_plan;

/* Calls put(arg) for owner o's sub-argv, in order. */
static size_t plan_args(const split_plan *p, const srv_gather *g, uint32_t o,
                        resp_arg *out)
{
    size_t n = 0;
    for (size_t i = 0; i < p->first; i++)
        out[n++] = p->argv[i];
    for (size_t gi = 0; gi < g->ngroups; gi++) {
        if (g->group_owner[gi] != o)
            continue;
        size_t k = p->first + gi * p->step;
        for (size_t j = 0; j < p->step; j++)
            out[n++] = p->argv[k + j];
    }
    for (size_t i = p->last + p->step; i < p->argc; i++)
        out[n++] = p->argv[i];
    return n;
}

static bool grow_sub(srv_router *rt, size_t n)
{
    if (rt->sub_cap >= n)
        return true;
    resp_arg *a = realloc(rt->sub_argv, n * sizeof(*a));
    if (!a)
        return false;
    rt->sub_argv = a;
    rt->sub_cap = n;
    return true;
}

static void send_part(const srv_req *r, conn_slot *slot, const split_plan *p,
                      uint32_t o, size_t sub_argc)
{
    srv_router *rt = r->rt;
    srv_gather *g = slot->g;
    srv_msg *m = NULL;
    if (grow_sub(rt, sub_argc))
        m = srv_msg_alloc(r->cmd, sub_argc, p->fixed_bytes + p->bytes[o]);
    if (m) {
        size_t n = plan_args(p, g, o, rt->sub_argv);
        char *dst = (char *)(m->argv + sub_argc);
        for (size_t i = 0; i < n; i++)
            dst = srv_msg_push(m, dst, &rt->sub_argv[i]);
        m->slot = slot;
        m->origin = rt->id;
        m->part = o;
        m->proto = (uint8_t)r->wr->proto;
        if (srv_msg_send(rt, o, m) == 0)
            return;
        free(m);
    }
    resp_writer wr = {.out = &g->part[o], .proto = r->wr->proto};
    srv_reply_oom(&wr);
    conn_slot_part_done(slot);
}

static srv_gather *gather_new(const cmd_def *d, uint32_t nw, size_t ng,
                              int proto)
{
    srv_gather *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->rule = d->split;
    g->proto = (uint8_t)proto;
    g->nworkers = nw;
    g->ngroups = ng;
    g->group_owner = malloc(ng * sizeof(*g->group_owner));
    g->part = calloc(nw, sizeof(*g->part));
    if (!g->group_owner || !g->part) {
        srv_gather_free(g);
        return NULL;
    }
    return g;
}

void srv_scatter(const srv_req *r, size_t first, size_t last, size_t step)
{
    srv_router *rt = r->rt;
    const resp_arg *argv = r->argv;
    size_t argc = r->argc;
    uint32_t nw = rt->mesh->nworkers, me = rt->id;
    split_plan p = {
        .argv = argv, .argc = argc, .first = first, .last = last, .step = step};
    srv_gather *g =
        gather_new(r->def, nw, (last - first) / step + 1, r->wr->proto);
    p.count = calloc(nw, sizeof(size_t));
    p.bytes = calloc(nw, sizeof(size_t));
    conn_slot *slot = NULL;
    if (g && p.count && p.bytes) {
        p.fixed_n = first + (argc - (last + step));
        for (size_t i = 0; i < first; i++)
            p.fixed_bytes += argv[i].len;
        for (size_t i = last + step; i < argc; i++)
            p.fixed_bytes += argv[i].len;
        uint32_t nremote = 0;
        for (size_t gi = 0; gi < g->ngroups; gi++) {
            size_t k = first + gi * step;
            uint32_t o = srv_key_owner(rt->mesh, &argv[k]);
            g->group_owner[gi] = o;
            if (p.count[o]++ == 0 && o != me)
                nremote++;
            for (size_t j = 0; j < step; j++)
                p.bytes[o] += argv[k + j].len;
        }
        slot = conn_slot_open(r->conn, SLOT_GATHER, nremote);
    }
    if (!slot) {
        srv_gather_free(g);
        free(p.count);
        free(p.bytes);
        r->wr->out = conn_out(r->conn);
        srv_reply_oom(r->wr);
        return;
    }
    slot->g = g;
    if (p.count[me]) {
        size_t n = p.fixed_n + p.count[me] * step;
        resp_writer wr = {.out = &g->part[me], .proto = r->wr->proto};
        if (grow_sub(rt, n)) {
            n = plan_args(&p, g, me, rt->sub_argv);
            srv_execute(rt->worker, r->cmd, rt->sub_argv, n, &wr, r->conn);
        } else {
            srv_reply_oom(&wr);
        }
    }
    for (uint32_t o = 0; o < nw; o++)
        if (o != me && p.count[o])
            send_part(r, slot, &p, o, p.fixed_n + p.count[o] * step);
    free(p.count);
    free(p.bytes);
}

/* --- every worker ----------------------------------------------------- */

int srv_every(srv_router *rt, struct conn *c, int proto, srv_part_fn part,
              srv_merge_fn merge, const void *arg, size_t len)
{
    uint32_t nw = rt->mesh->nworkers, me = rt->id;
    assert(nw > 1 && len <= SRV_EVERY_ARG_MAX);
    srv_gather *g = calloc(1, sizeof(*g));
    conn_slot *slot = NULL;
    if (g) {
        g->proto = (uint8_t)proto;
        g->nworkers = nw;
        g->merge = merge;
        g->origin = rt->worker;
        g->part = calloc(nw, sizeof(*g->part));
        g->arg = malloc(len ? len : 1);
        if (g->part && g->arg) {
            memcpy(g->arg, arg, len);
            slot = conn_slot_open(c, SLOT_GATHER, nw - 1);
        }
    }
    if (!slot) {
        srv_gather_free(g);
        return -1;
    }
    slot->g = g;
    /* First, so that what it does to its own connection (CLIENT KILL of
     * itself: close after the reply) already sees the slot. */
    part(rt->worker, g->arg, &g->part[me]);
    for (uint32_t o = 0; o < nw; o++) {
        if (o == me)
            continue;
        srv_msg *m = srv_msg_alloc(NULL, 0, len);
        if (m) {
            memcpy(m->argv, arg, len);
            m->visit = part;
            m->slot = slot;
            m->origin = me;
            m->part = o;
            m->proto = (uint8_t)proto;
            if (srv_msg_send(rt, o, m) == 0)
                continue;
            free(m);
        }
        g->part[o].oom = true; /* the merge answers out of memory */
        conn_slot_part_done(slot);
    }
    return 0;
}

/* --- merge ------------------------------------------------------------- */

static bool parse_num(const char *p, size_t n, char lead, long long *out,
                      size_t *hdr)
{
    if (n < 4 || p[0] != lead)
        return false;
    const char *cr = memchr(p, '\r', n);
    if (!cr || (size_t)(cr - p) + 2 > n || cr[1] != '\n')
        return false;
    char num[32];
    size_t len = (size_t)(cr - p) - 1;
    if (len == 0 || len >= sizeof(num))
        return false;
    memcpy(num, p + 1, len);
    num[len] = '\0';
    char *end;
    *out = strtoll(num, &end, 10);
    *hdr = (size_t)(cr - p) + 2;
    return *end == '\0';
}

static void merge_array(const srv_gather *g, resp_writer *wr)
{
    size_t *pos = calloc(g->nworkers, sizeof(size_t));
    if (!pos) {
        srv_reply_oom(wr);
        return;
    }
    for (uint32_t o = 0; o < g->nworkers; o++) {
        long long n;
        if (g->part[o].len &&
            !parse_num(g->part[o].data, g->part[o].len, '*', &n, &pos[o])) {
            resp_error(wr, "ERR internal error merging a split reply");
            free(pos);
            return;
        }
    }
    resp_array(wr, g->ngroups);
    for (size_t gi = 0; gi < g->ngroups; gi++) {
        const fc_buf *b = &g->part[g->group_owner[gi]];
        size_t *at = &pos[g->group_owner[gi]];
        size_t len =
            *at < b->len ? resp_reply_len(b->data + *at, b->len - *at) : 0;
        if (len == 0) {
            resp_null(wr); /* cannot happen with a well-formed part */
            continue;
        }
        fc_buf_append(wr->out, b->data + *at, len);
        *at += len;
    }
    free(pos);
}

void srv_gather_merge(const srv_gather *g, fc_buf *out)
{
    resp_writer wr = {.out = out, .proto = g->proto};
    long long sum = 0;
    if (g->merge) {
        for (uint32_t o = 0; o < g->nworkers; o++) {
            if (g->part[o].oom) {
                srv_reply_oom(&wr);
                return;
            }
        }
        g->merge(g->origin, g->arg, g->part, g->nworkers, &wr);
        return;
    }
    for (size_t gi = 0; gi < g->ngroups; gi++) {
        const fc_buf *b = &g->part[g->group_owner[gi]];
        if (b->len == 0 || b->oom) {
            srv_reply_oom(&wr);
            return;
        }
        if (b->data[0] == '-') { /* the first error, in input order */
            fc_buf_append(out, b->data, b->len);
            return;
        }
    }
    switch (g->rule) {
    case CMD_SPLIT_SUM:
        for (uint32_t o = 0; o < g->nworkers; o++) {
            long long v;
            size_t hdr;
            if (!g->part[o].len)
                continue;
            if (!parse_num(g->part[o].data, g->part[o].len, ':', &v, &hdr)) {
                resp_error(&wr, "ERR internal error merging a split reply");
                return;
            }
            sum += v;
        }
        resp_int(&wr, sum);
        return;
    case CMD_SPLIT_ARRAY:
        merge_array(g, &wr);
        return;
    case CMD_SPLIT_OK:
    case CMD_SPLIT_NONE:
    default:
        resp_ok(&wr);
        return;
    }
}
