/*
 * ev.h — the event-loop abstraction: one loop per worker, one backend per
 * kernel mechanism (epoll now; io_uring in ev_uring.c), chosen at start.
 *
 * The contract is shaped for a completion-based backend (io_uring): the
 * BACKEND owns every socket operation. It accepts on the worker's listening
 * socket, reads into a connection's rbuf, writes from its wbuf, closes, and
 * drains the worker's wake eventfd; the server only reacts to callbacks and
 * marks connections that have output. A readiness backend (epoll) does the
 * same work synchronously; nothing in the server depends on which one runs.
 *
 * Owns: the backend's kernel objects (epoll fd, ring) and its bookkeeping of
 *   connections. It does NOT own the listening socket, the wake eventfd or
 *   the connections themselves (the worker does; see worker.h / client.h).
 * Threads: a loop and every connection registered with it belong to one
 *   worker thread; no call here is thread-safe, none needs to be.
 * Memory: ev_conn is embedded in the server's connection (client.h); the
 *   backend never frees it. After ev_conn_close() (or a peer close / I/O
 *   error the backend sees) the backend finishes or cancels what it has in
 *   flight, closes the fd and then calls conn_on_closed() exactly once; the
 *   server frees the connection inside that callback. conn_on_closed() is
 *   never called from inside ev_conn_close() (so a command may close any
 *   connection, its own included, without freeing memory under its caller).
 *
 * Buffers (the rule a completion backend needs):
 *  - rbuf: the backend appends received bytes (reserving at least
 *    max(EV_READ_CHUNK, read_hint - rbuf.len) first) and then calls
 *    conn_on_read(c, n). The server may move or compact rbuf only inside
 *    conn_on_read (no read is in flight then); elsewhere it only reads it.
 *  - wbuf: the server appends replies at any time and calls ev_want_write();
 *    at ev_flush() the backend sends and consumes from its start. A backend
 *    that keeps a write in flight after ev_flush() returns moves the bytes it
 *    submitted into wbusy first (swapping buffers), so that appends to wbuf
 *    never move memory the kernel is reading.
 *  - close_after_write: once set, the backend closes the connection as soon
 *    as wbuf (and wbusy) are fully sent, and reads nothing more.
 */
#ifndef FC_SERVER_EV_H
#define FC_SERVER_EV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define EV_READ_CHUNK (16 * 1024)

struct srv_worker;
typedef struct ev_loop ev_loop;

typedef struct ev_conn {
    int fd;
    fc_buf rbuf;      /* backend appends, server parses (see above) */
    fc_buf wbuf;      /* server appends replies, backend sends */
    fc_buf wbusy;     /* completion backends: bytes submitted to the kernel */
    size_t read_hint; /* bytes the server knows it needs in rbuf (big bulks) */
    bool close_after_write;
    bool closing;       /* close requested or seen; no more callbacks but
                           conn_on_closed */
    bool read_paused;   /* set through ev_conn_read_pause */
    bool in_write_list; /* on the loop's write_list */
    struct ev_conn *write_next;
    uint32_t be_flags; /* backend-private state */
    void *be_priv;     /* backend-private state */
} ev_conn;

/* Common head of every backend's loop object (backends embed it first). */
struct ev_loop {
    const struct ev_backend *be;
    struct srv_worker *worker;
    ev_conn *write_list; /* connections with output, sent at ev_flush */
};

typedef struct ev_backend {
    const char *name;
    /* Whether the kernel supports this backend; why not in `why`. */
    bool (*probe)(char *why, size_t whylen);
    /* A loop for worker w that accepts on listen_fd and watches wake_fd.
     * NULL with a message in err on failure. */
    ev_loop *(*create)(struct srv_worker *w, int listen_fd, int wake_fd,
                       char *err, size_t errlen);
    /* Frees the loop. Connections must all be closed (conn_on_closed called)
     * before; the listening socket and wake fd are not closed here. */
    void (*destroy)(ev_loop *l);
    /* Waits up to timeout_ms (-1 = forever, 0 = not at all) and dispatches
     * what happened: srv_on_accept, conn_on_read, conn_on_drained,
     * srv_on_wakeup, conn_on_closed. -1 on a fatal loop error. */
    int (*poll)(ev_loop *l, int timeout_ms);
    /* Sends (or submits) the output of every connection on write_list and
     * completes pending closes. Called once per loop iteration, after the
     * server has produced the iteration's replies: one write per connection
     * per iteration however many pipelined replies it holds. */
    void (*flush)(ev_loop *l);
    /* Requests a close (idempotent); see the memory rule above. */
    void (*conn_close)(ev_loop *l, ev_conn *c);
    /* Stops (pause) or restarts reading. A completion backend may still
     * deliver one read already in flight. */
    void (*conn_read_pause)(ev_loop *l, ev_conn *c, bool pause);
    /* Stops accepting for good (shutdown). */
    void (*listen_stop)(ev_loop *l);
    /* Optional (NULL = none): queues a wakeup of loop `to` (another
     * worker's, same backend) that reaches it no later than from's next
     * poll, without a syscall of its own. false when it cannot: the caller
     * then writes to's wake eventfd. Only from's thread calls it. */
    bool (*wake)(ev_loop *from, ev_loop *to);
} ev_backend;

/* Backend selection. name: "epoll", "uring" or NULL for the default (uring
 * when it is linked in and the kernel supports it, else epoll). NULL with a
 * message in err when the named one is unknown or unavailable. */
const ev_backend *ev_backend_select(const char *name, char *err, size_t errlen);

/* When the default selection (name NULL) does not pick io_uring: true, with
 * the reason in why (for the log). false when it picks io_uring. */
bool ev_default_fallback_reason(char *why, size_t whylen);

extern const ev_backend ev_epoll_backend;
/* Weak: defined by ev_uring.c when that file is part of the build. */
extern const ev_backend ev_uring_backend __attribute__((weak));

/* Room a backend reserves in rbuf before a read: EV_READ_CHUNK, or more
 * for a big bulk the server waits for (read_hint), but never more than
 * twice what rbuf already holds. A length header is only a claim: growing
 * with the bytes that really arrived keeps unauthenticated or lying
 * clients from making us allocate what they never send, and costs a real
 * big bulk only a geometric series of reallocs. */
static inline size_t ev_read_want(const ev_conn *c)
{
    size_t want = EV_READ_CHUNK;
    if (c->read_hint > c->rbuf.len && c->read_hint - c->rbuf.len > want)
        want = c->read_hint - c->rbuf.len;
    size_t cap = c->rbuf.len > EV_READ_CHUNK ? c->rbuf.len : EV_READ_CHUNK;
    return want < cap ? want : cap;
}

static inline void ev_want_write(ev_loop *l, ev_conn *c)
{
    if (!c->in_write_list) {
        c->in_write_list = true;
        c->write_next = l->write_list;
        l->write_list = c;
    }
}

static inline void ev_conn_close(ev_loop *l, ev_conn *c)
{
    l->be->conn_close(l, c);
}

static inline void ev_conn_read_pause(ev_loop *l, ev_conn *c, bool pause)
{
    if (c->read_paused != pause)
        l->be->conn_read_pause(l, c, pause);
}

/* --- callbacks: implemented by the server, called by backends ---------- */

/* A new connection on fd (non-blocking, TCP_NODELAY already set by the
 * backend). Returns the connection, on which the backend then starts
 * reading, or NULL after having closed fd itself (limit reached, OOM). If
 * the backend then fails to start I/O, it closes fd and calls
 * conn_on_closed. */
ev_conn *srv_on_accept(struct srv_worker *w, int fd);
/* n > 0 bytes were appended to c->rbuf. */
void conn_on_read(ev_conn *c, size_t n);
/* All output was sent after the backend had to wait for the socket. */
void conn_on_drained(ev_conn *c);
/* The backend is done with c (fd closed, nothing in flight): free it. */
void conn_on_closed(ev_conn *c);
/* The wake eventfd fired; the backend has already reset its counter. */
void srv_on_wakeup(struct srv_worker *w);
/* poll's wait is over (called once per poll, before anything is
 * dispatched): from here on, messages sent to this worker need no wakeup. */
void srv_on_awake(struct srv_worker *w);

#endif /* FC_SERVER_EV_H */
