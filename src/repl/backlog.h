/*
 * backlog.h — the replication backlog: the most recent MutationBatch frames,
 * already encoded, kept in FIFO order within a byte budget, so a replica
 * that reconnects with watermarks W can be caught up from memory instead of
 * a snapshot (spec §4.3).
 *
 * Owns: the frames pushed into it (repl_frame.data), freed on eviction or
 *   repl_backlog_free; a ring of entries; two u64 per shard.
 * Threads: none of its own, no locks; one thread at a time (the owner holds
 *   it under whatever lock guards the primary's replication state). Frames
 *   returned by repl_backlog_next are borrowed: valid until the next push.
 *
 * Coverage, per shard s (hi[s] = highest seq pushed; floor[s] = highest seq
 * whose frame is no longer here: the starting point, evicted frames, and
 * ranges never pushed):
 *   W[s] == hi[s]             nothing to send for s;
 *   floor[s] <= W[s] < hi[s]  send every frame of s with max_seq > W[s];
 *   W[s] < floor[s]           a snapshot is needed;
 *   W[s] > hi[s]              the replica is ahead of us (another history,
 *                             e.g. a primary that lost writes): snapshot.
 * Differences from the seed, and why: one budget for the whole backlog,
 * not one per shard (the config calls it the retained backlog: §9.12);
 * a frame that does not start at hi[s] + 1 raises floor[s] so the lost
 * range forces a snapshot instead of a silent gap (§9.13, §9.5); and a
 * replica ahead of the primary is resynced rather than told "nothing to
 * send". Watermarks past the shard count must be 0 (else: snapshot).
 */
#ifndef FC_REPL_BACKLOG_H
#define FC_REPL_BACKLOG_H

#include <stddef.h>
#include <stdint.h>

#include "repl/batch.h"

typedef struct repl_bl_entry {
    repl_frame f;
    uint64_t id; /* push order; cursors refer to it */
} repl_bl_entry;

typedef struct repl_backlog {
    size_t budget; /* max retained frame bytes (>= 1) */
    size_t bytes;  /* retained frame bytes */
    uint32_t nshards;
    uint64_t *hi;    /* per shard: highest seq pushed (or the base) */
    uint64_t *floor; /* per shard: highest seq not servable from here */
    repl_bl_entry *ring;
    size_t cap, head, count;
    uint64_t next_id;
    uint64_t evicted; /* frames evicted, ever */
} repl_backlog;

/* base: each shard's seq when the backlog starts (what a replica already
 * has from a snapshot at that point), or NULL for all zero. */
int repl_backlog_init(repl_backlog *bl, uint32_t nshards, size_t budget,
                      const uint64_t *base);
void repl_backlog_free(repl_backlog *bl);

/* Takes ownership of *f on FC_OK (and zeroes it), then evicts the oldest
 * frames while over budget (a frame alone over budget goes at once).
 * FC_EINVAL (f overlaps what the shard holds: min_seq <= hi; min_seq 0;
 * min > max; shard out of range; *f stays the caller's), FC_ENOMEM
 * (likewise). */
int repl_backlog_push(repl_backlog *bl, repl_frame *f);

/* Can a replica at watermarks w[0..n) be caught up from here? */
enum { REPL_CATCHUP_OK = 0, REPL_CATCHUP_SNAPSHOT = 1 };
int repl_backlog_check(const repl_backlog *bl, const uint64_t *w, uint32_t n);

/* The frames a replica at w needs, in push order: start with *cursor = 0;
 * each call returns the next frame with max_seq > w[frame's shard], or NULL
 * at the end. The cursor survives evictions between calls (an evicted
 * frame is skipped: call repl_backlog_check again after pushes). */
const repl_frame *repl_backlog_next(const repl_backlog *bl, const uint64_t *w,
                                    uint32_t n, uint64_t *cursor);

/* Nothing of shard up to seq will ever be pushed (a snapshot covers it):
 * raises hi and floor to seq when they are below. */
void repl_backlog_advance(repl_backlog *bl, uint32_t shard, uint64_t seq);

/* Cursor-style access for a consumer that keeps its own position: the id
 * of the oldest retained frame (next_id when empty; a consumer whose
 * position is below it has lost frames), and the frame with that id, or
 * NULL when it is not (or no longer, or not yet) retained. */
uint64_t repl_backlog_first_id(const repl_backlog *bl);
const repl_frame *repl_backlog_at(const repl_backlog *bl, uint64_t id);

static inline uint64_t repl_backlog_hi(const repl_backlog *bl, uint32_t s)
{
    return s < bl->nshards ? bl->hi[s] : 0;
}

#endif /* FC_REPL_BACKLOG_H */
