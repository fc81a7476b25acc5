/*
 * client.h — one client connection: its buffers, parse state, session state
 * (protocol, auth, name) and the ordered reply slots that keep pipelined
 * replies in request order when some are computed by other workers.
 *
 * Reply order. Replies are appended straight to io.wbuf while the
 * connection has no slot. A request sent to another worker opens a slot
 * (SLOT_REMOTE or SLOT_GATHER) at the tail; replies computed inline after it
 * go into a SLOT_LOCAL slot behind it. When the head slot completes, it and
 * every completed slot after it move to wbuf in order. A pending slot thus
 * holds back everything behind it, and only that.
 *
 * Lifetime. A slot is referenced by the messages in flight for it
 * (`pending`), and is owned by the connection's worker only. When the
 * connection goes away with slots in flight, those slots are orphaned
 * (slot->conn = NULL) instead of freed; the returning messages find an
 * orphan, drop the reply and free the slot when `pending` reaches 0. No
 * message ever points at a freed connection or slot.
 *
 * Owns: its argv array, slots, names, and (through io) rbuf/wbuf/wbusy.
 * Threads: only its worker touches a connection (CLIENT LIST/KILL ask
 *   each worker for its part by message), except inside EXEC's exclusive
 *   section, where CLIENT LIST/KILL read it (and set kill_req) from
 *   another worker while this one is parked.
 * Memory: freed in conn_on_closed (after the backend is done with it).
 */
#ifndef FC_SERVER_CLIENT_H
#define FC_SERVER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/resp.h"
#include "server/net/ev.h"
#include "server/route/route.h" /* conn_slot: the reply slots */

struct srv_worker;
struct srv_tx;

#define CONN_ADDR_LEN 64
#define CONN_MAX_SLOTS 4096 /* requests in flight before parsing pauses */
/* Back-pressure: a connection whose unsent output (conn_out_pending) has
 * reached this stops executing requests and reading until its output has
 * drained completely. Kernel socket buffers hold several MiB more on top,
 * so a client that reads keeps streaming at full speed. */
#define CONN_OUT_HIGH (2u << 20)
/* The first guess of a remote reply's size (conn.reply_est), before any
 * came back: it caps the first burst of remote requests at
 * CONN_OUT_HIGH / CONN_REPLY_EST0 (16), so a pipeline of GETs of large
 * values cannot have thousands of large replies in flight (128 in flight
 * measured 190 MiB for 1 MiB values). Small replies shrink the estimate
 * by a quarter each, so after a few dozen a pipeline of small commands
 * may have CONN_MAX_SLOTS in flight again. */
#define CONN_REPLY_EST0 (128u << 10)
#define CONN_UNAUTH_MULTIBULK 10 /* Redis 7's limits before AUTH */
#define CONN_UNAUTH_BULK 16384

typedef struct conn {
    ev_conn io; /* first member: backends hand back &io */
    struct srv_worker *w;
    struct conn *prev, *next; /* the worker's connection list */
    uint64_t id;              /* CLIENT ID, unique in the process */
    resp_writer wr;           /* .out is set per command (conn_out) */
    bool authed;
    bool blocked;    /* an exclusive command waits for the slots to drain */
    bool kill_req;   /* CLIENT KILL: closed at the end of the iteration */
    bool in_process; /* conn_process is on the stack */
    bool quit;       /* close once every reply is out (QUIT, errors) */
    size_t rpos;     /* rbuf bytes already executed */
    size_t need;     /* bytes from rpos the next request needs (0 unknown) */
    resp_arg *argv;
    size_t argv_cap;
    size_t held_argc;     /* a parsed request waiting (conn.c), 0 = none */
    size_t held_consumed; /* its length in rbuf from rpos */
    conn_slot *slot_head, *slot_tail;
    uint32_t nslots;
    uint32_t nwaiting;  /* slots still waiting for other workers */
    size_t slot_bytes;  /* completed slot output not in wbuf yet (acct) */
    size_t reply_est;   /* recent remote reply size, for the in-flight cap */
    bool out_paused;    /* stopped by back-pressure: resume on drain */
    bool in_resume;     /* on the worker's resume list */
    struct conn *resume_next;
    bool in_chan_wait;  /* on the worker's chan_wait list */
    struct conn *chan_wait_next;
    int64_t obuf_soft_since_ms; /* over the soft limit since, 0 = not */
    char *name, *lib_name, *lib_ver; /* CLIENT SETNAME / SETINFO */
    char addr[CONN_ADDR_LEN];        /* peer "ip:port" */
    char laddr[CONN_ADDR_LEN];       /* local "ip:port" */
    int64_t ctime_ms;                /* monotonic, at accept */
    int64_t atime_ms;                /* monotonic, last command */
    const char *last_cmd;            /* static name of the last command */
    const char *last_sub;            /* ... and of its subcommand, or NULL */
    uint64_t dur_gen; /* fsync=always: output waits for this lane gen */
    bool dur_held;    /* taken off the write list until then */
    struct srv_tx *tx;               /* MULTI queue, WATCHes (multi.h) */
    /* Blocked (blocking.h): nothing more is executed until its reply
     * slot completes; reading goes on, so a disconnect is seen. */
    struct srv_blkw *blk;
    conn_slot *blk_slot; /* the blocking request's pending reply */
    struct srv_psc *ps;  /* subscriptions (pubsub.h), NULL = never */
} conn;

static inline conn *conn_of(ev_conn *io)
{
    return (conn *)io; /* io is the first member */
}

/* Creates a connection for an accepted fd (peer and local addresses read
 * here). NULL on OOM (fd left open). */
conn *conn_create(struct srv_worker *w, int fd);
/* Frees the connection; orphans slots still in flight. */
void conn_destroy(conn *c);

/* Parses and executes what rbuf holds from rpos, until it runs out of
 * complete requests or the connection blocks or closes. */
void conn_process(conn *c);
/* conn_out (where an inline reply goes), conn_slot_open and
 * conn_slot_part_done are declared in route/route.h: routing calls them. */
/* Marks the connection as having output for this iteration's flush. */
void conn_want_write(conn *c);
/* Closes after the pending output is sent (QUIT, protocol errors). */
void conn_close_after_reply(conn *c);
/* Closes now; pending output is dropped. */
void conn_close(conn *c);
/* Redis's client-output-buffer-limit for c's class (pubsub for a
 * subscriber, else normal), after output was added outside a request
 * (pub/sub deliveries). true when it closed the connection. */
bool conn_obuf_check(conn *c);
/* Output produced for the client and not yet sent (an upper bound: the
 * part of wbusy the kernel already took counts until the send ends). */
size_t conn_out_pending(const conn *c);
/* Runs the connections whose output drained while back-pressured (the
 * worker's resume list). Worker loop, before flush. */
void conn_resume_drained(struct srv_worker *w);
/* A request of c waits for in-flight room towards another worker: c joins
 * the worker's chan_wait list (once). */
void conn_chan_wait(conn *c);
/* Room was freed: every waiting connection goes on the resume list. */
void conn_chan_wake(struct srv_worker *w);

/* CLIENT SETNAME / HELLO SETNAME: Redis's rule (printable, no spaces). */
int srv_client_name_ok(const resp_arg *name);
/* Sets (or, empty, clears) the name. -1 on OOM. */
int srv_client_set_name(conn *c, const resp_arg *name);

#endif /* FC_SERVER_CLIENT_H */
