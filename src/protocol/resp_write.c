/*
 * resp_write.c — the reply writer: RESP2 and RESP3 encodings of each reply
 * type, formatted as Redis 7.0 formats them (addReply* in networking.c).
 *
 * Every function reserves the whole encoding once and then writes it, so a
 * failed growth drops a reply whole (buf->oom is set by fc_buf_reserve) and
 * nothing is written once oom is set: the stream is never left half-valid.
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/resp.h"
#include "util/num.h"

static const char digit_pairs[201] = "00010203040506070809"
                                     "10111213141516171819"
                                     "20212223242526272829"
                                     "30313233343536373839"
                                     "40414243444546474849"
                                     "50515253545556575859"
                                     "60616263646566676869"
                                     "70717273747576777879"
                                     "80818283848586878889"
                                     "90919293949596979899";

static inline unsigned u64_len(uint64_t v)
{
    unsigned n = 1;

    for (;;) {
        if (v < 10)
            return n;
        if (v < 100)
            return n + 1;
        if (v < 1000)
            return n + 2;
        if (v < 10000)
            return n + 3;
        v /= 10000;
        n += 4;
    }
}

/* Writes the digits of v so that the last one lands just before end. */
static inline void u64_write(char *end, uint64_t v)
{
    while (v >= 100) {
        unsigned i = (unsigned)(v % 100) * 2;
        v /= 100;
        *--end = digit_pairs[i + 1];
        *--end = digit_pairs[i];
    }
    if (v >= 10) {
        unsigned i = (unsigned)v * 2;
        *--end = digit_pairs[i + 1];
        *--end = digit_pairs[i];
    } else {
        *--end = (char)('0' + v);
    }
}

/* Room for n more bytes, or NULL (output dropped) once out of memory. */
static inline char *room(resp_writer *w, size_t n)
{
    fc_buf *b = w->out;

    if (b->oom || (b->cap - b->len < n && !fc_buf_reserve(b, n)))
        return NULL;
    return b->data + b->len;
}

static inline void put(resp_writer *w, const char *s, size_t n)
{
    char *p = room(w, n);

    if (p) {
        memcpy(p, s, n);
        w->out->len += n;
    }
}

/* "<type>[-]<v>\r\n" */
static inline void put_num(resp_writer *w, char type, bool neg, uint64_t v)
{
    unsigned d = u64_len(v);
    size_t n = 1 + (size_t)neg + d + 2;
    char *p = room(w, n);

    if (!p)
        return;
    p[0] = type;
    if (neg)
        p[1] = '-';
    u64_write(p + 1 + neg + d, v);
    p[n - 2] = '\r';
    p[n - 1] = '\n';
    w->out->len += n;
}

/* <prefix> then s with CR and LF turned into spaces (a reply line must not
 * hold them), then CRLF. */
static void put_line(resp_writer *w, char prefix, const char *s, size_t n)
{
    char *p = room(w, n + 3);

    if (!p)
        return;
    p[0] = prefix;
    for (size_t i = 0; i < n; i++)
        p[i + 1] = s[i] == '\r' || s[i] == '\n' ? ' ' : s[i];
    p[n + 1] = '\r';
    p[n + 2] = '\n';
    w->out->len += n + 3;
}

void resp_ok(resp_writer *w)
{
    put(w, "+OK\r\n", 5);
}

void resp_simple(resp_writer *w, const char *s)
{
    put_line(w, '+', s, strlen(s));
}

/* As addReplyErrorFormat: CR/LF trimmed from both ends, the rest turned into
 * spaces; a leading '-' (Redis's "code given by the caller") is dropped. */
static void put_error(resp_writer *w, const char *s, size_t n)
{
    while (n > 0 && (s[0] == '\r' || s[0] == '\n')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (n > 0 && s[0] == '-') {
        s++;
        n--;
    }
    put_line(w, '-', s, n);
}

void resp_error(resp_writer *w, const char *msg)
{
    put_error(w, msg, strlen(msg));
}

void resp_errorf(resp_writer *w, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    int k;

    va_start(ap, fmt);
    k = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (k < 0) {
        put_error(w, "ERR", 3); /* an encoding error in the format */
        return;
    }
    if ((size_t)k < sizeof(small)) {
        put_error(w, small, (size_t)k);
        return;
    }
    char *big = malloc((size_t)k + 1);
    if (!big) {
        w->out->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)k + 1, fmt, ap);
    va_end(ap);
    put_error(w, big, (size_t)k);
    free(big);
}

void resp_int(resp_writer *w, int64_t v)
{
    if (v < 0)
        put_num(w, ':', true, 0 - (uint64_t)v);
    else
        put_num(w, ':', false, (uint64_t)v);
}

void resp_bulk(resp_writer *w, const void *p, size_t n)
{
    if (n > SIZE_MAX - 32) {
        w->out->oom = true;
        return;
    }
    unsigned d = u64_len(n);
    size_t total = 1 + d + 2 + n + 2;
    char *o = room(w, total);

    if (!o)
        return;
    o[0] = '$';
    u64_write(o + 1 + d, n);
    o[1 + d] = '\r';
    o[2 + d] = '\n';
    if (n > 0)
        memcpy(o + 3 + d, p, n);
    o[total - 2] = '\r';
    o[total - 1] = '\n';
    w->out->len += total;
}

void resp_bulk_cstr(resp_writer *w, const char *s)
{
    if (s)
        resp_bulk(w, s, strlen(s));
    else
        resp_null(w);
}

void resp_null(resp_writer *w)
{
    if (w->proto >= 3)
        put(w, "_\r\n", 3);
    else
        put(w, "$-1\r\n", 5);
}

void resp_null_array(resp_writer *w)
{
    if (w->proto >= 3)
        put(w, "_\r\n", 3);
    else
        put(w, "*-1\r\n", 5);
}

void resp_array(resp_writer *w, size_t n)
{
    put_num(w, '*', false, n);
}

void resp_map(resp_writer *w, size_t pairs)
{
    if (w->proto >= 3)
        put_num(w, '%', false, pairs);
    else
        put_num(w, '*', false, (uint64_t)pairs * 2);
}

void resp_push(resp_writer *w, size_t n)
{
    put_num(w, w->proto >= 3 ? '>' : '*', false, n);
}

void resp_set(resp_writer *w, size_t n)
{
    put_num(w, w->proto >= 3 ? '~' : '*', false, n);
}

/* As addReplyDouble in Redis 7.0: "%.17g", with inf/-inf spelled out (libc
 * spellings vary) and NaN as "nan" whatever its sign bit. */
void resp_double(resp_writer *w, double d)
{
    char tmp[64];
    const char *s = tmp;
    size_t n;

    if (isinf(d)) {
        s = d > 0 ? "inf" : "-inf";
        n = strlen(s);
    } else if (isnan(d)) {
        s = "nan";
        n = 3;
    } else {
        n = fc_fmt_g17(d, tmp);
    }
    if (w->proto >= 3)
        put_line(w, ',', s, n);
    else
        resp_bulk(w, s, n);
}

void resp_double_text(resp_writer *w, const char *s, size_t n)
{
    if (w->proto >= 3)
        put_line(w, ',', s, n);
    else
        resp_bulk(w, s, n);
}

void resp_bool(resp_writer *w, int b)
{
    if (w->proto >= 3)
        put(w, b ? "#t\r\n" : "#f\r\n", 4);
    else
        put(w, b ? ":1\r\n" : ":0\r\n", 4);
}

/* RESP3: "=<n+4>\r\nfmt:<p>\r\n", fmt padded with spaces to three bytes as
 * addReplyVerbatim does. RESP2: a plain bulk string. */
void resp_verbatim(resp_writer *w, const char *fmt3, const void *p, size_t n)
{
    if (w->proto < 3) {
        resp_bulk(w, p, n);
        return;
    }
    if (n > SIZE_MAX - 64) {
        w->out->oom = true;
        return;
    }
    unsigned d = u64_len((uint64_t)n + 4);
    size_t total = 1 + d + 2 + 4 + n + 2;
    char *o = room(w, total);

    if (!o)
        return;
    o[0] = '=';
    u64_write(o + 1 + d, (uint64_t)n + 4);
    o[1 + d] = '\r';
    o[2 + d] = '\n';
    if (!fmt3)
        fmt3 = "txt";
    for (int i = 0; i < 3; i++)
        o[3 + d + i] = *fmt3 ? *fmt3++ : ' ';
    o[6 + d] = ':';
    if (n > 0)
        memcpy(o + 7 + d, p, n);
    o[total - 2] = '\r';
    o[total - 1] = '\n';
    w->out->len += total;
}
