/*
 * server.c — building the process (shards, workers, channels), running it
 * until a signal or SHUTDOWN, and tearing it down (see server.h).
 */
#define _GNU_SOURCE
#include "server/script.h"
#include "server/server.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "server/blocking.h"
#include "server/config/log.h"
#include "server/lazyfree.h"
#include "server/multi.h"
#include "server/pubsub.h"
#include "server/replication.h"
#include "server/worker.h"
#include "util/tsc.h"

static void make_run_id(char out[41])
{
    unsigned char rnd[20];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        uint64_t x = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)out;
        for (size_t i = 0; i < sizeof(rnd); i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            rnd[i] = (unsigned char)(x >> 56);
        }
    }
    for (size_t i = 0; i < sizeof(rnd); i++)
        snprintf(out + 2 * i, 3, "%02x", rnd[i]);
}

static int init_shards(srv_server *s, char *err, size_t errlen)
{
    s->shards = calloc(s->nshards, sizeof(*s->shards));
    if (!s->shards)
        goto oom;
    /* Seeded per process (getrandom) unless --hash-seed fixes it, so that
     * clients cannot aim keys at one worker and one probe chain. Nothing
     * persisted depends on it: loading recomputes placement. */
    s->hash_seed = s->cfg.hash_seed;
    if (!s->cfg.hash_seed_set && getrandom(&s->hash_seed, sizeof(s->hash_seed),
                                           0) != (ssize_t)sizeof(s->hash_seed))
        s->hash_seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^
                       (uint64_t)(uintptr_t)s;
    s->route_mode = s->cfg.route_mode;
    eng_budget_init(&s->budget);
    atomic_store(&s->budget.policy, s->cfg.maxmemory_policy);
    atomic_store(&s->budget.samples, s->cfg.maxmemory_samples);
    atomic_store(&s->budget.lfu_log_factor, s->cfg.lfu_log_factor);
    atomic_store(&s->budget.lfu_decay_time, s->cfg.lfu_decay_time);
    atomic_store(&s->budget.limit, (uint64_t)s->cfg.maxmemory);
    eng_budget_set_tiers(&s->budget, s->cfg.tiers.hot_capacity,
                         s->cfg.tiers.warm_capacity, s->cfg.tiers.cold_capacity,
                         s->cfg.tiers.promotion_batch, s->nshards);
    /* Loading keeps everything (as Redis does); the limit applies after. */
    atomic_store(&s->budget.enforce, !s->cfg.persistence.enabled);
    atomic_store(&s->obs_wanted, s->cfg.persistence.enabled ? 1 : 0);
    s->observer.wanted = &s->obs_wanted;
    for (uint32_t i = 0; i < s->nshards; i++) {
        if (!(s->shards[i] = eng_shard_new(i, 0, &s->observer)))
            goto oom;
        eng_shard_set_seed(s->shards[i], s->hash_seed);
        eng_shard_set_budget(s->shards[i], &s->budget);
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory creating %u shards", s->nshards);
    return -1;
}

static int init_chans(srv_server *s, char *err, size_t errlen)
{
    if (srv_mesh_init(&s->mesh, s->nworkers, s->nshards, s->hash_seed,
                      s->route_mode) == 0)
        return 0;
    snprintf(err, errlen, "out of memory creating worker channels");
    return -1;
}

/* The signals the main thread takes with sigwait (srv_run). */
static void shutdown_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGUSR1);
}

int srv_init(srv_server *s, const srv_config *cfg, char *err, size_t errlen)
{
    /* Blocked before any thread starts, here already: srv_init starts the
     * replication hub's thread, which would otherwise take a SIGTERM with
     * its default action (the process dies, exit -15, instead of shutting
     * down). Every thread inherits the mask; only srv_run's sigwait takes
     * them. */
    sigset_t set;
    shutdown_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg; /* the strings now belong to s */
    /* Before any worker times a command (util/tsc.h). */
    fc_tsc_init(20, false);
    atomic_store(&s->slowlog_us, 10000); /* Redis's defaults */
    atomic_store(&s->slowlog_max, 128);
    atomic_store(&s->slowlog_ids, 0);
    s->nworkers = cfg->threads;
    s->nshards = cfg->shards;
    atomic_init(&s->next_client_id, 1);
    atomic_init(&s->loading, cfg->persistence.enabled ? 1 : 0);
    s->start_mono_ms = eng_now_ms();
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    s->start_unix_ms = (int64_t)rt.tv_sec * 1000 + rt.tv_nsec / 1000000;
    struct timespec mt;
    clock_gettime(CLOCK_MONOTONIC, &mt);
    clock_gettime(CLOCK_REALTIME, &rt);
    atomic_init(&s->wall_offset_ms, srv_wall_offset_of(&rt, &mt));
    make_run_id(s->run_id);
    s->be = ev_backend_select(cfg->io, err, errlen);
    if (!s->be)
        return -1;
    char why[160];
    if (!cfg->io && ev_default_fallback_reason(why, sizeof(why)))
        srv_warning("io_uring is not used (%s): falling back to epoll", why);
    if (srv_cmdtab_build(&s->cmds)) {
        snprintf(err, errlen, "out of memory building the command table");
        return -1;
    }
    /* Each step says what it is about to do, so a start that takes long or
     * fails (memory) shows where. */
    srv_verbose("Creating %u shards", s->nshards);
    if (init_shards(s, err, errlen))
        return -1;
    srv_notice("Creating %u worker threads: %u channels between them "
               "(%llu KiB)",
               s->nworkers, s->nworkers * (s->nworkers - 1),
               (unsigned long long)((uint64_t)s->nworkers * (s->nworkers - 1) *
                                    SRV_CHAN_CAPACITY * sizeof(void *) / 1024));
    if (init_chans(s, err, errlen))
        return -1;
    if (srv_watch_init(s)) {
        snprintf(err, errlen, "out of memory creating the WATCH versions");
        return -1;
    }
    if (srv_blk_init(s)) {
        snprintf(err, errlen, "out of memory creating the blocking registry");
        return -1;
    }
    if (srv_ps_init(s)) {
        snprintf(err, errlen, "out of memory creating the pub/sub registry");
        return -1;
    }
    if (srv_scripts_init(s)) {
        snprintf(err, errlen, "out of memory creating the script cache");
        return -1;
    }
    s->workers = calloc(s->nworkers, sizeof(*s->workers));
    if (!s->workers) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    srv_verbose("Listening on %s:%d (%s)", s->cfg.bind, s->cfg.port,
                s->be->name);
    for (uint32_t i = 0; i < s->nworkers; i++) {
        s->workers[i].listen_fd = s->workers[i].wake_fd = -1;
        if (srv_worker_init(&s->workers[i], s, i, err, errlen))
            return -1;
    }
    if (srv_listen_steer(s, err, errlen))
        return -1;
    if (srv_metrics_open(s, err, errlen))
        return -1;
    return srv_repl_init(s, err, errlen);
}

static void ps_log(int level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    srv_log(level ? SRV_LOG_WARNING : SRV_LOG_NOTICE, "%s", line);
}

/* Writer thread: a lane became durable; its worker may release replies
 * it holds for fsync=always. */
static void ps_durable(void *ctx, uint32_t lane)
{
    srv_server *s = ctx;
    if (lane < s->nworkers)
        srv_worker_wake(&s->workers[lane]);
}

void srv_ps_config(const srv_config *c, ps_config *pc)
{
    ps_config_defaults(pc);
    pc->dir = c->persistence.data_dir;
    pc->segment_size = c->persistence.segment_size_bytes;
    int f = ps_fsync_parse(c->persistence.fsync ? c->persistence.fsync
                                                : "interval");
    pc->fsync = f < 0 ? PS_FSYNC_INTERVAL : f;
    pc->fsync_interval_ms = c->persistence.fsync_interval_ms;
    pc->snapshot_every_s = c->persistence.snapshot_every_seconds;
    pc->snapshot_min_writes = (uint64_t)c->persistence.snapshot_min_writes;
    pc->compress = c->persistence.compress_snapshots;
    pc->channel_capacity = (size_t)c->persistence.wal_channel_capacity;
    pc->repair = c->persistence.repair;
    pc->lane_mode = PS_LANES_PER_THREAD;
    pc->nlanes = c->threads;
    pc->log = ps_log;
}

/* Runs on the main thread while the workers answer -LOADING. */
static int load_data(srv_server *s)
{
    ps_config pc;
    char err[512];
    srv_ps_config(&s->cfg, &pc);
    pc.on_durable = ps_durable;
    pc.ctx = s;
    pc.wall_offset = &s->wall_offset_ms;
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    s->loading_start_unix_ms = (int64_t)rt.tv_sec * 1000 + rt.tv_nsec / 1000000;
    srv_notice("Loading data from %s (fsync %s)", pc.dir,
               ps_fsync_name(pc.fsync));
    ps_persist *ps;
    if (ps_open(&ps, &pc, s->shards, s->nshards, s->hash_seed, err,
                sizeof(err))) {
        srv_warning("Cannot start with persistence: %s", err);
        return -1;
    }
    ps_info in;
    ps_info_get(ps, &in);
    const ps_recover_result *r = &in.recovered;
    srv_notice(
        "DB loaded from disk: %llu keys in %.3f seconds (snapshot: "
        "%llu keys; WAL: %llu records in %llu segments, %llu applied; "
        "%llu expired keys dropped)",
        (unsigned long long)r->keys, (double)r->duration_ms / 1000.0,
        (unsigned long long)r->snap_keys, (unsigned long long)r->wal_records,
        (unsigned long long)r->wal_segments, (unsigned long long)r->wal_applied,
        (unsigned long long)r->expired_dropped);
    s->ps = ps;
    srv_repl_start(s); /* the observer: the WAL, and replicas if any */
    atomic_store(&s->budget.enforce, !atomic_load(&s->replica_mode));
    atomic_store_explicit(&s->loading, 0, memory_order_release);
    /* Each worker binds its WAL lane and republishes its figures on its
     * next turn; idle ones sleep without a timer, so wake them. */
    for (uint32_t i = 0; i < s->nworkers; i++)
        srv_worker_wake(&s->workers[i]);
    return 0;
}

/* After the workers are joined: a final snapshot unless SHUTDOWN NOSAVE,
 * then the WAL is fsynced and closed. */
static void close_data(srv_server *s)
{
    if (!s->ps)
        return;
    if (atomic_load(&s->shutdown_save) != SRV_SAVE_NO) {
        int64_t now = eng_now_ms();
        int64_t off = atomic_load(&s->wall_offset_ms); /* the commands' */
        srv_notice("Saving the final snapshot before exit.");
        int e = ps_save(s->ps, s->shards, now, off);
        if (e && e != EBUSY)
            srv_warning("Error saving the final snapshot: %s (the WAL "
                        "still holds every write)",
                        strerror(e));
    }
    ps_close(s->ps);
    s->ps = NULL;
    srv_notice("Persistence closed: WAL fsynced.");
}

void srv_request_shutdown(srv_server *s)
{
    atomic_store(&s->stop, 1);
    for (uint32_t i = 0; i < s->nworkers; i++)
        srv_worker_wake(&s->workers[i]);
    pthread_kill(s->main_thread, SIGUSR1);
}

static void wait_for_stop(srv_server *s, const sigset_t *set)
{
    for (;;) {
        int sig = 0;
        if (sigwait(set, &sig))
            continue;
        if (sig == SIGINT || sig == SIGTERM) {
            srv_notice("Received %s scheduling shutdown...",
                       sig == SIGINT ? "SIGINT" : "SIGTERM");
            return;
        }
        if (atomic_load(&s->stop)) {
            srv_notice("User requested shutdown...");
            return;
        }
    }
}

int srv_run(srv_server *s)
{
    sigset_t set;
    shutdown_signals(&set);
    /* Blocked by srv_init already; again for a caller that did not. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    s->main_thread = pthread_self();
    int rc = 0;
    if (srv_lazyfree_start())
        srv_warning("cannot start the lazy-free thread: large values are "
                    "freed inline");
    for (uint32_t i = 0; i < s->nworkers; i++) {
        int e = pthread_create(&s->workers[i].thread, NULL, srv_worker_main,
                               &s->workers[i]);
        if (e) {
            srv_warning("cannot start worker %u: %s", i, strerror(e));
            rc = -1;
            break;
        }
        s->workers[i].started = true;
    }
    if (rc == 0) {
        char err[512];
        if (srv_metrics_start(s, err, sizeof(err))) {
            srv_warning("%s", err);
            rc = -1;
        }
    }
    if (rc == 0) {
        /* With persistence, the workers already answer (-LOADING for data
         * commands) while the data loads; "Ready" means the data is in. */
        if (s->cfg.persistence.enabled && load_data(s)) {
            rc = -1;
        } else {
            if (!s->cfg.persistence.enabled)
                srv_repl_start(s);
            srv_notice("Ready to accept connections tcp (%s:%d, %u threads, "
                       "%u shards, io=%s)",
                       s->cfg.bind, s->cfg.port, s->nworkers, s->nshards,
                       s->be->name);
            wait_for_stop(s, &set);
        }
    }
    /* Before anything it reads goes away (persistence, replication). */
    srv_metrics_stop(s);
    atomic_store(&s->stop, 1);
    for (uint32_t i = 0; i < s->nworkers; i++)
        srv_worker_wake(&s->workers[i]);
    for (uint32_t i = 0; i < s->nworkers; i++)
        if (s->workers[i].started)
            pthread_join(s->workers[i].thread, NULL);
    srv_replica_stop_all(s);
    srv_mesh_discard(&s->mesh); /* every message still queued anywhere */
    close_data(s);
    srv_lazyfree_stop();
    if (rc == 0)
        srv_notice("fast-cache is now ready to exit, bye bye...");
    return rc;
}

void srv_destroy(srv_server *s)
{
    if (s->ps) {
        ps_close(s->ps);
        s->ps = NULL;
    }
    srv_metrics_free(s);
    srv_repl_destroy(s);
    for (uint32_t i = 0; s->workers && i < s->nworkers; i++)
        srv_worker_destroy(&s->workers[i]);
    free(s->workers);
    srv_mesh_destroy(&s->mesh);
    if (s->shards)
        for (uint32_t i = 0; i < s->nshards; i++)
            if (s->shards[i])
                eng_shard_free(s->shards[i]);
    free(s->shards);
    srv_watch_destroy(s);
    srv_blk_destroy(s);
    srv_ps_destroy(s);
    srv_scripts_destroy(s);
    srv_cmdtab_free(&s->cmds);
    srv_config_free(&s->cfg);
    memset(s, 0, sizeof(*s));
}
