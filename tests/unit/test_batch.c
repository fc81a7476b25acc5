/* test_batch.c — fc_mset / fc_mget / fc_mdel on the shared handle: results
 * by input index, repeated keys, keys over many shards, batches longer than
 * one internal chunk, bad items among good ones. */
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

#define K(s) (s), strlen(s)
#define MAXN 2000

struct keyset {
    char key[MAXN][24];
    char val[MAXN][24];
    fc_slice keys[MAXN];
    fc_kv kv[MAXN];
    int res[MAXN];
};

/* Fills n items "<prefix><i>" -> "v<i>". */
static void keyset_fill(struct keyset *ks, size_t n, const char *prefix)
{
    for (size_t i = 0; i < n; i++) {
        int kl = snprintf(ks->key[i], sizeof(ks->key[i]), "%s%zu", prefix, i);
        int vl = snprintf(ks->val[i], sizeof(ks->val[i]), "v%zu", i);
        ks->keys[i] = (fc_slice){ks->key[i], (size_t)kl};
        ks->kv[i] = (fc_kv){ks->keys[i], {ks->val[i], (size_t)vl}, FC_TTL_NONE};
    }
}

/* What fc_mget reported, by input index. */
struct got {
    int calls[MAXN];
    int status[MAXN];
    char val[MAXN][24];
    size_t len[MAXN];
    size_t order[MAXN]; /* indices in call order */
    size_t ncalls;
};

static void mget_fn(void *ctx, size_t index, int status, const void *value,
                    size_t len)
{
    struct got *g = ctx;
    assert_true(index < MAXN);
    g->calls[index]++;
    g->status[index] = status;
    g->len[index] = len;
    g->order[g->ncalls++] = index;
    if (status == FC_OK) {
        assert_true(len < sizeof(g->val[index]));
        memcpy(g->val[index], value, len);
    } else {
        assert_null(value);
    }
}

static int setup(void **state)
{
    fc_store *s;
    fc_options o = {.shards = 64};
    if (fc_store_open(&s, &o) != FC_OK)
        return -1;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    fc_store_close(*state);
    return 0;
}

static void run_roundtrip(fc_store *s, size_t n)
{
    struct keyset *ks = calloc(1, sizeof(*ks));
    struct got *g = calloc(1, sizeof(*g));
    assert_non_null(ks);
    assert_non_null(g);
    keyset_fill(ks, n, "key:");
    memset(ks->res, 0x7f, sizeof(ks->res));
    assert_int_equal(fc_mset(s, ks->kv, n, ks->res), FC_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ks->res[i], FC_OK);
    assert_int_equal(fc_len(s), n);
    assert_int_equal(fc_mget(s, ks->keys, n, mget_fn, g), FC_OK);
    assert_int_equal(g->ncalls, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(g->calls[i], 1);
        assert_int_equal(g->status[i], FC_OK);
        assert_int_equal(g->len[i], ks->kv[i].value.len);
        assert_memory_equal(g->val[i], ks->val[i], g->len[i]);
        /* and the single-key path agrees */
        char buf[24];
        size_t len;
        assert_int_equal(fc_get(s, ks->keys[i].data, ks->keys[i].len, buf,
                                sizeof(buf), &len),
                         FC_OK);
        assert_memory_equal(buf, ks->val[i], len);
    }
    size_t removed = 0;
    assert_int_equal(fc_mdel(s, ks->keys, n, &removed), FC_OK);
    assert_int_equal(removed, n);
    assert_int_equal(fc_len(s), 0);
    free(ks);
    free(g);
}

/* 1 item, less than a chunk, exactly a chunk (256), and several chunks. */
static void test_roundtrip_sizes(void **state)
{
    const size_t sizes[] = {1, 7, 33, 255, 256, 257, 1000, MAXN};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        run_roundtrip(*state, sizes[i]);
}

static void test_roundtrip_shard_counts(void **state)
{
    (void)state;
    const uint32_t shards[] = {1, 2, 256, 512, 4096};
    for (size_t i = 0; i < sizeof(shards) / sizeof(shards[0]); i++) {
        fc_store *s;
        fc_options o = {.shards = shards[i]};
        assert_int_equal(fc_store_open(&s, &o), FC_OK);
        run_roundtrip(s, 700);
        fc_store_close(s);
    }
}

static void test_mget_missing_mixed(void **state)
{
    fc_store *s = *state;
    struct keyset *ks = calloc(1, sizeof(*ks));
    struct got *g = calloc(1, sizeof(*g));
    keyset_fill(ks, 300, "m");
    /* Only the even items exist. */
    for (size_t i = 0; i < 300; i += 2)
        assert_int_equal(fc_set(s, ks->keys[i].data, ks->keys[i].len,
                                ks->val[i], strlen(ks->val[i]), FC_TTL_NONE, 0),
                         FC_OK);
    assert_int_equal(fc_mget(s, ks->keys, 300, mget_fn, g), FC_OK);
    for (size_t i = 0; i < 300; i++) {
        assert_int_equal(g->calls[i], 1);
        if (i % 2) {
            assert_int_equal(g->status[i], FC_ENOTFOUND);
        } else {
            assert_int_equal(g->status[i], FC_OK);
            assert_memory_equal(g->val[i], ks->val[i], strlen(ks->val[i]));
        }
    }
    size_t removed = 0;
    assert_int_equal(fc_mdel(s, ks->keys, 300, &removed), FC_OK);
    assert_int_equal(removed, 150);
    free(ks);
    free(g);
}

/* A key repeated in one batch: mset applies in input order (the last
 * wins), mget answers each occurrence, mdel counts one removal. */
static void test_duplicates(void **state)
{
    fc_store *s = *state;
    fc_kv items[5] = {
        {{"dup", 3}, {"first", 5}, FC_TTL_NONE},
        {{"other", 5}, {"x", 1}, FC_TTL_NONE},
        {{"dup", 3}, {"second", 6}, FC_TTL_NONE},
        {{"gone", 4}, {"y", 1}, FC_TTL_NONE},
        {{"gone", 4}, {"z", 1}, 0}, /* non-positive TTL: removed again */
    };
    int res[5];
    assert_int_equal(fc_mset(s, items, 5, res), FC_OK);
    char buf[16];
    size_t len;
    assert_int_equal(fc_get(s, K("dup"), buf, sizeof(buf), &len), FC_OK);
    assert_int_equal(len, 6);
    assert_memory_equal(buf, "second", 6);
    assert_int_equal(fc_exists(s, K("gone")), 0);
    assert_int_equal(fc_len(s), 2);

    struct got *g = calloc(1, sizeof(*g));
    fc_slice keys[4] = {{"dup", 3}, {"dup", 3}, {"nope", 4}, {"dup", 3}};
    assert_int_equal(fc_mget(s, keys, 4, mget_fn, g), FC_OK);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(g->calls[i], 1);
        assert_int_equal(g->status[i], i == 2 ? FC_ENOTFOUND : FC_OK);
    }
    size_t removed = 0;
    assert_int_equal(fc_mdel(s, keys, 4, &removed), FC_OK);
    assert_int_equal(removed, 1);
    free(g);
}

/* Same key many times across chunk boundaries: the last one still wins. */
static void test_duplicates_across_chunks(void **state)
{
    fc_store *s = *state;
    enum { N = 1000 };
    fc_kv *items = calloc(N, sizeof(*items));
    int *vals = calloc(N, sizeof(*vals));
    for (int i = 0; i < N; i++) {
        vals[i] = i;
        items[i] = (fc_kv){{"same", 4}, {&vals[i], sizeof(int)}, FC_TTL_NONE};
    }
    assert_int_equal(fc_mset(s, items, N, NULL), FC_OK);
    int got = -1;
    size_t len;
    assert_int_equal(fc_get(s, K("same"), &got, sizeof(got), &len), FC_OK);
    assert_int_equal(got, N - 1);
    free(items);
    free(vals);
}

/* "Calls are grouped by shard": within one chunk, the calls for a shard
 * come one after another (for each way the batch is ordered by shard). */
static void check_grouped(uint32_t shards, size_t n)
{
    fc_store *s;
    fc_options o = {.shards = shards};
    assert_int_equal(fc_store_open(&s, &o), FC_OK);
    struct keyset *ks = calloc(1, sizeof(*ks));
    struct got *g = calloc(1, sizeof(*g));
    bool *done = calloc(shards, sizeof(bool));
    keyset_fill(ks, n, "g");
    assert_int_equal(fc_mset(s, ks->kv, n, NULL), FC_OK);
    assert_int_equal(fc_mget(s, ks->keys, n, mget_fn, g), FC_OK);
    assert_int_equal(g->ncalls, n);
    uint32_t prev = UINT32_MAX;
    for (size_t c = 0; c < g->ncalls; c++) {
        size_t i = g->order[c];
        uint32_t sh = (uint32_t)(fc_hash(ks->keys[i].data, ks->keys[i].len) &
                                 (shards - 1));
        if (sh != prev) {
            assert_false(done[sh]); /* shard seen again after leaving it */
            if (prev != UINT32_MAX)
                done[prev] = true;
            prev = sh;
        }
    }
    free(done);
    free(ks);
    free(g);
    fc_store_close(s);
}

static void test_mget_grouped_by_shard(void **state)
{
    (void)state;
    check_grouped(4, 20);    /* small batch */
    check_grouped(64, 200);  /* one counting pass */
    check_grouped(512, 250); /* two passes */
    check_grouped(65536, 256);
}

static void test_bad_items(void **state)
{
    fc_store *s = *state;
    char small[1] = {'x'};
    fc_kv items[4] = {
        {{"ok1", 3}, {"a", 1}, FC_TTL_NONE},
        {{NULL, 3}, {"b", 1}, FC_TTL_NONE},
        {{"ok2", 3}, {small, FC_MAX_VALUE_LEN + 1}, FC_TTL_NONE},
        {{"ok3", 3}, {"c", 1}, INT64_MAX},
    };
    int res[4];
    /* the lowest failing index's code is returned */
    assert_int_equal(fc_mset(s, items, 4, res), FC_EINVAL);
    assert_int_equal(res[0], FC_OK);
    assert_int_equal(res[1], FC_EINVAL);
    assert_int_equal(res[2], FC_ETOOBIG);
    assert_int_equal(res[3], FC_EOVERFLOW);
    assert_int_equal(fc_len(s), 1);
    assert_int_equal(fc_mset(s, items + 2, 2, NULL), FC_ETOOBIG);

    struct got *g = calloc(1, sizeof(*g));
    fc_slice keys[3] = {{"ok1", 3}, {NULL, 5}, {small, FC_MAX_KEY_LEN + 1}};
    assert_int_equal(fc_mget(s, keys, 3, mget_fn, g), FC_OK);
    assert_int_equal(g->status[0], FC_OK);
    assert_int_equal(g->status[1], FC_EINVAL);
    assert_int_equal(g->status[2], FC_ETOOBIG);
    size_t removed = 9;
    assert_int_equal(fc_mdel(s, keys, 3, &removed), FC_EINVAL);
    assert_int_equal(removed, 1); /* the good key is still deleted */
    free(g);
}

static void test_batch_args(void **state)
{
    fc_store *s = *state;
    struct got *g = calloc(1, sizeof(*g));
    size_t removed = 5;
    assert_int_equal(fc_mset(s, NULL, 0, NULL), FC_OK);
    assert_int_equal(fc_mget(s, NULL, 0, mget_fn, g), FC_OK);
    assert_int_equal(g->ncalls, 0);
    assert_int_equal(fc_mdel(s, NULL, 0, &removed), FC_OK);
    assert_int_equal(removed, 0);
    assert_int_equal(fc_mset(s, NULL, 3, NULL), FC_EINVAL);
    assert_int_equal(fc_mget(s, NULL, 3, mget_fn, g), FC_EINVAL);
    fc_slice k = {"a", 1};
    assert_int_equal(fc_mget(s, &k, 1, NULL, g), FC_EINVAL);
    assert_int_equal(fc_mdel(s, NULL, 2, NULL), FC_EINVAL);
    assert_int_equal(fc_mdel(s, &k, 1, NULL), FC_OK);
    free(g);
}

static void test_mset_ttls(void **state)
{
    fc_store *s = *state;
    fc_kv items[3] = {
        {{"t1", 2}, {"a", 1}, 3600 * 1000},
        {{"t2", 2}, {"b", 1}, FC_TTL_NONE},
        {{"t3", 2}, {"c", 1}, -1},
    };
    assert_int_equal(fc_set(s, K("t3"), K("old"), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_mset(s, items, 3, NULL), FC_OK);
    assert_true(fc_pttl(s, K("t1")) > 0);
    assert_int_equal(fc_pttl(s, K("t2")), FC_TTL_NOEXPIRE);
    assert_int_equal(fc_pttl(s, K("t3")), FC_TTL_NOKEY);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_roundtrip_sizes),
        cmocka_unit_test(test_roundtrip_shard_counts),
        T(test_mget_missing_mixed),
        T(test_duplicates),
        T(test_duplicates_across_chunks),
        cmocka_unit_test(test_mget_grouped_by_shard),
        T(test_bad_items),
        T(test_batch_args),
        T(test_mset_ttls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
