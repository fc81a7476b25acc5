/* fake_primary.c — the scripted FCRP primary of the unit tests
 * (fake_primary.h). Blocking sockets, one connection at a time. */
#define _GNU_SOURCE
#include "fake_primary.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "repl/sock.h"

#define FP_TICK_MS 20 /* how often waits look at the stop flag */

struct fp {
    int lfd;
    uint16_t port;
    pthread_t th;
    atomic_bool stop;
    fp_script fn;
    void *ctx;
    pthread_mutex_t mu;
    int nconn, ndone;
    int64_t accept_ms[FP_MAX_CONNS];
};

static int64_t clock_ms(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
int64_t fp_unix_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}
int64_t fp_mono_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

bool fp_stopping(const fp *f)
{
    return atomic_load(&f->stop);
}

static void *fp_main(void *arg)
{
    fp *f = arg;
    while (!atomic_load(&f->stop)) {
        struct pollfd p = {.fd = f->lfd, .events = POLLIN};
        if (poll(&p, 1, FP_TICK_MS) <= 0)
            continue;
        int fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_mutex_lock(&f->mu);
        int idx = f->nconn;
        if (idx < FP_MAX_CONNS)
            f->accept_ms[idx] = fp_mono_ms();
        f->nconn++;
        pthread_mutex_unlock(&f->mu);
        fp_conn c = {.owner = f, .fd = fd, .index = idx};
        fcrp_rx_default(&c.rx);
        f->fn(&c, f->ctx);
        close(fd);
        fc_buf_free(&c.in);
        fc_buf_free(&c.pl);
        pthread_mutex_lock(&f->mu);
        f->ndone++;
        pthread_mutex_unlock(&f->mu);
    }
    return NULL;
}

int fp_start(fp **out, fp_script fn, void *ctx)
{
    fp *f = calloc(1, sizeof *f);
    char err[128];
    if (!f)
        return -1;
    f->lfd = repl_listen("127.0.0.1", 0, err, sizeof err);
    if (f->lfd < 0) {
        free(f);
        return -1;
    }
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    getsockname(f->lfd, (struct sockaddr *)&a, &al);
    f->port = ntohs(a.sin_port);
    f->fn = fn;
    f->ctx = ctx;
    pthread_mutex_init(&f->mu, NULL);
    if (pthread_create(&f->th, NULL, fp_main, f) != 0) {
        close(f->lfd);
        free(f);
        return -1;
    }
    *out = f;
    return 0;
}

uint16_t fp_port(const fp *f)
{
    return f->port;
}

int fp_conns(fp *f)
{
    pthread_mutex_lock(&f->mu);
    int n = f->nconn;
    pthread_mutex_unlock(&f->mu);
    return n;
}

int fp_done(fp *f)
{
    pthread_mutex_lock(&f->mu);
    int n = f->ndone;
    pthread_mutex_unlock(&f->mu);
    return n;
}

int64_t fp_accept_ms(fp *f, int i)
{
    pthread_mutex_lock(&f->mu);
    int64_t t = i < f->nconn && i < FP_MAX_CONNS ? f->accept_ms[i] : -1;
    pthread_mutex_unlock(&f->mu);
    return t;
}

void fp_stop(fp *f)
{
    if (!f)
        return;
    atomic_store(&f->stop, true);
    pthread_join(f->th, NULL);
    close(f->lfd);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

/* --- I/O ------------------------------------------------------------------ */

/* Waits for input up to timeout_ms (in ticks, so a stop is seen): 1 ready,
 * 0 timeout or stop. */
static int wait_in(fp_conn *c, int timeout_ms)
{
    int64_t deadline = fp_mono_ms() + timeout_ms;
    for (;;) {
        if (fp_stopping(c->owner))
            return 0;
        int64_t left = deadline - fp_mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int n = poll(&p, 1, left < FP_TICK_MS ? (int)left : FP_TICK_MS);
        if (n > 0)
            return 1;
    }
}

static int fill(fp_conn *c, int timeout_ms)
{
    if (!wait_in(c, timeout_ms))
        return -1;
    if (!fc_buf_reserve(&c->in, 4096))
        return -1;
    ssize_t n = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len, 0);
    if (n <= 0)
        return -1;
    c->in.len += (size_t)n;
    return 0;
}

int fp_read_frame(fp_conn *c, int timeout_ms)
{
    int64_t deadline = fp_mono_ms() + timeout_ms;
    for (;;) {
        fcrp_frame f;
        size_t used, need;
        int rc = fcrp_frame_decode((const uint8_t *)c->in.data, c->in.len,
                                   &c->rx, &f, &used, &need);
        if (rc == FCRP_OK) {
            const uint8_t *p;
            size_t n;
            fc_buf scratch = {0};
            rc = fcrp_frame_payload(&f, &scratch, &p, &n);
            c->pl.len = 0;
            if (rc == FCRP_OK)
                fc_buf_append(&c->pl, p, n);
            fc_buf_free(&scratch);
            c->kind = f.h.kind;
            if (f.h.kind == FCRP_HELLO)
                c->hello_flags = f.h.flags;
            fc_buf_consume(&c->in, used);
            return rc == FCRP_OK ? 0 : -1;
        }
        if (rc != FCRP_MORE)
            return -1;
        int64_t left = deadline - fp_mono_ms();
        if (left <= 0 || fill(c, (int)left) != 0)
            return -1;
    }
}

static int write_all(fp_conn *c, const char *p, size_t n)
{
    size_t step = c->trickle ? 1 : n;
    for (size_t off = 0; off < n;) {
        size_t k = n - off < step ? n - off : step;
        ssize_t w = send(c->fd, p + off, k, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        off += (size_t)w;
        if (c->trickle)
            usleep(200);
    }
    return 0;
}

static int send_frame(fp_conn *c, uint8_t kind, const fcrp_tx *tx,
                      const void *pl, size_t n)
{
    fc_buf b = {0};
    int rc = fcrp_frame_encode(&b, kind, tx, pl, n);
    if (rc == FCRP_OK)
        rc = write_all(c, b.data, b.len);
    fc_buf_free(&b);
    return rc == FCRP_OK ? 0 : -1;
}

/* --- frames --------------------------------------------------------------- */

int fp_read_hello(fp_conn *c, int timeout_ms)
{
    if (fp_read_frame(c, timeout_ms) != 0 || c->kind != FCRP_HELLO)
        return -1;
    fcrp_hello h;
    if (fcrp_hello_decode((const uint8_t *)c->pl.data, c->pl.len, &h) !=
        FCRP_OK)
        return -1;
    c->version = h.version;
    c->role = h.role;
    size_t tl =
        h.token_len < sizeof c->token - 1 ? h.token_len : sizeof c->token - 1;
    if (tl)
        memcpy(c->token, h.token, tl);
    c->token[tl] = 0;
    c->has_since = h.has_since;
    c->nsince = h.has_since ? h.since.n : 0;
    for (uint32_t i = 0; i < c->nsince && i < FP_MAX_WM; i++)
        c->since[i] = fcrp_wm_get(&h.since, i);
    return 0;
}

int fp_send_hello(fp_conn *c, const uint64_t *wm, uint32_t n, uint8_t caps,
                  uint64_t base)
{
    uint8_t agreed = fcrp_caps_agreed(caps, c->hello_flags);
    uint64_t v[FP_MAX_WM + 1];
    uint32_t nv = 0;
    for (; nv < n && nv < FP_MAX_WM; nv++)
        v[nv] = wm[nv];
    if (agreed & FCRP_F_CAP_FC)
        v[nv++] = base;
    fcrp_hello h = {
        .version = FCRP_VERSION, .role = FCRP_ROLE_REPLICA, .has_since = true};
    fc_buf pl = {0};
    fcrp_hello_put(&pl, &h, v, nv);
    fcrp_tx tx = {.caps = caps};
    int rc = send_frame(c, FCRP_HELLO, &tx, pl.data, pl.len);
    fc_buf_free(&pl);
    bool check = agreed & FCRP_F_CAP_CHECK;
    c->tx.check = check;
    c->tx.comp = agreed & FCRP_F_CAP_LZ4 ? FCRP_COMP_LZ4 : FCRP_COMP_NONE;
    c->rx.accept = (uint8_t)((check ? FCRP_F_CHECK : 0) |
                             (agreed & FCRP_F_CAP_LZ4 ? FCRP_F_LZ4 : 0));
    c->rx.require_check = check;
    return rc;
}

int fp_send_error(fp_conn *c, uint8_t code)
{
    fc_buf pl = {0};
    fcrp_error_put(&pl, code, NULL, 0);
    int rc = send_frame(c, FCRP_ERROR, &c->tx, pl.data, pl.len);
    fc_buf_free(&pl);
    return rc;
}

int fp_send_wm(fp_conn *c, uint8_t kind, const uint64_t *wm, uint32_t n)
{
    fc_buf pl = {0};
    fcrp_wm_put(&pl, wm, n);
    int rc = send_frame(c, kind, &c->tx, pl.data, pl.len);
    fc_buf_free(&pl);
    return rc;
}

int fp_send_chunk(fp_conn *c, uint64_t index, bool last, const uint64_t *wm,
                  uint32_t nwm, const fcrp_entry *e, uint32_t ne)
{
    fc_buf pl = {0};
    size_t at;
    fcrp_chunk_put_head(&pl, index, last, wm, nwm, &at);
    for (uint32_t i = 0; i < ne; i++)
        fcrp_entry_put(&pl, &e[i]);
    fcrp_batch_set_count(&pl, at, ne);
    int rc = pl.oom
                 ? -1
                 : send_frame(c, FCRP_SNAPSHOT_CHUNK, &c->tx, pl.data, pl.len);
    fc_buf_free(&pl);
    return rc;
}

int fp_send_batch(fp_conn *c, const fcrp_record *r, uint32_t nr)
{
    fc_buf pl = {0};
    size_t at;
    fcrp_batch_put_count(&pl, &at);
    for (uint32_t i = 0; i < nr; i++)
        fcrp_record_put(&pl, &r[i]);
    fcrp_batch_set_count(&pl, at, nr);
    int rc = pl.oom
                 ? -1
                 : send_frame(c, FCRP_MUTATION_BATCH, &c->tx, pl.data, pl.len);
    fc_buf_free(&pl);
    return rc;
}

int fp_read_ack(fp_conn *c, uint64_t *wm, uint32_t max, uint32_t *n,
                int timeout_ms)
{
    int64_t deadline = fp_mono_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - fp_mono_ms();
        if (left <= 0 || fp_read_frame(c, (int)left) != 0)
            return -1;
        if (c->kind != FCRP_ACK)
            continue;
        fcrp_wm w;
        if (fcrp_wm_decode((const uint8_t *)c->pl.data, c->pl.len, &w) !=
            FCRP_OK)
            return -1;
        *n = w.n;
        for (uint32_t i = 0; i < w.n && i < max; i++)
            wm[i] = fcrp_wm_get(&w, i);
        return 0;
    }
}

int fp_wait_closed(fp_conn *c, int timeout_ms)
{
    int64_t deadline = fp_mono_ms() + timeout_ms;
    char b[4096];
    for (;;) {
        int64_t left = deadline - fp_mono_ms();
        if (left <= 0 || !wait_in(c, (int)left))
            return -1;
        ssize_t n = recv(c->fd, b, sizeof b, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return 0;
        if (n < 0)
            return -1;
    }
}

void fp_hold(fp_conn *c)
{
    while (!fp_stopping(c->owner) && fp_wait_closed(c, 200) != 0)
        ;
}

fcrp_record fp_rec(uint32_t shard, uint64_t seq, uint8_t op, const char *key,
                   const char *val, uint64_t expire_unix_ms)
{
    fcrp_record r = {.shard = shard,
                     .seq = seq,
                     .timestamp_ms = (uint64_t)fp_unix_ms(),
                     .op = op,
                     .expire_at_ms = expire_unix_ms,
                     .key = (const uint8_t *)key,
                     .key_len = key ? (uint32_t)strlen(key) : 0,
                     .value = (const uint8_t *)val,
                     .value_len = val ? (uint32_t)strlen(val) : 0};
    return r;
}

fcrp_entry fp_entry(const char *key, const char *val, uint64_t expire_unix_ms)
{
    fcrp_entry e = {.expire_at_ms = expire_unix_ms,
                    .key = (const uint8_t *)key,
                    .key_len = (uint32_t)strlen(key),
                    .value = (const uint8_t *)val,
                    .value_len = (uint32_t)strlen(val)};
    return e;
}
