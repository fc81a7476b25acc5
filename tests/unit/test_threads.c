/* test_threads.c — concurrency: 4 threads on the shared handle (disjoint
 * keys, shared counters, batches, expiry running alongside) and worker
 * threads each driving its own fc_local handle. Also run under TSan
 * (make tsan). Loop counts stay small: TSan is slow and cores are few. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fastcache.h"

#define NT 4
#define PER_THREAD 2000
#define COUNTERS 8
#define INCRS 2000

struct targ {
    fc_store *s;
    int id;
    int errors; /* checked by the main thread: cmocka asserts are not
                   thread-safe */
};

static void *disjoint_main(void *p)
{
    struct targ *a = p;
    char key[32], buf[32];
    size_t len;
    for (int i = 0; i < PER_THREAD; i++) {
        int kl = snprintf(key, sizeof(key), "t%d:%d", a->id, i);
        int val = a->id * 1000000 + i;
        if (fc_set(a->s, key, (size_t)kl, &val, sizeof(val), FC_TTL_NONE, 0))
            a->errors++;
        if (fc_get(a->s, key, (size_t)kl, buf, sizeof(buf), &len) ||
            len != sizeof(val) || memcmp(buf, &val, len) != 0)
            a->errors++;
        if (i % 4 == 0 && fc_del(a->s, key, (size_t)kl) != FC_OK)
            a->errors++;
    }
    /* everything this thread kept is still there, untouched by others */
    for (int i = 0; i < PER_THREAD; i++) {
        int kl = snprintf(key, sizeof(key), "t%d:%d", a->id, i);
        int rc = fc_get(a->s, key, (size_t)kl, buf, sizeof(buf), &len);
        int val = a->id * 1000000 + i;
        if (i % 4 == 0 ? rc != FC_ENOTFOUND
                       : rc != FC_OK || memcmp(buf, &val, sizeof(val)))
            a->errors++;
    }
    return NULL;
}

static void *counter_main(void *p)
{
    struct targ *a = p;
    char key[16];
    int64_t r;
    for (int i = 0; i < INCRS; i++) {
        int kl = snprintf(key, sizeof(key), "ctr%d", (i + a->id) % COUNTERS);
        if (fc_incrby(a->s, key, (size_t)kl, 1 + a->id, &r) != FC_OK)
            a->errors++;
    }
    return NULL;
}

/* Overlapping keys through every kind of call; only the absence of errors
 * other than the expected ones (and of TSan reports) is checked here. */
static void mget_nop(void *ctx, size_t i, int status, const void *v, size_t len)
{
    int *errors = ctx;
    if (status != FC_OK && status != FC_ENOTFOUND)
        (*errors)++;
    if (status == FC_OK && len != 2)
        (*errors)++;
    (void)i;
    (void)v;
}

static void *mixed_main(void *p)
{
    struct targ *a = p;
    char keys[16][8];
    fc_slice sl[16];
    fc_kv kv[16];
    for (int i = 0; i < 16; i++) {
        int kl =
            snprintf(keys[i], sizeof(keys[i]), "m%d", (i * 7 + a->id) % 24);
        sl[i] = (fc_slice){keys[i], (size_t)kl};
        kv[i] = (fc_kv){sl[i], {"ab", 2}, i % 3 ? FC_TTL_NONE : 1};
    }
    for (int round = 0; round < 300; round++) {
        size_t removed;
        void *old = NULL;
        size_t old_len;
        if (fc_mset(a->s, kv, 16, NULL) != FC_OK)
            a->errors++;
        if (fc_mget(a->s, sl, 16, mget_nop, &a->errors) != FC_OK)
            a->errors++;
        int rc = fc_set_get(a->s, sl[round % 16].data, sl[round % 16].len, "cd",
                            2, 5, 0, &old, &old_len);
        if (rc != FC_OK || (old && old_len != 2))
            a->errors++;
        fc_free(old);
        fc_pexpire(a->s, sl[round % 5].data, sl[round % 5].len, 2);
        fc_persist(a->s, sl[round % 7].data, sl[round % 7].len);
        (void)fc_pttl(a->s, sl[round % 3].data, sl[round % 3].len);
        if (round % 50 == 0) {
            (void)fc_len(a->s);
            (void)fc_store_memory(a->s);
            (void)fc_tick(a->s, 100);
        }
        if (fc_mdel(a->s, sl + round % 8, 4, &removed) != FC_OK)
            a->errors++;
    }
    return NULL;
}

static void run_threads(fc_store *s, void *(*fn)(void *), struct targ *a)
{
    pthread_t th[NT];
    for (int i = 0; i < NT; i++) {
        a[i] = (struct targ){s, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, fn, &a[i]), 0);
    }
    for (int i = 0; i < NT; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(a[i].errors, 0);
    }
}

static void test_shared_disjoint(void **state)
{
    (void)state;
    fc_store *s;
    fc_options o = {.shards = 16};
    assert_int_equal(fc_store_open(&s, &o), FC_OK);
    struct targ a[NT];
    run_threads(s, disjoint_main, a);
    assert_int_equal(fc_len(s), NT * (PER_THREAD - PER_THREAD / 4));
    fc_store_close(s);
}

static void test_shared_counters(void **state)
{
    (void)state;
    fc_store *s;
    fc_options o = {.shards = 4};
    assert_int_equal(fc_store_open(&s, &o), FC_OK);
    struct targ a[NT];
    run_threads(s, counter_main, a);
    /* thread t adds 1 + t, INCRS times, spread evenly over the counters */
    int64_t want = 0, total = 0;
    for (int t = 0; t < NT; t++)
        want += (int64_t)(1 + t) * INCRS;
    char key[16];
    for (int c = 0; c < COUNTERS; c++) {
        int64_t r;
        int kl = snprintf(key, sizeof(key), "ctr%d", c);
        assert_int_equal(fc_incrby(s, key, (size_t)kl, 0, &r), FC_OK);
        total += r;
    }
    assert_true(total == want);
    fc_store_close(s);
}

static int mutations;

static void count_mut(void *ctx, const fc_mutation *m)
{
    (void)ctx;
    (void)m;
    mutations++; /* serialised by the shard lock (one-shard store) */
}

static void test_shared_mixed_with_expiry(void **state)
{
    (void)state;
    fc_store *s;
    fc_options o = {.shards = 8};
    assert_int_equal(fc_store_open(&s, &o), FC_OK);
    assert_int_equal(fc_start_expiry_thread(s, 1), FC_OK);
    struct targ a[NT];
    run_threads(s, mixed_main, a);
    fc_stop_expiry_thread(s);
    assert_true(fc_len(s) <= 24);
    fc_store_close(s);
}

/* The observer runs under the shard lock, so with one shard every call to
 * it is serialised and a plain counter must see every mutation. */
static void test_observer_serialised(void **state)
{
    (void)state;
    fc_store *s;
    fc_options o = {.shards = 1};
    assert_int_equal(fc_store_open(&s, &o), FC_OK);
    mutations = 0;
    fc_store_set_observer(s, count_mut, NULL);
    struct targ a[NT];
    run_threads(s, counter_main, a);
    assert_int_equal(mutations, NT * INCRS);
    assert_true(fc_store_shard_seq(s, 0) == (uint64_t)(NT * INCRS));
    fc_store_close(s);
}

/* Worker threads, each on its own handle, routing nothing: every thread
 * writes only the keys it owns, and finds them all afterwards. */
struct warg {
    fc_workers *w;
    unsigned id;
    size_t owned;
    int errors;
};

static void *worker_main(void *p)
{
    struct warg *a = p;
    fc_local *l = fc_workers_local(a->w, a->id);
    char key[32];
    for (int i = 0; i < 3000; i++) {
        int kl = snprintf(key, sizeof(key), "w%d", i);
        unsigned owner = 999;
        int rc = fc_local_set(l, key, (size_t)kl, &i, sizeof(i), FC_TTL_NONE, 0,
                              &owner);
        bool mine = fc_workers_owner(a->w, fc_hash(key, (size_t)kl)) == a->id;
        if (mine ? rc != FC_OK : rc != FC_ENOTLOCAL || owner == a->id)
            a->errors++;
        a->owned += mine;
    }
    for (int i = 0; i < 3000; i++) {
        int kl = snprintf(key, sizeof(key), "w%d", i);
        const void *v;
        size_t len;
        int rc = fc_local_get_ref(l, key, (size_t)kl, &v, &len, NULL);
        if (rc == FC_OK && (len != sizeof(i) || memcmp(v, &i, len)))
            a->errors++;
        if (rc != FC_OK && rc != FC_ENOTLOCAL)
            a->errors++;
        int64_t r;
        if (rc == FC_OK &&
            fc_local_incrby(l, key, (size_t)kl, 1, &r, NULL) != FC_ENOTINT)
            a->errors++;
    }
    (void)fc_local_tick(l, 1000);
    if (fc_local_len(l) != a->owned)
        a->errors++;
    return NULL;
}

static void workers_case(unsigned nw)
{
    fc_workers *w;
    assert_int_equal(fc_workers_open(&w, NULL, nw), FC_OK);
    pthread_t th[4];
    struct warg a[4];
    for (unsigned i = 0; i < nw; i++) {
        a[i] = (struct warg){w, i, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &a[i]), 0);
    }
    size_t total = 0;
    for (unsigned i = 0; i < nw; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(a[i].errors, 0);
        total += a[i].owned;
    }
    assert_int_equal(total, 3000); /* each key owned by exactly one worker */
    fc_workers_close(w);
}

static void test_workers_threads(void **state)
{
    (void)state;
    workers_case(2);
    workers_case(3);
    workers_case(4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_disjoint),
        cmocka_unit_test(test_shared_counters),
        cmocka_unit_test(test_shared_mixed_with_expiry),
        cmocka_unit_test(test_observer_serialised),
        cmocka_unit_test(test_workers_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
