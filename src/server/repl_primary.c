/*
 * repl_primary.c — the primary's side of replication in the server
 * (replication.h): observer, batches, walk turns, WAIT, and the setup
 * shared with the replica side.
 */
#define _GNU_SOURCE
#include "server/replication.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "repl/batch.h"
#include "repl/hub.h"
#include "repl/sock.h"
#include "repl/walk.h"
#include "server/config/log.h"
#include "server/route/route.h"

#define WALK_BUDGET 4096 /* table slots per walk turn */

typedef struct srv_wait {
    struct srv_wait *next;
    conn_slot *slot;
    uint64_t *target;
    uint32_t need;
    int64_t deadline; /* monotonic ms; INT64_MAX = none */
} srv_wait;

static __thread bool tls_cleared;   /* the current command emitted a CLEAR */
static __thread bool tls_published; /* frames published, hub not kicked */

static repl_hub *hub_of(srv_server *s)
{
    return atomic_load_explicit(&s->hub, memory_order_acquire);
}

static int comp_of(const char *c)
{
    return !c || !strcmp(c, "none") ? FCRP_COMP_NONE
           : !strcmp(c, "lz4")      ? FCRP_COMP_LZ4
                                    : FCRP_COMP_ZSTD;
}

static void batch_cfg(const srv_config *c, repl_batch_cfg *bc)
{
    repl_batch_cfg_default(bc);
    bc->max_records = (uint32_t)c->replication.batch_max_records;
    bc->max_bytes = c->replication.batch_max_bytes;
    bc->max_delay_us = (uint64_t)c->replication.batch_max_delay_us;
    bc->immediate = c->replication.send_policy &&
                    !strcmp(c->replication.send_policy, "immediate");
    bc->tx.comp = (uint8_t)comp_of(c->replication.compression);
    bc->tx.zstd_level = (int)c->replication.zstd_level;
    bc->tx.check = true; /* stripped for a peer without the check */
}

static void walk_wanted(void *ctx)
{
    srv_server *s = ctx;
    for (uint32_t i = 0; i < s->nworkers; i++)
        srv_worker_wake(&s->workers[i]);
}

static void acked(void *ctx)
{
    srv_server *s = ctx;
    for (uint32_t i = 0; i < s->nworkers; i++)
        if (atomic_load_explicit(&s->workers[i].wait_poke,
                                 memory_order_relaxed))
            srv_worker_wake(&s->workers[i]);
}

/* Opens the listener (start, or promotion). -1 with err. */
int srv_repl_open_hub(srv_server *s, char *err, size_t errlen)
{
    const srv_config *c = &s->cfg;
    char host[256];
    uint16_t port;
    if (repl_parse_addr(c->replication.bind_addr, host, sizeof host, &port, err,
                        errlen))
        return -1;
    repl_hub_cfg hc = {
        .bind_host = host,
        .port = port,
        .token = c->replication.auth_token,
        .nshards = s->nshards,
        .seq_base = s->seq_base,
        .backlog_bytes = c->replication.backlog_bytes,
        .snapshot_chunk_bytes = c->replication.snapshot_chunk_bytes,
        .max_replicas = (uint32_t)c->replication.max_replicas,
        .channel_capacity =
            (uint32_t)c->replication.subscriber_channel_capacity,
        .connect_timeout_ms = (uint32_t)c->replication.connect_timeout_ms,
        .write_timeout_ms = (uint32_t)c->replication.write_timeout_ms,
        .walk_wanted = walk_wanted,
        .acked = acked,
        .ctx = s,
        .log = srv_log, /* the same levels (hub.h) */
    };
    repl_batch_cfg bc;
    batch_cfg(c, &bc);
    hc.tx = bc.tx;
    fcrp_limits_default(&hc.lim);
    repl_hub *h;
    /* Before the listener exists, so before any replica's snapshot cut:
     * from here on typed commands log op records (server.h). */
    atomic_store(&s->obs_wanted, 1);
    if (repl_hub_open(&h, &hc, err, errlen))
        return -1;
    srv_notice("Replication: primary listening on %s:%u for replicas", host,
               repl_hub_port(h));
    atomic_store_explicit(&s->hub, h, memory_order_release);
    return 0;
}

int srv_repl_init(srv_server *s, char *err, size_t errlen)
{
    pthread_mutex_init(&s->repl_mu, NULL);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    /* Unique per run: a run's seqs stay below the next run's base as long
     * as a shard sees fewer than 1024 mutations per microsecond. */
    s->seq_base =
        ((uint64_t)rt.tv_sec * 1000000u + (uint64_t)rt.tv_nsec / 1000u) * 1024u;
    s->repl_seq = calloc(s->nshards, sizeof *s->repl_seq);
    if (!s->repl_seq)
        goto oom;
    for (uint32_t i = 0; i < s->nshards; i++) {
        atomic_init(&s->repl_seq[i], s->seq_base);
        if (!s->cfg.persistence.enabled) /* else once loaded */
            eng_set_seq(s->shards[i], s->seq_base);
    }
    repl_batch_cfg bc;
    batch_cfg(&s->cfg, &bc);
    uint32_t chunk = (uint32_t)s->cfg.replication.snapshot_chunk_bytes;
    for (uint32_t i = 0; i < s->nworkers; i++) {
        srv_worker *w = &s->workers[i];
        w->rbatch = calloc(1, sizeof *w->rbatch);
        w->rwalk = calloc(1, sizeof *w->rwalk);
        if (!w->rbatch || !w->rwalk ||
            repl_batcher_init(w->rbatch, s->nshards, &bc) != FC_OK ||
            repl_walker_init(w->rwalk, s->nshards, chunk) != FC_OK ||
            srv_inbox_init(w))
            goto oom;
    }
    if (!s->cfg.persistence.enabled)
        s->observer.ctx = s, s->observer.fn = srv_observe;
    bool replica = s->cfg.replication.enabled && s->cfg.replication.role &&
                   !strcmp(s->cfg.replication.role, "replica");
    if (s->cfg.replication.enabled && !replica &&
        srv_repl_open_hub(s, err, errlen))
        return -1;
    return 0;
oom:
    snprintf(err, errlen, "out of memory setting up replication");
    return -1;
}

void srv_repl_start(srv_server *s)
{
    if (s->cfg.persistence.enabled) {
        /* Still loading: no worker touches the shards or reads the
         * observer until the caller clears `loading`. */
        for (uint32_t i = 0; i < s->nshards; i++)
            eng_set_seq(s->shards[i], s->seq_base);
        s->observer.ctx = s;
        s->observer.fn = srv_observe;
    }
    srv_replica_start_cfg(s);
}

void srv_repl_destroy(srv_server *s)
{
    srv_replica_stop_all(s);
    repl_hub_close(atomic_exchange(&s->hub, NULL));
    for (uint32_t i = 0; s->workers && i < s->nworkers; i++) {
        srv_worker *w = &s->workers[i];
        if (w->rbatch)
            repl_batcher_free(w->rbatch);
        if (w->rwalk)
            repl_walker_free(w->rwalk);
        free(w->rbatch);
        free(w->rwalk);
        w->rbatch = NULL;
        w->rwalk = NULL;
        srv_inbox_free(w);
        for (srv_wait *x = w->waits, *n; x; x = n) {
            n = x->next;
            free(x->target);
            free(x);
        }
        w->waits = NULL;
    }
    free(s->repl_seq);
    s->repl_seq = NULL;
    pthread_mutex_destroy(&s->repl_mu);
}

/* --- observer and batches -------------------------------------------- */

static void publish(repl_hub *h, repl_batcher *b, uint32_t shard)
{
    repl_frame f;
    if (repl_batcher_take(b, shard, &f) == 1) {
        repl_hub_publish(h, &f);
        tls_published = true;
    }
}

static void push(srv_server *s, repl_hub *h, const fc_mutation *m)
{
    srv_worker *w = &s->workers[srv_shard_owner(s, m->shard)];
    int64_t unix_now = w->now + w->wall_offset_ms;
    fcrp_record r = {
        .shard = m->shard,
        .seq = m->seq,
        .timestamp_ms = (uint64_t)unix_now,
        .key = m->key,
        .key_len = (uint32_t)m->key_len,
        .expire_at_ms = FCRP_NO_EXPIRY,
    };
    switch (m->kind) {
    case FC_MUT_SET:
        r.op = FCRP_OP_SET;
        r.vtype = (uint8_t)m->value_type;
        r.value = m->value;
        r.value_len = (uint32_t)m->value_len;
        break;
    case FC_MUT_OP:
        r.op = FCRP_OP_OP;
        r.vtype = (uint8_t)m->value_type;
        r.value = m->value;
        r.value_len = (uint32_t)m->value_len;
        break;
    case FC_MUT_EXPIRE:
        r.op = FCRP_OP_EXPIRE;
        break;
    case FC_MUT_CLEAR:
        r.op = FCRP_OP_CLEAR;
        r.key = NULL;
        r.key_len = 0;
        tls_cleared = true;
        break;
    default: /* DEL, EXPIRED */
        r.op = FCRP_OP_DEL;
    }
    if (m->expire_at_ms && (r.op == FCRP_OP_SET || r.op == FCRP_OP_EXPIRE)) {
        int64_t at =
            m->expire_at_ms +
            atomic_load_explicit(&s->wall_offset_ms, memory_order_relaxed);
        r.expire_at_ms = at > 0 ? (uint64_t)at : 0;
    }
    if (r.key_len)
        r.key_hash = eng_hash(r.key, r.key_len);
    uint64_t now_us = (uint64_t)w->now * 1000u;
    int rc = repl_batcher_push(w->rbatch, &r, now_us);
    if (rc == REPL_BATCH_FLUSH_FIRST) {
        publish(h, w->rbatch, m->shard);
        rc = repl_batcher_push(w->rbatch, &r, now_us);
    }
    if (rc == REPL_BATCH_FULL)
        publish(h, w->rbatch, m->shard);
    else if (rc < 0)
        srv_warning("Replication: a write to shard %u (seq %llu) cannot be "
                    "replicated (%s); replicas will resync",
                    m->shard, (unsigned long long)m->seq, fc_strerror(rc));
}

void srv_observe(void *ctx, const fc_mutation *m)
{
    srv_server *s = ctx;
    if (s->ps)
        ps_observe(s->ps, m);
    atomic_store_explicit(&s->repl_seq[m->shard], m->seq, memory_order_relaxed);
    repl_hub *h = hub_of(s);
    if (h && repl_hub_active(h))
        push(s, h, m);
}

void srv_repl_after_clear(srv_worker *w)
{
    if (!tls_cleared)
        return;
    tls_cleared = false;
    srv_server *s = w->srv;
    repl_hub *h = hub_of(s);
    if (!h)
        return;
    /* The caller holds every shard (FLUSHALL runs exclusively): publish
     * every batch now, so the CLEARs precede anything written later. */
    for (uint32_t i = 0; i < s->nshards; i++)
        publish(h, s->workers[srv_shard_owner(s, i)].rbatch, i);
    tls_published = false;
    repl_hub_kick(h);
}

static void flush_batches(srv_worker *w, repl_hub *h)
{
    repl_batcher *b = w->rbatch;
    if (!b->npending)
        return;
    srv_server *s = w->srv;
    uint64_t now_us = (uint64_t)w->now * 1000u;
    for (uint32_t i = w->id; i < s->nshards && b->npending; i += s->nworkers)
        if (repl_batcher_due(b, i, now_us))
            publish(h, b, i);
}

/* --- WAIT ------------------------------------------------------------- */

static void wait_reply(srv_wait *x, long long count)
{
    resp_writer wr = {.out = &x->slot->out, .proto = 2};
    resp_int(&wr, count);
    conn_slot_part_done(x->slot);
}

static void waits_check(srv_worker *w, repl_hub *h)
{
    /* Still waiting: ask the replicas for their Acks, once a millisecond
     * at most (the timers wake us that often while waits remain). */
    if (h && w->waits && w->now != w->last_ack_ask) {
        w->last_ack_ask = w->now;
        repl_hub_ask_acks(h);
    }
    atomic_store_explicit(&w->wait_poke, w->waits != NULL,
                          memory_order_relaxed);
    srv_server *s = w->srv;
    for (srv_wait **pp = &w->waits; *pp;) {
        srv_wait *x = *pp;
        uint32_t got = h ? repl_hub_acked(h, x->target, s->nshards) : 0;
        if (!x->slot->conn || got >= x->need || w->now >= x->deadline) {
            *pp = x->next;
            wait_reply(x, got);
            free(x->target);
            free(x);
            continue;
        }
        pp = &x->next;
    }
    atomic_store_explicit(&w->wait_poke, w->waits != NULL,
                          memory_order_relaxed);
}

int srv_repl_wait(srv_worker *w, conn *c, long long numreplicas,
                  long long timeout_ms, resp_writer *wr)
{
    srv_server *s = w->srv;
    if (atomic_load(&s->replica_mode)) {
        resp_error(wr, "ERR WAIT cannot be used with replica instances. "
                       "Please also note that since Redis 4.0 if a replica "
                       "is configured to be writable (which is not the "
                       "default) writes to replicas are just local and are "
                       "not propagated.");
        return -1;
    }
    repl_hub *h = hub_of(s);
    if (!h) {
        resp_int(wr, 0);
        return 0;
    }
    srv_wait *x = calloc(1, sizeof *x);
    uint64_t *t = calloc(s->nshards, sizeof *t);
    if (!x || !t) {
        free(x);
        free(t);
        resp_error(wr, "ERR out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < s->nshards; i++)
        t[i] = atomic_load_explicit(&s->repl_seq[i], memory_order_relaxed);
    uint32_t got = repl_hub_acked(h, t, s->nshards);
    if (numreplicas <= 0 || got >= (uint64_t)numreplicas || !c) {
        free(x);
        free(t);
        resp_int(wr, got);
        return 0;
    }
    x->slot = conn_slot_open(c, SLOT_REMOTE, 1);
    if (!x->slot) {
        free(x);
        free(t);
        resp_error(wr, "ERR out of memory");
        return -1;
    }
    x->target = t;
    x->need = numreplicas > UINT32_MAX ? UINT32_MAX : (uint32_t)numreplicas;
    x->deadline = timeout_ms > 0 ? w->now + timeout_ms : INT64_MAX;
    x->next = w->waits;
    w->waits = x;
    atomic_store_explicit(&w->wait_poke, 1, memory_order_relaxed);
    return 0;
}

/* --- loop hooks -------------------------------------------------------- */

void srv_repl_iteration(srv_worker *w)
{
    if (w->inbox)
        srv_inbox_drain(w);
    repl_hub *h = hub_of(w->srv);
    if (h) {
        flush_batches(w, h);
        if (tls_published) {
            tls_published = false;
            repl_hub_kick(h);
        }
    }
    if (w->waits)
        waits_check(w, h);
}

int srv_repl_timers(srv_worker *w)
{
    srv_server *s = w->srv;
    repl_hub *h = hub_of(s);
    int t = -1;
    if (h && repl_hub_walk_gen(h)) {
        int r = repl_walker_step(w->rwalk, h, w->rbatch, s->shards, w->id,
                                 s->nworkers, WALK_BUDGET, w->now,
                                 w->wall_offset_ms);
        t = r == REPL_WALK_MORE ? 0 : r == REPL_WALK_BUSY ? 1 : -1;
    }
    if (h && w->rbatch->npending) {
        uint64_t us =
            repl_batcher_next_due(w->rbatch, (uint64_t)w->now * 1000u);
        int ms = us == UINT64_MAX ? -1 : (int)((us + 999) / 1000);
        if (ms >= 0 && ms < 1 && us)
            ms = 1;
        if (ms >= 0 && (t < 0 || ms < t))
            t = ms;
    }
    if (w->waits && (t < 0 || t > 1))
        t = 1; /* waits_check asks for Acks again */
    for (srv_wait *x = w->waits; x; x = x->next)
        if (x->deadline != INT64_MAX) {
            int64_t d = x->deadline - w->now;
            int ms = d < 0 ? 0 : d > 100000 ? 100000 : (int)d;
            if (t < 0 || ms < t)
                t = ms;
        }
    return t;
}
