/*
 * persist.h — durability for a set of engine shards: recovery at open, the
 * WAL fed by the engine's mutation hook, snapshots and their triggers, and
 * the counters INFO persistence reports. The server and the library's
 * shared handle both use it; neither knows the files.
 *
 * Data directory: wal-<segno>.log segments, snap-<id>.fcs snapshots (two
 * kept: the newest, and the previous one as a fallback together with the
 * WAL since its cut), and LOCK, held with flock() while open so that two
 * processes never write one directory. Formats: docs/FORMATS.md.
 *
 * Epochs. Each open starts a new epoch (one more than any in the files) and
 * a new segment; files of older epochs are never appended to. Sequence
 * numbers only order records within an epoch (a shard's seq restarts with
 * the process), which is what recover.h relies on.
 *
 * Lanes (see wal.h). LANES_PER_THREAD: one lane per producer thread; each
 * thread binds its lane once (ps_bind_lane) and must hand it off
 * (ps_handoff) whenever another thread may next write the shards it wrote
 * (the server: end of every loop iteration, park points, end of an
 * exclusive section). A thread without a lane goes through a locked
 * fallback lane, handed off at once. LANES_PER_SHARD: the lane is chosen by
 * shard, so the shard's lock (the library's shared handle) protects it;
 * ps_flush_shard hands one off under that lock.
 *
 * Threads: ps_observe runs on the mutating thread; everything else is safe
 *   from any thread unless said otherwise. Memory: the persist object owns
 *   its WAL, snapshot thread and strings; it borrows the shards.
 */
#ifndef FC_PERSIST_PERSIST_H
#define FC_PERSIST_PERSIST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "persist/recover.h"
#include "persist/wal.h"

enum ps_lane_mode { PS_LANES_PER_THREAD = 0, PS_LANES_PER_SHARD = 1 };

typedef struct ps_config {
    const char *dir;
    size_t segment_size;        /* bytes; 64 MiB default */
    int fsync;                  /* enum ps_fsync */
    int64_t fsync_interval_ms;  /* 100 */
    int64_t snapshot_every_s;   /* 300; 0 = no periodic snapshots */
    uint64_t snapshot_min_writes; /* 1000 */
    bool compress;              /* zstd snapshots */
    size_t channel_capacity;    /* records queued before back-pressure */
    bool repair;                /* --repair-wal */
    int lane_mode;              /* enum ps_lane_mode */
    uint32_t nlanes;            /* threads (PER_THREAD); ignored per shard */
    void (*on_durable)(void *ctx, uint32_t lane);
    void *ctx;
    /* The caller's unix-minus-monotonic offset, when it keeps one (the
     * server): records and recovery then convert with exactly the value
     * its commands use. NULL: persist keeps its own. */
    _Atomic int64_t *wall_offset;
    void (*log)(int level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
} ps_config;

void ps_config_defaults(ps_config *c);

typedef struct ps_persist ps_persist;

typedef struct ps_info {
    int fsync;
    bool bgsave_in_progress;
    int64_t bgsave_started_unix_ms;
    int64_t last_save_unix_ms; /* last good snapshot (or the loaded one) */
    int last_bgsave_status;    /* 0 ok, else errno */
    int64_t last_bgsave_ms;    /* duration; -1 none yet */
    uint64_t last_snapshot_bytes, last_snapshot_keys, last_snapshot_raw;
    uint64_t saves;            /* snapshots completed in this process */
    uint64_t changes_since_save;
    int wal_error;             /* errno, 0 = healthy */
    ps_wal_stats wal;
    uint64_t wal_disk_bytes;
    uint64_t epoch;
    ps_recover_result recovered;
} ps_info;

/* Creates the directory, locks it, recovers into shards (empty, no
 * observer yet), opens a new WAL epoch and installs nothing: the caller
 * installs ps_observe as the shards' observer once this returns. seed: the
 * engine's hash seed. -1 with err. */
int ps_open(ps_persist **out, const ps_config *cfg, eng_shard **shards,
            uint32_t nshards, uint64_t seed, char *err, size_t errlen);
/* Writes out everything logged (fsynced) and frees. Snapshots first with
 * ps_save when wanted. */
void ps_close(ps_persist *p);

/* The mutation observer: ctx = the ps_persist. */
void ps_observe(void *ctx, const fc_mutation *m);

/* PER_THREAD: binds lane i to the calling thread. */
void ps_bind_lane(ps_persist *p, uint32_t i);
ps_lane *ps_lane_of(ps_persist *p, uint32_t i);
/* PER_THREAD: hands off the calling thread's lane; returns its generation
 * (0 when empty). */
uint64_t ps_handoff(ps_persist *p);
/* PER_SHARD: hands off shard's lane (caller holds the shard). */
uint64_t ps_flush_shard(ps_persist *p, uint32_t shard);

/* 0 when writes may proceed, else the errno that makes the log refuse
 * them (disk error): the MISCONF condition. */
int ps_write_error(const ps_persist *p);

/* BGSAVE: rolls the WAL and starts a snapshot that the shards' holders
 * then serialize with ps_snapshot_work. EBUSY when one runs. */
int ps_bgsave(ps_persist *p);
bool ps_snapshot_running(const ps_persist *p);
/* BGSAVE SCHEDULE while one runs: ps_snapshot_due answers true once it
 * has ended, so the periodic check starts the next one. */
void ps_bgsave_schedule(ps_persist *p);
/* Serializes slices of the running snapshot for shards first, first +
 * stride, ... (the caller holds them), up to budget slots in all. */
enum ps_work { PS_WORK_DONE = 0, PS_WORK_MORE = 1, PS_WORK_BUSY = 2 };
int ps_snapshot_work(ps_persist *p, eng_shard **shards, uint32_t first,
                      uint32_t stride, size_t budget, int64_t now,
                      int64_t wall_offset_ms);
/* Whether the periodic trigger wants a snapshot now. Call it about once a
 * second: it also keeps the unix-time offset of logged expiries current. */
bool ps_snapshot_due(ps_persist *p, int64_t now_mono_ms);
/* SAVE: a complete snapshot on the calling thread, which must hold every
 * shard (exclusive section, or no other thread running). 0 or errno. */
int ps_save(ps_persist *p, eng_shard **shards, int64_t now,
            int64_t wall_offset_ms);
/* Blocks until no snapshot runs; the last one's status (0 or errno). */
int ps_snapshot_wait(ps_persist *p);
/* Blocks until lane's generation gen is durable. 0, or the WAL's errno. */
int ps_wait_durable(ps_persist *p, uint32_t lane, uint64_t gen);
/* unix ms - monotonic ms, as the WAL converts expiries. */
int64_t ps_wall_offset(ps_persist *p);
/* Whether writes must wait for durability (fsync = always). */
bool ps_always(const ps_persist *p);
/* Waits for everything logged so far to be durable (SHUTDOWN NOSAVE). */
int ps_sync(ps_persist *p);

void ps_info_get(ps_persist *p, ps_info *out);
const char *ps_fsync_name(int fsync);
/* "always"/"interval"/"everysec"/"no" -> enum ps_fsync, -1 if unknown. */
int ps_fsync_parse(const char *s);

#endif /* FC_PERSIST_PERSIST_H */
