/*
 * fast-cache-session-bench — the get paths of issue 12 on one thread:
 * plain, routed, packed and zero-copy batch reads and transfers, on the
 * shared handle and a worker-local handle, in both route modes.
 *
 * Workload: N keys (default 1M) of 16 bytes, "s:<7 digits>:c:<4 digits>",
 * i.e. N/16 sessions of 16 chunks; 64-byte values; uniform access. Single
 * gets pick a random key; "batch" cases take 16 random keys; "session"
 * cases take the 16 chunks of a random session. Sequences are drawn
 * before timing; each case runs 3 times and the fastest is printed, as ns
 * per key. Figures only, never asserted: the machine may be shared.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fastcache.h"

#define KL 16
#define VL 64
#define B 16
#define REPS 3

static size_t nkeys = 1000000, nops = 2000000;
static volatile uint64_t sink;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* Key i: session i / 16, chunk i % 16. */
static void key_of(char *out, uint32_t i)
{
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "s:%07u:c:%04u", i / B, i % B);
    memcpy(out, tmp, KL);
}

struct ctx {
    fc_store *s;
    fc_workers *w;
    fc_local *l;
    char (*keys)[KL]; /* all keys, for batches (slices point here) */
    uint32_t *seq;    /* nops key (or session) indices */
    fc_route *routes; /* per key */
    fc_packed p;
    fc_slice sl[B], vals[B];
    fc_chunk_desc d[B];
    uint8_t dst[B * VL];
    fc_backend *host;
};

enum kind {
    ROUTE,
    GET,
    GET_ROUTED,
    MGET,
    MGET_PACKED,
    SESS_MGET,
    SESS_PACKED,
    SESS_XFER,
    L_GET,
    L_GET_ROUTED,
    L_MGET,
    L_PACKED,
    L_REFS,
    L_SESS_PACKED,
    L_XFER,
};
static const char *names[] = {
    "route (hash) only",
    "shared get",
    "shared get, routed",
    "shared mget x16",
    "shared mget_packed x16",
    "shared session mget x16",
    "shared session mget_packed x16",
    "shared session transfer x16",
    "local get",
    "local get_ref, routed",
    "local mget x16",
    "local mget_packed x16",
    "local mget_refs x16",
    "local session mget_packed x16",
    "local session transfer x16",
};

static void mget_cb(void *c, size_t i, int st, const void *v, size_t n)
{
    (void)c;
    (void)i;
    if (st == FC_OK)
        sink += n + ((const uint8_t *)v)[0];
}

static void batch_random(struct ctx *c, uint32_t at)
{
    for (int k = 0; k < B; k++)
        c->sl[k] = (fc_slice){c->keys[c->seq[(at + k) % nops]], KL};
}

static void batch_session(struct ctx *c, uint32_t at)
{
    uint32_t base = (c->seq[at] / B) * B;
    for (int k = 0; k < B; k++)
        c->sl[k] = (fc_slice){c->keys[base + k], KL};
}

static void xfer(struct ctx *c, int local)
{
    for (int k = 0; k < B; k++)
        c->d[k] = (fc_chunk_desc){c->sl[k], (uint32_t)k, (uint64_t)k * VL, VL};
    fc_transfer_req t = {{c->sl[0].data, 9}, c->d, B};
    fc_transfer_stats st;
    if (local)
        fc_local_transfer(c->l, &t, c->host, c->dst, sizeof(c->dst), NULL, &st);
    else
        fc_transfer(c->s, &t, c->host, c->dst, sizeof(c->dst), NULL, &st);
    sink += st.bytes;
}

/* One pass of a case; returns keys looked up. */
static size_t run(struct ctx *c, enum kind k)
{
    char buf[VL];
    size_t len;
    const void *v;
    size_t done = 0;
    for (uint32_t i = 0; i < nops;
         i += (k == ROUTE || k == GET || k == GET_ROUTED || k == L_GET ||
               k == L_GET_ROUTED)
                  ? 1
                  : B) {
        uint32_t x = c->seq[i];
        switch (k) {
        case ROUTE: {
            fc_route r;
            fc_store_route(c->s, c->keys[x], KL, &r);
            sink += r.hash;
            done++;
            continue;
        }
        case GET:
            fc_get(c->s, c->keys[x], KL, buf, sizeof(buf), &len);
            sink += len + (uint8_t)buf[0];
            done++;
            continue;
        case GET_ROUTED:
            fc_get_routed(c->s, &c->routes[x], c->keys[x], KL, buf, sizeof(buf),
                          &len);
            sink += len + (uint8_t)buf[0];
            done++;
            continue;
        case L_GET:
            fc_local_get(c->l, c->keys[x], KL, buf, sizeof(buf), &len, NULL);
            sink += len + (uint8_t)buf[0];
            done++;
            continue;
        case L_GET_ROUTED:
            fc_local_get_ref_routed(c->l, &c->routes[x], c->keys[x], KL, &v,
                                    &len, NULL);
            sink += len + ((const uint8_t *)v)[0];
            done++;
            continue;
        case MGET:
        case MGET_PACKED:
        case L_MGET:
        case L_PACKED:
        case L_REFS:
            batch_random(c, i);
            break;
        default:
            batch_session(c, i);
        }
        switch (k) {
        case MGET:
        case SESS_MGET:
            fc_mget(c->s, c->sl, B, mget_cb, NULL);
            break;
        case MGET_PACKED:
        case SESS_PACKED:
            fc_mget_packed(c->s, c->sl, B, &c->p);
            sink += c->p.size + c->p.data[0];
            break;
        case SESS_XFER:
            xfer(c, 0);
            break;
        case L_MGET:
            fc_local_mget(c->l, c->sl, B, mget_cb, NULL);
            break;
        case L_PACKED:
        case L_SESS_PACKED:
            fc_local_mget_packed(c->l, c->sl, B, &c->p);
            sink += c->p.size + c->p.data[0];
            break;
        case L_REFS:
            fc_local_mget_refs(c->l, c->sl, B, c->vals, NULL);
            sink += c->vals[0].len;
            break;
        case L_XFER:
            xfer(c, 1);
            break;
        default:
            break;
        }
        done += B;
    }
    return done;
}

static double best(struct ctx *c, enum kind k)
{
    double b = 1e30;
    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = now_ns();
        size_t n = run(c, k);
        double ns = (double)(now_ns() - t0) / (double)n;
        b = ns < b ? ns : b;
    }
    return b;
}

static int setup(struct ctx *c, int mode)
{
    memset(c, 0, sizeof(*c));
    fc_options o = {
        .shards = 64, .initial_capacity = nkeys, .route_mode = mode};
    if (fc_store_open(&c->s, &o) || fc_workers_open(&c->w, &o, 1))
        return -1;
    c->l = fc_workers_local(c->w, 0);
    c->keys = malloc(nkeys * KL);
    c->routes = malloc(nkeys * sizeof(*c->routes));
    c->seq = malloc(nops * sizeof(*c->seq));
    if (!c->keys || !c->routes || !c->seq)
        return -1;
    uint8_t val[VL];
    memset(val, 'v', sizeof(val));
    for (uint32_t i = 0; i < nkeys; i++) {
        key_of(c->keys[i], i);
        fc_set(c->s, c->keys[i], KL, val, VL, FC_TTL_NONE, 0);
        fc_local_set(c->l, c->keys[i], KL, val, VL, FC_TTL_NONE, 0, NULL);
    }
    for (size_t i = 0; i < nops; i++)
        c->seq[i] = rnd((uint32_t)nkeys);
    fc_packed_init(&c->p, NULL, 0);
    fc_backend_host(&c->host);
    return 0;
}

static void teardown(struct ctx *c)
{
    fc_packed_free(&c->p);
    fc_store_close(c->s);
    fc_workers_close(c->w);
    free(c->keys);
    free(c->routes);
    free(c->seq);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        nkeys = strtoul(argv[1], NULL, 10);
    if (nkeys < B || nkeys > 160000000)
        nkeys = 1000000;
    nkeys -= nkeys % B;
    printf("fast-cache-session-bench: %zu keys (%zu sessions x %d), %d B "
           "keys, %d B values, uniform, 1 thread, ns per key (best of %d)\n",
           nkeys, nkeys / B, B, KL, VL, REPS);
    printf("%-34s %12s %16s\n", "case", "full_key", "session_prefix");
    double r[2][L_XFER + 1];
    for (int mode = 0; mode < 2; mode++) {
        struct ctx c;
        if (setup(&c, mode)) {
            fprintf(stderr, "setup failed\n");
            return 1;
        }
        for (uint32_t i = 0; i < nkeys; i++) {
            fc_store_route(c.s, c.keys[i], KL, &c.routes[i]);
        }
        for (int k = ROUTE; k <= SESS_XFER; k++)
            r[mode][k] = best(&c, (enum kind)k);
        for (uint32_t i = 0; i < nkeys; i++)
            fc_workers_route(c.w, c.keys[i], KL, &c.routes[i]);
        for (int k = L_GET; k <= L_XFER; k++)
            r[mode][k] = best(&c, (enum kind)k);
        teardown(&c);
    }
    for (int k = ROUTE; k <= L_XFER; k++)
        printf("%-34s %12.1f %16.1f\n", names[k], r[0][k], r[1][k]);
    printf("shared get / local get: %.2fx (full_key)\n",
           r[0][GET] / r[0][L_GET]);
    return sink == 42; /* never: keeps the reads */
}
