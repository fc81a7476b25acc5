/*
 * EXPIRE PEXPIRE EXPIREAT PEXPIREAT (NX XX GT LT), TTL PTTL (rounding),
 * EXPIRETIME PEXPIRETIME, PERSIST. The harness clock is fixed, so the
 * results are exact; the NX/XX/GT/LT matrix was recorded from Redis 7.0.
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

static const char *int_reply(long long v)
{
    static char buf[32];
    snprintf(buf, sizeof(buf), ":%lld\r\n", v);
    return buf;
}

typedef struct matrix_case {
    int ttl_before; /* 0: none */
    int new_ttl;
    const char *opt1, *opt2;
    int reply;
    int ttl_after; /* -1: none */
} matrix_case;

static const matrix_case matrix[] = {
    {0, 50, NULL, NULL, 1, 50},     {0, 50, "NX", NULL, 1, 50},
    {0, 50, "XX", NULL, 0, -1},     {0, 50, "GT", NULL, 0, -1},
    {0, 50, "LT", NULL, 1, 50},     {0, 50, "XX", "GT", 0, -1},
    {0, 50, "XX", "LT", 0, -1},     {0, 50, "GT", "XX", 0, -1},
    {0, 200, "LT", NULL, 1, 200},   {100, 50, NULL, NULL, 1, 50},
    {100, 50, "NX", NULL, 0, 100},  {100, 50, "XX", NULL, 1, 50},
    {100, 50, "GT", NULL, 0, 100},  {100, 50, "LT", NULL, 1, 50},
    {100, 50, "XX", "GT", 0, 100},  {100, 50, "XX", "LT", 1, 50},
    {100, 50, "GT", "XX", 0, 100},  {100, 100, "NX", NULL, 0, 100},
    {100, 100, "XX", NULL, 1, 100}, {100, 100, "GT", NULL, 0, 100},
    {100, 100, "LT", NULL, 0, 100}, {100, 200, NULL, NULL, 1, 200},
    {100, 200, "NX", NULL, 0, 100}, {100, 200, "XX", NULL, 1, 200},
    {100, 200, "GT", NULL, 1, 200}, {100, 200, "LT", NULL, 0, 100},
    {100, 200, "XX", "GT", 1, 200}, {100, 200, "XX", "LT", 0, 100},
    {100, 200, "gt", "xx", 1, 200},
};

static void test_expire_matrix(void **state)
{
    th *t = *state;
    char ttl[16], before[16];
    for (size_t i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++) {
        const matrix_case *m = &matrix[i];
        EXPECT(t, "+OK\r\n", "SET", "k", "v");
        if (m->ttl_before) {
            snprintf(before, sizeof(before), "%d", m->ttl_before);
            EXPECT(t, ":1\r\n", "EXPIRE", "k", before);
        }
        snprintf(ttl, sizeof(ttl), "%d", m->new_ttl);
        EXPECT(t, int_reply(m->reply), "EXPIRE", "k", ttl, m->opt1, m->opt2);
        EXPECT(t, int_reply(m->ttl_after), "TTL", "k");
    }
}

/* The same rules for the three other forms, in their units. */
static void test_expire_forms(void **state)
{
    th *t = *state;
    char buf[32];
    EXPECT(t, "+OK\r\n", "SET", "k", "v");
    EXPECT(t, ":1\r\n", "PEXPIRE", "k", "1500");
    EXPECT(t, ":1500\r\n", "PTTL", "k");
    EXPECT(t, ":0\r\n", "PEXPIRE", "k", "1000", "GT");
    EXPECT(t, ":1\r\n", "PEXPIRE", "k", "1000", "LT");
    EXPECT(t, ":1000\r\n", "PTTL", "k");
    snprintf(buf, sizeof(buf), "%lld", TH_WALL / 1000 + 30);
    EXPECT(t, ":1\r\n", "EXPIREAT", "k", buf, "XX");
    EXPECT(t, int_reply((TH_WALL / 1000 + 30) * 1000 - TH_WALL), "PTTL", "k");
    snprintf(buf, sizeof(buf), "%lld", TH_WALL + 777);
    EXPECT(t, ":1\r\n", "PEXPIREAT", "k", buf);
    EXPECT(t, ":777\r\n", "PTTL", "k");
    EXPECT(t, ":0\r\n", "PEXPIREAT", "k", buf, "NX");
    EXPECT(t, ":0\r\n", "EXPIRE", "nokey", "10");
    EXPECT(t, ":0\r\n", "PEXPIREAT", "nokey", buf);
}

static void test_expire_past_deletes(void **state)
{
    th *t = *state;
    char buf[32];
    const char *cmds[][2] = {{"EXPIRE", "-1"},
                             {"PEXPIRE", "0"},
                             {"EXPIREAT", "0"},
                             {"PEXPIREAT", "1"}};
    for (size_t i = 0; i < 4; i++) {
        EXPECT(t, "+OK\r\n", "SET", "k", "v");
        EXPECT(t, ":1\r\n", cmds[i][0], "k", cmds[i][1]);
        EXPECT(t, ":0\r\n", "EXISTS", "k");
    }
    /* "Now" exactly is already past. */
    EXPECT(t, "+OK\r\n", "SET", "k", "v");
    snprintf(buf, sizeof(buf), "%lld", TH_WALL);
    EXPECT(t, ":1\r\n", "PEXPIREAT", "k", buf);
    EXPECT(t, ":0\r\n", "EXISTS", "k");
    /* LT with a negative time on a key with a TTL deletes it too. */
    EXPECT(t, "+OK\r\n", "SET", "k", "v", "EX", "100");
    EXPECT(t, ":1\r\n", "EXPIRE", "k", "-5", "LT");
    EXPECT(t, ":0\r\n", "EXISTS", "k");
}

static void test_expire_errors(void **state)
{
    th *t = *state;
    const char *nx = "-ERR NX and XX, GT or LT options at the same time are "
                     "not compatible\r\n";
    const char *gtlt =
        "-ERR GT and LT options at the same time are not compatible\r\n";
    EXPECT(t, "+OK\r\n", "SET", "k", "v");
    EXPECT(t, nx, "EXPIRE", "k", "10", "NX", "XX");
    EXPECT(t, nx, "EXPIRE", "k", "10", "nx", "gt");
    EXPECT(t, nx, "EXPIRE", "k", "10", "lt", "nx");
    EXPECT(t, nx, "EXPIRE", "k", "10", "gt", "lt", "nx");
    EXPECT(t, gtlt, "EXPIRE", "k", "10", "LT", "gt");
    EXPECT(t, "-ERR Unsupported option abc\r\n", "EXPIRE", "k", "10", "abc");
    EXPECT(t, "-ERR Unsupported option foo\r\n", "EXPIRE", "k", "abc", "foo");
    EXPECT(t, "-ERR value is not an integer or out of range\r\n", "EXPIRE", "k",
           "abc");
    EXPECT(t, "-ERR invalid expire time in 'expire' command\r\n", "EXPIRE", "k",
           "9223372036854775807");
    EXPECT(t, "-ERR invalid expire time in 'pexpire' command\r\n", "PEXPIRE",
           "k", "9223372036854775807");
    EXPECT(t, "-ERR invalid expire time in 'expireat' command\r\n", "EXPIREAT",
           "k", "-9223372036854775808");
    EXPECT(t, "-ERR invalid expire time in 'expireat' command\r\n", "EXPIREAT",
           "k", "9223372036854776");
    /* Still checked for a missing key. */
    EXPECT(t, "-ERR invalid expire time in 'pexpire' command\r\n", "PEXPIRE",
           "nokey", "9223372036854775807");
    EXPECT(t, ":-1\r\n", "TTL", "k");
    /* The largest times that fit are accepted. */
    EXPECT(t, ":1\r\n", "PEXPIREAT", "k", "9223372036854775807");
    EXPECT(t, ":9223372036854775807\r\n", "PEXPIRETIME", "k");
    EXPECT(t, ":9223372036854776\r\n", "EXPIRETIME", "k");
    EXPECT(t, ":1\r\n", "EXPIREAT", "k", "9223372036854775");
    EXPECT(t, ":9223372036854775\r\n", "EXPIRETIME", "k");
}

static void test_ttl_rounding(void **state)
{
    th *t = *state;
    EXPECT(t, ":-2\r\n", "TTL", "k");
    EXPECT(t, ":-2\r\n", "PTTL", "k");
    EXPECT(t, "+OK\r\n", "SET", "k", "v");
    EXPECT(t, ":-1\r\n", "TTL", "k");
    EXPECT(t, ":-1\r\n", "PTTL", "k");
    const struct {
        const char *ms;
        const char *secs;
    } cases[] = {{"1", ":0\r\n"},       {"499", ":0\r\n"},
                 {"500", ":1\r\n"},     {"1499", ":1\r\n"},
                 {"1500", ":2\r\n"},    {"2000", ":2\r\n"},
                 {"99999", ":100\r\n"}, {"100499", ":100\r\n"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        EXPECT(t, ":1\r\n", "PEXPIRE", "k", cases[i].ms);
        EXPECT(t, cases[i].secs, "TTL", "k");
    }
    EXPECT(t, ":1\r\n", "PEXPIRE", "k", "1500");
    t->c.now += 1000;
    EXPECT(t, ":500\r\n", "PTTL", "k");
    EXPECT(t, ":1\r\n", "TTL", "k");
    t->c.now += 499;
    EXPECT(t, ":1\r\n", "PTTL", "k");
    EXPECT(t, ":0\r\n", "TTL", "k");
    t->c.now += 1;
    EXPECT(t, ":-2\r\n", "TTL", "k");
}

static void test_expiretime(void **state)
{
    th *t = *state;
    char buf[32];
    EXPECT(t, ":-2\r\n", "EXPIRETIME", "k");
    EXPECT(t, ":-2\r\n", "PEXPIRETIME", "k");
    EXPECT(t, "+OK\r\n", "SET", "k", "v");
    EXPECT(t, ":-1\r\n", "EXPIRETIME", "k");
    EXPECT(t, ":-1\r\n", "PEXPIRETIME", "k");
    EXPECT(t, ":1\r\n", "PEXPIRE", "k", "100000");
    EXPECT(t, int_reply(TH_WALL + 100000), "PEXPIRETIME", "k");
    EXPECT(t, int_reply((TH_WALL + 100000 + 500) / 1000), "EXPIRETIME", "k");
    snprintf(buf, sizeof(buf), "%lld", TH_WALL + 1499);
    EXPECT(t, ":1\r\n", "PEXPIREAT", "k", buf);
    EXPECT(t, int_reply(TH_WALL + 1499), "PEXPIRETIME", "k");
    EXPECT(t, int_reply((TH_WALL + 1499 + 500) / 1000), "EXPIRETIME", "k");
    /* Independent of the clock moving. */
    t->c.now += 1000;
    EXPECT(t, int_reply(TH_WALL + 1499), "PEXPIRETIME", "k");
}

static void test_persist(void **state)
{
    th *t = *state;
    EXPECT(t, ":0\r\n", "PERSIST", "k");
    EXPECT(t, "+OK\r\n", "SET", "k", "v");
    EXPECT(t, ":0\r\n", "PERSIST", "k");
    EXPECT(t, ":1\r\n", "EXPIRE", "k", "10");
    EXPECT(t, ":1\r\n", "PERSIST", "k");
    EXPECT(t, ":-1\r\n", "TTL", "k");
    EXPECT(t, ":0\r\n", "PERSIST", "k");
    t->c.now += 100000;
    EXPECT(t, "$1\r\nv\r\n", "GET", "k");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_expire_matrix),
        T(test_expire_forms),
        T(test_expire_past_deletes),
        T(test_expire_errors),
        T(test_ttl_rounding),
        T(test_expiretime),
        T(test_persist),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
