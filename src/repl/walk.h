/*
 * walk.h — the producer side of a replication snapshot: walks the shards a
 * thread holds, a slice at a time, and hands the hub chunks of encoded
 * SnapshotChunk entries (hub.h explains the walk and why a fuzzy image is
 * enough: every record after the Begin watermarks is replayed on top).
 *
 * A table resized during the walk may yield a key twice (eng_scan repeats,
 * never misses): the replica stores it twice, harmlessly, and counts it
 * twice in entries_loaded. Chunks are handed over as soon as they reach
 * chunk_bytes, so they exceed it by at most one entry.
 *
 * Owns: one chunk buffer and a cursor per shard. Threads: one thread at a
 *   time per walker; the shards it is given must be held by that thread.
 */
#ifndef FC_REPL_WALK_H
#define FC_REPL_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "repl/batch.h"
#include "repl/hub.h"
#include "util/buf.h"

typedef struct repl_walker {
    uint64_t gen;      /* the walk the cursors belong to */
    uint32_t nshards;  /* of the store */
    uint64_t *pos;     /* [nshards] eng_scan cursors */
    uint8_t *state;    /* [nshards] 0 not started, 1 walking, 2 done */
    uint64_t *cut;     /* [nshards] seq when the shard's walk began */
    uint32_t *done;    /* shards finished, not yet reported */
    uint64_t *done_cut;
    uint32_t ndone;
    fc_buf chunk;      /* entries waiting to be handed over */
    uint32_t count;
    size_t chunk_bytes;
} repl_walker;

int repl_walker_init(repl_walker *wk, uint32_t nshards, size_t chunk_bytes);
void repl_walker_free(repl_walker *wk);

/* Walks the shards first, first + stride, ... (stride 0: only first) of
 * the hub's running walk for about `budget` table slots. */
enum repl_walk_res {
    REPL_WALK_IDLE = 0, /* no walk, or this thread's part is done */
    REPL_WALK_MORE = 1, /* more to walk: call again next turn */
    REPL_WALK_BUSY = 2, /* the hub has enough queued: try again later */
};
/* b: the batcher holding these shards' pending records; a shard's batch
 * is published before its cut is read. */
int repl_walker_step(repl_walker *wk, repl_hub *h, repl_batcher *b,
                     eng_shard **shards, uint32_t first, uint32_t stride,
                     size_t budget, int64_t now, int64_t wall_offset_ms);

#endif /* FC_REPL_WALK_H */
