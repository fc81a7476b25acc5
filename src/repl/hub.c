/*
 * hub.c — the replication primary (hub.h): producers' side, the snapshot
 * walk, and the hub thread's loop that feeds every session from the
 * backlog. Sessions' handshake and I/O are in hub_session.c.
 */
#define _GNU_SOURCE
#include "repl/hub_internal.h"

#include <errno.h>
#include <fastcache.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "repl/sock.h"

int64_t hub_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hub_log(repl_hub *h, int level, const char *fmt, ...)
{
    if (!h->cfg.log)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    h->cfg.log(level, "%s", msg);
}

static void wake(repl_hub *h)
{
    if (atomic_exchange(&h->sleeping, 0)) {
        uint64_t one = 1;
        ssize_t r = write(h->efd, &one, sizeof one);
        (void)r;
    }
}

/* --- producers ------------------------------------------------------- */

void repl_hub_publish(repl_hub *h, repl_frame *f)
{
    uint32_t records = f->records;
    size_t len = f->len;
    pthread_mutex_lock(&h->mu);
    int rc = repl_backlog_push(&h->bl, f);
    pthread_mutex_unlock(&h->mu);
    if (rc != FC_OK) {
        hub_log(h, 3,
                "replication: a batch of shard %u (seqs %llu..%llu) could "
                "not enter the backlog; replicas behind it will resync",
                f->shard, (unsigned long long)f->min_seq,
                (unsigned long long)f->max_seq);
        repl_frame_free(f);
        atomic_fetch_add(&h->st_frames_dropped, 1);
        return;
    }
    atomic_fetch_add_explicit(&h->st_frames_pub, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->st_records_pub, records,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&h->st_bytes_pub, len, memory_order_relaxed);
    atomic_fetch_add(&h->published, 1);
}

void repl_hub_ask_acks(repl_hub *h)
{
    atomic_store(&h->ack_ask, 1);
    wake(h);
}

void repl_hub_kick(repl_hub *h)
{
    /* Nobody to send to: the frames wait in the backlog, and the thread
     * sleeps on (a peer's handshake looks at the backlog itself). */
    if (atomic_load_explicit(&h->nfed, memory_order_relaxed))
        wake(h);
}

uint64_t repl_hub_walk_gen(const repl_hub *h)
{
    return atomic_load_explicit(&h->walk_gen, memory_order_acquire);
}

bool repl_hub_walk_busy(const repl_hub *h)
{
    return atomic_load_explicit(&h->walk_queued, memory_order_relaxed) >=
           REPL_WALK_QUEUE_MAX;
}

void repl_hub_walk_put(repl_hub *h, uint64_t gen, const void *entries,
                       size_t len, uint32_t count, const uint32_t *done,
                       const uint64_t *cut, uint32_t ndone)
{
    walk_chunk *c = NULL;
    if (count) {
        c = malloc(sizeof *c + len);
        if (!c) {
            /* The walk cannot be complete: end it; sessions resync. */
            pthread_mutex_lock(&h->mu);
            if (atomic_load(&h->walk_gen) == gen)
                h->walk_done = UINT32_MAX;
            pthread_mutex_unlock(&h->mu);
            wake(h);
            return;
        }
        c->next = NULL;
        c->len = len;
        c->count = count;
        memcpy(c->data, entries, len);
    }
    pthread_mutex_lock(&h->mu);
    if (atomic_load(&h->walk_gen) != gen || h->walk_done == UINT32_MAX) {
        pthread_mutex_unlock(&h->mu);
        free(c);
        return;
    }
    if (c) {
        if (h->wq_tail)
            h->wq_tail->next = c;
        else
            h->wq_head = c;
        h->wq_tail = c;
        atomic_fetch_add(&h->walk_queued, len);
    }
    for (uint32_t i = 0; i < ndone; i++) {
        if (done[i] >= h->cfg.nshards)
            continue;
        h->walk_cut[done[i]] = cut[i];
        repl_backlog_advance(&h->bl, done[i], cut[i]);
        h->walk_done++;
    }
    pthread_mutex_unlock(&h->mu);
    atomic_fetch_add(&h->walk_puts, 1);
    wake(h);
}

/* --- queries --------------------------------------------------------- */

uint32_t repl_hub_acked(repl_hub *h, const uint64_t *target, uint32_t n)
{
    uint32_t count = 0;
    pthread_mutex_lock(&h->mu);
    for (session *s = h->sessions; s; s = s->next) {
        if (s->state != SS_LIVE || s->role != FCRP_ROLE_REPLICA ||
            !s->has_ack)
            continue;
        bool ok = true;
        for (uint32_t i = 0; i < n && i < h->cfg.nshards && ok; i++)
            ok = s->ack[i] >= target[i];
        count += ok;
    }
    pthread_mutex_unlock(&h->mu);
    return count;
}

void repl_hub_watermarks(repl_hub *h, uint64_t *out)
{
    pthread_mutex_lock(&h->mu);
    memcpy(out, h->bl.hi, h->cfg.nshards * sizeof *out);
    pthread_mutex_unlock(&h->mu);
}

static uint64_t offset_of(const repl_hub *h, const uint64_t *w)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < h->cfg.nshards; i++)
        if (w[i] > h->cfg.seq_base)
            sum += w[i] - h->cfg.seq_base;
    return sum;
}

static const char *state_name(int st)
{
    switch (st) {
    case SS_HELLO: return "handshake";
    case SS_WAIT_SNAP: return "wait_snapshot";
    case SS_SNAP: return "send_snapshot";
    case SS_LIVE: return "online";
    default: return "closing";
    }
}

void repl_hub_stats_get(repl_hub *h, repl_hub_stats *o)
{
    memset(o, 0, sizeof *o);
    pthread_mutex_lock(&h->mu);
    for (session *s = h->sessions; s; s = s->next)
        o->peers += s->state > SS_HELLO && s->state < SS_CLOSING;
    o->offset = offset_of(h, h->bl.hi);
    o->backlog_bytes = h->bl.bytes;
    o->backlog_frames = h->bl.count;
    o->backlog_evicted = h->bl.evicted;
    pthread_mutex_unlock(&h->mu);
#define LD(x) atomic_load_explicit(&h->x, memory_order_relaxed)
    o->frames_published = LD(st_frames_pub);
    o->records_published = LD(st_records_pub);
    o->bytes_published = LD(st_bytes_pub);
    o->frames_dropped = LD(st_frames_dropped);
    o->bytes_sent = LD(st_bytes_sent);
    o->frames_sent = LD(st_frames_sent);
    o->snapshots_served = LD(st_snapshots);
    o->catchups = LD(st_catchups);
    o->snapshot_bytes_sent = LD(st_snap_bytes);
    o->rejected_auth = LD(st_rej_auth);
    o->rejected_version = LD(st_rej_version);
    o->rejected_proto = LD(st_rej_proto);
    o->rejected_full = LD(st_rej_full);
    o->dropped_slow = LD(st_dropped_slow);
#undef LD
}

uint32_t repl_hub_peers(repl_hub *h, repl_peer_info *out, uint32_t max)
{
    uint32_t n = 0;
    int64_t now = hub_now_ms();
    pthread_mutex_lock(&h->mu);
    for (session *s = h->sessions; s && n < max; s = s->next) {
        if (s->state == SS_HELLO || s->state >= SS_CLOSING)
            continue;
        repl_peer_info *p = &out[n++];
        snprintf(p->addr, sizeof p->addr, "%s", s->addr);
        p->role = s->role;
        p->state = state_name(s->state);
        p->offset = s->has_ack ? offset_of(h, s->ack) : 0;
        p->lag_ms = s->has_ack ? now - s->last_ack_ms : -1;
        p->bytes_sent = atomic_load(&s->bytes_sent);
        p->frames_sent = atomic_load(&s->frames_sent);
    }
    pthread_mutex_unlock(&h->mu);
    return n;
}

uint16_t repl_hub_port(const repl_hub *h)
{
    return h->port;
}

/* --- the hub thread: feeding sessions (under mu) ---------------------- */

static void drop_slow(repl_hub *h, session *s, const char *why)
{
    atomic_fetch_add(&h->st_dropped_slow, 1);
    pthread_mutex_unlock(&h->mu);
    sess_fail(h, s, FCRP_ERR_SLOW, why);
    pthread_mutex_lock(&h->mu);
}

static void fill_live(repl_hub *h, session *s)
{
    if (s->cursor < repl_backlog_first_id(&h->bl)) {
        drop_slow(h, s, "its next batch left the backlog");
        return;
    }
    /* Once it has caught up, a peer that falls further behind than its
     * channel would hold (capacity frames per shard) is too slow; during
     * the first catch-up only the backlog bounds it. */
    uint64_t behind = h->bl.next_id - s->cursor;
    if (s->caught_up &&
        behind > (uint64_t)h->cfg.channel_capacity * h->cfg.nshards) {
        drop_slow(h, s, "more batches queued for it than "
                        "subscriber_channel_capacity per shard");
        return;
    }
    const repl_frame *f;
    while (sess_pending(s) < HUB_LIVE_OUT_MAX &&
           (f = repl_backlog_at(&h->bl, s->cursor))) {
        s->cursor++;
        if (f->max_seq <= s->since[f->shard])
            continue;
        sess_put_frame(s, f);
        atomic_fetch_add_explicit(&h->st_frames_sent, 1,
                                  memory_order_relaxed);
    }
    if (s->cursor == h->bl.next_id)
        s->caught_up = true;
}

static void walk_free_queue(repl_hub *h)
{
    for (walk_chunk *c = h->wq_head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    h->wq_head = h->wq_tail = NULL;
    atomic_store(&h->walk_queued, 0);
}

static void walk_end(repl_hub *h)
{
    atomic_store_explicit(&h->walk_gen, 0, memory_order_release);
    walk_free_queue(h);
    h->walk_done = 0;
}

static bool put_chunk(session *s, uint64_t index, bool last,
                      const uint64_t *wm, uint32_t nwm, const walk_chunk *c)
{
    fc_buf b = {0};
    size_t at;
    fcrp_chunk_put_head(&b, index, last, wm, nwm, &at);
    if (c) {
        fc_buf_append(&b, c->data, c->len);
        if (!b.oom)
            fcrp_put32((uint8_t *)b.data + at, c->count);
    }
    bool ok = !b.oom && sess_put_payload(s, FCRP_SNAPSHOT_CHUNK, b.data,
                                         b.len, false);
    fc_buf_free(&b);
    return ok;
}

static bool put_wm(session *s, uint8_t kind, const uint64_t *wm, uint32_t n)
{
    fc_buf b = {0};
    fcrp_wm_put(&b, wm, n);
    bool ok = !b.oom && sess_put_payload(s, kind, b.data, b.len, false);
    fc_buf_free(&b);
    return ok;
}

/* Starts a walk for the waiting sessions; true when producers must be
 * told (after mu is released). */
static bool walk_start(repl_hub *h)
{
    uint32_t n = h->cfg.nshards;
    h->walk_seq++;
    memcpy(h->walk_wb, h->bl.hi, n * sizeof *h->walk_wb);
    memcpy(h->walk_cut, h->bl.hi, n * sizeof *h->walk_cut);
    h->walk_done = 0;
    atomic_store_explicit(&h->walk_gen, h->walk_seq, memory_order_release);
    hub_log(h, 2, "replication: snapshot walk %llu started",
            (unsigned long long)h->walk_seq);
    return true;
}

static void walk_pump(repl_hub *h)
{
    uint64_t gen = atomic_load(&h->walk_gen);
    uint32_t n = h->cfg.nshards;
    uint32_t nsnap = 0;
    bool room = true;
    for (session *s = h->sessions; s; s = s->next)
        if (s->state == SS_SNAP && s->walk_gen == gen) {
            nsnap++;
            room = room && sess_pending(s) < HUB_SNAP_OUT_MAX;
        }
    if (!nsnap || h->walk_done == UINT32_MAX) {
        if (h->walk_done == UINT32_MAX)
            for (session *s = h->sessions; s; s = s->next)
                if (s->state == SS_SNAP && s->walk_gen == gen) {
                    pthread_mutex_unlock(&h->mu);
                    sess_fail(h, s, FCRP_ERR_RESYNC,
                              "the snapshot ran out of memory");
                    pthread_mutex_lock(&h->mu);
                }
        walk_end(h);
        return;
    }
    while (room && h->wq_head) {
        walk_chunk *c = h->wq_head;
        h->wq_head = c->next;
        if (!h->wq_head)
            h->wq_tail = NULL;
        atomic_fetch_sub(&h->walk_queued, c->len);
        for (session *s = h->sessions; s; s = s->next)
            if (s->state == SS_SNAP && s->walk_gen == gen) {
                size_t before = s->out.len;
                put_chunk(s, s->chunk_index++, false, NULL, 0, c);
                atomic_fetch_add(&h->st_snap_bytes, s->out.len - before);
                room = room && sess_pending(s) < HUB_SNAP_OUT_MAX;
            }
        free(c);
    }
    if (h->walk_done < n || h->wq_head)
        return;
    /* Every shard walked and sent: the last chunk, End, then live. */
    for (session *s = h->sessions; s; s = s->next) {
        if (s->state != SS_SNAP || s->walk_gen != gen)
            continue;
        put_chunk(s, s->chunk_index++, true, h->walk_cut, n, NULL);
        put_wm(s, FCRP_SNAPSHOT_END, h->bl.hi, n);
        if (repl_backlog_check(&h->bl, h->walk_cut, n) != REPL_CATCHUP_OK) {
            drop_slow(h, s, "the backlog no longer holds the writes made "
                            "during its snapshot (raise backlog_bytes)");
            continue;
        }
        memcpy(s->since, h->walk_cut, n * sizeof *s->since);
        s->cursor = repl_backlog_first_id(&h->bl);
        s->state = SS_LIVE;
        atomic_fetch_add(&h->st_snapshots, 1);
        hub_log(h, 2, "replication: snapshot sent to %s", s->addr);
    }
    walk_end(h);
}

/* Feeds every session; returns true when the producers must be told that
 * a walk started. */
static bool pump(repl_hub *h)
{
    bool started = false;
    bool ask = atomic_exchange(&h->ack_ask, 0);
    pthread_mutex_lock(&h->mu);
    uint64_t gen = atomic_load(&h->walk_gen);
    for (session *s = h->sessions; s; s = s->next) {
        if (s->state == SS_WAIT_SNAP && !gen) {
            started = walk_start(h);
            gen = atomic_load(&h->walk_gen);
        }
        if (s->state == SS_WAIT_SNAP && gen) {
            /* Joins only a walk that has not handed anything out yet. */
            if (started) {
                s->state = SS_SNAP;
                s->walk_gen = gen;
                s->chunk_index = 0;
                put_wm(s, FCRP_SNAPSHOT_BEGIN, h->walk_wb, h->cfg.nshards);
            }
        } else if (s->state == SS_LIVE) {
            fill_live(h, s);
            if (ask && (s->agreed & FCRP_F_CAP_FC))
                put_wm(s, FCRP_ACK, h->bl.hi, h->cfg.nshards);
        }
    }
    if (atomic_load(&h->walk_gen))
        walk_pump(h);
    pthread_mutex_unlock(&h->mu);
    return started;
}

/* --- the hub thread: sockets ------------------------------------------ */

/* Interest: input until the session is closing (a shut-down read side
 * would stay readable forever), output while bytes wait. */
static void watch(repl_hub *h, session *s)
{
    uint32_t want = (s->state < SS_CLOSING ? EPOLLIN | EPOLLRDHUP : 0) |
                    (sess_pending(s) ? EPOLLOUT : 0);
    if (want != s->events) {
        struct epoll_event ev = {.events = want, .data.ptr = s};
        epoll_ctl(h->epfd, EPOLL_CTL_MOD, s->fd, &ev);
        s->events = want;
    }
}

static void accept_all(repl_hub *h, int64_t now)
{
    for (;;) {
        int fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        /* Frames go out as soon as they are written: with Nagle a small
         * batch would wait for the replica's delayed TCP ACK (the replica
         * sends few Acks of its own to ride on). */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        uint32_t live = 0;
        pthread_mutex_lock(&h->mu);
        for (session *s = h->sessions; s; s = s->next)
            live += s->state < SS_CLOSING;
        pthread_mutex_unlock(&h->mu);
        session *s = sess_new(h, fd, now);
        if (!s) {
            close(fd);
            continue;
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP,
                                 .data.ptr = s};
        s->events = ev.events;
        epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev);
        pthread_mutex_lock(&h->mu);
        s->next = h->sessions;
        h->sessions = s;
        h->nsessions++;
        pthread_mutex_unlock(&h->mu);
        if (live >= h->cfg.max_replicas) {
            atomic_fetch_add(&h->st_rej_full, 1);
            char d[48];
            snprintf(d, sizeof d, "%u connected", live);
            sess_fail(h, s, FCRP_ERR_MAX_REPLICAS, d);
        }
    }
}

/* Frees dead sessions and enforces deadlines; returns the poll timeout. */
static int reap(repl_hub *h, int64_t now)
{
    int64_t next = -1;
    uint32_t fed = 0;
    pthread_mutex_lock(&h->mu);
    for (session **pp = &h->sessions; *pp;) {
        session *s = *pp;
        fed += s->state >= SS_WAIT_SNAP && s->state <= SS_LIVE;
        bool dead = s->state == SS_DEAD ||
                    (s->state == SS_CLOSING &&
                     (!sess_pending(s) || now >= s->close_deadline)) ||
                    (s->stall_since &&
                     now - s->stall_since >= h->cfg.write_timeout_ms);
        if (!dead && s->state == SS_HELLO && now >= s->hello_deadline) {
            pthread_mutex_unlock(&h->mu);
            atomic_fetch_add(&h->st_rej_proto, 1);
            sess_fail(h, s, FCRP_ERR_EXPECTED_HELLO, "none arrived in time");
            pthread_mutex_lock(&h->mu);
        }
        if (dead) {
            *pp = s->next;
            h->nsessions--;
            epoll_ctl(h->epfd, EPOLL_CTL_DEL, s->fd, NULL);
            sess_free(s);
            continue;
        }
        int64_t d = s->state == SS_HELLO     ? s->hello_deadline
                    : s->state == SS_CLOSING ? s->close_deadline
                    : s->stall_since ? s->stall_since + h->cfg.write_timeout_ms
                                     : -1;
        if (d >= 0 && (next < 0 || d < next))
            next = d;
        pp = &s->next;
    }
    pthread_mutex_unlock(&h->mu);
    atomic_store_explicit(&h->nfed, fed, memory_order_relaxed);
    if (next < 0)
        return -1;
    return next <= now ? 0 : (int)(next - now);
}

static void flush_all(repl_hub *h, int64_t now)
{
    for (session *s = h->sessions; s; s = s->next) {
        if (s->state == SS_DEAD)
            continue;
        if (!sess_flush(h, s, now)) {
            pthread_mutex_lock(&h->mu);
            s->state = SS_DEAD;
            pthread_mutex_unlock(&h->mu);
            continue;
        }
        watch(h, s);
    }
}

/* After a flush: whether a session could take more right now (its socket
 * took everything, and frames or chunks wait), so the loop must turn
 * again at once instead of sleeping until the next publish. */
static bool work_left(repl_hub *h)
{
    bool left = false;
    pthread_mutex_lock(&h->mu);
    uint64_t gen = atomic_load(&h->walk_gen);
    for (session *s = h->sessions; s && !left; s = s->next) {
        if (sess_pending(s))
            continue; /* EPOLLOUT wakes us */
        if (s->state == SS_LIVE)
            left = s->cursor < h->bl.next_id;
        else if (s->state == SS_SNAP && s->walk_gen == gen)
            left = h->wq_head || h->walk_done >= h->cfg.nshards;
    }
    pthread_mutex_unlock(&h->mu);
    return left;
}

static void *hub_main(void *arg)
{
    repl_hub *h = arg;
    struct epoll_event evs[64];
    int timeout = -1;
    while (!atomic_load(&h->stop)) {
        atomic_store(&h->sleeping, 1);
        if (atomic_load(&h->published) != h->seen_published ||
            atomic_load(&h->walk_puts) != h->seen_walk_puts)
            timeout = 0;
        int n = epoll_wait(h->epfd, evs, 64, timeout);
        atomic_store(&h->sleeping, 0);
        int64_t now = hub_now_ms();
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &h->lfd) {
                accept_all(h, now);
            } else if (p == &h->efd) {
                uint64_t v;
                ssize_t r = read(h->efd, &v, sizeof v);
                (void)r;
            } else if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
                                        EPOLLERR)) {
                sess_on_readable(h, p, now);
            }
        }
        h->seen_published = atomic_load(&h->published);
        h->seen_walk_puts = atomic_load(&h->walk_puts);
        if (pump(h) && h->cfg.walk_wanted)
            h->cfg.walk_wanted(h->cfg.ctx);
        flush_all(h, now);
        timeout = reap(h, now);
        if (timeout != 0 && work_left(h))
            timeout = 0;
    }
    /* Tell the peers why the stream ends. */
    int64_t now = hub_now_ms();
    for (session *s = h->sessions; s; s = s->next)
        if (s->state != SS_DEAD) {
            sess_fail(h, s, FCRP_ERR_SHUTDOWN, NULL);
            sess_flush(h, s, now);
        }
    return NULL;
}

/* --- lifecycle -------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int repl_hub_open(repl_hub **out, const repl_hub_cfg *cfg, char *err,
                  size_t errlen)
{
    *out = NULL;
    repl_hub *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    h->cfg = *cfg;
    h->cfg.bind_host = dup_or_null(cfg->bind_host ? cfg->bind_host
                                                  : "127.0.0.1");
    h->cfg.token = cfg->token && *cfg->token ? strdup(cfg->token) : NULL;
    if (!h->cfg.max_replicas)
        h->cfg.max_replicas = 1;
    if (!h->cfg.channel_capacity)
        h->cfg.channel_capacity = 1;
    h->lfd = h->efd = h->epfd = -1;
    pthread_mutex_init(&h->mu, NULL);
    uint32_t n = cfg->nshards;
    uint64_t *base = calloc(n ? n : 1, sizeof *base);
    h->walk_wb = calloc(n ? n : 1, sizeof *h->walk_wb);
    h->walk_cut = calloc(n ? n : 1, sizeof *h->walk_cut);
    for (uint32_t i = 0; base && i < n; i++)
        base[i] = cfg->seq_base;
    if (!base || !h->walk_wb || !h->walk_cut || !n ||
        repl_backlog_init(&h->bl, n, cfg->backlog_bytes, base) != FC_OK) {
        free(base);
        snprintf(err, errlen, "replication: out of memory");
        repl_hub_close(h);
        return -1;
    }
    free(base);
    h->lfd = repl_listen(h->cfg.bind_host, cfg->port, err, errlen);
    if (h->lfd < 0) {
        repl_hub_close(h);
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(h->lfd, (struct sockaddr *)&ss, &sl);
    h->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    h->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    h->epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event le = {.events = EPOLLIN, .data.ptr = &h->lfd};
    struct epoll_event ee = {.events = EPOLLIN, .data.ptr = &h->efd};
    if (h->efd < 0 || h->epfd < 0 ||
        epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->lfd, &le) ||
        epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->efd, &ee)) {
        snprintf(err, errlen, "replication: %s", strerror(errno));
        repl_hub_close(h);
        return -1;
    }
    if (pthread_create(&h->th, NULL, hub_main, h)) {
        snprintf(err, errlen, "replication: cannot start its thread");
        repl_hub_close(h);
        return -1;
    }
    h->started = true;
    *out = h;
    return 0;
}

void repl_hub_close(repl_hub *h)
{
    if (!h)
        return;
    if (h->started) {
        atomic_store(&h->stop, 1);
        uint64_t one = 1;
        ssize_t r = write(h->efd, &one, sizeof one);
        (void)r;
        pthread_join(h->th, NULL);
    }
    for (session *s = h->sessions, *n; s; s = n) {
        n = s->next;
        sess_free(s);
    }
    walk_free_queue(h);
    repl_backlog_free(&h->bl);
    if (h->lfd >= 0)
        close(h->lfd);
    if (h->efd >= 0)
        close(h->efd);
    if (h->epfd >= 0)
        close(h->epfd);
    pthread_mutex_destroy(&h->mu);
    free(h->walk_wb);
    free(h->walk_cut);
    free(h->cfg.bind_host);
    free(h->cfg.token);
    free(h);
}
