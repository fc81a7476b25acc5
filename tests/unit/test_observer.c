/* test_observer.c — the mutation observer through the public API: every
 * change is reported once, with the right kind, key, value and expiry, on
 * the key's shard, with that shard's sequence number going up by one;
 * reads and failed conditions report nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fastcache.h"

#define K(s) (s), strlen(s)
#define MAXLOG 4096
#define MAXSHARDS 64

struct rec {
    fc_mutation_kind kind;
    uint32_t shard;
    uint64_t seq;
    char key[32];
    size_t key_len;
    char val[32];
    size_t val_len;
    bool has_val;
    int64_t expire_at;
};

struct log {
    struct rec r[MAXLOG];
    size_t n;
    uint64_t last_seq[MAXSHARDS];
    uint32_t mask;
    int bad; /* inconsistencies seen inside the callback */
};

static void observe(void *ctx, const fc_mutation *m)
{
    struct log *lg = ctx;
    if (lg->n == MAXLOG || m->shard >= MAXSHARDS) {
        lg->bad++;
        return;
    }
    /* per shard: exactly one more than the last one seen */
    if (m->seq != lg->last_seq[m->shard] + 1)
        lg->bad++;
    lg->last_seq[m->shard] = m->seq;
    if (m->key && (fc_hash(m->key, m->key_len) & lg->mask) != m->shard)
        lg->bad++;
    struct rec *r = &lg->r[lg->n++];
    memset(r, 0, sizeof(*r));
    r->kind = m->kind;
    r->shard = m->shard;
    r->seq = m->seq;
    r->key_len = m->key_len;
    if (m->key)
        memcpy(r->key, m->key, m->key_len < 32 ? m->key_len : 32);
    r->has_val = m->value != NULL;
    r->val_len = m->value_len;
    if (m->value)
        memcpy(r->val, m->value, m->value_len < 32 ? m->value_len : 32);
    r->expire_at = m->expire_at_ms;
}

static struct log lg;

static fc_store *open_observed(uint32_t shards)
{
    fc_store *s;
    fc_options o = {.shards = shards};
    assert_int_equal(fc_store_open(&s, &o), FC_OK);
    memset(&lg, 0, sizeof(lg));
    lg.mask = shards - 1;
    fc_store_set_observer(s, observe, &lg);
    return s;
}

/* The last record must be `kind` on key; returns it. */
static const struct rec *expect_last(fc_mutation_kind kind, const char *key)
{
    assert_true(lg.n > 0);
    const struct rec *r = &lg.r[lg.n - 1];
    assert_int_equal(r->kind, kind);
    assert_int_equal(r->key_len, strlen(key));
    assert_memory_equal(r->key, key, r->key_len);
    return r;
}

static void test_each_kind(void **state)
{
    (void)state;
    fc_store *s = open_observed(8);
    int64_t before = fc_now_ms();
    size_t n = 0;

    assert_int_equal(fc_set(s, K("k"), K("v1"), FC_TTL_NONE, 0), FC_OK);
    const struct rec *r = expect_last(FC_MUT_SET, "k");
    assert_true(r->has_val);
    assert_memory_equal(r->val, "v1", 2);
    assert_int_equal(r->expire_at, 0);
    assert_int_equal(lg.n, ++n);

    assert_int_equal(fc_set(s, K("k"), K("v2"), 10000, 0), FC_OK);
    r = expect_last(FC_MUT_SET, "k");
    assert_true(r->expire_at >= before + 10000);
    assert_true(r->expire_at <= fc_now_ms() + 10000);
    assert_int_equal(lg.n, ++n);

    assert_int_equal(fc_pexpire(s, K("k"), 50000), FC_OK);
    r = expect_last(FC_MUT_EXPIRE, "k");
    assert_true(r->expire_at >= before + 50000);
    assert_int_equal(lg.n, ++n);

    assert_int_equal(fc_persist(s, K("k")), FC_OK);
    r = expect_last(FC_MUT_EXPIRE, "k");
    assert_int_equal(r->expire_at, 0);
    assert_int_equal(lg.n, ++n);

    int64_t v;
    assert_int_equal(fc_incrby(s, K("n"), 5, &v), FC_OK);
    r = expect_last(FC_MUT_SET, "n");
    assert_memory_equal(r->val, "5", 1);
    assert_int_equal(lg.n, ++n);

    assert_int_equal(fc_del(s, K("k")), FC_OK);
    r = expect_last(FC_MUT_DEL, "k");
    assert_false(r->has_val);
    assert_int_equal(lg.n, ++n);

    assert_int_equal(fc_set(s, K("n"), K("x"), 0, 0), FC_OK); /* deletes */
    expect_last(FC_MUT_DEL, "n");
    assert_int_equal(lg.n, ++n);

    assert_int_equal(fc_set(s, K("e"), K("v"), 1, 0), FC_OK);
    assert_int_equal(lg.n, ++n);
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(fc_exists(s, K("e")), 0); /* lazy expiry */
    expect_last(FC_MUT_EXPIRED, "e");
    assert_int_equal(lg.n, ++n);

    assert_int_equal(lg.bad, 0);
    fc_store_close(s);
}

static void test_no_mutation_no_report(void **state)
{
    (void)state;
    fc_store *s = open_observed(4);
    char buf[8];
    size_t len;
    int64_t v;
    assert_int_equal(fc_set(s, K("k"), K("v"), FC_TTL_NONE, 0), FC_OK);
    size_t n = lg.n;
    uint32_t sh = lg.r[0].shard;
    uint64_t seq = fc_store_shard_seq(s, sh);
    assert_true(seq == 1);
    assert_int_equal(fc_set(s, K("k"), K("w"), FC_TTL_NONE, FC_SET_NX),
                     FC_EEXISTS);
    assert_int_equal(fc_set(s, K("q"), K("w"), FC_TTL_NONE, FC_SET_XX),
                     FC_ENOTSET);
    assert_int_equal(fc_get(s, K("k"), buf, sizeof(buf), &len), FC_OK);
    assert_int_equal(fc_exists(s, K("k")), 1);
    assert_int_equal(fc_pttl(s, K("k")), FC_TTL_NOEXPIRE);
    assert_int_equal(fc_persist(s, K("k")), FC_ENOTFOUND);
    assert_int_equal(fc_del(s, K("nope")), FC_ENOTFOUND);
    assert_int_equal(fc_pexpire(s, K("nope"), 100), FC_ENOTFOUND);
    assert_int_equal(fc_incrby(s, K("k"), 1, &v), FC_ENOTINT);
    assert_int_equal(fc_set(s, K("k"), K("v"), INT64_MAX, 0), FC_EOVERFLOW);
    assert_int_equal(lg.n, n);
    assert_true(fc_store_shard_seq(s, sh) == seq);
    assert_int_equal(lg.bad, 0);
    fc_store_close(s);
}

/* Batches and clear, over many shards: the seq of every shard matches
 * what the observer saw, record by record. */
static void test_batches_and_clear(void **state)
{
    (void)state;
    fc_store *s = open_observed(16);
    char keys[200][12];
    fc_kv items[200];
    fc_slice sl[200];
    for (int i = 0; i < 200; i++) {
        int kl = snprintf(keys[i], sizeof(keys[i]), "b%d", i % 150);
        sl[i] = (fc_slice){keys[i], (size_t)kl};
        items[i] = (fc_kv){sl[i], {"v", 1}, FC_TTL_NONE};
    }
    assert_int_equal(fc_mset(s, items, 200, NULL), FC_OK);
    assert_int_equal(lg.n, 200); /* repeats are mutations too */
    size_t removed;
    assert_int_equal(fc_mdel(s, sl, 100, &removed), FC_OK);
    assert_int_equal(removed, 100);
    assert_int_equal(lg.n, 300);
    for (uint32_t i = 0; i < 16; i++)
        assert_true(fc_store_shard_seq(s, i) == lg.last_seq[i]);
    fc_clear(s);
    assert_int_equal(lg.n, 316); /* one FC_MUT_CLEAR per shard */
    for (size_t i = 300; i < 316; i++) {
        assert_int_equal(lg.r[i].kind, FC_MUT_CLEAR);
        assert_int_equal(lg.r[i].key_len, 0);
    }
    assert_int_equal(lg.bad, 0);
    assert_true(fc_store_shard_seq(s, 99) == 0); /* no such shard */

    /* Removing the observer stops reports, not sequence numbers. */
    fc_store_set_observer(s, NULL, NULL);
    uint64_t before = fc_store_shard_seq(s, lg.r[0].shard);
    assert_int_equal(
        fc_set(s, lg.r[0].key, lg.r[0].key_len, "x", 1, FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(lg.n, 316);
    assert_true(fc_store_shard_seq(s, lg.r[0].shard) == before + 1);
    fc_store_close(s);
}

static void test_tick_reports_expired(void **state)
{
    (void)state;
    fc_store *s = open_observed(4);
    for (int i = 0; i < 20; i++) {
        char key[8];
        int kl = snprintf(key, sizeof(key), "x%d", i);
        assert_int_equal(fc_set(s, key, (size_t)kl, "v", 1, 1, 0), FC_OK);
    }
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
    size_t removed = 0;
    for (int r = 0; r < 10000 && removed < 20; r++)
        removed += fc_tick(s, 64);
    assert_int_equal(removed, 20);
    assert_int_equal(lg.n, 40);
    for (size_t i = 20; i < 40; i++)
        assert_int_equal(lg.r[i].kind, FC_MUT_EXPIRED);
    assert_int_equal(lg.bad, 0);
    fc_store_close(s);
}

static void test_workers_observer(void **state)
{
    (void)state;
    fc_workers *w;
    fc_options o = {.shards = 8};
    assert_int_equal(fc_workers_open(&w, &o, 3), FC_OK);
    memset(&lg, 0, sizeof(lg));
    lg.mask = 7;
    fc_workers_set_observer(w, observe, &lg);
    size_t mine = 0;
    for (int i = 0; i < 100; i++) {
        char key[8];
        int kl = snprintf(key, sizeof(key), "w%d", i);
        int rc = fc_local_set(fc_workers_local(w, 1), key, (size_t)kl, "v", 1,
                              FC_TTL_NONE, 0, NULL);
        if (rc == FC_OK) {
            mine++;
            assert_int_equal(lg.r[lg.n - 1].shard % 3, 1);
        }
    }
    assert_int_equal(lg.n, mine); /* foreign keys: nothing happened */
    assert_int_equal(lg.bad, 0);
    fc_workers_set_observer(w, NULL, NULL);
    fc_local_clear(fc_workers_local(w, 1));
    assert_int_equal(lg.n, mine);
    fc_workers_close(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_kind),
        cmocka_unit_test(test_no_mutation_no_report),
        cmocka_unit_test(test_batches_and_clear),
        cmocka_unit_test(test_tick_reports_expired),
        cmocka_unit_test(test_workers_observer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
