/* test_ttl.c — TTLs through the shared handle: edge values, rounding,
 * KEEPTTL, persist, lazy and active expiry, the expiry thread.
 *
 * The clock is the real monotonic clock, so TTLs here are either long (an
 * hour: cannot pass during the test), already expired (<= 0), or short
 * ones followed by a sleep well past them (expiry is then certain; only the
 * opposite, "still there", would depend on timing and is never asserted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fastcache.h"

#define K(s) (s), strlen(s)
#define HOUR_MS (3600 * 1000LL)

static int setup(void **state)
{
    fc_store *s;
    if (fc_store_open(&s, NULL) != FC_OK)
        return -1;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    fc_store_close(*state);
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void test_ttl_none_and_long(void **state)
{
    fc_store *s = *state;
    assert_int_equal(fc_pttl(s, K("k")), FC_TTL_NOKEY);
    assert_int_equal(fc_ttl(s, K("k")), FC_TTL_NOKEY);
    assert_int_equal(fc_set(s, K("k"), K("v"), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_pttl(s, K("k")), FC_TTL_NOEXPIRE);
    assert_int_equal(fc_ttl(s, K("k")), FC_TTL_NOEXPIRE);
    assert_int_equal(fc_set(s, K("k"), K("v"), HOUR_MS, 0), FC_OK);
    int64_t p = fc_pttl(s, K("k"));
    assert_true(p > 0 && p <= HOUR_MS);
    assert_true(fc_ttl(s, K("k")) >= 3500 && fc_ttl(s, K("k")) <= 3600);
    /* A plain set (no KEEPTTL) drops the TTL, as Redis's SET. */
    assert_int_equal(fc_set(s, K("k"), K("v"), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_pttl(s, K("k")), FC_TTL_NOEXPIRE);
}

/* TTL seconds are rounded as Redis's TTL: (pttl + 500) / 1000. Bracketed
 * by two pttl reads, so the check does not depend on how long it takes. */
static void test_ttl_rounding(void **state)
{
    fc_store *s = *state;
    const int64_t ttls[] = {100, 499, 500, 1499, 1500, 1501, 2400, 2600};
    for (size_t i = 0; i < sizeof(ttls) / sizeof(ttls[0]); i++) {
        assert_int_equal(fc_set(s, K("a"), K("v"), ttls[i], 0), FC_OK);
        int64_t before = fc_pttl(s, K("a"));
        int64_t t = fc_ttl(s, K("a"));
        int64_t after = fc_pttl(s, K("a"));
        if (after < 0) /* expired meanwhile: nothing left to compare */
            continue;
        assert_true(before <= ttls[i]);
        assert_true(t <= (before + 500) / 1000);
        assert_true(t >= (after + 500) / 1000);
    }
}

static void test_nonpositive_ttl_deletes(void **state)
{
    fc_store *s = *state;
    assert_int_equal(fc_set(s, K("k"), K("v"), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_set(s, K("k"), K("v2"), 0, 0), FC_OK);
    assert_int_equal(fc_exists(s, K("k")), 0);
    assert_int_equal(fc_set(s, K("k"), K("v"), -5, 0), FC_OK);
    assert_int_equal(fc_exists(s, K("k")), 0);
    assert_int_equal(fc_set(s, K("k"), K("v"), INT64_MIN + 1, 0), FC_OK);
    assert_int_equal(fc_exists(s, K("k")), 0);

    /* NX/XX still apply before the key is removed. */
    assert_int_equal(fc_set(s, K("k"), K("v"), 0, FC_SET_XX), FC_ENOTSET);
    assert_int_equal(fc_set(s, K("k"), K("v"), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_set(s, K("k"), K("v"), 0, FC_SET_NX), FC_EEXISTS);
    assert_int_equal(fc_exists(s, K("k")), 1);
    assert_int_equal(fc_set(s, K("k"), K("v"), 0, FC_SET_XX), FC_OK);
    assert_int_equal(fc_exists(s, K("k")), 0);
    assert_int_equal(fc_set(s, K("k"), K("v"), -1, FC_SET_NX), FC_OK);
    assert_int_equal(fc_exists(s, K("k")), 0);
    assert_int_equal(fc_len(s), 0);
}

static void test_pexpire_expire(void **state)
{
    fc_store *s = *state;
    assert_int_equal(fc_pexpire(s, K("k"), 1000), FC_ENOTFOUND);
    assert_int_equal(fc_expire(s, K("k"), 10), FC_ENOTFOUND);
    assert_int_equal(fc_set(s, K("k"), K("v"), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_expire(s, K("k"), 100), FC_OK);
    int64_t p = fc_pttl(s, K("k"));
    assert_true(p > 50000 && p <= 100000);
    assert_int_equal(fc_pexpire(s, K("k"), HOUR_MS), FC_OK);
    assert_true(fc_pttl(s, K("k")) > 100000);
    /* Past times delete, as Redis's EXPIRE with a non-positive TTL. */
    assert_int_equal(fc_pexpire(s, K("k"), 0), FC_OK);
    assert_int_equal(fc_exists(s, K("k")), 0);
    assert_int_equal(fc_pexpire(s, K("k"), 0), FC_ENOTFOUND);
    assert_int_equal(fc_set(s, K("k"), K("v"), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_expire(s, K("k"), -3), FC_OK);
    assert_int_equal(fc_exists(s, K("k")), 0);
    assert_int_equal(fc_set(s, K("k"), K("v"), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_expire(s, K("k"), INT64_MIN + 1), FC_OK);
    assert_int_equal(fc_exists(s, K("k")), 0);
}

/* "No expiry" passed where a TTL is required is refused, not read as the
 * negative number it is (which would delete the key). */
static void test_ttl_none_in_expire_rejected(void **state)
{
    fc_store *s = *state;
    assert_int_equal(fc_set(s, K("k"), K("v"), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_pexpire(s, K("k"), FC_TTL_NONE), FC_EINVAL);
    assert_int_equal(fc_expire(s, K("k"), FC_TTL_NONE), FC_EINVAL);
    assert_int_equal(fc_exists(s, K("k")), 1);
}

/* TTLs that overflow the absolute expiry time are refused (as Redis's
 * "invalid expire time"), never clamped or wrapped into the past. */
static void test_ttl_overflow(void **state)
{
    fc_store *s = *state;
    assert_int_equal(fc_set(s, K("k"), K("v"), INT64_MAX, 0), FC_EOVERFLOW);
    assert_int_equal(fc_exists(s, K("k")), 0);
    assert_int_equal(fc_set(s, K("k"), K("v"), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_pexpire(s, K("k"), INT64_MAX), FC_EOVERFLOW);
    assert_int_equal(fc_expire(s, K("k"), INT64_MAX / 1000 + 1), FC_EOVERFLOW);
    assert_int_equal(fc_expire(s, K("k"), INT64_MAX), FC_EOVERFLOW);
    assert_int_equal(fc_pttl(s, K("k")), FC_TTL_NOEXPIRE);
    /* Large but representable: fine, and far in the future. */
    int64_t big = INT64_MAX / 4;
    assert_int_equal(fc_pexpire(s, K("k"), big), FC_OK);
    assert_true(fc_pttl(s, K("k")) > big - HOUR_MS);
    assert_int_equal(fc_expire(s, K("k"), INT64_MAX / 4000), FC_OK);
    assert_true(fc_ttl(s, K("k")) > INT64_MAX / 4000 - 3600);
}

static void test_keepttl(void **state)
{
    fc_store *s = *state;
    assert_int_equal(fc_set(s, K("k"), K("v1"), HOUR_MS, 0), FC_OK);
    assert_int_equal(fc_set(s, K("k"), K("v2"), FC_TTL_NONE, FC_SET_KEEPTTL),
                     FC_OK);
    int64_t p = fc_pttl(s, K("k"));
    assert_true(p > HOUR_MS - 60000 && p <= HOUR_MS);
    /* With KEEPTTL the ttl argument is ignored, even a deleting one. */
    assert_int_equal(fc_set(s, K("k"), K("v3"), 0, FC_SET_KEEPTTL), FC_OK);
    assert_true(fc_pttl(s, K("k")) > 0);
    char buf[8];
    size_t len;
    assert_int_equal(fc_get(s, K("k"), buf, sizeof(buf), &len), FC_OK);
    assert_memory_equal(buf, "v3", 2);
    /* A new key with KEEPTTL gets no TTL. */
    assert_int_equal(fc_set(s, K("new"), K("v"), 5000, FC_SET_KEEPTTL), FC_OK);
    assert_int_equal(fc_pttl(s, K("new")), FC_TTL_NOEXPIRE);
}

static void test_persist(void **state)
{
    fc_store *s = *state;
    assert_int_equal(fc_persist(s, K("k")), FC_ENOTFOUND);
    assert_int_equal(fc_set(s, K("k"), K("v"), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_persist(s, K("k")), FC_ENOTFOUND); /* had no TTL */
    assert_int_equal(fc_pexpire(s, K("k"), HOUR_MS), FC_OK);
    assert_int_equal(fc_persist(s, K("k")), FC_OK);
    assert_int_equal(fc_pttl(s, K("k")), FC_TTL_NOEXPIRE);
    assert_int_equal(fc_exists(s, K("k")), 1);
}

static void test_incr_keeps_ttl(void **state)
{
    fc_store *s = *state;
    int64_t r;
    assert_int_equal(fc_set(s, K("n"), K("10"), HOUR_MS, 0), FC_OK);
    assert_int_equal(fc_incrby(s, K("n"), 1, &r), FC_OK);
    assert_int_equal(r, 11);
    assert_true(fc_pttl(s, K("n")) > 0);
}

static void test_short_ttl_expires(void **state)
{
    fc_store *s = *state;
    assert_int_equal(fc_set(s, K("a"), K("v"), 1, 0), FC_OK);
    assert_int_equal(fc_set(s, K("b"), K("v"), 5, 0), FC_OK);
    assert_int_equal(fc_set(s, K("c"), K("v"), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_pexpire(s, K("c"), 2), FC_OK);
    sleep_ms(30);
    char buf[4];
    size_t len;
    assert_int_equal(fc_get(s, K("a"), buf, sizeof(buf), &len), FC_ENOTFOUND);
    assert_int_equal(fc_exists(s, K("b")), 0);
    assert_int_equal(fc_pttl(s, K("c")), FC_TTL_NOKEY);
    assert_int_equal(fc_persist(s, K("c")), FC_ENOTFOUND);
    assert_int_equal(fc_set(s, K("a"), K("v"), FC_TTL_NONE, FC_SET_XX),
                     FC_ENOTSET);
    int64_t r;
    assert_int_equal(fc_set(s, K("n"), K("41"), 1, 0), FC_OK);
    sleep_ms(20);
    assert_int_equal(fc_incrby(s, K("n"), 1, &r), FC_OK);
    assert_int_equal(r, 1); /* the expired 41 is gone: absent counts as 0 */
    assert_int_equal(fc_pttl(s, K("n")), FC_TTL_NOEXPIRE);
}

/* Keys nobody reads again are removed by fc_tick. */
static void test_tick_removes_expired(void **state)
{
    (void)state;
    fc_store *s;
    fc_options o = {.shards = 8};
    assert_int_equal(fc_store_open(&s, &o), FC_OK);
    char key[16];
    for (int i = 0; i < 500; i++) {
        int n = snprintf(key, sizeof(key), "t%d", i);
        int64_t ttl = i % 2 ? 1 : FC_TTL_NONE;
        assert_int_equal(fc_set(s, key, (size_t)n, "v", 1, ttl, 0), FC_OK);
    }
    sleep_ms(20);
    assert_int_equal(fc_tick(s, 0), 0);
    size_t removed = 0;
    for (int round = 0; round < 100000 && removed < 250; round++)
        removed += fc_tick(s, 64);
    assert_int_equal(removed, 250);
    assert_int_equal(fc_len(s), 250);
    assert_int_equal(fc_tick(s, 1u << 20), 0);
    fc_store_close(s);
}

static void test_expiry_thread(void **state)
{
    fc_store *s = *state;
    char key[16];
    assert_int_equal(fc_start_expiry_thread(s, 0), FC_EINVAL);
    assert_int_equal(fc_start_expiry_thread(s, 5), FC_OK);
    assert_int_equal(fc_start_expiry_thread(s, 5), FC_EINVAL); /* running */
    for (int i = 0; i < 300; i++) {
        int n = snprintf(key, sizeof(key), "e%d", i);
        assert_int_equal(fc_set(s, key, (size_t)n, "v", 1, 1, 0), FC_OK);
    }
    assert_int_equal(fc_set(s, K("keep"), K("v"), FC_TTL_NONE, 0), FC_OK);
    /* Poll for the thread's work; the bound only guards against a hang. */
    for (int i = 0; i < 2000 && fc_len(s) > 1; i++)
        sleep_ms(5);
    assert_int_equal(fc_len(s), 1);
    fc_stop_expiry_thread(s);
    fc_stop_expiry_thread(s); /* idempotent */
    assert_int_equal(fc_start_expiry_thread(s, 1000), FC_OK);
    /* left running: fc_store_close (teardown) must stop it */
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_ttl_none_and_long),
        T(test_ttl_rounding),
        T(test_nonpositive_ttl_deletes),
        T(test_pexpire_expire),
        T(test_ttl_none_in_expire_rejected),
        T(test_ttl_overflow),
        T(test_keepttl),
        T(test_persist),
        T(test_incr_keeps_ttl),
        T(test_short_ttl_expires),
        cmocka_unit_test(test_tick_removes_expired),
        T(test_expiry_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
