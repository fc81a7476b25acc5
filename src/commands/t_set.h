/*
 * t_set.h — the sets commands (t_set.c), for the command table only.
 * Threads and memory: as command.h.
 */
#ifndef FC_CMD_T_SET_H
#define FC_CMD_T_SET_H

#include "commands/command.h"

#endif /* FC_CMD_T_SET_H */
