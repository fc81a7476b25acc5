/*
 * worker.h — one worker thread: its event loop, connections, time, active
 * expiry, and its place in the mesh of workers (its router, rt: channels,
 * in-flight accounting, exclusive execution; route/mesh.h).
 *
 * Loop iteration (worker.c):
 *   park point -> timers (sweep, stats) -> poll (submit, wait, read
 *   clocks, dispatch accepts, reads, wakeups) -> drain incoming channels
 *   (execute requests, complete replies) -> push overflowed messages, wake
 *   their targets -> flush writes.
 *
 * Wakeups. Each worker has an eventfd. A producer wakes a consumer only when
 * the consumer announced it is about to sleep (`sleeping`), and at most once
 * per iteration per target: a store-load handshake (seq_cst) makes sure a
 * message pushed while the consumer decided to sleep is never missed. The
 * consumer sets `sleeping` only when its poll may block, and clears it as
 * soon as the wait returns (srv_on_awake), so a running worker is not woken.
 * The wakeup itself goes through the event loop when the backend can (with
 * io_uring, a MSG_RING that rides on the producer's next submit: no syscall
 * of its own on either side), else through the eventfd.
 *
 * Timers. Poll sleeps without a timeout unless a timer needs it: active
 * expiry only while owned shards hold keys with a TTL, ops/sec sampling
 * only until the rate has decayed to zero.
 *
 * Exclusive execution (route/mesh.h): the loop's park point is at the top
 * of each iteration; a worker leaving its loop for good marks itself
 * exited (rt.exited), which counts as parked forever.
 *
 * Owns: its loop, listening socket, eventfd, connections, stats arrays,
 *   its router's arrays (srv_router_init).
 * Threads: everything here runs on the worker's own thread, except
 *   srv_worker_wake (any thread) and the atomics, which other workers read.
 */
#ifndef FC_SERVER_WORKER_H
#define FC_SERVER_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "server/client.h"
#include "server/pubstats.h"
#include "server/route/route.h"
#include "server/server.h"

/* Command latency histogram buckets: bucket k counts the calls that took
 * at most 2^k microseconds (rounded up to a whole microsecond), k = 0 ..
 * SRV_LAT_BUCKETS - 2; the last one counts the slower ones (+Inf). These
 * are Redis's LATENCY HISTOGRAM buckets (histogram_usec: 1, 2, 4, ...)
 * and exact decimal bounds for Prometheus's `le`. 2^24 us is 16.8 s. */
#define SRV_LAT_BUCKETS 26

static inline unsigned srv_lat_bucket(uint64_t ns)
{
    uint64_t us = (ns + 999) / 1000;
    if (us <= 1)
        return 0;
    unsigned k = 64 - (unsigned)__builtin_clzll(us - 1); /* ceil(log2) */
    return k < SRV_LAT_BUCKETS - 1 ? k : SRV_LAT_BUCKETS - 1;
}

/* The bucket holding quantile q (in 1/10000: 9900 = p99) of the counts
 * lat[] (not cumulative): the first whose cumulative count reaches
 * ceil(q * total). -1 when lat is empty. For INFO latencystats and
 * /metrics' quantiles: a log2 histogram knows a quantile only to its
 * bucket's upper bound. */
static inline int srv_lat_quantile(const uint64_t *lat, uint64_t q)
{
    uint64_t total = 0, cum = 0;
    for (int b = 0; b < SRV_LAT_BUCKETS; b++)
        total += lat[b];
    if (!total)
        return -1;
    uint64_t need = (total * q + 9999) / 10000;
    for (int b = 0; b < SRV_LAT_BUCKETS; b++) {
        cum += lat[b];
        if (cum >= need && cum)
            return b;
    }
    return SRV_LAT_BUCKETS - 1;
}

/* Per-command counters of one worker; summed by INFO commandstats and
 * /metrics (metrics/metrics.h). Written by the worker only (relaxed,
 * plain load + store), read by any thread with relaxed loads: a reader
 * may see calls and the histogram one command apart, never torn values.
 * lat: the same durations as nsec, by srv_lat_bucket (not cumulative). */
typedef struct srv_cmdstat {
    _Atomic uint64_t calls, nsec, rejected, failed;
    _Atomic uint64_t lat[SRV_LAT_BUCKETS];
} srv_cmdstat;

#define SRV_OPS_SAMPLES 16

/* Error replies by prefix ("ERR", "WRONGTYPE", ...: the first word), for
 * INFO errorstats. Written by the worker only; INFO reads them while it
 * writes (relaxed counts, names published by the count's first store),
 * CONFIG RESETSTAT clears them exclusively. Like Redis, at most SRV_ERRSTAT_MAX
 * distinct prefixes are tracked; errors of further ones count only in
 * the total. */
#define SRV_ERRSTAT_MAX 32
#define SRV_ERRSTAT_NAME 32
typedef struct srv_errstat {
    char name[SRV_ERRSTAT_NAME];
    /* 0 = unused; the first release store publishes name, which never
     * changes after (INFO reads other workers' tables while they count,
     * with acquire, and stops at the first unused slot). */
    _Atomic uint64_t count;
} srv_errstat;

typedef struct srv_worker {
    srv_router rt; /* routing: channels, in-flight, parking (route/mesh.h) */
    srv_server *srv;
    uint32_t id;
    pthread_t thread;
    bool started;
    int listen_fd;
    int wake_fd;
    ev_loop *loop;

    /* Time, read once per iteration. */
    int64_t now;            /* monotonic ms */
    int64_t wall_offset_ms; /* unix ms - monotonic ms */
    int64_t next_sweep_ms;
    int64_t next_stats_ms;
    uint64_t rng;

    conn *conns; /* doubly linked list */
    uint32_t nconns;
    bool kill_pending; /* some conn has kill_req set */
    conn *resume;      /* drained after back-pressure (conn.c) */

    /* Cross-worker (the rest is in rt). */
    conn *chan_wait;         /* connections waiting for in-flight room */
    /* Blocked clients of this worker's connections (blocking.h). */
    struct srv_blkw *blk_head;
    _Atomic int blk_poke;         /* a waiter here was marked ready */
    struct srv_blkw *blk_retry;   /* the waiter being retried, or NULL */
    int blk_deny;                 /* inside EXEC: blocking commands do not
                                     block */
    bool blk_blocked;             /* the command running just blocked */
    uint32_t exec_origin;         /* srv_msg_execute: the request's worker
                                     (UINT32_MAX otherwise) */
    void *exec_blk;               /* ... and its m->blk (a waiter's retry) */
    _Atomic int sleeping;

    /* Statistics (see srv_cmdstat for the access rule). */
    srv_cmdstat *cmdstats; /* [srv->cmds.count] */
    _Atomic uint64_t stat_cmds;
    _Atomic uint64_t stat_net_in, stat_net_out;
    _Atomic uint64_t stat_hits, stat_misses;
    _Atomic uint64_t stat_expired;
    _Atomic uint64_t stat_errors; /* every error reply (total_error_replies) */
    srv_errstat errstats[SRV_ERRSTAT_MAX];
    _Atomic uint64_t stat_obuf_disconn; /* client-output-buffer-limit */
    /* Published keyspace figures (pubstats.h). */
    _Atomic uint64_t pub_keys, pub_expires, pub_memory;
    /* Its shards' slab figures and defrag counters (eng_mem_stats, in
     * field order), as of its last sweep tick: INFO's fc_slab_* and
     * fc_defrag_* (pubstats.h). */
    _Atomic uint64_t pub_mem[SRV_PUB_MEM_N];
    _Atomic uint64_t pub_tier[SRV_PUB_TIER_N];
    uint32_t defrag_next; /* the owned shard the next defrag tick starts at */
    /* Bytes of this worker's client connections (struct and buffers), as
     * of its last sweep tick: INFO's mem_clients_normal. */
    _Atomic uint64_t pub_clients_mem;
    bool pub_dirty; /* a command ran or keys expired since the last one */
    _Atomic uint64_t stat_inst_ops; /* ops/sec over the last samples */
    uint64_t ops_samples[SRV_OPS_SAMPLES];
    uint32_t ops_idx;
    uint64_t ops_last_cmds;
    int64_t ops_last_ms;

    /* End of the last command while commands run back to back (one
     * connection's pipeline, one channel's batch), else 0: see
     * srv_execute. */
    uint64_t exec_mark_ns;

    /* Persistence (durable.h). */
    ps_lane *lane;       /* bound once loading is over */
    bool dur_always;     /* fsync=always: hold replies until durable */
    bool exec_wrote;     /* the last command logged records */
    uint32_t nheld;      /* connections whose output waits */
    struct srv_msg *held_head, *held_tail; /* replies that wait */
    int64_t next_snap_check_ms;

    /* Replication (replication.h): this worker's shards' batches and
     * snapshot walker (primary), the records queued for it (replica),
     * connections waiting in WAIT. */
    struct repl_batcher *rbatch;
    struct repl_walker *rwalk;
    struct srv_inbox *inbox;
    struct srv_wait *waits;
    _Atomic int wait_poke; /* acks arrived: look at the waits */
    int64_t last_ack_ask;  /* ms of the last repl_hub_ask_acks */

    /* Scripting (script.h): this worker's Lua state, created on its first
     * script, and its size after the last one (INFO used_memory_lua). */
    struct srv_lua *lua;
    _Atomic uint64_t pub_lua_mem;
    struct srv_slowlog *slow; /* this worker's SLOWLOG ring (slowlog.h) */
} srv_worker;

int srv_worker_init(srv_worker *w, srv_server *s, uint32_t id, char *err,
                    size_t errlen);
/* After every worker's init: makes connections reach only this process's
 * listening sockets (worker.c's listen_socket explains). -1 with err. */
int srv_listen_steer(srv_server *s, char *err, size_t errlen);
/* After the thread has been joined (or never started). */
void srv_worker_destroy(srv_worker *w);
/* The thread's entry point (arg = srv_worker *). */
void *srv_worker_main(void *arg);
/* srv_worker_wake (any thread: interrupts the worker's poll) and
 * srv_on_park are declared in route/mesh.h: parking calls them. */

/* Counts an error reply ("-PREFIX message\r\n") in errorstats. */
void srv_errstat_count(srv_worker *w, const char *reply, size_t len);

/* Closes every connection whose kill_req is set (CLIENT KILL). */
void srv_worker_reap_killed(srv_worker *w);

/* Sums this worker's connections' memory and publishes it. */
void srv_worker_pub_clients(srv_worker *w);

#endif /* FC_SERVER_WORKER_H */
