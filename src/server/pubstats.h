/*
 * pubstats.h — per-worker keyspace figures (keys, keys with a TTL, memory
 * held by the engine) published with relaxed atomics, so that INFO and
 * DBSIZE answer without parking the other workers (issue 9: a monitoring
 * tool polling INFO must not stall the server).
 *
 * Freshness. A worker republishes (sums its own shards) at the end of every
 * loop iteration in which it ran a command or expired keys, and, for a
 * request from another worker that may have written, before it sends the
 * reply back: the reply's channel push (release) then orders the new
 * figures before the origin reads them (acquire). A connection's INFO or
 * DBSIZE waits until its earlier requests are back (SRV_CMD_PUBLISHED, see
 * route/router.c), so it always sees its own writes; other clients'
 * concurrent writes show up within an iteration. An exclusive command
 * (FLUSHALL, cross-worker RENAME...) republishes for every worker before
 * releasing them, since it may have changed their shards. The running
 * worker's own shards are always read directly (exact).
 *
 * Owns: nothing (the atomics live in srv_worker).
 * Threads: srv_pub_refresh on the worker's own thread, or on the holder of
 *   exclusive execution for parked workers; srv_pub_sum on any worker.
 */
#ifndef FC_SERVER_PUBSTATS_H
#define FC_SERVER_PUBSTATS_H

#include <stdint.h>

#include "engine/engine.h"

struct srv_worker;
struct srv_server;

/* The fields of eng_mem_stats, published in that order. */
#define SRV_PUB_MEM_N 7

typedef struct srv_keyspace {
    uint64_t keys, expires, memory;
} srv_keyspace;

/* Recomputes and publishes w's figures from its own shards. */
void srv_pub_refresh(struct srv_worker *w);
/* From the exclusive holder: republishes every worker's figures. */
void srv_pub_refresh_all(struct srv_server *s);
/* Whole-server figures as seen by worker self (its shards exact). */
void srv_pub_sum(const struct srv_worker *self, srv_keyspace *out);
/* Publishes w's slab figures and defrag counters (its sweep tick). */
void srv_pub_mem_refresh(struct srv_worker *w);
/* Their sum over every worker (self's own read directly). */
void srv_pub_mem_sum(const struct srv_worker *self, eng_mem_stats *out);
/* The default policy's per-level figures (eng_tier_stats, 5 fields per
 * level), published at each sweep tick like the slab's. */
#define SRV_PUB_TIER_N (ENG_TIERS * 5)
void srv_pub_tier_refresh(struct srv_worker *w);
/* Their sum over every worker (self's own read directly). */
void srv_pub_tier_sum(const struct srv_worker *self,
                      eng_tier_stats out[ENG_TIERS]);
/* Worker i's key count as seen by self (exact when i is self). */
uint64_t srv_pub_keys(const struct srv_worker *self, uint32_t i);
/* srv_pub_pick (RANDOMKEY's worker, with probability proportional to its
 * key count) is declared in route/route.h: the router calls it. */

#endif /* FC_SERVER_PUBSTATS_H */
