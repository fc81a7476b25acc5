/*
 * buf.h — a growable byte buffer.
 *
 * Owns: its data array (malloc/realloc/free).
 * Threads: one owner at a time; no internal locking.
 * Failure: a failed growth sets `oom` and later appends are dropped, so hot
 *   paths need not check every append; the owner checks `oom` once.
 */
#ifndef FC_UTIL_BUF_H
#define FC_UTIL_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct fc_buf {
    char *data;
    size_t len;
    size_t cap;
    bool oom;
} fc_buf;

/* Ensures room for `extra` more bytes; false (and oom set) on failure. */
bool fc_buf_reserve(fc_buf *b, size_t extra);
void fc_buf_free(fc_buf *b);
/* Drops the first n bytes (memmove of the rest). */
void fc_buf_consume(fc_buf *b, size_t n);

static inline void fc_buf_append(fc_buf *b, const void *p, size_t n)
{
    if (b->cap - b->len < n && !fc_buf_reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

static inline void fc_buf_putc(fc_buf *b, char c)
{
    if (b->cap == b->len && !fc_buf_reserve(b, 1))
        return;
    b->data[b->len++] = c;
}

/* Appends printf output of at most FC_BUF_LINE_MAX - 1 bytes (cut
 * there): the report lines INFO and /metrics build. */
#define FC_BUF_LINE_MAX 512
void fc_buf_vprintf(fc_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void fc_buf_printf(fc_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* FC_UTIL_BUF_H */
