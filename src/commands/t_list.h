/*
 * t_list.h — the lists commands (t_list.c), for the command table only.
 * Threads and memory: as command.h.
 */
#ifndef FC_CMD_T_LIST_H
#define FC_CMD_T_LIST_H

#include "commands/command.h"

#endif /* FC_CMD_T_LIST_H */
