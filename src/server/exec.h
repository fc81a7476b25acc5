/*
 * exec.h — a request on its connection's worker, on either side of
 * routing.
 *
 * Following a request: the event loop (net/) appends bytes to a
 * connection's read buffer and calls conn_on_read; conn.c parses requests
 * in place and passes each one to srv_request. That runs the checks every
 * request goes through, in Redis's order (known command, arity, a
 * subcommand's arity, authentication), notes the command on the
 * connection (CLIENT LIST's cmd=, idle), lets transactions take it
 * (MULTI queues, EXEC, WATCH: multi.h), and hands the rest to the router
 * as an srv_req (route/route.h): that is where routing begins. The router
 * either runs the request here, through srv_execute, or sends it to other
 * workers; there, the worker loop's drain calls srv_msg_execute, which
 * runs it through srv_execute as well and sends the reply back.
 *
 * srv_execute itself is declared in route/route.h, with the other
 * functions routing calls back into the core (srv_run_parked, ...).
 *
 * Threads: the worker's own thread, always.
 */
#ifndef FC_SERVER_EXEC_H
#define FC_SERVER_EXEC_H

#include <stddef.h>

#include "server/worker.h"

/* conn.c, for each parsed request: SRV_ROUTE_WAIT when it must wait
 * (nothing ran: call again once the connection's slots drain or room
 * comes back; the connection is queued for the latter), else DONE. */
enum srv_route_res srv_request(conn *c, const resp_arg *argv, size_t argc);

/* Owner side of a request from another worker (worker.c's drain): runs it
 * and sends the reply back (or holds it for fsync=always, durable.h). */
void srv_msg_execute(srv_worker *w, srv_msg *m);

#endif /* FC_SERVER_EXEC_H */
