/*
 * bench_fc.c — the libfastcache side of fast-cache-bench: loads a store
 * through the public API (shared fc_store or worker-local fc_workers), reports
 * its memory per key, and times get / set / mixed, single and batch-of-16,
 * at 1 and 2 threads.
 *
 * Threads: bench_fc_run runs on the main thread; it starts one thread per
 *   measured thread for each case and joins them before returning.
 * Worker-local runs: thread t drives only worker t's handle, with a
 *   sequence holding only keys that worker owns (fc_hash +
 *   fc_workers_owner), so no call returns FC_ENOTLOCAL.
 */
#include "bench.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "fastcache.h"

#define ZIPF_THETA 0.99

/* One measuring thread. Aligned so two threads' counters never share a
 * cache line. */
typedef struct __attribute__((aligned(64))) fc_job {
    fc_store *store; /* shared handle, or NULL */
    fc_local *local; /* worker-local handle, or NULL */
    const uint32_t *seq;
    size_t n, warm;
    enum bench_op op;
    unsigned batch;
    pthread_barrier_t *barrier;
    uint64_t t0, t1;
    uint64_t sink, misses, errors;
    uint8_t val[BENCH_VAL_LEN];
    uint8_t keys[BENCH_BATCH][BENCH_KEY_LEN];
    fc_slice slices[BENCH_BATCH];
    fc_kv kvs[BENCH_BATCH];
    int results[BENCH_BATCH];
} fc_job;

static inline void count_rc(fc_job *j, int rc)
{
    if (rc == FC_ENOTFOUND)
        j->misses++;
    else if (rc != FC_OK)
        j->errors++;
}

static inline void op_get1(fc_job *j, uint32_t idx)
{
    uint8_t key[BENCH_KEY_LEN], buf[BENCH_VAL_LEN];
    size_t len = 0;
    int rc;
    bench_key(key, idx);
    if (j->local)
        rc = fc_local_get(j->local, key, sizeof(key), buf, sizeof(buf), &len,
                          NULL);
    else
        rc = fc_get(j->store, key, sizeof(key), buf, sizeof(buf), &len);
    if (rc == FC_OK)
        j->sink += len + buf[0];
    else
        count_rc(j, rc);
}

static inline void op_set1(fc_job *j, uint32_t idx)
{
    uint8_t key[BENCH_KEY_LEN];
    int rc;
    bench_key(key, idx);
    memcpy(j->val, &idx, sizeof(idx)); /* values change, as real sets do */
    if (j->local)
        rc = fc_local_set(j->local, key, sizeof(key), j->val, sizeof(j->val),
                          FC_TTL_NONE, 0, NULL);
    else
        rc = fc_set(j->store, key, sizeof(key), j->val, sizeof(j->val),
                    FC_TTL_NONE, 0);
    count_rc(j, rc);
}

static void mget_cb(void *ctx, size_t index, int status, const void *value,
                    size_t len)
{
    fc_job *j = ctx;
    (void)index;
    if (status == FC_OK)
        j->sink += len + ((const uint8_t *)value)[0];
    else
        count_rc(j, status);
}

static inline void op_getn(fc_job *j, const uint32_t *ids)
{
    for (unsigned k = 0; k < BENCH_BATCH; k++)
        bench_key(j->keys[k], ids[k] & BENCH_SEQ_IDX);
    int rc = j->local
                 ? fc_local_mget(j->local, j->slices, BENCH_BATCH, mget_cb, j)
                 : fc_mget(j->store, j->slices, BENCH_BATCH, mget_cb, j);
    if (rc != FC_OK && rc != FC_ENOTFOUND)
        j->errors++;
}

static inline void op_setn(fc_job *j, const uint32_t *ids)
{
    for (unsigned k = 0; k < BENCH_BATCH; k++)
        bench_key(j->keys[k], ids[k] & BENCH_SEQ_IDX);
    memcpy(j->val, ids, sizeof(*ids));
    int rc = j->local ? fc_local_mset(j->local, j->kvs, BENCH_BATCH, j->results)
                      : fc_mset(j->store, j->kvs, BENCH_BATCH, j->results);
    if (rc != FC_OK)
        j->errors++;
    for (unsigned k = 0; k < BENCH_BATCH; k++)
        if (j->results[k] != FC_OK)
            j->errors++;
}

/* Single ops get one loop per op kind, so the measured loop carries no op
 * dispatch. In the mixed batch workload a whole batch is an MGET or (1 in
 * 10) an MSET, as a client sending one command kind at a time would. */
static void run_loop(fc_job *j, const uint32_t *seq, size_t n)
{
    if (j->batch == 1) {
        if (j->op == OP_GET)
            for (size_t i = 0; i < n; i++)
                op_get1(j, seq[i] & BENCH_SEQ_IDX);
        else if (j->op == OP_SET)
            for (size_t i = 0; i < n; i++)
                op_set1(j, seq[i] & BENCH_SEQ_IDX);
        else
            for (size_t i = 0; i < n; i++)
                if (seq[i] & BENCH_SEQ_SET)
                    op_set1(j, seq[i] & BENCH_SEQ_IDX);
                else
                    op_get1(j, seq[i]);
        return;
    }
    for (size_t i = 0; i + BENCH_BATCH <= n; i += BENCH_BATCH) {
        if (j->op == OP_SET || (j->op == OP_MIXED && (seq[i] & BENCH_SEQ_SET)))
            op_setn(j, seq + i);
        else
            op_getn(j, seq + i);
    }
}

static void *job_main(void *arg)
{
    fc_job *j = arg;
    run_loop(j, j->seq, j->warm); /* caches, branch predictors, page faults */
    pthread_barrier_wait(j->barrier);
    j->t0 = bench_now_ns();
    run_loop(j, j->seq, j->n);
    j->t1 = bench_now_ns();
    return NULL;
}

static void job_init(fc_job *j, size_t n)
{
    memset(j, 0, sizeof(*j));
    memset(j->val, 'v', sizeof(j->val));
    for (unsigned k = 0; k < BENCH_BATCH; k++) {
        j->slices[k] = (fc_slice){j->keys[k], BENCH_KEY_LEN};
        j->kvs[k] = (fc_kv){
            {j->keys[k], BENCH_KEY_LEN}, {j->val, BENCH_VAL_LEN}, FC_TTL_NONE};
    }
    j->n = n - n % BENCH_BATCH;
    j->warm = (n / 10 < 200000 ? n / 10 : 200000) / BENCH_BATCH * BENCH_BATCH;
}

/* The store under test: exactly one of store / workers is set. */
typedef struct fc_target {
    fc_store *store;
    fc_workers *workers;
    enum bench_handle handle;
    size_t keys;
    size_t primary_keys;
} fc_target;

/* Misses, errors and wall time of one or more runs of a case. */
typedef struct case_tally {
    uint64_t best_wall_ns, misses, errors;
    size_t ops_per_thread;
} case_tally;

/* One timed run over `threads` threads, seq[t] for thread t. Returns 0, or
 * -1 when no thread could start. */
static int run_once(const fc_target *tg, const bench_seq *sq, unsigned threads,
                    enum bench_op op, unsigned batch, case_tally *ct)
{
    fc_job jobs[BENCH_MAX_THREADS];
    pthread_t tids[BENCH_MAX_THREADS];
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, threads);
    unsigned started = 0;
    for (unsigned t = 0; t < threads; t++) {
        fc_job *j = &jobs[t];
        job_init(j, sq->n);
        j->store = tg->store;
        j->local = tg->workers ? fc_workers_local(tg->workers, t) : NULL;
        j->seq = sq->seq[t];
        j->op = op;
        j->batch = batch;
        j->barrier = &barrier;
        if (pthread_create(&tids[t], NULL, job_main, j) != 0)
            break;
        started++;
    }
    if (started < threads) {
        fprintf(stderr, "fast-cache-bench: cannot start threads\n");
        if (started == 0) {
            pthread_barrier_destroy(&barrier);
            return -1;
        }
        /* The started threads wait on a barrier that can never open. */
        exit(1);
    }
    uint64_t t0 = UINT64_MAX, t1 = 0, sink = 0;
    for (unsigned t = 0; t < threads; t++) {
        pthread_join(tids[t], NULL);
        t0 = jobs[t].t0 < t0 ? jobs[t].t0 : t0;
        t1 = jobs[t].t1 > t1 ? jobs[t].t1 : t1;
        ct->misses += jobs[t].misses;
        ct->errors += jobs[t].errors;
        sink += jobs[t].sink;
    }
    pthread_barrier_destroy(&barrier);
    if (t1 - t0 < ct->best_wall_ns)
        ct->best_wall_ns = t1 - t0;
    ct->ops_per_thread = jobs[0].n;
    bench_sink += sink;
    return 0;
}

/* Runs a case BENCH_REPS times and keeps the fastest run: on a shared
 * machine, noise only ever adds time. Prints and records the row. */
static int run_case(const fc_target *tg, const bench_seq *sq, unsigned threads,
                    enum bench_dist d, enum bench_op op, unsigned batch)
{
    case_tally ct = {UINT64_MAX, 0, 0, 0};
    for (unsigned rep = 0; rep < BENCH_REPS; rep++)
        if (run_once(tg, sq, threads, op, batch, &ct) < 0)
            return -1;
    double wall = (double)ct.best_wall_ns;
    double total = (double)ct.ops_per_thread * threads;
    bench_result r = {.keys = tg->keys,
                      .dist = d,
                      .op = op,
                      .batch = batch,
                      .handle = tg->handle,
                      .threads = threads,
                      .ns_per_op = wall * threads / total,
                      .mops = total / (wall / 1000.0)};
    bench_print_row(&r, tg->primary_keys, ct.misses, ct.errors);
    bench_results_add(&r);
    return 0;
}

static void print_memory(enum bench_handle h, const char *what, size_t keys,
                         size_t rss0, size_t rss1, size_t accounted,
                         double load_ns)
{
    char kbuf[24];
    size_t grown = rss1 > rss0 ? rss1 - rss0 : 0;
    double rss_pk = (double)grown / (double)keys;
    double acc_pk = (double)accounted / (double)keys;
    printf("memory %s keys, %s: load %.0f ns/key; RSS +%.1f MiB = %.1f "
           "B/key (overhead %.1f B/key beyond the %d B payload)",
           bench_count_name(keys, kbuf, sizeof(kbuf)), what, load_ns,
           (double)grown / 1048576.0, rss_pk, rss_pk - BENCH_PAYLOAD,
           BENCH_PAYLOAD);
    if (accounted)
        printf("; fc_store_memory %.1f B/key (overhead %.1f B/key)", acc_pk,
               acc_pk - BENCH_PAYLOAD);
    printf("\n");
    fflush(stdout);
    bench_mem_record(keys, h, rss_pk, acc_pk);
}

static int load_shared(fc_target *tg)
{
    fc_options opt = {.initial_capacity = tg->keys};
    bench_trim();
    size_t rss0 = bench_rss_bytes();
    int rc = fc_store_open(&tg->store, &opt);
    if (rc != FC_OK) {
        fprintf(stderr, "fc_store_open: %s\n", fc_strerror(rc));
        return -1;
    }
    uint8_t key[BENCH_KEY_LEN], val[BENCH_VAL_LEN];
    memset(val, 'v', sizeof(val));
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < tg->keys; i++) {
        bench_key(key, (uint32_t)i);
        rc = fc_set(tg->store, key, sizeof(key), val, sizeof(val), FC_TTL_NONE,
                    0);
        if (rc != FC_OK) {
            fprintf(stderr, "fc_set (load): %s\n", fc_strerror(rc));
            return -1;
        }
    }
    double load_ns = (double)(bench_now_ns() - t0) / (double)tg->keys;
    size_t rss1 = bench_rss_bytes();
    if (fc_len(tg->store) != tg->keys)
        fprintf(stderr, "WARNING: fc_len %zu after loading %zu keys\n",
                fc_len(tg->store), tg->keys);
    print_memory(HANDLE_SHARED, "shared handle", tg->keys, rss0, rss1,
                 fc_store_memory(tg->store), load_ns);
    return 0;
}

/* Loads a W-worker store; *owner_out gets each key's owner when W > 1
 * (the caller frees it). Memory is reported for W == 1 only: with W > 1 the
 * owner table sits inside the RSS delta. */
static int load_local(fc_target *tg, unsigned workers, uint8_t **owner_out)
{
    fc_options opt = {.initial_capacity = tg->keys};
    uint8_t *owner = NULL;
    bench_trim();
    size_t rss0 = bench_rss_bytes();
    int rc = fc_workers_open(&tg->workers, &opt, workers);
    if (rc != FC_OK) {
        fprintf(stderr, "fc_workers_open: %s\n", fc_strerror(rc));
        return -1;
    }
    if (workers > 1 && !(owner = malloc(tg->keys))) {
        fprintf(stderr, "fast-cache-bench: out of memory\n");
        return -1;
    }
    uint8_t key[BENCH_KEY_LEN], val[BENCH_VAL_LEN];
    memset(val, 'v', sizeof(val));
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < tg->keys; i++) {
        bench_key(key, (uint32_t)i);
        unsigned w = 0;
        if (owner) {
            w = fc_workers_owner(tg->workers, fc_hash(key, sizeof(key)));
            owner[i] = (uint8_t)w;
        }
        rc = fc_local_set(fc_workers_local(tg->workers, w), key, sizeof(key),
                          val, sizeof(val), FC_TTL_NONE, 0, NULL);
        if (rc != FC_OK) {
            fprintf(stderr, "fc_local_set (load): %s\n", fc_strerror(rc));
            free(owner);
            return -1;
        }
    }
    double load_ns = (double)(bench_now_ns() - t0) / (double)tg->keys;
    size_t rss1 = bench_rss_bytes();
    if (workers == 1)
        print_memory(HANDLE_LOCAL, "local handle (1 worker)", tg->keys, rss0,
                     rss1, 0, load_ns);
    *owner_out = owner;
    return 0;
}

/* Runs every (dist, op, batch) case at `threads` over seqs[dist]. */
static int run_cases(const fc_target *tg, const bench_seq seqs[DIST_COUNT],
                     unsigned threads, bool full)
{
    static const unsigned batches[] = {1, BENCH_BATCH};
    for (int d = 0; d < DIST_COUNT; d++)
        for (int op = 0; op < (full ? OP_COUNT : 1); op++)
            for (unsigned b = 0; b < 2; b++)
                if (run_case(tg, &seqs[d], threads, (enum bench_dist)d,
                             (enum bench_op)op, batches[b]) < 0)
                    return -1;
    return 0;
}

static int bench_local(const bench_opts *o, size_t keys, bool full,
                       const bench_zipf *z, unsigned workers)
{
    fc_target tg = {NULL, NULL, HANDLE_LOCAL, keys, o->keys};
    uint8_t *owner = NULL;
    bench_seq seqs[DIST_COUNT];
    memset(seqs, 0, sizeof(seqs));
    int rc = load_local(&tg, workers, &owner);
    if (rc == 0 &&
        (bench_seq_build_owned(&seqs[DIST_UNIFORM], workers, o->ops,
                               DIST_UNIFORM, keys, z, BENCH_SEED_UNIFORM,
                               owner) < 0 ||
         bench_seq_build_owned(&seqs[DIST_ZIPF], workers, o->ops, DIST_ZIPF,
                               keys, z, BENCH_SEED_ZIPF, owner) < 0)) {
        fprintf(stderr, "fast-cache-bench: out of memory (sequences)\n");
        rc = -1;
    }
    if (rc == 0)
        rc = run_cases(&tg, seqs, workers, full);
    for (int d = 0; d < DIST_COUNT; d++)
        bench_seq_free(&seqs[d]);
    free(owner);
    if (tg.workers)
        fc_workers_close(tg.workers);
    return rc;
}

static int bench_shared(const bench_opts *o, size_t keys, bool full,
                        const bench_zipf *z)
{
    fc_target tg = {NULL, NULL, HANDLE_SHARED, keys, o->keys};
    unsigned max_threads = full ? BENCH_MAX_THREADS : 1;
    bench_seq seqs[DIST_COUNT];
    memset(seqs, 0, sizeof(seqs));
    int rc = load_shared(&tg);
    if (rc == 0 &&
        (bench_seq_build(&seqs[DIST_UNIFORM], max_threads, o->ops, DIST_UNIFORM,
                         keys, z, BENCH_SEED_UNIFORM) < 0 ||
         bench_seq_build(&seqs[DIST_ZIPF], max_threads, o->ops, DIST_ZIPF, keys,
                         z, BENCH_SEED_ZIPF) < 0)) {
        fprintf(stderr, "fast-cache-bench: out of memory (sequences)\n");
        rc = -1;
    }
    for (unsigned t = 1; rc == 0 && t <= max_threads; t++)
        rc = run_cases(&tg, seqs, t, full);
    for (int d = 0; d < DIST_COUNT; d++)
        bench_seq_free(&seqs[d]);
    if (tg.store)
        fc_store_close(tg.store);
    return rc;
}

int bench_fc_run(const bench_opts *o, size_t keys, bool full)
{
    bench_zipf z;
    if (keys < 2 || keys > BENCH_SEQ_IDX ||
        bench_zipf_init(&z, keys, ZIPF_THETA) < 0) {
        fprintf(stderr, "fast-cache-bench: bad key count %zu\n", keys);
        return -1;
    }
    unsigned max_workers = full ? BENCH_MAX_THREADS : 1;
    for (unsigned w = 1; w <= max_workers; w++)
        if (bench_local(o, keys, full, &z, w) < 0)
            return -1;
    if (bench_shared(o, keys, full, &z) < 0)
        return -1;
    bench_trim();
    return 0;
}
