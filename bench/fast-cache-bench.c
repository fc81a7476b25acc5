/*
 * fast-cache-bench — benchmarks libfastcache through its public API
 * (include/fastcache.h) and, side by side, redis-server through hiredis.
 *
 * Workload: 16-byte keys, 64-byte values; uniform and Zipf(0.99) access;
 * get / set / mixed (90% get); single calls and batches of 16; the shared
 * handle and worker-local handles; 1 and 2 threads. Access sequences are
 * drawn before timing. Targets are printed next to the figures, never
 * asserted: the machine may be shared and noisy.
 *
 * In-process peers (bench_peers.c): GLib's GHashTable, uthash and ck_ht on
 * the same 1-thread uniform gets, printed as ratios to fast-cache local.
 *
 * This file: options, the run order, the summary. The measurements live in
 * bench_fc.c and bench_redis.c, the shared pieces in bench_util.c.
 */
#include "bench.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fastcache.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: fast-cache-bench [--quick] [--keys N] [--ops N] "
            "[--no-redis] [--no-peers] [--gets] [--help]\n"
            "  --quick     100k keys, short runs, no 10M pass (development)\n"
            "  --keys N    run the full matrix at N keys only (no 10M pass)\n"
            "  --ops N     timed operations per thread per case "
            "(default 1000000)\n"
            "  --no-redis  skip the redis-server comparison\n"
            "  --no-peers  skip the in-process peers (glib, uthash, ck_ht)\n"
            "  --gets      only the 1-thread get cases (with --keys: quick "
            "before/after runs)\n"
            "  --help      this text\n"
            "Default: full matrix at 1M keys, get cases at 10M keys, and "
            "Redis at 1M keys.\n");
}

static int parse_count(const char *s, size_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end != '\0' || v == 0 || v > BENCH_SEQ_IDX)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* Returns 0, 1 for --help, or -1 on a bad argument. */
static int parse_args(int argc, char **argv, bench_opts *o)
{
    size_t keys = 0, ops = 0;
    *o = (bench_opts){.keys = 1000000,
                      .big_keys = 10000000,
                      .ops = 1000000,
                      .redis_ops = 100000,
                      .redis_batch_ops = 500000,
                      .redis = true,
                      .peers = true};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return 1;
        if (strcmp(a, "--quick") == 0) {
            o->quick = true;
        } else if (strcmp(a, "--no-redis") == 0) {
            o->redis = false;
        } else if (strcmp(a, "--no-peers") == 0) {
            o->peers = false;
        } else if (strcmp(a, "--gets") == 0) {
            o->gets_only = true;
        } else if (strcmp(a, "--keys") == 0 && i + 1 < argc) {
            if (parse_count(argv[++i], &keys) < 0 || keys < 2)
                return -1;
        } else if (strcmp(a, "--ops") == 0 && i + 1 < argc) {
            if (parse_count(argv[++i], &ops) < 0 || ops < BENCH_BATCH)
                return -1;
        } else {
            return -1;
        }
    }
    if (o->quick) {
        o->keys = 100000;
        o->big_keys = 0;
        o->ops = 200000;
        o->redis_ops = 10000;
        o->redis_batch_ops = 100000;
    }
    if (keys) {
        o->keys = keys;
        o->big_keys = 0;
    }
    if (ops) {
        o->ops = ops;
        if (o->redis_ops > ops)
            o->redis_ops = ops;
        if (o->redis_batch_ops > ops)
            o->redis_batch_ops = ops;
    }
    return 0;
}

static void on_signal(int sig)
{
    bench_redis_cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* One line per target the issue names, from the rows measured. */
static void print_summary(size_t keys)
{
    char kbuf[24];
    const char *k = bench_count_name(keys, kbuf, sizeof(kbuf));
    printf("\ntargets at %s keys, uniform get, 1 thread (reported, not "
           "asserted):\n",
           k);
    for (unsigned bi = 0; bi < 2; bi++) {
        unsigned b = bi ? BENCH_BATCH : 1;
        const bench_result *l =
            bench_results_find(keys, DIST_UNIFORM, OP_GET, b, HANDLE_LOCAL, 1);
        const bench_result *s =
            bench_results_find(keys, DIST_UNIFORM, OP_GET, b, HANDLE_SHARED, 1);
        double limit =
            b == 1 ? BENCH_TARGET_LOCAL_GET : BENCH_TARGET_LOCAL_MGET;
        if (l)
            printf("  local  %-6s %7.1f ns/op  target <= %.0f ns/op: %s\n",
                   b == 1 ? "single" : "batch", l->ns_per_op, limit,
                   l->ns_per_op <= limit ? "met" : "MISSED");
        if (l && s)
            printf("  shared %-6s %7.1f ns/op  = %.2fx local, target <= "
                   "%.1fx: %s\n",
                   b == 1 ? "single" : "batch", s->ns_per_op,
                   s->ns_per_op / l->ns_per_op, BENCH_TARGET_SHARED_RATIO,
                   s->ns_per_op / l->ns_per_op <= BENCH_TARGET_SHARED_RATIO
                       ? "met"
                       : "MISSED");
    }
}

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0) {
        usage(rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    atexit(bench_redis_cleanup);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);

    uint64_t start = bench_now_ns();
    printf("fast-cache-bench: libfastcache %s; %d-byte keys, %d-byte values; "
           "%zu timed ops per thread per case; %ld CPUs online%s\n",
           FC_VERSION_STRING, BENCH_KEY_LEN, BENCH_VAL_LEN, o.ops,
           sysconf(_SC_NPROCESSORS_ONLN), o.quick ? "; --quick" : "");
    printf("ns/op = wall time x threads / ops (per key in batches), best "
           "of %d runs; Mops/s = aggregate over threads.\nmixed = 90%% get "
           "/ 10%% set (batched: whole MGET or MSET batches). local = "
           "fc_workers with one worker per thread.\n",
           BENCH_REPS);
    printf("machine: one random dependent load in a 128 MiB buffer takes "
           "%.0f ns (a miss in cache and TLB; 1M keys of 80 B do not fit "
           "in cache)\n\n",
           bench_mem_latency_ns((size_t)128 << 20, 2000000));
    bench_print_header();
    rc = bench_fc_run(&o, o.keys, !o.gets_only);
    if (rc == 0)
        print_summary(o.keys);
    printf("\n");
    if (rc == 0 && o.peers && bench_peers_run(&o) < 0)
        rc = -1;
    if (o.peers)
        printf("\n");
    if (!o.redis)
        printf("redis: skipped (--no-redis)\n");
    else if (rc == 0 && bench_redis_run(&o) < 0)
        rc = -1;
    if (rc == 0 && o.big_keys) {
        printf("\n");
        bench_print_header();
        rc = bench_fc_run(&o, o.big_keys, false);
    }
    bench_results_reset();
    printf("\ntotal %.1f s\n", (double)(bench_now_ns() - start) / 1e9);
    return rc == 0 ? 0 : 1;
}
