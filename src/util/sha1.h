/*
 * sha1.h — SHA-1 of a byte string as 40 lower-case hex digits: the name of
 * a Lua script (EVALSHA, SCRIPT LOAD, redis.sha1hex), as Redis computes it.
 * Not used for anything that needs collision resistance.
 *
 * Threads: pure function, any thread. Memory: writes into the caller's
 * 41-byte buffer (NUL-terminated).
 */
#ifndef FC_UTIL_SHA1_H
#define FC_UTIL_SHA1_H

#include <stddef.h>

void fc_sha1_hex(const void *data, size_t len, char out[41]);

#endif /* FC_UTIL_SHA1_H */
