/*
 * route.h — routing between workers: where an admitted request runs, and
 * how a reply computed elsewhere comes back into its connection's reply
 * slots. This is the line between the event loop and routing: conn.c
 * parses a request out of the read buffer, exec.c checks it (known
 * command, arity, authentication, transactions) and hands it here as an
 * srv_req. From here on, either the request runs on this worker (through
 * srv_execute, which the core provides) or it becomes messages to other
 * workers (mesh.h) whose replies later complete a slot.
 *
 * The ways to run (srv_route, router.c):
 *  - inline: one owner, this worker, or no keys at all;
 *  - remote: one owner, another worker: one message there and back;
 *  - scattered (gather.c): keys on several workers and the command has a
 *    split rule (MGET, DEL, EXISTS, ...): one part per owner, argv[0]
 *    plus that owner's key groups (key_step args each) in input order,
 *    merged by the rule (in input order for arrays) once all are back;
 *  - exclusive: several owners without a split rule (MSET, RENAME, ...),
 *    whole-keyspace commands (KEYS, FLUSHDB) and SRV_CMD_EXCL ones, with
 *    every other worker parked (mesh.h);
 *  - published (INFO, DBSIZE): inline, from figures every worker
 *    publishes, once the client's earlier requests are back;
 *  - every worker (CLIENT LIST, CLIENT KILL): inline, once there is room
 *    towards every worker; the command gathers each worker's part by
 *    message (srv_every);
 *  - SCAN on the owner of its cursor's shard, RANDOMKEY on a worker picked
 *    by published key counts (srv_pub_pick).
 *
 * Reply slots (the connection's side of the rules is in client.h). A
 * request that leaves this worker opens a slot at the tail of its
 * connection's list (conn_slot_open, with the number of parts still to
 * come); routing stores each part's bytes in the slot (out, or the
 * gather's part buffers) and calls conn_slot_part_done once per part; the
 * connection moves completed slots to its output in order. A slot is
 * referenced by the messages in flight for it; when its connection goes
 * away it is orphaned (conn NULL) rather than freed, and the last part
 * back frees it: no message ever points at a freed connection or slot.
 *
 * Owns: messages it allocated until they are sent; a slot's gather state
 *   (srv_gather_free). Connections and slots are the core's (conn.c).
 * Threads: everything runs on the request's origin worker, except
 *   srv_msg_visit, which runs on the worker a visit was sent to.
 */
#ifndef FC_SERVER_ROUTE_ROUTE_H
#define FC_SERVER_ROUTE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commands/command.h"
#include "protocol/resp.h"
#include "server/route/mesh.h"
#include "util/buf.h"

struct conn;       /* the core's connection (client.h): handed to hooks */
struct srv_gather; /* below */

enum conn_slot_kind {
    SLOT_LOCAL = 0,  /* inline replies queued behind a pending slot */
    SLOT_REMOTE = 1, /* one request executed by another worker */
    SLOT_GATHER = 2, /* parts from several workers (scatter, srv_every) */
};

typedef struct conn_slot {
    struct conn_slot *next;
    struct conn *conn;    /* NULL once orphaned */
    uint32_t pending;     /* parts not back yet */
    uint8_t kind;         /* enum conn_slot_kind */
    fc_buf out;           /* the reply bytes once complete */
    struct srv_gather *g; /* SLOT_GATHER only */
    size_t acct;          /* bytes of out counted in conn.slot_bytes */
} conn_slot;

/* srv_every: writes the reply from every worker's part (part[i] is
 * worker i's, in the format its srv_part_fn wrote; none is oom), on the
 * origin worker w, with the argument the parts got. An error it writes
 * is its own to count (errorstats): srv_execute has returned long ago. */
typedef void (*srv_merge_fn)(struct srv_worker *w, const void *arg,
                             const fc_buf *part, uint32_t nparts,
                             resp_writer *wr);

/* Merge state of a SLOT_GATHER slot: one part buffer per worker. A
 * scatter notes, for each key group (in input order), the worker that
 * owns it and merges by the command's rule; srv_every has a function. */
typedef struct srv_gather {
    enum cmd_split rule;
    uint8_t proto;
    uint32_t nworkers;
    size_t ngroups;
    uint32_t *group_owner;     /* [ngroups] */
    fc_buf *part;              /* [nworkers]; unused ones stay empty */
    srv_merge_fn merge;        /* srv_every: composes the reply */
    struct srv_worker *origin; /* srv_every: handed to merge */
    void *arg;                 /* srv_every: the parts' argument */
} srv_gather;

/* An admitted request, as exec.c hands it to the router. */
typedef struct srv_req {
    srv_router *rt;               /* the connection's worker's */
    struct conn *conn;            /* the client (for the hooks) */
    const struct srv_cmdent *cmd; /* its table entry (for srv_execute) */
    const cmd_def *def;           /* key positions, split rule, flags */
    const resp_arg *argv;
    size_t argc;
    resp_writer *wr; /* the connection's writer; routing points its out at
                        conn_out() before running a request inline */
    bool behind;     /* earlier replies of the connection are outstanding */
    bool published;  /* SRV_CMD_PUBLISHED (srvcmd.h) */
    bool exclusive;  /* SRV_CMD_EXCL, on the command or its subcommand */
    bool every;      /* SRV_CMD_EVERY, on the command or its subcommand */
    bool notkey;     /* SRV_CMD_NOTKEY: inline, its key positions aside */
} srv_req;

enum srv_route_res {
    SRV_ROUTE_DONE = 0,      /* executed, sent, or answered with an error */
    SRV_ROUTE_WAIT = 1,      /* must wait until the connection's slots drain;
                                nothing was executed: call again later */
    SRV_ROUTE_WAIT_ROOM = 2, /* no room in flight towards another worker:
                                nothing was executed; call again once
                                replies come back (exec.c queues the
                                connection for that) */
};

/* Origin: runs, sends or scatters r (see above). */
enum srv_route_res srv_route(const srv_req *r);

/* Origin: a reply came back: its room is freed (srv_msg_back), its bytes
 * go into their slot, and the message is freed. */
void srv_msg_returned(srv_router *rt, srv_msg *m);
/* Owner: runs a visit over this worker and sends it back. */
void srv_msg_visit(srv_router *rt, srv_msg *m);
/* Shutdown (single-threaded): releases a message wherever it was. */
void srv_msg_discard(srv_msg *m);
void srv_reply_oom(resp_writer *wr);

/* The largest argument srv_every takes (what srv_route reserves room for
 * on top of the request's own bytes). */
#define SRV_EVERY_ARG_MAX 512

/* For a command that reads or changes what every worker holds for itself
 * (its connections), running inline on its connection's worker: part runs
 * on this worker now and on every other one by message (a visit, which
 * counts no command and passes no gate: it must not touch keys); merge
 * writes the reply once all parts are back, into the connection's next
 * reply slot, so the caller writes no reply of its own. Replies keep
 * pipeline order; the parts a worker gets from one origin run in the
 * order they were sent. arg (len <= SRV_EVERY_ARG_MAX bytes) is copied
 * into every message and kept for merge. Only where srv_route admitted an
 * `every` request (it made sure of the room) and with more than one
 * worker. -1 on OOM, with nothing sent: the caller replies. */
int srv_every(srv_router *rt, struct conn *c, int proto, srv_part_fn part,
              srv_merge_fn merge, const void *arg, size_t len);

/* Frees gather state (with its part buffers). */
void srv_gather_free(srv_gather *g);
/* Writes the merged reply of a complete gather into out. */
void srv_gather_merge(const srv_gather *g, fc_buf *out);

/* router.c -> gather.c: a split command whose key groups
 * argv[first..last] (step apart) span several workers. */
void srv_scatter(const srv_req *r, size_t first, size_t last, size_t step);

/* --- hooks: implemented by the core, called by routing ----------------- */

/* conn.c: where the reply of a request executed inline now must go. */
fc_buf *conn_out(struct conn *c);
/* conn.c: appends a slot of the given kind (pending parts) at the tail.
 * NULL on OOM. */
conn_slot *conn_slot_open(struct conn *c, enum conn_slot_kind kind,
                          uint32_t pending);
/* conn.c: one part of s came back (its bytes already stored in s). Frees
 * orphans; moves completed head slots to the output; resumes a blocked
 * connection whose slots have drained. */
void conn_slot_part_done(conn_slot *s);
/* exec.c: runs one command on worker w with the given writer and
 * connection (NULL for another worker's client), timing it into the
 * worker's stats. */
void srv_execute(struct srv_worker *w, const struct srv_cmdent *e,
                 const resp_arg *argv, size_t argc, resp_writer *wr,
                 struct conn *c);
/* exec.c: runs r inline while every other worker is parked (the router
 * holds the token) and republishes every worker's figures after. */
void srv_run_parked(const srv_req *r);
/* blocking.c: a blocking request that ran on its keys' owner found
 * nothing and waits there (its reply is SRV_BLK_MARK and a waiter
 * pointer): the origin takes the waiter over, keeping the slot pending. */
#define SRV_BLK_MARK '\0'
void srv_blk_adopt(struct srv_worker *w, conn_slot *s, const void *reply,
                   size_t len);
/* blocking.c: the reply to a waiter's retry (m->blk) came back. true when
 * it consumed m's reply (still nothing: the waiter waits on); false when
 * the reply goes into the slot as any reply does. */
bool srv_blk_returned(struct srv_worker *w, conn_slot *s, const srv_msg *m);
/* pubstats.c: RANDOMKEY's worker, picked by published key counts. */
uint32_t srv_pub_pick(struct srv_worker *w);

#endif /* FC_SERVER_ROUTE_ROUTE_H */
