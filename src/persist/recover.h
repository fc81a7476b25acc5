/*
 * recover.h — start-up recovery: the newest valid snapshot, then the WAL
 * after it, into empty engine shards.
 *
 * Order of the log. Segments are replayed in segment-number order from the
 * snapshot's wal_from_segno (from the first segment when there is no
 * snapshot); a gap in the numbering is corruption. Records of the
 * snapshot's own epoch are skipped when their seq is at or below the
 * snapshot's cut for their shard (the cut argument is in snapshot.h);
 * records of later epochs (later runs of the process) all apply. Keys are
 * placed by the CURRENT process's hash (seed and shard count may differ
 * from the run that wrote them); a CLEAR of a shard written under another
 * layout removes exactly the keys that layout put in that shard.
 *
 * Damage. A snapshot whose checksum or structure is wrong is skipped with
 * an error in the log and the previous one is used (its WAL is kept for
 * this). In the WAL, an incomplete or bad record at the tail of the LAST
 * segment is a crash mid-write: the segment is truncated there and the
 * bytes dropped are logged. A bad record anywhere else stops recovery with
 * an error naming the file and offset, unless `repair` is set: then the
 * valid prefix is kept, the segment is truncated at the damage, later
 * segments are removed, and the log says what was dropped.
 *
 * Expiry. Replay runs as if before every expiry, so that an EXPIRE or
 * PERSIST record later in the log can still rescue a key whose first TTL
 * has passed by now; expired keys are purged at the end.
 *
 * Threads: the caller's thread, with exclusive use of the shards (no
 *   observer installed). Memory: files are mapped read-only and unmapped.
 */
#ifndef FC_PERSIST_RECOVER_H
#define FC_PERSIST_RECOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"

typedef struct ps_recover_opts {
    const char *dir;
    eng_shard **shards;
    uint32_t nshards; /* power of two */
    /* The engine's key hash: XXH3-64 with this seed (the seed of a run
     * that wrote a file is in its header, so its layout can be rebuilt). */
    uint64_t seed;
    bool repair;
    bool have_wall_offset; /* use wall_offset to convert unix -> monotonic */
    int64_t wall_offset;
    /* level: 0 notice, 1 warning. */
    void (*log)(int level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
} ps_recover_opts;

typedef struct ps_recover_result {
    uint64_t max_segno, max_snap_id, max_epoch; /* 0 when none */
    bool have_snapshot;
    uint64_t snap_id, snap_keys;
    int64_t snap_created_unix_ms;
    uint64_t wal_segments, wal_records, wal_applied;
    uint64_t expired_dropped;
    uint64_t torn_bytes;     /* dropped from a torn tail */
    uint64_t repaired_bytes; /* dropped by repair */
    uint64_t keys;           /* live keys after recovery */
    int64_t duration_ms;
} ps_recover_result;

/* 0, or -1 with a message naming the file and offset in err. */
int ps_recover(const ps_recover_opts *o, ps_recover_result *res, char *err,
               size_t errlen);

/* Lists snapshot ids in dir (ascending) into ids (capacity cap); returns
 * how many there are (may exceed cap). */
size_t ps_list_snapshots(const char *dir, uint64_t *ids, size_t cap);

#endif /* FC_PERSIST_RECOVER_H */
