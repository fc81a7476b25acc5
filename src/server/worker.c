/*
 * worker.c — a worker's life: listening socket, the loop iteration, timers
 * (active expiry, ops/sec sampling), draining and feeding the channels, and
 * shutdown. What travels on the channels, and exclusive execution, are
 * routing's (route/mesh.h).
 */
#define _GNU_SOURCE
#include "server/script.h"
#include "server/slowlog.h"
#include "server/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netdb.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/blocking.h"
#include "server/config/log.h"
#include "server/durable.h"
#include "server/exec.h"
#include "server/pubstats.h"
#include "server/pubsub.h"
#include "server/replication.h"

#define SWEEP_BUDGET 128 /* slots per shard per sweep round */
#define SWEEP_ROUNDS 8   /* more rounds while a shard keeps expiring */
#define DRAIN_BATCH 1024 /* messages per channel per iteration */
#define MAX_SLEEP_MS 1000

/* One listening socket for the process, without SO_REUSEPORT: binding
 * fails with EADDRINUSE while anyone holds the port (a second fast-cache,
 * a redis-server), and nobody can join it later and silently take part of
 * the connections, as a SO_REUSEPORT group would let any process of the
 * same user do. The workers share it (worker 0 binds, the others accept on
 * a dup of it): each one's loop waits on it and the kernel hands each new
 * connection to one of them. */
/* One process per port, and every worker accepting.
 *
 * Each worker listens on its own SO_REUSEPORT socket, so the kernel spreads
 * connections (a single shared socket sent every connection of a
 * sequential client to one worker). Two guards keep other processes out:
 *  - before the first bind, a plain socket (no SO_REUSEPORT) is bound to
 *    the port and closed: it fails with "Address already in use" whenever
 *    any listener holds the port, reuseport or not;
 *  - once all workers listen, a classic BPF program attached to the group
 *    picks a random socket among OUR n (indices 0..n-1, the sockets in bind
 *    order): a socket another process adds later gets an index >= n and is
 *    never chosen, so it receives nothing.
 * The window between the probe and the first bind is microseconds wide. */
static int listen_socket(const srv_config *cfg, bool reuseport, char *err,
                         size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    char port[16];
    snprintf(port, sizeof(port), "%d", cfg->port);
    int rc = getaddrinfo(cfg->bind, port, &hints, &res);
    if (rc) {
        snprintf(err, errlen, "cannot resolve bind address '%s': %s", cfg->bind,
                 gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family,
                    res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
        (reuseport &&
         setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))) ||
        bind(fd, res->ai_addr, res->ai_addrlen) ||
        (reuseport && listen(fd, 511))) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", cfg->bind,
                 cfg->port, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

int srv_listen_steer(srv_server *s, char *err, size_t errlen)
{
    struct sock_filter code[] = {
        {BPF_LD | BPF_W | BPF_ABS, 0, 0,
         (uint32_t)(SKF_AD_OFF + SKF_AD_RANDOM)},
        {BPF_ALU | BPF_MOD | BPF_K, 0, 0, s->nworkers},
        {BPF_RET | BPF_A, 0, 0, 0},
    };
    struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]),
                              .filter = code};
    if (setsockopt(s->workers[0].listen_fd, SOL_SOCKET,
                   SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog))) {
        snprintf(err, errlen, "cannot steer connections to the workers: %s",
                 strerror(errno));
        return -1;
    }
    return 0;
}

int srv_worker_init(srv_worker *w, srv_server *s, uint32_t id, char *err,
                    size_t errlen)
{
    memset(w, 0, sizeof(*w));
    w->srv = s;
    w->id = id;
    w->exec_origin = UINT32_MAX;
    w->listen_fd = -1;
    w->wake_fd = -1;
    w->rng = 0x9e3779b97f4a7c15ULL * (id + 1);
    w->cmdstats = calloc(s->cmds.count, sizeof(*w->cmdstats));
    w->slow = srv_slowlog_new();
    if (srv_router_init(&w->rt, &s->mesh, w, id) || !w->cmdstats ||
        !w->slow) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (id == 0) { /* the probe: fails when anyone holds the port */
        int probe = listen_socket(&s->cfg, false, err, errlen);
        if (probe < 0)
            return -1;
        close(probe);
    }
    w->listen_fd = listen_socket(&s->cfg, true, err, errlen);
    if (w->listen_fd < 0)
        return -1;
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->wake_fd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        return -1;
    }
    w->loop = s->be->create(w, w->listen_fd, w->wake_fd, err, errlen);
    return w->loop ? 0 : -1;
}

void srv_worker_destroy(srv_worker *w)
{
    if (w->loop)
        w->loop->be->destroy(w->loop);
    if (w->listen_fd >= 0)
        close(w->listen_fd);
    if (w->wake_fd >= 0)
        close(w->wake_fd);
    free(w->cmdstats);
    srv_script_worker_free(w);
    srv_slowlog_free(w->slow);
    w->slow = NULL;
    srv_router_destroy(&w->rt);
    w->loop = NULL;
    w->cmdstats = NULL;
}

void srv_worker_wake(srv_worker *w)
{
    uint64_t one = 1;
    ssize_t r = write(w->wake_fd, &one, sizeof(one));
    (void)r; /* EAGAIN: the counter is already non-zero, it will wake */
}

static spsc_chan *chan(const srv_worker *w, uint32_t src, uint32_t dst)
{
    return srv_mesh_chan(&w->srv->mesh, src, dst);
}

/* Through the loop when the backend can (a MSG_RING riding on the next
 * submit costs no syscall on either side), else through the eventfd. */
static void wake_target(srv_worker *w, srv_worker *t)
{
    const ev_backend *be = w->loop->be;
    if (!be->wake || !be->wake(w->loop, t->loop))
        srv_worker_wake(t);
}

/* End of iteration: retry overflow, then wake the targets that sleep, once
 * each, however many messages they got this iteration. */
static void send_pending(srv_worker *w)
{
    srv_server *s = w->srv;
    w->rt.ovf_dsts = 0;
    for (uint32_t d = 0; d < s->nworkers; d++) {
        if (!w->rt.wake_dst[d])
            continue;
        if (spsc_chan_flush(chan(w, w->id, d)) > 0)
            w->rt.ovf_dsts++; /* still marked: retried next iteration */
        else
            w->rt.wake_dst[d] = false;
        /* Pairs with the fence in about_to_sleep: either the target sees
         * our push before it sleeps, or we see it sleeping and wake it. */
        atomic_thread_fence(memory_order_seq_cst);
        srv_worker *t = &s->workers[d];
        if (atomic_load_explicit(&t->sleeping, memory_order_relaxed) &&
            atomic_exchange(&t->sleeping, 0))
            wake_target(w, t);
    }
}

static bool inbox_empty(srv_worker *w)
{
    for (uint32_t src = 0; src < w->srv->nworkers; src++)
        if (src != w->id && !spsc_ring_empty(chan(w, src, w->id)->ring))
            return false;
    return true;
}

static void drain(srv_worker *w)
{
    for (uint32_t src = 0; src < w->srv->nworkers; src++) {
        if (src == w->id)
            continue;
        w->exec_mark_ns = 0; /* requests chain within one channel's batch */
        spsc_ring *r = chan(w, src, w->id)->ring;
        struct srv_msg *m;
        for (int i = 0; i < DRAIN_BATCH && (m = spsc_ring_pop(r)); i++) {
            if (m->origin == w->id) {
                /* Its room frees: connections waiting for room go on
                 * (before the slot completes, which may run one). */
                conn_chan_wake(w);
                srv_msg_returned(&w->rt, m);
            } else if (m->visit) {
                srv_msg_visit(&w->rt, m); /* srv_every's part */
                w->exec_mark_ns = 0;      /* its time is no command's */
            } else {
                srv_msg_execute(w, m);
            }
        }
    }
    w->exec_mark_ns = 0;
}

/* The wall-clock offset is re-derived once per millisecond of monotonic
 * time (not per iteration: a busy loop turns many times per ms) but only
 * adopted when it moved by more than the 1 ms jitter of reading two
 * clocks: a stable offset makes unix -> monotonic -> unix conversions exact
 * across iterations (PXAT then PEXPIRETIME returns the same number). */
static void update_time(srv_worker *w)
{
    struct timespec rt, mt;
    clock_gettime(CLOCK_MONOTONIC, &mt);
    int64_t now = (int64_t)mt.tv_sec * 1000 + mt.tv_nsec / 1000000;
    if (now == w->now && w->wall_offset_ms != 0)
        return;
    w->now = now; /* eng_now_ms()'s clock and unit */
    clock_gettime(CLOCK_REALTIME, &rt);
    int64_t off = srv_wall_offset_of(&rt, &mt);
    int64_t cur =
        atomic_load_explicit(&w->srv->wall_offset_ms, memory_order_relaxed);
    if (off > cur + 1 || off < cur - 1) {
        atomic_store_explicit(&w->srv->wall_offset_ms, off,
                              memory_order_relaxed);
        cur = off;
    }
    w->wall_offset_ms = cur;
}

#define EVICT_TICK_MAX 256 /* keys per shard per sweep tick */
/* Table groups a worker's sweep tick migrates, over the shards whose table
 * is resizing (~4.5 entries rehashed per group: a few milliseconds per
 * tick, only while a resize is pending). Without it a shard that stopped
 * taking writes finished its resize at the sweep's own 19 groups per tick:
 * after a load of 1M keys into 64 shards, which all grow together, the
 * old arrays (145k groups) stayed for 12 s or more; now for 3-6 s (used
 * memory 54.6 -> 47.6 MB, RSS 62 -> 56 B per key of 26 B). */
#define MIGRATE_TICK_GROUPS 4096
/* Bytes a worker's defrag copies per sweep tick, over all its shards (10
 * ticks a second at the default hz): see the README's memory figures for
 * what it costs and what it keeps RSS at under churn. */
#define DEFRAG_TICK_BYTES ((size_t)2 << 20)

/* Incremental defragmentation (engine.h): a bounded step over the owned
 * shards whose pages hold too much, starting where the last tick stopped
 * so that every shard gets its turn. On the sweep tick, between commands:
 * no command holds an entry pointer across it. */
static void defrag(srv_worker *w)
{
    srv_server *s = w->srv;
    uint32_t own = (s->nshards - w->id + s->nworkers - 1) / s->nworkers;
    size_t left = DEFRAG_TICK_BYTES;
    if (!s->cfg.activedefrag || own == 0)
        return;
    for (uint32_t k = 0; k < own && left; k++) {
        uint32_t j = (w->defrag_next + k) % own;
        eng_shard *sh = s->shards[w->id + j * s->nworkers];
        if (!eng_defrag_wanted(sh))
            continue;
        size_t done = eng_defrag(sh, left);
        left = done >= left ? 0 : left - done;
        if (!left)
            w->defrag_next = j; /* its turn continues next tick */
    }
}

static bool wants_defrag(srv_worker *w)
{
    srv_server *s = w->srv;
    if (!s->cfg.activedefrag ||
        atomic_load_explicit(&s->loading, memory_order_acquire))
        return false;
    for (uint32_t i = w->id; i < s->nshards; i += s->nworkers)
        if (eng_defrag_wanted(s->shards[i]))
            return true;
    return false;
}

void srv_worker_pub_clients(srv_worker *w)
{
    uint64_t n = 0;
    for (const conn *c = w->conns; c; c = c->next)
        n += sizeof(*c) + c->io.rbuf.cap + c->io.wbuf.cap + c->io.wbusy.cap;
    atomic_store_explicit(&w->pub_clients_mem, n, memory_order_relaxed);
}

static void sweep(srv_worker *w)
{
    srv_server *s = w->srv;
    if (atomic_load_explicit(&s->loading, memory_order_acquire))
        return; /* the main thread is filling the shards */
    uint64_t removed = 0;
    for (uint32_t i = w->id; i < s->nshards; i += s->nworkers) {
        for (int r = 0; r < SWEEP_ROUNDS; r++) {
            size_t n = eng_sweep(s->shards[i], SWEEP_BUDGET, w->now);
            removed += n;
            if (n < SWEEP_BUDGET / 4)
                break; /* few expired keys here: the next tick will do */
        }
    }
    if (removed) {
        atomic_fetch_add_explicit(&w->stat_expired, removed,
                                  memory_order_relaxed);
        w->pub_dirty = true;
    }
    size_t mig = MIGRATE_TICK_GROUPS;
    for (uint32_t i = w->id; i < s->nshards && mig; i += s->nworkers) {
        size_t done = eng_migrate(s->shards[i], mig);
        mig = done >= mig ? 0 : mig - done;
    }
    defrag(w);
    srv_pub_mem_refresh(w);
    srv_worker_pub_clients(w);
    /* Over maxmemory while this worker's shards take no writes (the
     * writes go elsewhere, or the limit was just lowered): they give back
     * their share here, a bounded batch per tick. */
    if (atomic_load_explicit(&s->budget.limit, memory_order_relaxed)) {
        size_t evicted = 0;
        for (uint32_t i = w->id; i < s->nshards; i += s->nworkers) {
            evicted += eng_evict(s->shards[i], EVICT_TICK_MAX, w->now);
            /* The levels move with reads even when nothing is written:
             * promotion_batch entries of the hand, only in shards read
             * since the last tick. */
            eng_tier_walk(s->shards[i]);
        }
        if (evicted)
            w->pub_dirty = true;
    }
    srv_pub_tier_refresh(w);
    /* Now, not at the end of the turn: a sweep that took the last keys
     * with a TTL leaves no timer, so this turn's poll may sleep until a
     * client comes, and the figures DBSIZE, INFO and /metrics read from
     * it would stay stale that long. */
    if (w->pub_dirty)
        srv_pub_refresh(w);
}

static void sample_ops(srv_worker *w)
{
    uint64_t cmds = atomic_load_explicit(&w->stat_cmds, memory_order_relaxed);
    int64_t dt = w->now - w->ops_last_ms;
    if (w->ops_last_ms && dt > 0) {
        w->ops_samples[w->ops_idx++ % SRV_OPS_SAMPLES] =
            (cmds - w->ops_last_cmds) * 1000 / (uint64_t)dt;
        uint64_t sum = 0;
        for (int i = 0; i < SRV_OPS_SAMPLES; i++)
            sum += w->ops_samples[i];
        atomic_store_explicit(&w->stat_inst_ops, sum / SRV_OPS_SAMPLES,
                              memory_order_relaxed);
    }
    w->ops_last_cmds = cmds;
    w->ops_last_ms = w->now;
}

static bool owns_ttl_keys(srv_worker *w)
{
    srv_server *s = w->srv;
    if (atomic_load_explicit(&s->loading, memory_order_acquire))
        return true; /* cannot look yet: keep the sweep timer */
    for (uint32_t i = w->id; i < s->nshards; i += s->nworkers)
        if (eng_expires_count(s->shards[i]))
            return true;
    return false;
}

static int timers_base(srv_worker *w);

/* Runs the timers that are due; returns how long poll may then sleep: -1
 * (until an event) when no timer needs it, so that an idle worker does not
 * wake up ten times a second for nothing. The ops sampling needs waking
 * until the instantaneous rate has decayed to zero; while it does, the
 * sweep simply shares its wakeups. After that the sweep needs waking only
 * while owned shards hold keys with a TTL, or pages worth defragmenting
 * (which stops once the pass finds nothing more to do, slab.c): only this
 * worker adds keys to them, or an exclusive section, after which the loop
 * turns again. */
static int timers(srv_worker *w)
{
    const srv_config *cfg = &w->srv->cfg;
    int dur = cfg->persistence.enabled ? srv_dur_timers(w) : -1;
    int t = timers_base(w);
    t = dur < 0 ? t : t < 0 || dur < t ? dur : t;
    int rep = w->rbatch ? srv_repl_timers(w) : -1;
    t = rep < 0 ? t : t < 0 || rep < t ? rep : t;
    int blk = w->blk_head ? srv_blk_timers(w) : -1;
    return blk < 0 ? t : t < 0 || blk < t ? blk : t;
}

static int timers_base(srv_worker *w)
{
    const srv_config *cfg = &w->srv->cfg;
    if (w->now >= w->next_sweep_ms) {
        sweep(w);
        w->next_sweep_ms = w->now + cfg->ttl_sweep_interval_ms;
    }
    if (w->now >= w->next_stats_ms) {
        sample_ops(w);
        w->next_stats_ms = w->now + cfg->stats_interval_ms;
    }
    int64_t next;
    if (atomic_load_explicit(&w->stat_inst_ops, memory_order_relaxed) ||
        atomic_load_explicit(&w->stat_cmds, memory_order_relaxed) !=
            w->ops_last_cmds)
        next = w->next_stats_ms < w->next_sweep_ms ? w->next_stats_ms
                                                   : w->next_sweep_ms;
    else if (owns_ttl_keys(w) || wants_defrag(w))
        next = w->next_sweep_ms;
    else
        return -1;
    int64_t t = next - w->now;
    return (int)(t < 0 ? 0 : t > MAX_SLEEP_MS ? MAX_SLEEP_MS : t);
}

/* Announces sleep; returns the timeout to really use. `sleeping` stays set
 * only when poll may really block, until srv_on_awake. */
static int about_to_sleep(srv_worker *w, int timeout)
{
    if (w->kill_pending || w->resume || srv_ps_pending(w))
        return 0; /* CLIENT KILL from a parked section: reap first; or
                     pub/sub messages queued for our connections */
    if (w->rt.ovf_dsts)
        return 1; /* a target's ring is full: retry soon, without spinning */
    if (timeout == 0)
        return 0;
    atomic_store(&w->sleeping, 1);
    atomic_thread_fence(memory_order_seq_cst);
    if (!inbox_empty(w) || atomic_load(&w->rt.park_req) ||
        atomic_load(&w->srv->stop)) {
        atomic_store_explicit(&w->sleeping, 0, memory_order_relaxed);
        return 0;
    }
    return timeout;
}

void srv_worker_reap_killed(srv_worker *w)
{
    w->kill_pending = false;
    for (conn *c = w->conns; c; c = c->next)
        if (c->kill_req)
            conn_close(c);
}

/* Thread-per-core: worker w runs on the w-th CPU this process may use (its
 * affinity mask, so containers and cpusets are respected), keeping its
 * shards' cache lines on one core. On by default as the architecture asks;
 * --pin-threads no lets the kernel move workers, which measured 1.2x-1.6x
 * faster on a 2-core machine shared with a local redis-benchmark (a pinned
 * worker waits for its busy CPU while the other idles). */
static void pin(srv_worker *w)
{
    if (!w->srv->cfg.pin_threads)
        return;
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
        return;
    int count = CPU_COUNT(&allowed);
    if (count <= 0)
        return;
    int want = (int)(w->id % (uint32_t)count), seen = 0, cpu = -1;
    for (int i = 0; i < CPU_SETSIZE && cpu < 0; i++)
        if (CPU_ISSET(i, &allowed) && seen++ == want)
            cpu = i;
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    /* Failure (restricted cpuset) only costs locality. */
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void worker_shutdown(srv_worker *w)
{
    /* Held replies go back now (their clients are being closed); the WAL
     * is fsynced by the main thread before the process exits. */
    for (struct srv_msg *m = w->held_head, *n; m; m = n) {
        n = m->hnext;
        if (srv_msg_send(&w->rt, m->origin, m))
            srv_msg_discard(m);
    }
    w->held_head = w->held_tail = NULL;
    srv_dur_handoff(w);
    w->loop->be->listen_stop(w->loop);
    for (conn *c = w->conns; c; c = c->next)
        conn_close(c);
    w->loop->be->flush(w->loop); /* completes the closes */
    /* A completion backend may need more rounds to finish in-flight I/O. */
    for (int i = 0; w->conns && i < 1000; i++) {
        w->loop->be->poll(w->loop, 10);
        w->loop->be->flush(w->loop);
    }
    atomic_store(&w->rt.exited, 1);
}

void *srv_worker_main(void *arg)
{
    srv_worker *w = arg;
    srv_server *s = w->srv;
    ev_loop *loop = w->loop;
    pin(w);
    update_time(w);
    while (!atomic_load_explicit(&s->stop, memory_order_acquire)) {
        srv_park_point(&w->rt);
        int timeout = about_to_sleep(w, timers(w));
        srv_excl_release(&w->rt); /* never sleep holding the others */
        if (loop->be->poll(loop, timeout) < 0) {
            srv_warning("worker %u: event loop failed: %s", w->id,
                        strerror(errno));
            srv_request_shutdown(s);
            break;
        }
        drain(w);
        conn_resume_drained(w);
        if (w->blk_head)
            srv_blk_iteration(w);
        srv_ps_iteration(w);
        if (w->pub_dirty)
            srv_pub_refresh(w);
        if (w->kill_pending)
            srv_worker_reap_killed(w);
        if (w->rbatch)
            srv_repl_iteration(w);
        if (s->cfg.persistence.enabled)
            srv_dur_iteration(w);
        send_pending(w);
        loop->be->flush(loop);
        srv_excl_release(&w->rt); /* the turn is over (mesh.h) */
    }
    srv_excl_release(&w->rt);
    worker_shutdown(w);
    return NULL;
}

void srv_on_awake(srv_worker *w)
{
    /* Producers that see this skip the wakeup; one that saw the flag
     * still set wakes us once more, which costs only a spurious turn. */
    atomic_store_explicit(&w->sleeping, 0, memory_order_relaxed);
    /* Before anything is dispatched: the wait may have lasted any time,
     * and the commands about to run take their clock from here. */
    update_time(w);
}

void srv_on_park(srv_worker *w)
{
    srv_dur_handoff(w);
}

void srv_on_wakeup(srv_worker *w)
{
    /* Nothing to do here: the iteration drains the channels right after
     * poll returns, woken or not. */
}
