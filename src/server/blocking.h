/*
 * blocking.h — blocked clients (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP, and
 * BZPOPMIN BZPOPMAX BZMPOP):
 * where a blocked request waits, what wakes it, its timeout, and its
 * cleanup when the client goes away.
 *
 * Design (blocking.c explains the why): a blocked request waits on its
 * connection's worker (its *home*), holding a reply slot of the
 * connection that stays pending, so nothing behind it runs (a blocked
 * Redis client executes nothing else) while its socket is still read
 * (a disconnect is seen at once). It is also queued, in arrival order, in
 * one process-wide registry, per key it waits on (mutex-protected: keys
 * are written by every worker). A write command on a key with waiters
 * (srv_blk_touch_slow, from srv_execute on whatever thread runs it)
 * marks the first waiter of that key ready and wakes its home; the home
 * retries the request where it runs (inline when it owns every key, by
 * message to the one worker that owns them, else in an exclusive
 * section), which either replies or leaves it waiting. A waiter served or
 * gone passes the turn to the next one of each of its keys, so N pushed
 * elements reach the first N waiters in FIFO order.
 *
 * Commands: the family srv_cmds_block (srvcmd.c) — the rows of the data
 * table with the server's blocking function.
 *
 * Threads: srv_blk_touch_slow from any worker (it runs where the write
 *   runs, or in another worker's exclusive section); the commands' first
 *   attempt and a retry on the keys' owner; the rest on the home worker. Memory: a waiter (argv copy, queue entries) is the home
 *   worker's, freed when served, timed out or its connection is
 *   destroyed; the registry is the server's (srv_blk_init/destroy).
 */
#ifndef FC_SERVER_BLOCKING_H
#define FC_SERVER_BLOCKING_H

#include <stdbool.h>
#include <stddef.h>

#include "server/srvcmd.h"

struct srv_server;
struct srv_worker;
struct conn;

/* srv_init / srv_destroy. -1 on OOM. */
int srv_blk_init(struct srv_server *s);
void srv_blk_destroy(struct srv_server *s);

/* The blocking commands (server family). */
const srv_cmd *srv_cmds_block(size_t *n);

/* The one worker owning every key of a blocking request (it runs there:
 * inline, or by message), or -1 when they span workers (exec.c then runs
 * it exclusively) or the arguments are malformed. */
int srv_blk_owner(const struct srv_worker *w, const cmd_def *d,
                  const resp_arg *argv, size_t argc);

/* After a write command ran: a key someone waits on wakes its first
 * waiter. srv_execute calls it only while srv_server.blk_waiting is
 * non-zero (one relaxed load per write otherwise). */
void srv_blk_touch_slow(struct srv_worker *w, const cmd_def *d,
                        const resp_arg *argv, size_t argc);

/* Worker loop: retries ready waiters, expires timed-out ones. */
void srv_blk_iteration(struct srv_worker *w);
/* Poll timeout the nearest deadline needs (ms), or -1. */
int srv_blk_timers(struct srv_worker *w);
/* conn_destroy: drops the connection's waiter (its slot is completed
 * empty, so conn_destroy frees it). */
void srv_blk_conn_gone(struct conn *c);

#endif /* FC_SERVER_BLOCKING_H */
