/*
 * resp_reply.c — resp_reply_len: the extent of one encoded reply.
 *
 * Aggregates are only element counts in front of their elements, so one
 * reply is "read values until none is pending": no recursion, no depth
 * limit, and a hostile count cannot overflow (every value takes at least 3
 * bytes, which bounds what may be pending). An attribute (|n) counts its n
 * pairs plus the value it annotates. Streamed (`*?`) forms are not
 * supported and read as malformed.
 */
#include <string.h>

#include "protocol/resp.h"
#include "protocol/resp_internal.h"

/* Checks the line of a value that has neither payload nor elements. */
static bool line_ok(char type, const char *line, size_t n)
{
    long long v;

    switch (type) {
    case '+':
    case '-':
    case ',':
    case '(':
        return true;
    case ':':
        return resp_str2ll(line, n, &v);
    case '_':
        return n == 0;
    case '#':
        return n == 1 && (line[0] == 't' || line[0] == 'f');
    default:
        return false;
    }
}

size_t resp_reply_len(const char *p, size_t n)
{
    size_t pos = 0, pending = 1;

    while (pending > 0) {
        if (pos >= n || pending > (n - pos) / 3)
            return 0;
        char type = p[pos];
        const char *line = p + pos + 1;
        const char *cr = memchr(line, '\r', n - pos - 1);
        if (!cr || (size_t)(cr - p) + 1 >= n || cr[1] != '\n')
            return 0;
        size_t ll = (size_t)(cr - line), next = (size_t)(cr - p) + 2;
        long long v;
        pending--;
        if (strchr("$=!*~>%|", type) == NULL || type == '\0') {
            if (!line_ok(type, line, ll))
                return 0;
        } else if (!resp_str2ll(line, ll, &v)) {
            return 0;
        } else if (v < 0) {
            if (v != -1 || (type != '$' && type != '*'))
                return 0;
        } else if (type == '$' || type == '=' || type == '!') {
            size_t blen = (size_t)v;
            if (blen > n - next || n - next - blen < 2 ||
                p[next + blen] != '\r' || p[next + blen + 1] != '\n')
                return 0;
            next += blen + 2;
        } else {
            size_t add = (size_t)v;
            if (add > n)
                return 0; /* cannot fit; also keeps the sums below small */
            if (type == '%' || type == '|')
                add *= 2;
            pending += add + (type == '|');
        }
        pos = next;
    }
    return pos;
}
