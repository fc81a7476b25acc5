/*
 * fold.h — ASCII case folding eight bytes at a time, for the server's
 * command-name lookup (srvcmd.c), which runs once per command: byte by
 * byte it cost about 130 instructions of a pipelined LPOP's 1100, word by
 * word about 40.
 *
 * Pure functions; any thread.
 */
#ifndef FC_UTIL_FOLD_H
#define FC_UTIL_FOLD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ASCII upper case to lower case in every byte of x at once: a byte gets
 * 0x20 when it is in 'A'..'Z' (its low seven bits plus 0x3f carry into
 * bit 7 from 'A' up, plus 0x25 from past 'Z'; no byte carries into the
 * next, and bytes from 0x80 up are left alone). */
static inline uint64_t fc_fold8(uint64_t x)
{
    const uint64_t low7 = 0x7f7f7f7f7f7f7f7fULL, high = 0x8080808080808080ULL;
    uint64_t h = x & low7;
    uint64_t upper =
        (h + 0x3f3f3f3f3f3f3f3fULL) & ~(h + 0x2525252525252525ULL) & ~x & high;
    return x | (upper >> 2);
}

/* The 1..7 bytes at p as one word, zero above them: fixed-size loads
 * (a byte loop cost 37 instructions of a 4-byte name). Both the table
 * and the lookup build words so, so the byte order needs no care. */
static inline uint64_t fc_load_tail(const char *p, size_t r)
{
    uint32_t a = 0;
    uint16_t b = 0;
    uint64_t x;
    switch (r) {
    case 1:
        return (unsigned char)p[0];
    case 2:
        memcpy(&b, p, 2);
        return b;
    case 3:
        memcpy(&b, p, 2);
        return b | (uint64_t)(unsigned char)p[2] << 16;
    case 4:
        memcpy(&a, p, 4);
        return a;
    case 5:
        memcpy(&a, p, 4);
        return a | (uint64_t)(unsigned char)p[4] << 32;
    case 6:
        memcpy(&a, p, 4);
        memcpy(&b, p + 4, 2);
        return a | (uint64_t)b << 32;
    default:
        memcpy(&a, p, 4);
        memcpy(&b, p + 4, 2);
        x = a | (uint64_t)b << 32;
        return x | (uint64_t)(unsigned char)p[6] << 48;
    }
}

/* n (>= 1) bytes of p in lower case into w[(n + 7) / 8] (the last word
 * zero-padded), and a hash of the result and n; returns the words. */
static inline size_t fc_fold_words(const char *p, size_t n, uint64_t *w,
                                   uint64_t *hash)
{
    size_t nw = (n + 7) / 8, full = n / 8;
    uint64_t h = n;
    for (size_t i = 0; i < full; i++) {
        uint64_t x;
        memcpy(&x, p + 8 * i, 8);
        w[i] = fc_fold8(x);
    }
    if (full < nw)
        w[full] = fc_fold8(fc_load_tail(p + 8 * full, n & 7));
    for (size_t i = 0; i < nw; i++) {
        h = (h ^ w[i]) * 0x9E3779B97F4A7C15ULL;
        h ^= h >> 29;
    }
    *hash = h;
    return nw;
}

#endif /* FC_UTIL_FOLD_H */
