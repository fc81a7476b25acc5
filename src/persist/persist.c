/*
 * persist.c — the durability facade (contract in persist.h): open and
 * recovery, the observer, lanes, snapshot triggers, pruning and counters.
 */
#define _GNU_SOURCE
#include "persist/persist.h"
#include "persist/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "persist/format.h"
#include "persist/snapshot.h"

#define SNAP_KEEP 2

struct ps_persist {
    ps_config cfg;
    char *dir;
    int lock_fd;
    ps_wal *wal;
    ps_snapper *snap;
    uint32_t nshards;
    uint32_t nlanes; /* lanes in the WAL, fallback lane last */
    uint64_t seed, epoch;
    _Atomic int64_t wall_offset; /* unix ms - monotonic ms */
    pthread_mutex_t fb_mu;       /* the fallback lane */

    pthread_mutex_t mu; /* what follows */
    uint64_t next_snap_id;
    uint64_t writes_at_save;
    int64_t last_save_mono, last_save_unix;
    int last_status;
    int64_t last_duration_ms, bgsave_started_unix;
    bool scheduled; /* BGSAVE SCHEDULE: one more once the running one ends */
    uint64_t last_bytes, last_keys, last_raw, saves;
    ps_recover_result recovered;
};

static __thread struct {
    ps_persist *p;
    ps_lane *lane;
} tls;

static void quiet_log(int level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}

void ps_config_defaults(ps_config *c)
{
    memset(c, 0, sizeof(*c));
    c->dir = "./var/fast-cache";
    c->segment_size = (size_t)64 * 1024 * 1024;
    c->fsync = PS_FSYNC_INTERVAL;
    c->fsync_interval_ms = 100;
    c->snapshot_every_s = 300;
    c->snapshot_min_writes = 1000;
    c->compress = true;
    c->channel_capacity = 16384;
    c->nlanes = 1;
}

const char *ps_fsync_name(int f)
{
    return f == PS_FSYNC_ALWAYS ? "always" : f == PS_FSYNC_NO ? "no"
                                                              : "interval";
}

int ps_fsync_parse(const char *s)
{
    if (!strcmp(s, "always"))
        return PS_FSYNC_ALWAYS;
    if (!strcmp(s, "interval") || !strcmp(s, "everysec"))
        return PS_FSYNC_INTERVAL;
    if (!strcmp(s, "no"))
        return PS_FSYNC_NO;
    return -1;
}

/* mkdir -p */
static int make_dirs(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
        return ENAMETOOLONG;
    for (char *q = path + 1; *q; q++) {
        if (*q != '/')
            continue;
        *q = 0;
        if (mkdir(path, 0755) && errno != EEXIST)
            return errno;
        *q = '/';
    }
    if (mkdir(path, 0755) && errno != EEXIST)
        return errno;
    return 0;
}

static uint64_t total_appended(ps_persist *p)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < p->nlanes; i++)
        n += atomic_load_explicit(&ps_wal_lane(p->wal, i)->appended,
                                  memory_order_relaxed);
    return n;
}

static int read_snap_header(const char *dir, uint64_t id, pf_snap_header *h)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/snap-%016" PRIx64 ".fcs", dir, id);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    uint8_t b[PF_SNAP_HEADER_LEN];
    ssize_t n = read(fd, b, sizeof(b));
    close(fd);
    return n == (ssize_t)sizeof(b) &&
                   pf_snap_header_decode(b, sizeof(b), h) == PF_OK
               ? 0
               : -1;
}

/* Keeps the SNAP_KEEP newest snapshots and the WAL the oldest of them
 * needs (so a damaged newest one still has a complete fallback). */
static void prune(ps_persist *p)
{
    uint64_t ids[1024];
    size_t n = ps_list_snapshots(p->dir, ids, 1024);
    if (n > 1024 || n == 0)
        return;
    size_t keep_from = n > SNAP_KEEP ? n - SNAP_KEEP : 0;
    for (size_t i = 0; i < keep_from; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/snap-%016" PRIx64 ".fcs", p->dir,
                 ids[i]);
        unlink(path);
    }
    pf_snap_header h;
    if (read_snap_header(p->dir, ids[keep_from], &h) == 0)
        ps_wal_prune(p->wal, h.wal_from_segno);
}

static void on_snap_done(void *ctx, const ps_snap_result *r)
{
    ps_persist *p = ctx;
    if (r->status == 0)
        prune(p);
    pthread_mutex_lock(&p->mu);
    p->last_status = r->status;
    p->last_duration_ms = r->duration_ms;
    if (r->status == 0) {
        p->last_save_unix = r->started_unix_ms;
        p->last_save_mono = ps_clock_ms(CLOCK_MONOTONIC) - r->duration_ms;
        p->last_bytes = r->bytes;
        p->last_keys = r->keys;
        p->last_raw = r->raw_bytes;
        p->saves++;
    }
    pthread_mutex_unlock(&p->mu);
    if (r->status == ECANCELED)
        p->cfg.log(0, "Snapshot %016" PRIx64 " abandoned (shutdown)",
                   r->snap_id);
    else if (r->status)
        p->cfg.log(1, "Snapshot %016" PRIx64 " failed: %s", r->snap_id,
                   strerror(r->status));
    else
        p->cfg.log(0,
                   "Snapshot %016" PRIx64 " saved: %" PRIu64 " keys, %" PRIu64
                   " bytes in %" PRId64 " ms",
                   r->snap_id, r->keys, r->bytes, r->duration_ms);
}

int ps_open(ps_persist **out, const ps_config *cfg, eng_shard **shards,
            uint32_t nshards, uint64_t seed, char *err, size_t errlen)
{
    ps_persist *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->cfg = *cfg;
    if (!p->cfg.log)
        p->cfg.log = quiet_log;
    p->lock_fd = -1;
    p->nshards = nshards;
    p->seed = seed;
    p->dir = strdup(cfg->dir);
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->fb_mu, NULL);
    p->last_duration_ms = -1;
    int e = p->dir ? make_dirs(cfg->dir) : ENOMEM;
    if (e) {
        snprintf(err, errlen, "cannot create data directory %s: %s", cfg->dir,
                 strerror(e));
        goto fail;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/LOCK", cfg->dir);
    p->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (p->lock_fd < 0 || flock(p->lock_fd, LOCK_EX | LOCK_NB)) {
        snprintf(err, errlen,
                 errno == EWOULDBLOCK
                     ? "data directory %s is in use by another process"
                     : "cannot lock data directory %s: %s",
                 cfg->dir, strerror(errno));
        goto fail;
    }
    ps_recover_opts ro = {.dir = cfg->dir,
                          .shards = shards,
                          .nshards = nshards,
                          .seed = seed,
                          .repair = cfg->repair,
                          .have_wall_offset = cfg->wall_offset != NULL,
                          .wall_offset = cfg->wall_offset
                                             ? atomic_load(cfg->wall_offset)
                                             : 0,
                          .log = p->cfg.log};
    if (ps_recover(&ro, &p->recovered, err, errlen))
        goto fail;
    const ps_recover_result *rr = &p->recovered;
    p->epoch = rr->max_epoch + 1;
    p->next_snap_id = rr->max_snap_id + 1;
    p->last_save_unix = rr->have_snapshot ? rr->snap_created_unix_ms : 0;
    p->last_save_mono = ps_clock_ms(CLOCK_MONOTONIC);
    atomic_store(&p->wall_offset,
                 ps_clock_ms(CLOCK_REALTIME) - ps_clock_ms(CLOCK_MONOTONIC));
    p->nlanes = (cfg->lane_mode == PS_LANES_PER_SHARD ? nshards : cfg->nlanes) +
                1;
    ps_wal_opts wo = {.dir = cfg->dir,
                      .segment_size = cfg->segment_size,
                      .fsync = cfg->fsync,
                      .fsync_interval_ms = cfg->fsync_interval_ms,
                      .capacity = cfg->channel_capacity ? cfg->channel_capacity
                                                        : 16384,
                      .nlanes = p->nlanes,
                      .first_segno = rr->max_segno + 1,
                      .epoch = p->epoch,
                      .seed = seed,
                      .nshards = nshards,
                      .on_durable = cfg->on_durable,
                      .ctx = cfg->ctx,
                      .log = p->cfg.log};
    if (ps_wal_open(&p->wal, &wo, err, errlen))
        goto fail;
    if ((e = ps_snapper_new(&p->snap, cfg->dir, nshards, on_snap_done, p))) {
        snprintf(err, errlen, "snapshot setup: %s", strerror(e));
        goto fail;
    }
    *out = p;
    return 0;
fail:
    ps_close(p);
    return -1;
}

void ps_close(ps_persist *p)
{
    if (!p)
        return;
    if (tls.p == p) /* a later ps_persist at this address is not ours */
        tls.p = NULL;
    ps_snapper_free(p->snap);
    ps_wal_close(p->wal); /* hands off every lane, fsyncs */
    if (p->lock_fd >= 0)
        close(p->lock_fd);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->fb_mu);
    free(p->dir);
    free(p);
}

/* --- the observer and lanes ------------------------------------------- */

void ps_observe(void *ctx, const fc_mutation *m)
{
    ps_persist *p = ctx;
    _Atomic int64_t *off = p->cfg.wall_offset ? p->cfg.wall_offset
                                              : &p->wall_offset;
    int64_t exp = m->expire_at_ms
                      ? m->expire_at_ms +
                            atomic_load_explicit(off, memory_order_relaxed)
                      : 0;
    if (p->cfg.lane_mode == PS_LANES_PER_SHARD) {
        ps_lane_append(ps_wal_lane(p->wal, m->shard), m, exp);
    } else if (tls.p == p) {
        ps_lane_append(tls.lane, m, exp);
    } else {
        pthread_mutex_lock(&p->fb_mu);
        ps_lane *l = ps_wal_lane(p->wal, p->nlanes - 1);
        ps_lane_append(l, m, exp);
        ps_lane_handoff(l);
        pthread_mutex_unlock(&p->fb_mu);
    }
}

void ps_bind_lane(ps_persist *p, uint32_t i)
{
    tls.p = p;
    tls.lane = ps_wal_lane(p->wal, i);
}

ps_lane *ps_lane_of(ps_persist *p, uint32_t i)
{
    return ps_wal_lane(p->wal, i);
}

uint64_t ps_handoff(ps_persist *p)
{
    return tls.p == p ? ps_lane_handoff(tls.lane) : 0;
}

uint64_t ps_flush_shard(ps_persist *p, uint32_t shard)
{
    return ps_lane_handoff(ps_wal_lane(p->wal, shard));
}

int ps_write_error(const ps_persist *p)
{
    return ps_wal_error(p->wal);
}

/* --- snapshots -------------------------------------------------------- */

int ps_bgsave(ps_persist *p)
{
    if (ps_snap_running(p->snap))
        return EBUSY;
    uint64_t segno;
    int re = ps_wal_roll(p->wal, &segno);
    if (re)
        return re;
    pthread_mutex_lock(&p->mu);
    pf_snap_header h = {.flags = p->cfg.compress ? PF_SNAP_F_ZSTD : 0,
                        .epoch = p->epoch,
                        .snap_id = p->next_snap_id,
                        .wal_from_segno = segno,
                        .seed = p->seed,
                        .nshards = p->nshards,
                        .created_unix_ms = ps_clock_ms(CLOCK_REALTIME)};
    uint64_t writes = total_appended(p);
    pthread_mutex_unlock(&p->mu);
    int e = ps_snap_start(p->snap, &h);
    if (e == 0) {
        pthread_mutex_lock(&p->mu);
        p->next_snap_id++;
        p->writes_at_save = writes;
        p->bgsave_started_unix = h.created_unix_ms;
        p->last_save_mono = ps_clock_ms(CLOCK_MONOTONIC); /* next trigger */
        pthread_mutex_unlock(&p->mu);
    }
    return e;
}

void ps_bgsave_schedule(ps_persist *p)
{
    pthread_mutex_lock(&p->mu);
    p->scheduled = true;
    pthread_mutex_unlock(&p->mu);
}

bool ps_snapshot_running(const ps_persist *p)
{
    return ps_snap_running(p->snap);
}

int ps_snapshot_work(ps_persist *p, eng_shard **shards, uint32_t first,
                     uint32_t stride, size_t budget, int64_t now,
                     int64_t wall_offset_ms)
{
    if (!ps_snap_running(p->snap))
        return PS_WORK_DONE;
    for (uint32_t i = first; i < p->nshards; i += stride) {
        if (ps_snap_busy(p->snap))
            return PS_WORK_BUSY; /* let the writer catch up */
        /* One shard's slice per turn keeps the turn short. */
        if (ps_snap_step(p->snap, shards[i], i, budget, now, wall_offset_ms))
            return PS_WORK_MORE;
    }
    return PS_WORK_DONE;
}

bool ps_snapshot_due(ps_persist *p, int64_t now_mono_ms)
{
    /* Also the place where the unix/monotonic offset follows clock steps
     * (records store absolute unix expiry); adopted only past the 1 ms
     * jitter of reading two clocks, as the server's workers do. */
    int64_t off = ps_clock_ms(CLOCK_REALTIME) - ps_clock_ms(CLOCK_MONOTONIC);
    int64_t cur = atomic_load_explicit(&p->wall_offset, memory_order_relaxed);
    if (!p->cfg.wall_offset && (off > cur + 1 || off < cur - 1))
        atomic_store_explicit(&p->wall_offset, off, memory_order_relaxed);
    if (ps_snap_running(p->snap))
        return false;
    pthread_mutex_lock(&p->mu);
    if (p->scheduled) {
        p->scheduled = false;
        pthread_mutex_unlock(&p->mu);
        return true;
    }
    if (p->cfg.snapshot_every_s <= 0) {
        pthread_mutex_unlock(&p->mu);
        return false;
    }
    bool due = now_mono_ms - p->last_save_mono >=
                   p->cfg.snapshot_every_s * 1000 &&
               total_appended(p) - p->writes_at_save >=
                   p->cfg.snapshot_min_writes;
    pthread_mutex_unlock(&p->mu);
    return due;
}

/* Serializes every shard of the running snapshot on this thread, which
 * holds them all, and waits for its file. */
static int drive_all(ps_persist *p, eng_shard **shards, int64_t now,
                     int64_t wall_offset_ms)
{
    for (uint32_t i = 0; i < p->nshards; i++) {
        while (ps_snap_step(p->snap, shards[i], i, 1u << 20, now,
                            wall_offset_ms)) {
            while (ps_snap_busy(p->snap)) {
                struct timespec ts = {0, 200 * 1000};
                nanosleep(&ts, NULL);
            }
        }
    }
    return ps_snap_wait(p->snap);
}

int ps_save(ps_persist *p, eng_shard **shards, int64_t now,
            int64_t wall_offset_ms)
{
    /* A background snapshot in progress (BGSAVE, then SIGTERM): as Redis
     * kills its BGSAVE child, abandon it (its .tmp goes) and take the one
     * asked for, of the state as it is now. */
    if (ps_snap_running(p->snap))
        ps_snap_abort(p->snap);
    int e = ps_bgsave(p);
    if (e)
        return e;
    return drive_all(p, shards, now, wall_offset_ms);
}

int ps_snapshot_wait(ps_persist *p)
{
    return ps_snap_wait(p->snap);
}

int ps_wait_durable(ps_persist *p, uint32_t lane, uint64_t gen)
{
    return ps_wal_wait_durable(p->wal, lane, gen);
}

int64_t ps_wall_offset(ps_persist *p)
{
    return atomic_load_explicit(p->cfg.wall_offset ? p->cfg.wall_offset
                                                   : &p->wall_offset,
                                memory_order_relaxed);
}

bool ps_always(const ps_persist *p)
{
    return p->cfg.fsync == PS_FSYNC_ALWAYS;
}

int ps_sync(ps_persist *p)
{
    return ps_wal_sync(p->wal);
}

void ps_info_get(ps_persist *p, ps_info *out)
{
    memset(out, 0, sizeof(*out));
    out->fsync = p->cfg.fsync;
    out->bgsave_in_progress = ps_snap_running(p->snap);
    ps_wal_stats_get(p->wal, &out->wal);
    out->wal_error = ps_wal_error(p->wal);
    out->wal_disk_bytes = ps_wal_disk_bytes(p->wal);
    pthread_mutex_lock(&p->mu);
    out->bgsave_started_unix_ms = p->bgsave_started_unix;
    out->last_save_unix_ms = p->last_save_unix;
    out->last_bgsave_status = p->last_status;
    out->last_bgsave_ms = p->last_duration_ms;
    out->last_snapshot_bytes = p->last_bytes;
    out->last_snapshot_keys = p->last_keys;
    out->last_snapshot_raw = p->last_raw;
    out->saves = p->saves;
    out->changes_since_save = total_appended(p) - p->writes_at_save;
    out->epoch = p->epoch;
    out->recovered = p->recovered;
    pthread_mutex_unlock(&p->mu);
}
