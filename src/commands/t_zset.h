/*
 * t_zset.h — the sorted sets commands (t_zset.c), for the command table only.
 * Threads and memory: as command.h.
 */
#ifndef FC_CMD_T_ZSET_H
#define FC_CMD_T_ZSET_H

#include "commands/command.h"

#endif /* FC_CMD_T_ZSET_H */
