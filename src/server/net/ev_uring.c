/*
 * ev_uring.c — the completion backend: one io_uring per worker.
 *
 * Every socket operation is an SQE; everything prepared during an iteration
 * (sends from ev_flush, re-armed receives, cancels) goes to the kernel in the
 * one io_uring_submit_and_wait*() at the top of the next ev_poll, which also
 * waits. Where the kernel has them, accepts are one multishot accept, reads
 * one multishot recv per connection drawing from a ring of provided buffers
 * (copied into rbuf and handed back to the kernel at once), and the wake
 * eventfd one multishot poll. Older kernels get single-shot operations
 * re-armed after each completion, reads then going straight into rbuf.
 *
 * user_data is a pointer with an operation tag in its 3 low bits. A
 * connection's in-flight operations are counted in be_flags, so it is never
 * handed back while a CQE naming it may still come: a close cancels what is
 * in flight, waits for every CQE (the cancels' own too), closes the fd and
 * queues the connection for conn_on_closed at the end of ev_flush, after
 * the write list has been walked. be_priv holds how much of wbusy the kernel
 * has taken, and once queued, the queue's link.
 *
 * Writes: ev_flush swaps wbuf and wbusy (wbuf is then empty, with the old
 * wbusy's memory) and sends wbusy; short writes resend the rest, polling
 * first. One send per connection is in flight; output appended meanwhile is
 * sent when it completes.
 *
 * Waking another worker (ev_backend.wake) is a MSG_RING SQE on our ring,
 * sent with the iteration's other SQEs: it posts a CQE (user_data 0,
 * ignored) on the target's ring, which ends the target's wait. Nothing
 * comes back on success (CQE_SKIP_SUCCESS); a failure (the target's ring
 * not enabled yet, say) falls back to the target's eventfd.
 *
 * Ring flavours, feature detection and probing: ev_uring_setup.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/net/ev_uring.h"

#define UR_MAX_IO (1u << 30)     /* bytes per recv/send SQE (len is u32) */
#define UR_WBUSY_KEEP (4u << 20) /* a sent wbusy larger than this is freed */

/* Connection state (ev_conn.be_flags). */
#define CF_RECV 1u                /* a recv is in flight */
#define CF_RECV_MS 2u             /* ... and it is the multishot one */
#define CF_RECV_CANCEL 4u         /* ... and a cancel for it was issued */
#define CF_SEND 8u                /* a send of wbusy is in flight */
#define CF_SEND_CANCEL 16u        /* ... and a cancel for it was issued */
#define CF_FINAL 32u              /* fd closed, queued for conn_on_closed */
#define CF_NCANCEL_ONE (1u << 16) /* cancel SQEs in flight, bits 16..31 */
#define CF_NCANCEL_MASK (0xffffu << 16)
#define CF_BUSY (CF_RECV | CF_SEND | CF_NCANCEL_MASK)

_Static_assert(_Alignof(ev_conn) > UR_TAG_MASK,
               "ev_conn must leave 3 low pointer bits for the tag");

/* --- small helpers ------------------------------------------------------- */

static uint64_t ud_of(const void *p, enum ur_tag t)
{
    return (uint64_t)(uintptr_t)p | (uint64_t)t;
}

static size_t sent_of(const ev_conn *c)
{
    return (size_t)(uintptr_t)c->be_priv;
}

static void set_sent(ev_conn *c, size_t n)
{
    c->be_priv = (void *)(uintptr_t)n;
}

/* An SQE; when the SQ is full (a burst over many connections) submits
 * early rather than failing. NULL only if the kernel refuses both. */
static struct io_uring_sqe *ur_sqe(ur_loop *l)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);
    if (!sqe) {
        io_uring_submit(&l->ring);
        sqe = io_uring_get_sqe(&l->ring);
    }
    return sqe;
}

static void poll_first(ur_loop *l, struct io_uring_sqe *sqe, bool yes)
{
    if (yes && (l->feat & UF_POLL_FIRST))
        sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
}

static size_t read_want(const ev_conn *c)
{
    return ev_read_want(c);
}

static bool conn_reading(const ev_conn *c)
{
    return !c->closing && !c->read_paused && !c->close_after_write;
}

/* --- closing -------------------------------------------------------------- */

/* Closes the fd and queues c for conn_on_closed once nothing is in flight. */
static void maybe_final(ur_loop *l, ev_conn *c)
{
    if (!c->closing || (c->be_flags & (CF_BUSY | CF_FINAL)))
        return;
    c->be_flags |= CF_FINAL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->be_priv = l->closed;
    l->closed = c;
}

/* Cancels c's recv or send (tag), once. */
static void cancel_op(ur_loop *l, ev_conn *c, enum ur_tag t)
{
    unsigned bit = t == T_RECV ? CF_RECV_CANCEL : CF_SEND_CANCEL;
    if (c->be_flags & bit)
        return;
    struct io_uring_sqe *sqe = ur_sqe(l);
    if (!sqe) {
        /* No way to cancel: make the socket end the operation itself. */
        if (c->closing)
            shutdown(c->fd, SHUT_RDWR);
        return;
    }
    io_uring_prep_cancel64(sqe, ud_of(c, t), 0);
    io_uring_sqe_set_data64(sqe, ud_of(c, T_CANCEL));
    c->be_flags += CF_NCANCEL_ONE;
    c->be_flags |= bit;
}

static void on_cancel(ur_loop *l, ev_conn *c, int res)
{
    c->be_flags -= CF_NCANCEL_ONE;
    /* The operation is running and cannot be cancelled: on a closing
     * connection, shutting the socket down makes it finish. */
    if (res == -EALREADY && c->closing && c->fd >= 0)
        shutdown(c->fd, SHUT_RDWR);
    maybe_final(l, c);
}

static void ur_conn_close(ev_loop *base, ev_conn *c)
{
    ur_loop *l = (ur_loop *)base;
    if (c->closing)
        return;
    c->closing = true;
    if (c->be_flags & CF_RECV)
        cancel_op(l, c, T_RECV);
    if (c->be_flags & CF_SEND)
        cancel_op(l, c, T_SEND);
    maybe_final(l, c);
}

/* --- reading -------------------------------------------------------------- */

/* Starts reading c unless it must not read or already does. Never while
 * conn_on_read runs for c: the server may still move rbuf then (on_recv
 * re-arms after the callback). */
static void recv_arm(ur_loop *l, ev_conn *c, bool pollfirst)
{
    if (!conn_reading(c) || (c->be_flags & CF_RECV) || l->in_read == c)
        return;
    struct io_uring_sqe *sqe = NULL;
    if (l->feat & UF_MS_RECV) {
        sqe = ur_sqe(l);
        if (!sqe)
            goto fail;
        io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = UR_BGID;
        c->be_flags |= CF_RECV | CF_RECV_MS;
    } else {
        if (!fc_buf_reserve(&c->rbuf, read_want(c)))
            goto fail;
        sqe = ur_sqe(l);
        if (!sqe)
            goto fail;
        size_t room = c->rbuf.cap - c->rbuf.len;
        io_uring_prep_recv(sqe, c->fd, c->rbuf.data + c->rbuf.len,
                           room < UR_MAX_IO ? room : UR_MAX_IO, 0);
        c->be_flags |= CF_RECV;
    }
    poll_first(l, sqe, pollfirst);
    io_uring_sqe_set_data64(sqe, ud_of(c, T_RECV));
    return;
fail:
    ur_conn_close(&l->base, c);
}

static void buf_recycle(ur_loop *l, unsigned bid)
{
    io_uring_buf_ring_add(l->br, l->bufs + (size_t)bid * UR_BUF_SIZE,
                          UR_BUF_SIZE, (unsigned short)bid,
                          io_uring_buf_ring_mask(UR_NBUFS), 0);
    io_uring_buf_ring_advance(l->br, 1);
}

/* n > 0 bytes arrived: into rbuf, the buffer back to the ring, then up. */
static void recv_data(ur_loop *l, ev_conn *c, size_t n, bool ms, uint32_t flags)
{
    unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
    if (ms && (!(flags & IORING_CQE_F_BUFFER) || bid >= UR_NBUFS)) {
        ur_conn_close(&l->base, c); /* kernel broke its promise: give up */
        return;
    }
    /* Paused connections still get this (the contract allows a read that
     * was in flight); closing ones and close_after_write read nothing. */
    bool deliver = !c->closing && !c->close_after_write;
    if (deliver && ms) {
        size_t want = read_want(c);
        deliver = fc_buf_reserve(&c->rbuf, want > n ? want : n);
        if (deliver)
            memcpy(c->rbuf.data + c->rbuf.len,
                   l->bufs + (size_t)bid * UR_BUF_SIZE, n);
        else
            ur_conn_close(&l->base, c); /* out of memory */
    }
    if (ms)
        buf_recycle(l, bid);
    if (!deliver)
        return;
    c->rbuf.len += n; /* a single-shot recv wrote there itself */
    l->in_read = c;
    conn_on_read(c, n);
    l->in_read = NULL;
}

static void on_recv(ur_loop *l, ev_conn *c, int res, uint32_t flags)
{
    bool ms = c->be_flags & CF_RECV_MS;
    bool pollfirst = false;
    if (!(flags & IORING_CQE_F_MORE))
        c->be_flags &= ~(CF_RECV | CF_RECV_MS | CF_RECV_CANCEL);
    if (res > 0) {
        recv_data(l, c, (size_t)res, ms, flags);
        pollfirst = !ms && !(flags & IORING_CQE_F_SOCK_NONEMPTY);
    } else {
        unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
        if ((flags & IORING_CQE_F_BUFFER) && bid < UR_NBUFS)
            buf_recycle(l, bid); /* not expected, but not lost either */
        if (res == -EINVAL && ms) {
            l->feat &= ~UF_MS_RECV; /* kernel without multishot recv */
        } else if (res == -EAGAIN || res == -EINTR) {
            pollfirst = true;
        } else if (res != -ENOBUFS && res != -ECANCELED) {
            ur_conn_close(&l->base, c); /* EOF (0) or a socket error */
        }
    }
    if (!(c->be_flags & CF_RECV)) {
        recv_arm(l, c, pollfirst); /* no-op when closing or paused */
        maybe_final(l, c);
    }
}

/* --- writing -------------------------------------------------------------- */

/* Sends what of wbusy the kernel has not taken yet. */
static void send_arm(ur_loop *l, ev_conn *c, bool pollfirst)
{
    struct io_uring_sqe *sqe = ur_sqe(l);
    if (!sqe) {
        ur_conn_close(&l->base, c);
        return;
    }
    size_t sent = sent_of(c), left = c->wbusy.len - sent;
    io_uring_prep_send(sqe, c->fd, c->wbusy.data + sent,
                       left < UR_MAX_IO ? left : UR_MAX_IO, MSG_NOSIGNAL);
    poll_first(l, sqe, pollfirst);
    io_uring_sqe_set_data64(sqe, ud_of(c, T_SEND));
    c->be_flags |= CF_SEND;
}

/* ev_flush's part for one connection. */
static void write_start(ur_loop *l, ev_conn *c)
{
    if (c->closing || (c->be_flags & CF_SEND))
        return; /* a send in flight re-queues c when it completes */
    if (c->wbuf.oom) {
        ur_conn_close(&l->base, c); /* replies were dropped: stream broken */
        return;
    }
    if (c->wbuf.len == 0) {
        if (c->close_after_write)
            ur_conn_close(&l->base, c);
        return;
    }
    /* The kernel reads wbusy; the server keeps appending to wbuf. */
    fc_buf spare = c->wbusy;
    spare.len = 0;
    spare.oom = false;
    c->wbusy = c->wbuf;
    c->wbuf = spare;
    set_sent(c, 0);
    send_arm(l, c, false);
}

static void send_done(ur_loop *l, ev_conn *c)
{
    c->wbusy.len = 0;
    set_sent(c, 0);
    if (c->wbusy.cap > UR_WBUSY_KEEP)
        fc_buf_free(&c->wbusy);
    if (c->wbuf.len || c->wbuf.oom)
        ev_want_write(&l->base, c);
    else if (c->close_after_write)
        ur_conn_close(&l->base, c);
    else
        conn_on_drained(c);
}

static void on_send(ur_loop *l, ev_conn *c, int res)
{
    c->be_flags &= ~(CF_SEND | CF_SEND_CANCEL);
    if (c->closing) {
        maybe_final(l, c);
    } else if (res > 0) {
        size_t sent = sent_of(c) + (size_t)res;
        set_sent(c, sent);
        if (sent < c->wbusy.len)
            send_arm(l, c, true); /* short write: the socket is full */
        else
            send_done(l, c);
    } else if (res == -EAGAIN || res == -EINTR) {
        send_arm(l, c, true);
    } else {
        ur_conn_close(&l->base, c); /* peer gone, or 0 bytes taken */
    }
}

/* --- accepting and waking ------------------------------------------------- */

static void accept_arm(ur_loop *l, bool pollfirst)
{
    if (!l->listening || l->accept_armed)
        return;
    struct io_uring_sqe *sqe = ur_sqe(l);
    if (!sqe)
        return; /* retried by the next poll */
    if (pollfirst) {
        io_uring_prep_poll_add(sqe, l->listen_fd, POLLIN);
        io_uring_sqe_set_data64(sqe, ud_of(l, T_LPOLL));
    } else {
        int fl = SOCK_NONBLOCK | SOCK_CLOEXEC;
        if (l->feat & UF_MS_ACCEPT)
            io_uring_prep_multishot_accept(sqe, l->listen_fd, NULL, NULL, fl);
        else
            io_uring_prep_accept(sqe, l->listen_fd, NULL, NULL, fl);
        io_uring_sqe_set_data64(sqe, ud_of(l, T_ACCEPT));
    }
    l->accept_armed = true;
}

static void new_conn(ur_loop *l, int fd)
{
    if (!l->listening) {
        close(fd); /* accepted while the cancel was on its way */
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ev_conn *c = srv_on_accept(l->base.worker, fd);
    if (!c)
        return;
    c->be_flags = 0;
    c->be_priv = NULL;
    recv_arm(l, c, false); /* on failure closes, conn_on_closed follows */
}

static void on_accept(ur_loop *l, int res, uint32_t flags)
{
    bool pollfirst = false;
    if (!(flags & IORING_CQE_F_MORE))
        l->accept_armed = false;
    if (res >= 0)
        new_conn(l, res);
    else if (res == -EINVAL && (l->feat & UF_MS_ACCEPT))
        l->feat &= ~UF_MS_ACCEPT; /* kernel without multishot accept */
    else if (res == -EAGAIN)
        pollfirst = true; /* old kernels on a non-blocking socket */
    /* Other errors (EMFILE, ECONNABORTED...): retried, as epoll does. */
    accept_arm(l, pollfirst);
}

static void wake_arm(ur_loop *l)
{
    struct io_uring_sqe *sqe = ur_sqe(l);
    if (!sqe)
        return; /* retried by the next poll */
    if (l->feat & UF_MS_POLL)
        io_uring_prep_poll_multishot(sqe, l->wake_fd, POLLIN);
    else
        io_uring_prep_poll_add(sqe, l->wake_fd, POLLIN);
    io_uring_sqe_set_data64(sqe, ud_of(l, T_WAKE));
    l->wake_armed = true;
}

static void on_wake(ur_loop *l, int res, uint32_t flags)
{
    if (res == -EINVAL && (l->feat & UF_MS_POLL))
        l->feat &= ~UF_MS_POLL; /* kernel without multishot poll */
    if (!(flags & IORING_CQE_F_MORE)) {
        l->wake_armed = false;
        wake_arm(l);
    }
    uint64_t v;
    ssize_t r = read(l->wake_fd, &v, sizeof(v)); /* resets the counter */
    (void)r; /* EAGAIN: a second CQE for a wakeup already consumed */
    srv_on_wakeup(l->base.worker);
}

/* --- the loop ------------------------------------------------------------- */

/* Another loop's eventfd (immutable after creation, so any thread may
 * write it): what srv_worker_wake does. */
static void wake_by_eventfd(const ur_loop *to)
{
    uint64_t one = 1;
    ssize_t r = write(to->wake_fd, &one, sizeof(one));
    (void)r; /* EAGAIN: the counter is already non-zero, it will wake */
}

static void dispatch(ur_loop *l, const ur_cqe *e)
{
    if (e->ud == LIBURING_UDATA_TIMEOUT)
        return; /* liburing's own timeout on kernels without EXT_ARG */
    void *p = (void *)(uintptr_t)(e->ud & ~(uint64_t)UR_TAG_MASK);
    switch ((enum ur_tag)(e->ud & UR_TAG_MASK)) {
    case T_RECV:
        on_recv(l, p, e->res, e->flags);
        break;
    case T_SEND:
        on_send(l, p, e->res);
        break;
    case T_CANCEL:
        on_cancel(l, p, e->res);
        break;
    case T_ACCEPT:
        on_accept(l, e->res, e->flags);
        break;
    case T_LPOLL:
        l->accept_armed = false;
        accept_arm(l, false);
        break;
    case T_WAKE:
        on_wake(l, e->res, e->flags);
        break;
    case T_MSG: /* the wakeup did not go through: use the eventfd */
        wake_by_eventfd(p);
        break;
    default:
        break; /* T_NONE: loop-level cancels */
    }
}

/* Submits what the iteration prepared and waits for a completion. With
 * DEFER_TASKRUN, completions are only posted while we are in the kernel
 * asking for events: even a poll that must not wait asks. */
static int submit_wait(ur_loop *l, int timeout_ms)
{
    if (timeout_ms == 0 || io_uring_cq_ready(&l->ring))
        return io_uring_submit_and_get_events(&l->ring);
    if (timeout_ms < 0)
        return io_uring_submit_and_wait(&l->ring, 1);
    struct __kernel_timespec ts = {
        .tv_sec = timeout_ms / 1000,
        .tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
    };
    struct io_uring_cqe *cqe;
    return io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, &ts, NULL);
}

/* Copies a batch of CQEs out and frees their slots before dispatching, so
 * callbacks run with the CQ free to take more. Only what the CQ already
 * holds: completions still pending in the kernel (deferred task work, an
 * overflow list) come with the next poll's io_uring_enter rather than an
 * extra one here (which io_uring_peek_batch_cqe would make). */
static void reap(ur_loop *l)
{
    for (int round = 0; round < UR_CQE_ROUNDS; round++) {
        struct io_uring_cqe *cqe;
        unsigned head, n = 0;
        io_uring_for_each_cqe(&l->ring, head, cqe)
        {
            l->cqes[n].ud = cqe->user_data;
            l->cqes[n].res = cqe->res;
            l->cqes[n].flags = cqe->flags;
            if (++n == UR_CQE_BATCH)
                break;
        }
        if (!n)
            break;
        io_uring_cq_advance(&l->ring, n);
        for (unsigned i = 0; i < n; i++)
            dispatch(l, &l->cqes[i]);
    }
}

static int ur_poll(ev_loop *base, int timeout_ms)
{
    ur_loop *l = (ur_loop *)base;
    if (l->disabled) {
        /* First poll, on the worker's thread: it becomes the issuer. */
        int e = ur_ring_enable(l);
        if (e < 0) {
            errno = -e;
            return -1;
        }
    }
    accept_arm(l, false); /* no-ops unless an earlier arm found no SQE */
    if (!l->wake_armed)
        wake_arm(l);
    int r = submit_wait(l, timeout_ms);
    srv_on_awake(l->base.worker);
    if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
        errno = -r;
        return -1;
    }
    reap(l);
    return 0;
}

static bool ur_wake(ev_loop *base, ev_loop *to_base)
{
    ur_loop *l = (ur_loop *)base, *to = (ur_loop *)to_base;
    /* Only immutable fields of the other loop are read here: a ring not
     * enabled yet refuses the message, and the T_MSG CQE falls back. */
    if (!(l->feat & UF_MSG_RING) || to_base->be != base->be)
        return false;
    struct io_uring_sqe *sqe = ur_sqe(l);
    if (!sqe)
        return false;
    io_uring_prep_msg_ring(sqe, to->ring.ring_fd, 0, ud_of(NULL, T_NONE), 0);
    io_uring_sqe_set_data64(sqe, ud_of(to, T_MSG));
    sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
    return true;
}

static void ur_flush(ev_loop *base)
{
    ur_loop *l = (ur_loop *)base;
    ev_conn *c = l->base.write_list;
    l->base.write_list = NULL;
    while (c) {
        ev_conn *next = c->write_next;
        c->in_write_list = false;
        c->write_next = NULL;
        write_start(l, c);
        c = next;
    }
    /* conn_on_closed may close others; they join the queue. */
    while ((c = l->closed)) {
        l->closed = c->be_priv;
        c->be_priv = NULL;
        conn_on_closed(c);
    }
}

static void ur_read_pause(ev_loop *base, ev_conn *c, bool pause)
{
    ur_loop *l = (ur_loop *)base;
    c->read_paused = pause;
    if (c->closing)
        return;
    if (!pause)
        recv_arm(l, c, false); /* no-op while one is still in flight */
    else if ((c->be_flags & (CF_RECV | CF_RECV_MS)) == (CF_RECV | CF_RECV_MS))
        cancel_op(l, c, T_RECV); /* a single-shot one just is not re-armed */
}

static void ur_listen_stop(ev_loop *base)
{
    ur_loop *l = (ur_loop *)base;
    if (!l->listening)
        return;
    l->listening = false;
    if (!l->accept_armed)
        return;
    static const enum ur_tag tags[] = {T_ACCEPT, T_LPOLL};
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
        struct io_uring_sqe *sqe = ur_sqe(l);
        if (!sqe)
            return; /* late accepts are closed by new_conn */
        io_uring_prep_cancel64(sqe, ud_of(l, tags[i]), 0);
        io_uring_sqe_set_data64(sqe, ud_of(NULL, T_NONE));
    }
}

/* --- setup ---------------------------------------------------------------- */

static ev_loop *ur_create(struct srv_worker *w, int listen_fd, int wake_fd,
                          char *err, size_t errlen)
{
    ur_loop *l = calloc(1, sizeof(*l));
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int r = ur_ring_init(l);
    if (r < 0) {
        snprintf(err, errlen, "io_uring_queue_init: %s", strerror(-r));
        free(l);
        return NULL;
    }
    l->base.be = &ev_uring_backend;
    l->base.worker = w;
    l->listen_fd = listen_fd;
    l->wake_fd = wake_fd;
    l->feat = ur_detect_features(&l->ring);
    if ((l->feat & UF_MS_RECV) && !ur_bufring_init(l))
        l->feat &= ~UF_MS_RECV;
    l->listening = true;
    accept_arm(l, false);
    wake_arm(l);
    return &l->base;
}

static void ur_destroy(ev_loop *base)
{
    ur_loop *l = (ur_loop *)base;
    /* No connection is left, so no recv holds a provided buffer; exiting
     * the ring cancels the accept and the wake poll. Unregistering is
     * refused (-EEXIST) when the ring's issuer is the worker thread rather
     * than us; exiting the ring releases the buffers then. */
    if (l->br)
        io_uring_unregister_buf_ring(&l->ring, UR_BGID);
    io_uring_queue_exit(&l->ring);
    free(l->br);
    free(l->bufs);
    free(l);
}

const ev_backend ev_uring_backend = {
    .name = "uring",
    .probe = ur_probe,
    .create = ur_create,
    .destroy = ur_destroy,
    .poll = ur_poll,
    .flush = ur_flush,
    .conn_close = ur_conn_close,
    .conn_read_pause = ur_read_pause,
    .listen_stop = ur_listen_stop,
    .wake = ur_wake,
};
