/*
 * conn.c — connections: accept, the parse/execute loop over the read
 * buffer, reply slots (ordering rules in client.h) and teardown.
 */
#define _GNU_SOURCE
#include "server/durable.h"
#include "server/client.h"
#include "server/blocking.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/config/log.h"
#include "server/config/obuf_limit.h"
#include "server/exec.h"
#include "server/multi.h"
#include "server/pubsub.h"
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
    c->reply_est = CONN_REPLY_EST0;
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

static void resume_unlink(conn *c)
{
    conn **p = &c->w->resume;
    while (*p && *p != c)
        p = &(*p)->resume_next;
    if (*p)
        *p = c->resume_next;
    c->in_resume = false;
}

static void chan_wait_unlink(conn *c)
{
    conn **p = &c->w->chan_wait;
    while (*p && *p != c)
        p = &(*p)->chan_wait_next;
    if (*p)
        *p = c->chan_wait_next;
    c->in_chan_wait = false;
}

static void resume_later(conn *c)
{
    if (c->in_resume || c->io.closing)
        return;
    c->in_resume = true;
    c->resume_next = c->w->resume;
    c->w->resume = c;
}

void conn_chan_wait(conn *c)
{
    if (c->in_chan_wait)
        return;
    c->in_chan_wait = true;
    c->chan_wait_next = c->w->chan_wait;
    c->w->chan_wait = c;
}

void conn_chan_wake(srv_worker *w)
{
    conn *c;
    while ((c = w->chan_wait)) {
        w->chan_wait = c->chan_wait_next;
        c->chan_wait_next = NULL;
        c->in_chan_wait = false;
        resume_later(c);
    }
}

void conn_destroy(conn *c)
{
    srv_worker *w = c->w;
    srv_blk_conn_gone(c);
    srv_dur_conn_gone(c);
    srv_ps_conn_gone(c);
    if (c->in_resume)
        resume_unlink(c);
    if (c->in_chan_wait)
        chan_wait_unlink(c);
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
    conn_slot *t = c->slot_tail;
    if (t && t->kind == SLOT_LOCAL) {
        /* The local tail receives no more replies: count it from now on
         * (conn_out_pending counts a local tail by itself). */
        t->acct = t->out.len;
        c->slot_bytes += t->acct;
    }
    if (t)
        t->next = s;
    else
        c->slot_head = s;
    c->slot_tail = s;
    c->nslots++;
    if (pending)
        c->nwaiting++;
    return s;
}

size_t conn_out_pending(const conn *c)
{
    size_t n = c->io.wbuf.len + c->io.wbusy.len + c->slot_bytes;
    const conn_slot *t = c->slot_tail;
    if (t && t->kind == SLOT_LOCAL)
        n += t->out.len;
    return n;
}

/* Redis's client-output-buffer-limit, looked at wherever output grows.
 * true when the connection was closed. */
static bool obuf_check(conn *c)
{
    srv_worker *w = c->w;
    /* Redis's class of the client: a subscriber (CLIENT_PUBSUB) is
     * pubsub, whatever its protocol. */
    int cls = c->ps && srv_ps_active(c) ? SRV_OBUF_PUBSUB : SRV_OBUF_NORMAL;
    const srv_obuf_class *l = &w->srv->cfg.obuf_limits[cls];
    if (c->io.closing)
        return true; /* counted once, when it was closed */
    if (!l->hard && !l->soft)
        return false;
    size_t pending = conn_out_pending(c);
    if (!srv_obuf_exceeded(l, pending, w->now, &c->obuf_soft_since_ms))
        return false;
    srv_warning("Client id=%llu addr=%s closed for overcoming of output "
                "buffer limits (omem=%zu).",
                (unsigned long long)c->id, c->addr, pending);
    atomic_store_explicit(
        &w->stat_obuf_disconn,
        atomic_load_explicit(&w->stat_obuf_disconn, memory_order_relaxed) + 1,
        memory_order_relaxed);
    conn_close(c);
    return true;
}

bool conn_obuf_check(conn *c)
{
    return obuf_check(c);
}

/* Whether the connection may start one more request now: not while its
 * unsent output is at the back-pressure mark, nor while the replies still
 * expected from other workers would, at their recent size, take it there
 * (at least one may always be in flight, so progress never stops). */
static bool out_room(const conn *c)
{
    if (conn_out_pending(c) >= CONN_OUT_HIGH)
        return false;
    if (c->nwaiting == 0)
        return true;
    size_t est = c->reply_est ? c->reply_est : 1;
    return c->nwaiting < CONN_OUT_HIGH / est;
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
        c->slot_bytes -= s->acct;
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
    if (s == c->blk_slot)
        c->blk_slot = NULL; /* a blocking request's reply: go on */
    if (s->kind == SLOT_GATHER) {
        srv_gather_merge(s->g, &s->out);
        srv_gather_free(s->g);
        s->g = NULL;
    }
    c->nwaiting--;
    /* The estimate follows a growing reply size at once and a shrinking
     * one by a quarter per reply. */
    size_t len = s->out.len, est = c->reply_est;
    c->reply_est = len >= est ? len : est - est / 4 + len / 4;
    s->acct = len;
    c->slot_bytes += len;
    if (obuf_check(c))
        return;
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
        if (srv_request(c, c->argv, argc) == SRV_ROUTE_WAIT) {
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
    if (!c->authed && c->w->srv->cfg.requirepass) {
        /* Redis 7's caps before AUTH: whatever an unauthenticated client
         * announces, it can make us hold only tiny requests. */
        lim.unauth_multibulk = CONN_UNAUTH_MULTIBULK;
        lim.unauth_bulk_len = CONN_UNAUTH_BULK;
    }
    bool full = false;
    while (!c->io.closing && !c->quit && c->nslots < CONN_MAX_SLOTS &&
           !c->blk_slot) {
        size_t avail = c->io.rbuf.len - c->rpos;
        if (!c->held_argc && (avail == 0 || (c->need && avail < c->need)))
            break;
        if (!out_room(c)) {
            full = true;
            break;
        }
        if (lim.unauth_bulk_len && c->authed) /* AUTH earlier in the pipeline */
            lim.unauth_multibulk = lim.unauth_bulk_len = 0;
        bool more = process_one(c, &lim);
        if (obuf_check(c) || !more)
            break;
    }
    if (!full && !c->io.closing && !c->quit && conn_out_pending(c) >= CONN_OUT_HIGH)
        full = true; /* the last request filled it: do not read more */
    c->out_paused = full;
    c->io.read_hint = c->need ? c->rpos + c->need : 0;
    if (c->io.wbuf.len)
        conn_want_write(c);
    if (!c->io.closing) {
        /* Stalled behind other workers, or its output is at the
         * back-pressure mark: stop reading until that drains. */
        bool stalled = c->blocked || c->nslots >= CONN_MAX_SLOTS || full;
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
    /* Messages published before this input was sent go out before its
     * replies (a PUBLISH that returned is in its subscribers' output, as
     * in Redis), though the wakeup and the input came in one poll. */
    srv_ps_iteration(w);
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

/* Called by the backends inside poll or flush, where running requests
 * would produce output the flush has already walked past: the connection
 * goes on the worker's resume list instead, run before the next flush. */
void conn_on_drained(ev_conn *io)
{
    conn *c = conn_of(io);
    if (c->out_paused)
        resume_later(c);
}

void conn_resume_drained(srv_worker *w)
{
    conn *c;
    while ((c = w->resume)) {
        w->resume = c->resume_next;
        c->resume_next = NULL;
        c->in_resume = false;
        c->out_paused = false;
        conn_process(c); /* pauses again if it fills up again */
    }
}
