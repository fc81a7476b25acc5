/*
 * t_list.h — the lists commands (t_list.c, t_list_move.c), for the command
 * table, and the one attempt of a blocking list command, for the server's
 * blocking layer (src/server/blocking.c).
 * Threads and memory: as command.h.
 */
#ifndef FC_CMD_T_LIST_H
#define FC_CMD_T_LIST_H

#include <stdbool.h>
#include <stdint.h>

#include "commands/command.h"

void cmd_lpush(cmd_ctx *c);
void cmd_rpush(cmd_ctx *c);
void cmd_lpushx(cmd_ctx *c);
void cmd_rpushx(cmd_ctx *c);
void cmd_lpop(cmd_ctx *c);
void cmd_rpop(cmd_ctx *c);
void cmd_llen(cmd_ctx *c);
void cmd_lindex(cmd_ctx *c);
void cmd_lset(cmd_ctx *c);
void cmd_lrange(cmd_ctx *c);
void cmd_ltrim(cmd_ctx *c);
void cmd_linsert(cmd_ctx *c);
void cmd_lrem(cmd_ctx *c);
void cmd_lpos(cmd_ctx *c);
void cmd_lmove(cmd_ctx *c);
void cmd_rpoplpush(cmd_ctx *c);
void cmd_lmpop(cmd_ctx *c);
/* The blocking commands as rows: their non-blocking behaviour (MULTI's,
 * and the embedded library's). */
void cmd_blpop(cmd_ctx *c);
void cmd_brpop(cmd_ctx *c);
void cmd_blmove(cmd_ctx *c);
void cmd_brpoplpush(cmd_ctx *c);
void cmd_blmpop(cmd_ctx *c);

enum { CMD_BLK_DONE = 0, CMD_BLK_EMPTY = 1 };
/* One attempt of BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP (by argv[0]):
 * parses every argument (replying its error), then pops from the first
 * key with elements, replying as the command does: CMD_BLK_DONE. When no
 * key has any, writes nothing and returns CMD_BLK_EMPTY with the timeout
 * in *timeout_ms (0 = forever). retry: a key that now holds another type
 * counts as empty (a blocked client keeps waiting, as in Redis). Every
 * key must be the calling thread's (command.h). */
int cmd_list_block(cmd_ctx *c, bool retry, int64_t *timeout_ms);
/* The reply of an attempt that found nothing and may not wait (inside
 * MULTI), or whose wait timed out. */
void cmd_list_block_empty(cmd_ctx *c, bool timed_out);

#endif /* FC_CMD_T_LIST_H */
