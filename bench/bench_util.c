/*
 * bench_util.c — RNG, Zipf, sequences, RSS, names and the result table for
 * fast-cache-bench (see bench.h).
 */
#include "bench.h"

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

volatile uint64_t bench_sink;

uint64_t bench_rng_next(bench_rng *r)
{
    r->s += 0x9e3779b97f4a7c15ull;
    return bench_mix64(r->s);
}

double bench_rng_unit(bench_rng *r)
{
    return (double)(bench_rng_next(r) >> 11) * 0x1.0p-53;
}

int bench_zipf_init(bench_zipf *z, uint64_t n, double theta)
{
    if (n < 2 || theta <= 0.0 || theta >= 1.0)
        return -1;
    double zetan = 0.0;
    /* Summed smallest term first for accuracy; O(n) once per key count. */
    for (uint64_t i = n; i >= 1; i--)
        zetan += 1.0 / pow((double)i, theta);
    double zeta2 = 1.0 + 1.0 / pow(2.0, theta);
    z->n = n;
    z->theta = theta;
    z->alpha = 1.0 / (1.0 - theta);
    z->zetan = zetan;
    z->eta = (1.0 - pow(2.0 / (double)n, 1.0 - theta)) / (1.0 - zeta2 / zetan);
    z->half_pow_theta = 1.0 + pow(0.5, theta);
    return 0;
}

uint64_t bench_zipf_next(const bench_zipf *z, bench_rng *r)
{
    double u = bench_rng_unit(r);
    double uz = u * z->zetan;
    if (uz < 1.0)
        return 0;
    if (uz < z->half_pow_theta)
        return 1;
    uint64_t v =
        (uint64_t)((double)z->n * pow(z->eta * u - z->eta + 1.0, z->alpha));
    return v < z->n ? v : z->n - 1;
}

uint32_t bench_draw(enum bench_dist d, size_t keys, const bench_zipf *z,
                    bench_rng *r)
{
    uint32_t idx;
    if (d == DIST_ZIPF)
        idx = (uint32_t)bench_zipf_next(z, r);
    else
        idx = (uint32_t)(bench_rng_next(r) % keys);
    if (bench_rng_next(r) % 10 == 0)
        idx |= BENCH_SEQ_SET;
    return idx;
}

static int seq_alloc(bench_seq *s, unsigned threads, size_t n)
{
    memset(s, 0, sizeof(*s));
    s->threads = threads;
    s->n = n;
    for (unsigned t = 0; t < threads; t++) {
        s->seq[t] = malloc(n * sizeof(uint32_t));
        if (!s->seq[t]) {
            bench_seq_free(s);
            return -1;
        }
    }
    return 0;
}

int bench_seq_build(bench_seq *s, unsigned threads, size_t n, enum bench_dist d,
                    size_t keys, const bench_zipf *z, uint64_t seed)
{
    if (seq_alloc(s, threads, n) < 0)
        return -1;
    bench_rng r = {seed};
    for (unsigned t = 0; t < threads; t++)
        for (size_t i = 0; i < n; i++)
            s->seq[t][i] = bench_draw(d, keys, z, &r);
    return 0;
}

int bench_seq_build_owned(bench_seq *s, unsigned threads, size_t n,
                          enum bench_dist d, size_t keys, const bench_zipf *z,
                          uint64_t seed, const uint8_t *owner)
{
    if (seq_alloc(s, threads, n) < 0)
        return -1;
    bench_rng r = {seed};
    size_t fill[BENCH_MAX_THREADS] = {0};
    size_t full = 0;
    /* One stream, routed by owner: each worker sees the part of the global
     * distribution that falls on its keys, as a server's would. */
    while (full < threads) {
        uint32_t v = bench_draw(d, keys, z, &r);
        unsigned t = owner ? owner[v & BENCH_SEQ_IDX] : 0;
        if (t >= threads || fill[t] == n)
            continue;
        s->seq[t][fill[t]++] = v;
        if (fill[t] == n)
            full++;
    }
    return 0;
}

void bench_seq_free(bench_seq *s)
{
    for (unsigned t = 0; t < BENCH_MAX_THREADS; t++) {
        free(s->seq[t]);
        s->seq[t] = NULL;
    }
}

size_t bench_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    if (n != 2)
        return 0;
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

double bench_mem_latency_ns(size_t bytes, size_t loads)
{
    size_t n = bytes / sizeof(size_t);
    size_t *a = malloc(n * sizeof(size_t));
    if (!a || n < 2) {
        free(a);
        return 0.0;
    }
    /* Sattolo's shuffle: one cycle through every slot, so each load depends
     * on the previous one and the prefetchers cannot guess the next. */
    for (size_t i = 0; i < n; i++)
        a[i] = i;
    bench_rng r = {0x1a7e};
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(bench_rng_next(&r) % i), t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
    size_t x = 0;
    for (size_t i = 0; i < loads / 10; i++) /* page faults, TLB */
        x = a[x];
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < loads; i++)
        x = a[x];
    double ns = (double)(bench_now_ns() - t0) / (double)loads;
    bench_sink += x;
    free(a);
    return ns;
}

void bench_trim(void)
{
    malloc_trim(0);
}

const char *bench_dist_name(enum bench_dist d)
{
    return d == DIST_ZIPF ? "zipf0.99" : "uniform";
}

const char *bench_op_name(enum bench_op o)
{
    static const char *const names[OP_COUNT] = {"get", "set", "mixed"};
    return names[o];
}

const char *bench_handle_name(enum bench_handle h)
{
    return h == HANDLE_LOCAL ? "local" : "shared";
}

const char *bench_count_name(size_t n, char *buf, size_t cap)
{
    if (n >= 1000000 && n % 1000000 == 0)
        snprintf(buf, cap, "%zuM", n / 1000000);
    else if (n >= 1000 && n % 1000 == 0)
        snprintf(buf, cap, "%zuk", n / 1000);
    else
        snprintf(buf, cap, "%zu", n);
    return buf;
}

/* --- result table ------------------------------------------------------ */

static bench_result *results;
static size_t nresults, capresults;

void bench_results_add(const bench_result *r)
{
    if (nresults == capresults) {
        size_t cap = capresults ? capresults * 2 : 64;
        bench_result *p = realloc(results, cap * sizeof(*p));
        if (!p)
            return; /* the row was printed already; only ratios are lost */
        results = p;
        capresults = cap;
    }
    results[nresults++] = *r;
}

const bench_result *bench_results_find(size_t keys, enum bench_dist d,
                                       enum bench_op o, unsigned batch,
                                       enum bench_handle h, unsigned threads)
{
    for (size_t i = 0; i < nresults; i++) {
        const bench_result *r = &results[i];
        if (r->keys == keys && r->dist == d && r->op == o &&
            r->batch == batch && r->handle == h && r->threads == threads)
            return r;
    }
    return NULL;
}

void bench_results_reset(void)
{
    free(results);
    results = NULL;
    nresults = capresults = 0;
}

/* --- memory per key ---------------------------------------------------- */

typedef struct mem_row {
    size_t keys;
    enum bench_handle handle;
    double rss, accounted;
} mem_row;

static mem_row mems[16];
static size_t nmems;

void bench_mem_record(size_t keys, enum bench_handle h, double rss_per_key,
                      double accounted_per_key)
{
    if (nmems < sizeof(mems) / sizeof(mems[0]))
        mems[nmems++] = (mem_row){keys, h, rss_per_key, accounted_per_key};
}

bool bench_mem_find(size_t keys, enum bench_handle h, double *rss_per_key,
                    double *accounted_per_key)
{
    for (size_t i = 0; i < nmems; i++) {
        if (mems[i].keys == keys && mems[i].handle == h) {
            *rss_per_key = mems[i].rss;
            *accounted_per_key = mems[i].accounted;
            return true;
        }
    }
    return false;
}

/* --- output ------------------------------------------------------------ */

void bench_print_header(void)
{
    printf("%-9s %5s %-8s %-5s %5s %-6s %7s %9s %9s  %s\n", "workload", "keys",
           "dist", "op", "batch", "handle", "threads", "ns/op", "Mops/s",
           "target (ns/op)");
}

/* Writes the target text for r into buf, or "" when the issue names none. */
static void target_text(const bench_result *r, size_t primary_keys, char *buf,
                        size_t cap)
{
    buf[0] = '\0';
    if (r->keys != primary_keys || r->dist != DIST_UNIFORM || r->op != OP_GET)
        return;
    double limit;
    char what[32];
    if (r->handle == HANDLE_LOCAL) {
        if (r->threads != 1)
            return;
        limit = r->batch > 1 ? BENCH_TARGET_LOCAL_MGET : BENCH_TARGET_LOCAL_GET;
        snprintf(what, sizeof(what), "%s",
                 r->batch > 1 ? "local batch" : "local single");
    } else {
        const bench_result *l = bench_results_find(
            r->keys, r->dist, r->op, r->batch, HANDLE_LOCAL, r->threads);
        if (!l)
            return;
        limit = l->ns_per_op * BENCH_TARGET_SHARED_RATIO;
        snprintf(what, sizeof(what), "%.1fx local", BENCH_TARGET_SHARED_RATIO);
    }
    snprintf(buf, cap, "<= %.0f (%s): %s", limit, what,
             r->ns_per_op <= limit ? "met" : "MISSED");
}

void bench_print_row(const bench_result *r, size_t primary_keys,
                     uint64_t misses, uint64_t errors)
{
    char kbuf[24], target[80];
    target_text(r, primary_keys, target, sizeof(target));
    printf("%-9s %5s %-8s %-5s %5u %-6s %7u %9.1f %9.2f  %s", "k16v64",
           bench_count_name(r->keys, kbuf, sizeof(kbuf)),
           bench_dist_name(r->dist), bench_op_name(r->op), r->batch,
           bench_handle_name(r->handle), r->threads, r->ns_per_op, r->mops,
           target);
    if (misses || errors)
        printf("  [WARNING: %llu misses, %llu errors]",
               (unsigned long long)misses, (unsigned long long)errors);
    printf("\n");
    fflush(stdout);
}
