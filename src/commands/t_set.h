/*
 * t_set.h — the sets commands (t_set.c, t_set_multi.c), for the command
 * table only. Threads and memory: as command.h.
 */
#ifndef FC_CMD_T_SET_H
#define FC_CMD_T_SET_H

#include "commands/command.h"

/* t_set.c */
void cmd_sadd(cmd_ctx *c);
void cmd_srem(cmd_ctx *c);
void cmd_sismember(cmd_ctx *c);
void cmd_smismember(cmd_ctx *c);
void cmd_scard(cmd_ctx *c);
void cmd_smembers(cmd_ctx *c);
void cmd_srandmember(cmd_ctx *c);
void cmd_spop(cmd_ctx *c);
void cmd_sscan(cmd_ctx *c);
void cmd_smove(cmd_ctx *c);

/* t_set_multi.c */
void cmd_sinter(cmd_ctx *c);
void cmd_sintercard(cmd_ctx *c);
void cmd_sinterstore(cmd_ctx *c);
void cmd_sunion(cmd_ctx *c);
void cmd_sunionstore(cmd_ctx *c);
void cmd_sdiff(cmd_ctx *c);
void cmd_sdiffstore(cmd_ctx *c);

#endif /* FC_CMD_T_SET_H */
