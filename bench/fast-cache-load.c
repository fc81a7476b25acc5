/*
 * fast-cache-load — a lighter load generator than redis-benchmark, for
 * measuring a server rather than its client.
 *
 * Why: on a 2-core machine the server gets one core and the load
 * generator the other. redis-benchmark spends about 600 ns of its core per
 * pipelined request (hiredis parses every reply into objects), more than
 * fast-cache spends serving it, so at -P 16 it measures itself: both
 * servers read about its ceiling. This tool sends the same commands as
 * redis-benchmark's tests (same names, keys, __rand_int__ fields of 12
 * digits, -d bytes of 'x'), pipelined the same way (-c connections, each
 * with -P requests in flight), but only counts the replies, skipping
 * them without building anything; any error reply stops the run.
 *
 * Usage: fast-cache-load [-h host] [-p port] [-c clients] [-n requests]
 *        [-P pipeline] [-r keyspace] [-d bytes] -t test[,test...]
 * Tests: ping, set, get, incr, lpush, rpush, lpop, rpop, sadd, hset,
 * spop, zadd, zpopmin, lrange_100 (filled first by LPUSH, as
 * redis-benchmark does). Prints redis-benchmark's --csv form:
 * "test","requests per second" and exits 1 on any failure. Every run is
 * bounded by -n and by a 120 s deadline. Loopback only by design of its
 * callers (the bench scripts); nothing here listens.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RAND_DIGITS 12
#define DEADLINE_S 120

typedef struct test_def {
    const char *name, *label;
    const char *fmt; /* arguments, space separated; %d = data, %r = rand */
} test_def;

static const test_def TESTS[] = {
    {"ping", "PING_MBULK", "PING"},
    {"set", "SET", "SET key:%r %d"},
    {"get", "GET", "GET key:%r"},
    {"incr", "INCR", "INCR counter:%r"},
    {"lpush", "LPUSH", "LPUSH mylist %d"},
    {"rpush", "RPUSH", "RPUSH mylist %d"},
    {"lpop", "LPOP", "LPOP mylist"},
    {"rpop", "RPOP", "RPOP mylist"},
    {"sadd", "SADD", "SADD myset element:%r"},
    {"hset", "HSET", "HSET myhash element:%r %d"},
    {"spop", "SPOP", "SPOP myset"},
    {"zadd", "ZADD", "ZADD myzset %r element:%r"},
    {"zpopmin", "ZPOPMIN", "ZPOPMIN myzset"},
    {"lrange_100", "LRANGE_100 (first 100 elements)", "LRANGE mylist 0 99"},
};

typedef struct opts {
    const char *host;
    int port, clients, pipeline, datasize;
    long requests, keyspace;
} opts;

/* One command as RESP, with the offsets of its random fields. */
typedef struct cmd_tpl {
    char *buf;
    size_t len;
    size_t rand_at[4];
    int nrand;
} cmd_tpl;

static void tpl_build(cmd_tpl *t, const char *fmt, int datasize)
{
    char *args[8];
    int argc = 0;
    char *copy = strdup(fmt), *save;
    for (char *s = strtok_r(copy, " ", &save); s && argc < 8;
         s = strtok_r(NULL, " ", &save))
        args[argc++] = s;
    size_t cap = 64 + (size_t)argc * 32 + (size_t)datasize;
    t->buf = malloc(cap);
    t->nrand = 0;
    size_t n = (size_t)sprintf(t->buf, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        char arg[64 + RAND_DIGITS];
        size_t al = 0, rand_in_arg = SIZE_MAX;
        bool data = false;
        for (const char *p = args[i]; *p; p++) {
            if (p[0] == '%' && p[1] == 'r') {
                rand_in_arg = al;
                memset(arg + al, '0', RAND_DIGITS);
                al += RAND_DIGITS;
                p++;
            } else if (p[0] == '%' && p[1] == 'd') {
                data = true;
                p++;
            } else {
                arg[al++] = *p;
            }
        }
        if (data) {
            n += (size_t)sprintf(t->buf + n, "$%d\r\n", datasize);
            memset(t->buf + n, 'x', (size_t)datasize);
            n += (size_t)datasize;
        } else {
            n += (size_t)sprintf(t->buf + n, "$%zu\r\n", al);
            if (rand_in_arg != SIZE_MAX && t->nrand < 4)
                t->rand_at[t->nrand++] = n + rand_in_arg;
            memcpy(t->buf + n, arg, al);
            n += al;
        }
        memcpy(t->buf + n, "\r\n", 2);
        n += 2;
    }
    t->len = n;
    free(copy);
}

typedef struct conn {
    int fd;
    char *out; /* pipeline copies of the command */
    size_t out_len, out_sent;
    char *in;
    size_t in_len, in_cap;
    int pending; /* replies still due for the batch in flight */
} conn;

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static inline uint64_t rng_next(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static void fill_rand(conn *c, const cmd_tpl *t, int pipeline, long keyspace)
{
    for (int i = 0; i < pipeline; i++) {
        char *base = c->out + (size_t)i * t->len;
        for (int j = 0; j < t->nrand; j++) {
            uint64_t v = keyspace > 0 ? rng_next() % (uint64_t)keyspace : 0;
            char *d = base + t->rand_at[j] + RAND_DIGITS;
            for (int k = 0; k < RAND_DIGITS; k++) {
                *--d = (char)('0' + v % 10);
                v /= 10;
            }
        }
    }
}

/* Bytes of one complete reply at p, 0 if incomplete, -1 if an error
 * reply or malformed. */
static long skip_reply(const char *p, size_t n, int depth)
{
    if (n < 3 || depth > 8)
        return depth > 8 ? -1 : 0;
    const char *nl = memchr(p, '\n', n);
    if (!nl)
        return 0;
    size_t line = (size_t)(nl - p) + 1;
    switch (p[0]) {
    case '+':
    case ':':
        return (long)line;
    case '-':
        fprintf(stderr, "fast-cache-load: error reply: %.*s\n", (int)(line - 2),
                p);
        return -1;
    case '$': {
        long len = strtol(p + 1, NULL, 10);
        if (len < 0)
            return (long)line;
        size_t need = line + (size_t)len + 2;
        return need <= n ? (long)need : 0;
    }
    case '*': {
        long cnt = strtol(p + 1, NULL, 10);
        size_t at = line;
        for (long i = 0; i < cnt; i++) {
            long r = skip_reply(p + at, n - at, depth + 1);
            if (r <= 0)
                return r;
            at += (size_t)r;
        }
        return (long)at;
    }
    default:
        return -1;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(const opts *o)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *res;
    char port[16];
    snprintf(port, sizeof port, "%d", o->port);
    if (getaddrinfo(o->host, port, &hints, &res) != 0)
        return -1;
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

static bool send_batch(conn *c)
{
    while (c->out_sent < c->out_len) {
        ssize_t w =
            write(c->fd, c->out + c->out_sent, c->out_len - c->out_sent);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        c->out_sent += (size_t)w;
    }
    return true;
}

/* Sends c its next batch: a whole pipeline, or what is left of -n. */
static bool start_batch(conn *c, const cmd_tpl *tpl, const opts *o,
                        long *started)
{
    long left = o->requests - *started;
    int k = (int)(left < o->pipeline ? left : o->pipeline);
    fill_rand(c, tpl, k, o->keyspace);
    c->out_len = tpl->len * (size_t)k;
    c->out_sent = 0;
    c->pending = k;
    *started += k;
    return send_batch(c);
}

/* Runs one test; requests per second, or -1. */
static double run(const opts *o, const test_def *t)
{
    cmd_tpl tpl;
    tpl_build(&tpl, t->fmt, o->datasize);
    int ep = epoll_create1(0);
    conn *cs = calloc((size_t)o->clients, sizeof *cs);
    long started = 0, done = 0;
    double t0 = now_s(), rps = -1;
    bool ok = ep >= 0 && cs;
    for (int i = 0; ok && i < o->clients; i++) {
        conn *c = &cs[i];
        c->fd = connect_to(o);
        c->out = malloc(tpl.len * (size_t)o->pipeline);
        c->in_cap = 1 << 16;
        c->in = malloc(c->in_cap);
        if (c->fd < 0 || !c->out || !c->in) {
            fprintf(stderr, "fast-cache-load: cannot connect to %s:%d\n",
                    o->host, o->port);
            ok = false;
            break;
        }
        for (int j = 0; j < o->pipeline; j++)
            memcpy(c->out + (size_t)j * tpl.len, tpl.buf, tpl.len);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    }
    /* Every connection starts a batch. */
    for (int i = 0; ok && i < o->clients && started < o->requests; i++)
        ok = start_batch(&cs[i], &tpl, o, &started);
    struct epoll_event evs[64];
    while (ok && done < o->requests) {
        if (now_s() - t0 > DEADLINE_S) {
            fprintf(stderr, "fast-cache-load: %s: deadline passed\n", t->name);
            ok = false;
            break;
        }
        int n = epoll_wait(ep, evs, 64, 1000);
        for (int e = 0; ok && e < n; e++) {
            conn *c = evs[e].data.ptr;
            if (c->in_cap - c->in_len < 4096) {
                c->in_cap *= 2;
                c->in = realloc(c->in, c->in_cap);
            }
            ssize_t r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
            if (r <= 0) {
                if (r < 0 && errno == EINTR)
                    continue;
                fprintf(stderr, "fast-cache-load: connection closed\n");
                ok = false;
                break;
            }
            c->in_len += (size_t)r;
            size_t at = 0;
            while (c->pending > 0) {
                long s = skip_reply(c->in + at, c->in_len - at, 0);
                if (s < 0) {
                    ok = false;
                    break;
                }
                if (s == 0)
                    break;
                at += (size_t)s;
                c->pending--;
                done++;
            }
            memmove(c->in, c->in + at, c->in_len - at);
            c->in_len -= at;
            if (ok && c->pending == 0 && started < o->requests)
                ok = start_batch(c, &tpl, o, &started);
        }
    }
    if (ok)
        rps = (double)done / (now_s() - t0);
    for (int i = 0; cs && i < o->clients; i++) {
        if (cs[i].fd > 0)
            close(cs[i].fd);
        free(cs[i].out);
        free(cs[i].in);
    }
    free(cs);
    if (ep >= 0)
        close(ep);
    free(tpl.buf);
    return rps;
}

static void usage(void)
{
    fprintf(stderr,
            "Usage: fast-cache-load [-h host] [-p port] [-c clients] "
            "[-n requests] [-P pipeline] [-r keyspace] [-d bytes] -t tests\n"
            "Tests:");
    for (size_t i = 0; i < sizeof TESTS / sizeof TESTS[0]; i++)
        fprintf(stderr, " %s", TESTS[i].name);
    fprintf(stderr, "\n");
}

int main(int argc, char **argv)
{
    opts o = {.host = "127.0.0.1",
              .port = 6379,
              .clients = 50,
              .pipeline = 1,
              .datasize = 3,
              .requests = 100000,
              .keyspace = 0};
    const char *tests = NULL;
    for (int i = 1; i < argc; i += 2) { /* option, value */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) {
            usage();
            return 0;
        }
        if (!v) {
            usage();
            return 1;
        }
        if (!strcmp(a, "-h"))
            o.host = v;
        else if (!strcmp(a, "-p"))
            o.port = atoi(v);
        else if (!strcmp(a, "-c"))
            o.clients = atoi(v);
        else if (!strcmp(a, "-n"))
            o.requests = atol(v);
        else if (!strcmp(a, "-P"))
            o.pipeline = atoi(v);
        else if (!strcmp(a, "-r"))
            o.keyspace = atol(v);
        else if (!strcmp(a, "-d"))
            o.datasize = atoi(v);
        else if (!strcmp(a, "-t"))
            tests = v;
        else {
            usage();
            return 1;
        }
    }
    if (!tests || o.clients < 1 || o.pipeline < 1 || o.requests < 1 ||
        o.datasize < 0 || o.datasize > 1 << 20) {
        usage();
        return 1;
    }
    char *list = strdup(tests), *save;
    int rc = 0;
    for (char *name = strtok_r(list, ",", &save); name;
         name = strtok_r(NULL, ",", &save)) {
        const test_def *t = NULL;
        for (size_t i = 0; i < sizeof TESTS / sizeof TESTS[0]; i++)
            if (!strcasecmp(TESTS[i].name, name))
                t = &TESTS[i];
        if (!t) {
            fprintf(stderr, "fast-cache-load: unknown test '%s'\n", name);
            rc = 1;
            break;
        }
        if (!strncmp(t->name, "lrange", 6) && run(&o, &TESTS[4]) < 0) {
            rc = 1; /* the list LRANGE reads, as redis-benchmark fills it */
            break;
        }
        double rps = run(&o, t);
        if (rps < 0) {
            rc = 1;
            break;
        }
        printf("\"%s\",\"%.2f\"\n", t->label, rps);
        fflush(stdout);
    }
    free(list);
    return rc;
}
