/*
 * link.h — the replica side of FCRP: one thread that connects to a primary,
 * says Hello with the watermarks it has, and turns the frames that come
 * back into calls on an applier (the server's workers, or the library's
 * embedded replica), reconnecting after any failure.
 *
 * What the link guarantees the applier (spec §5, with §9's fixes):
 *   - records reach `record` in stream order, each exactly once: a record
 *     at or below the shard's watermark is skipped (the seam between a
 *     snapshot or backlog and the live stream overlaps on purpose);
 *   - a gap (a record above watermark + 1) is never applied: the link drops
 *     the connection and resumes from its watermarks, so the primary sends
 *     the missing frames from its backlog or a snapshot (§9.5);
 *   - a snapshot arrives as snapshot_begin, entries (already-expired ones
 *     are not passed), snapshot_end, with chunk indexes in order, is_last on
 *     the last chunk and End present (§9.4); nothing is held in memory
 *     beyond one frame (§9.3);
 *   - `synced` once per (re)sync, when the applied watermarks have reached
 *     what the primary had when it finished the snapshot (SnapshotEnd's),
 *     or after a backlog catch-up what it had when it answered our Hello:
 *     only then is the copy complete. A primary that holds nothing we lack
 *     is synced at once; a snapshot it sends anyway is another resync;
 *   - nothing after an applier error: the link drops and resyncs (from the
 *     watermarks; after a failure between SnapshotBegin and SnapshotEnd,
 *     with a full sync).
 * Position: a fresh link says has_since = 0; once it has a position (the
 * end of a snapshot, or records after a fresh Hello) every later Hello
 * carries its watermarks, across reconnects, so the primary can resume
 * from its backlog. It forgets them (and reconnects at once, with a full
 * sync) when the primary's shard count changes or the primary is behind
 * them (another history: a restarted seed primary), and after an Error
 * "resync required" (then after the backoff). A fresh session that
 * gets records without a snapshot (a seed primary serving seq 1.. from
 * its backlog) first empties the applier with an empty snapshot_begin /
 * snapshot_end pair when it may hold a failed sync's part.
 * Shards are the primary's: a record's `shard` indexes the watermarks,
 * and SnapshotBegin/End must carry one watermark per primary shard. The
 * per-chunk watermarks of SnapshotChunk are not checked (the seed repeats
 * W_b; ours may differ).
 * Reads keep a reassembly buffer and never discard a partial frame (§9.2);
 * the thread sleeps in poll() on the socket and a stop pipe, never on a
 * timer loop (§9.1). After a failure it waits reconnect_backoff_ms, doubling
 * up to backoff_max_ms, with random jitter (a fleet of replicas does not
 * reconnect in lockstep); a session that reached ONLINE resets the delay.
 *
 * With a fast-cache primary (both Hellos carry FCRP_F_CAP_FC) the link also
 * sends Ack frames with its watermarks (one per primary shard, no base):
 * at most every LINK_ACK_MIN_MS (100 ms) while records are applied (after
 * `flush` returned), at once when the primary sends an Ack frame (it asks
 * while a WAIT is pending), and every second while idle; none while a
 * snapshot loads. A seed primary never
 * reads after Hello, so it is never sent any, and the link then sleeps in
 * poll() with no timeout at all.
 * Capabilities: our Hello advertises FCRP_F_CAP_CHECK | CAP_LZ4 | CAP_FC;
 * what both Hellos carry holds for every later frame both ways (checked
 * frames required when CAP_CHECK is agreed; Acks are never compressed).
 *
 * Owns: its thread, socket, buffers, watermarks. Threads: the applier's
 *   callbacks run on the link thread; start/stop/stats from any thread
 *   (stats: a copy the thread publishes under the link's mutex at each
 *   state change and after each read). Memory: the config's strings are
 *   copied at start. Not interruptible: name resolution (getaddrinfo) and
 *   the applier's callbacks; repl_link_stop waits for them.
 */
#ifndef FC_REPL_LINK_H
#define FC_REPL_LINK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/fcrp.h"

/* What the link feeds. Every callback returns 0, or non-zero to make the
 * link drop the session (it then resyncs from its watermarks). */
typedef struct repl_apply_ops {
    /* A full resync starts: whatever the applier holds is to be replaced by
     * the entries that follow. */
    int (*snapshot_begin)(void *ctx);
    /* One live entry of the snapshot (expire_at_ms: unix ms or
     * FCRP_NO_EXPIRY). */
    int (*entry)(void *ctx, const fcrp_entry *e);
    /* The snapshot's entries are all in; records follow. */
    int (*snapshot_end)(void *ctx);
    /* One record to apply. op is fcrp_record_effective_op (a SET or EXPIRE
     * whose expiry has passed arrives as FCRP_OP_DEL). FCRP_OP_CLEAR means
     * "remove every key": only FLUSHALL/FLUSHDB produce it, which clear
     * every shard of the primary at once and publish those records before
     * any later write, so a replica that places keys by its own hash
     * clears everything. */
    int (*record)(void *ctx, const fcrp_record *r, uint8_t op);
    /* The copy is complete (see above). */
    void (*synced)(void *ctx);
    /* After the frames of one read: the applier may submit what it queued
     * and may block here to back-pressure the primary. NULL: nothing. */
    void (*flush)(void *ctx);
} repl_apply_ops;

typedef struct repl_link_cfg {
    char *host; /* copied */
    uint16_t port;
    char *token; /* NULL = none; copied */
    uint8_t role; /* FCRP_ROLE_REPLICA or FCRP_ROLE_SUBSCRIBER */
    uint32_t connect_timeout_ms; /* connect, and waiting for the Hello */
    uint32_t write_timeout_ms;
    uint32_t backoff_ms;     /* first reconnect delay */
    uint32_t backoff_max_ms; /* cap of the doubling */
    fcrp_limits lim;
    const repl_apply_ops *ops;
    void *ctx;
    /* NULL: silent. Levels as the server's log (REPL_LOG_*). */
    void (*log)(int level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
} repl_link_cfg;

/* The levels the link logs at: the server's SRV_LOG_* values. */
enum {
    REPL_LOG_DEBUG = 0,
    REPL_LOG_VERBOSE = 1,
    REPL_LOG_NOTICE = 2,
    REPL_LOG_WARNING = 3
};

/* Defaults: role replica, 500/500 ms, backoff 200 ms up to 5 s, default
 * limits. host, port and ops are the caller's to set (ops: all but synced
 * and flush required). At start, zero durations become 1 ms, a cap below
 * the first delay becomes it, and zero limits the defaults. */
void repl_link_cfg_default(repl_link_cfg *c);

enum repl_link_state {
    REPL_LINK_CONNECTING = 0, /* connecting or waiting for the Hello */
    REPL_LINK_SYNC = 1,       /* receiving a snapshot */
    REPL_LINK_CATCHUP = 2,    /* snapshot in; applying up to its end */
    REPL_LINK_ONLINE = 3,     /* synced, following the live stream */
    REPL_LINK_DOWN = 4,       /* waiting to reconnect */
    REPL_LINK_STOPPED = 5,
};
const char *repl_link_state_name(int state);

typedef struct repl_link_stats {
    int state;                  /* enum repl_link_state */
    bool synced_once;           /* the copy was complete at least once */
    int64_t last_io_unix_ms;    /* last byte received; 0 never */
    int64_t link_down_since_unix_ms; /* 0 while up (past the Hellos) */
    int64_t sync_started_unix_ms;    /* current/last snapshot */
    /* records_skipped: duplicates (seq <= watermark); entries_loaded:
     * live snapshot entries passed on; catchups: resumes that reached
     * sync without a snapshot; gaps: sessions dropped on a gap;
     * reconnects: connection attempts after the first. */
    uint64_t bytes_in, frames_in, batches, records_applied,
        records_skipped, entries_loaded, snapshots, catchups, gaps,
        reconnects, acks_sent;
    uint64_t sync_bytes; /* snapshot bytes received in the current sync */
    /* Records applied since the start of the primary's history: the sum
     * over shards of watermark - base (base from the primary's Hello; 0
     * when it is not a fast-cache primary). */
    uint64_t offset;
    uint32_t primary_shards;
    uint32_t backoff_ms;  /* the last reconnect delay (jitter included) */
    char last_error[160]; /* why the last session ended ("" none) */
} repl_link_stats;

typedef struct repl_link repl_link;

/* Starts the thread. The link begins with no watermarks (a full sync).
 * -1 with err (bad config, no memory, no thread) and *out NULL. */
int repl_link_start(repl_link **out, const repl_link_cfg *cfg, char *err,
                    size_t errlen);
/* Stops the thread (closing the socket) and frees. After it returns no
 * callback runs. NULL is fine. Prompt in every wait (connect, Hello,
 * stream, write, backoff): they all poll a stop pipe. */
void repl_link_stop(repl_link *l);
void repl_link_stats_get(repl_link *l, repl_link_stats *out);

#endif /* FC_REPL_LINK_H */
