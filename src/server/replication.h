/*
 * replication.h — the server's side of replication (src/repl does the
 * protocol and the sockets).
 *
 * Primary (repl_primary.c), when [replication] is enabled with a bind
 * address: the shards' observer hands every mutation to the batcher of the
 * shard's owner (the executing thread holds the shard: its owner, or an
 * exclusive section while the owner is parked); a worker publishes a
 * shard's batch into the hub when it is full or when its oldest record is
 * batch_max_delay_us old (the clock is the loop turn's millisecond, so a
 * batch waits up to about 1 ms), and wakes the hub thread once per turn.
 * A FLUSHALL's CLEAR records are published before anything written after
 * it (the replica clears everything on a CLEAR: link.h). Snapshot walks
 * are served a slice per loop turn. Shards start at a sequence base unique
 * to this run (hub.h). WAIT keeps the connection's reply slot open until
 * enough replicas acknowledged the client's writes or the timeout passes.
 *
 * Replica (repl_replica.c): a repl_link thread receives the stream and
 * queues each record for the worker owning the key here (keys are placed
 * by this process's hash, not the primary's); workers apply their queue
 * at every loop turn. While a snapshot loads, data commands get -LOADING;
 * client writes always get -READONLY. The link thread blocks when the
 * queues hold more than queue_capacity writes or REPL_INBOX_MAX bytes,
 * which back-pressures the primary (its socket fills). That is our use of
 * the seed's queue_capacity: our primary has no queue of ready batches
 * (workers publish straight into the backlog), so the bound sits where
 * work can pile up, before the replica's workers.
 * REPLICAOF switches roles at run time; promotion keeps the data.
 *
 * Threads: as said per function. Memory: the server owns the hub and the
 * replica state (srv_repl_destroy).
 */
#ifndef FC_SERVER_REPLICATION_H
#define FC_SERVER_REPLICATION_H

#include <stdbool.h>
#include <stdint.h>

#include "server/client.h"
#include "server/server.h"
#include "server/worker.h"

#define REPL_INBOX_MAX ((size_t)64 << 20)

/* srv_init, after the workers: batchers, the hub (binds), the sequence
 * base. -1 with err. No-op unless replication is enabled. */
int srv_repl_init(srv_server *s, char *err, size_t errlen);
/* Main thread, once the data is loaded: installs the observer (with
 * persistence's) and starts the replica link when the role says so. */
void srv_repl_start(srv_server *s);
/* After the workers are joined. */
void srv_repl_destroy(srv_server *s);

/* The shards' observer (ctx = the server): persistence, then replication. */
void srv_observe(void *ctx, const fc_mutation *m);

/* Before a command (Redis's rules): false when refused, error in wr. */
bool srv_repl_gate(srv_worker *w, const srv_cmdent *e, resp_writer *wr);
static inline bool srv_repl_gated(const srv_server *s)
{
    return atomic_load_explicit(&s->repl_gate, memory_order_relaxed);
}
/* After a command that cleared shards (FLUSHALL): publishes every batch
 * (the caller holds every shard). */
void srv_repl_after_clear(srv_worker *w);
/* End of a loop turn: due batches, the replica queue, WAIT replies. */
void srv_repl_iteration(srv_worker *w);
/* Timers: snapshot walk turns; poll timeout it needs (-1 none). */
int srv_repl_timers(srv_worker *w);

/* WAIT numreplicas timeout_ms (0 = forever) for connection c: opens a
 * reply slot answered later. -1 with an error written when not possible. */
int srv_repl_wait(srv_worker *w, conn *c, long long numreplicas,
                  long long timeout_ms, resp_writer *wr);

/* REPLICAOF host port (host NULL = NO ONE). 0, or -1 with err. Any
 * worker; not while holding the exclusive token. */
int srv_repl_replicaof(srv_server *s, const char *host, uint16_t port,
                       char *err, size_t errlen);

/* INFO replication and ROLE. */
void srv_repl_info(srv_server *s, fc_buf *b);
void srv_repl_role(srv_server *s, resp_writer *wr);

/* Between repl_primary.c and repl_replica.c. */
int srv_repl_open_hub(srv_server *s, char *err, size_t errlen);
int srv_inbox_init(srv_worker *w);
void srv_inbox_free(srv_worker *w);
void srv_inbox_drain(srv_worker *w);
void srv_replica_start_cfg(srv_server *s);
void srv_replica_stop_all(srv_server *s);
struct repl_link_stats;
/* false when not a replica. */
bool srv_replica_stats(srv_server *s, struct repl_link_stats *st, char *host,
                       size_t hostlen, uint16_t *port);

#endif /* FC_SERVER_REPLICATION_H */
