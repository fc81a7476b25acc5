/*
 * hub.h — the primary side of FCRP: the backlog every producer publishes
 * MutationBatch frames into, and one replication thread that listens on
 * bind_addr and serves each replica or service subscriber: handshake,
 * catch-up from the backlog or a snapshot, then the live stream.
 *
 * Flow (spec §4, §5.2, with §9's fixes):
 *   - Producers (server workers) batch records per shard (batch.h) and
 *     publish each finished frame here: it goes into the backlog under the
 *     hub's mutex and the thread is woken only when it sleeps (an eventfd
 *     written at most once per sleep: no polling, §9.1).
 *   - A session's queue IS the backlog: each session keeps a cursor into it
 *     and copies frames into its socket buffer as the socket drains. A
 *     session whose next frame has been evicted, or that is more than
 *     subscriber_channel_capacity frames per shard behind, is dropped with
 *     an Error "replica too slow" and resumes from its watermarks (§9.7);
 *     no producer ever waits for a replica.
 *   - Handshake: the first frame must be a Hello within connect_timeout_ms
 *     (else Error "expected Hello frame"), version 1, role 1 or 2, token
 *     compared in constant time (§9.8; with no token configured any peer is
 *     accepted, as the seed does). Past max_replicas a new connection gets
 *     Error "max replicas reached" (§9.16). Our Hello answers with the
 *     backlog's watermarks, then, when the peer's Hello had FCRP_F_CAP_FC,
 *     one more value: the sequence base of this primary's history.
 *   - Catch-up: when the backlog covers the peer's watermarks, the frames
 *     after them; otherwise a snapshot: SnapshotBegin with the watermarks
 *     W_b of the backlog when the walk starts, chunks as the producers walk
 *     their shards (walk below), a last empty chunk with is_last and the
 *     per-shard cuts (below), then
 *     SnapshotEnd carrying the watermarks the backlog had when the walk
 *     ended (a seed replica ignores them; ours stays "catching up" until it
 *     has applied that far). The backlog frames after W_b follow, then the
 *     live stream, from one cursor: no gap and no duplicate beyond the
 *     overlap the replica's skip rule removes. If the frames after W_b
 *     were evicted meanwhile the session is dropped and resyncs.
 *   - Lazy start: until a first peer says Hello nothing is batched (the
 *     backlog starts empty at that moment; repl_hub_active). The first
 *     peer always needs a snapshot, and a snapshot's cut per shard is the
 *     shard's seq when its walk began (the walker publishes the shard's
 *     pending batch first), carried in the last chunk; the backlog is
 *     advanced to it (repl_backlog_advance), so everything after the cut
 *     is in the backlog even though nothing before activation ever was.
 *   - Sequence base: seqs are unique across the primary's runs (the server
 *     starts every shard at a base that grows with its start time), so a
 *     replica's watermarks from another run can never look covered by this
 *     run's backlog: they are below its floor, and it gets a snapshot.
 *
 * Snapshot walk. While repl_hub_walk_gen() is non-zero, every producer
 * walks the shards it holds with a repl_walker (walk.h), a slice per loop
 * turn, handing chunks of encoded entries to repl_hub_walk_put, which also
 * counts the shards finished. The hub asks for a walk
 * (cfg.walk_wanted) when a session needs one and none runs; sessions that
 * arrive during a walk wait for the next one. The entries queued and not
 * yet sent are bounded (REPL_WALK_QUEUE_MAX): repl_hub_walk_busy tells
 * producers to skip their turn, so a slow replica slows the walk instead of
 * growing memory.
 *
 * Owns: the listening socket, the thread, the backlog and its frames, the
 *   sessions. Threads: the repl_hub_* functions are safe from any thread
 *   (one mutex, held briefly: never across a socket call). Memory: frames
 *   passed to repl_hub_publish become the hub's.
 */
#ifndef FC_REPL_HUB_H
#define FC_REPL_HUB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/fcrp.h"
#include "repl/batch.h"
#include "util/buf.h"

#define REPL_WALK_QUEUE_MAX ((size_t)8 << 20)

typedef struct repl_hub_cfg {
    char *bind_host; /* copied; "127.0.0.1" */
    uint16_t port;
    char *token; /* NULL: every peer is accepted; copied */
    uint32_t nshards;
    uint64_t seq_base; /* every shard's seq before its first mutation */
    size_t backlog_bytes;
    size_t snapshot_chunk_bytes; /* clamped to >= 4 KiB */
    uint32_t max_replicas;
    uint32_t channel_capacity; /* subscriber_channel_capacity */
    uint32_t connect_timeout_ms, write_timeout_ms;
    fcrp_tx tx;       /* compression of snapshot chunks (check: own rule) */
    fcrp_limits lim;  /* what we accept from peers */
    /* Called (hub thread, no lock held) when a walk starts: the producers
     * must be woken to walk. */
    void (*walk_wanted)(void *ctx);
    /* Called (hub thread) when a peer's Ack raised its watermarks: WAIT. */
    void (*acked)(void *ctx);
    void *ctx;
    /* level: 0 debug, 1 verbose, 2 notice, 3 warning (the server's) */
    void (*log)(int level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
} repl_hub_cfg;

typedef struct repl_hub repl_hub;

/* Binds and starts the thread. -1 with err ("Address already in use"...). */
int repl_hub_open(repl_hub **out, const repl_hub_cfg *cfg, char *err,
                  size_t errlen);
/* Sends Error "shutting down" to every peer, stops the thread, frees. */
void repl_hub_close(repl_hub *h);
/* The port really bound (cfg.port 0 picks one). */
uint16_t repl_hub_port(const repl_hub *h);

/* Producers: takes ownership of *f (zeroed on return, whatever happens).
 * A frame the backlog refuses (overlap) is dropped and counted: the
 * backlog then sees the range as lost, which forces snapshots. The hub
 * thread is not woken: call repl_hub_kick once after a run of publishes
 * (a worker: at the end of its loop turn), so a stream of small frames
 * costs one wakeup per turn rather than one per frame. */
void repl_hub_publish(repl_hub *h, repl_frame *f);
void repl_hub_kick(repl_hub *h);

/* Snapshot walk (see above). gen 0: no walk. */
uint64_t repl_hub_walk_gen(const repl_hub *h);
bool repl_hub_walk_busy(const repl_hub *h);
/* Entries for walk gen (entry encodings back to back, fcrp_entry_put;
 * copied; len 0 is fine), and the shards this producer finished with them
 * (their entries are all in this or an earlier put), each with its cut:
 * the shard's seq when its walk began, after its pending batch was
 * published. Ignored when gen is no longer the running walk. */
void repl_hub_walk_put(repl_hub *h, uint64_t gen, const void *entries,
                       size_t len, uint32_t count, const uint32_t *done,
                       const uint64_t *cut, uint32_t ndone);

/* Whether producers must batch and publish at all: from the first peer's
 * handshake on (as Redis creates its backlog with the first replica), so a
 * primary nobody replicates from pays nothing. */
static inline bool repl_hub_active(const repl_hub *h);

/* WAIT: how many replicas (role 1, past their handshake) have acknowledged
 * at least target[s] for every shard s. */
uint32_t repl_hub_acked(repl_hub *h, const uint64_t *target, uint32_t n);
/* A WAIT is pending: every fast-cache peer is sent an Ack frame (our
 * watermarks), which asks for its Ack at once (link.h); coalesced to one
 * per peer per turn of the hub thread. */
void repl_hub_ask_acks(repl_hub *h);
/* The highest seq published for each shard (out[nshards]). */
void repl_hub_watermarks(repl_hub *h, uint64_t *out);

typedef struct repl_peer_info {
    char addr[64];     /* "ip:port" of the peer */
    uint8_t role;      /* FCRP_ROLE_* */
    const char *state; /* "handshake", "wait_snapshot", "send_snapshot",
                          "online" */
    uint64_t offset;   /* acknowledged: sum of ack - base; 0 without acks */
    int64_t lag_ms;    /* since its last Ack; -1 without acks */
    uint64_t bytes_sent, frames_sent;
} repl_peer_info;

typedef struct repl_hub_stats {
    uint32_t peers; /* past the handshake */
    uint64_t offset; /* records published: sum of hi - base */
    uint64_t frames_published, records_published, bytes_published;
    uint64_t frames_dropped; /* refused by the backlog */
    uint64_t backlog_bytes, backlog_frames, backlog_evicted;
    uint64_t bytes_sent, frames_sent;
    uint64_t snapshots_served, catchups, snapshot_bytes_sent;
    uint64_t rejected_auth, rejected_version, rejected_proto,
        rejected_full, dropped_slow;
} repl_hub_stats;

void repl_hub_stats_get(repl_hub *h, repl_hub_stats *out);
/* Up to max peers' info; returns how many were written. */
uint32_t repl_hub_peers(repl_hub *h, repl_peer_info *out, uint32_t max);

/* The inline accessor's view of the hub: its first member. */
typedef struct repl_hub_head {
    _Atomic int active;
} repl_hub_head;

static inline bool repl_hub_active(const repl_hub *h)
{
    return atomic_load_explicit(&((const repl_hub_head *)(const void *)h)
                                     ->active,
                                memory_order_acquire);
}

#endif /* FC_REPL_HUB_H */
