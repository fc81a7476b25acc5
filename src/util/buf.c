#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>

bool fc_buf_reserve(fc_buf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->cap - b->len >= extra)
        return true;
    size_t need = b->len + extra;
    if (need < b->len) { /* overflow */
        b->oom = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap * 2 > cap ? cap * 2 : need;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void fc_buf_free(fc_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}

void fc_buf_consume(fc_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void fc_buf_vprintf(fc_buf *b, const char *fmt, va_list ap)
{
    char line[FC_BUF_LINE_MAX];
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    if (n < 0)
        return;
    fc_buf_append(b, line,
                  (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void fc_buf_printf(fc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fc_buf_vprintf(b, fmt, ap);
    va_end(ap);
}
