/*
 * t_hash.h — the hashes commands (t_hash.c), for the command table only.
 * Threads and memory: as command.h.
 */
#ifndef FC_CMD_T_HASH_H
#define FC_CMD_T_HASH_H

#include "commands/command.h"

#endif /* FC_CMD_T_HASH_H */
