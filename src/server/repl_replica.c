/*
 * repl_replica.c — the replica's side of replication in the server
 * (replication.h): the applier the link thread calls, the per-worker
 * queues it fills, REPLICAOF, the gate, INFO replication and ROLE.
 *
 * Queue items: u8 op | u32 key_len | u32 value_len | i64 expire (unix ms,
 * 0 none) | key | value; or a BARRIER carrying a pointer. A worker applies
 * its items in order, so a key's changes keep the stream's order (a key
 * always goes to the same worker).
 */
#define _GNU_SOURCE
#include "server/replication.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/obj.h"
#include "repl/hub.h"
#include "repl/link.h"
#include "repl/sock.h"
#include "server/config/log.h"
#include "server/durable.h"
#include "server/pubstats.h"

enum {
    IT_SET = 1,
    IT_DEL = 2,
    IT_EXPIRE = 3,
    IT_CLEAR = 5,
    IT_OP = 6, /* an op record on a typed value */
    IT_BARRIER = 9
};
/* An item: u8 op | u8 vtype | u32 klen | u32 vlen | i64 expire | u64 seq
 * (IT_OP: the record's; IT_SET of a snapshot's typed entry: its image
 * seq) | key | value. */
#define IT_HEAD 26

typedef struct inbox_blk {
    struct inbox_blk *next;
    fc_buf b;
    size_t items;
} inbox_blk;

typedef struct srv_inbox {
    pthread_mutex_t mu;
    inbox_blk *head, *tail;
    _Atomic int has;
} srv_inbox;

/* A sync's completion: the last worker to pass it ends the loading. */
typedef struct sync_barrier {
    _Atomic uint32_t left;
    uint64_t gen;
} sync_barrier;

typedef struct srv_replica {
    srv_server *s;
    repl_link *link;
    char host[256];
    uint16_t port;
    fc_buf *stage; /* [nworkers]: items staged by the link thread */
    size_t *staged;  /* [nworkers]: how many */
    size_t max_items; /* queue_capacity */
    _Atomic int stopping;
    _Atomic uint64_t sync_gen;
} srv_replica;

static _Atomic size_t g_queued; /* bytes in every inbox of the process */
static _Atomic size_t g_items;  /* and items */
/* Back-pressure between the link thread and the workers. Process-wide
 * rather than in the srv_replica, so a worker never touches a replica
 * that REPLICAOF may be freeing. */
static pthread_mutex_t g_bp_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_bp_cv = PTHREAD_COND_INITIALIZER;
static _Atomic int g_bp_waiting;
static _Atomic size_t g_max_items = 16384;

static void set_gate(srv_server *s)
{
    atomic_store(&s->repl_gate, atomic_load(&s->replica_mode) ||
                                    atomic_load(&s->repl_loading));
}

int srv_inbox_init(srv_worker *w)
{
    w->inbox = calloc(1, sizeof *w->inbox);
    if (!w->inbox)
        return -1;
    pthread_mutex_init(&w->inbox->mu, NULL);
    return 0;
}

void srv_inbox_free(srv_worker *w)
{
    srv_inbox *in = w->inbox;
    if (!in)
        return;
    for (inbox_blk *b = in->head, *n; b; b = n) {
        n = b->next;
        fc_buf_free(&b->b);
        free(b);
    }
    pthread_mutex_destroy(&in->mu);
    free(in);
    w->inbox = NULL;
}

/* --- applying (worker thread) ------------------------------------------ */

static void apply_one(srv_worker *w, uint8_t op, uint8_t vtype, uint64_t seq,
                      const uint8_t *key, uint32_t kl, const uint8_t *val,
                      uint32_t vl, int64_t exp_unix)
{
    srv_server *s = w->srv;
    if (op == IT_CLEAR) {
        for (uint32_t i = w->id; i < s->nshards; i += s->nworkers)
            eng_clear(s->shards[i]);
        return;
    }
    uint64_t hash = eng_route_hash(s->hash_seed, s->route_mode, key, kl);
    eng_shard *sh = s->shards[hash & (s->nshards - 1)];
    int64_t exp = 0;
    if (exp_unix) {
        exp = exp_unix - w->wall_offset_ms;
        if (exp <= 0)
            exp = 1; /* long past: the engine removes the key */
    }
    int rc = FC_OK;
    switch (op) {
    case IT_SET:
        if (vtype)
            rc = eng_obj_load(sh, hash, key, kl, vtype, val, vl, exp, seq,
                              w->now);
        else
            rc = eng_set(sh, hash, key, kl, val, vl, exp, 0, w->now, NULL,
                         NULL);
        break;
    case IT_OP:
        rc = eng_obj_apply(sh, hash, key, kl, vtype, val, vl, seq, w->now);
        break;
    case IT_DEL:
        eng_del(sh, hash, key, kl, w->now, NULL);
        break;
    case IT_EXPIRE:
        eng_set_expire(sh, hash, key, kl, exp, w->now);
        break;
    }
    if (rc != FC_OK)
        srv_warning("Replication: cannot apply a write of %u bytes: %s",
                    vl, fc_strerror(rc));
}

static void pass_barrier(srv_worker *w, sync_barrier *b)
{
    if (atomic_fetch_sub(&b->left, 1) != 1)
        return;
    srv_server *s = w->srv;
    pthread_mutex_lock(&s->repl_mu);
    srv_replica *r = s->replica;
    if (r && atomic_load(&r->sync_gen) == b->gen) {
        atomic_store(&s->repl_loading, 0);
        set_gate(s);
        srv_notice("Replication: MASTER <-> REPLICA sync: finished, "
                   "serving the replicated data set");
    }
    pthread_mutex_unlock(&s->repl_mu);
    free(b);
}

void srv_inbox_drain(srv_worker *w)
{
    srv_inbox *in = w->inbox;
    if (!atomic_load_explicit(&in->has, memory_order_acquire))
        return;
    pthread_mutex_lock(&in->mu);
    inbox_blk *list = in->head;
    in->head = in->tail = NULL;
    atomic_store(&in->has, 0);
    pthread_mutex_unlock(&in->mu);
    size_t bytes = 0, items = 0;
    for (inbox_blk *b = list, *n; b; b = n) {
        items += b->items;
        n = b->next;
        const uint8_t *p = (const uint8_t *)b->b.data,
                      *end = p + b->b.len;
        while (p + IT_HEAD <= end) {
            uint8_t op = p[0], vtype = p[1];
            uint32_t kl = fcrp_get32(p + 2), vl = fcrp_get32(p + 6);
            int64_t exp = (int64_t)fcrp_get64(p + 10);
            uint64_t seq = fcrp_get64(p + 18);
            p += IT_HEAD;
            if (op == IT_BARRIER) {
                sync_barrier *sb;
                memcpy(&sb, p, sizeof sb);
                p += sizeof sb;
                pass_barrier(w, sb);
                continue;
            }
            apply_one(w, op, vtype, seq, p, kl, p + kl, vl, exp);
            p += (size_t)kl + vl;
        }
        bytes += b->b.len;
        fc_buf_free(&b->b);
        free(b);
    }
    /* Publish the new figures now: an idle worker may sleep right after,
     * and DBSIZE/INFO read what was published. */
    srv_pub_refresh(w);
    size_t left = atomic_fetch_sub(&g_queued, bytes) - bytes;
    size_t left_items = atomic_fetch_sub(&g_items, items) - items;
    if (left < REPL_INBOX_MAX / 2 && left_items <= atomic_load(&g_max_items) / 2 &&
        atomic_load(&g_bp_waiting)) {
        pthread_mutex_lock(&g_bp_mu);
        pthread_cond_signal(&g_bp_cv);
        pthread_mutex_unlock(&g_bp_mu);
    }
}

/* --- the applier (link thread) ------------------------------------------ */

static void stage_typed(srv_replica *r, uint32_t worker, uint8_t op,
                        uint8_t vtype, uint64_t seq, const uint8_t *key,
                        uint32_t kl, const uint8_t *val, uint32_t vl,
                        int64_t exp)
{
    fc_buf *b = &r->stage[worker];
    r->staged[worker]++;
    uint8_t h[IT_HEAD];
    h[0] = op;
    h[1] = vtype;
    fcrp_put32(h + 2, kl);
    fcrp_put32(h + 6, vl);
    fcrp_put64(h + 10, (uint64_t)exp);
    fcrp_put64(h + 18, seq);
    fc_buf_append(b, h, sizeof h);
    fc_buf_append(b, key, kl);
    fc_buf_append(b, val, vl);
}

static void stage(srv_replica *r, uint32_t worker, uint8_t op,
                  const uint8_t *key, uint32_t kl, const uint8_t *val,
                  uint32_t vl, int64_t exp)
{
    stage_typed(r, worker, op, 0, 0, key, kl, val, vl, exp);
}

static uint32_t worker_of(srv_server *s, const uint8_t *key, uint32_t kl)
{
    uint64_t hash = eng_route_hash(s->hash_seed, s->route_mode, key, kl);
    return srv_shard_owner(s, (uint32_t)(hash & (s->nshards - 1)));
}

static void stage_all(srv_replica *r, uint8_t op)
{
    for (uint32_t i = 0; i < r->s->nworkers; i++)
        stage(r, i, op, NULL, 0, NULL, 0, 0);
}

static void ap_flush(void *ctx);

static int ap_snapshot_begin(void *ctx)
{
    srv_replica *r = ctx;
    srv_server *s = r->s;
    atomic_fetch_add(&r->sync_gen, 1);
    atomic_store(&s->repl_loading, 1);
    set_gate(s);
    srv_notice("Replication: MASTER <-> REPLICA sync: receiving a snapshot "
               "from %s:%u (data commands get -LOADING meanwhile)",
               r->host, r->port);
    stage_all(r, IT_CLEAR);
    return 0;
}

static int ap_entry(void *ctx, const fcrp_entry *e)
{
    srv_replica *r = ctx;
    int64_t exp = e->expire_at_ms == FCRP_NO_EXPIRY ? 0
                                                    : (int64_t)e->expire_at_ms;
    if (e->expire_at_ms != FCRP_NO_EXPIRY && exp <= 0)
        exp = 1;
    stage_typed(r, worker_of(r->s, e->key, e->key_len), IT_SET, e->vtype,
                e->obj_seq, e->key, e->key_len, e->value, e->value_len, exp);
    return 0;
}

static int ap_snapshot_end(void *ctx)
{
    (void)ctx;
    return 0;
}

static int ap_record(void *ctx, const fcrp_record *rec, uint8_t op)
{
    srv_replica *r = ctx;
    if (op == FCRP_OP_CLEAR) {
        stage_all(r, IT_CLEAR);
        return 0;
    }
    int64_t exp = 0;
    if ((op == FCRP_OP_SET || op == FCRP_OP_EXPIRE) &&
        rec->expire_at_ms != FCRP_NO_EXPIRY)
        exp = rec->expire_at_ms ? (int64_t)rec->expire_at_ms : 1;
    uint8_t it = op == FCRP_OP_SET      ? IT_SET
                 : op == FCRP_OP_OP     ? IT_OP
                 : op == FCRP_OP_EXPIRE ? IT_EXPIRE
                                        : IT_DEL;
    bool val = it == IT_SET || it == IT_OP;
    stage_typed(r, worker_of(r->s, rec->key, rec->key_len), it,
                val ? rec->vtype : 0, it == IT_OP ? rec->seq : 0, rec->key,
                rec->key_len, val ? rec->value : NULL,
                val ? rec->value_len : 0, exp);
    return 0;
}

static void ap_synced(void *ctx)
{
    srv_replica *r = ctx;
    sync_barrier *b = malloc(sizeof *b);
    if (!b)
        return; /* stays loading until the next sync: never half-served */
    atomic_init(&b->left, r->s->nworkers);
    b->gen = atomic_load(&r->sync_gen);
    for (uint32_t i = 0; i < r->s->nworkers; i++) {
        uint8_t h[IT_HEAD] = {IT_BARRIER};
        fc_buf_append(&r->stage[i], h, sizeof h);
        fc_buf_append(&r->stage[i], &b, sizeof b);
    }
    ap_flush(ctx); /* do not wait for the next read to end the loading */
}

static bool full(void)
{
    return atomic_load(&g_queued) > REPL_INBOX_MAX ||
           atomic_load(&g_items) > atomic_load(&g_max_items);
}

static void ap_flush(void *ctx)
{
    srv_replica *r = ctx;
    srv_server *s = r->s;
    for (uint32_t i = 0; i < s->nworkers; i++) {
        fc_buf *st = &r->stage[i];
        if (!st->len)
            continue;
        inbox_blk *b = calloc(1, sizeof *b);
        if (!b || st->oom) {
            /* Cannot queue: the copy would diverge. Nothing better than to
             * log; the next sync (a reconnect) repairs it. */
            srv_warning("Replication: out of memory queueing writes");
            free(b);
            st->len = 0;
            st->oom = false;
            r->staged[i] = 0;
            continue;
        }
        b->b = *st;
        b->items = r->staged[i];
        memset(st, 0, sizeof *st);
        r->staged[i] = 0;
        srv_inbox *in = s->workers[i].inbox;
        atomic_fetch_add(&g_queued, b->b.len);
        atomic_fetch_add(&g_items, b->items);
        pthread_mutex_lock(&in->mu);
        if (in->tail)
            in->tail->next = b;
        else
            in->head = b;
        in->tail = b;
        atomic_store_explicit(&in->has, 1, memory_order_release);
        pthread_mutex_unlock(&in->mu);
        srv_worker_wake(&s->workers[i]);
    }
    /* Back-pressure: the primary's socket fills while we wait here. */
    while (full() && !atomic_load(&r->stopping)) {
        pthread_mutex_lock(&g_bp_mu);
        atomic_store(&g_bp_waiting, 1);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        if (full() && !atomic_load(&r->stopping))
            pthread_cond_timedwait(&g_bp_cv, &g_bp_mu, &ts);
        atomic_store(&g_bp_waiting, 0);
        pthread_mutex_unlock(&g_bp_mu);
    }
}

static const repl_apply_ops ops = {
    .snapshot_begin = ap_snapshot_begin,
    .entry = ap_entry,
    .snapshot_end = ap_snapshot_end,
    .record = ap_record,
    .synced = ap_synced,
    .flush = ap_flush,
};

/* --- role changes (repl_mu held) --------------------------------------- */

static void replica_free(srv_replica *r)
{
    if (!r)
        return;
    atomic_store(&r->stopping, 1);
    pthread_mutex_lock(&g_bp_mu);
    pthread_cond_broadcast(&g_bp_cv);
    pthread_mutex_unlock(&g_bp_mu);
    repl_link_stop(r->link);
    for (uint32_t i = 0; r->stage && i < r->s->nworkers; i++)
        fc_buf_free(&r->stage[i]);
    free(r->stage);
    free(r->staged);
    free(r);
}

static int replica_new(srv_server *s, const char *host, uint16_t port,
                       char *err, size_t errlen)
{
    srv_replica *r = calloc(1, sizeof *r);
    if (!r || !(r->stage = calloc(s->nworkers, sizeof *r->stage)) ||
        !(r->staged = calloc(s->nworkers, sizeof *r->staged))) {
        if (r)
            free(r->stage);
        free(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->s = s;
    r->max_items = (size_t)s->cfg.replication.queue_capacity;
    snprintf(r->host, sizeof r->host, "%s", host);
    r->port = port;
    const srv_config *c = &s->cfg;
    repl_link_cfg lc;
    repl_link_cfg_default(&lc);
    lc.host = r->host;
    lc.port = port;
    lc.token = c->replication.auth_token;
    lc.connect_timeout_ms = (uint32_t)c->replication.connect_timeout_ms;
    lc.write_timeout_ms = (uint32_t)c->replication.write_timeout_ms;
    lc.backoff_ms = (uint32_t)c->replication.reconnect_backoff_ms;
    lc.ops = &ops;
    lc.ctx = r;
    lc.log = srv_log; /* the same levels (link.h) */
    atomic_store(&g_max_items, r->max_items);
    if (repl_link_start(&r->link, &lc, err, errlen)) {
        r->link = NULL;
        replica_free(r);
        return -1;
    }
    s->replica = r;
    return 0;
}

static void promote(srv_server *s)
{
    atomic_store(&s->replica_mode, 0);
    atomic_store(&s->repl_loading, 0);
    set_gate(s);
    /* A primary again: its own limit applies (until now it counted only). */
    atomic_store(&s->budget.enforce, !atomic_load(&s->loading));
    if (!atomic_load(&s->hub) && s->cfg.replication.enabled) {
        char err[256];
        /* A replica does not listen; once promoted it serves replicas. */
        if (srv_repl_open_hub(s, err, sizeof err))
            srv_warning("Replication: promoted, but cannot listen for "
                        "replicas: %s", err);
    }
}

int srv_repl_replicaof(srv_server *s, const char *host, uint16_t port,
                       char *err, size_t errlen)
{
    int rc = 0;
    pthread_mutex_lock(&s->repl_mu);
    srv_replica *old = s->replica;
    if (!host) {
        s->replica = NULL;
        pthread_mutex_unlock(&s->repl_mu);
        replica_free(old);
        pthread_mutex_lock(&s->repl_mu);
        promote(s);
        if (old)
            srv_notice("Replication: MASTER MODE enabled (REPLICAOF NO ONE): "
                       "the data set is kept and writes are accepted");
        pthread_mutex_unlock(&s->repl_mu);
        return 0;
    }
    if (old && !strcmp(old->host, host) && old->port == port) {
        pthread_mutex_unlock(&s->repl_mu);
        return 1; /* already */
    }
    s->replica = NULL;
    atomic_store(&s->replica_mode, 1);
    /* A replica applies the primary's deletes (evictions included) and
     * never evicts nor refuses on its own: Redis's replica-ignore-maxmemory
     * yes. Its memory is still counted and shown. */
    atomic_store(&s->budget.enforce, false);
    set_gate(s);
    pthread_mutex_unlock(&s->repl_mu);
    replica_free(old); /* outside the lock: its barrier may want it */
    pthread_mutex_lock(&s->repl_mu);
    rc = replica_new(s, host, port, err, errlen);
    if (rc == 0)
        srv_notice("Replication: connecting to MASTER %s:%u", host, port);
    pthread_mutex_unlock(&s->repl_mu);
    return rc;
}

void srv_replica_start_cfg(srv_server *s)
{
    const srv_config *c = &s->cfg;
    if (!c->replication.enabled || !c->replication.role ||
        strcmp(c->replication.role, "replica") || !c->replication.replica_of)
        return;
    char host[256], err[256];
    uint16_t port;
    if (repl_parse_addr(c->replication.replica_of, host, sizeof host, &port,
                        err, sizeof err) ||
        srv_repl_replicaof(s, host, port, err, sizeof err) < 0)
        srv_warning("Replication: %s", err);
}

void srv_replica_stop_all(srv_server *s)
{
    pthread_mutex_lock(&s->repl_mu);
    srv_replica *r = s->replica;
    s->replica = NULL;
    pthread_mutex_unlock(&s->repl_mu);
    replica_free(r);
}

/* --- gate ---------------------------------------------------------------- */

bool srv_repl_gate(srv_worker *w, const srv_cmdent *e, resp_writer *wr)
{
    srv_server *s = w->srv;
    if ((e->def->flags & CMD_WRITE) && atomic_load(&s->replica_mode)) {
        resp_error(wr, "READONLY You can't write against a read only "
                       "replica.");
        return false;
    }
    /* What Redis allows while loading: commands that touch no keys, except
     * DBSIZE (its count would describe a half-loaded data set). */
    if (atomic_load(&s->repl_loading) &&
        (!srv_ok_while_loading(e) || !strcmp(e->def->name, "dbsize"))) {
        resp_error(wr, "LOADING fast-cache is loading the dataset in memory");
        return false;
    }
    return true;
}

bool srv_replica_stats(srv_server *s, repl_link_stats *st, char *host,
                       size_t hostlen, uint16_t *port)
{
    pthread_mutex_lock(&s->repl_mu);
    srv_replica *r = s->replica;
    if (r) {
        repl_link_stats_get(r->link, st);
        snprintf(host, hostlen, "%s", r->host);
        *port = r->port;
    }
    pthread_mutex_unlock(&s->repl_mu);
    return r != NULL;
}
