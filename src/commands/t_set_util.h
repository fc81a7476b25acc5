/*
 * t_set_util.h — helpers shared by t_set.c and t_set_multi.c.
 * Private to src/commands. Threads and memory: as command.h.
 */
#ifndef FC_CMD_T_SET_UTIL_H
#define FC_CMD_T_SET_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "commands/command.h"
#include "engine/obj.h"

/* The set at argv[i] for reading: true with *o (NULL: absent), false
 * when WRONGTYPE was replied. */
bool set_read(cmd_ctx *c, size_t i, eng_obj **o);
/* A set reply (RESP3 '~') of o's members; NULL: empty. */
void set_reply_members(cmd_ctx *c, const eng_obj *o);

#endif /* FC_CMD_T_SET_UTIL_H */
