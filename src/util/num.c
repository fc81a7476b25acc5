#include "util/num.h"

#include <math.h>
#include <stdio.h>

bool fc_parse_i64(const void *p, size_t n, int64_t *out)
{
    const unsigned char *s = p;
    bool neg = false;
    uint64_t v = 0;
    size_t i = 0;

    /* 20 chars hold "-9223372036854775808"; Redis refuses longer. */
    if (n == 0 || n > 20)
        return false;
    if (n == 1 && s[0] == '0') {
        *out = 0;
        return true;
    }
    if (s[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i >= n || s[i] < '1' || s[i] > '9')
        return false;
    for (; i < n; i++) {
        unsigned d = (unsigned)s[i] - '0';
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return false;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)v;
    }
    return true;
}

size_t fc_fmt_g17(double d, char *buf)
{
    if (d > -9007199254740992.0 && d < 9007199254740992.0 &&
        d == (double)(int64_t)d) {
        int64_t v = (int64_t)d;
        char tmp[24];
        size_t n = 0, at = 0;
        uint64_t u = v < 0 ? (uint64_t)(-v) : (uint64_t)v;
        do {
            tmp[n++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (v < 0 || (v == 0 && signbit(d)))
            buf[at++] = '-';
        while (n)
            buf[at++] = tmp[--n];
        buf[at] = '\0';
        return at;
    }
    int k = snprintf(buf, FC_G17_MAX, "%.17g", d);
    return k > 0 ? (size_t)k : 0;
}
