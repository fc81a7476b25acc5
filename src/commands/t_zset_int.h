/*
 * t_zset_int.h — what the sorted set command files (t_zset.c,
 * t_zset_range.c, t_zset_setop.c) share: Redis's score and range parsing,
 * the reply shapes of (member, score) lists in RESP2 and RESP3, and the
 * op-record helpers. Private to src/commands.
 *
 * Threads and memory: as command.h; nothing here allocates beyond a
 * transient copy of an over-long number argument.
 */
#ifndef FC_CMD_T_ZSET_INT_H
#define FC_CMD_T_ZSET_INT_H

#include <stdbool.h>

#include "commands/cmd_util.h"
#include "engine/obj_zset.h"

#define ZERR_RANGE_FLOAT "ERR min or max is not a float"
#define ZERR_RANGE_LEX "ERR min or max not valid string range item"
#define ZERR_NAN "ERR resulting score is not a number (NaN)"

/* Redis's getDoubleFromObject: strtod over the whole argument, no leading
 * space, no overflow, no NaN. */
bool zc_parse_double(const resp_arg *a, double *out);
/* zc_parse_double, or replies msg (CMD_ERR_NOTFLOAT when NULL). */
bool zc_arg_double(cmd_ctx *c, size_t i, double *out, const char *msg);
/* Redis's zslParseRange / zslParseLexRange (false: malformed). */
bool zc_parse_srange(const resp_arg *min, const resp_arg *max, zs_srange *r);
bool zc_parse_lrange(const resp_arg *min, const resp_arg *max, zs_lrange *r);

/* The key's zset for reading: FC_OK (*o set), FC_ENOTFOUND, or WRONGTYPE
 * already replied (returns FC_EWRONGTYPE). */
int zc_get(cmd_ctx *c, const cmd_key *k, eng_obj **o);

/* An array of n elements, with scores when withscores: RESP3 nests
 * [member, score] pairs, RESP2 flattens them. */
void zc_reply_list_header(cmd_ctx *c, size_t n, bool withscores);
void zc_reply_elem(cmd_ctx *c, const char *m, size_t n, double score,
                   bool withscores);

/* Replies count elements from rank (rev: downwards). */
void zc_reply_ranks(cmd_ctx *c, const eng_obj *o, size_t rank, size_t count,
                    bool rev, bool withscores);

/* Removes count elements from rank upwards (rev: the same ranks, the
 * order of the record only), logging ZOP_REM of them when op. */
void zc_log_members(eng_op *op, const eng_obj *o, size_t rank, size_t count);

/* Removing a key that may hold anything (STORE results that are empty). */
void zc_del_key(cmd_ctx *c, const cmd_key *k);
/* Sets key to the object built for it (STORE forms): replies the error
 * and returns false when that fails. */
bool zc_store(cmd_ctx *c, const cmd_key *k, eng_obj *o);

/* Pops from key k (t_zset_pop.c): for ZPOPMIN/ZPOPMAX/ZMPOP, and for the
 * blocking forms (BZPOPMIN, BZPOPMAX, BZMPOP: the blocking helper's), so
 * that they share one reply and one op record (ZOP_REM of the members).
 * count: how many (< 0: one, no count given; 0: an empty array). Reply
 * shapes, as Redis 7.0's:
 *   ZC_POP_FLAT     [m, s]                 ZPOPMIN key
 *   ZC_POP_NESTED   [m, s, ...] / RESP3 [[m, s], ...]   ZPOPMIN key n
 *   ZC_POP_KEYED    [key, [[m, s], ...]]   ZMPOP, BZMPOP
 *   ZC_POP_BLOCKING [key, m, s]            BZPOPMIN, BZPOPMAX
 * Returns FC_OK (reply written), FC_ENOTFOUND (no key: nothing written),
 * or another FC_E* (nothing written; WRONGTYPE included). */
enum { ZC_POP_FLAT, ZC_POP_NESTED, ZC_POP_KEYED, ZC_POP_BLOCKING };
int zc_pop(cmd_ctx *c, const cmd_key *k, bool max, int64_t count, int shape);

/* ZRANGE and its older forms (t_zset_range.c). */
enum { ZR_AUTO = 0, ZR_RANK, ZR_SCORE, ZR_LEX };

#endif /* FC_CMD_T_ZSET_INT_H */
