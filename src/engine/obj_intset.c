/*
 * obj_intset.c — sorted integer members at the narrowest width
 * (obj_intset.h).
 */
#include "engine/obj_intset.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "fastcache.h"

static unsigned width_of(int64_t v)
{
    if (v >= INT16_MIN && v <= INT16_MAX)
        return 2;
    if (v >= INT32_MIN && v <= INT32_MAX)
        return 4;
    return 8;
}

static int64_t get_w(const uint8_t *d, unsigned w, size_t i)
{
    if (w == 2) {
        int16_t x;
        memcpy(&x, d + i * 2, 2);
        return x;
    }
    if (w == 4) {
        int32_t x;
        memcpy(&x, d + i * 4, 4);
        return x;
    }
    int64_t x;
    memcpy(&x, d + i * 8, 8);
    return x;
}

static void put_w(uint8_t *d, unsigned w, size_t i, int64_t v)
{
    if (w == 2) {
        int16_t x = (int16_t)v;
        memcpy(d + i * 2, &x, 2);
    } else if (w == 4) {
        int32_t x = (int32_t)v;
        memcpy(d + i * 4, &x, 4);
    } else {
        memcpy(d + i * 8, &v, 8);
    }
}

int64_t is_get(const intset *s, size_t i)
{
    return get_w(s->data, s->width, i);
}

bool is_find(const intset *s, int64_t v, size_t *pos)
{
    size_t lo = 0, hi = s->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t m = is_get(s, mid);
        if (m == v) {
            *pos = mid;
            return true;
        }
        if (m < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return false;
}

int is_add(intset *s, int64_t v)
{
    unsigned w = width_of(v);
    if (w < s->width)
        w = s->width;
    size_t n = (size_t)s->count + 1;
    if (w != s->width) {
        /* Upgrade: rewrite every member at the wider width (from the end,
         * so the rewrite can happen in place after the realloc). */
        uint8_t *d = realloc(s->data, n * w);
        if (!d)
            return FC_ENOMEM;
        for (size_t i = s->count; i-- > 0;)
            put_w(d, w, i, get_w(d, s->width, i));
        s->data = d;
        s->width = (uint8_t)w;
    } else if (malloc_usable_size(s->data) < n * w) {
        /* Growth by an eighth, as the pack: small sets stay tight. */
        uint8_t *d = realloc(s->data, (n + n / 8 + 1) * w);
        if (!d)
            return FC_ENOMEM;
        s->data = d;
    }
    size_t pos;
    is_find(s, v, &pos);
    memmove(s->data + (pos + 1) * w, s->data + pos * w, (s->count - pos) * w);
    put_w(s->data, w, pos, v);
    s->count++;
    return FC_OK;
}

void is_remove(intset *s, size_t i)
{
    unsigned w = s->width;
    memmove(s->data + i * w, s->data + (i + 1) * w, (s->count - i - 1) * w);
    s->count--;
    if (s->count == 0) {
        is_free(s);
    } else if (malloc_usable_size(s->data) > 64 &&
               malloc_usable_size(s->data) > (size_t)s->count * w * 2) {
        uint8_t *d = realloc(s->data, (size_t)s->count * w);
        if (d)
            s->data = d;
    }
}

size_t is_heap(const intset *s)
{
    return s->data ? malloc_usable_size(s->data) : 0;
}

void is_free(intset *s)
{
    free(s->data);
    s->data = NULL;
    s->count = 0;
    s->width = 0;
}

int is_copy(intset *dst, const intset *src)
{
    *dst = *src;
    dst->data = NULL;
    if (!src->count)
        return FC_OK;
    size_t n = (size_t)src->count * src->width;
    if (!(dst->data = malloc(n)))
        return FC_ENOMEM;
    memcpy(dst->data, src->data, n);
    return FC_OK;
}
