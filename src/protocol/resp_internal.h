/*
 * resp_internal.h — helpers shared by the RESP parser files (private to
 * src/protocol; not part of the resp.h contract).
 *
 * Owns: nothing. Threads: any; pure functions and constant tables.
 */
#ifndef FC_RESP_INTERNAL_H
#define FC_RESP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol/resp.h"

/* Redis's string2ll: optional '-', no '+', no spaces, no leading zeros
 * ("0" alone is fine, "-0" is not), at most 20 characters, range-checked. */
bool resp_str2ll(const char *s, size_t n, long long *out);

/* The inline (telnet) form: one line split with Redis's sdssplitargs rules.
 * wbuf is buf when the caller's buffer is writable (escapes are then decoded
 * in place), NULL otherwise. Same outputs as resp_parse. */
enum resp_status resp_parse_inline(char *wbuf, const char *buf, size_t len,
                                   const resp_limits *lim, resp_arg *args,
                                   size_t args_cap, size_t *argc,
                                   size_t *consumed, const char **err);

#define RESP_ERR_PROTO "ERR Protocol error: "

#endif /* FC_RESP_INTERNAL_H */
