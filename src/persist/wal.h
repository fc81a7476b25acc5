/*
 * wal.h — the write-ahead log: lanes that producers fill without locks, and
 * one writer thread that appends their chunks to segment files, fsyncs by
 * policy and reports what is durable.
 *
 * Why lanes and one writer. A worker must never block on disk I/O nor take
 * a lock per write. Each producer thread owns a lane: a private buffer it
 * appends encoded records to (no lock, no atomic). Once per event-loop
 * iteration (or when the buffer passes PS_LANE_FLUSH_BYTES) the producer
 * hands the buffer off as one chunk: a mutex held for a pointer swap, not
 * per record. The writer takes every queued chunk at once, writes them with
 * one write() per chunk and covers all of them with one fdatasync: group
 * commit across every worker.
 *
 * Order. A shard's records must reach the file in sequence order. A shard
 * is written by one thread at a time (its owner, or a thread holding it
 * exclusively), and that thread's lane keeps its order; the caller makes
 * sure a shard changes hands only after the previous holder handed its lane
 * off (the server hands off at park points and before releasing an
 * exclusive section; the shared library handle uses one lane per shard,
 * under the shard's lock). Chunks are queued in hand-off order and written
 * in queue order.
 *
 * Durability. Every chunk carries its lane's generation (1, 2, ... per
 * lane). After an fsync the writer publishes, per lane, the generation
 * covered (`durable_gen`), then calls on_durable. With fsync=always a
 * producer holds a write's reply until durable_gen reaches the generation
 * its record went into. With interval the writer fsyncs every
 * fsync_interval_ms (and early when 64 MiB are unsynced). With no, only
 * segment rolls and close fsync.
 *
 * Back-pressure and errors. The queue holds at most `capacity` records:
 * a hand-off beyond that blocks until the writer catches up (never drops).
 * A write or fsync error (ENOSPC, EIO) puts the log in the failed state
 * (ps_wal_error): the segment is truncated back to its last good size, the
 * unwritten and unsynced chunks are kept, and the writer retries every
 * PS_RETRY_MS until the disk accepts them again; callers refuse new writes
 * meanwhile (MISCONF).
 *
 * Threads: a lane is used by one thread at a time (see above);
 *   ps_wal_roll / sync / stats / error may be called by any thread.
 * Memory: the wal owns the lanes and every chunk.
 */
#ifndef FC_PERSIST_WAL_H
#define FC_PERSIST_WAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fastcache.h"

#define PS_LANE_FLUSH_BYTES (256 * 1024)
#define PS_RETRY_MS 1000

enum ps_fsync { PS_FSYNC_NO = 0, PS_FSYNC_INTERVAL = 1, PS_FSYNC_ALWAYS = 2 };

typedef struct ps_wal ps_wal;

typedef struct ps_lane {
    uint8_t *buf;
    size_t len, cap;
    uint32_t nrec;
    uint32_t id;
    size_t last_len; /* the previous chunk's size: the next one's first guess */
    uint64_t gen;                 /* generation of the chunk being filled */
    _Atomic uint64_t durable_gen; /* written by the writer */
    _Atomic uint64_t appended;    /* records so far (stats, triggers) */
    bool oom;                     /* an append failed: see ps_lane_append */
    ps_wal *wal;
} ps_lane;

typedef struct ps_wal_opts {
    const char *dir;
    size_t segment_size;
    int fsync;                /* enum ps_fsync */
    int64_t fsync_interval_ms;
    size_t capacity;          /* records queued before hand-off blocks */
    uint32_t nlanes;
    uint64_t first_segno;     /* the segment to create */
    uint64_t epoch, seed;
    uint32_t nshards;
    void (*on_durable)(void *ctx, uint32_t lane);
    void *ctx;
    void (*log)(int level, const char *fmt, ...) /* may be NULL */
        __attribute__((format(printf, 2, 3)));
} ps_wal_opts;

typedef struct ps_wal_stats {
    uint64_t records, bytes;     /* written so far */
    uint64_t fsyncs;
    uint64_t segno;              /* current segment */
    uint64_t segment_bytes;      /* its size */
    uint64_t queued_records;     /* waiting for the writer */
    int64_t last_fsync_unix_ms;
    uint64_t write_errors;
} ps_wal_stats;

/* Creates segment first_segno and starts the writer. -1 with err. */
int ps_wal_open(ps_wal **out, const ps_wal_opts *o, char *err, size_t errlen);
/* Writes and fsyncs everything handed off, stops the writer, frees. */
void ps_wal_close(ps_wal *w);

ps_lane *ps_wal_lane(ps_wal *w, uint32_t i);

/* Encodes one mutation (expire given in unix ms). Hands the lane off when
 * it passes PS_LANE_FLUSH_BYTES. If the buffer cannot grow the record is
 * lost: the lane is marked oom and ps_wal_error reports ENOMEM from then on,
 * so callers refuse writes (the engine change is already made). */
void ps_lane_append(ps_lane *l, const fc_mutation *m, int64_t expire_unix);

/* Hands the lane's records to the writer (no-op when empty). Blocks while
 * the queue is full. Returns the generation handed off (0: nothing). */
uint64_t ps_lane_handoff(ps_lane *l);

static inline bool ps_lane_durable(const ps_lane *l, uint64_t gen)
{
    return atomic_load_explicit(&l->durable_gen, memory_order_acquire) >= gen;
}

/* Closes the current segment (fsynced) and starts the next, whose number
 * goes to *segno. Every chunk handed off after this returns lands in it or
 * later. 0, or the errno of the failed state (the roll did not happen). */
int ps_wal_roll(ps_wal *w, uint64_t *segno);
/* Waits until everything handed off before the call is written and
 * fsynced. 0, or the errno of the failure. */
int ps_wal_sync(ps_wal *w);
/* Blocks until lane's generation gen is durable. 0, or the errno of a
 * failure that stops it (the wait ends; the record stays queued). */
int ps_wal_wait_durable(ps_wal *w, uint32_t lane, uint64_t gen);
/* Deletes segments numbered below segno (never the current one). */
void ps_wal_prune(ps_wal *w, uint64_t segno);

/* 0, or the errno of the unresolved failure (writes must be refused). */
int ps_wal_error(const ps_wal *w);
void ps_wal_stats_get(ps_wal *w, ps_wal_stats *st);
/* Total bytes of the segment files now in the directory. */
uint64_t ps_wal_disk_bytes(ps_wal *w);

/* Segment file name for segno (buf of at least 32 bytes). */
void ps_wal_segment_name(char *buf, size_t n, uint64_t segno);

#endif /* FC_PERSIST_WAL_H */
