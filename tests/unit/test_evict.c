/*
 * test_evict.c — the engine's memory limit: each policy on crafted
 * sequences (LRU keeps what was touched, LFU what is frequent, volatile-*
 * only touch keys with a TTL, volatile-ttl takes the nearest expiry first,
 * CLOCK keeps what is read), noeviction refuses writes while reads and
 * deletes work, expired keys go before live ones, the drop callback names
 * the evicted keys, evictions reach the observer as deletes, a shard may
 * borrow from the global budget, and churn stays within the limit.
 *
 * Time is the `now` argument (no clock is read), and the shard's sampling
 * generator is seeded from its index: every run evicts the same keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/engine.h"

#define T0 100000000 /* ms: a fixed start time */
#define VLEN 100
#define NKEYS 100

static uint64_t H(const char *k)
{
    return eng_hash(k, strlen(k));
}

static int put(eng_shard *sh, const char *k, int64_t exp, int64_t now)
{
    char v[VLEN];
    memset(v, 'v', sizeof(v));
    return eng_set(sh, H(k), k, strlen(k), v, sizeof(v), exp, 0, now, NULL,
                   NULL);
}

static bool has(eng_shard *sh, const char *k, int64_t now)
{
    return eng_peek(sh, H(k), k, strlen(k), now) != NULL;
}

static void touch(eng_shard *sh, const char *k, int64_t now)
{
    assert_non_null(eng_get(sh, H(k), k, strlen(k), now));
}

static const char *key(char *buf, const char *pfx, int i)
{
    snprintf(buf, 32, "%s:%04d", pfx, i);
    return buf;
}

typedef struct fixture {
    eng_budget b;
    eng_shard *sh;
    eng_observer obs;
    int dels, drops_mem, drops_exp;
    char last_drop[32];
    char last_del[32];
} fixture;

static void on_mut(void *ctx, const fc_mutation *m)
{
    fixture *f = ctx;
    if (m->kind == FC_MUT_DEL) {
        f->dels++;
        snprintf(f->last_del, sizeof(f->last_del), "%.*s", (int)m->key_len,
                 (const char *)m->key);
    }
}

static void on_drop(void *ctx, uint32_t shard, const void *k, size_t klen,
                    int reason)
{
    fixture *f = ctx;
    (void)shard;
    if (reason == ENG_DROP_MEMORY)
        f->drops_mem++;
    else if (reason == ENG_DROP_EXPIRED)
        f->drops_exp++;
    snprintf(f->last_drop, sizeof(f->last_drop), "%.*s", (int)klen,
             (const char *)k);
}

static fixture *fx_new(enum eng_policy pol)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    eng_budget_init(&f->b);
    atomic_store(&f->b.policy, pol);
    atomic_store(&f->b.samples, 64); /* near-exact: the tests are exact */
    f->b.on_drop = on_drop;
    f->b.on_drop_ctx = f;
    f->obs = (eng_observer){.fn = on_mut, .ctx = f};
    f->sh = eng_shard_new(0, 0, &f->obs);
    assert_non_null(f->sh);
    eng_shard_set_budget(f->sh, &f->b);
    return f;
}

static void fx_free(fixture *f)
{
    eng_shard_free(f->sh);
    assert_int_equal(eng_budget_used(&f->b), 0); /* the shard was forgotten */
    free(f);
}

/* The limit at what the shard holds now: the next insert must evict. */
static void limit_here(fixture *f)
{
    eng_sweep(f->sh, 1 << 20, T0); /* ends a resize: its old array goes */
    atomic_store(&f->b.limit, (uint64_t)eng_memory(f->sh));
}

/* Inserts n new keys "new:i" at times from `now`, one second apart. */
static void churn(fixture *f, int n, int64_t now)
{
    char k[32];
    for (int i = 0; i < n; i++)
        assert_int_equal(put(f->sh, key(k, "new", i), 0, now + i * 1000),
                         FC_OK);
}

static void test_lru_keeps_touched(void **state)
{
    fixture *f = fx_new(ENG_POL_ALLKEYS_LRU);
    char k[32];
    (void)state;
    for (int i = 0; i < NKEYS; i++)
        assert_int_equal(put(f->sh, key(k, "k", i), 0, T0 + i * 1000), FC_OK);
    /* The ten oldest are read last: the most recently used. */
    for (int i = 0; i < 10; i++)
        touch(f->sh, key(k, "k", i), T0 + 200000);
    limit_here(f);
    churn(f, 50, T0 + 300000);
    assert_true(eng_evicted(f->sh) >= 45);
    for (int i = 0; i < 10; i++)
        assert_true(has(f->sh, key(k, "k", i), T0 + 400000));
    /* What went first is the least recently used: k:0010 onwards. */
    assert_false(has(f->sh, "k:0010", T0 + 400000));
    assert_true((uint64_t)eng_memory(f->sh) <= atomic_load(&f->b.limit) + 256);
    assert_int_equal(f->drops_mem, (int)eng_evicted(f->sh));
    fx_free(f);
}

static void test_lfu_keeps_frequent(void **state)
{
    fixture *f = fx_new(ENG_POL_ALLKEYS_LFU);
    char k[32];
    (void)state;
    for (int i = 0; i < NKEYS; i++)
        assert_int_equal(put(f->sh, key(k, "k", i), 0, T0), FC_OK);
    /* The last ten are read often (but not most recently). */
    for (int r = 0; r < 20; r++)
        for (int i = 90; i < NKEYS; i++)
            touch(f->sh, key(k, "k", i), T0);
    for (int i = 0; i < 20; i++)
        touch(f->sh, key(k, "k", i), T0 + 1000);
    limit_here(f);
    churn(f, 50, T0 + 2000);
    assert_true(eng_evicted(f->sh) >= 45);
    for (int i = 90; i < NKEYS; i++) {
        assert_true(has(f->sh, key(k, "k", i), T0 + 3000));
        eng_entry *e = eng_peek(f->sh, H(k), k, strlen(k), T0 + 3000);
        assert_true(eng_entry_freq(f->sh, e, T0 + 3000) > 5);
    }
    fx_free(f);
}

static void test_lfu_counter_and_decay(void **state)
{
    fixture *f = fx_new(ENG_POL_ALLKEYS_LFU);
    (void)state;
    assert_int_equal(put(f->sh, "x", 0, T0), FC_OK);
    eng_entry *e = eng_peek(f->sh, H("x"), "x", 1, T0);
    assert_int_equal(eng_entry_freq(f->sh, e, T0), 5); /* LFU_INIT_VAL */
    for (int i = 0; i < 1000; i++)
        touch(f->sh, "x", T0);
    e = eng_peek(f->sh, H("x"), "x", 1, T0);
    unsigned hot = eng_entry_freq(f->sh, e, T0);
    /* Logarithmic: 1000 hits at factor 10 are far below 255, well above 6. */
    assert_true(hot > 8 && hot < 40);
    /* One point per lfu-decay-time minute idle. */
    assert_int_equal(eng_entry_freq(f->sh, e, T0 + 3 * 60000), hot - 3);
    atomic_store(&f->b.lfu_decay_time, 0); /* no decay */
    assert_int_equal(eng_entry_freq(f->sh, e, T0 + 3 * 60000), hot);
    fx_free(f);
}

static void test_idle_time(void **state)
{
    fixture *f = fx_new(ENG_POL_CLOCK);
    (void)state;
    assert_int_equal(put(f->sh, "x", 0, T0), FC_OK);
    eng_entry *e = eng_peek(f->sh, H("x"), "x", 1, T0 + 5000);
    assert_int_equal(eng_entry_idle_s(f->sh, e, T0 + 5000), 5);
    touch(f->sh, "x", T0 + 7000); /* a read resets it, a peek does not */
    e = eng_peek(f->sh, H("x"), "x", 1, T0 + 9000);
    assert_int_equal(eng_entry_idle_s(f->sh, e, T0 + 9000), 2);
    fx_free(f);
}

static void test_volatile_lru_only_ttl_keys(void **state)
{
    fixture *f = fx_new(ENG_POL_VOLATILE_LRU);
    char k[32];
    (void)state;
    for (int i = 0; i < NKEYS; i++) /* even keys persistent, odd ones not */
        assert_int_equal(
            put(f->sh, key(k, "k", i), i % 2 ? T0 + 3600000 : 0, T0 + i * 1000),
            FC_OK);
    limit_here(f);
    churn(f, 30, T0 + 200000);
    assert_true(eng_evicted(f->sh) >= 25);
    for (int i = 0; i < NKEYS; i += 2)
        assert_true(has(f->sh, key(k, "k", i), T0 + 300000));
    /* The oldest volatile key went first. */
    assert_false(has(f->sh, "k:0001", T0 + 300000));
    /* Once no key has a TTL, writes are refused (Redis's OOM). */
    int rc = FC_OK;
    for (int i = 0; i < 200 && rc == FC_OK; i++)
        rc = put(f->sh, key(k, "more", i), 0, T0 + 400000);
    assert_int_equal(rc, FC_ENOMEM);
    assert_int_equal(eng_expires_count(f->sh), 0);
    for (int i = 0; i < NKEYS; i += 2)
        assert_true(has(f->sh, key(k, "k", i), T0 + 400000));
    fx_free(f);
}

static void test_volatile_ttl_nearest_first(void **state)
{
    fixture *f = fx_new(ENG_POL_VOLATILE_TTL);
    char k[32];
    (void)state;
    /* Expiries in reverse insertion order: k:0007 expires soonest. Few
     * volatile keys, so that 64 draws see them all. */
    for (int i = 0; i < 8; i++)
        assert_int_equal(
            put(f->sh, key(k, "k", i), T0 + 1000000 - i * 1000, T0), FC_OK);
    for (int i = 0; i < 20; i++)
        assert_int_equal(put(f->sh, key(k, "p", i), 0, T0), FC_OK);
    eng_sweep(f->sh, 1 << 20, T0);
    atomic_store(&f->b.limit, (uint64_t)eng_memory(f->sh) - 1);
    assert_int_equal(put(f->sh, "n:1", 0, T0), FC_OK);
    assert_true(eng_evicted(f->sh) >= 1);
    assert_string_equal(f->last_drop, "k:0007");
    assert_string_equal(f->last_del, "k:0007"); /* observers saw a delete */
    unsigned before = (unsigned)eng_evicted(f->sh);
    assert_int_equal(put(f->sh, "n:2", 0, T0), FC_OK);
    if (eng_evicted(f->sh) > before)
        assert_false(has(f->sh, "k:0006", T0));
    for (int i = 0; i < 20; i++)
        assert_true(has(f->sh, key(k, "p", i), T0));
    fx_free(f);
}

static void test_volatile_random_only_ttl_keys(void **state)
{
    fixture *f = fx_new(ENG_POL_VOLATILE_RANDOM);
    char k[32];
    (void)state;
    for (int i = 0; i < NKEYS; i++)
        assert_int_equal(
            put(f->sh, key(k, "k", i), i % 2 ? T0 + 3600000 : 0, T0), FC_OK);
    limit_here(f);
    churn(f, 30, T0);
    assert_true(eng_evicted(f->sh) >= 25);
    for (int i = 0; i < NKEYS; i += 2)
        assert_true(has(f->sh, key(k, "k", i), T0));
    fx_free(f);
}

static void test_allkeys_random_stays_within(void **state)
{
    fixture *f = fx_new(ENG_POL_ALLKEYS_RANDOM);
    (void)state;
    churn(f, 100, T0);
    limit_here(f);
    churn(f, 2000, T0 + 1000000); /* "new:" keys again: overwrites first */
    assert_true(eng_evicted(f->sh) > 0);
    /* A table rebuild (table.c, tombstones) may be under way, its second
     * array not yet freed: the next write's make-room finishes it first,
     * as the sweep does here. */
    eng_sweep(f->sh, 1 << 20, T0 + 3000000);
    assert_true((uint64_t)eng_memory(f->sh) <= atomic_load(&f->b.limit) + 256);
    fx_free(f);
}

static void test_clock_keeps_read_keys(void **state)
{
    fixture *f = fx_new(ENG_POL_CLOCK);
    char k[32], h[32];
    (void)state;
    for (int i = 0; i < NKEYS; i++)
        assert_int_equal(put(f->sh, key(k, "k", i), 0, T0), FC_OK);
    limit_here(f);
    /* Ten keys are read between every two writes of new keys: however
     * often the hand goes round, it finds them visited. */
    for (int n = 0; n < 500; n++) {
        for (int i = 0; i < 10; i++)
            touch(f->sh, key(h, "k", i * 7), T0);
        assert_int_equal(put(f->sh, key(k, "new", n), 0, T0), FC_OK);
    }
    assert_true(eng_evicted(f->sh) >= 490);
    for (int i = 0; i < 10; i++)
        assert_true(has(f->sh, key(k, "k", i * 7), T0));
    assert_true((uint64_t)eng_memory(f->sh) <= atomic_load(&f->b.limit) + 256);
    fx_free(f);
}

static void test_noeviction_refuses_writes(void **state)
{
    fixture *f = fx_new(ENG_POL_NOEVICTION);
    char k[32];
    (void)state;
    for (int i = 0; i < NKEYS; i++)
        assert_int_equal(put(f->sh, key(k, "k", i), 0, T0), FC_OK);
    eng_sweep(f->sh, 1 << 20, T0);
    atomic_store(&f->b.limit, (uint64_t)eng_memory(f->sh) - 1);
    assert_int_equal(put(f->sh, "n", 0, T0), FC_ENOMEM);
    assert_int_equal(put(f->sh, "k:0001", 0, T0), FC_ENOMEM); /* overwrite */
    size_t len;
    assert_int_equal(
        eng_append(f->sh, H("k:0002"), "k:0002", 6, "x", 1, T0, &len),
        FC_ENOMEM);
    assert_int_equal(eng_evicted(f->sh), 0);
    for (int i = 0; i < NKEYS; i++) /* reads work */
        touch(f->sh, key(k, "k", i), T0);
    /* A delete works, and brings memory under the limit again. */
    assert_int_equal(eng_del(f->sh, H("k:0003"), "k:0003", 6, T0, NULL), FC_OK);
    assert_int_equal(put(f->sh, "n", 0, T0), FC_OK);
    assert_int_equal(eng_len(f->sh), NKEYS);
    fx_free(f);
}

static void test_expired_go_first(void **state)
{
    fixture *f = fx_new(ENG_POL_ALLKEYS_LRU);
    char k[32];
    (void)state;
    for (int i = 0; i < 50; i++) {
        assert_int_equal(put(f->sh, key(k, "live", i), 0, T0), FC_OK);
        assert_int_equal(put(f->sh, key(k, "ttl", i), T0 + 10, T0), FC_OK);
    }
    atomic_store(&f->b.limit, (uint64_t)eng_memory(f->sh) - 1000);
    assert_int_equal(put(f->sh, "n", 0, T0 + 20), FC_OK);
    assert_int_equal(eng_evicted(f->sh), 0);
    assert_int_equal(f->drops_exp, 50);
    for (int i = 0; i < 50; i++)
        assert_true(has(f->sh, key(k, "live", i), T0 + 20));
    fx_free(f);
}

/* eng_evict brings a shard down to a lowered limit (CONFIG SET). */
static void test_lowered_limit(void **state)
{
    fixture *f = fx_new(ENG_POL_ALLKEYS_LRU);
    (void)state;
    churn(f, 1000, T0);
    uint64_t half = (uint64_t)eng_memory(f->sh) / 2;
    atomic_store(&f->b.limit, half);
    size_t n = eng_evict(f->sh, SIZE_MAX, T0 + 2000000);
    assert_true(n >= 400);
    assert_true((uint64_t)eng_memory(f->sh) <= half);
    assert_int_equal(eng_evict(f->sh, SIZE_MAX, T0 + 2000000), 0);
    fx_free(f);
}

/* Two shards, one budget: the written one may hold far more than half. */
static void test_skew_borrows(void **state)
{
    eng_budget b;
    char k[32];
    (void)state;
    eng_budget_init(&b);
    eng_shard *a = eng_shard_new(0, 0, NULL), *c = eng_shard_new(1, 0, NULL);
    eng_shard_set_budget(a, &b);
    eng_shard_set_budget(c, &b);
    for (int i = 0; i < 100; i++)
        assert_int_equal(put(c, key(k, "c", i), 0, T0), FC_OK);
    uint64_t lim = (uint64_t)eng_memory(c) * 10;
    atomic_store(&b.limit, lim);
    for (int i = 0; i < 20000; i++)
        assert_int_equal(put(a, key(k, "a", i), 0, T0), FC_OK);
    assert_true(eng_evicted(a) > 0);
    assert_int_equal(eng_evicted(c), 0);
    assert_true((uint64_t)eng_memory(a) > lim * 7 / 10);
    /* Within the limit, up to the accounting step of the idle shard and
     * one write of slack. */
    assert_true(eng_memory(a) + eng_memory(c) <= lim + ENG_ACCT_STEP + 256);
    assert_true(eng_budget_peak(&b) >= eng_budget_used(&b));
    eng_shard_free(a);
    eng_shard_free(c);
    assert_int_equal(eng_budget_used(&b), 0);
}

/* Not enforcing (a replica, a recovery): counted, never refused. */
static void test_not_enforced(void **state)
{
    fixture *f = fx_new(ENG_POL_NOEVICTION);
    (void)state;
    churn(f, 10, T0);
    limit_here(f);
    atomic_store(&f->b.enforce, false);
    churn(f, 100, T0);
    assert_int_equal(eng_evicted(f->sh), 0);
    assert_int_equal(eng_len(f->sh), 100);
    fx_free(f);
}

static void test_policy_names(void **state)
{
    enum eng_policy p;
    (void)state;
    for (int i = 0; i < ENG_POL_COUNT; i++) {
        assert_int_equal(eng_policy_parse(eng_policy_name(i), &p), 0);
        assert_int_equal(p, i);
    }
    assert_int_equal(eng_policy_parse("none", &p), 0);
    assert_int_equal(p, ENG_POL_NOEVICTION);
    assert_int_equal(eng_policy_parse("LRU", &p), 0);
    assert_int_equal(p, ENG_POL_ALLKEYS_LRU);
    assert_int_equal(eng_policy_parse("lfu", &p), 0);
    assert_int_equal(p, ENG_POL_ALLKEYS_LFU);
    assert_int_equal(eng_policy_parse("sieve-ish", &p), -1);
}

/* Churn at the limit (each new key evicts one) must not pile the table's
 * entries into long runs of groups a lookup cannot stop at, which every
 * lookup of an absent key walks (every SET of a new key does one): the
 * default policy's hand once visited groups in table order and left such a
 * run over the whole table just ahead of it (evict.c, hand_group; 2538
 * groups on this sequence, 13-25 now). */
static void test_clock_churn_keeps_probes_short(void **state)
{
    (void)state;
    fixture *f = fx_new(ENG_POL_CLOCK);
    char k[32];
    for (int i = 0; i < 20000; i++)
        assert_int_equal(put(f->sh, key(k, "old", i), 0, T0), FC_OK);
    limit_here(f);
    for (int i = 0; i < 200000; i++) {
        snprintf(k, sizeof(k), "churn:%d", i);
        assert_int_equal(put(f->sh, k, 0, T0), FC_OK);
    }
    assert_true(f->drops_mem >= 190000);
    size_t longest = eng_longest_probe(f->sh);
    print_message("clock churn: longest probe %zu groups\n", longest);
    assert_true(longest < 40);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lru_keeps_touched),
        cmocka_unit_test(test_lfu_keeps_frequent),
        cmocka_unit_test(test_lfu_counter_and_decay),
        cmocka_unit_test(test_idle_time),
        cmocka_unit_test(test_volatile_lru_only_ttl_keys),
        cmocka_unit_test(test_volatile_ttl_nearest_first),
        cmocka_unit_test(test_volatile_random_only_ttl_keys),
        cmocka_unit_test(test_allkeys_random_stays_within),
        cmocka_unit_test(test_clock_keeps_read_keys),
        cmocka_unit_test(test_noeviction_refuses_writes),
        cmocka_unit_test(test_expired_go_first),
        cmocka_unit_test(test_lowered_limit),
        cmocka_unit_test(test_skew_borrows),
        cmocka_unit_test(test_not_enforced),
        cmocka_unit_test(test_policy_names),
        cmocka_unit_test(test_clock_churn_keeps_probes_short),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
