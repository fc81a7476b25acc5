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
    /* the typed families, from redis-server 7.0.15's COMMAND INFO */
    {"hset", -4, W | F, 1, 1, 1},
    {"hsetnx", 4, W | F, 1, 1, 1},
    {"hmset", -4, W | F, 1, 1, 1},
    {"hget", 3, R | F, 1, 1, 1},
    {"hmget", -3, R | F, 1, 1, 1},
    {"hdel", -3, W | F, 1, 1, 1},
    {"hlen", 2, R | F, 1, 1, 1},
    {"hstrlen", 3, R | F, 1, 1, 1},
    {"hexists", 3, R | F, 1, 1, 1},
    {"hkeys", 2, R, 1, 1, 1},
    {"hvals", 2, R, 1, 1, 1},
    {"hgetall", 2, R, 1, 1, 1},
    {"hincrby", 4, W | F, 1, 1, 1},
    {"hincrbyfloat", 4, W | F, 1, 1, 1},
    {"hrandfield", -2, R, 1, 1, 1},
    {"hscan", -3, R, 1, 1, 1},
    {"lpush", -3, W | F, 1, 1, 1},
    {"rpush", -3, W | F, 1, 1, 1},
    {"lpushx", -3, W | F, 1, 1, 1},
    {"rpushx", -3, W | F, 1, 1, 1},
    {"lpop", -2, W | F, 1, 1, 1},
    {"rpop", -2, W | F, 1, 1, 1},
    {"llen", 2, R | F, 1, 1, 1},
    {"lindex", 3, R, 1, 1, 1},
    {"lset", 4, W, 1, 1, 1},
    {"lrange", 4, R, 1, 1, 1},
    {"ltrim", 4, W, 1, 1, 1},
    {"linsert", 5, W, 1, 1, 1},
    {"lrem", 4, W, 1, 1, 1},
    {"lpos", -3, R, 1, 1, 1},
    {"lmove", 5, W, 1, 2, 1},
    {"rpoplpush", 3, W, 1, 2, 1},
    {"lmpop", -4, W, 0, 0, 0},
    {"blpop", -3, W, 1, -2, 1},
    {"brpop", -3, W, 1, -2, 1},
    {"blmove", 6, W, 1, 2, 1},
    {"brpoplpush", 4, W, 1, 2, 1},
    {"blmpop", -5, W, 0, 0, 0},
    {"sadd", -3, W | F, 1, 1, 1},
    {"srem", -3, W | F, 1, 1, 1},
    {"sismember", 3, R | F, 1, 1, 1},
    {"smismember", -3, R | F, 1, 1, 1},
    {"scard", 2, R | F, 1, 1, 1},
    {"smembers", 2, R, 1, 1, 1},
    {"srandmember", -2, R, 1, 1, 1},
    {"spop", -2, W | F, 1, 1, 1},
    {"smove", 4, W | F, 1, 2, 1},
    {"sinter", -2, R, 1, -1, 1},
    {"sintercard", -3, R, 0, 0, 0},
    {"sinterstore", -3, W, 1, -1, 1},
    {"sunion", -2, R, 1, -1, 1},
    {"sunionstore", -3, W, 1, -1, 1},
    {"sdiff", -2, R, 1, -1, 1},
    {"sdiffstore", -3, W, 1, -1, 1},
    {"sscan", -3, R, 1, 1, 1},
    {"zadd", -4, W | F, 1, 1, 1},
    {"zincrby", 4, W | F, 1, 1, 1},
    {"zrem", -3, W | F, 1, 1, 1},
    {"zcard", 2, R | F, 1, 1, 1},
    {"zcount", 4, R | F, 1, 1, 1},
    {"zlexcount", 4, R | F, 1, 1, 1},
    {"zscore", 3, R | F, 1, 1, 1},
    {"zmscore", -3, R | F, 1, 1, 1},
    {"zrank", 3, R | F, 1, 1, 1},
    {"zrevrank", 3, R | F, 1, 1, 1},
    {"zrange", -4, R, 1, 1, 1},
    {"zrevrange", -4, R, 1, 1, 1},
    {"zrangebyscore", -4, R, 1, 1, 1},
    {"zrevrangebyscore", -4, R, 1, 1, 1},
    {"zrangebylex", -4, R, 1, 1, 1},
    {"zrevrangebylex", -4, R, 1, 1, 1},
    {"zrangestore", -5, W, 1, 2, 1},
    {"zremrangebyrank", 4, W, 1, 1, 1},
    {"zremrangebyscore", 4, W, 1, 1, 1},
    {"zremrangebylex", 4, W, 1, 1, 1},
    {"zpopmin", -2, W | F, 1, 1, 1},
    {"zpopmax", -2, W | F, 1, 1, 1},
    {"zmpop", -4, W, 0, 0, 0},
    {"bzpopmin", -3, W | F, 1, -2, 1},
    {"bzpopmax", -3, W | F, 1, -2, 1},
    {"bzmpop", -5, W, 0, 0, 0},
    {"zrandmember", -2, R, 1, 1, 1},
    {"zscan", -3, R, 1, 1, 1},
    {"zunion", -3, R, 0, 0, 0},
    {"zinter", -3, R, 0, 0, 0},
    {"zdiff", -3, R, 0, 0, 0},
    {"zintercard", -3, R, 0, 0, 0},
    {"zunionstore", -4, W, 1, 1, 1},
    {"zinterstore", -4, W, 1, 1, 1},
    {"zdiffstore", -4, W, 1, 1, 1},
    /* bitmaps and HyperLogLog, from redis-server 7.0.15's COMMAND INFO */
    {"setbit", 4, W, 1, 1, 1},
    {"getbit", 3, R | F, 1, 1, 1},
    {"bitcount", -2, R, 1, 1, 1},
    {"bitpos", -3, R, 1, 1, 1},
    {"bitop", -4, W, 2, -1, 1},
    {"bitfield", -2, W, 1, 1, 1},
    {"bitfield_ro", -2, R | F, 1, 1, 1},
    {"pfadd", -2, W | F, 1, 1, 1},
    {"pfcount", -2, R, 1, -1, 1},
    {"pfmerge", -2, W, 1, -1, 1},
    /* geo, from redis-server 7.0.15's COMMAND INFO */
    {"geoadd", -5, W, 1, 1, 1},
    {"geodist", -4, R, 1, 1, 1},
    {"geohash", -2, R, 1, 1, 1},
    {"geopos", -2, R, 1, 1, 1},
    {"geosearch", -7, R, 1, 1, 1},
    {"geosearchstore", -8, W, 1, 2, 1},
    {"georadius", -6, W, 1, 1, 1},
    {"georadius_ro", -6, R, 1, 1, 1},
    {"georadiusbymember", -5, W, 1, 1, 1},
    {"georadiusbymember_ro", -5, R, 1, 1, 1},
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
