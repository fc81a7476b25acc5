/*
 * t_hash.h — the hashes commands (t_hash.c), for the command table only.
 * Threads and memory: as command.h.
 */
#ifndef FC_CMD_T_HASH_H
#define FC_CMD_T_HASH_H

#include "commands/command.h"

void cmd_hset(cmd_ctx *c);
void cmd_hsetnx(cmd_ctx *c);
void cmd_hmset(cmd_ctx *c);
void cmd_hget(cmd_ctx *c);
void cmd_hmget(cmd_ctx *c);
void cmd_hdel(cmd_ctx *c);
void cmd_hlen(cmd_ctx *c);
void cmd_hstrlen(cmd_ctx *c);
void cmd_hexists(cmd_ctx *c);
void cmd_hkeys(cmd_ctx *c);
void cmd_hvals(cmd_ctx *c);
void cmd_hgetall(cmd_ctx *c);
void cmd_hincrby(cmd_ctx *c);
void cmd_hincrbyfloat(cmd_ctx *c);
void cmd_hrandfield(cmd_ctx *c);
void cmd_hscan(cmd_ctx *c);

#endif /* FC_CMD_T_HASH_H */
