/*
 * test_engine.c — the engine's point operations: set/get/del, flags, binary
 * keys, large values, TTLs (lazy, sweep, persist), the observer, string
 * edits (incrby, append, setrange), memory accounting, random, clear.
 * Table-level behaviour (resize, scan, churn, model) is in
 * test_engine_table.c.
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

#define T0 1000000 /* a fixed "now" for deterministic TTL tests */

static uint64_t H(const void *k, size_t n)
{
    return eng_hash(k, n);
}

static int set_n(eng_shard *sh, const void *k, size_t kl, const void *v,
                 size_t vl, int64_t exp, unsigned flags, int64_t now)
{
    return eng_set(sh, H(k, kl), k, kl, v, vl, exp, flags, now, NULL, NULL);
}

static int set_s(eng_shard *sh, const char *k, const char *v)
{
    return set_n(sh, k, strlen(k), v, strlen(v), 0, 0, T0);
}

static eng_entry *get_n(eng_shard *sh, const void *k, size_t kl, int64_t now)
{
    return eng_get(sh, H(k, kl), k, kl, now);
}

/* Asserts key k holds exactly v (NULL: absent) at time now. */
static void expect_n(eng_shard *sh, const void *k, size_t kl, const void *v,
                     size_t vl, int64_t now)
{
    eng_entry *e = get_n(sh, k, kl, now);
    size_t len;
    const uint8_t *p;

    if (!v) {
        assert_null(e);
        return;
    }
    assert_non_null(e);
    p = eng_entry_value(e, &len);
    assert_int_equal(len, vl);
    assert_memory_equal(p, v, vl);
    p = eng_entry_key(e, &len);
    assert_int_equal(len, kl);
    if (kl)
        assert_memory_equal(p, k, kl);
}

static void expect_s(eng_shard *sh, const char *k, const char *v)
{
    expect_n(sh, k, strlen(k), v, v ? strlen(v) : 0, T0);
}

static int del_s(eng_shard *sh, const char *k)
{
    return eng_del(sh, H(k, strlen(k)), k, strlen(k), T0, NULL);
}

/* --- observer recording --- */

#define REC_MAX 64
struct rec {
    size_t n;
    fc_mutation_kind kind[REC_MAX];
    uint64_t seq[REC_MAX];
    int64_t exp[REC_MAX];
    char key[REC_MAX][32];
    char val[REC_MAX][32];
    int has_val[REC_MAX];
    uint32_t shard;
};

static void rec_fn(void *ctx, const fc_mutation *m)
{
    struct rec *r = ctx;
    size_t i = r->n++;
    assert_true(i < REC_MAX);
    r->kind[i] = m->kind;
    r->seq[i] = m->seq;
    r->exp[i] = m->expire_at_ms;
    r->shard = m->shard;
    r->has_val[i] = m->value != NULL;
    if (m->key)
        snprintf(r->key[i], sizeof(r->key[i]), "%.*s", (int)m->key_len,
                 (const char *)m->key);
    if (m->value)
        snprintf(r->val[i], sizeof(r->val[i]), "%.*s", (int)m->value_len,
                 (const char *)m->value);
}

/* --- basics --- */

static void test_set_get_del(void **state)
{
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    assert_non_null(sh);
    assert_int_equal(eng_len(sh), 0);
    expect_s(sh, "a", NULL);
    assert_int_equal(set_s(sh, "a", "1"), FC_OK);
    assert_int_equal(set_s(sh, "b", "22"), FC_OK);
    expect_s(sh, "a", "1");
    expect_s(sh, "b", "22");
    assert_int_equal(eng_len(sh), 2);
    assert_int_equal(set_s(sh, "a", "a much longer value than before"), FC_OK);
    expect_s(sh, "a", "a much longer value than before");
    assert_int_equal(set_s(sh, "a", "x"), FC_OK);
    expect_s(sh, "a", "x");
    assert_int_equal(eng_len(sh), 2);
    assert_int_equal(eng_entry_type(get_n(sh, "a", 1, T0)), ENG_TYPE_STRING);
    assert_int_equal(del_s(sh, "a"), FC_OK);
    assert_int_equal(del_s(sh, "a"), FC_ENOTFOUND);
    expect_s(sh, "a", NULL);
    expect_s(sh, "b", "22");
    assert_int_equal(eng_len(sh), 1);
    eng_shard_free(sh);
}

static void test_binary_keys(void **state)
{
    eng_shard *sh = eng_shard_new(3, 0, NULL);
    const char k1[] = {'a', 0, 'b'}, k2[] = {'a', 0, 'c'}, k3[] = {'a'};
    const char v[] = {0, 1, 0, 2};
    char big[300];

    memset(big, 0, sizeof(big));
    big[299] = 1;
    assert_int_equal(set_n(sh, k1, 3, v, 4, 0, 0, T0), FC_OK);
    assert_int_equal(set_n(sh, k2, 3, "x", 1, 0, 0, T0), FC_OK);
    assert_int_equal(set_n(sh, k3, 1, "", 0, 0, 0, T0), FC_OK);
    assert_int_equal(set_n(sh, "", 0, "empty key", 9, 0, 0, T0), FC_OK);
    /* A key long enough to need a 2-byte length varint. */
    assert_int_equal(set_n(sh, big, sizeof(big), big, sizeof(big), 0, 0, T0),
                     FC_OK);
    expect_n(sh, k1, 3, v, 4, T0);
    expect_n(sh, k2, 3, "x", 1, T0);
    expect_n(sh, k3, 1, "", 0, T0);
    expect_n(sh, "", 0, "empty key", 9, T0);
    expect_n(sh, big, sizeof(big), big, sizeof(big), T0);
    expect_n(sh, big, sizeof(big) - 1, NULL, 0, T0);
    expect_n(sh, "a\0", 2, NULL, 0, T0);
    assert_int_equal(eng_len(sh), 5);
    eng_shard_free(sh);
}

static void test_set_flags(void **state)
{
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    assert_int_equal(set_n(sh, "k", 1, "v", 1, 0, ENG_SET_XX, T0), FC_ENOTSET);
    expect_s(sh, "k", NULL);
    assert_int_equal(set_n(sh, "k", 1, "v", 1, 0, ENG_SET_NX, T0), FC_OK);
    assert_int_equal(set_n(sh, "k", 1, "w", 1, 0, ENG_SET_NX, T0), FC_EEXISTS);
    expect_s(sh, "k", "v");
    assert_int_equal(set_n(sh, "k", 1, "w", 1, 0, ENG_SET_XX, T0), FC_OK);
    expect_s(sh, "k", "w");
    /* KEEPTTL keeps an existing TTL and ignores the one given. */
    assert_int_equal(set_n(sh, "t", 1, "1", 1, T0 + 500, 0, T0), FC_OK);
    assert_int_equal(set_n(sh, "t", 1, "2", 1, T0 + 9999, ENG_SET_KEEPTTL, T0),
                     FC_OK);
    assert_int_equal(eng_entry_expire_at(get_n(sh, "t", 1, T0)), T0 + 500);
    /* Without KEEPTTL a plain set drops it. */
    assert_int_equal(set_n(sh, "t", 1, "3", 1, 0, 0, T0), FC_OK);
    assert_int_equal(eng_entry_expire_at(get_n(sh, "t", 1, T0)), 0);
    assert_int_equal(eng_expires_count(sh), 0);
    /* KEEPTTL on an absent key uses the given expiry. */
    assert_int_equal(set_n(sh, "u", 1, "1", 1, T0 + 7, ENG_SET_KEEPTTL, T0),
                     FC_OK);
    assert_int_equal(eng_entry_expire_at(get_n(sh, "u", 1, T0)), T0 + 7);
    /* An expired key counts as absent for NX and XX. */
    assert_int_equal(set_n(sh, "u", 1, "2", 1, 0, ENG_SET_XX, T0 + 7),
                     FC_ENOTSET);
    assert_int_equal(set_n(sh, "u", 1, "3", 1, 0, ENG_SET_NX, T0 + 7), FC_OK);
    expect_s(sh, "u", "3");
    eng_shard_free(sh);
}

static void test_detached(void **state)
{
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    eng_entry *old = (eng_entry *)1, *out = NULL;
    const uint8_t *p;
    size_t n;

    assert_int_equal(
        eng_set(sh, H("k", 1), "k", 1, "one", 3, 0, 0, T0, &old, &out), FC_OK);
    assert_null(old);
    assert_non_null(out);
    assert_int_equal(
        eng_set(sh, H("k", 1), "k", 1, "two", 3, 0, 0, T0, &old, &out), FC_OK);
    assert_non_null(old);
    p = eng_entry_value(old, &n);
    assert_int_equal(n, 3);
    assert_memory_equal(p, "one", 3);
    p = eng_entry_value(out, &n);
    assert_memory_equal(p, "two", 3);
    eng_entry_free(sh, old);
    assert_int_equal(eng_del(sh, H("k", 1), "k", 1, T0, &old), FC_OK);
    p = eng_entry_value(old, &n);
    assert_memory_equal(p, "two", 3);
    eng_entry_free(sh, old);
    assert_int_equal(eng_del(sh, H("k", 1), "k", 1, T0, &old), FC_ENOTFOUND);
    assert_null(old);
    eng_shard_free(sh);
}

static void test_large_values(void **state)
{
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    size_t big = (size_t)64 << 20, n;
    uint8_t *v = malloc(big);
    const uint8_t *p;
    char small = 'x';

    assert_non_null(v);
    for (size_t i = 0; i < big; i++)
        v[i] = (uint8_t)(i * 131 + (i >> 13));
    assert_int_equal(set_n(sh, "big", 3, v, big, 0, 0, T0), FC_OK);
    assert_true(eng_memory(sh) >= big);
    p = eng_entry_value(get_n(sh, "big", 3, T0), &n);
    assert_int_equal(n, big);
    assert_memory_equal(p, v, big);
    /* Past the limits: refused before anything is read or allocated. */
    assert_int_equal(set_n(sh, "k", 1, v, FC_MAX_VALUE_LEN + 1, 0, 0, T0),
                     FC_ETOOBIG);
    assert_int_equal(
        eng_set(sh, 1, v, FC_MAX_KEY_LEN + 1, "v", 1, 0, 0, T0, NULL, NULL),
        FC_ETOOBIG);
    assert_int_equal(eng_append(sh, H("big", 3), "big", 3, &small,
                                FC_MAX_VALUE_LEN - big + 1, T0, &n),
                     FC_ETOOBIG);
    assert_int_equal(eng_setrange(sh, H("k", 1), "k", 1, FC_MAX_VALUE_LEN,
                                  &small, 1, T0, &n),
                     FC_ETOOBIG);
    assert_int_equal(
        eng_setrange(sh, H("k", 1), "k", 1, SIZE_MAX, &small, 1, T0, &n),
        FC_ETOOBIG);
    expect_n(sh, "k", 1, NULL, 0, T0);
    /* Exactly at the limit is fine for SETRANGE (zero padding). */
    assert_int_equal(eng_setrange(sh, H("k", 1), "k", 1, FC_MAX_VALUE_LEN - 1,
                                  &small, 1, T0, &n),
                     FC_OK);
    assert_int_equal(n, FC_MAX_VALUE_LEN);
    p = eng_entry_value(get_n(sh, "k", 1, T0), &n);
    assert_int_equal(p[0], 0);
    assert_int_equal(p[n - 1], 'x');
    assert_int_equal(del_s(sh, "k"), FC_OK);
    assert_int_equal(del_s(sh, "big"), FC_OK);
    assert_true(eng_memory(sh) < 4096);
    free(v);
    eng_shard_free(sh);
}

/* --- TTL --- */

static void test_ttl_lazy(void **state)
{
    struct rec r = {0};
    eng_observer obs = {rec_fn, &r};
    eng_shard *sh = eng_shard_new(5, 0, &obs);

    assert_int_equal(set_n(sh, "k", 1, "v", 1, T0 + 100, 0, T0), FC_OK);
    assert_int_equal(eng_expires_count(sh), 1);
    assert_int_equal(eng_entry_expire_at(get_n(sh, "k", 1, T0)), T0 + 100);
    expect_n(sh, "k", 1, "v", 1, T0 + 99);
    assert_int_equal(r.n, 1);
    expect_n(sh, "k", 1, NULL, 0, T0 + 100); /* expire_at <= now: gone */
    assert_int_equal(r.n, 2);
    assert_int_equal(r.kind[1], FC_MUT_EXPIRED);
    assert_string_equal(r.key[1], "k");
    assert_false(r.has_val[1]);
    assert_int_equal(r.shard, 5);
    assert_int_equal(eng_len(sh), 0);
    assert_int_equal(eng_expires_count(sh), 0);
    /* del of an expired key: removed as expired, reported not found. */
    assert_int_equal(set_n(sh, "k", 1, "v", 1, T0 + 100, 0, T0), FC_OK);
    assert_int_equal(eng_del(sh, H("k", 1), "k", 1, T0 + 200, NULL),
                     FC_ENOTFOUND);
    assert_int_equal(r.kind[r.n - 1], FC_MUT_EXPIRED);
    assert_int_equal(eng_len(sh), 0);
    eng_shard_free(sh);
}

static void test_ttl_past_deletes(void **state)
{
    struct rec r = {0};
    eng_observer obs = {rec_fn, &r};
    eng_shard *sh = eng_shard_new(0, 0, &obs);

    /* set with an expiry already past: absent key stays absent. */
    assert_int_equal(set_n(sh, "k", 1, "v", 1, T0 - 1, 0, T0), FC_OK);
    expect_s(sh, "k", NULL);
    assert_int_equal(r.n, 0);
    assert_int_equal(eng_seq(sh), 0);
    /* ... and a present key is deleted. */
    assert_int_equal(set_s(sh, "k", "v"), FC_OK);
    assert_int_equal(set_n(sh, "k", 1, "w", 1, T0, 0, T0), FC_OK);
    expect_s(sh, "k", NULL);
    assert_int_equal(r.kind[r.n - 1], FC_MUT_DEL);
    /* set_expire in the past deletes too (as DEL). */
    assert_int_equal(set_s(sh, "k", "v"), FC_OK);
    assert_int_equal(eng_set_expire(sh, H("k", 1), "k", 1, T0 - 5, T0), FC_OK);
    assert_int_equal(r.kind[r.n - 1], FC_MUT_DEL);
    expect_s(sh, "k", NULL);
    assert_int_equal(eng_set_expire(sh, H("k", 1), "k", 1, T0 + 5, T0),
                     FC_ENOTFOUND);
    assert_int_equal(eng_len(sh), 0);
    eng_shard_free(sh);
}

static void test_expire_persist(void **state)
{
    struct rec r = {0};
    eng_observer obs = {rec_fn, &r};
    eng_shard *sh = eng_shard_new(0, 0, &obs);
    size_t m0, seq;

    assert_int_equal(set_s(sh, "key", "value"), FC_OK);
    m0 = eng_memory(sh);
    /* Adding a TTL grows the entry by its 8-byte field (reallocation). */
    assert_int_equal(eng_set_expire(sh, H("key", 3), "key", 3, T0 + 50, T0),
                     FC_OK);
    assert_int_equal(r.kind[r.n - 1], FC_MUT_EXPIRE);
    assert_int_equal(r.exp[r.n - 1], T0 + 50);
    assert_string_equal(r.key[r.n - 1], "key");
    expect_s(sh, "key", "value");
    assert_int_equal(eng_expires_count(sh), 1);
    assert_true(eng_memory(sh) >= m0);
    /* Changing it again reuses the field. */
    assert_int_equal(eng_set_expire(sh, H("key", 3), "key", 3, T0 + 80, T0),
                     FC_OK);
    assert_int_equal(eng_entry_expire_at(get_n(sh, "key", 3, T0)), T0 + 80);
    assert_int_equal(eng_expires_count(sh), 1);
    /* Persist. */
    assert_int_equal(eng_set_expire(sh, H("key", 3), "key", 3, 0, T0), FC_OK);
    assert_int_equal(r.kind[r.n - 1], FC_MUT_EXPIRE);
    assert_int_equal(r.exp[r.n - 1], 0);
    assert_int_equal(eng_entry_expire_at(get_n(sh, "key", 3, T0)), 0);
    assert_int_equal(eng_expires_count(sh), 0);
    expect_n(sh, "key", 3, "value", 5, T0 + 1000000);
    /* Persisting a key without TTL changes nothing and reports nothing. */
    seq = eng_seq(sh);
    assert_int_equal(eng_set_expire(sh, H("key", 3), "key", 3, 0, T0), FC_OK);
    assert_int_equal(eng_seq(sh), seq);
    assert_int_equal(eng_set_expire(sh, H("no", 2), "no", 2, 0, T0),
                     FC_ENOTFOUND);
    eng_shard_free(sh);
}

static void test_sweep(void **state)
{
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    char k[32];
    size_t removed = 0;

    assert_int_equal(eng_sweep(sh, 1000, T0), 0);
    for (int i = 0; i < 3000; i++) {
        int n = snprintf(k, sizeof(k), "key:%d", i);
        int64_t exp = i % 3 == 0 ? 0 : (i % 3 == 1 ? T0 + 10 : T0 + 1000);
        assert_int_equal(set_n(sh, k, (size_t)n, k, (size_t)n, exp, 0, T0),
                         FC_OK);
    }
    assert_int_equal(eng_expires_count(sh), 2000);
    assert_int_equal(eng_sweep(sh, 100000, T0 + 5), 0);
    /* Small budgets, many calls: the cursor persists and wraps. */
    for (int i = 0; i < 2000; i++)
        removed += eng_sweep(sh, 16, T0 + 10);
    assert_int_equal(removed, 1000);
    assert_int_equal(eng_len(sh), 2000);
    assert_int_equal(eng_expires_count(sh), 1000);
    for (int i = 0; i < 3000; i++) {
        int n = snprintf(k, sizeof(k), "key:%d", i);
        if (i % 3 == 1)
            expect_n(sh, k, (size_t)n, NULL, 0, T0 + 10);
        else
            expect_n(sh, k, (size_t)n, k, (size_t)n, T0 + 10);
    }
    removed = 0;
    for (int i = 0; i < 2000; i++)
        removed += eng_sweep(sh, 16, T0 + 5000);
    assert_int_equal(removed, 1000);
    assert_int_equal(eng_expires_count(sh), 0);
    assert_int_equal(eng_len(sh), 1000);
    eng_shard_free(sh);
}

static void test_lazy_clock(void **state)
{
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    int64_t now = eng_now_ms();

    assert_true(now > 0);
    assert_int_equal(set_n(sh, "k", 1, "v", 1, now + 3600000, 0, ENG_NOW_LAZY),
                     FC_OK);
    expect_n(sh, "k", 1, "v", 1, ENG_NOW_LAZY);
    /* An expiry before the current clock is noticed with a lazy now. */
    assert_int_equal(set_n(sh, "p", 1, "v", 1, now - 1, 0, ENG_NOW_LAZY),
                     FC_OK);
    expect_n(sh, "p", 1, NULL, 0, ENG_NOW_LAZY);
    assert_int_equal(
        eng_set_expire(sh, H("k", 1), "k", 1, now - 1, ENG_NOW_LAZY), FC_OK);
    expect_n(sh, "k", 1, NULL, 0, ENG_NOW_LAZY);
    assert_true(eng_now_ms() >= now);
    eng_shard_free(sh);
}

/* --- observer --- */

static void test_observer(void **state)
{
    struct rec r = {0};
    eng_observer obs = {rec_fn, &r};
    eng_shard *sh = eng_shard_new(9, 0, &obs);
    int64_t res;
    size_t len;

    assert_int_equal(eng_seq(sh), 0);
    assert_int_equal(set_n(sh, "a", 1, "1", 1, T0 + 10, 0, T0), FC_OK);
    assert_int_equal(eng_set_expire(sh, H("a", 1), "a", 1, T0 + 20, T0), FC_OK);
    assert_int_equal(eng_incrby(sh, H("a", 1), "a", 1, 4, T0, &res), FC_OK);
    assert_int_equal(eng_append(sh, H("a", 1), "a", 1, "x", 1, T0, &len),
                     FC_OK);
    assert_int_equal(eng_setrange(sh, H("a", 1), "a", 1, 0, "y", 1, T0, &len),
                     FC_OK);
    assert_int_equal(del_s(sh, "a"), FC_OK);
    /* Failed or no-op calls report nothing. */
    assert_int_equal(del_s(sh, "a"), FC_ENOTFOUND);
    assert_null(get_n(sh, "a", 1, T0));
    assert_int_equal(set_n(sh, "b", 1, "1", 1, 0, ENG_SET_XX, T0), FC_ENOTSET);
    assert_int_equal(set_n(sh, "c", 1, "1", 1, T0 + 1, 0, T0), FC_OK);
    assert_null(get_n(sh, "c", 1, T0 + 1));
    eng_clear(sh);

    fc_mutation_kind want[] = {FC_MUT_SET, FC_MUT_EXPIRE,  FC_MUT_SET,
                               FC_MUT_SET, FC_MUT_SET,     FC_MUT_DEL,
                               FC_MUT_SET, FC_MUT_EXPIRED, FC_MUT_CLEAR};
    assert_int_equal(r.n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < r.n; i++) {
        assert_int_equal(r.kind[i], want[i]);
        assert_int_equal(r.seq[i], i + 1);
    }
    assert_int_equal(eng_seq(sh), r.n);
    assert_int_equal(r.shard, 9);
    assert_string_equal(r.val[0], "1");
    assert_int_equal(r.exp[0], T0 + 10);
    assert_int_equal(r.exp[1], T0 + 20);
    assert_string_equal(r.val[2], "5");
    assert_int_equal(r.exp[2], T0 + 20); /* incrby keeps the TTL */
    assert_string_equal(r.val[3], "5x");
    assert_string_equal(r.val[4], "yx");
    assert_string_equal(r.key[5], "a");
    assert_false(r.has_val[5]);
    assert_string_equal(r.key[7], "c");
    assert_false(r.has_val[8]);
    /* Removing the observer keeps counting sequence numbers. */
    obs.fn = NULL;
    assert_int_equal(set_s(sh, "z", "1"), FC_OK);
    assert_int_equal(eng_seq(sh), r.n + 1);
    eng_shard_free(sh);
}

/* --- string edits --- */

static void test_incrby(void **state)
{
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    int64_t res = 0;
    static const char *bad[] = {"",
                                " 1",
                                "1 ",
                                "+1",
                                "01",
                                "-0",
                                "-",
                                "abc",
                                "1.5",
                                "1e3",
                                "0x10",
                                "--1",
                                "00",
                                "-01",
                                "9223372036854775808",
                                "-9223372036854775809",
                                "123456789012345678901"};
    const char *k = "n";

    assert_int_equal(eng_incrby(sh, H(k, 1), k, 1, 5, T0, &res), FC_OK);
    assert_int_equal(res, 5);
    expect_s(sh, k, "5");
    assert_int_equal(eng_incrby(sh, H(k, 1), k, 1, -15, T0, &res), FC_OK);
    assert_int_equal(res, -10);
    expect_s(sh, k, "-10");
    assert_int_equal(eng_incrby(sh, H(k, 1), k, 1, 10, T0, &res), FC_OK);
    expect_s(sh, k, "0");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(set_s(sh, k, bad[i]), FC_OK);
        assert_int_equal(eng_incrby(sh, H(k, 1), k, 1, 1, T0, &res),
                         FC_ENOTINT);
        expect_s(sh, k, bad[i]);
    }
    assert_int_equal(set_s(sh, k, "9223372036854775807"), FC_OK);
    assert_int_equal(eng_incrby(sh, H(k, 1), k, 1, 1, T0, &res), FC_EOVERFLOW);
    expect_s(sh, k, "9223372036854775807");
    assert_int_equal(eng_incrby(sh, H(k, 1), k, 1, INT64_MIN, T0, &res), FC_OK);
    assert_int_equal(res, -1);
    assert_int_equal(set_s(sh, k, "-9223372036854775808"), FC_OK);
    assert_int_equal(eng_incrby(sh, H(k, 1), k, 1, -1, T0, &res), FC_EOVERFLOW);
    assert_int_equal(eng_incrby(sh, H(k, 1), k, 1, 0, T0, &res), FC_OK);
    assert_int_equal(res, INT64_MIN);
    expect_s(sh, k, "-9223372036854775808");
    /* TTL kept. */
    assert_int_equal(set_n(sh, k, 1, "41", 2, T0 + 100, 0, T0), FC_OK);
    assert_int_equal(eng_incrby(sh, H(k, 1), k, 1, 1, T0, &res), FC_OK);
    assert_int_equal(eng_entry_expire_at(get_n(sh, k, 1, T0)), T0 + 100);
    expect_s(sh, k, "42");
    /* An expired key counts as absent (0). */
    assert_int_equal(eng_incrby(sh, H(k, 1), k, 1, 3, T0 + 100, &res), FC_OK);
    assert_int_equal(res, 3);
    assert_int_equal(eng_entry_expire_at(get_n(sh, k, 1, T0 + 100)), 0);
    eng_shard_free(sh);
}

static void test_append(void **state)
{
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    size_t len = 0, n;
    const uint8_t *p;
    char *model = malloc(100000);
    size_t mlen = 0;

    assert_int_equal(eng_append(sh, H("k", 1), "k", 1, "ab", 2, T0, &len),
                     FC_OK);
    assert_int_equal(len, 2);
    assert_int_equal(eng_append(sh, H("k", 1), "k", 1, "\0c", 2, T0, &len),
                     FC_OK);
    assert_int_equal(len, 4);
    expect_n(sh, "k", 1, "ab\0c", 4, T0);
    assert_int_equal(eng_append(sh, H("k", 1), "k", 1, "", 0, T0, &len), FC_OK);
    assert_int_equal(len, 4);
    /* Appending the value to itself (data points into the entry). */
    p = eng_entry_value(get_n(sh, "k", 1, T0), &n);
    assert_int_equal(eng_append(sh, H("k", 1), "k", 1, p, n, T0, &len), FC_OK);
    expect_n(sh, "k", 1, "ab\0cab\0c", 8, T0);
    /* Many appends, crossing varint widths, with a TTL kept all along. */
    assert_int_equal(eng_set_expire(sh, H("k", 1), "k", 1, T0 + 9, T0), FC_OK);
    memcpy(model, "ab\0cab\0c", 8);
    mlen = 8;
    for (int i = 0; mlen + 16 < 100000; i++) {
        char chunk[16];
        size_t c = (size_t)(i % 15) + 1;
        for (size_t j = 0; j < c; j++)
            chunk[j] = (char)('a' + (i + (int)j) % 26);
        assert_int_equal(eng_append(sh, H("k", 1), "k", 1, chunk, c, T0, &len),
                         FC_OK);
        memcpy(model + mlen, chunk, c);
        mlen += c;
        assert_int_equal(len, mlen);
    }
    expect_n(sh, "k", 1, model, mlen, T0);
    assert_int_equal(eng_entry_expire_at(get_n(sh, "k", 1, T0)), T0 + 9);
    assert_int_equal(eng_expires_count(sh), 1);
    free(model);
    eng_shard_free(sh);
}

static void test_setrange(void **state)
{
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    size_t len = 99;

    /* Empty data on an absent key: nothing created. */
    assert_int_equal(eng_setrange(sh, H("k", 1), "k", 1, 10, "", 0, T0, &len),
                     FC_OK);
    assert_int_equal(len, 0);
    expect_s(sh, "k", NULL);
    /* Zero padding on creation. */
    assert_int_equal(eng_setrange(sh, H("k", 1), "k", 1, 3, "xy", 2, T0, &len),
                     FC_OK);
    assert_int_equal(len, 5);
    expect_n(sh, "k", 1, "\0\0\0xy", 5, T0);
    /* Overwrite inside, then extend past the end with a gap. */
    assert_int_equal(eng_setrange(sh, H("k", 1), "k", 1, 1, "A", 1, T0, &len),
                     FC_OK);
    assert_int_equal(len, 5);
    expect_n(sh, "k", 1, "\0A\0xy", 5, T0);
    assert_int_equal(eng_setrange(sh, H("k", 1), "k", 1, 7, "end", 3, T0, &len),
                     FC_OK);
    assert_int_equal(len, 10);
    expect_n(sh, "k", 1, "\0A\0xy\0\0end", 10, T0);
    /* Empty data on an existing key: length reported, nothing changes. */
    assert_int_equal(eng_setrange(sh, H("k", 1), "k", 1, 100, "", 0, T0, &len),
                     FC_OK);
    assert_int_equal(len, 10);
    /* TTL kept, and growth to a 2-byte length varint works. */
    assert_int_equal(eng_set_expire(sh, H("k", 1), "k", 1, T0 + 5, T0), FC_OK);
    assert_int_equal(eng_setrange(sh, H("k", 1), "k", 1, 200, "Z", 1, T0, &len),
                     FC_OK);
    assert_int_equal(len, 201);
    assert_int_equal(eng_entry_expire_at(get_n(sh, "k", 1, T0)), T0 + 5);
    {
        size_t n;
        const uint8_t *p = eng_entry_value(get_n(sh, "k", 1, T0), &n);
        assert_int_equal(n, 201);
        assert_memory_equal(p, "\0A\0xy\0\0end", 10);
        for (size_t i = 10; i < 200; i++)
            assert_int_equal(p[i], 0);
        assert_int_equal(p[200], 'Z');
    }
    eng_shard_free(sh);
}

/* --- whole shard --- */

static void test_memory_accounting(void **state)
{
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    size_t base = eng_memory(sh), full;
    char k[32], v[64];

    assert_true(base > 0);
    memset(v, 'v', sizeof(v));
    for (int i = 0; i < 50000; i++) {
        int n = snprintf(k, sizeof(k), "mem:%d", i);
        assert_int_equal(set_n(sh, k, (size_t)n, v, sizeof(v), 0, 0, T0),
                         FC_OK);
    }
    full = eng_memory(sh);
    /* At least the key and value bytes plus a slot pointer each. */
    assert_true(full > base + 50000 * (64 + 8 + 8));
    for (int i = 0; i < 50000; i++) {
        int n = snprintf(k, sizeof(k), "mem:%d", i);
        assert_int_equal(eng_del(sh, H(k, (size_t)n), k, (size_t)n, T0, NULL),
                         FC_OK);
    }
    assert_int_equal(eng_len(sh), 0);
    /* Entries gone and the table shrunk back to (near) its first size. */
    assert_true(eng_memory(sh) <= base + 1024);
    eng_shard_free(sh);
}

static void test_random(void **state)
{
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    uint64_t rng = 42;
    int seen[100] = {0}, distinct = 0;
    char k[16];

    assert_null(eng_random(sh, &rng, T0));
    for (int i = 0; i < 100; i++) {
        int n = snprintf(k, sizeof(k), "%d", i);
        /* Odd keys expire at T0 + 1. */
        assert_int_equal(
            set_n(sh, k, (size_t)n, k, (size_t)n, i % 2 ? T0 + 1 : 0, 0, T0),
            FC_OK);
    }
    for (int i = 0; i < 2000; i++) {
        size_t n;
        const uint8_t *p;
        eng_entry *e = eng_random(sh, &rng, T0 + 1);
        int x;
        assert_non_null(e);
        p = eng_entry_key(e, &n);
        assert_true(n < sizeof(k));
        memcpy(k, p, n);
        k[n] = 0;
        x = atoi(k);
        assert_true(x >= 0 && x < 100);
        assert_int_equal(x % 2, 0); /* never an expired key */
        if (!seen[x]++)
            distinct++;
    }
    assert_true(distinct > 25);
    eng_clear(sh);
    assert_null(eng_random(sh, &rng, T0));
    eng_shard_free(sh);
}

static void test_clear(void **state)
{
    eng_shard *sh = eng_shard_new(0, 1000, NULL);
    size_t base;
    char k[16];

    eng_clear(sh);
    base = eng_memory(sh);
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(k, sizeof(k), "%d", i);
        assert_int_equal(
            set_n(sh, k, (size_t)n, k, (size_t)n, i % 2 ? T0 + 100 : 0, 0, T0),
            FC_OK);
    }
    eng_clear(sh);
    assert_int_equal(eng_len(sh), 0);
    assert_int_equal(eng_expires_count(sh), 0);
    /* Back to one minimal group array (its usable size may differ by the
     * allocator's alignment slack). */
    assert_true(eng_memory(sh) <= base + 128);
    expect_s(sh, "1", NULL);
    assert_int_equal(set_s(sh, "1", "again"), FC_OK);
    expect_s(sh, "1", "again");
    eng_shard_free(sh);
}

static void test_capacity_hint(void **state)
{
    eng_shard *big = eng_shard_new(0, 20000, NULL);
    eng_shard *small = eng_shard_new(0, 0, NULL);
    size_t base_big = eng_memory(big), base_small = eng_memory(small);
    char k[16];

    /* The hint pre-sizes the table: 20000 keys of table at ~9 B a slot. */
    assert_true(base_big > base_small + 20000 * 9);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 20000; i++) {
            int n = snprintf(k, sizeof(k), "%d", i);
            assert_int_equal(set_n(big, k, (size_t)n, "v", 1, 0, 0, T0), FC_OK);
        }
        for (int i = 0; i < 20000; i++) {
            int n = snprintf(k, sizeof(k), "%d", i);
            assert_int_equal(
                eng_del(big, H(k, (size_t)n), k, (size_t)n, T0, NULL), FC_OK);
        }
        /* Never shrunk below, nor grown past, the requested size. */
        assert_int_equal(eng_memory(big), base_big);
    }
    eng_clear(big);
    assert_true(eng_memory(big) <= base_big + 128);
    /* A hint that cannot be honoured is an allocation failure, not a crash. */
    assert_null(eng_shard_new(0, SIZE_MAX / 2, NULL));
    eng_shard_free(big);
    eng_shard_free(small);
}

static void test_hash_and_clock(void **state)
{
    int64_t a = eng_now_ms(), b = eng_now_ms();
    assert_true(b >= a);
    assert_int_equal(eng_hash("abc", 3), eng_hash("abc", 3));
    assert_true(eng_hash("abc", 3) != eng_hash("abd", 3));
    assert_true(eng_hash("a\0b", 3) != eng_hash("a\0c", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_get_del),
        cmocka_unit_test(test_binary_keys),
        cmocka_unit_test(test_set_flags),
        cmocka_unit_test(test_detached),
        cmocka_unit_test(test_large_values),
        cmocka_unit_test(test_ttl_lazy),
        cmocka_unit_test(test_ttl_past_deletes),
        cmocka_unit_test(test_expire_persist),
        cmocka_unit_test(test_sweep),
        cmocka_unit_test(test_lazy_clock),
        cmocka_unit_test(test_observer),
        cmocka_unit_test(test_incrby),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_setrange),
        cmocka_unit_test(test_memory_accounting),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_clear),
        cmocka_unit_test(test_capacity_hint),
        cmocka_unit_test(test_hash_and_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
