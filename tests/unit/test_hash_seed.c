/*
 * test_hash_seed.c — the key hash seed (fc_options.hash_seed): a seed
 * changes where keys go, a fixed seed reproduces it, the default stays
 * fc_hash's, a random seed differs per store, and a seeded store keeps
 * every key through table resizes (which rehash with the seed) and in its
 * worker-local form routes by fc_workers_hash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fastcache.h"

#define NKEYS 20000

static fc_store *open_seeded(uint64_t seed)
{
    fc_options o = {.shards = 16, .hash_seed = seed};
    fc_store *s = NULL;
    assert_int_equal(fc_store_open(&s, &o), FC_OK);
    return s;
}

static void test_seed_changes_and_reproduces_placement(void **state)
{
    (void)state;
    fc_store *a = open_seeded(1), *b = open_seeded(1), *c = open_seeded(2);
    fc_store *d = open_seeded(0);
    size_t differ = 0;
    for (int i = 0; i < 1000; i++) {
        char k[32];
        int n = snprintf(k, sizeof(k), "key:%d", i);
        uint64_t ha = fc_store_hash(a, k, (size_t)n);
        assert_true(ha == fc_store_hash(b, k, (size_t)n));
        assert_true(fc_store_hash(d, k, (size_t)n) == fc_hash(k, (size_t)n));
        differ += (ha & 15) != (fc_store_hash(c, k, (size_t)n) & 15);
    }
    /* Independent placements agree on 1 key in 16: far from all. */
    assert_true(differ > 800);
    fc_store_close(a);
    fc_store_close(b);
    fc_store_close(c);
    fc_store_close(d);
}

static void test_random_seed_differs_per_store(void **state)
{
    (void)state;
    fc_store *a = open_seeded(FC_HASH_SEED_RANDOM);
    fc_store *b = open_seeded(FC_HASH_SEED_RANDOM);
    assert_true(fc_store_hash(a, "k", 1) != fc_store_hash(b, "k", 1));
    assert_true(fc_store_hash(a, "k", 1) != fc_hash("k", 1));
    fc_store_close(a);
    fc_store_close(b);
}

static void test_seeded_store_survives_resizes(void **state)
{
    (void)state;
    fc_store *s = open_seeded(FC_HASH_SEED_RANDOM);
    char k[32], v[32];
    for (int i = 0; i < NKEYS; i++) {
        int n = snprintf(k, sizeof(k), "k%d", i);
        int m = snprintf(v, sizeof(v), "v%d", i);
        assert_int_equal(
            fc_set(s, k, (size_t)n, v, (size_t)m, FC_TTL_NONE, 0), FC_OK);
    }
    assert_int_equal(fc_len(s), NKEYS);
    for (int i = 0; i < NKEYS; i += 7) {
        int n = snprintf(k, sizeof(k), "k%d", i);
        char out[32];
        size_t len;
        assert_int_equal(fc_get(s, k, (size_t)n, out, sizeof(out), &len),
                         FC_OK);
        int m = snprintf(v, sizeof(v), "v%d", i);
        assert_int_equal(len, (size_t)m);
        assert_memory_equal(out, v, len);
    }
    fc_store_close(s);
}

static void test_workers_route_by_workers_hash(void **state)
{
    (void)state;
    fc_options o = {.shards = 8, .hash_seed = FC_HASH_SEED_RANDOM};
    fc_workers *w = NULL;
    assert_int_equal(fc_workers_open(&w, &o, 2), FC_OK);
    for (int i = 0; i < 500; i++) {
        char k[32];
        int n = snprintf(k, sizeof(k), "key:%d", i);
        unsigned own = fc_workers_owner(w, fc_workers_hash(w, k, (size_t)n));
        unsigned other = 1 - own, got = 99;
        fc_local *l = fc_workers_local(w, own);
        assert_int_equal(fc_local_set(l, k, (size_t)n, "v", 1, FC_TTL_NONE, 0,
                                      NULL),
                         FC_OK);
        assert_int_equal(fc_local_set(fc_workers_local(w, other), k,
                                      (size_t)n, "v", 1, FC_TTL_NONE, 0, &got),
                         FC_ENOTLOCAL);
        assert_int_equal(got, own);
    }
    fc_workers_close(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_changes_and_reproduces_placement),
        cmocka_unit_test(test_random_seed_differs_per_store),
        cmocka_unit_test(test_seeded_store_survives_resizes),
        cmocka_unit_test(test_workers_route_by_workers_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
