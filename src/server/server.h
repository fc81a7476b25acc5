/*
 * server.h — the process: configuration, the engine shards, the workers and
 * the channels between them, process-wide counters, start and shutdown.
 *
 * Shape (see docs/ARCHITECTURE.md): W workers, one thread each (pinned to
 * CPU w only with pin_threads, see worker.c); each accepts on its own
 * SO_REUSEPORT socket steered to this process only (worker.c), has its own
 * event loop, and owns the shards
 * s with s % W == w.
 * The shards live in ONE array shared by all workers (cmd_ctx.shards), but
 * a worker touches another's shard only while that worker is parked
 * (exclusive execution, route/mesh.h).
 *
 * Owns: the config, the shard array and every shard, the workers array, the
 *   mesh (the channel matrix between workers, route/mesh.h), the command
 *   table. srv_destroy frees all of it, after the workers have been joined.
 * Threads: srv_init / srv_run / srv_destroy run on the main thread. Workers
 *   read the fields below without locks: they are written before the
 *   threads start, or are atomics, or (cfg) are written only by CONFIG SET
 *   while every other worker is parked.
 * Shutdown: SIGINT/SIGTERM (handled by the main thread with sigwait) or the
 *   SHUTDOWN command (srv_request_shutdown) set `stop` and wake every worker;
 *   each one stops accepting, closes its connections and leaves its loop;
 *   the main thread joins them, drains the channels and frees everything.
 */
#ifndef FC_SERVER_SERVER_H
#define FC_SERVER_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "engine/engine.h"
#include "persist/persist.h"
#include "server/config/config.h"
#include "server/net/ev.h"
#include "server/route/mesh.h"
#include "server/srvcmd.h"

#define SRV_VERSION "7.0.15" /* Redis version whose behaviour we match */

struct srv_worker;

typedef struct srv_server {
    srv_config cfg;
    const ev_backend *be;
    uint32_t nworkers;
    struct srv_worker *workers; /* [nworkers] */
    srv_mesh mesh;              /* channels, token (route/mesh.h) */
    eng_shard **shards;         /* [nshards] */
    uint32_t nshards;           /* power of two */
    uint64_t hash_seed;         /* key hash seed: --hash-seed, else random */
    int route_mode;             /* cfg.route_mode: keys hash with
                                   eng_route_hash(hash_seed, route_mode) */
    srv_cmdtab cmds;
    int64_t start_mono_ms;
    int64_t start_unix_ms;
    char run_id[41];
    pthread_t main_thread;
    _Atomic int stop; /* shutdown requested */
    _Atomic uint64_t next_client_id;
    _Atomic uint32_t nclients;
    _Atomic uint64_t stat_conn_received;
    _Atomic uint64_t stat_rejected_conn;
    _Atomic int64_t stat_reset_ms; /* CONFIG RESETSTAT time (unused: 0) */
    /* unix ms - monotonic ms, ONE value for the process (workers adopt a
     * new one only when the clock moved by more than the 1 ms jitter of
     * reading two clocks): absolute times convert the same way on every
     * worker, in the WAL and at recovery, so PXAT T survives a restart as
     * exactly T. */
    _Atomic int64_t wall_offset_ms;

    /* Persistence (NULL when off). The shards' observer points at
     * `observer`, whose fn is set once recovery is over. While `loading`
     * (set before the workers start, cleared with release once the data
     * is in and ps is set) workers refuse data commands and leave the
     * shards to the main thread, which is loading them. */
    ps_persist *ps;
    eng_observer observer;
    /* The observer's `wanted` flag (engine.h): 1 once the WAL or a
     * replica hub may consume mutation records (persistence on, or a hub
     * opened: before its listener exists, so before any replica's
     * snapshot cut); never lowered. Until then no write calls srv_observe
     * nor builds an op record. */
    _Atomic int obs_wanted;
    /* Every shard's memory budget (src/engine/evict.c): maxmemory and the
     * policy (CONFIG SET writes them), the used total and peak, evicted
     * keys. Not enforced while loading or while a replica. */
    eng_budget budget;
    _Atomic int loading;
    _Atomic int shutdown_save; /* SRV_SAVE_*: what SHUTDOWN asked */
    int64_t loading_start_unix_ms;
    /* Replication (replication.h). hub: the primary's listener and
     * backlog (NULL when not a primary). repl_seq: each shard's last seq
     * observed, for WAIT (written by the shard's holder, relaxed).
     * replica: the link and its queues, changed under repl_mu. The gate
     * flags are read by every command (relaxed). */
    struct repl_hub *_Atomic hub;
    uint64_t seq_base;
    _Atomic uint64_t *repl_seq;
    struct srv_replica *replica;
    pthread_mutex_t repl_mu;
    _Atomic int repl_gate;    /* replica_mode || repl_loading */
    _Atomic int replica_mode; /* client writes get -READONLY */
    _Atomic int repl_loading; /* a full sync is loading: -LOADING */
    /* WATCH (multi.h): per-bucket write versions, the number of clients
     * watching something, and the FLUSHDB/FLUSHALL generation. */
    _Atomic uint32_t *watch_ver;
    uint32_t watch_mask;
    _Atomic uint64_t watchers;
    /* Blocked clients (blocking.h): the registry, and how many wait (the
     * write path looks at the registry only while this is non-zero). */
    struct srv_blk *blk;
    _Atomic uint64_t blk_waiting;
    struct srv_pubsub *pubsub; /* pub/sub registry and inboxes (pubsub.h) */
    /* The Prometheus endpoint and the stats log (metrics/metrics.h); NULL
     * when both are off. */
    struct srv_metrics *metrics;
    _Atomic uint64_t flush_gen;
    /* Scripting (script.h): the script cache; the worker + 1 of a script
     * past busy-reply-threshold (0: none), which other workers answer
     * -BUSY for (exec.c); the threshold in ms (CONFIG busy-reply-threshold,
     * alias lua-time-limit). */
    struct srv_scripts *scripts;
    _Atomic int script_busy;
    _Atomic int script_busy_fn; /* ... and it is a function (FCALL) */
    _Atomic int64_t busy_reply_ms;
    /* SLOWLOG (slowlog.h): slowlog-log-slower-than (us; < 0: off) and
     * slowlog-max-len, CONFIG SET at any time; the entries' ids. */
    _Atomic int64_t slowlog_us, slowlog_max;
    _Atomic uint64_t slowlog_ids;
} srv_server;

enum { SRV_SAVE_DEFAULT = 0, SRV_SAVE_YES = 1, SRV_SAVE_NO = 2 };

/* unix ms - monotonic ms from two clock readings; the one formula the
 * process uses (see wall_offset_ms). */
static inline int64_t srv_wall_offset_of(const struct timespec *rt,
                                         const struct timespec *mt)
{
    return ((int64_t)rt->tv_sec - (int64_t)mt->tv_sec) * 1000 +
           ((int64_t)rt->tv_nsec - (int64_t)mt->tv_nsec) / 1000000;
}

/* The persistence object once loading is over, else NULL. */
static inline ps_persist *srv_ps(srv_server *s)
{
    return atomic_load_explicit(&s->loading, memory_order_acquire) ? NULL
                                                                   : s->ps;
}

/* Builds everything but starts no thread: shards, listeners, loops,
 * channels. -1 with a message in err (bind failure, OOM, ...). */
int srv_init(srv_server *s, const srv_config *cfg, char *err, size_t errlen);
/* Starts the workers, waits for SIGINT/SIGTERM or SHUTDOWN, stops and joins
 * them. 0 on a clean stop, -1 when a worker could not start. */
int srv_run(srv_server *s);
/* Frees everything srv_init built (and what srv_run left). */
void srv_destroy(srv_server *s);
/* Any thread: asks the process to shut down (as SIGTERM does). */
void srv_request_shutdown(srv_server *s);
/* The telemetry threads (metrics/metrics.h, defined in metrics/http.c).
 * open (in srv_init): binds the endpoint when cfg.metrics_bind is set, so
 * a bad address or a port in use fails the start with a message naming
 * it; 0, or -1 with err. start (in srv_run, workers running): the HTTP
 * daemon and, when stats_log_interval_ms > 0, the stats log thread; 0, or
 * -1 with err and nothing left running. stop: joins both, before what
 * they read goes away. free (in srv_destroy): safe when never opened. */
int srv_metrics_open(srv_server *s, char *err, size_t errlen);
int srv_metrics_start(srv_server *s, char *err, size_t errlen);
void srv_metrics_stop(srv_server *s);
void srv_metrics_free(srv_server *s);

/* Persistence settings from the config (for ps_open and CONFIG GET). */
void srv_ps_config(const srv_config *c, ps_config *pc);

static inline uint32_t srv_shard_owner(const srv_server *s, uint32_t shard)
{
    return shard % s->nworkers;
}

#endif /* FC_SERVER_SERVER_H */
