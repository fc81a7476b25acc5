/*
 * slowlog.h — SLOWLOG: the commands that ran longer than
 * slowlog-log-slower-than microseconds (10000; negative: none, 0: all),
 * the last slowlog-max-len (128) of them, as Redis 7.0 keeps and shows
 * them (id, Unix time, microseconds, at most 32 arguments of at most 128
 * bytes each with Redis's "... (N more ...)" marks, client address and
 * name).
 *
 * Owns: each worker's ring of entries and their argument copies.
 * Threads: srv_slowlog_add on the worker that ran the command (its ring;
 *   the ids come from one process-wide counter, so SLOWLOG GET can merge
 *   every worker's ring newest first); SLOWLOG GET/LEN/RESET from any
 *   worker. Each ring has a mutex: only slow commands and SLOWLOG itself
 *   take it, so the fast path stays a compare with the threshold.
 */
#ifndef FC_SERVER_SLOWLOG_H
#define FC_SERVER_SLOWLOG_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/resp.h"

struct srv_worker;
struct srv_server;

typedef struct srv_slowlog srv_slowlog;

/* Per worker; NULL on OOM (the worker then logs nothing). */
srv_slowlog *srv_slowlog_new(void);
void srv_slowlog_free(srv_slowlog *l);

/* Records a command that took `us` microseconds (the caller compared it
 * with the threshold), with its client's "ip:port" and name: Redis's
 * "?:0" and "" for a script's commands; "" and "" for a command run here
 * on another worker's behalf, whose client is that worker's. Secrets are
 * written "(redacted)" as Redis 7.0 does: AUTH's arguments, HELLO's
 * after AUTH, CONFIG SET requirepass/masterauth's value. */
void srv_slowlog_add(struct srv_worker *w, const resp_arg *argv, size_t argc,
                     const char *addr, const char *name, uint64_t us);

/* SLOWLOG's subcommands over every worker's ring. */
void srv_slowlog_get(struct srv_server *s, resp_writer *wr, long count);
size_t srv_slowlog_len(struct srv_server *s);
void srv_slowlog_reset(struct srv_server *s);

#endif /* FC_SERVER_SLOWLOG_H */
