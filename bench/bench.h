/*
 * bench.h — shared pieces of fast-cache-bench: options, key derivation,
 * pre-computed access sequences, timing, RSS, the result table.
 *
 * Owns: the sequences and the result table it allocates (freed by the
 *   matching *_free / bench_results_reset calls).
 * Threads: everything here is called from the main thread, except the
 *   inline helpers (bench_mix64, bench_key, bench_now_ns), which any thread
 *   may call. A sequence is read-only once built, so measuring threads read
 *   it freely; bench_sink is written by the main thread after the joins.
 * Why sequences: key indices (and, for the mixed workload, the get/set
 *   choice) are drawn before any timing, so the RNG and the Zipf generator
 *   never show up in a measured loop.
 */
#ifndef FC_BENCH_H
#define FC_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define BENCH_KEY_LEN 16
#define BENCH_VAL_LEN 64
#define BENCH_PAYLOAD (BENCH_KEY_LEN + BENCH_VAL_LEN)
#define BENCH_BATCH 16
#define BENCH_MAX_THREADS 2
#define BENCH_REPS 3 /* timed runs per case; the fastest is reported */

/* Bit 31 of a sequence entry marks a set in the mixed workload. */
#define BENCH_SEQ_SET 0x80000000u
#define BENCH_SEQ_IDX 0x7fffffffu

/* Same seeds on both sides, so Redis sees fast-cache's uniform sequence. */
#define BENCH_SEED_UNIFORM 0x5eed0001u
#define BENCH_SEED_ZIPF 0x5eed0002u

/* Targets of issue 12 (ns per key, 1M keys, uniform, get; the shared
 * handle as a multiple of the local one). */
#define BENCH_TARGET_LOCAL_GET 90.0
#define BENCH_TARGET_LOCAL_MGET 35.0
#define BENCH_TARGET_SHARED_RATIO 1.3

enum bench_dist { DIST_UNIFORM, DIST_ZIPF, DIST_COUNT };
enum bench_op { OP_GET, OP_SET, OP_MIXED, OP_COUNT };
enum bench_handle { HANDLE_LOCAL, HANDLE_SHARED, HANDLE_COUNT };

typedef struct bench_opts {
    size_t keys;            /* primary key count (full case matrix) */
    size_t big_keys;        /* reduced matrix at this count; 0 = none */
    size_t ops;             /* timed operations per thread per case */
    size_t redis_ops;       /* timed single-op round trips against Redis */
    size_t redis_batch_ops; /* timed keys in MGET/MSET batches */
    bool redis;
    bool peers;     /* glib, uthash, ck_ht side by side (bench_peers.c) */
    bool gets_only; /* the reduced matrix (1-thread gets) at o->keys */
    bool quick;
} bench_opts;

/* One case of the matrix and its measurement. */
typedef struct bench_result {
    size_t keys;
    enum bench_dist dist;
    enum bench_op op;
    unsigned batch;
    enum bench_handle handle;
    unsigned threads;
    double ns_per_op; /* wall time x threads / operations */
    double mops;      /* aggregate operations per microsecond */
} bench_result;

/* Per-thread access sequences: seq[t] holds n entries for thread t. */
typedef struct bench_seq {
    unsigned threads;
    size_t n;
    uint32_t *seq[BENCH_MAX_THREADS];
} bench_seq;

/* Zipf(theta) over [0, n), after Gray et al., "Quickly generating
 * billion-record synthetic databases" (the generator YCSB uses). */
typedef struct bench_zipf {
    uint64_t n;
    double theta, alpha, zetan, eta, half_pow_theta;
} bench_zipf;

/* splitmix64 state for drawing sequences (never used while timing). */
typedef struct bench_rng {
    uint64_t s;
} bench_rng;

/* Every value read in a timed loop is summed into a per-thread counter that
 * ends up here: a volatile store the compiler cannot prove dead, so no read
 * is optimised away. */
extern volatile uint64_t bench_sink;

static inline uint64_t bench_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Key i: 16 bytes, unique per i (its low half is i), spread by the high half
 * so consecutive indices do not share a prefix. Computed, not stored: a key
 * array of 10M x 16 bytes would add a cache miss per operation. */
static inline void bench_key(uint8_t out[BENCH_KEY_LEN], uint32_t i)
{
    uint64_t hi = bench_mix64(i), lo = i;
    memcpy(out, &hi, 8);
    memcpy(out + 8, &lo, 8);
}

static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t bench_rng_next(bench_rng *r);
double bench_rng_unit(bench_rng *r); /* [0, 1) */

int bench_zipf_init(bench_zipf *z, uint64_t n, double theta);
uint64_t bench_zipf_next(const bench_zipf *z, bench_rng *r);

/* Draws one key index (uniform or Zipf over keys) and, with probability
 * 1/10, sets BENCH_SEQ_SET on it. */
uint32_t bench_draw(enum bench_dist d, size_t keys, const bench_zipf *z,
                    bench_rng *r);

/* Fills threads x n independent entries. Returns 0 or -1 on OOM. */
int bench_seq_build(bench_seq *s, unsigned threads, size_t n, enum bench_dist d,
                    size_t keys, const bench_zipf *z, uint64_t seed);
/* As bench_seq_build, but thread t gets only keys with owner(idx) == t, so
 * that each thread drives only the keys its worker owns. owner is
 * per-key-index (precomputed by the caller). */
int bench_seq_build_owned(bench_seq *s, unsigned threads, size_t n,
                          enum bench_dist d, size_t keys, const bench_zipf *z,
                          uint64_t seed, const uint8_t *owner);
void bench_seq_free(bench_seq *s);

/* Resident set size of this process in bytes (/proc/self/statm), 0 when
 * unreadable. */
size_t bench_rss_bytes(void);
/* Average time of one dependent load at a random place in a buffer of
 * `bytes` (a pointer chase): what one cache-and-TLB miss costs on this
 * machine, the floor for a get of an uncached key. 0 on OOM. */
double bench_mem_latency_ns(size_t bytes, size_t loads);
/* Hands freed heap memory back to the kernel so RSS deltas are honest. */
void bench_trim(void);

const char *bench_dist_name(enum bench_dist d);
const char *bench_op_name(enum bench_op o);
const char *bench_handle_name(enum bench_handle h);
/* "100k", "1M", "10M", or the plain number. */
const char *bench_count_name(size_t n, char *buf, size_t cap);

/* Result table (main thread only). */
void bench_results_add(const bench_result *r);
const bench_result *bench_results_find(size_t keys, enum bench_dist d,
                                       enum bench_op o, unsigned batch,
                                       enum bench_handle h, unsigned threads);
void bench_results_reset(void);

/* Memory per key measured after a load (main thread only); accounted is
 * fc_store_memory()/keys, 0 when the handle has no such figure. */
void bench_mem_record(size_t keys, enum bench_handle h, double rss_per_key,
                      double accounted_per_key);
bool bench_mem_find(size_t keys, enum bench_handle h, double *rss_per_key,
                    double *accounted_per_key);

/* Prints the column header and one row per result, with the target column
 * filled for the cases the issue names (primary_keys, uniform, get). */
void bench_print_header(void);
void bench_print_row(const bench_result *r, size_t primary_keys,
                     uint64_t misses, uint64_t errors);

/* --- fast-cache runs (bench_fc.c) --- */
/* Runs the matrix for one key count: full when `full`, else the reduced set
 * (get, uniform+zipf, single+batch, local+shared, 1 thread). Returns 0, or
 * -1 when the library failed (message printed). */
int bench_fc_run(const bench_opts *o, size_t keys, bool full);

/* --- in-process peers (bench_peers.c) --- */
/* Loads o->keys keys into GLib's GHashTable (a mutex per shard), uthash and
 * ck_ht in turn, times 1-thread uniform gets, and prints them next to the
 * fast-cache local and shared results already in the table. Returns 0, or
 * -1 on OOM (message printed). */
int bench_peers_run(const bench_opts *o);

/* --- Redis side by side (bench_redis.c) --- */
/* Starts redis-server on a unix socket, loads o->keys keys, runs get/set
 * single and batch-of-16 uniform, prints ratios against the fast-cache
 * results already in the table, and stops the server. Returns 0, or -1 on
 * failure (message printed; the server is stopped either way). */
int bench_redis_run(const bench_opts *o);
/* Kills a still-running redis-server (for exit paths and signals). */
void bench_redis_cleanup(void);

#endif /* FC_BENCH_H */
