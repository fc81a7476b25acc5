/*
 * log.h — the server's log: one line per event on stderr, Redis's layout
 * ("pid:M 25 Nov 2026 03:04:05.123 * Ready to accept connections"), with the
 * level marked as Redis does: '.' debug, '-' verbose, '*' notice,
 * '#' warning.
 *
 * Owns: the process-wide log level (the only global besides the config).
 * Threads: any; each line is written with a single write(2), so lines from
 *   different workers never interleave. The level is an atomic.
 */
#ifndef FC_SERVER_LOG_H
#define FC_SERVER_LOG_H

#include "server/config/config.h"

void srv_log_set_level(int level);
int srv_log_level(void);
void srv_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define srv_debug(...) srv_log(SRV_LOG_DEBUG, __VA_ARGS__)
#define srv_verbose(...) srv_log(SRV_LOG_VERBOSE, __VA_ARGS__)
#define srv_notice(...) srv_log(SRV_LOG_NOTICE, __VA_ARGS__)
#define srv_warning(...) srv_log(SRV_LOG_WARNING, __VA_ARGS__)

#endif /* FC_SERVER_LOG_H */
