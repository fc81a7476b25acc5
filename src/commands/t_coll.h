/*
 * t_coll.h — what the hash and set command files share (t_coll.c): the
 * HSCAN/SSCAN argument rules and Redis's long-double formatting.
 * Private to src/commands. Threads and memory: as command.h.
 */
#ifndef FC_CMD_T_COLL_H
#define FC_CMD_T_COLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commands/command.h"

typedef struct coll_scan {
    uint64_t cursor;
    size_t count;          /* COUNT [10] */
    const resp_arg *match; /* MATCH pattern or NULL */
} coll_scan;

/* argv[2] as a cursor: false and "ERR invalid cursor" replied when bad. */
bool coll_scan_cursor(cmd_ctx *c, coll_scan *s);
/* Options from argv[3] (MATCH p, COUNT n): false with the reply sent. */
bool coll_scan_opts(cmd_ctx *c, coll_scan *s);
bool coll_scan_match(const coll_scan *s, const void *p, size_t n);
/* Replies an empty scan: cursor 0 and no elements. */
void coll_reply_empty_scan(cmd_ctx *c);

/* Redis's MAX_LONG_DOUBLE_CHARS. */
#define COLL_LD_BUF (5 * 1024)
/* Redis's ld2string(LD_STR_HUMAN): 0 when it does not fit. */
size_t coll_format_ld(char *buf, size_t cap, long double v);

#endif /* FC_CMD_T_COLL_H */
