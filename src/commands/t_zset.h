/*
 * t_zset.h — the sorted sets commands (t_zset.c, t_zset_range.c,
 * t_zset_pop.c, t_zset_setop.c), for the command table only.
 * Threads and memory: as command.h.
 */
#ifndef FC_CMD_T_ZSET_H
#define FC_CMD_T_ZSET_H

#include <stdbool.h>
#include <stdint.h>

#include "commands/command.h"

/* t_zset.c */
void cmd_zadd(cmd_ctx *c);
void cmd_zincrby(cmd_ctx *c);
void cmd_zrem(cmd_ctx *c);
void cmd_zcard(cmd_ctx *c);
void cmd_zscore(cmd_ctx *c);
void cmd_zmscore(cmd_ctx *c);
void cmd_zrank(cmd_ctx *c);
void cmd_zrevrank(cmd_ctx *c);
void cmd_zcount(cmd_ctx *c);
void cmd_zlexcount(cmd_ctx *c);

/* t_zset_range.c */
void cmd_zrange(cmd_ctx *c);
void cmd_zrevrange(cmd_ctx *c);
void cmd_zrangebyscore(cmd_ctx *c);
void cmd_zrevrangebyscore(cmd_ctx *c);
void cmd_zrangebylex(cmd_ctx *c);
void cmd_zrevrangebylex(cmd_ctx *c);
void cmd_zrangestore(cmd_ctx *c);
void cmd_zremrangebyrank(cmd_ctx *c);
void cmd_zremrangebyscore(cmd_ctx *c);
void cmd_zremrangebylex(cmd_ctx *c);

/* t_zset_pop.c */
void cmd_zpopmin(cmd_ctx *c);
void cmd_zpopmax(cmd_ctx *c);
void cmd_zmpop(cmd_ctx *c);
void cmd_zrandmember(cmd_ctx *c);
void cmd_zscan(cmd_ctx *c);

/* t_zset_setop.c */
void cmd_zunion(cmd_ctx *c);
void cmd_zinter(cmd_ctx *c);
void cmd_zdiff(cmd_ctx *c);
void cmd_zintercard(cmd_ctx *c);
void cmd_zunionstore(cmd_ctx *c);
void cmd_zinterstore(cmd_ctx *c);
void cmd_zdiffstore(cmd_ctx *c);

/* The blocking forms as rows (one attempt: MULTI's behaviour), and the
 * attempt and empty answer the server's blocking layer calls, as for the
 * lists (t_list.h: CMD_BLK_DONE / CMD_BLK_EMPTY). */
void cmd_bzpopmin(cmd_ctx *c);
void cmd_bzpopmax(cmd_ctx *c);
void cmd_bzmpop(cmd_ctx *c);
int cmd_zset_block(cmd_ctx *c, bool retry, int64_t *timeout_ms);
void cmd_zset_block_empty(cmd_ctx *c, bool timed_out);

#endif /* FC_CMD_T_ZSET_H */
