/* test_store.c — the shared handle's single-key calls and error codes. */
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

/* Gets key as a NUL-terminated string into buf (asserting success). */
static const char *get_str(fc_store *s, const char *key, char *buf, size_t cap)
{
    size_t len = 0;
    assert_int_equal(fc_get(s, K(key), buf, cap - 1, &len), FC_OK);
    buf[len] = '\0';
    return buf;
}

static void test_open_options(void **state)
{
    (void)state;
    fc_store *s = (fc_store *)1;
    fc_options o = {.shards = 3};
    assert_int_equal(fc_store_open(&s, &o), FC_EINVAL);
    assert_null(s);
    o.shards = FC_MAX_SHARDS * 2;
    assert_int_equal(fc_store_open(&s, &o), FC_EINVAL);
    assert_int_equal(fc_store_open(NULL, NULL), FC_EINVAL);

    o.shards = 0;
    assert_int_equal(fc_store_open(&s, &o), FC_OK);
    assert_int_equal(fc_store_shards(s), 64);
    fc_store_close(s);

    o = (fc_options){.shards = 1, .initial_capacity = 10000};
    assert_int_equal(fc_store_open(&s, &o), FC_OK);
    assert_int_equal(fc_store_shards(s), 1);
    assert_int_equal(fc_set(s, K("a"), K("1"), FC_TTL_NONE, 0), FC_OK);
    fc_store_close(s);

    o = (fc_options){.shards = 1024};
    assert_int_equal(fc_store_open(&s, &o), FC_OK);
    assert_int_equal(fc_store_shards(s), 1024);
    fc_store_close(s);
    fc_store_close(NULL); /* allowed, like free(NULL) */
}

static void test_set_get_basic(void **state)
{
    fc_store *s = *state;
    char buf[64];
    assert_int_equal(fc_set(s, K("k"), K("hello"), FC_TTL_NONE, 0), FC_OK);
    assert_string_equal(get_str(s, "k", buf, sizeof(buf)), "hello");
    assert_int_equal(fc_set(s, K("k"), K("world!"), FC_TTL_NONE, 0), FC_OK);
    assert_string_equal(get_str(s, "k", buf, sizeof(buf)), "world!");
    assert_int_equal(fc_len(s), 1);

    size_t len = 99;
    assert_int_equal(fc_get(s, K("missing"), buf, sizeof(buf), &len),
                     FC_ENOTFOUND);
    assert_int_equal(fc_exists(s, K("k")), 1);
    assert_int_equal(fc_exists(s, K("missing")), 0);
}

static void test_get_trunc(void **state)
{
    fc_store *s = *state;
    char buf[4] = {'x', 'x', 'x', 'x'};
    size_t len = 0;
    assert_int_equal(fc_set(s, K("k"), K("12345"), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_get(s, K("k"), buf, 4, &len), FC_ETRUNC);
    assert_int_equal(len, 5);
    assert_memory_equal(buf, "xxxx", 4); /* nothing copied */
    /* Length probe with no buffer at all. */
    assert_int_equal(fc_get(s, K("k"), NULL, 0, &len), FC_ETRUNC);
    assert_int_equal(len, 5);
    char exact[5];
    assert_int_equal(fc_get(s, K("k"), exact, 5, &len), FC_OK);
    assert_memory_equal(exact, "12345", 5);
}

static void test_empty_key_and_value(void **state)
{
    fc_store *s = *state;
    size_t len = 7;
    char buf[8];
    assert_int_equal(fc_set(s, NULL, 0, NULL, 0, FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_exists(s, "", 0), 1);
    assert_int_equal(fc_get(s, "", 0, buf, sizeof(buf), &len), FC_OK);
    assert_int_equal(len, 0);
    assert_int_equal(fc_get(s, NULL, 0, NULL, 0, &len), FC_OK);
    assert_int_equal(len, 0);
    void *v = NULL;
    assert_int_equal(fc_get_alloc(s, "", 0, &v, &len), FC_OK);
    assert_non_null(v); /* a malloc'd (empty) copy, still to be freed */
    assert_int_equal(len, 0);
    fc_free(v);
    assert_int_equal(fc_del(s, NULL, 0), FC_OK);
    assert_int_equal(fc_exists(s, "", 0), 0);
}

static void test_binary_keys(void **state)
{
    fc_store *s = *state;
    const char k1[] = {'a', '\0', 'b'};
    const char k2[] = {'a', '\0', 'c'};
    const char k3[] = {'a'};
    const char val[] = {'\0', '\xff', '\0', 'z'};
    assert_int_equal(fc_set(s, k1, 3, val, 4, FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_set(s, k2, 3, "two", 3, FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_exists(s, k3, 1), 0); /* prefix up to the NUL */
    char buf[8];
    size_t len;
    assert_int_equal(fc_get(s, k1, 3, buf, sizeof(buf), &len), FC_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(buf, val, 4);
    assert_int_equal(fc_get(s, k2, 3, buf, sizeof(buf), &len), FC_OK);
    assert_memory_equal(buf, "two", 3);
    assert_int_equal(fc_del(s, k1, 3), FC_OK);
    assert_int_equal(fc_exists(s, k2, 3), 1);
    assert_int_equal(fc_len(s), 1);
}

static void test_set_flags(void **state)
{
    fc_store *s = *state;
    char buf[16];
    assert_int_equal(fc_set(s, K("k"), K("v1"), FC_TTL_NONE, FC_SET_XX),
                     FC_ENOTSET);
    assert_int_equal(fc_exists(s, K("k")), 0);
    assert_int_equal(fc_set(s, K("k"), K("v1"), FC_TTL_NONE, FC_SET_NX), FC_OK);
    assert_int_equal(fc_set(s, K("k"), K("v2"), FC_TTL_NONE, FC_SET_NX),
                     FC_EEXISTS);
    assert_string_equal(get_str(s, "k", buf, sizeof(buf)), "v1");
    assert_int_equal(fc_set(s, K("k"), K("v3"), FC_TTL_NONE, FC_SET_XX), FC_OK);
    assert_string_equal(get_str(s, "k", buf, sizeof(buf)), "v3");
    assert_int_equal(
        fc_set(s, K("k"), K("v4"), FC_TTL_NONE, FC_SET_NX | FC_SET_XX),
        FC_EINVAL);
    assert_int_equal(fc_set(s, K("k"), K("v4"), FC_TTL_NONE, 0x80), FC_EINVAL);
    assert_string_equal(get_str(s, "k", buf, sizeof(buf)), "v3");
}

static void test_set_get_old(void **state)
{
    fc_store *s = *state;
    void *old = (void *)1;
    size_t old_len = 99;
    assert_int_equal(
        fc_set_get(s, K("k"), K("a"), FC_TTL_NONE, 0, &old, &old_len), FC_OK);
    assert_null(old);
    assert_int_equal(
        fc_set_get(s, K("k"), K("bb"), FC_TTL_NONE, 0, &old, &old_len), FC_OK);
    assert_non_null(old);
    assert_int_equal(old_len, 1);
    assert_memory_equal(old, "a", 1);
    fc_free(old);
    /* NX on a present key: not set, but the old value is still reported. */
    assert_int_equal(
        fc_set_get(s, K("k"), K("c"), FC_TTL_NONE, FC_SET_NX, &old, &old_len),
        FC_EEXISTS);
    assert_non_null(old);
    assert_memory_equal(old, "bb", 2);
    fc_free(old);
    assert_int_equal(fc_set_get(s, K("nokey"), K("c"), FC_TTL_NONE, FC_SET_XX,
                                &old, &old_len),
                     FC_ENOTSET);
    assert_null(old);
    assert_int_equal(fc_exists(s, K("nokey")), 0);
    assert_int_equal(fc_set_get(s, K("k"), K("c"), FC_TTL_NONE, 0, &old, NULL),
                     FC_EINVAL);
    /* A non-positive TTL deletes and still returns the old value. */
    assert_int_equal(fc_set_get(s, K("k"), K("z"), 0, 0, &old, &old_len),
                     FC_OK);
    assert_memory_equal(old, "bb", 2);
    fc_free(old);
    assert_int_equal(fc_exists(s, K("k")), 0);
}

struct view_ctx {
    int calls;
    char seen[32];
    size_t len;
};

static void view_fn(void *ctx, const void *value, size_t len)
{
    struct view_ctx *c = ctx;
    c->calls++;
    c->len = len;
    memcpy(c->seen, value, len < sizeof(c->seen) ? len : sizeof(c->seen));
}

static void test_get_alloc_and_view(void **state)
{
    fc_store *s = *state;
    assert_int_equal(fc_set(s, K("k"), K("value"), FC_TTL_NONE, 0), FC_OK);
    void *v = NULL;
    size_t len = 0;
    assert_int_equal(fc_get_alloc(s, K("k"), &v, &len), FC_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(v, "value", 5);
    fc_free(v);
    v = (void *)1;
    assert_int_equal(fc_get_alloc(s, K("nope"), &v, &len), FC_ENOTFOUND);
    assert_null(v);

    struct view_ctx c = {0};
    assert_int_equal(fc_get_view(s, K("k"), view_fn, &c), FC_OK);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.len, 5);
    assert_memory_equal(c.seen, "value", 5);
    assert_int_equal(fc_get_view(s, K("nope"), view_fn, &c), FC_ENOTFOUND);
    assert_int_equal(c.calls, 1); /* no call when absent */
    assert_int_equal(fc_get_view(s, K("k"), NULL, &c), FC_EINVAL);
}

static void test_del(void **state)
{
    fc_store *s = *state;
    assert_int_equal(fc_del(s, K("k")), FC_ENOTFOUND);
    assert_int_equal(fc_set(s, K("k"), K("v"), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_del(s, K("k")), FC_OK);
    assert_int_equal(fc_del(s, K("k")), FC_ENOTFOUND);
    assert_int_equal(fc_len(s), 0);
}

static void test_incrby(void **state)
{
    fc_store *s = *state;
    int64_t r = 0;
    char buf[32];
    assert_int_equal(fc_incrby(s, K("n"), 5, &r), FC_OK);
    assert_int_equal(r, 5);
    assert_int_equal(fc_incrby(s, K("n"), -7, &r), FC_OK);
    assert_int_equal(r, -2);
    assert_string_equal(get_str(s, "n", buf, sizeof(buf)), "-2");

    assert_int_equal(
        fc_set(s, K("n"), K("9223372036854775806"), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_incrby(s, K("n"), 1, &r), FC_OK);
    assert_true(r == INT64_MAX);
    assert_int_equal(fc_incrby(s, K("n"), 1, &r), FC_EOVERFLOW);
    assert_string_equal(get_str(s, "n", buf, sizeof(buf)),
                        "9223372036854775807");
    assert_int_equal(
        fc_set(s, K("m"), K("-9223372036854775808"), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_incrby(s, K("m"), -1, &r), FC_EOVERFLOW);

    const char *bad[] = {
        "abc", "", " 1", "1 ", "1.5", "0x10", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(fc_set(s, K("x"), K(bad[i]), FC_TTL_NONE, 0), FC_OK);
        assert_int_equal(fc_incrby(s, K("x"), 1, &r), FC_ENOTINT);
    }
    assert_int_equal(fc_incrby(s, K("n"), 1, NULL), FC_EINVAL);
}

static void test_invalid_args(void **state)
{
    fc_store *s = *state;
    size_t len;
    char buf[4];
    int64_t r;
    assert_int_equal(fc_set(s, NULL, 3, "v", 1, FC_TTL_NONE, 0), FC_EINVAL);
    assert_int_equal(fc_set(s, "k", 1, NULL, 3, FC_TTL_NONE, 0), FC_EINVAL);
    assert_int_equal(fc_set(NULL, "k", 1, "v", 1, FC_TTL_NONE, 0), FC_EINVAL);
    assert_int_equal(fc_get(s, NULL, 2, buf, sizeof(buf), &len), FC_EINVAL);
    assert_int_equal(fc_get(s, "k", 1, buf, sizeof(buf), NULL), FC_EINVAL);
    assert_int_equal(fc_get(s, "k", 1, NULL, 4, &len), FC_EINVAL);
    assert_int_equal(fc_get_alloc(s, "k", 1, NULL, &len), FC_EINVAL);
    assert_int_equal(fc_del(s, NULL, 1), FC_EINVAL);
    assert_int_equal(fc_exists(s, NULL, 1), 0);
    assert_int_equal(fc_incrby(s, NULL, 1, 1, &r), FC_EINVAL);
    assert_int_equal(fc_persist(s, NULL, 1), FC_EINVAL);
    assert_int_equal(fc_pexpire(s, NULL, 1, 10), FC_EINVAL);
    assert_int_equal(fc_pttl(s, NULL, 1), FC_TTL_NOKEY);
    assert_int_equal(fc_len(s), 0);
}

/* Sizes past the limits are refused from the lengths alone: the pointers
 * below are far too small, so reading them would fault under ASan. */
static void test_too_big(void **state)
{
    fc_store *s = *state;
    char small[1] = {'x'};
    size_t len;
    assert_int_equal(
        fc_set(s, small, FC_MAX_KEY_LEN + 1, small, 1, FC_TTL_NONE, 0),
        FC_ETOOBIG);
    assert_int_equal(
        fc_set(s, small, 1, small, FC_MAX_VALUE_LEN + 1, FC_TTL_NONE, 0),
        FC_ETOOBIG);
    assert_int_equal(fc_set(s, small, 1, small, SIZE_MAX, FC_TTL_NONE, 0),
                     FC_ETOOBIG);
    assert_int_equal(fc_get(s, small, FC_MAX_KEY_LEN + 1, small, 1, &len),
                     FC_ETOOBIG);
    assert_int_equal(fc_del(s, small, SIZE_MAX), FC_ETOOBIG);
    assert_int_equal(fc_exists(s, small, SIZE_MAX), 0);
    assert_int_equal(fc_len(s), 0);
}

static void test_huge_value(void **state)
{
    fc_store *s = *state;
    size_t n = (size_t)32 * 1024 * 1024;
    unsigned char *v = malloc(n);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = (unsigned char)(i * 2654435761u >> 13);
    assert_int_equal(fc_set(s, K("big"), v, n, FC_TTL_NONE, 0), FC_OK);
    assert_true(fc_store_memory(s) >= n);

    void *copy = NULL;
    size_t len = 0;
    assert_int_equal(fc_get_alloc(s, K("big"), &copy, &len), FC_OK);
    assert_int_equal(len, n);
    assert_memory_equal(copy, v, n);
    /* Buffer one byte short: FC_ETRUNC with the needed size. */
    assert_int_equal(fc_get(s, K("big"), copy, n - 1, &len), FC_ETRUNC);
    assert_int_equal(len, n);
    fc_free(copy);
    assert_int_equal(fc_del(s, K("big")), FC_OK);
    free(v);
}

static void test_clear_len_memory(void **state)
{
    fc_store *s = *state;
    size_t empty = fc_store_memory(s);
    char key[32];
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(key, sizeof(key), "key:%d", i);
        assert_int_equal(
            fc_set(s, key, (size_t)n, key, (size_t)n, FC_TTL_NONE, 0), FC_OK);
    }
    assert_int_equal(fc_len(s), 1000);
    size_t full = fc_store_memory(s);
    assert_true(full > empty);
    fc_clear(s);
    assert_int_equal(fc_len(s), 0);
    assert_int_equal(fc_exists(s, K("key:1")), 0);
    assert_true(fc_store_memory(s) < full);
}

/* Many keys through a one-shard store: every table growth happens while
 * reads, overwrites and deletes go on, and nothing may be lost. */
static void test_resize_under_load(void **state)
{
    (void)state;
    fc_store *s;
    fc_options o = {.shards = 1};
    assert_int_equal(fc_store_open(&s, &o), FC_OK);
    enum { N = 100000 };
    char key[32], buf[32];
    size_t len;
    for (int i = 0; i < N; i++) {
        int n = snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(
            fc_set(s, key, (size_t)n, &i, sizeof(i), FC_TTL_NONE, 0), FC_OK);
        if (i % 7 == 0) { /* read back an older key mid-growth */
            int j = i / 2;
            n = snprintf(key, sizeof(key), "k%d", j);
            int rc = fc_get(s, key, (size_t)n, buf, sizeof(buf), &len);
            if (j % 3 == 0 && j + 3 <= i - 1) {
                assert_int_equal(rc, FC_ENOTFOUND);
            } else {
                assert_int_equal(rc, FC_OK);
                assert_memory_equal(buf, &j, sizeof(j));
            }
        }
        if (i % 3 == 0 && i > 0) { /* delete every third key, lagging */
            int j = i - 3;
            n = snprintf(key, sizeof(key), "k%d", j);
            assert_int_equal(fc_del(s, key, (size_t)n), FC_OK);
        }
    }
    size_t live = 0;
    for (int i = 0; i < N; i++) {
        int n = snprintf(key, sizeof(key), "k%d", i);
        int rc = fc_get(s, key, (size_t)n, buf, sizeof(buf), &len);
        bool deleted = i % 3 == 0 && i + 3 < N;
        assert_int_equal(rc, deleted ? FC_ENOTFOUND : FC_OK);
        if (rc == FC_OK) {
            assert_memory_equal(buf, &i, sizeof(i));
            live++;
        }
    }
    assert_int_equal(fc_len(s), live);
    fc_store_close(s);
}

static void test_strerror_hash_now(void **state)
{
    (void)state;
    const int codes[] = {FC_OK,        FC_ENOTFOUND, FC_EEXISTS, FC_ENOMEM,
                         FC_EINVAL,    FC_ETOOBIG,   FC_ENOTINT, FC_EOVERFLOW,
                         FC_ENOTLOCAL, FC_ETRUNC,    FC_ENOTSET, FC_EWRONGTYPE,
                         FC_EIO,       FC_EREADONLY, FC_ETIMEDOUT};
    const char *unknown = fc_strerror(-1000);
    assert_non_null(unknown);
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        const char *m = fc_strerror(codes[i]);
        assert_non_null(m);
        assert_true(strlen(m) > 0);
        assert_true(strcmp(m, unknown) != 0);
        for (size_t j = 0; j < i; j++) /* each code has its own text */
            assert_true(strcmp(m, fc_strerror(codes[j])) != 0);
    }
    assert_true(fc_hash("abc", 3) == fc_hash("abc", 3));
    assert_true(fc_hash("abc", 3) != fc_hash("abd", 3));
    assert_true(fc_hash("a\0b", 3) != fc_hash("a\0c", 3));
    int64_t t0 = fc_now_ms();
    int64_t t1 = fc_now_ms();
    assert_true(t0 > 0);
    assert_true(t1 >= t0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_options),
        cmocka_unit_test_setup_teardown(test_set_get_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_trunc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_key_and_value, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_binary_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_get_old, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_alloc_and_view, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_del, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incrby, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear_len_memory, setup, teardown),
        cmocka_unit_test(test_resize_under_load),
        cmocka_unit_test(test_strerror_hash_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
