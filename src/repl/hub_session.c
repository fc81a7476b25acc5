/*
 * hub_session.c — one replica or subscriber connection of the hub:
 * the handshake (Hello checks, our Hello, the catch-up decision), Ack
 * frames, and non-blocking output. Runs on the hub thread only.
 */
#define _GNU_SOURCE
#include "repl/hub_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "repl/sock.h"

#define SESS_IN_MAX ((size_t)1 << 20) /* a peer only sends Hello and Acks */

session *sess_new(repl_hub *h, int fd, int64_t now)
{
    session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->since = calloc(h->cfg.nshards, sizeof *s->since);
    s->ack = calloc(h->cfg.nshards, sizeof *s->ack);
    if (!s->since || !s->ack) {
        free(s->since);
        free(s->ack);
        free(s);
        return NULL;
    }
    s->fd = fd;
    repl_peer_name(fd, s->addr, sizeof s->addr);
    fcrp_rx_default(&s->rx);
    s->rx.lim = h->cfg.lim;
    s->hello_deadline = now + h->cfg.connect_timeout_ms;
    return s;
}

void sess_free(session *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    fc_buf_free(&s->in);
    fc_buf_free(&s->scratch);
    fc_buf_free(&s->out);
    free(s->since);
    free(s->ack);
    free(s);
}

bool sess_put_payload(session *s, uint8_t kind, const void *p, size_t len,
                      bool plain)
{
    fcrp_tx none = {0};
    fcrp_tx tx = s->tx;
    if (plain) /* Hello and handshake errors: before anything is agreed */
        tx = none;
    size_t before = s->out.len;
    if (fcrp_frame_encode(&s->out, kind, &tx, p, len) != FCRP_OK ||
        s->out.oom) {
        s->out.len = before;
        s->out.oom = false;
        return false;
    }
    atomic_fetch_add_explicit(&s->frames_sent, 1, memory_order_relaxed);
    return true;
}

void sess_put_frame(session *s, const repl_frame *f)
{
    bool has_check = f->data[6] & FCRP_F_CHECK;
    if (has_check && !(s->agreed & FCRP_F_CAP_CHECK)) {
        uint8_t hdr[FCRP_HEADER_LEN];
        if (fcrp_header_strip_check(f->data, f->len, hdr) != FCRP_OK)
            return;
        fc_buf_append(&s->out, hdr, sizeof hdr);
        fc_buf_append(&s->out, f->data + FCRP_HEADER_LEN,
                      f->len - FCRP_HEADER_LEN - FCRP_CHECK_LEN);
    } else {
        fc_buf_append(&s->out, f->data, f->len);
    }
    atomic_fetch_add_explicit(&s->frames_sent, 1, memory_order_relaxed);
}

void sess_fail(repl_hub *h, session *s, uint8_t code, const char *detail)
{
    if (s->state >= SS_CLOSING)
        return;
    hub_log(h, 3, "replication: peer %s: %s%s%s", s->addr,
            fcrp_errcode_text(code), detail && *detail ? ": " : "",
            detail ? detail : "");
    fc_buf e = {0};
    fcrp_error_put(&e, code, detail, detail ? strlen(detail) : 0);
    /* Handshake errors go plain: the peer has not agreed on anything. */
    bool plain = s->state == SS_HELLO;
    if (!e.oom)
        sess_put_payload(s, FCRP_ERROR, e.data, e.len, plain);
    fc_buf_free(&e);
    pthread_mutex_lock(&h->mu);
    s->state = SS_CLOSING;
    pthread_mutex_unlock(&h->mu);
    s->close_deadline = hub_now_ms() + h->cfg.write_timeout_ms;
    shutdown(s->fd, SHUT_RD);
}

static void sess_dead(repl_hub *h, session *s)
{
    pthread_mutex_lock(&h->mu);
    s->state = SS_DEAD;
    pthread_mutex_unlock(&h->mu);
}

/* Frame flag bits that correspond to agreed capabilities. */
static uint8_t accept_of(uint8_t agreed)
{
    uint8_t a = 0;
    if (agreed & FCRP_F_CAP_CHECK)
        a |= FCRP_F_CHECK;
    if (agreed & FCRP_F_CAP_LZ4)
        a |= FCRP_F_LZ4;
    return a;
}

static void on_hello(repl_hub *h, session *s, const fcrp_frame *f,
                     const uint8_t *p, size_t len)
{
    fcrp_hello hello;
    int rc = fcrp_hello_decode(p, len, &hello);
    if (rc == FCRP_OK && hello.version != FCRP_VERSION) {
        atomic_fetch_add(&h->st_rej_version, 1);
        char d[48];
        snprintf(d, sizeof d, "peer speaks %u, we speak %u",
                 (unsigned)hello.version, (unsigned)FCRP_VERSION);
        sess_fail(h, s, FCRP_ERR_VERSION, d);
        return;
    }
    if (rc != FCRP_OK) {
        atomic_fetch_add(&h->st_rej_proto, 1);
        sess_fail(h, s, FCRP_ERR_PROTOCOL, fcrp_strerror(rc));
        return;
    }
    if (h->cfg.token &&
        (!hello.token_len ||
         !fcrp_token_equal(h->cfg.token, strlen(h->cfg.token), hello.token,
                           hello.token_len))) {
        atomic_fetch_add(&h->st_rej_auth, 1);
        sess_fail(h, s, FCRP_ERR_AUTH, NULL);
        return;
    }
    uint8_t ours = FCRP_F_CAP_CHECK | FCRP_F_CAP_LZ4 | FCRP_F_CAP_FC;
    s->agreed = fcrp_caps_agreed(ours, f->h.flags);
    if (h->cfg.tx.comp == FCRP_COMP_LZ4 && !(s->agreed & FCRP_F_CAP_LZ4)) {
        atomic_fetch_add(&h->st_rej_proto, 1);
        sess_fail(h, s, FCRP_ERR_OTHER,
                  "this primary compresses with lz4, which the peer did not "
                  "offer to decode");
        return;
    }
    s->role = hello.role;
    /* From now on producers batch (lazy start: hub.h). */
    atomic_store_explicit(&h->head.active, 1, memory_order_release);
    uint32_t n = h->cfg.nshards;
    uint64_t *wm = calloc((size_t)n + 1, sizeof *wm);
    uint64_t *want = calloc(hello.has_since && hello.since.n > n
                                ? hello.since.n
                                : n,
                            sizeof *want);
    if (!wm || !want) {
        free(wm);
        free(want);
        sess_fail(h, s, FCRP_ERR_OTHER, "out of memory");
        return;
    }
    uint32_t nwant = hello.has_since && hello.since.n > n ? hello.since.n : n;
    for (uint32_t i = 0; hello.has_since && i < nwant; i++)
        want[i] = fcrp_wm_get(&hello.since, i);

    pthread_mutex_lock(&h->mu);
    memcpy(wm, h->bl.hi, n * sizeof *wm);
    bool covered = repl_backlog_check(&h->bl, want, nwant) == REPL_CATCHUP_OK;
    if (covered) {
        memcpy(s->since, want, n * sizeof *want);
        s->cursor = repl_backlog_first_id(&h->bl);
        s->state = SS_LIVE;
    } else {
        s->state = SS_WAIT_SNAP;
    }
    pthread_mutex_unlock(&h->mu);

    bool fc = s->agreed & FCRP_F_CAP_FC;
    wm[n] = h->cfg.seq_base;
    fc_buf b = {0};
    fcrp_hello ans = {
        .version = FCRP_VERSION, .role = FCRP_ROLE_REPLICA, .has_since = true};
    fcrp_hello_put(&b, &ans, wm, fc ? n + 1 : n);
    /* Our Hello: plain, with the agreed capabilities in its flags. */
    size_t before = s->out.len;
    fcrp_tx htx = {.caps = s->agreed};
    if (b.oom || fcrp_frame_encode(&s->out, FCRP_HELLO, &htx, b.data, b.len))
        s->out.len = before;
    fc_buf_free(&b);
    free(wm);
    free(want);

    s->rx.accept = accept_of(s->agreed);
    s->rx.require_check = s->agreed & FCRP_F_CAP_CHECK;
    s->tx = h->cfg.tx;
    s->tx.check = s->agreed & FCRP_F_CAP_CHECK;
    s->tx.caps = 0;
    if (covered && hello.has_since)
        atomic_fetch_add(&h->st_catchups, 1);
    hub_log(h, 2, "replication: %s %s connected (%s)", 
            s->role == FCRP_ROLE_SUBSCRIBER ? "subscriber" : "replica",
            s->addr,
            covered ? "resuming from the backlog" : "full sync");
}

static void on_ack(repl_hub *h, session *s, const uint8_t *p, size_t len,
                   int64_t now)
{
    fcrp_wm w;
    if (fcrp_wm_decode(p, len, &w) != FCRP_OK) {
        atomic_fetch_add(&h->st_rej_proto, 1);
        sess_fail(h, s, FCRP_ERR_PROTOCOL, "bad Ack payload");
        return;
    }
    bool raised = false;
    pthread_mutex_lock(&h->mu);
    for (uint32_t i = 0; i < h->cfg.nshards && i < w.n; i++) {
        uint64_t v = fcrp_wm_get(&w, i);
        if (v > s->ack[i]) {
            s->ack[i] = v;
            raised = true;
        }
    }
    s->has_ack = true;
    s->last_ack_ms = now;
    pthread_mutex_unlock(&h->mu);
    if (raised && h->cfg.acked)
        h->cfg.acked(h->cfg.ctx);
}

static void on_frame(repl_hub *h, session *s, const fcrp_frame *f,
                     int64_t now)
{
    if (s->state == SS_HELLO && f->h.kind != FCRP_HELLO) {
        atomic_fetch_add(&h->st_rej_proto, 1);
        sess_fail(h, s, FCRP_ERR_EXPECTED_HELLO, NULL);
        return;
    }
    const uint8_t *p;
    size_t len;
    int rc = fcrp_frame_payload(f, &s->scratch, &p, &len);
    if (rc != FCRP_OK) {
        atomic_fetch_add(&h->st_rej_proto, 1);
        sess_fail(h, s, FCRP_ERR_PROTOCOL, fcrp_strerror(rc));
        return;
    }
    switch (f->h.kind) {
    case FCRP_HELLO:
        if (s->state == SS_HELLO)
            on_hello(h, s, f, p, len);
        break; /* a later Hello is ignored, as the seed does */
    case FCRP_ACK:
        on_ack(h, s, p, len, now);
        break;
    case FCRP_ERROR: {
        fcrp_error e;
        if (fcrp_error_decode(p, len, &e) == FCRP_OK)
            hub_log(h, 3, "replication: peer %s says: %.*s", s->addr,
                    (int)e.msg_len, e.msg);
        sess_dead(h, s);
        break;
    }
    default:
        atomic_fetch_add(&h->st_rej_proto, 1);
        sess_fail(h, s, FCRP_ERR_PROTOCOL,
                  "a replica sends only Hello, Ack and Error frames");
    }
}

static uint8_t code_of(int rc)
{
    return rc == FCRP_EVERSION  ? FCRP_ERR_VERSION
           : rc == FCRP_ETOOBIG ? FCRP_ERR_TOO_BIG
                                : FCRP_ERR_PROTOCOL;
}

void sess_on_readable(repl_hub *h, session *s, int64_t now)
{
    for (;;) {
        if (s->state >= SS_CLOSING)
            return;
        if (!fc_buf_reserve(&s->in, 64 * 1024)) {
            sess_fail(h, s, FCRP_ERR_OTHER, "out of memory");
            return;
        }
        ssize_t n = recv(s->fd, s->in.data + s->in.len, s->in.cap - s->in.len,
                         MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            if (s->state == SS_HELLO)
                atomic_fetch_add(&h->st_rej_proto, 1);
            sess_dead(h, s);
            return;
        }
        if (n < 0)
            break;
        s->in.len += (size_t)n;
        size_t off = 0;
        while (s->state < SS_CLOSING) {
            fcrp_frame f;
            size_t used, need;
            int rc = fcrp_frame_decode((uint8_t *)s->in.data + off,
                                       s->in.len - off, &s->rx, &f, &used,
                                       &need);
            if (rc == FCRP_MORE) {
                if (need > SESS_IN_MAX) {
                    atomic_fetch_add(&h->st_rej_proto, 1);
                    sess_fail(h, s, FCRP_ERR_TOO_BIG, NULL);
                }
                break;
            }
            if (rc != FCRP_OK) {
                if (rc == FCRP_EVERSION)
                    atomic_fetch_add(&h->st_rej_version, 1);
                else
                    atomic_fetch_add(&h->st_rej_proto, 1);
                sess_fail(h, s, code_of(rc), fcrp_strerror(rc));
                break;
            }
            on_frame(h, s, &f, now);
            off += used;
        }
        fc_buf_consume(&s->in, off);
    }
}

bool sess_flush(repl_hub *h, session *s, int64_t now)
{
    while (sess_pending(s)) {
        ssize_t n = send(s->fd, s->out.data + s->out_off, sess_pending(s),
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                if (!s->stall_since)
                    s->stall_since = now;
                return true;
            }
            return false;
        }
        s->out_off += (size_t)n;
        s->stall_since = 0;
        atomic_fetch_add_explicit(&s->bytes_sent, (uint64_t)n,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&h->st_bytes_sent, (uint64_t)n,
                                  memory_order_relaxed);
    }
    s->out.len = s->out_off = 0;
    s->stall_since = 0;
    if (s->out.cap > ((size_t)8 << 20)) { /* after a snapshot burst */
        fc_buf_free(&s->out);
    }
    return true;
}
