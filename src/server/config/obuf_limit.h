/*
 * obuf_limit.h — Redis's client-output-buffer-limit: the per-class limits'
 * defaults, their CONFIG GET/SET text form, and the check that decides
 * when a client's unsent output gets it disconnected.
 *
 * A client with any subscription is of the "pubsub" class (pubsub.h),
 * every other of the "normal" class (replicas are not clients here); the
 * replica class is kept so that CONFIG GET/SET round-trip Redis's format
 * unchanged. Redis's default for normal
 * clients is no limit at all ("normal 0 0 0"), and so is ours: the
 * back-pressure in conn.c (CONN_OUT_HIGH) already keeps a client that does
 * not read from making the server's memory grow, so the limit is a policy
 * (drop slow consumers) rather than what bounds memory.
 *
 * Owns: nothing (pure functions over srv_obuf_class arrays, config.h).
 * Threads: any; CONFIG SET writes the config's array only while every other
 *   worker is parked (see config.h), and workers read it without locks.
 */
#ifndef FC_SERVER_OBUF_LIMIT_H
#define FC_SERVER_OBUF_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/config/config.h"

/* Redis 7's defaults: normal 0 0 0, replica 256mb 64mb 60, pubsub 32mb 8mb
 * 60. */
void srv_obuf_defaults(srv_obuf_class lim[SRV_OBUF_NCLASS]);

/* Parses Redis's CONFIG SET value: one or more "<class> <hard> <soft>
 * <soft-seconds>" groups (class normal, replica/slave or pubsub; sizes as
 * srv_parse_memory). All or nothing: lim changes only on success. NULL on
 * success, else Redis's reason. */
const char *srv_obuf_parse(const char *v, srv_obuf_class lim[SRV_OBUF_NCLASS]);

/* CONFIG GET's text: "normal 0 0 0 slave 268435456 67108864 60 pubsub ...". */
void srv_obuf_format(const srv_obuf_class lim[SRV_OBUF_NCLASS], char *out,
                     size_t outlen);

/* Whether a client with `pending` bytes of unsent output at now_ms must be
 * disconnected under limit l. *soft_since tracks when it went over the soft
 * limit (0 = it is not over): the soft limit must be exceeded continuously
 * for soft_secs, as in Redis, where it is also only looked at when output
 * is added. */
bool srv_obuf_exceeded(const srv_obuf_class *l, size_t pending, int64_t now_ms,
                       int64_t *soft_since);

#endif /* FC_SERVER_OBUF_LIMIT_H */
