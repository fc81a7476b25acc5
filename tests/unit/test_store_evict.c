/*
 * test_store_evict.c — the library's memory limit through fc_options: the
 * eviction callback names keys that are gone, memory stays within the
 * limit, noeviction refuses writes while reads and deletes work, LFU keeps
 * the frequent keys, a lowered limit evicts down, worker-local handles
 * share the limit, bad options are refused; fc_store_stats agrees with the
 * single-figure getters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>

#include "fastcache.h"

#define K(s) (s), strlen(s)
#define SHARDS 4
#define LIMIT (256u << 10)
/* The total is exact to 4 KiB per shard; one write may overshoot. */
#define SLACK (SHARDS * 4096u + 1024u)

typedef struct drops {
    int memory, expired;
} drops;

static void on_evict(void *ctx, const void *key, size_t len, int reason)
{
    drops *d = ctx;
    (void)key;
    (void)len;
    if (reason == FC_EVICT_MEMORY)
        d->memory++;
    else if (reason == FC_EVICT_EXPIRED)
        d->expired++;
}

static fc_store *open_with(int policy, size_t limit, drops *d)
{
    fc_options o = {.shards = SHARDS,
                    .maxmemory = limit,
                    .maxmemory_policy = policy,
                    .on_evict = d ? on_evict : NULL,
                    .on_evict_ctx = d};
    fc_store *s = NULL;
    assert_int_equal(fc_store_open(&s, &o), FC_OK);
    return s;
}

static int put(fc_store *s, int i, int64_t ttl)
{
    char k[32], v[200];
    memset(v, 'v', sizeof(v));
    int n = snprintf(k, sizeof(k), "key:%06d", i);
    return fc_set(s, k, (size_t)n, v, sizeof(v), ttl, 0);
}

static bool has(fc_store *s, int i)
{
    char k[32];
    int n = snprintf(k, sizeof(k), "key:%06d", i);
    return fc_exists(s, k, (size_t)n) == 1;
}

static void test_callback_and_bound(void **state)
{
    drops d = {0};
    (void)state;
    fc_store *s = open_with(FC_POLICY_CLOCK, LIMIT, &d);
    size_t peak = 0;
    for (int i = 0; i < 20000; i++) {
        assert_int_equal(put(s, i, FC_TTL_NONE), FC_OK);
        size_t m = fc_store_memory(s);
        peak = m > peak ? m : peak;
    }
    assert_true(peak <= LIMIT + SLACK);
    assert_true(d.memory > 10000);
    assert_int_equal((uint64_t)d.memory, fc_store_evicted(s));
    assert_int_equal(fc_len(s) + (size_t)d.memory, 20000);
    /* fc_store_stats reads the same counters. */
    fc_stats st;
    assert_int_equal(fc_store_stats(s, &st), FC_OK);
    assert_int_equal(st.keys, fc_len(s));
    assert_int_equal(st.evicted, (uint64_t)d.memory);
    assert_int_equal(st.used_memory, fc_store_memory(s));
    assert_int_equal(st.maxmemory, LIMIT);
    /* The budget takes its total (and so the peak) in steps of at most
     * 4 KiB per shard: within SLACK of what fc_store_memory showed. */
    assert_true(st.peak_memory >= st.used_memory);
    assert_true(st.peak_memory + SLACK >= peak);
    assert_true(st.peak_memory <= LIMIT + SLACK);
    assert_int_equal(st.expires, 0);
    assert_int_equal(put(s, 900000, 100000), FC_OK); /* a TTL of 100 s */
    assert_int_equal(fc_store_stats(s, &st), FC_OK);
    assert_int_equal(st.expires, 1);
    assert_int_equal(st.keys, fc_len(s));
    assert_int_equal(fc_store_stats(NULL, &st), FC_EINVAL);
    assert_int_equal(fc_store_stats(s, NULL), FC_EINVAL);
    /* The keys the callback named are the ones missing. */
    int missing = 0;
    for (int i = 0; i < 20000; i++)
        missing += !has(s, i);
    assert_int_equal(missing, d.memory);
    fc_store_close(s);
}

typedef struct last_key {
    char key[32];
    int n;
} last_key;

static void remember(void *ctx, const void *key, size_t len, int reason)
{
    last_key *l = ctx;
    assert_int_equal(reason, FC_EVICT_MEMORY);
    snprintf(l->key, sizeof(l->key), "%.*s", (int)len, (const char *)key);
    l->n++;
}

static void test_callback_names_victim(void **state)
{
    last_key l = {"", 0};
    (void)state;
    fc_options o = {.shards = 1,
                    .maxmemory_policy = FC_POLICY_VOLATILE_TTL,
                    .on_evict = remember,
                    .on_evict_ctx = &l};
    fc_store *s = NULL;
    assert_int_equal(fc_store_open(&s, &o), FC_OK);
    assert_int_equal(fc_set(s, K("late"), K("v"), 100000, 0), FC_OK);
    assert_int_equal(fc_set(s, K("soon"), K("v"), 50000, 0), FC_OK);
    assert_int_equal(fc_set(s, K("never"), K("v"), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_store_set_maxmemory(s, fc_store_memory(s) - 1), FC_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.key, "soon");
    assert_int_equal(fc_exists(s, K("soon")), 0);
    assert_int_equal(fc_exists(s, K("late")), 1);
    assert_int_equal(fc_exists(s, K("never")), 1);
    fc_store_close(s);
}

static void test_noeviction(void **state)
{
    (void)state;
    fc_store *s = open_with(FC_POLICY_NOEVICTION, LIMIT, NULL);
    int i = 0, rc;
    while ((rc = put(s, i, FC_TTL_NONE)) == FC_OK)
        i++;
    assert_int_equal(rc, FC_ENOMEM);
    assert_true(i > 100);
    assert_true(fc_store_memory(s) <= LIMIT + SLACK);
    assert_int_equal(fc_store_evicted(s), 0);
    char buf[256];
    size_t len = 0;
    char k[32];
    snprintf(k, sizeof(k), "key:%06d", 0);
    assert_int_equal(fc_get(s, k, strlen(k), buf, sizeof(buf), &len), FC_OK);
    assert_int_equal(len, 200);
    /* Deletes work and make room. */
    for (int j = 0; j < 64; j++) {
        snprintf(k, sizeof(k), "key:%06d", j);
        assert_int_equal(fc_del(s, k, strlen(k)), FC_OK);
    }
    assert_int_equal(put(s, i, FC_TTL_NONE), FC_OK);
    fc_store_close(s);
}

static void test_lfu_keeps_frequent(void **state)
{
    (void)state;
    /* 10 samples: with 5, a draw of only frequent keys (a tenth of the
     * cache here) happens about once in 10^5 evictions. */
    fc_options o = {.shards = SHARDS,
                    .maxmemory = LIMIT,
                    .maxmemory_policy = FC_POLICY_ALLKEYS_LFU,
                    .maxmemory_samples = 10};
    fc_store *s = NULL;
    assert_int_equal(fc_store_open(&s, &o), FC_OK);
    for (int i = 0; i < 100; i++)
        assert_int_equal(put(s, i, FC_TTL_NONE), FC_OK);
    for (int r = 0; r < 30; r++)
        for (int i = 0; i < 100; i++)
            assert_true(has(s, i));
    for (int i = 100; i < 20000; i++)
        assert_int_equal(put(s, i, FC_TTL_NONE), FC_OK);
    assert_true(fc_store_evicted(s) > 10000);
    int kept = 0;
    for (int i = 0; i < 100; i++)
        kept += has(s, i);
    assert_int_equal(kept, 100);
    fc_store_close(s);
}

static void test_lower_limit(void **state)
{
    (void)state;
    fc_store *s = open_with(FC_POLICY_ALLKEYS_RANDOM, 0, NULL);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(put(s, i, FC_TTL_NONE), FC_OK);
    size_t full = fc_store_memory(s);
    assert_int_equal(fc_store_set_maxmemory(s, full / 4), FC_OK);
    assert_true(fc_store_memory(s) <= full / 4 + SLACK);
    assert_true(fc_len(s) < 5000 / 4 + 500);
    assert_int_equal(fc_store_set_maxmemory(s, 0), FC_OK);
    for (int i = 0; i < 5000; i++) /* no limit again */
        assert_int_equal(put(s, i, FC_TTL_NONE), FC_OK);
    assert_int_equal(fc_len(s), 5000);
    fc_store_close(s);
}

static void test_workers_share_limit(void **state)
{
    (void)state;
    fc_options o = {.shards = SHARDS, .maxmemory = LIMIT};
    fc_workers *w = NULL;
    assert_int_equal(fc_workers_open(&w, &o, 2), FC_OK);
    char k[32], v[200];
    memset(v, 'v', sizeof(v));
    int done = 0;
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(k, sizeof(k), "key:%06d", i);
        for (unsigned x = 0; x < 2; x++) {
            int rc = fc_local_set(fc_workers_local(w, x), k, (size_t)n, v,
                                  sizeof(v), FC_TTL_NONE, 0, NULL);
            if (rc == FC_OK)
                done++;
            else
                assert_int_equal(rc, FC_ENOTLOCAL);
        }
    }
    assert_int_equal(done, 20000);
    size_t keys = fc_local_len(fc_workers_local(w, 0)) +
                  fc_local_len(fc_workers_local(w, 1));
    assert_true(keys < 20000 / 5);
    fc_workers_close(w);
}

/* Threads writing at once through one shared handle: the shared total
 * stays exact enough for the limit, and the callback (under each shard's
 * lock) counts every eviction once. */
typedef struct writer {
    fc_store *s;
    int id;
} writer;

static _Atomic int evicted_cb;

static void count_evict(void *ctx, const void *key, size_t len, int reason)
{
    (void)ctx;
    (void)key;
    (void)len;
    if (reason == FC_EVICT_MEMORY)
        atomic_fetch_add(&evicted_cb, 1);
}

static void *write_many(void *arg)
{
    writer *w = arg;
    for (int i = 0; i < 10000; i++)
        if (put(w->s, w->id * 1000000 + i, FC_TTL_NONE) != FC_OK)
            return (void *)1;
    return NULL;
}

static void test_threads_share_limit(void **state)
{
    (void)state;
    fc_options o = {.shards = SHARDS,
                    .maxmemory = LIMIT,
                    .maxmemory_policy = FC_POLICY_ALLKEYS_LRU,
                    .on_evict = count_evict};
    fc_store *s = NULL;
    assert_int_equal(fc_store_open(&s, &o), FC_OK);
    pthread_t t[4];
    writer w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (writer){s, i};
        assert_int_equal(pthread_create(&t[i], NULL, write_many, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        assert_null(rc);
    }
    assert_true(fc_store_memory(s) <= LIMIT + SLACK);
    assert_int_equal((uint64_t)atomic_load(&evicted_cb), fc_store_evicted(s));
    assert_int_equal(fc_len(s) + fc_store_evicted(s), 40000);
    fc_store_close(s);
}

static void test_bad_options(void **state)
{
    (void)state;
    fc_store *s = NULL;
    fc_options o = {.maxmemory_policy = 99};
    assert_int_equal(fc_store_open(&s, &o), FC_EINVAL);
    o = (fc_options){.maxmemory_samples = 65};
    assert_int_equal(fc_store_open(&s, &o), FC_EINVAL);
    fc_workers *w = NULL;
    o = (fc_options){.maxmemory_policy = -1};
    assert_int_equal(fc_workers_open(&w, &o, 1), FC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_callback_and_bound),
        cmocka_unit_test(test_callback_names_victim),
        cmocka_unit_test(test_noeviction),
        cmocka_unit_test(test_lfu_keeps_frequent),
        cmocka_unit_test(test_lower_limit),
        cmocka_unit_test(test_workers_share_limit),
        cmocka_unit_test(test_threads_share_limit),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
