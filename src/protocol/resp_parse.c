/*
 * resp_parse.c — the request parser's entry points and the multibulk form.
 *
 * Follows Redis 7's processMultibulkBuffer step by step, so that the same
 * bytes give the same words, the same waiting and the same error texts:
 * - a length line is found by its '\r'; the byte after it is skipped unseen
 *   (Redis never checks that it is '\n'), and so are the two bytes after a
 *   bulk payload. A wrong declared length therefore desyncs the stream
 *   exactly as it does against Redis, which clients may rely on in tests.
 * - the '$' of a bulk line is checked only once its '\r' has arrived.
 * - a length line with no '\r' in the rest of the buffer is an error once
 *   that rest exceeds max_inline_len (Redis's PROTO_INLINE_MAX_SIZE).
 * Deviation: Redis looks for '\r' with strchr, which stops at a NUL byte and
 *   then waits for more input; here a NUL inside a length line is just an
 *   invalid number.
 * The whole request is parsed again on every call (no state between calls);
 *   *need lets the caller skip calls until a large payload has arrived.
 */
#include <limits.h>
#include <string.h>

#include "protocol/resp.h"
#include "protocol/resp_internal.h"

#define ERR_MBULK_LEN RESP_ERR_PROTO "invalid multibulk length"
#define ERR_MBULK_BIG RESP_ERR_PROTO "too big mbulk count string"
#define ERR_BULK_LEN RESP_ERR_PROTO "invalid bulk length"
#define ERR_BULK_BIG RESP_ERR_PROTO "too big bulk count string"
#define ERR_UNAUTH_MBULK RESP_ERR_PROTO "unauthenticated multibulk length"
#define ERR_UNAUTH_BULK RESP_ERR_PROTO "unauthenticated bulk length"

/* "expected '$', got '%c'" for every byte, built at compile time so the
 * parser keeps no state. As Redis's addReplyErrorFormat does, '\r' and '\n'
 * become spaces, and a NUL byte ends the text right after the quote. */
/* clang-format off */
#define EXP_PFX                                                                \
    'E', 'R', 'R', ' ', 'P', 'r', 'o', 't', 'o', 'c', 'o', 'l', ' ', 'e', 'r', \
        'r', 'o', 'r', ':', ' ', 'e', 'x', 'p', 'e', 'c', 't', 'e', 'd', ' ',  \
        '\'', '$', '\'', ',', ' ', 'g', 'o', 't', ' ', '\''
#define EXP_CH(n) ((n) == '\r' || (n) == '\n' ? ' ' : (char)(n))
#define EXP1(n) {EXP_PFX, EXP_CH(n), '\'', '\0'}
#define EXP4(n) EXP1(n), EXP1((n) + 1), EXP1((n) + 2), EXP1((n) + 3)
#define EXP16(n) EXP4(n), EXP4((n) + 4), EXP4((n) + 8), EXP4((n) + 12)
#define EXP64(n) EXP16(n), EXP16((n) + 16), EXP16((n) + 32), EXP16((n) + 48)
static const char expected_dollar[256][42] = {
    EXP64(0), EXP64(64), EXP64(128), EXP64(192)};
/* clang-format on */

void resp_limits_default(resp_limits *lim)
{
    lim->max_bulk_len = 512u * 1024 * 1024;
    lim->max_multibulk = 1024 * 1024;
    lim->max_inline_len = 64 * 1024;
    lim->unauth_multibulk = 0;
    lim->unauth_bulk_len = 0;
}

bool resp_str2ll(const char *s, size_t n, long long *out)
{
    size_t i = 0;
    bool neg = false;
    unsigned long long v = 0;

    if (n == 0 || n > 20)
        return false;
    if (s[0] == '-') {
        if (n == 1)
            return false;
        neg = true;
        i = 1;
    }
    if (s[i] == '0') {
        if (n != 1)
            return false;
        *out = 0;
        return true;
    }
    for (; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9 || v > ULLONG_MAX / 10 || v * 10 > ULLONG_MAX - d)
            return false;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return false;
        *out =
            v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return false;
        *out = (long long)v;
    }
    return true;
}

enum line_rc { LINE_OK, LINE_NEED, LINE_BAD_NUM, LINE_TOO_BIG, LINE_BAD_TYPE };

/* Slow path of read_len: Redis's exact order of checks. */
static enum line_rc read_len_slow(const char *buf, size_t len, size_t *pos,
                                  char type, size_t max_line, long long *val)
{
    size_t p = *pos;
    const char *cr = memchr(buf + p, '\r', len - p);

    if (!cr)
        return len - p > max_line ? LINE_TOO_BIG : LINE_NEED;
    size_t crpos = (size_t)(cr - buf);
    if (crpos + 1 >= len)
        return LINE_NEED;
    if (buf[p] != type)
        return LINE_BAD_TYPE;
    if (!resp_str2ll(buf + p + 1, crpos - p - 1, val))
        return LINE_BAD_NUM;
    *pos = crpos + 2;
    return LINE_OK;
}

/* Reads the "<type><integer>\r?" line at buf[*pos] (*pos < len) and moves
 * *pos past it. The fast path takes the common "<type><1-18 digits>\r" with
 * the skipped byte present, which the slow path would accept identically. */
static inline enum line_rc read_len(const char *buf, size_t len, size_t *pos,
                                    char type, size_t max_line, long long *val)
{
    const char *s = buf + *pos + 1;
    size_t avail = len - *pos - 1;

    if (buf[*pos] == type && avail >= 3) {
        unsigned d = (unsigned)(unsigned char)s[0] - '0';
        if (d - 1 < 9) { /* 1..9: no leading zero */
            unsigned long long v = d;
            size_t i = 1, stop = avail - 2 < 18 ? avail - 2 : 18;
            while (i < stop && (d = (unsigned)(unsigned char)s[i] - '0') < 10) {
                v = v * 10 + d;
                i++;
            }
            if (s[i] == '\r') {
                *val = (long long)v;
                *pos += i + 3;
                return LINE_OK;
            }
        } else if (d == 0 && s[1] == '\r') {
            *val = 0;
            *pos += 4;
            return LINE_OK;
        }
    }
    return read_len_slow(buf, len, pos, type, max_line, val);
}

static size_t sat_add(size_t a, size_t b)
{
    return a + b < a ? SIZE_MAX : a + b;
}

/* A lower bound on the bytes a request needs: what is known up to `known`,
 * then the shortest form ("$0\r\n" plus 2) of each argument still unseen. */
static size_t need_bound(size_t known, size_t unseen, size_t len)
{
    size_t rest = unseen > SIZE_MAX / 6 ? SIZE_MAX : unseen * 6;
    size_t n = sat_add(known, rest);
    return n > len ? n : len + 1;
}

static enum resp_status mbulk_header(const char *buf, size_t len,
                                     const resp_limits *lim, size_t *pos,
                                     size_t *count, const char **err)
{
    long long n;

    switch (read_len(buf, len, pos, '*', lim->max_inline_len, &n)) {
    case LINE_OK:
        break;
    case LINE_NEED:
        return RESP_NEED_MORE;
    case LINE_TOO_BIG:
        *err = ERR_MBULK_BIG;
        return RESP_ERROR;
    default:
        *err = ERR_MBULK_LEN;
        return RESP_ERROR;
    }
    if (n > 0 && (unsigned long long)n > lim->max_multibulk) {
        *err = ERR_MBULK_LEN;
        return RESP_ERROR;
    }
    if (lim->unauth_multibulk && n > 0 &&
        (unsigned long long)n > lim->unauth_multibulk) {
        *err = ERR_UNAUTH_MBULK;
        return RESP_ERROR;
    }
    *count = n > 0 ? (size_t)n : 0;
    return n > 0 ? RESP_DONE : RESP_EMPTY;
}

/* Reads one "$<len>\r\n" line at buf[*pos] (*pos < len). */
static enum resp_status bulk_header(const char *buf, size_t len,
                                    const resp_limits *lim, size_t *pos,
                                    size_t *blen, const char **err)
{
    long long n;

    switch (read_len(buf, len, pos, '$', lim->max_inline_len, &n)) {
    case LINE_OK:
        break;
    case LINE_NEED:
        return RESP_NEED_MORE;
    case LINE_TOO_BIG:
        *err = ERR_BULK_BIG;
        return RESP_ERROR;
    case LINE_BAD_TYPE:
        *err = expected_dollar[(unsigned char)buf[*pos]];
        return RESP_ERROR;
    default:
        *err = ERR_BULK_LEN;
        return RESP_ERROR;
    }
    if (n < 0 || (unsigned long long)n > lim->max_bulk_len) {
        *err = ERR_BULK_LEN;
        return RESP_ERROR;
    }
    if (lim->unauth_bulk_len && (unsigned long long)n > lim->unauth_bulk_len) {
        *err = ERR_UNAUTH_BULK;
        return RESP_ERROR;
    }
    *blen = (size_t)n;
    return RESP_DONE;
}

static enum resp_status parse_multibulk(const char *buf, size_t len,
                                        const resp_limits *lim, resp_arg *args,
                                        size_t cap, size_t *argc,
                                        size_t *consumed, size_t *need,
                                        const char **err)
{
    size_t pos = 0, count = 0;
    enum resp_status st = mbulk_header(buf, len, lim, &pos, &count, err);

    if (st == RESP_EMPTY)
        *consumed = pos;
    if (st != RESP_DONE)
        return st;
    for (size_t i = 0; i < count; i++) {
        size_t blen;
        if (pos >= len) {
            *need = need_bound(pos, count - i, len);
            return RESP_NEED_MORE;
        }
        st = bulk_header(buf, len, lim, &pos, &blen, err);
        if (st == RESP_NEED_MORE)
            *need = need_bound(len, count - i - 1, len);
        if (st != RESP_DONE)
            return st;
        if (blen > len - pos || len - pos - blen < 2) {
            *need =
                need_bound(sat_add(pos, sat_add(blen, 2)), count - i - 1, len);
            return RESP_NEED_MORE;
        }
        if (i < cap) {
            args[i].ptr = buf + pos;
            args[i].len = blen;
        }
        pos += blen + 2;
    }
    *argc = count;
    if (count > cap)
        return RESP_MORE_ARGS;
    *consumed = pos;
    return RESP_DONE;
}

static enum resp_status parse(char *wbuf, const char *buf, size_t len,
                              const resp_limits *lim, resp_arg *args,
                              size_t cap, size_t *argc, size_t *consumed,
                              size_t *need, const char **err)
{
    *argc = 0;
    *consumed = 0;
    *need = 0;
    *err = NULL;
    if (len == 0)
        return RESP_NEED_MORE;
    if (buf[0] == '*')
        return parse_multibulk(buf, len, lim, args, cap, argc, consumed, need,
                               err);
    return resp_parse_inline(wbuf, buf, len, lim, args, cap, argc, consumed,
                             err);
}

enum resp_status resp_parse(const char *buf, size_t len, const resp_limits *lim,
                            resp_arg *args, size_t args_cap, size_t *argc,
                            size_t *consumed, size_t *need, const char **err)
{
    return parse(NULL, buf, len, lim, args, args_cap, argc, consumed, need,
                 err);
}

enum resp_status resp_parse_mut(char *buf, size_t len, const resp_limits *lim,
                                resp_arg *args, size_t args_cap, size_t *argc,
                                size_t *consumed, size_t *need,
                                const char **err)
{
    return parse(buf, buf, len, lim, args, args_cap, argc, consumed, need, err);
}
