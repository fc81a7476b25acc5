/*
 * durable.h — the server's side of persistence: what a worker does so that
 * the WAL sees every write in order and replies promise no more than the
 * fsync policy keeps.
 *
 *  - Gate (before a command): while the data is loading, data commands get
 *    -LOADING; while the WAL cannot write (disk full, I/O error), writes
 *    get -MISCONF and reads go on.
 *  - Lane: each worker logs into its own WAL lane (persist.h) and hands it
 *    off at the end of every loop iteration, at park points and before
 *    releasing an exclusive section, so a shard's records reach the log in
 *    order whichever thread wrote them.
 *  - fsync=always: a reply to a command that wrote leaves only once the
 *    lane generation holding its records is durable. A connection's output
 *    is held back from the backend's write list (its other replies queue
 *    behind it, keeping order; other connections are not held); a reply
 *    for another worker's client is held as a message in a FIFO. The WAL
 *    writer wakes the worker when its lane becomes durable.
 *
 * Threads: the worker's own thread, except where said.
 */
#ifndef FC_SERVER_DURABLE_H
#define FC_SERVER_DURABLE_H

#include <stdbool.h>

#include "server/client.h"
#include "server/route/route.h"
#include "server/worker.h"

/* What may run while the data set is loading (Redis's CMD_LOADING):
 * connection and server commands that touch no keys. */
bool srv_ok_while_loading(const srv_cmdent *e);
/* false when the command was refused (the error is written to wr). */
bool srv_dur_gate(srv_worker *w, const srv_cmdent *e, resp_writer *wr);
/* Before / after a command: notes whether it logged records. */
static inline uint64_t srv_dur_mark(const srv_worker *w)
{
    return w->lane ? atomic_load_explicit(&w->lane->appended,
                                          memory_order_relaxed)
                   : 0;
}
void srv_dur_after(srv_worker *w, conn *c, uint64_t mark);
/* Owner side: true when m's reply must wait (m now held). */
bool srv_dur_hold_msg(srv_worker *w, srv_msg *m);
/* End of iteration: bind/hand off the lane, hold and release. */
void srv_dur_iteration(srv_worker *w);
/* Park point / end of exclusive section: hand the lane off. */
void srv_dur_handoff(srv_worker *w);
/* A held connection is going away. */
void srv_dur_conn_gone(conn *c);
/* Any worker: starts a background snapshot and wakes every worker to
 * serialize its shards. 0, EBUSY (one runs), EAGAIN (loading), errno. */
int srv_dur_bgsave(srv_server *s);
/* Timers: snapshot slices and the periodic trigger. Returns the poll
 * timeout it needs (-1 none, 0 more work now, >0 ms). */
int srv_dur_timers(srv_worker *w);

#endif /* FC_SERVER_DURABLE_H */
