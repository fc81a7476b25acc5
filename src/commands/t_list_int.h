/*
 * t_list_int.h — helpers shared by the list command files (t_list.c,
 * t_list_move.c). Private to src/commands. Threads and memory: as
 * command.h; element views are borrowed from the list until its next
 * change.
 */
#ifndef FC_CMD_T_LIST_INT_H
#define FC_CMD_T_LIST_INT_H

#include "commands/cmd_util.h"
#include "engine/obj_list.h"

/* "left" -> head (false), "right" -> tail (true); syntax error replied
 * otherwise. */
bool tl_side(cmd_ctx *c, size_t i, bool *tail);
/* Replies n elements from position start as an array, tail first when
 * rev (no reply header when bare). */
void tl_reply_range(cmd_ctx *c, const eng_obj *o, size_t start, size_t n,
                    bool rev);
/* Pops n (<= len) elements of o at one end and logs it; the key is k.
 * The object may be gone after (the key removed when empty). */
void tl_pop_commit(cmd_ctx *c, const cmd_key *k, eng_obj *o, bool tail,
                   size_t n);

#endif /* FC_CMD_T_LIST_INT_H */
