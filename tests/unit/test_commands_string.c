/*
 * GET, SET (every option and conflict), SETNX, SETEX, PSETEX, GETEX,
 * GETDEL, GETSET, MGET, MSET, MSETNX: byte-exact replies as Redis 7.0.
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

static char *fmt_int(char *buf, long long v)
{
    snprintf(buf, 32, ":%lld\r\n", v);
    return buf;
}

static void test_get_set(void **state)
{
    th *t = *state;
    EXPECT(t, "$-1\r\n", "GET", "k");
    EXPECT(t, "+OK\r\n", "SET", "k", "hello");
    EXPECT(t, "$5\r\nhello\r\n", "GET", "k");
    EXPECT(t, "+OK\r\n", "set", "k", "");
    EXPECT(t, "$0\r\n\r\n", "get", "k");
    EXPECT(t, "+OK\r\n", "SeT", "k", "again");
    EXPECT(t, "$5\r\nagain\r\n", "gEt", "k");
}

static void test_binary_safe(void **state)
{
    th *t = *state;
    resp_arg set[3] = {{"SET", 3}, {"a\0b", 3}, {"x\0\r\ny", 5}};
    resp_arg get[2] = {{"GET", 3}, {"a\0b", 3}};
    resp_arg other[2] = {{"GET", 3}, {"a", 1}};
    th_runv(t, 3, set);
    th_runv(t, 2, get);
    assert_int_equal(t->out.len, 11);
    assert_memory_equal(t->out.data, "$5\r\nx\0\r\ny\r\n", 11);
    assert_string_equal(th_runv(t, 2, other), "$-1\r\n");
}

static void test_set_nx_xx(void **state)
{
    th *t = *state;
    EXPECT(t, "$-1\r\n", "SET", "k", "v", "XX");
    EXPECT(t, ":0\r\n", "EXISTS", "k");
    EXPECT(t, "+OK\r\n", "SET", "k", "v", "NX");
    EXPECT(t, "$-1\r\n", "SET", "k", "w", "nx");
    EXPECT(t, "$1\r\nv\r\n", "GET", "k");
    EXPECT(t, "+OK\r\n", "SET", "k", "w", "xx");
    EXPECT(t, "$1\r\nw\r\n", "GET", "k");
    /* Repeating an option is allowed. */
    EXPECT(t, "$-1\r\n", "SET", "k", "z", "NX", "NX");
}

static void test_set_get_option(void **state)
{
    th *t = *state;
    EXPECT(t, "$-1\r\n", "SET", "k", "v1", "GET");
    EXPECT(t, "$2\r\nv1\r\n", "SET", "k", "v2", "get");
    EXPECT(t, "$2\r\nv2\r\n", "GET", "k");
    /* NX fails but GET still answers the current value. */
    EXPECT(t, "$2\r\nv2\r\n", "SET", "k", "v3", "NX", "GET");
    EXPECT(t, "$2\r\nv2\r\n", "GET", "k");
    /* XX fails on a missing key: nil, nothing written. */
    EXPECT(t, "$-1\r\n", "SET", "m", "x", "XX", "GET");
    EXPECT(t, ":0\r\n", "EXISTS", "m");
    EXPECT(t, "$2\r\nv2\r\n", "SET", "k", "v4", "XX", "GET");
    EXPECT(t, "$2\r\nv4\r\n", "SET", "k", "v5", "GET", "GET");
}

static void test_set_syntax_errors(void **state)
{
    th *t = *state;
    const char *err = "-ERR syntax error\r\n";
    EXPECT(t, err, "SET", "k", "v", "NX", "XX");
    EXPECT(t, err, "SET", "k", "v", "XX", "NX");
    EXPECT(t, err, "SET", "k", "v", "EX", "10", "PX", "10");
    EXPECT(t, err, "SET", "k", "v", "EX", "10", "EXAT", "10");
    EXPECT(t, err, "SET", "k", "v", "PXAT", "10", "EX", "10");
    EXPECT(t, err, "SET", "k", "v", "EXAT", "10", "PXAT", "5");
    EXPECT(t, err, "SET", "k", "v", "KEEPTTL", "EX", "10");
    EXPECT(t, err, "SET", "k", "v", "PX", "10", "KEEPTTL");
    EXPECT(t, err, "SET", "k", "v", "PERSIST");
    EXPECT(t, err, "SET", "k", "v", "EX");
    EXPECT(t, err, "SET", "k", "v", "FOO");
    EXPECT(t, err, "SET", "k", "v", "NXX");
    EXPECT(t, ":0\r\n", "EXISTS", "k");
}

static void test_set_expire_errors(void **state)
{
    th *t = *state;
    const char *bad = "-ERR invalid expire time in 'set' command\r\n";
    const char *notint = "-ERR value is not an integer or out of range\r\n";
    EXPECT(t, bad, "SET", "k", "v", "EX", "0");
    EXPECT(t, bad, "SET", "k", "v", "EX", "-1");
    EXPECT(t, bad, "SET", "k", "v", "PX", "0");
    EXPECT(t, bad, "SET", "k", "v", "EXAT", "0");
    EXPECT(t, bad, "SET", "k", "v", "PXAT", "-5");
    /* Overflow in the unit conversion or in adding the current time. */
    EXPECT(t, bad, "SET", "k", "v", "EX", "9223372036854776");
    EXPECT(t, bad, "SET", "k", "v", "EX", "9223372036854775");
    EXPECT(t, bad, "SET", "k", "v", "PX", "9223372036854775807");
    EXPECT(t, bad, "SET", "k", "v", "EXAT", "9223372036854776");
    EXPECT(t, notint, "SET", "k", "v", "EX", "abc");
    EXPECT(t, notint, "SET", "k", "v", "EX", "1.5");
    EXPECT(t, notint, "SET", "k", "v", "PX", "99999999999999999999");
    EXPECT(t, ":0\r\n", "EXISTS", "k");
}

static void test_set_ttls(void **state)
{
    th *t = *state;
    char buf[32];
    EXPECT(t, "+OK\r\n", "SET", "k", "v", "EX", "100");
    EXPECT(t, ":100\r\n", "TTL", "k");
    EXPECT(t, ":100000\r\n", "PTTL", "k");
    EXPECT(t, "+OK\r\n", "SET", "k", "v", "px", "1500");
    EXPECT(t, ":1500\r\n", "PTTL", "k");
    EXPECT(t, ":2\r\n", "TTL", "k"); /* (1500 + 500) / 1000 */
    snprintf(buf, sizeof(buf), "%lld", TH_WALL / 1000 + 50);
    EXPECT(t, "+OK\r\n", "SET", "k", "v", "EXAT", buf);
    EXPECT(t, fmt_int(buf, (TH_WALL / 1000 + 50) * 1000 - TH_WALL), "PTTL",
           "k");
    snprintf(buf, sizeof(buf), "%lld", TH_WALL + 1234);
    EXPECT(t, "+OK\r\n", "SET", "k", "v", "PXAT", buf);
    EXPECT(t, ":1234\r\n", "PTTL", "k");
    /* The last of several EX wins. */
    EXPECT(t, "+OK\r\n", "SET", "k", "v", "EX", "10", "EX", "20");
    EXPECT(t, ":20\r\n", "TTL", "k");
    /* A far EXAT is accepted (only its conversion may overflow). */
    EXPECT(t, "+OK\r\n", "SET", "k", "v", "EXAT", "9223372036854775");
    EXPECT(t, fmt_int(buf, 9223372036854775000LL - TH_WALL), "PTTL", "k");
}

static void test_set_keepttl(void **state)
{
    th *t = *state;
    EXPECT(t, "+OK\r\n", "SET", "k", "v", "EX", "100");
    EXPECT(t, "+OK\r\n", "SET", "k", "w", "KEEPTTL");
    EXPECT(t, ":100\r\n", "TTL", "k");
    EXPECT(t, "$1\r\nw\r\n", "GET", "k");
    EXPECT(t, "+OK\r\n", "SET", "k", "x");
    EXPECT(t, ":-1\r\n", "TTL", "k");
    EXPECT(t, "+OK\r\n", "SET", "new", "x", "keepttl");
    EXPECT(t, ":-1\r\n", "TTL", "new");
}

static void test_set_past_time(void **state)
{
    th *t = *state;
    EXPECT(t, "+OK\r\n", "SET", "k", "v");
    EXPECT(t, "+OK\r\n", "SET", "k", "w", "EXAT", "1");
    EXPECT(t, ":0\r\n", "EXISTS", "k");
    EXPECT(t, "+OK\r\n", "SET", "k", "v");
    EXPECT(t, "$1\r\nv\r\n", "SET", "k", "w", "PXAT", "1", "GET");
    EXPECT(t, ":0\r\n", "EXISTS", "k");
    EXPECT(t, "$-1\r\n", "SET", "k", "w", "EXAT", "1", "GET");
    EXPECT(t, ":0\r\n", "EXISTS", "k");
    /* The NX/XX condition still decides. */
    EXPECT(t, "$-1\r\n", "SET", "k", "w", "EXAT", "1", "XX");
    EXPECT(t, "+OK\r\n", "SET", "k", "v");
    EXPECT(t, "$-1\r\n", "SET", "k", "w", "EXAT", "1", "NX");
    EXPECT(t, "$1\r\nv\r\n", "GET", "k");
}

static void test_expiry_by_time(void **state)
{
    th *t = *state;
    EXPECT(t, "+OK\r\n", "SET", "k", "v", "PX", "100");
    t->c.now += 99;
    EXPECT(t, "$1\r\nv\r\n", "GET", "k");
    EXPECT(t, ":1\r\n", "PTTL", "k");
    t->c.now += 1;
    EXPECT(t, "$-1\r\n", "GET", "k");
    EXPECT(t, ":-2\r\n", "PTTL", "k");
}

static void test_setnx(void **state)
{
    th *t = *state;
    EXPECT(t, ":1\r\n", "SETNX", "k", "v");
    EXPECT(t, ":0\r\n", "SETNX", "k", "w");
    EXPECT(t, "$1\r\nv\r\n", "GET", "k");
}

static void test_setex_psetex(void **state)
{
    th *t = *state;
    EXPECT(t, "+OK\r\n", "SETEX", "k", "10", "v");
    EXPECT(t, ":10\r\n", "TTL", "k");
    EXPECT(t, "$1\r\nv\r\n", "GET", "k");
    EXPECT(t, "+OK\r\n", "PSETEX", "k", "1500", "w");
    EXPECT(t, ":1500\r\n", "PTTL", "k");
    EXPECT(t, "-ERR invalid expire time in 'setex' command\r\n", "SETEX", "k",
           "0", "v");
    EXPECT(t, "-ERR invalid expire time in 'psetex' command\r\n", "PSETEX", "k",
           "-1", "v");
    EXPECT(t, "-ERR value is not an integer or out of range\r\n", "SETEX", "k",
           "abc", "v");
    EXPECT(t, "$1\r\nw\r\n", "GET", "k");
}

static void test_getex(void **state)
{
    th *t = *state;
    char buf[32];
    EXPECT(t, "$-1\r\n", "GETEX", "k");
    EXPECT(t, "+OK\r\n", "SET", "k", "v", "EX", "50");
    EXPECT(t, "$1\r\nv\r\n", "GETEX", "k");
    EXPECT(t, ":50\r\n", "TTL", "k");
    EXPECT(t, "$1\r\nv\r\n", "GETEX", "k", "EX", "100");
    EXPECT(t, ":100\r\n", "TTL", "k");
    EXPECT(t, "$1\r\nv\r\n", "GETEX", "k", "px", "2500");
    EXPECT(t, ":2500\r\n", "PTTL", "k");
    snprintf(buf, sizeof(buf), "%lld", TH_WALL + 7000);
    EXPECT(t, "$1\r\nv\r\n", "GETEX", "k", "PXAT", buf);
    EXPECT(t, ":7000\r\n", "PTTL", "k");
    snprintf(buf, sizeof(buf), "%lld", TH_WALL / 1000 + 9);
    EXPECT(t, "$1\r\nv\r\n", "GETEX", "k", "EXAT", buf);
    EXPECT(t, fmt_int(buf, (TH_WALL / 1000 + 9) * 1000 - TH_WALL), "PTTL", "k");
    EXPECT(t, "$1\r\nv\r\n", "GETEX", "k", "PERSIST", "persist");
    EXPECT(t, ":-1\r\n", "TTL", "k");
    EXPECT(t, "$1\r\nv\r\n", "GETEX", "k", "PERSIST");
    /* A past absolute time answers the value, then the key is gone. */
    EXPECT(t, "$1\r\nv\r\n", "GETEX", "k", "EXAT", "1");
    EXPECT(t, ":0\r\n", "EXISTS", "k");
}

static void test_getex_errors(void **state)
{
    th *t = *state;
    const char *err = "-ERR syntax error\r\n";
    EXPECT(t, "+OK\r\n", "SET", "k", "v");
    EXPECT(t, err, "GETEX", "k", "NX");
    EXPECT(t, err, "GETEX", "k", "GET");
    EXPECT(t, err, "GETEX", "k", "KEEPTTL");
    EXPECT(t, err, "GETEX", "k", "EX");
    EXPECT(t, err, "GETEX", "k", "PERSIST", "EX", "1");
    EXPECT(t, err, "GETEX", "k", "EX", "1", "PERSIST");
    EXPECT(t, err, "GETEX", "nokey", "FOO");
    EXPECT(t, "-ERR invalid expire time in 'getex' command\r\n", "GETEX", "k",
           "EX", "0");
    EXPECT(t, "-ERR value is not an integer or out of range\r\n", "GETEX", "k",
           "PX", "x");
    /* The time is only checked on an existing key, as Redis does. */
    EXPECT(t, "$-1\r\n", "GETEX", "nokey", "EX", "0");
    EXPECT(t, ":-1\r\n", "TTL", "k");
}

static void test_getdel(void **state)
{
    th *t = *state;
    EXPECT(t, "$-1\r\n", "GETDEL", "k");
    EXPECT(t, "+OK\r\n", "SET", "k", "v");
    EXPECT(t, "$1\r\nv\r\n", "GETDEL", "k");
    EXPECT(t, ":0\r\n", "EXISTS", "k");
    EXPECT(t, "$-1\r\n", "GETDEL", "k");
}

static void test_getset(void **state)
{
    th *t = *state;
    EXPECT(t, "$-1\r\n", "GETSET", "k", "1");
    EXPECT(t, "$1\r\n1\r\n", "GET", "k");
    EXPECT(t, "+OK\r\n", "SET", "k", "v", "EX", "100");
    EXPECT(t, "$1\r\nv\r\n", "GETSET", "k", "w");
    EXPECT(t, ":-1\r\n", "TTL", "k"); /* GETSET drops the TTL */
    EXPECT(t, "$1\r\nw\r\n", "GET", "k");
}

static void test_mget_mset(void **state)
{
    th *t = *state;
    EXPECT(t, "+OK\r\n", "MSET", "a", "1", "b", "22", "c", "333", "d", "");
    EXPECT(t, "*5\r\n$1\r\n1\r\n$2\r\n22\r\n$-1\r\n$3\r\n333\r\n$0\r\n\r\n",
           "MGET", "a", "b", "x", "c", "d");
    EXPECT(t, "*1\r\n$-1\r\n", "MGET", "nope");
    EXPECT(t, "*2\r\n$1\r\n1\r\n$1\r\n1\r\n", "MGET", "a", "a");
    /* Later pairs win. */
    EXPECT(t, "+OK\r\n", "MSET", "a", "x", "a", "y");
    EXPECT(t, "$1\r\ny\r\n", "GET", "a");
    EXPECT(t, "-ERR wrong number of arguments for 'mset' command\r\n", "MSET",
           "a", "1", "b");
    EXPECT(t, "$2\r\n22\r\n", "GET", "b");
    /* MSET drops TTLs, like SET. */
    EXPECT(t, "+OK\r\n", "SET", "a", "v", "EX", "10");
    EXPECT(t, "+OK\r\n", "MSET", "a", "w");
    EXPECT(t, ":-1\r\n", "TTL", "a");
}

static void test_msetnx(void **state)
{
    th *t = *state;
    EXPECT(t, ":1\r\n", "MSETNX", "a", "1", "b", "2");
    EXPECT(t, ":0\r\n", "MSETNX", "c", "3", "b", "4");
    EXPECT(t, ":0\r\n", "EXISTS", "c");
    EXPECT(t, "$1\r\n2\r\n", "GET", "b");
    EXPECT(t, "-ERR wrong number of arguments for 'msetnx' command\r\n",
           "MSETNX", "x", "1", "y");
    EXPECT(t, ":0\r\n", "EXISTS", "x");
    EXPECT(t, ":1\r\n", "MSETNX", "x", "1", "x", "2");
    EXPECT(t, "$1\r\n2\r\n", "GET", "x");
}

static void test_resp3_nulls(void **state)
{
    th *t = *state;
    t->w.proto = 3;
    EXPECT(t, "_\r\n", "GET", "k");
    EXPECT(t, "+OK\r\n", "SET", "k", "v");
    EXPECT(t, "_\r\n", "SET", "k", "v", "NX");
    EXPECT(t, "_\r\n", "SET", "n", "v", "XX", "GET");
    EXPECT(t, "*2\r\n$1\r\nv\r\n_\r\n", "MGET", "k", "n");
    EXPECT(t, "_\r\n", "GETEX", "n");
    EXPECT(t, "_\r\n", "GETDEL", "n");
    EXPECT(t, "_\r\n", "GETSET", "n", "1");
}

/* Keys across every shard: each key is found on its own shard. */
static void test_many_keys(void **state)
{
    th *t = *state;
    char k[16], v[16], want[48];
    for (int i = 0; i < 500; i++) {
        snprintf(k, sizeof(k), "key:%d", i);
        snprintf(v, sizeof(v), "%d", i * 7);
        EXPECT(t, "+OK\r\n", "SET", k, v);
    }
    unsigned seen[4] = {0};
    for (int i = 0; i < 500; i++) {
        snprintf(k, sizeof(k), "key:%d", i);
        snprintf(v, sizeof(v), "%d", i * 7);
        snprintf(want, sizeof(want), "$%zu\r\n%s\r\n", strlen(v), v);
        EXPECT(t, want, "GET", k);
        seen[th_shard_of(t, k)]++;
    }
    for (int s = 0; s < 4; s++) {
        assert_true(seen[s] > 0);
        assert_int_equal(eng_len(t->shards[s]), seen[s]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_get_set),
        T(test_binary_safe),
        T(test_set_nx_xx),
        T(test_set_get_option),
        T(test_set_syntax_errors),
        T(test_set_expire_errors),
        T(test_set_ttls),
        T(test_set_keepttl),
        T(test_set_past_time),
        T(test_expiry_by_time),
        T(test_setnx),
        T(test_setex_psetex),
        T(test_getex),
        T(test_getex_errors),
        T(test_getdel),
        T(test_getset),
        T(test_mget_mset),
        T(test_msetnx),
        T(test_resp3_nulls),
        T(test_many_keys),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
