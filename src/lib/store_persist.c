/*
 * store_persist.c — durability of the shared handle: the store's shards
 * are recovered at open, the engine's observer feeds one WAL lane per
 * shard (under that shard's lock, which is what keeps a shard's records in
 * order whichever thread writes), and one thread hands the lanes to the
 * WAL writer every quarter of fsync_interval_ms and serializes snapshots a
 * slice per shard lock. With fsync = always the observer hands its lane
 * off and waits for the fsync before the write call returns: the shard
 * stays locked meanwhile (its other callers wait too), while writers of
 * other shards share the same fsync (group commit).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lib/lib.h"
#include "persist/persist.h"

static void lib_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void lib_log(int level, const char *fmt, ...)
{
    /* Only problems reach stderr: an embedded store is quiet when fine. */
    if (level == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("fastcache: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void lib_persist_observe(void *ctx, const fc_mutation *m)
{
    fc_store *s = ctx;
    ps_observe(s->ps, m);
    if (s->ps_always) {
        uint64_t gen = ps_flush_shard(s->ps, m->shard);
        if (gen)
            ps_wait_durable(s->ps, m->shard, gen);
    }
    if (s->user_obs)
        s->user_obs(s->user_obs_ctx, m);
}

/* One pass: hand every lane off, and a slice of a running snapshot. */
static bool persist_pass(fc_store *s)
{
    bool more = false;
    for (uint32_t i = 0; i < s->nshards; i++) {
        lib_lock_acquire(&s->shards[i].lock);
        ps_flush_shard(s->ps, i);
        if (ps_snapshot_running(s->ps) &&
            ps_snapshot_work(s->ps, s->engs, i, s->nshards, 4096,
                             eng_now_ms(),
                             ps_wall_offset(s->ps)) != PS_WORK_DONE)
            more = true;
        lib_lock_release(&s->shards[i].lock);
    }
    return more;
}

static void *persist_main(void *arg)
{
    fc_store *s = arg;
    pthread_mutex_lock(&s->ps_mu);
    while (!s->ps_stop) {
        pthread_mutex_unlock(&s->ps_mu);
        bool more = persist_pass(s);
        if (ps_snapshot_due(s->ps, eng_now_ms()))
            ps_bgsave(s->ps);
        pthread_mutex_lock(&s->ps_mu);
        if (more || s->ps_stop)
            continue;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)(s->ps_period_ms % 1000) * 1000000L;
        ts.tv_sec += s->ps_period_ms / 1000 + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&s->ps_cv, &s->ps_mu, &ts);
    }
    pthread_mutex_unlock(&s->ps_mu);
    return NULL;
}

static int fsync_policy(int f)
{
    switch (f) {
    case FC_FSYNC_ALWAYS:
        return PS_FSYNC_ALWAYS;
    case FC_FSYNC_NO:
        return PS_FSYNC_NO;
    default:
        return PS_FSYNC_INTERVAL;
    }
}

int lib_persist_open(fc_store *s, const fc_options *o)
{
    if (o->fsync < FC_FSYNC_DEFAULT || o->fsync > FC_FSYNC_NO ||
        o->fsync_interval_ms < 0 || o->snapshot_min_writes < 0)
        return FC_EINVAL;
    s->engs = malloc(sizeof(*s->engs) * s->nshards);
    if (!s->engs)
        return FC_ENOMEM;
    for (uint32_t i = 0; i < s->nshards; i++)
        s->engs[i] = s->shards[i].eng;
    ps_config pc;
    ps_config_defaults(&pc);
    pc.dir = o->data_dir;
    pc.fsync = fsync_policy(o->fsync);
    if (o->fsync_interval_ms)
        pc.fsync_interval_ms = o->fsync_interval_ms;
    if (o->snapshot_every_s)
        pc.snapshot_every_s = o->snapshot_every_s < 0 ? 0 : o->snapshot_every_s;
    if (o->snapshot_min_writes)
        pc.snapshot_min_writes = (uint64_t)o->snapshot_min_writes;
    pc.repair = o->repair_wal != 0;
    pc.lane_mode = PS_LANES_PER_SHARD;
    pc.log = lib_log;
    char err[512];
    if (ps_open(&s->ps, &pc, s->engs, s->nshards, s->seed, err,
                sizeof(err))) {
        lib_log(1, "cannot open %s: %s", o->data_dir, err);
        s->ps = NULL;
        return FC_EIO;
    }
    s->ps_always = ps_always(s->ps);
    s->ps_period_ms = pc.fsync_interval_ms / 4 ? pc.fsync_interval_ms / 4 : 1;
    /* No other thread can use the store yet: no locks needed here. */
    s->observer.fn = lib_persist_observe;
    s->observer.ctx = s;
    pthread_mutex_init(&s->ps_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->ps_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&s->ps_thread, NULL, persist_main, s)) {
        lib_persist_close(s);
        return FC_ENOMEM;
    }
    s->ps_running = true;
    return FC_OK;
}

void lib_persist_close(fc_store *s)
{
    if (!s->ps) {
        free(s->engs);
        s->engs = NULL;
        return;
    }
    if (s->ps_running) {
        pthread_mutex_lock(&s->ps_mu);
        s->ps_stop = true;
        pthread_cond_signal(&s->ps_cv);
        pthread_mutex_unlock(&s->ps_mu);
        pthread_join(s->ps_thread, NULL);
        s->ps_running = false;
    }
    pthread_mutex_destroy(&s->ps_mu);
    pthread_cond_destroy(&s->ps_cv);
    ps_close(s->ps); /* hands off every lane and fsyncs */
    s->ps = NULL;
    s->observer.fn = NULL;
    free(s->engs);
    s->engs = NULL;
}

int lib_persist_check(const fc_store *s)
{
    return s->ps && ps_write_error(s->ps) ? FC_EIO : FC_OK;
}

int fc_store_save(fc_store *s)
{
    if (!s || !s->ps)
        return FC_EINVAL;
    int e = ps_bgsave(s->ps);
    if (e)
        return e == EBUSY ? FC_EEXISTS : FC_EIO;
    pthread_mutex_lock(&s->ps_mu);
    pthread_cond_signal(&s->ps_cv); /* the thread serializes the slices */
    pthread_mutex_unlock(&s->ps_mu);
    return ps_snapshot_wait(s->ps) ? FC_EIO : FC_OK;
}

int fc_store_sync(fc_store *s)
{
    if (!s)
        return FC_EINVAL;
    if (!s->ps)
        return FC_OK;
    for (uint32_t i = 0; i < s->nshards; i++) {
        lib_lock_acquire(&s->shards[i].lock);
        ps_flush_shard(s->ps, i);
        lib_lock_release(&s->shards[i].lock);
    }
    return ps_sync(s->ps) ? FC_EIO : FC_OK;
}
