/*
 * num.h — Redis's strict decimal integer parsing (string2ll), shared by the
 * engine (INCRBY on a stored value) and the commands (integer arguments), so
 * that a value INCR accepts and an argument a command accepts follow one rule.
 *
 * Accepted: an optional '-', then "0" alone or a digit 1-9 followed by
 * digits, in the int64 range; at most 20 characters. Rejected: empty, '+',
 * spaces, leading zeros, "-0", anything else.
 * Threads: any; no state. Memory: nothing allocated; p is only read.
 */
#ifndef FC_UTIL_NUM_H
#define FC_UTIL_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses p[0..n) (not NUL-terminated); *out is written only on success. */
bool fc_parse_i64(const void *p, size_t n, int64_t *out);

/* snprintf(buf, 32, "%.17g", d) for a finite d (Redis 7.0's reply form of
 * a double), NUL-terminated; returns the length. Integral values below
 * 2^53 in magnitude are written as their digits without libc (what
 * "%.17g" prints for them: -0 included), which a sorted set's scores
 * usually are: printf's float path was 40% of a ZPOPMIN. */
#define FC_G17_MAX 32
size_t fc_fmt_g17(double d, char *buf);

#endif /* FC_UTIL_NUM_H */
