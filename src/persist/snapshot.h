/*
 * snapshot.h — forkless snapshots: shards are serialized by the threads
 * that own them, a slice at a time between requests, and one snapshot
 * thread compresses, checksums and writes the file.
 *
 * The cut (why no fork and no copy-on-write are needed). A shard's slice
 * records the shard's sequence number s0 when its serialization begins
 * (PF_ITEM_SHARD_BEGIN), then walks the table with eng_scan in slices while
 * the shard keeps serving. The image is fuzzy: an entry changed during the
 * walk may be seen before or after the change. But every WAL record is a
 * whole-key fact (a SET carries the full value and absolute expiry; DEL,
 * EXPIRE and CLEAR are absolute too), so replaying every record with
 * seq > s0 of that shard on top of the image gives exactly the state at
 * the end of the log: a key changed after s0 ends with the value of its
 * last record, whatever the walk saw; a key not changed after s0 was
 * present for the whole walk, which eng_scan guarantees to visit. Extra
 * memory is the slices in flight: at most PS_SNAP_QUEUE_MAX bytes, after
 * which producers skip their turn (ps_snap_busy) until the writer catches
 * up.
 *
 * Files: written as snap-<id>.tmp, fsynced, renamed to snap-<id>.fcs, and
 * the directory fsynced; only then is the snapshot reported done (and the
 * caller may prune the WAL). A failed or abandoned snapshot leaves no .fcs.
 *
 * Threads: ps_snap_step for shard i is called only by the thread holding
 *   shard i; start/abort/stats by any thread (one mutex). Memory: the
 *   snapper owns its queue, cursors and thread.
 */
#ifndef FC_PERSIST_SNAPSHOT_H
#define FC_PERSIST_SNAPSHOT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "persist/format.h"

#define PS_SNAP_QUEUE_MAX ((size_t)8 * 1024 * 1024)
#define PS_SNAP_SLICE_BYTES ((size_t)128 * 1024)

typedef struct ps_snapper ps_snapper;

typedef struct ps_snap_result {
    int status;      /* 0 or errno */
    uint64_t snap_id;
    uint64_t wal_from_segno;
    uint64_t keys;
    uint64_t bytes;  /* file size */
    uint64_t raw_bytes; /* body before compression */
    int64_t started_unix_ms, duration_ms;
} ps_snap_result;

/* on_done runs on the snapshot thread once the file is durable (or the
 * snapshot failed). */
int ps_snapper_new(ps_snapper **out, const char *dir, uint32_t nshards,
                   void (*on_done)(void *ctx, const ps_snap_result *r),
                   void *ctx);
/* Aborts a running snapshot (its .tmp removed) and frees. */
void ps_snapper_free(ps_snapper *sn);

/* Starts snapshot h (h->snap_id etc. filled by the caller). EBUSY when one
 * runs, else 0 or an errno (cannot create the file). */
int ps_snap_start(ps_snapper *sn, const pf_snap_header *h);
/* Whether a snapshot is in progress (the file not yet done). */
bool ps_snap_running(const ps_snapper *sn);
/* Whether producers should pause (too many bytes waiting to be written). */
bool ps_snap_busy(const ps_snapper *sn);
/* Serializes up to `budget` table slots of shard idx for the running
 * snapshot. Returns true while this shard still has work. */
bool ps_snap_step(ps_snapper *sn, eng_shard *sh, uint32_t idx, size_t budget,
                  int64_t now, int64_t wall_offset_ms);
/* Abandons the running snapshot (its .tmp removed; status ECANCELED) and
 * returns once it has stopped. */
void ps_snap_abort(ps_snapper *sn);
/* Blocks until no snapshot runs; returns the last result's status. */
int ps_snap_wait(ps_snapper *sn);

#endif /* FC_PERSIST_SNAPSHOT_H */
