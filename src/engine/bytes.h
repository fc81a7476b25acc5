/*
 * bytes.h — private to the engine: byte-string equality inline, for the
 * key compares of table probes (the shard's table, typed values' tables).
 * Owns nothing. Threads: any.
 */
#ifndef FC_ENGINE_BYTES_H
#define FC_ENGINE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Equality of n bytes without a call into libc at any length: overlapping
 * word loads up to 16 bytes, a word loop beyond. For the lookups of the
 * engine's tables, where a call costs more than the comparison and makes
 * the compiler save registers on every lookup, hit or not (getstr.c). */
static inline bool eng_bytes_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint64_t a0, a1, b0, b1;
    if (n >= 8) {
        if (n > 16) {
            for (; n > 16; n -= 8, a += 8, b += 8) {
                memcpy(&a0, a, 8);
                memcpy(&b0, b, 8);
                if (a0 != b0)
                    return false;
            }
        }
        memcpy(&a0, a, 8);
        memcpy(&b0, b, 8);
        memcpy(&a1, a + n - 8, 8);
        memcpy(&b1, b + n - 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    if (n >= 4) {
        uint32_t c0, c1, d0, d1;
        memcpy(&c0, a, 4);
        memcpy(&d0, b, 4);
        memcpy(&c1, a + n - 4, 4);
        memcpy(&d1, b + n - 4, 4);
        return ((c0 ^ d0) | (c1 ^ d1)) == 0;
    }
    if (n)
        return a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1];
    return true;
}

/* memcpy of a value, with the sizes of cache values (up to 64 B) done as
 * two overlapping fixed-size moves inline: a call into libc's memcpy is a
 * dozen instructions more per get, which matter because they limit how many
 * gets' cache misses the core overlaps (getstr.c). */
static inline void ent_copy_value(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (n > 64) {
        memcpy(d, s, n);
    } else if (n >= 32) {
        memcpy(d, s, 32);
        memcpy(d + n - 32, s + n - 32, 32);
    } else if (n >= 16) {
        memcpy(d, s, 16);
        memcpy(d + n - 16, s + n - 16, 16);
    } else if (n >= 8) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n) {
        memcpy(d, s, n);
    }
}

#endif /* FC_ENGINE_BYTES_H */
