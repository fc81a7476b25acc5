/*
 * multi.c — MULTI, EXEC, DISCARD, WATCH, UNWATCH and the WATCH versions
 * (the design and its argument are in multi.h).
 */
#include "server/multi.h"

#include <stdlib.h>
#include <string.h>

#include "server/server.h"
#include "server/worker.h"

int srv_watch_init(srv_server *s)
{
    uint32_t nb = 1u << SRV_WATCH_BUCKETS_LOG2;
    while (nb < s->nshards)
        nb <<= 1; /* both powers of two: a bucket lies in one shard */
    s->watch_ver = calloc(nb, sizeof(*s->watch_ver));
    if (!s->watch_ver)
        return -1;
    s->watch_mask = nb - 1;
    return 0;
}

void srv_watch_destroy(srv_server *s)
{
    free(s->watch_ver);
    s->watch_ver = NULL;
}

static inline uint32_t bucket_of(const srv_server *s, uint64_t hash)
{
    return (uint32_t)(hash & s->watch_mask);
}

static inline uint32_t bucket_owner(const srv_server *s, uint32_t b)
{
    return srv_shard_owner(s, b & (s->nshards - 1));
}

/* Single writer per bucket (see multi.h): a plain relaxed load + store. */
static void bump(srv_server *s, uint32_t b)
{
    _Atomic uint32_t *v = &s->watch_ver[b];
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/* The key positions of a command as its table gives them, clipped to argc:
 * the keys are argv[first], argv[first + step], ... up to argv[last]. */
static bool key_range(const cmd_def *d, size_t argc, size_t *first,
                      size_t *last, size_t *step)
{
    if (d->first_key <= 0 || (size_t)d->first_key >= argc)
        return false;
    *first = (size_t)d->first_key;
    *last = d->last_key < 0 ? (size_t)((long)argc + d->last_key)
                            : (size_t)d->last_key;
    if (*last >= argc)
        *last = argc - 1;
    *step = d->key_step > 0 ? (size_t)d->key_step : 1;
    return *last >= *first;
}

void srv_watch_touch_slow(srv_server *s, const cmd_def *d, const resp_arg *argv,
                          size_t argc)
{
    if (d->flags & CMD_ALLKEYS) {
        /* FLUSHDB/FLUSHALL, the only whole-keyspace writes; they run with
         * every other worker parked. */
        atomic_fetch_add_explicit(&s->flush_gen, 1, memory_order_relaxed);
        return;
    }
    size_t first, last, step;
    if (!key_range(d, argc, &first, &last, &step))
        return;
    for (size_t k = first; k <= last; k += step)
        bump(s, bucket_of(s, eng_route_hash(s->hash_seed, s->route_mode, argv[k].ptr, argv[k].len)));
}

/* --- per-connection state ------------------------------------------- */

static srv_tx *tx_get(conn *c)
{
    if (!c->tx)
        c->tx = calloc(1, sizeof(*c->tx));
    return c->tx;
}

static void queue_clear(srv_tx *t)
{
    for (srv_txcmd *q = t->head, *n; q; q = n) {
        n = q->next;
        free(q);
    }
    t->head = t->tail = NULL;
    t->nqueued = 0;
    t->multi = t->dirty = t->excl = false;
}

static void unwatch(conn *c)
{
    srv_tx *t = c->tx;
    if (!t || !t->nwatch)
        return;
    t->nwatch = 0;
    atomic_fetch_sub_explicit(&c->w->srv->watchers, 1, memory_order_relaxed);
}

void srv_tx_reset(conn *c)
{
    if (!c->tx)
        return;
    unwatch(c);
    queue_clear(c->tx);
}

void srv_tx_free(conn *c)
{
    if (!c->tx)
        return;
    srv_tx_reset(c);
    free(c->tx->watch);
    free(c->tx);
    c->tx = NULL;
}

void srv_tx_flag_error(conn *c)
{
    if (srv_tx_active(c))
        c->tx->dirty = true;
}

/* --- routing -------------------------------------------------------- */

/* Whether a command touches only shards of worker `me` (so it may run
 * inline), as the router would decide it. */
static bool runs_local(const srv_server *s, uint32_t me, const srv_cmdent *e,
                       const resp_arg *argv, size_t argc)
{
    if (s->nworkers == 1)
        return true;
    const cmd_def *d = e->def;
    if (d->flags & CMD_ALLKEYS)
        return false;
    if (e->scmd) {
        /* An SRV_CMD_EVERY command cannot gather parts by message from
         * inside EXEC (its reply belongs in EXEC's array): parked, it
         * reads every worker itself. */
        /* A script may touch any key (script.h): inside EXEC it runs with
         * the others parked. */
        unsigned all = SRV_CMD_EXCL | SRV_CMD_EVERY | SRV_CMD_SCRIPT;
        if (e->scmd->sflags & all)
            return false;
        const srv_subcmd *sub =
            e->scmd->subs && argc >= 2
                ? srv_subcmd_find(e->scmd, argv[1].ptr, argv[1].len)
                : NULL;
        if (sub && (sub->sflags & all))
            return false;
    }
    size_t first, last, step;
    if (!key_range(d, argc, &first, &last, &step))
        return true;
    for (size_t k = first; k <= last; k += step) {
        uint64_t h = eng_route_hash(s->hash_seed, s->route_mode, argv[k].ptr, argv[k].len);
        if (srv_shard_owner(s, (uint32_t)(h & (s->nshards - 1))) != me)
            return false;
    }
    return true;
}

static void reply(conn *c, const char *err)
{
    c->wr.out = conn_out(c);
    size_t at = c->wr.out->len;
    if (err) {
        resp_error(&c->wr, err);
        srv_errstat_count(c->w, c->wr.out->data + at, c->wr.out->len - at);
    } else
        resp_simple(&c->wr, "QUEUED");
}

static void enqueue(conn *c, const srv_cmdent *e, const resp_arg *argv,
                    size_t argc)
{
    srv_tx *t = c->tx;
    if (e->scmd && (e->scmd->sflags & SRV_CMD_NO_MULTI)) {
        t->dirty = true;
        reply(c, "ERR Command not allowed inside a transaction");
        return;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < argc; i++)
        bytes += argv[i].len;
    srv_txcmd *q = malloc(sizeof(*q) + argc * sizeof(resp_arg) + bytes);
    if (!q) {
        t->dirty = true;
        reply(c, "ERR out of memory");
        return;
    }
    q->next = NULL;
    q->e = e;
    q->argc = argc;
    char *dst = (char *)(q->argv + argc);
    for (size_t i = 0; i < argc; i++) {
        memcpy(dst, argv[i].ptr, argv[i].len);
        q->argv[i].ptr = dst;
        q->argv[i].len = argv[i].len;
        dst += argv[i].len;
    }
    if (t->tail)
        t->tail->next = q;
    else
        t->head = q;
    t->tail = q;
    t->nqueued++;
    if (!runs_local(c->w->srv, c->w->id, e, q->argv, argc))
        t->excl = true;
    reply(c, NULL);
}

static bool watches_local(const conn *c)
{
    const srv_tx *t = c->tx;
    for (size_t i = 0; t && i < t->nwatch; i++)
        if (t->watch[i].owner != c->w->id)
            return false;
    return true;
}

/* Runs e on this worker, inline or with every other worker parked. */
static enum srv_route_res run(conn *c, const srv_cmdent *e,
                              const resp_arg *argv, size_t argc, bool excl)
{
    srv_worker *w = c->w;
    if (excl && w->srv->nworkers > 1) {
        /* Earlier requests of this client still run elsewhere: they
         * must be visible to this command (as route/router.c's exclusive
         * path). */
        if (c->slot_head)
            return SRV_ROUTE_WAIT;
        srv_excl_begin(&w->rt);
        w->exec_mark_ns = 0;
    }
    c->wr.out = conn_out(c);
    srv_execute(w, e, argv, argc, &c->wr, c);
    if (excl && w->srv->nworkers > 1)
        srv_excl_end(&w->rt);
    return SRV_ROUTE_DONE;
}

static bool is_named(const srv_cmdent *e, const char *name)
{
    return strcmp(e->def->name, name) == 0;
}

enum srv_route_res srv_tx_route(conn *c, const srv_cmdent *e,
                                const resp_arg *argv, size_t argc)
{
    /* Inside MULTI everything is queued but these (QUIT and RESET never
     * come here); UNWATCH is queued, as in Redis. */
    bool now = is_named(e, "exec") || is_named(e, "discard") ||
               is_named(e, "multi") || is_named(e, "watch");
    if (srv_tx_active(c) && !now) {
        enqueue(c, e, argv, argc);
        return SRV_ROUTE_DONE;
    }
    srv_server *s = c->w->srv;
    if (is_named(e, "exec")) {
        /* Ordering with this client's earlier pipelined requests matters
         * even inline: a watched key's version must include them. */
        if (c->slot_head && srv_tx_active(c))
            return SRV_ROUTE_WAIT;
        bool excl = srv_tx_active(c) && !c->tx->dirty &&
                    (c->tx->excl || !watches_local(c));
        return run(c, e, argv, argc, excl);
    }
    if (is_named(e, "watch") && !srv_tx_active(c)) {
        bool local = true;
        for (size_t i = 1; i < argc && local; i++) {
            uint64_t h = eng_route_hash(s->hash_seed, s->route_mode, argv[i].ptr, argv[i].len);
            local = bucket_owner(s, bucket_of(s, h)) == c->w->id;
        }
        if (c->slot_head)
            return SRV_ROUTE_WAIT; /* see exec */
        return run(c, e, argv, argc, !local);
    }
    if (e->scmd && (e->scmd->sflags & SRV_CMD_SCRIPT)) {
        /* A script sees this client's earlier requests (script.h); it
         * decides itself whether it parks the others. */
        if (c->slot_head)
            return SRV_ROUTE_WAIT;
    }
    return run(c, e, argv, argc, false);
}

/* --- the commands --------------------------------------------------- */

static void cmd_multi(srv_exec *x)
{
    conn *c = x->conn;
    if (srv_tx_active(c)) {
        resp_error(x->c->w, "ERR MULTI calls can not be nested");
        return;
    }
    srv_tx *t = tx_get(c);
    if (!t) {
        resp_error(x->c->w, "ERR out of memory");
        return;
    }
    t->multi = true;
    resp_ok(x->c->w);
}

static void cmd_discard(srv_exec *x)
{
    conn *c = x->conn;
    if (!srv_tx_active(c)) {
        resp_error(x->c->w, "ERR DISCARD without MULTI");
        return;
    }
    srv_tx_reset(c);
    resp_ok(x->c->w);
}

/* Whether a watched key may have changed since WATCH (multi.h). */
static bool watch_broken(const srv_server *s, const srv_watch *wk, int64_t now)
{
    if (atomic_load_explicit(&s->watch_ver[wk->bucket], memory_order_relaxed) !=
        wk->ver)
        return true;
    if (wk->live && wk->expire_at && now >= wk->expire_at)
        return true;
    return wk->live &&
           atomic_load_explicit(&s->flush_gen, memory_order_relaxed) !=
               wk->flush_gen;
}

static void cmd_exec(srv_exec *x)
{
    conn *c = x->conn;
    srv_tx *t = c->tx;
    resp_writer *wr = x->c->w;
    if (!srv_tx_active(c)) {
        resp_error(wr, "ERR EXEC without MULTI");
        return;
    }
    if (t->dirty) {
        srv_tx_reset(c);
        resp_error(wr, "EXECABORT Transaction discarded because of previous "
                       "errors.");
        return;
    }
    for (size_t i = 0; i < t->nwatch; i++) {
        if (watch_broken(x->srv, &t->watch[i], x->c->now)) {
            srv_tx_reset(c);
            resp_null_array(wr);
            return;
        }
    }
    /* Redis unwatches before running the queue: the transaction's own
     * writes do not concern it any more. */
    unwatch(c);
    srv_txcmd *q = t->head;
    t->head = t->tail = NULL;
    size_t n = t->nqueued;
    queue_clear(t);
    resp_array(wr, n);
    x->w->blk_deny++; /* a blocking command answers as if it timed out */
    while (q) {
        srv_txcmd *next = q->next;
        srv_execute(x->w, q->e, q->argv, q->argc, wr, c);
        free(q);
        q = next;
    }
    x->w->blk_deny--;
}

static int watch_add(srv_exec *x, srv_tx *t, const resp_arg *k)
{
    srv_server *s = x->srv;
    if (t->nwatch == t->watch_cap) {
        size_t cap = t->watch_cap ? t->watch_cap * 2 : 4;
        srv_watch *nw = realloc(t->watch, cap * sizeof(*nw));
        if (!nw)
            return -1;
        t->watch = nw;
        t->watch_cap = cap;
    }
    uint64_t h = eng_route_hash(s->hash_seed, s->route_mode, k->ptr, k->len);
    /* Allowed: srv_tx_route runs WATCH on the key's owner or exclusively. */
    eng_entry *en = eng_get(cmd_shard(x->c, h), h, k->ptr, k->len, x->c->now);
    srv_watch *wk = &t->watch[t->nwatch];
    wk->bucket = bucket_of(s, h);
    wk->ver =
        atomic_load_explicit(&s->watch_ver[wk->bucket], memory_order_relaxed);
    wk->owner = bucket_owner(s, wk->bucket);
    wk->live = en != NULL;
    wk->expire_at = en ? eng_entry_expire_at(en) : 0;
    wk->flush_gen = atomic_load_explicit(&s->flush_gen, memory_order_relaxed);
    if (t->nwatch++ == 0)
        atomic_fetch_add_explicit(&s->watchers, 1, memory_order_relaxed);
    return 0;
}

static void cmd_watch(srv_exec *x)
{
    conn *c = x->conn;
    if (srv_tx_active(c)) {
        resp_error(x->c->w, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    srv_tx *t = tx_get(c);
    for (size_t i = 1; t && i < x->c->argc; i++)
        if (watch_add(x, t, &x->c->argv[i]))
            t = NULL;
    if (!t)
        resp_error(x->c->w, "ERR out of memory");
    else
        resp_ok(x->c->w);
}

static void cmd_unwatch(srv_exec *x)
{
    unwatch(x->conn);
    resp_ok(x->c->w);
}

#define TX_CMD(n, ar, fl, fk, lk, fn, sum, since)                              \
    {                                                                          \
        {n,                                                                    \
         ar,                                                                   \
         fl,                                                                   \
         fk,                                                                   \
         lk,                                                                   \
         fk ? 1 : 0,                                                           \
         CMD_SPLIT_NONE,                                                       \
         NULL,                                                                 \
         "transactions",                                                       \
         sum,                                                                  \
         since},                                                               \
            fn, SRV_CMD_TX, NULL                                               \
    }

static const srv_cmd cmds[] = {
    TX_CMD("multi", 1, CMD_FAST | CMD_NOSCRIPT, 0, 0, cmd_multi,
           "Starts a transaction.", "1.2.0"),
    TX_CMD("exec", 1, CMD_NOSCRIPT, 0, 0, cmd_exec,
           "Executes all commands in a transaction.", "1.2.0"),
    TX_CMD("discard", 1, CMD_FAST | CMD_NOSCRIPT, 0, 0, cmd_discard,
           "Discards a transaction.", "2.0.0"),
    TX_CMD("watch", -2, CMD_FAST | CMD_NOSCRIPT, 1, -1, cmd_watch,
           "Monitors changes to keys to determine the execution of a "
           "transaction.",
           "2.2.0"),
    TX_CMD("unwatch", 1, CMD_FAST | CMD_NOSCRIPT, 0, 0, cmd_unwatch,
           "Forgets about watched keys of a transaction.", "2.2.0"),
};

const srv_cmd *srv_cmds_multi(size_t *n)
{
    *n = sizeof(cmds) / sizeof(cmds[0]);
    return cmds;
}
