/*
 * mesh.h — the workers as a mesh: each worker's routing state (srv_router),
 * one channel per ordered pair of workers, the messages that travel on
 * them with their in-flight bounds, and exclusive execution (the
 * cross-worker token and parking). route.h builds the request paths on
 * top of this; nothing here knows connections or commands.
 *
 * Messages. A cross-worker request travels as one srv_msg: a malloc'd
 * block holding the argv array and the argument bytes (copied out of the
 * origin's read buffer, which moves on). The owner executes it with its
 * own cmd_ctx and the protocol version carried in the message, writes the
 * reply bytes into m->reply and sends the same block back; the origin
 * stores the bytes in the message's reply slot (route.h) and frees the
 * block. So a message is allocated and freed by its origin worker; only
 * m->reply's buffer is allocated by the owner. A visit (m->visit set, see
 * srv_every in route.h) carries a function and its argument bytes instead
 * of a command: the owner runs the function over its own state.
 *
 * In-flight bounds. A worker may have at most SRV_CHAN_INFLIGHT requests
 * (and SRV_CHAN_INFLIGHT_BYTES of their arguments) in flight to another
 * (sent, reply not back yet); past either, a connection that needs that
 * worker waits (back-pressure) instead of queueing more, and at least one
 * request may always be in flight, however large. A channel src -> dst
 * then carries at most SRV_CHAN_INFLIGHT requests of src and as many
 * replies to dst's requests, which its ring plus a fixed overflow of
 * SRV_CHAN_OVERFLOW always hold: sending never allocates nor fails.
 *
 * Exclusive execution. A worker that must run a command over every shard
 * (CMD_ALLKEYS, multi-owner without split rule, SRV_CMD_EXCL, a
 * transaction over other workers' keys) takes the process-wide token
 * (srv_mesh.token), then sets park_req on every other worker and wakes
 * it; each parks at its next safe point (between loop iterations, or
 * while it is itself waiting for the token), acknowledges with `parked`
 * and waits until park_req changes. park_req carries a generation number
 * (one per exclusive section) rather than a flag, so a stale
 * acknowledgement of the previous section is never mistaken for a new
 * one. A worker waiting for the token keeps answering park requests, so
 * two requesters never deadlock. A worker leaving its loop for good marks
 * itself `exited`, which counts as parked forever. Acquire/release on
 * park_req/parked orders the holder's accesses to the parked workers'
 * shards and connections with theirs.
 *
 * Owns: the channel matrix and the routers array (srv_mesh_init /
 *   srv_mesh_destroy), each router's arrays (srv_router_init /
 *   srv_router_destroy). Never a message in flight: that is its origin's.
 * Threads: the mesh is built and torn down by the main thread while no
 *   worker runs, and is read-only in between but for the token. A router
 *   belongs to its worker's thread, except the atomics of exclusive
 *   execution, which the token holder writes (park_req) and reads
 *   (parked, exited). The worker loop reads and clears wake_dst and
 *   ovf_dsts at the end of each iteration, when it flushes the channels
 *   and wakes their targets (worker.c).
 */
#ifndef FC_SERVER_ROUTE_MESH_H
#define FC_SERVER_ROUTE_MESH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/resp.h"
#include "server/route/spsc.h"
#include "util/buf.h"

#define SRV_CHAN_CAPACITY 4096
#ifndef SRV_CHAN_INFLIGHT /* overridable so tests can make them tiny */
#define SRV_CHAN_INFLIGHT 4096
#endif
#ifndef SRV_CHAN_INFLIGHT_BYTES
#define SRV_CHAN_INFLIGHT_BYTES ((size_t)32 << 20)
#endif
#define SRV_CHAN_OVERFLOW                                                      \
    (2 * SRV_CHAN_INFLIGHT > SRV_CHAN_CAPACITY                                 \
         ? 2 * SRV_CHAN_INFLIGHT - SRV_CHAN_CAPACITY                           \
         : 0)

struct srv_worker; /* the core's (worker.h): handed back to the hooks */
struct srv_cmdent; /* the command table's entry (srvcmd.h): opaque here */
struct conn_slot;  /* route.h */

/* A visit: runs on worker w over what w holds for itself, with the
 * argument bytes its origin copied into the message; writes its part into
 * out, in whatever format the merge reading it expects (route.h). */
typedef void (*srv_part_fn)(struct srv_worker *w, const void *arg, fc_buf *out);

typedef struct srv_msg {
    const struct srv_cmdent *cmd; /* the request's command; NULL: a visit */
    srv_part_fn visit;            /* a visit's function (srv_every) */
    struct conn_slot *slot; /* the origin's; only the origin dereferences it */
    uint32_t origin;
    uint32_t part;         /* gather part index (the owner's worker id) */
    uint8_t proto;         /* 2 or 3 */
    uint32_t owner;        /* the worker a request was sent to (srv_msg_send) */
    size_t bytes;          /* argument bytes: the in-flight byte accounting */
    fc_buf reply;          /* written by the owner */
    uint64_t dur_gen;      /* owner: held until its lane reaches it */
    struct srv_msg *hnext; /* owner: the held FIFO (durable.h) */
    void *blk; /* a blocked request's retry: its waiter (the origin's,
                  opaque here; blocking.c) */
    size_t argc;
    resp_arg argv[]; /* followed by the argument bytes (a visit's: its
                        argument, aligned as argv) */
} srv_msg;

struct srv_router;

/* The process's mesh. nworkers, nshards, hash_seed and route_mode are
 * copies of the
 * server's, fixed before any worker starts: key placement is routing's. */
typedef struct srv_mesh {
    uint32_t nworkers;
    uint32_t nshards; /* power of two */
    uint64_t hash_seed;
    int route_mode;              /* enum fc_route_mode: eng_route_hash's mode */
    spsc_chan *chans;            /* [src * nworkers + dst] */
    struct srv_router **routers; /* [nworkers], filled by srv_router_init */
    _Atomic int token; /* worker holding exclusive execution, -1 = none */
    uint64_t park_gen; /* exclusive sections so far; token holder only */
} srv_mesh;

/* One worker's routing state (embedded in its srv_worker). */
typedef struct srv_router {
    srv_mesh *mesh;
    struct srv_worker *worker; /* the core's worker, for the hooks */
    uint32_t id;
    bool *wake_dst;            /* [nworkers]: pushed to dst this iteration */
    uint32_t ovf_dsts;         /* channels of ours with overflow waiting */
    uint32_t *inflight;        /* [nworkers]: our requests there, not back */
    size_t *inflight_bytes;    /* [nworkers]: their argument bytes */
    _Atomic uint64_t park_req; /* generation to park for, 0 = none */
    _Atomic uint64_t parked;   /* last generation acknowledged */
    _Atomic int exited;        /* left its loop: counts as parked */
    bool holds_token;
    _Atomic uint64_t stat_excl; /* exclusive sections it ran (INFO) */
    _Atomic uint64_t stat_hops; /* requests it sent to another worker
                                   (written by it only; /metrics reads) */
    resp_arg *sub_argv;         /* scratch for scatter sub-argv */
    size_t sub_cap;
} srv_router;

/* Main thread, before the workers exist. -1 on OOM (destroy cleans up). */
int srv_mesh_init(srv_mesh *m, uint32_t nworkers, uint32_t nshards,
                  uint64_t hash_seed, int route_mode);
/* Main thread, after the workers are joined: releases every message
 * still queued on any channel (srv_msg_discard). */
void srv_mesh_discard(srv_mesh *m);
/* Frees the channels (drained or not); safe on a zeroed mesh. */
void srv_mesh_destroy(srv_mesh *m);

static inline spsc_chan *srv_mesh_chan(const srv_mesh *m, uint32_t src,
                                       uint32_t dst)
{
    return &m->chans[(size_t)src * m->nworkers + dst];
}

/* The worker that owns a shard, and the one that owns a key. */
static inline uint32_t srv_mesh_owner(const srv_mesh *m, uint32_t shard)
{
    return shard % m->nworkers;
}
uint32_t srv_key_owner(const srv_mesh *m, const resp_arg *key);

/* Worker w's router, registered in m->routers[id]. -1 on OOM. */
int srv_router_init(srv_router *rt, srv_mesh *m, struct srv_worker *w,
                    uint32_t id);
void srv_router_destroy(srv_router *rt);

/* A message with room for argc arguments and `bytes` argument bytes;
 * fill it with srv_msg_push, starting at (char *)(m->argv + argc). */
srv_msg *srv_msg_alloc(const struct srv_cmdent *e, size_t argc, size_t bytes);
char *srv_msg_push(srv_msg *m, char *dst, const resp_arg *a);

/* Sends a message to worker dst (request or reply). A request (m->origin
 * is this worker) must have been admitted by srv_msg_can_send first; it
 * then counts as in flight until srv_msg_back. -1 only when that bound
 * was broken (the message stays the caller's). */
int srv_msg_send(srv_router *rt, uint32_t dst, srv_msg *m);
/* Whether a request of `bytes` argument bytes may be sent to dst now. */
bool srv_msg_can_send(const srv_router *rt, uint32_t dst, size_t bytes);
/* ... to every other worker. */
bool srv_msg_can_send_all(const srv_router *rt, size_t bytes);
/* One of our requests came back from m->owner: its room is free again. */
void srv_msg_back(srv_router *rt, const srv_msg *m);

/* Exclusive execution (see above). begin returns once every other worker
 * is parked; end closes the section, but the token lingers: the others
 * stay parked until the holder's worker calls srv_excl_release at the end
 * of its loop turn (and before it may sleep), and a begin in between
 * parks nobody again. Why: with pipelining, a turn often runs many
 * exclusive commands (MSET across workers, 16 per connection at -P 16),
 * and each parking costs a wake-up and a handshake with every worker;
 * the price is that the others wait out the rest of the holder's turn.
 * No-ops with one worker. */
void srv_excl_begin(srv_router *rt);
void srv_excl_end(srv_router *rt);
void srv_excl_release(srv_router *rt);
/* begin without waiting for the token (and so without ever parking): true
 * when it got it (or still holds it) and every other worker is parked,
 * false when another worker holds or is taking it. A running script
 * escalates with it (script.h). */
bool srv_excl_try_begin(srv_router *rt);
/* Safe point: parks here while another worker holds exclusive execution. */
void srv_park_point(srv_router *rt);

/* --- hooks: implemented by the core (worker.c), called by parking ------ */

/* Any thread: interrupts worker w's poll (its wake eventfd). */
void srv_worker_wake(struct srv_worker *w);
/* w is about to let the token holder touch its shards (park point), or
 * has touched other workers' shards (end of its exclusive section): what
 * it logged must reach the WAL before the next writer's (durable.h). */
void srv_on_park(struct srv_worker *w);

#endif /* FC_SERVER_ROUTE_MESH_H */
