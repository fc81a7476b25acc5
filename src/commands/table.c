/*
 * table.c — the one command table, and its case-insensitive lookup.
 *
 * Arity, flags and key positions are those Redis 7.0 reports in COMMAND
 * INFO (the router and the server's COMMAND rely on them); Redis flags we do
 * not model (denyoom, ...) are left out.
 *
 * Lookup: an open-addressing index over the lower-cased name, built once
 * (pthread_once) from the table, so adding a command is one line here.
 */
#include <assert.h>
#include <pthread.h>
#include <string.h>

#include "commands/cmd_fns.h"
#include "util/num.h"

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST
#define ALL CMD_ALLKEYS

static const cmd_def table[] = {
    /* strings */
    {"get", 2, R | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_get, "string",
     "Get the value of a key", "1.0.0"},
    {"set", -3, W, 1, 1, 1, CMD_SPLIT_NONE, cmd_set, "string",
     "Set the string value of a key", "1.0.0"},
    {"setnx", 3, W | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_setnx, "string",
     "Set the value of a key, only if the key does not exist", "1.0.0"},
    {"setex", 4, W, 1, 1, 1, CMD_SPLIT_NONE, cmd_setex, "string",
     "Set the value and expiration of a key", "2.0.0"},
    {"psetex", 4, W, 1, 1, 1, CMD_SPLIT_NONE, cmd_psetex, "string",
     "Set the value and expiration in milliseconds of a key", "2.6.0"},
    {"getex", -2, W | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_getex, "string",
     "Get the value of a key and optionally set its expiration", "6.2.0"},
    {"getdel", 2, W | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_getdel, "string",
     "Get the value of a key and delete the key", "6.2.0"},
    {"getset", 3, W | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_getset, "string",
     "Set the string value of a key and return its old value", "1.0.0"},
    {"mget", -2, R | F, 1, -1, 1, CMD_SPLIT_ARRAY, cmd_mget, "string",
     "Get the values of all the given keys", "1.0.0"},
    /* Not split: Redis's MSET is atomic, so over several workers it runs
     * exclusively (README: measured 1.5x-2.8x slower than scattered; a
     * two-phase commit would hold every owner it touches for two
     * channel round trips, which for 10 random keys is every worker). */
    {"mset", -3, W, 1, -1, 2, CMD_SPLIT_NONE, cmd_mset, "string",
     "Set multiple keys to multiple values", "1.0.1"},
    {"msetnx", -3, W, 1, -1, 2, CMD_SPLIT_NONE, cmd_msetnx, "string",
     "Set multiple keys to multiple values, only if none of the keys exist",
     "1.0.1"},
    {"append", 3, W | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_append, "string",
     "Append a value to a key", "2.0.0"},
    {"strlen", 2, R | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_strlen, "string",
     "Get the length of the value stored in a key", "2.2.0"},
    {"getrange", 4, R, 1, 1, 1, CMD_SPLIT_NONE, cmd_getrange, "string",
     "Get a substring of the string stored at a key", "2.4.0"},
    {"substr", 4, R, 1, 1, 1, CMD_SPLIT_NONE, cmd_getrange, "string",
     "Get a substring of the string stored at a key", "1.0.0"},
    {"setrange", 4, W, 1, 1, 1, CMD_SPLIT_NONE, cmd_setrange, "string",
     "Overwrite part of a string at key starting at the specified offset",
     "2.2.0"},
    {"incr", 2, W | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_incr, "string",
     "Increment the integer value of a key by one", "1.0.0"},
    {"decr", 2, W | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_decr, "string",
     "Decrement the integer value of a key by one", "1.0.0"},
    {"incrby", 3, W | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_incrby, "string",
     "Increment the integer value of a key by the given amount", "1.0.0"},
    {"decrby", 3, W | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_decrby, "string",
     "Decrement the integer value of a key by the given number", "1.0.0"},
    {"incrbyfloat", 3, W | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_incrbyfloat,
     "string", "Increment the float value of a key by the given amount",
     "2.6.0"},
    {"lcs", -3, R, 1, 2, 1, CMD_SPLIT_NONE, cmd_lcs, "string",
     "Find longest common substring", "7.0.0"},
    /* keyspace */
    {"del", -2, W, 1, -1, 1, CMD_SPLIT_SUM, cmd_del, "generic", "Delete a key",
     "1.0.0"},
    {"unlink", -2, W | F, 1, -1, 1, CMD_SPLIT_SUM, cmd_del, "generic",
     "Delete a key asynchronously in another thread. Otherwise it is just as "
     "DEL, but non blocking.",
     "4.0.0"},
    {"exists", -2, R | F, 1, -1, 1, CMD_SPLIT_SUM, cmd_exists, "generic",
     "Determine if a key exists", "1.0.0"},
    {"type", 2, R | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_type, "generic",
     "Determine the type stored at key", "1.0.0"},
    {"touch", -2, R | F, 1, -1, 1, CMD_SPLIT_SUM, cmd_touch, "generic",
     "Alters the last access time of a key(s). Returns the number of "
     "existing keys specified.",
     "3.2.1"},
    {"expire", -3, W | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_expire, "generic",
     "Set a key's time to live in seconds", "1.0.0"},
    {"pexpire", -3, W | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_pexpire, "generic",
     "Set a key's time to live in milliseconds", "2.6.0"},
    {"expireat", -3, W | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_expireat, "generic",
     "Set the expiration for a key as a UNIX timestamp", "1.2.0"},
    {"pexpireat", -3, W | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_pexpireat, "generic",
     "Set the expiration for a key as a UNIX timestamp specified in "
     "milliseconds",
     "2.6.0"},
    {"expiretime", 2, R | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_expiretime, "generic",
     "Get the expiration Unix timestamp for a key", "7.0.0"},
    {"pexpiretime", 2, R | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_pexpiretime,
     "generic", "Get the expiration Unix timestamp for a key in milliseconds",
     "7.0.0"},
    {"ttl", 2, R | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_ttl, "generic",
     "Get the time to live for a key in seconds", "1.0.0"},
    {"pttl", 2, R | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_pttl, "generic",
     "Get the time to live for a key in milliseconds", "2.6.0"},
    {"persist", 2, W | F, 1, 1, 1, CMD_SPLIT_NONE, cmd_persist, "generic",
     "Remove the expiration from a key", "2.2.0"},
    {"rename", 3, W, 1, 2, 1, CMD_SPLIT_NONE, cmd_rename, "generic",
     "Rename a key", "1.0.0"},
    {"renamenx", 3, W | F, 1, 2, 1, CMD_SPLIT_NONE, cmd_renamenx, "generic",
     "Rename a key, only if the new key does not exist", "1.0.0"},
    {"copy", -3, W, 1, 2, 1, CMD_SPLIT_NONE, cmd_copy, "generic", "Copy a key",
     "6.2.0"},
    /* whole keyspace */
    {"keys", 2, R | ALL, 0, 0, 0, CMD_SPLIT_NONE, cmd_keys, "generic",
     "Find all keys matching the given pattern", "1.0.0"},
    {"scan", -2, R | ALL, 0, 0, 0, CMD_SPLIT_NONE, cmd_scan, "generic",
     "Incrementally iterate the keys space", "2.8.0"},
    {"randomkey", 1, R | ALL, 0, 0, 0, CMD_SPLIT_NONE, cmd_randomkey, "generic",
     "Return a random key from the keyspace", "1.0.0"},
    {"dbsize", 1, R | F | ALL, 0, 0, 0, CMD_SPLIT_NONE, cmd_dbsize, "server",
     "Return the number of keys in the selected database", "1.0.0"},
    {"flushdb", -1, W | ALL, 0, 0, 0, CMD_SPLIT_NONE, cmd_flushdb, "server",
     "Remove all keys from the current database", "1.0.0"},
    {"flushall", -1, W | ALL, 0, 0, 0, CMD_SPLIT_NONE, cmd_flushdb, "server",
     "Remove all keys from all databases", "1.0.0"},
    /* The typed families: each file's rows live beside it, so that the
     * families grow without touching each other's lines. */
#include "commands/t_hash_table.inc"
    /* lists */
#include "commands/t_list_table.inc"
    /* sets */
#include "commands/t_set_table.inc"
    /* sorted sets */
#include "commands/t_zset_table.inc"
    /* bitmaps and HyperLogLog */
#include "commands/t_bits_table.inc"
    /* geo (on sorted sets) */
#include "commands/t_geo_table.inc"
};

#define NCMDS (sizeof(table) / sizeof(table[0]))
/* Longest name the index accepts; longer input cannot be a command. */
#define NAME_MAX_LEN 32
/* Power of two, at least twice the table: probes stay short. */
#define INDEX_SLOTS 1024

/* Slot -> table index + 1 (0 = empty). */
static uint16_t name_index[INDEX_SLOTS];
/* Length of each table name (built with the index). */
static uint8_t name_len[NCMDS];
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

_Static_assert(NCMDS * 2 <= INDEX_SLOTS, "command index too small");
_Static_assert(NCMDS < 65535, "index entries are uint16_t");

static inline char ascii_lower(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch + ('a' - 'A')) : ch;
}

/* FNV-1a over lower-cased bytes. */
static inline uint32_t hash_step(uint32_t h, char lower)
{
    return (h ^ (uint8_t)lower) * 16777619u;
}

#define HASH_SEED 2166136261u

static void build_index(void)
{
    for (size_t i = 0; i < NCMDS; i++) {
        uint32_t h = HASH_SEED;
        size_t len = 0;
        for (const char *n = table[i].name; *n; n++, len++)
            h = hash_step(h, *n);
        assert(len <= NAME_MAX_LEN);
        name_len[i] = (uint8_t)len;
        uint32_t s = h & (INDEX_SLOTS - 1);
        while (name_index[s])
            s = (s + 1) & (INDEX_SLOTS - 1);
        name_index[s] = (uint16_t)(i + 1);
    }
}

const cmd_def *cmd_lookup(const char *name, size_t len)
{
    char lower[NAME_MAX_LEN];
    uint32_t h = HASH_SEED;
    if (len == 0 || len > NAME_MAX_LEN)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        lower[i] = ascii_lower(name[i]);
        h = hash_step(h, lower[i]);
    }
    pthread_once(&index_once, build_index);
    for (uint32_t s = h & (INDEX_SLOTS - 1); name_index[s];
         s = (s + 1) & (INDEX_SLOTS - 1)) {
        size_t i = name_index[s] - 1u;
        if (name_len[i] == len && memcmp(table[i].name, lower, len) == 0)
            return &table[i];
    }
    return NULL;
}

/* numkeys at argv[at], its keys after it; `pre` positions before it are
 * keys too (a destination). */
static int keys_after_count(const resp_arg *argv, size_t argc, size_t at,
                            size_t pre, size_t *pos, size_t max)
{
    int64_t nk;
    if (at >= argc || !fc_parse_i64(argv[at].ptr, argv[at].len, &nk) ||
        nk <= 0 || (uint64_t)nk > argc - at - 1 || (size_t)nk + pre > max)
        return -1;
    size_t n = 0;
    for (size_t i = 1; i <= pre; i++)
        pos[n++] = i;
    for (size_t i = 0; i < (size_t)nk; i++)
        pos[n++] = at + 1 + i;
    return (int)n;
}

int cmd_keys_numkeys1(const resp_arg *argv, size_t argc, size_t *pos,
                      size_t max)
{
    return keys_after_count(argv, argc, 1, 0, pos, max);
}

int cmd_keys_dst_numkeys2(const resp_arg *argv, size_t argc, size_t *pos,
                          size_t max)
{
    return keys_after_count(argv, argc, 2, 1, pos, max);
}

int cmd_keys_numkeys2(const resp_arg *argv, size_t argc, size_t *pos,
                      size_t max)
{
    return keys_after_count(argv, argc, 2, 0, pos, max);
}

const cmd_def *cmd_table(size_t *count)
{
    *count = NCMDS;
    return table;
}
