/*
 * link_conn.c — the replica link's socket side: connect, the two frames it
 * writes (Hello, Ack), reads into the reassembly buffer, and the reconnect
 * backoff. Every wait is one poll() on the socket and the stop pipe, so a
 * stop is seen at once whatever the link is waiting for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "repl/link_int.h"
#include "repl/sock.h"

bool link_stopping(repl_link *l)
{
    struct pollfd p = {.fd = l->stop_rd, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

int link_connect(repl_link *l)
{
    char err[160];
    int fd =
        repl_connect(l->cfg.host, l->cfg.port, (int)l->cfg.connect_timeout_ms,
                     l->stop_rd, err, sizeof err);
    if (fd < 0) {
        if (link_stopping(l))
            return LINK_IO_STOP;
        link_fail(l, "%s", err);
        return LINK_IO_FAIL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        link_fail(l, "fcntl: %s", strerror(errno));
        close(fd);
        return LINK_IO_FAIL;
    }
    l->fd = fd;
    return 0;
}

void link_disconnect(repl_link *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    l->in.len = l->in_off = 0;
    l->out.len = 0;
    /* A large snapshot frame's buffers are not kept for the next session. */
    if (l->in.cap > LINK_BUF_KEEP)
        fc_buf_free(&l->in);
    if (l->scratch.cap > LINK_BUF_KEEP)
        fc_buf_free(&l->scratch);
    fc_buf_free(&l->out);
}

/* Waits for `events` on the socket or the stop pipe: 1 ready, or
 * LINK_IO_TIMEOUT / LINK_IO_STOP / LINK_IO_FAIL. */
static int wait_fd(repl_link *l, short events, int timeout_ms)
{
    struct pollfd p[2] = {{.fd = l->fd, .events = events},
                          {.fd = l->stop_rd, .events = POLLIN}};
    for (;;) {
        int n = poll(p, 2, timeout_ms);
        if (n < 0 && errno == EINTR)
            continue; /* a signal: the remaining time is not worth tracking */
        if (n < 0) {
            link_fail(l, "poll: %s", strerror(errno));
            return LINK_IO_FAIL;
        }
        if (p[1].revents)
            return LINK_IO_STOP;
        return n == 0 ? LINK_IO_TIMEOUT : 1;
    }
}

int link_send(repl_link *l)
{
    if (l->out.oom) {
        l->out.len = 0;
        l->out.oom = false;
        link_fail(l, "out of memory encoding a frame");
        return LINK_IO_FAIL;
    }
    int64_t deadline = link_mono_ms() + l->cfg.write_timeout_ms;
    size_t off = 0;
    while (off < l->out.len) {
        ssize_t w =
            send(l->fd, l->out.data + off, l->out.len - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            link_fail(l, "write to primary: %s", strerror(errno));
            return LINK_IO_FAIL;
        }
        int64_t left = deadline - link_mono_ms();
        int r = left > 0 ? wait_fd(l, POLLOUT, (int)left) : LINK_IO_TIMEOUT;
        if (r == LINK_IO_TIMEOUT) {
            link_fail(l, "write to primary timed out after %u ms",
                      l->cfg.write_timeout_ms);
            return LINK_IO_FAIL;
        }
        if (r < 0)
            return r;
    }
    l->out.len = 0;
    return 0;
}

ssize_t link_read(repl_link *l, size_t need, int timeout_ms)
{
    int r = wait_fd(l, POLLIN, timeout_ms);
    if (r < 0)
        return r;
    size_t have = l->in.len - l->in_off;
    size_t want = need > have ? need - have : 0;
    if (want < LINK_READ_MIN)
        want = LINK_READ_MIN;
    if (!fc_buf_reserve(&l->in, want)) {
        link_fail(l, "out of memory for a %zu-byte frame", need);
        return LINK_IO_FAIL;
    }
    for (;;) {
        ssize_t n =
            recv(l->fd, l->in.data + l->in.len, l->in.cap - l->in.len, 0);
        if (n > 0) {
            l->in.len += (size_t)n;
            l->st.bytes_in += (uint64_t)n;
            l->st.last_io_unix_ms = link_unix_ms();
            return n;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0; /* spurious wake-up: the caller polls again */
        if (n == 0)
            link_fail(l, "primary closed the connection");
        else
            link_fail(l, "read from primary: %s", strerror(errno));
        return LINK_IO_FAIL;
    }
}

int link_send_hello(repl_link *l)
{
    const char *tok = l->cfg.token;
    fcrp_hello h = {.version = FCRP_VERSION,
                    .role = l->cfg.role,
                    .token = tok,
                    .token_len = tok ? (uint32_t)strlen(tok) : 0,
                    .has_since = l->have_wm};
    /* The Hello goes plain; it only advertises what we can do. */
    fcrp_tx tx = {.caps = FCRP_F_CAP_CHECK | FCRP_F_CAP_LZ4 | FCRP_F_CAP_FC};
    size_t mark;
    l->out.len = 0;
    int rc = fcrp_frame_begin(&l->out, &mark);
    if (rc == FCRP_OK)
        rc = fcrp_hello_put(&l->out, &h, l->wm, l->have_wm ? l->n : 0);
    if (rc == FCRP_OK)
        rc = fcrp_frame_finish(&l->out, mark, FCRP_HELLO, &tx);
    if (rc == FCRP_EINVAL) { /* checked at start; kept for safety */
        l->out.len = 0;
        link_fail(l, "the token is not valid UTF-8");
        return LINK_IO_FAIL;
    }
    if (rc != FCRP_OK)
        l->out.oom = true;
    l->sent_since = l->have_wm;
    return link_send(l);
}

int link_send_ack(repl_link *l)
{
    size_t mark;
    l->out.len = 0;
    if (fcrp_frame_begin(&l->out, &mark) != FCRP_OK ||
        fcrp_wm_put(&l->out, l->wm, l->n) != FCRP_OK ||
        fcrp_frame_finish(&l->out, mark, FCRP_ACK, &l->tx) != FCRP_OK)
        l->out.oom = true;
    int rc = link_send(l);
    if (rc == 0) {
        l->st.acks_sent++;
        l->ack_due = l->ack_asked = false;
        l->last_ack_mono = link_mono_ms();
    }
    return rc;
}

/* xorshift64*: jitter needs no quality, only that replicas differ. */
static uint64_t link_rand(repl_link *l)
{
    uint64_t x = l->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    l->rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* The delay is the current base minus up to a quarter of it: never above
 * the cap, and since the base doubles, each delay is at least the one
 * before (3/4 of 2b > b), so "grows, capped" holds for the jittered values
 * too. */
uint32_t link_backoff_next(repl_link *l)
{
    uint32_t cur = l->backoff_cur;
    uint32_t d = cur - (uint32_t)(link_rand(l) % (cur / 4 + 1));
    uint64_t next = (uint64_t)cur * 2;
    l->backoff_cur =
        next > l->cfg.backoff_max_ms ? l->cfg.backoff_max_ms : (uint32_t)next;
    return d ? d : 1;
}

void link_backoff_reset(repl_link *l)
{
    l->backoff_cur = l->cfg.backoff_ms;
}

bool link_sleep(repl_link *l, uint32_t ms)
{
    int64_t deadline = link_mono_ms() + ms;
    for (;;) {
        int64_t left = deadline - link_mono_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = l->stop_rd, .events = POLLIN};
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return true;
        if (n < 0 && errno != EINTR)
            return link_stopping(l);
    }
}
