/*
 * cmd_util.h — helpers shared by the command files (private to
 * src/commands): Redis's exact argument parsing rules, its error texts, key
 * hashing, time conversion and the glob matcher.
 *
 * Threads: whatever thread runs the command; nothing here has state.
 * Memory: nothing is allocated; argument views stay borrowed.
 */
#ifndef FC_CMD_UTIL_H
#define FC_CMD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commands/command.h"
#include "util/num.h"

/* Redis 7 error texts (clients and test suites match on them). */
#define CMD_ERR_SYNTAX "ERR syntax error"
#define CMD_ERR_NOTINT "ERR value is not an integer or out of range"
#define CMD_ERR_NOTFLOAT "ERR value is not a valid float"
#define CMD_ERR_OVERFLOW "ERR increment or decrement would overflow"
#define CMD_ERR_WRONGTYPE                                                      \
    "WRONGTYPE Operation against a key holding the wrong kind of value"
#define CMD_ERR_NOKEY "ERR no such key"
#define CMD_ERR_TOOBIG                                                         \
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
#define CMD_ERR_OOM "OOM command not allowed when used memory > 'maxmemory'."
#define CMD_ERR_OFFSET "ERR offset is out of range"

/* Redis's proto-max-bulk-len default: the largest string a command may
 * build. */
#define CMD_MAX_STRING ((int64_t)512 * 1024 * 1024)

/* A key argument with its hash and shard, computed once per command. */
typedef struct cmd_key {
    const char *p;
    size_t n;
    uint64_t h;
    eng_shard *sh;
} cmd_key;

static inline cmd_key cmd_key_at(const cmd_ctx *c, size_t i)
{
    cmd_key k;
    k.p = c->argv[i].ptr;
    k.n = c->argv[i].len;
    k.h = eng_route_hash(c->hash_seed, c->route_mode, k.p, k.n);
    k.sh = cmd_shard(c, k.h);
    return k;
}

static inline eng_entry *cmd_key_get(cmd_ctx *c, const cmd_key *k)
{
    return eng_get(k->sh, k->h, k->p, k->n, c->now);
}

/* The batch time, read from the clock when the caller left it lazy: TTL
 * arithmetic needs a real value. */
static inline int64_t cmd_now(cmd_ctx *c)
{
    if (c->now == ENG_NOW_LAZY)
        c->now = eng_now_ms();
    return c->now;
}

static inline int64_t cmd_unix_now(cmd_ctx *c)
{
    return cmd_now(c) + c->wall_offset_ms;
}

/* Unix ms -> engine expiry (monotonic ms), saturating; never 0 ("none"):
 * a time before the monotonic epoch becomes 1, which is in the past. */
int64_t cmd_unix_to_mono(const cmd_ctx *c, int64_t unix_ms);
/* Engine expiry -> Unix ms, saturating. */
int64_t cmd_mono_to_unix(const cmd_ctx *c, int64_t mono_ms);

/* Case-insensitive comparison of an argument with a lower-case literal.
 * Inline, so the literal's strlen folds and an option loop (ZADD's, SET's)
 * skips an argument of another length in one compare. */
bool cmd_arg_is_n(const resp_arg *a, const char *lower, size_t n);
static inline bool cmd_arg_is(const resp_arg *a, const char *lower)
{
    size_t n = __builtin_strlen(lower);
    return a->len == n && cmd_arg_is_n(a, lower, n);
}

/* Redis's string2ll: optional '-', no '+', no leading zeros or spaces
 * (util/num.h, the rule INCR applies to stored values too). */
static inline bool cmd_parse_ll(const char *p, size_t n, int64_t *out)
{
    return fc_parse_i64(p, n, out);
}
/* Redis's string2ld (strtold, whole string, finite or +-inf, not NaN). */
bool cmd_parse_ld(const char *p, size_t n, long double *out);
/* Parses argv[i] as an integer; replies CMD_ERR_NOTINT on failure. */
bool cmd_arg_ll(cmd_ctx *c, size_t i, int64_t *out);
/* A blocking command's timeout at argv[i], in seconds (Redis's
 * getTimeoutFromObjectOrReply): *ms from now, 0 = forever. false after
 * replying its error. */
bool cmd_arg_timeout(cmd_ctx *c, size_t i, int64_t *ms);

/* Replies WRONGTYPE and returns false when e holds no string. */
bool cmd_check_string(cmd_ctx *c, const eng_entry *e);
/* Bulk reply with the entry's value bytes. */
void cmd_reply_value(cmd_ctx *c, const eng_entry *e);
/* Error reply for an FC_E* code from the engine. */
void cmd_reply_fc_error(cmd_ctx *c, int rc);
/* "ERR wrong number of arguments for '<name>' command" */
void cmd_reply_arity(cmd_ctx *c, const char *name);
/* "ERR invalid expire time in '<name>' command" */
void cmd_reply_bad_expire(cmd_ctx *c, const char *name);

/* Redis's stringmatchlen: glob-style match with *, ?, [...], [^...],
 * ranges and backslash escapes. Bounded recursion; never reads past
 * either buffer. */
bool cmd_glob_match(const char *pat, size_t plen, const char *str, size_t slen,
                    bool nocase);

/* Name of a value type as TYPE reports it. */
const char *cmd_type_name(enum eng_type t);

#endif /* FC_CMD_UTIL_H */
