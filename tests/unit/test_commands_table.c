/*
 * The command table: case-insensitive lookup, and every command's arity,
 * flags and key positions as redis-server 7.0's COMMAND INFO reports them
 * (the expected rows below were generated from it), plus our own
 * ALLKEYS flags and split rules.
 */
#include <ctype.h>

#include "test_commands.h"

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST

typedef struct want {
    const char *name;
    int arity;
    unsigned flags; /* write/readonly/fast only */
    int first, last, step;
} want;

static const want redis7[] = {
    {"get", 2, R | F, 1, 1, 1},         {"set", -3, W, 1, 1, 1},
    {"setnx", 3, W | F, 1, 1, 1},       {"setex", 4, W, 1, 1, 1},
    {"psetex", 4, W, 1, 1, 1},          {"getex", -2, W | F, 1, 1, 1},
    {"getdel", 2, W | F, 1, 1, 1},      {"getset", 3, W | F, 1, 1, 1},
    {"mget", -2, R | F, 1, -1, 1},      {"mset", -3, W, 1, -1, 2},
    {"msetnx", -3, W, 1, -1, 2},        {"append", 3, W | F, 1, 1, 1},
    {"strlen", 2, R | F, 1, 1, 1},      {"getrange", 4, R, 1, 1, 1},
    {"substr", 4, R, 1, 1, 1},          {"setrange", 4, W, 1, 1, 1},
    {"incr", 2, W | F, 1, 1, 1},        {"decr", 2, W | F, 1, 1, 1},
    {"incrby", 3, W | F, 1, 1, 1},      {"decrby", 3, W | F, 1, 1, 1},
    {"incrbyfloat", 3, W | F, 1, 1, 1}, {"lcs", -3, R, 1, 2, 1},
    {"del", -2, W, 1, -1, 1},           {"unlink", -2, W | F, 1, -1, 1},
    {"exists", -2, R | F, 1, -1, 1},    {"type", 2, R | F, 1, 1, 1},
    {"touch", -2, R | F, 1, -1, 1},     {"expire", -3, W | F, 1, 1, 1},
    {"pexpire", -3, W | F, 1, 1, 1},    {"expireat", -3, W | F, 1, 1, 1},
    {"pexpireat", -3, W | F, 1, 1, 1},  {"expiretime", 2, R | F, 1, 1, 1},
    {"pexpiretime", 2, R | F, 1, 1, 1}, {"ttl", 2, R | F, 1, 1, 1},
    {"pttl", 2, R | F, 1, 1, 1},        {"persist", 2, W | F, 1, 1, 1},
    {"rename", 3, W, 1, 2, 1},          {"renamenx", 3, W | F, 1, 2, 1},
    {"copy", -3, W, 1, 2, 1},           {"keys", 2, R, 0, 0, 0},
    {"scan", -2, R, 0, 0, 0},           {"randomkey", 1, R, 0, 0, 0},
    {"dbsize", 1, R | F, 0, 0, 0},      {"flushdb", -1, W, 0, 0, 0},
    {"flushall", -1, W, 0, 0, 0},
#include "test_commands_table_zset.inc"
};
#define NWANT (sizeof(redis7) / sizeof(redis7[0]))

static const char *const allkeys[] = {"keys",   "scan",    "randomkey",
                                      "dbsize", "flushdb", "flushall"};

static const struct {
    const char *name;
    enum cmd_split split;
} splits[] = {
    {"mget", CMD_SPLIT_ARRAY}, {"mset", CMD_SPLIT_NONE}, /* atomic: exclusive */
    {"del", CMD_SPLIT_SUM},    {"unlink", CMD_SPLIT_SUM},
    {"exists", CMD_SPLIT_SUM}, {"touch", CMD_SPLIT_SUM},
};

static const cmd_def *lookup(const char *s)
{
    return cmd_lookup(s, strlen(s));
}

static void test_metadata_matches_redis(void **state)
{
    (void)state;
    size_t n;
    cmd_table(&n);
    assert_int_equal(n, NWANT);
    for (size_t i = 0; i < NWANT; i++) {
        const cmd_def *d = lookup(redis7[i].name);
        assert_non_null(d);
        assert_string_equal(d->name, redis7[i].name);
        assert_int_equal(d->arity, redis7[i].arity);
        assert_int_equal(d->flags & (W | R | F), redis7[i].flags);
        assert_int_equal(d->first_key, redis7[i].first);
        assert_int_equal(d->last_key, redis7[i].last);
        assert_int_equal(d->key_step, redis7[i].step);
        assert_non_null(d->fn);
        assert_true(d->group && d->group[0]);
        assert_true(d->summary && d->summary[0]);
        assert_true(d->since && d->since[0] >= '1' && d->since[0] <= '7');
    }
}

static void test_allkeys_and_splits(void **state)
{
    (void)state;
    size_t n;
    const cmd_def *t = cmd_table(&n);
    for (size_t i = 0; i < n; i++) {
        bool all = false;
        enum cmd_split split = CMD_SPLIT_NONE;
        for (size_t j = 0; j < sizeof(allkeys) / sizeof(allkeys[0]); j++)
            all |= strcmp(t[i].name, allkeys[j]) == 0;
        for (size_t j = 0; j < sizeof(splits) / sizeof(splits[0]); j++) {
            if (strcmp(t[i].name, splits[j].name) == 0)
                split = splits[j].split;
        }
        assert_int_equal(!!(t[i].flags & CMD_ALLKEYS), all);
        assert_int_equal(t[i].split, split);
        /* Whole-keyspace commands have no key positions. */
        if (all)
            assert_int_equal(t[i].first_key, 0);
    }
}

static void test_lookup_case_insensitive(void **state)
{
    (void)state;
    size_t n;
    const cmd_def *t = cmd_table(&n);
    char up[64], mixed[64];
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(t[i].name);
        for (size_t j = 0; j <= len; j++) {
            up[j] = (char)toupper((unsigned char)t[i].name[j]);
            mixed[j] = j % 2 ? up[j] : t[i].name[j];
        }
        assert_ptr_equal(lookup(t[i].name), &t[i]);
        assert_ptr_equal(lookup(up), &t[i]);
        assert_ptr_equal(lookup(mixed), &t[i]);
        /* names are unique and lower case */
        for (size_t j = 0; j < len; j++)
            assert_false(isupper((unsigned char)t[i].name[j]));
        for (size_t j = i + 1; j < n; j++)
            assert_string_not_equal(t[i].name, t[j].name);
    }
}

static void test_lookup_unknown(void **state)
{
    (void)state;
    assert_null(cmd_lookup("", 0));
    assert_null(lookup("gett"));
    assert_null(lookup("ge"));
    assert_null(lookup("get "));
    assert_null(lookup("ping")); /* a server command, not ours */
    assert_null(cmd_lookup("get\0", 4));
    assert_null(cmd_lookup("g\0t", 3));
    assert_null(lookup("incrbyfloatincrbyfloatincrbyfloatincrbyfloat"));
    /* A prefix of the argument buffer is what counts. */
    assert_non_null(cmd_lookup("getrange", 3));
    assert_ptr_equal(cmd_lookup("getrange", 3), lookup("get"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata_matches_redis),
        cmocka_unit_test(test_allkeys_and_splits),
        cmocka_unit_test(test_lookup_case_insensitive),
        cmocka_unit_test(test_lookup_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
