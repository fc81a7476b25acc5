/*
 * router.h — from a parsed request to its reply: command lookup, arity and
 * auth checks, key ownership, and the four ways to run (inline, on another
 * worker, scattered over several, exclusively).
 *
 * Cross-worker requests travel as srv_msg: one malloc'd block holding the
 * argv array and the argument bytes (copied out of the origin's read
 * buffer, which moves on). The owner executes it with its own cmd_ctx and
 * the protocol version carried in the message, writes the reply bytes into
 * m->reply and sends the same block back; the origin stores the bytes in
 * the message's slot and frees the block. So a message is allocated and
 * freed by its origin worker; only m->reply's buffer is allocated by the
 * owner.
 *
 * Split commands (MGET, DEL, ...) become one part per owner: argv[0]
 * plus that owner's key groups (key_step args each), in input order. The
 * parts' replies are merged by the command's rule (srv_gather, in input
 * order for arrays) once all are back.
 *
 * Threads: srv_route and srv_msg_returned run on the origin worker,
 *   srv_msg_execute on the owner.
 */
#ifndef FC_SERVER_ROUTER_H
#define FC_SERVER_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include "server/client.h"
#include "server/srvcmd.h"
#include "server/worker.h"

typedef struct srv_msg {
    const srv_cmdent *cmd;
    conn_slot *slot; /* the origin's; only the origin dereferences it */
    uint32_t origin;
    uint32_t part; /* gather part index (the owner's worker id) */
    uint8_t proto; /* 2 or 3 */
    uint32_t owner; /* the worker a request was sent to (srv_worker_send) */
    size_t bytes;   /* argument bytes: the in-flight byte accounting */
    fc_buf reply;  /* written by the owner */
    uint64_t dur_gen;      /* owner: held until its lane reaches it */
    struct srv_msg *hnext; /* owner: the held FIFO */
    size_t argc;
    resp_arg argv[]; /* followed by the argument bytes */
} srv_msg;

/* Merge state of a SLOT_GATHER slot: one reply buffer per worker, and for
 * each key group (in input order) the worker that owns it. */
typedef struct srv_gather {
    enum cmd_split rule;
    uint8_t proto;
    uint32_t nworkers;
    size_t ngroups;
    uint32_t *group_owner; /* [ngroups] */
    fc_buf *part;          /* [nworkers]; unused ones stay empty */
} srv_gather;

enum srv_route_res {
    SRV_ROUTE_DONE = 0, /* executed, sent, or answered with an error */
    SRV_ROUTE_WAIT = 1, /* must wait until the connection's slots drain;
                           nothing was executed: call again later */
};

enum srv_route_res srv_route(conn *c, const resp_arg *argv, size_t argc);

/* Owner side: runs the request and sends the reply back. */
void srv_msg_execute(srv_worker *w, srv_msg *m);
/* Origin side: a reply came back. */
void srv_msg_returned(srv_worker *w, srv_msg *m);
/* Shutdown (single-threaded): releases a message wherever it was. */
void srv_msg_discard(srv_msg *m);

/* A message with room for argc arguments and `bytes` argument bytes;
 * fill it with srv_msg_push, starting at (char *)(m->argv + argc). */
srv_msg *srv_msg_alloc(const srv_cmdent *e, size_t argc, size_t bytes);
char *srv_msg_push(srv_msg *m, char *dst, const resp_arg *a);
void srv_reply_oom(resp_writer *wr);

/* A split command whose key groups argv[first..last] (step apart) span
 * several workers: one part per owner, merged in input order. */
void srv_scatter(conn *c, const srv_cmdent *e, const resp_arg *argv,
                 size_t argc, size_t first, size_t last, size_t step);

/* Frees gather state (with its part buffers). */
void srv_gather_free(srv_gather *g);
/* Writes the merged reply of a complete gather into out. */
void srv_gather_merge(const srv_gather *g, fc_buf *out);

/* Runs one command on this worker with the given writer and connection
 * (NULL for remote requests), timing it into the worker's stats. */
void srv_execute(srv_worker *w, const srv_cmdent *e, const resp_arg *argv,
                 size_t argc, resp_writer *wr, conn *c);

#endif /* FC_SERVER_ROUTER_H */
