/*
 * cmd_persist.c — SAVE, BGSAVE, LASTSAVE and INFO's Persistence section
 * (persistence itself is src/persist; the worker side is durable.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "server/durable.h"
#include "server/server.h"
#include "server/srvcmd.h"
#include "server/worker.h"

#define DISABLED_ERR                                                        \
    "ERR persistence is disabled (start with --data-dir DIR or "            \
    "--persistence yes)"

static bool ready(srv_exec *x, ps_persist **ps)
{
    if (!x->srv->cfg.persistence.enabled) {
        resp_error(x->c->w, DISABLED_ERR);
        return false;
    }
    if (!(*ps = srv_ps(x->srv))) {
        resp_error(x->c->w,
                   "LOADING fast-cache is loading the dataset in memory");
        return false;
    }
    return true;
}

static void save_error(srv_exec *x, int e)
{
    char msg[200];
    if (e == EBUSY)
        snprintf(msg, sizeof(msg), "ERR Background save already in progress");
    else
        snprintf(msg, sizeof(msg), "ERR snapshot failed: %s (see the log)",
                 strerror(e));
    resp_error(x->c->w, msg);
}

/* Runs exclusively (every other worker parked): the whole snapshot is
 * serialized on this thread, as Redis's SAVE blocks its server. */
static void cmd_save(srv_exec *x)
{
    ps_persist *ps;
    if (!ready(x, &ps))
        return;
    if (ps_snapshot_running(ps)) { /* as Redis: SAVE does not wait */
        save_error(x, EBUSY);
        return;
    }
    int e = ps_save(ps, x->srv->shards, x->c->now, x->c->wall_offset_ms);
    if (e)
        save_error(x, e);
    else
        resp_ok(x->c->w);
}

static void cmd_bgsave(srv_exec *x)
{
    ps_persist *ps;
    bool schedule = x->c->argc == 2 && srv_arg_is(&x->c->argv[1], "schedule");
    if (x->c->argc > 2 || (x->c->argc == 2 && !schedule)) {
        resp_error(x->c->w, "ERR syntax error");
        return;
    }
    if (!ready(x, &ps))
        return;
    int e = srv_dur_bgsave(x->srv);
    if (e == EBUSY && schedule) {
        /* As Redis: the next one starts once the running one has ended
         * (worker 0's once-a-second snapshot check starts it). */
        ps_bgsave_schedule(ps);
        resp_simple(x->c->w, "Background saving scheduled");
        return;
    }
    if (e)
        save_error(x, e);
    else
        resp_simple(x->c->w, "Background saving started");
}

static void cmd_lastsave(srv_exec *x)
{
    ps_persist *ps;
    if (!ready(x, &ps))
        return;
    ps_info in;
    ps_info_get(ps, &in);
    int64_t t = in.last_save_unix_ms ? in.last_save_unix_ms
                                     : x->srv->start_unix_ms;
    resp_int(x->c->w, t / 1000);
}

#define add srv_info_line

static long long secs(int64_t ms)
{
    return ms < 0 ? -1 : (long long)(ms / 1000);
}

void srv_info_persistence(srv_server *s, fc_buf *b)
{
    add(b, "# Persistence");
    bool loading = atomic_load(&s->loading) != 0;
    add(b, "loading:%d", loading ? 1 : 0);
    add(b, "async_loading:0");
    if (loading)
        add(b, "loading_start_time:%lld", secs(s->loading_start_unix_ms));
    ps_persist *ps = srv_ps(s);
    if (!s->cfg.persistence.enabled || !ps) {
        add(b, "aof_enabled:%d", s->cfg.persistence.enabled ? 1 : 0);
        return;
    }
    ps_info in;
    ps_info_get(ps, &in);
    int64_t last = in.last_save_unix_ms ? in.last_save_unix_ms
                                        : s->start_unix_ms;
    add(b, "rdb_changes_since_last_save:%llu",
        (unsigned long long)in.changes_since_save);
    add(b, "rdb_bgsave_in_progress:%d", in.bgsave_in_progress ? 1 : 0);
    add(b, "rdb_last_save_time:%lld", secs(last));
    add(b, "rdb_last_bgsave_status:%s", in.last_bgsave_status ? "err" : "ok");
    add(b, "rdb_last_bgsave_time_sec:%lld",
        in.last_bgsave_ms < 0 ? -1 : (long long)(in.last_bgsave_ms + 999) / 1000);
    add(b, "rdb_current_bgsave_time_sec:%lld",
        in.bgsave_in_progress
            ? (long long)((s->start_unix_ms + eng_now_ms() - s->start_mono_ms -
                           in.bgsave_started_unix_ms) /
                          1000)
            : -1);
    add(b, "rdb_saves:%llu", (unsigned long long)in.saves);
    add(b, "snapshot_last_keys:%llu",
        (unsigned long long)in.last_snapshot_keys);
    add(b, "snapshot_last_bytes:%llu",
        (unsigned long long)in.last_snapshot_bytes);
    add(b, "snapshot_last_raw_bytes:%llu",
        (unsigned long long)in.last_snapshot_raw);
    if (in.last_bgsave_status)
        add(b, "snapshot_last_error:%s", strerror(in.last_bgsave_status));
    add(b, "aof_enabled:1");
    add(b, "aof_rewrite_in_progress:0");
    add(b, "aof_last_write_status:%s", in.wal_error ? "err" : "ok");
    add(b, "aof_current_size:%llu", (unsigned long long)in.wal_disk_bytes);
    add(b, "wal_fsync:%s", ps_fsync_name(in.fsync));
    add(b, "wal_epoch:%llu", (unsigned long long)in.epoch);
    add(b, "wal_segment:%llu", (unsigned long long)in.wal.segno);
    add(b, "wal_records_written:%llu", (unsigned long long)in.wal.records);
    add(b, "wal_bytes_written:%llu", (unsigned long long)in.wal.bytes);
    add(b, "wal_fsyncs:%llu", (unsigned long long)in.wal.fsyncs);
    add(b, "wal_last_fsync_time:%lld", secs(in.wal.last_fsync_unix_ms));
    add(b, "wal_queued_records:%llu", (unsigned long long)in.wal.queued_records);
    add(b, "wal_write_errors:%llu", (unsigned long long)in.wal.write_errors);
    if (in.wal_error)
        add(b, "wal_last_error:%s", strerror(in.wal_error));
    const ps_recover_result *r = &in.recovered;
    add(b, "recovered_keys:%llu", (unsigned long long)r->keys);
    add(b, "recovered_snapshot_keys:%llu", (unsigned long long)r->snap_keys);
    add(b, "recovered_wal_records:%llu", (unsigned long long)r->wal_applied);
    add(b, "recovered_torn_bytes:%llu", (unsigned long long)r->torn_bytes);
    add(b, "recovered_expired_dropped:%llu",
        (unsigned long long)r->expired_dropped);
    add(b, "recovery_time_ms:%lld", (long long)r->duration_ms);
}

static const srv_cmd cmds[] = {
    {{"save", 1, CMD_NOSCRIPT, 0, 0, 0, CMD_SPLIT_NONE, NULL, "server",
      "Synchronously saves the database(s) to disk.", "1.0.0"},
     cmd_save,
     SRV_CMD_EXCL,
     NULL},
    {{"bgsave", -1, CMD_NOSCRIPT, 0, 0, 0, CMD_SPLIT_NONE, NULL, "server",
      "Asynchronously saves the database(s) to disk.", "1.0.0"},
     cmd_bgsave,
     0,
     NULL},
    {{"lastsave", 1, CMD_FAST, 0, 0, 0, CMD_SPLIT_NONE, NULL, "server",
      "Returns the Unix timestamp of the last successful save to disk.",
      "1.0.0"},
     cmd_lastsave,
     0,
     NULL},
};

const srv_cmd *srv_cmds_persist(size_t *n)
{
    *n = sizeof(cmds) / sizeof(cmds[0]);
    return cmds;
}
