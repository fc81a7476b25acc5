/*
 * command.h — the data commands (strings, keyspace) and how they are called.
 *
 * A command is one function over a cmd_ctx: it reads its arguments, works on
 * the engine shards its keys hash to, and writes exactly one reply through
 * ctx->w. It never touches sockets, connections or other workers.
 *
 * Threads: the caller (the server's router) guarantees that the calling
 *   thread owns every shard the command's keys hash to for the duration of
 *   the call. Commands flagged CMD_ALLKEYS (KEYS, SCAN, DBSIZE, FLUSHDB, ...)
 *   and multi-key commands whose keys span workers without a `split` rule
 *   (MSET, RENAME, COPY, MSETNX, LCS) are run while every other worker is
 *   parked, so they may touch any shard.
 * Multi-key commands with a `split` rule (MGET, DEL, EXISTS, UNLINK,
 *   TOUCH) may instead be called by the router with a sub-argv holding only
 *   the keys (with their key_step companions) of one worker; the router
 *   merges the sub-replies as the rule says, in input order.
 * Memory: argv views are borrowed for the call. Replies are appended to
 *   ctx->w->out.
 *
 * Connection- and server-level commands (PING, HELLO, AUTH, CLIENT, INFO,
 * CONFIG, COMMAND, ...) live in the server (src/server), which looks names up
 * in its own table first and then here.
 */
#ifndef FC_COMMAND_H
#define FC_COMMAND_H

#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "protocol/resp.h"

typedef struct cmd_ctx {
    const resp_arg *argv; /* argv[0] is the command name as sent */
    size_t argc;
    resp_writer *w;
    eng_shard *const *shards; /* every shard of the store */
    uint32_t shard_mask;      /* shard of a key = hash & shard_mask */
    int64_t now;              /* monotonic ms, read once per batch */
    int64_t wall_offset_ms;   /* unix ms = monotonic ms + wall_offset_ms */
    uint64_t *rng;            /* per-worker state for RANDOMKEY etc. */
    uint64_t hash_seed;       /* the shards' key hash seed (eng_hash_seeded) */
    int route_mode;           /* enum fc_route_mode: keys hash with
                                 eng_route_hash(hash_seed, route_mode) */
    /* SCAN stops at the end of the cursor's shard (the server routes each
     * SCAN call to the owner of that shard alone). */
    bool scan_one_shard;
    /* RANDOMKEY looks only at shards own_first, own_first + own_stride,
     * ... (one worker's, when the server routes it there); stride 0 = all. */
    uint32_t own_first, own_stride;
    /* The store follows a primary (a replica): a read command must not
     * write on the side (PFCOUNT's cached cardinality), which would put a
     * mutation of its own into the replica's shard sequence. */
    bool replica;
} cmd_ctx;

static inline eng_shard *cmd_shard(const cmd_ctx *c, uint64_t hash)
{
    return c->shards[hash & c->shard_mask];
}

typedef void (*cmd_fn)(cmd_ctx *c);

enum cmd_flag {
    CMD_WRITE = 1u << 0,
    CMD_READONLY = 1u << 1,
    CMD_FAST = 1u << 2,
    CMD_NOAUTH = 1u << 3,   /* allowed before AUTH */
    CMD_ALLKEYS = 1u << 4,  /* touches every shard: run with workers parked */
    CMD_NOSCRIPT = 1u << 5, /* informational, for COMMAND INFO */
    CMD_PUBSUB = 1u << 6,   /* informational (COMMAND INFO, @pubsub) */
    CMD_LOADING = 1u << 7,  /* informational: allowed while loading */
    CMD_STALE = 1u << 8,    /* informational: allowed on a stale replica */
};

/* How the router merges per-worker sub-replies of a split command. */
enum cmd_split {
    CMD_SPLIT_NONE = 0, /* keys on several workers: run exclusively */
    CMD_SPLIT_SUM,      /* integer replies, summed (DEL, EXISTS, ...) */
    CMD_SPLIT_ARRAY,    /* array replies, one element per key, interleaved
                           back into input order (MGET) */
    CMD_SPLIT_OK,       /* +OK when every part says +OK (unused since MSET
                           became atomic: kept for split writes to come) */
};

typedef struct cmd_def {
    const char *name; /* lower case */
    int arity;        /* Redis convention: N exact, -N at least N */
    unsigned flags;   /* enum cmd_flag */
    int first_key;    /* 0 = no keys */
    int last_key;     /* -1 = last argument */
    int key_step;
    enum cmd_split split;
    cmd_fn fn;
    const char *group;   /* "string", "generic", ... for COMMAND DOCS */
    const char *summary; /* one line, for COMMAND DOCS */
    const char *since;   /* Redis version the command appeared in */
    /* Commands whose keys follow a count (ZUNIONSTORE dst numkeys k...,
     * LMPOP numkeys k...): writes the argv positions of the keys to
     * pos[0..max) and returns how many there are, or -1 when the
     * arguments are malformed (the command itself then errs). NULL: the
     * keys are first_key..last_key by key_step. */
    int (*keys)(const resp_arg *argv, size_t argc, size_t *pos, size_t max);
} cmd_def;

/* Key finders for `keys` (table.c): numkeys at argv[1] with the keys
 * after it (ZUNION, SINTERCARD, LMPOP, ZMPOP...); numkeys at argv[2]
 * after a destination at argv[1] (ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE),
 * or after a timeout at argv[1] (BLMPOP, BZMPOP). */
int cmd_keys_numkeys1(const resp_arg *argv, size_t argc, size_t *pos,
                      size_t max);
int cmd_keys_dst_numkeys2(const resp_arg *argv, size_t argc, size_t *pos,
                          size_t max);
int cmd_keys_numkeys2(const resp_arg *argv, size_t argc, size_t *pos,
                      size_t max);

/* Case-insensitive lookup; NULL when unknown. */
const cmd_def *cmd_lookup(const char *name, size_t len);
/* The whole table (for COMMAND COUNT/INFO/DOCS and per-command stats). */
const cmd_def *cmd_table(size_t *count);

#endif /* FC_COMMAND_H */
