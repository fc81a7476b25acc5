/*
 * DEL, UNLINK, EXISTS, TOUCH, TYPE, RENAME, RENAMENX, COPY — including
 * source and destination on the same and on different shards.
 */
#include <stdio.h>

#include "test_commands.h"

static int setup(void **state)
{
    *state = th_new(4);
    return 0;
}

static int teardown(void **state)
{
    th_free(*state);
    return 0;
}

/* Finds a key "dst<n>" on the shard of `of` (same) or on another one. */
static void key_on_shard(const th *t, const char *of, bool same, char *out,
                         size_t cap)
{
    unsigned s = th_shard_of(t, of);
    for (int i = 0; i < 10000; i++) {
        snprintf(out, cap, "dst%d", i);
        if ((th_shard_of(t, out) == s) == same)
            return;
    }
    fail_msg("no key found");
}

static void test_del_unlink(void **state)
{
    th *t = *state;
    EXPECT(t, ":0\r\n", "DEL", "k");
    EXPECT(t, "+OK\r\n", "MSET", "a", "1", "b", "2", "c", "3");
    EXPECT(t, ":1\r\n", "DEL", "a", "a", "nokey");
    EXPECT(t, ":2\r\n", "UNLINK", "b", "c", "d");
    EXPECT(t, ":0\r\n", "EXISTS", "a", "b", "c");
    EXPECT(t, "+OK\r\n", "SET", "e", "v", "PX", "10");
    t->c.now += 10;
    EXPECT(t, ":0\r\n", "DEL", "e"); /* expired keys are not counted */
}

static void test_exists_touch_type(void **state)
{
    th *t = *state;
    EXPECT(t, "+OK\r\n", "MSET", "a", "1", "b", "2");
    EXPECT(t, ":3\r\n", "EXISTS", "a", "a", "b", "nokey");
    EXPECT(t, ":2\r\n", "TOUCH", "a", "b", "c");
    EXPECT(t, "+none\r\n", "TYPE", "c");
    EXPECT(t, "+string\r\n", "TYPE", "a");
    EXPECT(t, "+OK\r\n", "SET", "e", "v", "PX", "5");
    t->c.now += 5;
    EXPECT(t, "+none\r\n", "TYPE", "e");
    EXPECT(t, ":0\r\n", "EXISTS", "e");
}

static void rename_cases(th *t, bool same_shard)
{
    char dst[32];
    key_on_shard(t, "src", same_shard, dst, sizeof(dst));
    EXPECT(t, "+OK\r\n", "SET", "src", "v", "EX", "100");
    EXPECT(t, "+OK\r\n", "RENAME", "src", dst);
    EXPECT(t, ":0\r\n", "EXISTS", "src");
    EXPECT(t, "$1\r\nv\r\n", "GET", dst);
    EXPECT(t, ":100\r\n", "TTL", dst); /* the TTL moves with the value */
    /* Overwrites the destination, TTL and all. */
    EXPECT(t, "+OK\r\n", "SET", "src", "w");
    EXPECT(t, "+OK\r\n", "RENAME", "src", dst);
    EXPECT(t, "$1\r\nw\r\n", "GET", dst);
    EXPECT(t, ":-1\r\n", "TTL", dst);
    EXPECT(t, "-ERR no such key\r\n", "RENAME", "src", dst);
    /* RENAMENX */
    EXPECT(t, "+OK\r\n", "SET", "src", "x");
    EXPECT(t, ":0\r\n", "RENAMENX", "src", dst);
    EXPECT(t, "$1\r\nx\r\n", "GET", "src");
    EXPECT(t, ":1\r\n", "DEL", dst);
    EXPECT(t, ":1\r\n", "RENAMENX", "src", dst);
    EXPECT(t, "$1\r\nx\r\n", "GET", dst);
    EXPECT(t, ":0\r\n", "EXISTS", "src");
    EXPECT(t, "-ERR no such key\r\n", "RENAMENX", "src", dst);
    EXPECT(t, ":1\r\n", "DEL", dst);
}

static void test_rename(void **state)
{
    th *t = *state;
    rename_cases(t, true);
    rename_cases(t, false);
}

static void test_rename_same_key(void **state)
{
    th *t = *state;
    EXPECT(t, "-ERR no such key\r\n", "RENAME", "k", "k");
    EXPECT(t, "-ERR no such key\r\n", "RENAMENX", "k", "k");
    EXPECT(t, "+OK\r\n", "SET", "k", "v", "EX", "10");
    EXPECT(t, "+OK\r\n", "RENAME", "k", "k");
    EXPECT(t, ":0\r\n", "RENAMENX", "k", "k");
    EXPECT(t, "$1\r\nv\r\n", "GET", "k");
    EXPECT(t, ":10\r\n", "TTL", "k");
    /* An expired source is a missing one. */
    t->c.now += 10000;
    EXPECT(t, "-ERR no such key\r\n", "RENAME", "k", "j");
}

static void copy_cases(th *t, bool same_shard)
{
    char dst[32];
    key_on_shard(t, "src", same_shard, dst, sizeof(dst));
    EXPECT(t, ":0\r\n", "COPY", "src", dst);
    EXPECT(t, "+OK\r\n", "SET", "src", "v", "EX", "100");
    EXPECT(t, ":1\r\n", "COPY", "src", dst);
    EXPECT(t, "$1\r\nv\r\n", "GET", dst);
    EXPECT(t, "$1\r\nv\r\n", "GET", "src");
    EXPECT(t, ":100\r\n", "TTL", dst);
    EXPECT(t, "+OK\r\n", "SET", "src", "w");
    EXPECT(t, ":0\r\n", "COPY", "src", dst);
    EXPECT(t, "$1\r\nv\r\n", "GET", dst);
    EXPECT(t, ":1\r\n", "COPY", "src", dst, "REPLACE");
    EXPECT(t, "$1\r\nw\r\n", "GET", dst);
    EXPECT(t, ":-1\r\n", "TTL", dst);
    EXPECT(t, "+OK\r\n", "SET", "src", "z");
    EXPECT(t, ":1\r\n", "COPY", "src", dst, "db", "0", "replace");
    EXPECT(t, "$1\r\nz\r\n", "GET", dst);
    EXPECT(t, ":2\r\n", "DEL", "src", dst);
}

static void test_copy(void **state)
{
    th *t = *state;
    copy_cases(t, true);
    copy_cases(t, false);
}

static void test_copy_errors(void **state)
{
    th *t = *state;
    EXPECT(t, "+OK\r\n", "SET", "e", "v");
    EXPECT(t, "-ERR source and destination objects are the same\r\n", "COPY",
           "e", "e");
    EXPECT(t, "-ERR DB index is out of range\r\n", "COPY", "e", "h", "DB", "1");
    EXPECT(t, "-ERR DB index is out of range\r\n", "COPY", "e", "h", "db",
           "-1");
    EXPECT(t,
           "-ERR value is out of range, value must between -2147483648 and "
           "2147483647\r\n",
           "COPY", "e", "h", "db", "99999999999");
    EXPECT(t, "-ERR value is not an integer or out of range\r\n", "COPY", "e",
           "h", "db", "x");
    EXPECT(t, "-ERR syntax error\r\n", "COPY", "e", "h", "REPLACE", "foo");
    EXPECT(t, "-ERR syntax error\r\n", "COPY", "e", "h", "db");
    EXPECT(t, ":0\r\n", "EXISTS", "h");
    /* Options are checked before the keys. */
    EXPECT(t, "-ERR syntax error\r\n", "COPY", "nokey", "nokey", "x");
}

static void test_large_value_moves(void **state)
{
    th *t = *state;
    char dst[32];
    size_t n = 100000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[n] = '\0';
    key_on_shard(t, "src", true, dst, sizeof(dst));
    EXPECT(t, "+OK\r\n", "SET", "src", big);
    EXPECT(t, ":1\r\n", "COPY", "src", dst);
    RUN(t, "GET", dst);
    assert_int_equal(t->out.len, n + 11); /* "$100000\r\n" + value + CRLF */
    assert_memory_equal(t->out.data + 9, big, n);
    EXPECT(t, "+OK\r\n", "RENAME", dst, "other");
    RUN(t, "GET", "other");
    assert_memory_equal(t->out.data + 9, big, n);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_del_unlink),
        T(test_exists_touch_type),
        T(test_rename),
        T(test_rename_same_key),
        T(test_copy),
        T(test_copy_errors),
        T(test_large_value_moves),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
