/*
 * conn.c — connections: accept, the parse/execute loop over the read
 * buffer, reply slots (ordering rules in client.h) and teardown.
 */
#define _GNU_SOURCE
#include "server/durable.h"
#include "server/client.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/log.h"
#include "server/multi.h"
#include "server/router.h"
#include "server/worker.h"

#define BUF_SHRINK_ABOVE (4u << 20) /* idle buffers bigger than this shrink */

static void format_addr(const struct sockaddr_storage *ss, char *out,
                        size_t outlen)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
        port = ntohs(a->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
        port = ntohs(a->sin6_port);
    }
    snprintf(out, outlen, "%s:%d", ip, port);
}

conn *conn_create(srv_worker *w, int fd)
{
    conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->argv_cap = 16;
    c->argv = malloc(c->argv_cap * sizeof(*c->argv));
    if (!c->argv) {
        free(c);
        return NULL;
    }
    c->io.fd = fd;
    c->w = w;
    c->id = atomic_fetch_add(&w->srv->next_client_id, 1);
    c->wr.out = &c->io.wbuf;
    c->wr.proto = 2;
    c->authed = w->srv->cfg.requirepass == NULL;
    c->ctime_ms = c->atime_ms = w->now;
    c->last_cmd = "NULL";
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
        format_addr(&ss, c->addr, sizeof(c->addr));
    len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        format_addr(&ss, c->laddr, sizeof(c->laddr));
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    w->nconns++;
    return c;
}

static void slot_free(conn_slot *s)
{
    fc_buf_free(&s->out);
    if (s->g)
        srv_gather_free(s->g);
    free(s);
}

void conn_destroy(conn *c)
{
    srv_worker *w = c->w;
    srv_dur_conn_gone(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    w->nconns--;
    srv_tx_free(c);
    for (conn_slot *s = c->slot_head, *n; s; s = n) {
        n = s->next;
        s->next = NULL;
        if (s->pending)
            s->conn = NULL; /* orphan: freed when its last message returns */
        else
            slot_free(s);
    }
    fc_buf_free(&c->io.rbuf);
    fc_buf_free(&c->io.wbuf);
    fc_buf_free(&c->io.wbusy);
    free(c->argv);
    free(c->name);
    free(c->lib_name);
    free(c->lib_ver);
    free(c);
}

ev_conn *srv_on_accept(srv_worker *w, int fd)
{
    srv_server *s = w->srv;
    if (atomic_load(&s->stop)) {
        close(fd); /* shutting down: accept nothing new */
        return NULL;
    }
    uint32_t n = atomic_fetch_add(&s->nclients, 1);
    if (n >= s->cfg.maxclients) {
        static const char msg[] = "-ERR max number of clients reached\r\n";
        atomic_fetch_sub(&s->nclients, 1);
        atomic_fetch_add(&s->stat_rejected_conn, 1);
        ssize_t r = write(fd, msg, sizeof(msg) - 1); /* best effort */
        (void)r;
        close(fd);
        return NULL;
    }
    conn *c = conn_create(w, fd);
    if (!c) {
        atomic_fetch_sub(&s->nclients, 1);
        close(fd);
        return NULL;
    }
    atomic_fetch_add(&s->stat_conn_received, 1);
    return &c->io;
}

void conn_on_closed(ev_conn *io)
{
    conn *c = conn_of(io);
    srv_server *s = c->w->srv;
    conn_destroy(c);
    atomic_fetch_sub(&s->nclients, 1);
}

void conn_want_write(conn *c)
{
    if (!c->io.closing)
        ev_want_write(c->w->loop, &c->io);
}

void conn_close(conn *c)
{
    ev_conn_close(c->w->loop, &c->io);
}

void conn_close_after_reply(conn *c)
{
    c->quit = true;
    if (!c->slot_head) {
        c->io.close_after_write = true;
        conn_want_write(c);
    }
}

conn_slot *conn_slot_open(conn *c, enum conn_slot_kind kind, uint32_t pending)
{
    conn_slot *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->conn = c;
    s->kind = (uint8_t)kind;
    s->pending = pending;
    if (c->slot_tail)
        c->slot_tail->next = s;
    else
        c->slot_head = s;
    c->slot_tail = s;
    c->nslots++;
    return s;
}

fc_buf *conn_out(conn *c)
{
    if (!c->slot_head)
        return &c->io.wbuf;
    if (c->slot_tail->kind == SLOT_LOCAL)
        return &c->slot_tail->out;
    conn_slot *s = conn_slot_open(c, SLOT_LOCAL, 0);
    if (s)
        return &s->out;
    /* Out of memory: order can no longer be kept, so give up on the
     * connection (its output is dropped on close). */
    conn_close(c);
    return &c->io.wbuf;
}

/* Moves complete slots at the head to wbuf, in order. */
static void slots_advance(conn *c)
{
    bool moved = false;
    conn_slot *s;
    while ((s = c->slot_head) && s->pending == 0) {
        if (c->io.wbuf.len == 0 && !c->io.wbuf.oom) {
            fc_buf t = c->io.wbuf; /* swap instead of copying */
            c->io.wbuf = s->out;
            s->out = t;
        } else {
            fc_buf_append(&c->io.wbuf, s->out.data, s->out.len);
        }
        c->slot_head = s->next;
        if (!c->slot_head)
            c->slot_tail = NULL;
        c->nslots--;
        slot_free(s);
        moved = true;
    }
    if (moved)
        conn_want_write(c);
    if (!c->slot_head && c->quit) {
        c->io.close_after_write = true;
        conn_want_write(c);
    }
}

void conn_slot_part_done(conn_slot *s)
{
    assert(s->pending > 0);
    s->pending--;
    conn *c = s->conn;
    if (!c) {
        if (s->pending == 0)
            slot_free(s);
        return;
    }
    if (s->pending)
        return;
    if (s->kind == SLOT_GATHER) {
        srv_gather_merge(s->g, &s->out);
        srv_gather_free(s->g);
        s->g = NULL;
    }
    if (s == c->slot_head) {
        slots_advance(c);
        /* A blocked or throttled connection may go on now (and a paused
         * one must read again even when it has nothing buffered). */
        if (!c->io.closing && (c->io.rbuf.len > c->rpos || c->io.read_paused))
            conn_process(c);
    }
}

static void protocol_error(conn *c, const char *err)
{
    fc_buf *out = conn_out(c);
    resp_writer wr = {.out = out, .proto = c->wr.proto};
    resp_error(&wr, err);
    conn_close_after_reply(c);
    srv_verbose("Protocol error (%s) from client: id=%llu addr=%s", err,
                (unsigned long long)c->id, c->addr);
}

static bool grow_argv(conn *c, size_t n)
{
    resp_arg *a = realloc(c->argv, n * sizeof(*a));
    if (!a)
        return false;
    c->argv = a;
    c->argv_cap = n;
    return true;
}

/* A request that must wait (SRV_ROUTE_WAIT) is kept parsed rather than
 * parsed again later: the parser decodes inline escapes in place, so its
 * bytes are no longer the original text. Its views become offsets from
 * rpos while it waits, because rbuf may move (conn_on_read compacts, the
 * backend grows it). */
static void hold_request(conn *c, size_t argc, size_t consumed)
{
    const char *base = c->io.rbuf.data + c->rpos;
    for (size_t i = 0; i < argc; i++)
        c->argv[i].ptr = (const char *)(uintptr_t)(c->argv[i].ptr - base);
    c->held_argc = argc;
    c->held_consumed = consumed;
}

static size_t unhold_request(conn *c, size_t *consumed)
{
    const char *base = c->io.rbuf.data + c->rpos;
    size_t argc = c->held_argc;
    for (size_t i = 0; i < argc; i++)
        c->argv[i].ptr = base + (uintptr_t)c->argv[i].ptr;
    *consumed = c->held_consumed;
    c->held_argc = 0;
    return argc;
}

/* One request at rpos. false to stop the loop. */
static bool process_one(conn *c, const resp_limits *lim)
{
    fc_buf *rb = &c->io.rbuf;
    size_t avail = rb->len - c->rpos, argc = 0, consumed = 0, need = 0;
    const char *err = NULL;
    enum resp_status st = RESP_DONE;
    if (c->held_argc)
        argc = unhold_request(c, &consumed);
    else
        st = resp_parse_mut(rb->data + c->rpos, avail, lim, c->argv,
                            c->argv_cap, &argc, &consumed, &need, &err);
    switch (st) {
    case RESP_DONE:
        c->need = 0;
        if (srv_route(c, c->argv, argc) == SRV_ROUTE_WAIT) {
            hold_request(c, argc, consumed);
            c->blocked = true;
            return false;
        }
        c->rpos += consumed;
        return true;
    case RESP_EMPTY:
        c->rpos += consumed;
        return true;
    case RESP_NEED_MORE:
        c->need = need;
        return false;
    case RESP_MORE_ARGS:
        if (grow_argv(c, argc))
            return true;
        conn_close(c);
        return false;
    case RESP_ERROR:
    default:
        protocol_error(c, err ? err : "ERR Protocol error");
        return false;
    }
}

void conn_process(conn *c)
{
    if (c->in_process || c->io.closing)
        return;
    c->in_process = true;
    c->w->exec_mark_ns = 0; /* commands chain within this pipeline only */
    c->blocked = false;
    resp_limits lim;
    resp_limits_default(&lim);
    lim.max_bulk_len = c->w->srv->cfg.proto_max_bulk_len;
    while (!c->io.closing && !c->quit && c->nslots < CONN_MAX_SLOTS) {
        size_t avail = c->io.rbuf.len - c->rpos;
        if (!c->held_argc && (avail == 0 || (c->need && avail < c->need)))
            break;
        if (!process_one(c, &lim))
            break;
    }
    c->io.read_hint = c->need ? c->rpos + c->need : 0;
    if (c->io.wbuf.len)
        conn_want_write(c);
    if (!c->io.closing) {
        /* Stalled behind other workers: stop reading until it drains. */
        bool stalled = c->blocked || c->nslots >= CONN_MAX_SLOTS;
        ev_conn_read_pause(c->w->loop, &c->io, stalled);
    }
    c->in_process = false;
    c->w->exec_mark_ns = 0;
}

static void shrink_idle(fc_buf *b)
{
    if (b->len == 0 && b->cap > BUF_SHRINK_ABOVE)
        fc_buf_free(b);
}

void conn_on_read(ev_conn *io, size_t n)
{
    conn *c = conn_of(io);
    srv_worker *w = c->w;
    atomic_store_explicit(
        &w->stat_net_in,
        atomic_load_explicit(&w->stat_net_in, memory_order_relaxed) + n,
        memory_order_relaxed);
    /* The only place where rbuf may move (no read in flight). */
    if (c->rpos) {
        fc_buf_consume(&io->rbuf, c->rpos);
        c->rpos = 0;
    }
    shrink_idle(&io->wbuf);
    conn_process(c);
    /* The limit is on input not yet executed (as Redis's querybuf): one
     * large read of complete pipelined requests is fine once they ran, and
     * input held back while the connection waits on other workers (reading
     * is paused then) is our back-pressure, not the client's excess. */
    size_t unexecuted = io->rbuf.len - c->rpos;
    if (!io->closing && !io->read_paused &&
        unexecuted > w->srv->cfg.client_query_buffer_limit) {
        srv_warning("Closing client that reached max query buffer length: "
                    "id=%llu addr=%s (qbuf=%zu)",
                    (unsigned long long)c->id, c->addr, unexecuted);
        conn_close(c);
        return;
    }
    if (io->rbuf.len == c->rpos && io->rbuf.cap > BUF_SHRINK_ABOVE) {
        fc_buf_free(&io->rbuf);
        c->rpos = 0;
    }
}

void conn_on_drained(ev_conn *io)
{
    (void)io; /* no output-side throttling yet */
}
