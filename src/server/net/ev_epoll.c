/*
 * ev_epoll.c — the readiness backend: level-triggered epoll, one read per
 * readable event (into at least EV_READ_CHUNK bytes of room, or the whole
 * big bulk the server says it waits for), writes gathered per iteration in
 * ev_flush and only then EPOLLOUT for what the socket did not take.
 *
 * Closed connections are freed (conn_on_closed) at the end of ev_flush,
 * after the write list has been walked, so no list ever holds a freed
 * connection. The bytes of wbuf already sent are kept as an offset (in
 * be_priv) instead of being consumed at once, so a large reply sent in many
 * partial writes is not moved after every one of them; but once they are
 * at least half of wbuf they are dropped (one memmove of the smaller
 * rest), so a pipeline whose output never fully drains keeps wbuf at
 * about twice its unsent bytes instead of growing it with everything ever
 * sent. Amortised, each byte moves at most once.
 *
 * Reads reserve room for what the server says it waits for (read_hint)
 * only up to twice what rbuf already holds: a length header alone (an
 * announced 500 MB bulk) never makes us allocate memory the client has not
 * filled yet, and a real big bulk still grows rbuf geometrically.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/net/ev.h"

#define EP_MAX_EVENTS 256
#define EP_ACCEPT_BATCH 64
#define EP_OUT 1u /* EPOLLOUT registered: the socket was full */

typedef struct ep_loop {
    ev_loop base;
    int epfd;
    int listen_fd;
    int wake_fd;
    bool listening;
    char listen_tag, wake_tag; /* addresses used as epoll tags */
    ev_conn **closed;          /* closed, waiting for conn_on_closed */
    size_t nclosed, closed_cap;
    struct epoll_event evs[EP_MAX_EVENTS];
} ep_loop;

static size_t sent_of(const ev_conn *c)
{
    return (size_t)(uintptr_t)c->be_priv;
}

static void set_sent(ev_conn *c, size_t n)
{
    c->be_priv = (void *)(uintptr_t)n;
}

static bool ep_probe(char *why, size_t whylen)
{
    return true;
}

static int ep_ctl(ep_loop *l, int op, int fd, uint32_t events, void *tag)
{
    struct epoll_event ev = {.events = events, .data.ptr = tag};
    return epoll_ctl(l->epfd, op, fd, &ev);
}

static ev_loop *ep_create(struct srv_worker *w, int listen_fd, int wake_fd,
                          char *err, size_t errlen)
{
    ep_loop *l = calloc(1, sizeof(*l));
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->base.be = &ev_epoll_backend;
    l->base.worker = w;
    l->listen_fd = listen_fd;
    l->wake_fd = wake_fd;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0 ||
        ep_ctl(l, EPOLL_CTL_ADD, listen_fd, EPOLLIN, &l->listen_tag) ||
        ep_ctl(l, EPOLL_CTL_ADD, wake_fd, EPOLLIN, &l->wake_tag)) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        if (l->epfd >= 0)
            close(l->epfd);
        free(l);
        return NULL;
    }
    l->listening = true;
    return &l->base;
}

static void ep_destroy(ev_loop *base)
{
    ep_loop *l = (ep_loop *)base;
    close(l->epfd);
    free(l->closed);
    free(l);
}

static void ep_conn_close(ev_loop *base, ev_conn *c)
{
    ep_loop *l = (ep_loop *)base;
    if (c->closing)
        return;
    if (l->nclosed == l->closed_cap) {
        size_t cap = l->closed_cap ? l->closed_cap * 2 : 64;
        ev_conn **n = realloc(l->closed, cap * sizeof(*n));
        if (!n)
            return; /* retried by the next close request (kill/EOF) */
        l->closed = n;
        l->closed_cap = cap;
    }
    c->closing = true;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    l->closed[l->nclosed++] = c;
}

static void ep_update(ep_loop *l, ev_conn *c)
{
    uint32_t ev = (c->read_paused ? 0 : EPOLLIN) |
                  ((c->be_flags & EP_OUT) ? EPOLLOUT : 0);
    ep_ctl(l, EPOLL_CTL_MOD, c->fd, ev, c);
}

/* Sends what wbuf holds. true when all of it went out. */
static bool ep_write(ep_loop *l, ev_conn *c)
{
    size_t sent = sent_of(c);
    while (sent < c->wbuf.len) {
        ssize_t n =
            send(c->fd, c->wbuf.data + sent, c->wbuf.len - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        ep_conn_close(&l->base, c);
        return false;
    }
    if (sent == c->wbuf.len) {
        c->wbuf.len = 0;
        set_sent(c, 0);
        if (c->close_after_write)
            ep_conn_close(&l->base, c);
        return true;
    }
    if (sent >= c->wbuf.len - sent) {
        fc_buf_consume(&c->wbuf, sent);
        sent = 0;
    }
    set_sent(c, sent);
    return false;
}

static void ep_read(ep_loop *l, ev_conn *c)
{
    size_t want = ev_read_want(c);
    if (!fc_buf_reserve(&c->rbuf, want)) {
        ep_conn_close(&l->base, c);
        return;
    }
    ssize_t n =
        read(c->fd, c->rbuf.data + c->rbuf.len, c->rbuf.cap - c->rbuf.len);
    if (n > 0) {
        c->rbuf.len += (size_t)n;
        conn_on_read(c, (size_t)n);
    } else if (n == 0 ||
               (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        ep_conn_close(&l->base, c);
    }
}

static void ep_accept(ep_loop *l)
{
    for (int i = 0; i < EP_ACCEPT_BATCH && l->listening; i++) {
        int fd =
            accept4(l->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or EMFILE & co: retried on the next event */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        ev_conn *c = srv_on_accept(l->base.worker, fd);
        if (!c)
            continue;
        if (ep_ctl(l, EPOLL_CTL_ADD, fd, EPOLLIN, c)) {
            c->closing = true; /* never registered: just hand it back */
            close(fd);
            c->fd = -1;
            conn_on_closed(c);
        }
    }
}

static void ep_dispatch(ep_loop *l, struct epoll_event *e)
{
    if (e->data.ptr == &l->listen_tag) {
        ep_accept(l);
        return;
    }
    if (e->data.ptr == &l->wake_tag) {
        uint64_t v;
        ssize_t r = read(l->wake_fd, &v, sizeof(v));
        (void)r;
        srv_on_wakeup(l->base.worker);
        return;
    }
    ev_conn *c = e->data.ptr;
    if (!c->closing && (e->events & EPOLLOUT)) {
        if (ep_write(l, c) && !c->closing) {
            c->be_flags &= ~EP_OUT;
            ep_update(l, c);
            conn_on_drained(c);
        }
    }
    if (!c->closing && !c->read_paused &&
        (e->events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        ep_read(l, c);
}

static int ep_poll(ev_loop *base, int timeout_ms)
{
    ep_loop *l = (ep_loop *)base;
    int n = epoll_wait(l->epfd, l->evs, EP_MAX_EVENTS, timeout_ms);
    srv_on_awake(l->base.worker);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++)
        ep_dispatch(l, &l->evs[i]);
    return 0;
}

static void ep_flush(ev_loop *base)
{
    ep_loop *l = (ep_loop *)base;
    ev_conn *c = l->base.write_list;
    l->base.write_list = NULL;
    while (c) {
        ev_conn *next = c->write_next;
        c->in_write_list = false;
        c->write_next = NULL;
        if (c->closing || (c->be_flags & EP_OUT)) {
            /* closing, or waiting for EPOLLOUT: nothing to do now */
        } else if (ep_write(l, c)) {
            if (!c->closing)
                conn_on_drained(c); /* only queues: see conn.c */
        } else if (!c->closing) {
            c->be_flags |= EP_OUT;
            ep_update(l, c);
        }
        c = next;
    }
    /* conn_on_closed may close others (never itself twice): index loop. */
    for (size_t i = 0; i < l->nclosed; i++)
        conn_on_closed(l->closed[i]);
    l->nclosed = 0;
}

static void ep_read_pause(ev_loop *base, ev_conn *c, bool pause)
{
    c->read_paused = pause;
    if (!c->closing)
        ep_update((ep_loop *)base, c);
}

static void ep_listen_stop(ev_loop *base)
{
    ep_loop *l = (ep_loop *)base;
    if (l->listening) {
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->listen_fd, NULL);
        l->listening = false;
    }
}

const ev_backend ev_epoll_backend = {
    .name = "epoll",
    .probe = ep_probe,
    .create = ep_create,
    .destroy = ep_destroy,
    .poll = ep_poll,
    .flush = ep_flush,
    .conn_close = ep_conn_close,
    .conn_read_pause = ep_read_pause,
    .listen_stop = ep_listen_stop,
};
