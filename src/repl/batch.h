/*
 * batch.h — the replication batcher: turns a shard's mutation records into
 * FCRP MutationBatch frames (spec §4.2), one frame per shard at a time, and
 * says when a batch is due by size or by age.
 *
 * Owns: one growable buffer per shard holding the frame being built (header
 *   placeholder, record count placeholder, records encoded as they are
 *   pushed: no second copy at flush). A finished frame (repl_frame) belongs
 *   to whoever took it (the backlog, once pushed there).
 * Threads: none of its own, no locks. A batcher is driven by one thread at a
 *   time; the server gives each worker one for the shards it owns (the other
 *   slots stay empty), so batching is as shared-nothing as the shards.
 * Time: the caller passes `now_us` (any monotonic microsecond clock); the
 *   batcher never reads a clock, so tests drive it exactly.
 *
 * Flush rules (the seed's, §4.2): after a push the batch is full when its
 * records >= max_records or its record bytes >= max_bytes (so it may exceed
 * max_bytes by one record; a record is never split), or always with the
 * immediate policy. A non-empty batch is due by time once its oldest record
 * is max_delay_us old. Unlike the seed, a record that would take the frame
 * past the peers' payload cap is refused before it is appended
 * (REPL_BATCH_FLUSH_FIRST when flushing the batch first makes room,
 * FC_ETOOBIG when it cannot fit any frame).
 *
 * Why src/repl is in libfastcache rather than the server: the embedded
 * replica and the library's replicated store of issue 7 use the same
 * batcher and backlog, and both are pure data structures (no sockets, no
 * threads), so the server gains nothing by owning them.
 */
#ifndef FC_REPL_BATCH_H
#define FC_REPL_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "persist/format.h"
#include "protocol/fcrp.h"
#include "util/buf.h"

typedef struct repl_batch_cfg {
    uint32_t max_records;  /* batch_max_records: 512 */
    size_t max_bytes;      /* batch_max_bytes (record bytes): 1 MiB */
    uint64_t max_delay_us; /* batch_max_delay_us: 750 */
    bool immediate;        /* send_policy = immediate */
    uint32_t max_frame;    /* the peers' caps: min(max_payload,
                              max_uncompressed) of their fcrp_limits; a
                              frame's records fit in it with the count
                              and, when tx.check, the check */
    fcrp_tx tx;            /* compression / check of the frames */
} repl_batch_cfg;

void repl_batch_cfg_default(repl_batch_cfg *c);

/* A finished frame and what it covers. data is malloc'd; repl_frame_free. */
typedef struct repl_frame {
    uint8_t *data;
    size_t len; /* whole frame: header, payload, check */
    uint32_t shard;
    uint64_t min_seq, max_seq;
    uint32_t records;
    size_t raw_bytes; /* uncompressed payload bytes */
} repl_frame;

void repl_frame_free(repl_frame *f);

typedef struct repl_pending {
    fc_buf buf;      /* frame under construction */
    size_t count_at; /* offset of the u32 record count */
    uint32_t records;
    size_t bytes;      /* encoded record bytes */
    uint64_t first_us; /* push time of the oldest record */
    uint64_t min_seq, max_seq;
    uint64_t last_seq; /* last seq pushed for the shard, ever */
} repl_pending;

typedef struct repl_batcher {
    repl_batch_cfg cfg;
    uint32_t nshards;
    uint32_t npending; /* shards with a non-empty batch */
    repl_pending *shard;
} repl_batcher;

enum {
    REPL_BATCH_OK = 0,          /* appended; not full */
    REPL_BATCH_FULL = 1,        /* appended; take the shard's frame now */
    REPL_BATCH_FLUSH_FIRST = 2, /* not appended: take, then push again */
};

/* FC_EINVAL for a zero limit or shard count; FC_ENOMEM. */
int repl_batcher_init(repl_batcher *b, uint32_t nshards,
                      const repl_batch_cfg *cfg);
void repl_batcher_free(repl_batcher *b);

/* Appends r (copied) to batch r->shard. Returns an enum above, or FC_EINVAL
 * (shard out of range, seq not above the shard's last, or a record the wire
 * cannot carry), FC_ETOOBIG (larger than any frame), FC_ENOMEM. */
int repl_batcher_push(repl_batcher *b, const fcrp_record *r, uint64_t now_us);

/* Finishes shard's batch into *out (ownership passes to the caller) and
 * starts an empty one. 1 when a frame came out, 0 when the batch was empty,
 * FC_ENOMEM (the batch is dropped: its records are lost, which the backlog
 * then sees as a gap). */
int repl_batcher_take(repl_batcher *b, uint32_t shard, repl_frame *out);

/* True when shard's batch is non-empty and full, old enough, or immediate. */
bool repl_batcher_due(const repl_batcher *b, uint32_t shard, uint64_t now_us);
/* Microseconds until the next batch falls due (0: one is due now);
 * UINT64_MAX when every batch is empty: the caller can sleep that long. */
uint64_t repl_batcher_next_due(const repl_batcher *b, uint64_t now_us);
/* The replication record of a WAL record (persist/format.h): the same
 * facts, kind -> op (same codes), vtype, shard, seq, key, value; expiry 0
 * (none) -> FCRP_NO_EXPIRY, a negative one -> 0 (long past);
 * timestamp_ms = now_unix_ms; key_hash = unseeded XXH3-64 of the key,
 * key_tag = 0 (both informational: our replicas place keys by their own
 * hash). out's key and value are views of w's. */
void repl_record_from_wal(fcrp_record *out, const pf_rec *w,
                          uint64_t now_unix_ms);

static inline uint32_t repl_batcher_records(const repl_batcher *b,
                                            uint32_t shard)
{
    return b->shard[shard].records;
}

#endif /* FC_REPL_BATCH_H */
