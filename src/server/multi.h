/*
 * multi.h — transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH with Redis 7
 * semantics, and the write tracking WATCH relies on.
 *
 * Queueing. After MULTI every command but EXEC, DISCARD, MULTI, WATCH, QUIT
 * and RESET is checked (known, arity, auth, allowed in a transaction) and
 * copied into the connection's queue, answered +QUEUED. A command refused
 * while queueing marks the transaction dirty: EXEC then answers EXECABORT
 * and runs nothing. Nested MULTI and WATCH inside MULTI are errors that do
 * not mark it (as Redis 7.0).
 *
 * Atomicity. EXEC runs the queue back to back on the connection's worker.
 * When every key of every queued and watched command is owned by that
 * worker (and none is a whole-keyspace or exclusive command), nothing else
 * can touch those keys while it runs, so it runs inline, without parking
 * anyone. Otherwise it runs inside one exclusive section (srv_excl_begin:
 * every other worker parked), where it may touch any shard. Either way no
 * other client sees a state between two queued commands.
 *
 * WATCH: why per-bucket versions. Redis keeps, per watched key, the clients
 * watching it, and every write looks its key up there. Here a key is
 * written by its owner worker (or by an exclusive section), and watchers
 * live on any worker, so a per-key registry would need cross-worker
 * registration and cleanup (on UNWATCH, EXEC, close). Instead the server
 * keeps one array of 2^18 32-bit versions (1 MiB, whatever the key count);
 * a key maps to the bucket `hash & (NB - 1)`. NB is a multiple of the shard
 * count, so a bucket's keys all live in one shard and the bucket has one
 * writer at a time, exactly like the shard: no lock, no RMW. Every write
 * command bumps the buckets of its keys after running (srv_watch_touch,
 * called from srv_execute for every path: inline, remote, scattered parts,
 * exclusive, EXEC itself), but only while some client watches anything
 * (`watchers`, one relaxed load per write otherwise). WATCH records the
 * bucket's version; EXEC aborts when it moved. Nothing to register or clean
 * up on other workers, and a client that disconnects leaves nothing behind.
 * The price is false aborts from other keys of the same bucket: with
 * uniform writes at W writes/s, a WATCH..EXEC window of T seconds aborts
 * falsely with probability about W*T/2^18 (100k writes/s, 10 ms: 0.4 %),
 * against nearly 100 % for a per-shard seq under the same load. Shard
 * seqs were rejected for that reason, and entry identity because the slab
 * reuses addresses (ABA) and in-place updates keep them.
 * The other ways a key changes are not commands on that key:
 *  - expiry (lazy or active): WATCH records whether the key was live and
 *    its TTL; a live key whose TTL has passed at EXEC aborts it, as Redis
 *    7.0 does. A key already expired at WATCH does not (Redis: "stale keys
 *    do not fail EXEC").
 *  - FLUSHDB/FLUSHALL bump `flush_gen`; a watched key that was live at
 *    WATCH then aborts EXEC (Redis: only keys that existed are touched).
 *  - RENAME/COPY/MSET... are write commands: every key argument is bumped
 *    (also RENAME's source and COPY's source: conservative, a rare false
 *    abort; likewise a SET NX that did nothing).
 *
 * Threads: everything runs on the connection's worker; bucket reads and
 *   writes obey the shard rule (owner, or exclusive section), which
 *   srv_tx_route guarantees for WATCH and EXEC.
 * Memory: conn->tx (queue, watch list) is the connection's, freed by
 *   srv_tx_free from conn_destroy.
 */
#ifndef FC_SERVER_MULTI_H
#define FC_SERVER_MULTI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "server/client.h"
#include "server/route/route.h"
#include "server/server.h"
#include "server/srvcmd.h"

#define SRV_WATCH_BUCKETS_LOG2 18

struct srv_server;

/* srv_init: the version array (at least one bucket per shard). -1 on OOM. */
int srv_watch_init(struct srv_server *s);
void srv_watch_destroy(struct srv_server *s);

/* After a command ran: bumps its keys' buckets (and flush_gen for a
 * whole-keyspace write) when someone watches. Caller owns those keys. */
void srv_watch_touch_slow(struct srv_server *s, const cmd_def *d,
                          const resp_arg *argv, size_t argc);
static inline void srv_watch_touch(struct srv_server *s, const cmd_def *d,
                                   const resp_arg *argv, size_t argc)
{
    if ((d->flags & CMD_WRITE) &&
        atomic_load_explicit(&s->watchers, memory_order_relaxed))
        srv_watch_touch_slow(s, d, argv, argc);
}

/* One watched key: what EXEC compares. */
typedef struct srv_watch {
    uint32_t bucket;    /* index into srv_server.watch_ver */
    uint32_t ver;       /* the bucket's version at WATCH */
    uint32_t owner;     /* the key's worker */
    bool live;          /* the key existed at WATCH */
    int64_t expire_at;  /* and its TTL then (monotonic ms, 0 = none) */
    uint64_t flush_gen; /* srv_server.flush_gen at WATCH */
} srv_watch;

/* One queued command: argv and its bytes in one block. */
typedef struct srv_txcmd {
    struct srv_txcmd *next;
    const srv_cmdent *e;
    size_t argc;
    resp_arg argv[]; /* followed by the argument bytes */
} srv_txcmd;

typedef struct srv_tx {
    bool multi; /* between MULTI and EXEC/DISCARD */
    bool dirty; /* a command was refused while queueing: EXECABORT */
    bool excl;  /* some queued command needs other workers' shards */
    srv_txcmd *head, *tail;
    size_t nqueued;
    srv_watch *watch;
    size_t nwatch, watch_cap;
} srv_tx;

/* True while the connection is inside MULTI. */
static inline bool srv_tx_active(const conn *c)
{
    return c->tx && c->tx->multi;
}

/* Whether srv_tx_route decides how e runs. */
static inline bool srv_tx_intercepts(const conn *c, const srv_cmdent *e)
{
    if (e->scmd && (e->scmd->sflags & SRV_CMD_TX))
        return true;
    return srv_tx_active(c) && strcmp(e->def->name, "quit") != 0 &&
           strcmp(e->def->name, "reset") != 0;
}

/* A command was refused (unknown, arity, auth) while queueing. */
void srv_tx_flag_error(conn *c);
/* Routing of a command while in MULTI, or of MULTI/EXEC/DISCARD/WATCH/
 * UNWATCH at any time (exec.c calls it after the admission checks). */
enum srv_route_res srv_tx_route(conn *c, const srv_cmdent *e,
                                const resp_arg *argv, size_t argc);
/* RESET, close: leaves MULTI and unwatches everything. */
void srv_tx_reset(conn *c);
void srv_tx_free(conn *c);

/* The family (MULTI, EXEC, DISCARD, WATCH, UNWATCH), for srvcmd.c. */
const srv_cmd *srv_cmds_multi(size_t *n);

#endif /* FC_SERVER_MULTI_H */
