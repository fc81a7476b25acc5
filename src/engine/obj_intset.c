/*
 * obj_intset.c — sorted integer members as offsets from the smallest
 * (obj_intset.h).
 */
#include "engine/obj_intset.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "fastcache.h"

static unsigned width_for(uint64_t range)
{
    if (range <= 0xff)
        return 1;
    if (range <= 0xffff)
        return 2;
    if (range <= 0xffffffffu)
        return 4;
    return 8;
}

static uint64_t get_w(const uint8_t *d, unsigned w, size_t i)
{
    if (w == 1)
        return d[i];
    if (w == 2) {
        uint16_t x;
        memcpy(&x, d + i * 2, 2);
        return x;
    }
    if (w == 4) {
        uint32_t x;
        memcpy(&x, d + i * 4, 4);
        return x;
    }
    uint64_t x;
    memcpy(&x, d + i * 8, 8);
    return x;
}

static void put_w(uint8_t *d, unsigned w, size_t i, uint64_t v)
{
    if (w == 1) {
        d[i] = (uint8_t)v;
    } else if (w == 2) {
        uint16_t x = (uint16_t)v;
        memcpy(d + i * 2, &x, 2);
    } else if (w == 4) {
        uint32_t x = (uint32_t)v;
        memcpy(d + i * 4, &x, 4);
    } else {
        memcpy(d + i * 8, &v, 8);
    }
}

/* Two's complement arithmetic in uint64_t: offsets wrap nowhere, since
 * every member is >= base. */
int64_t is_get(const intset *s, size_t i)
{
    return (int64_t)((uint64_t)s->base + get_w(s->data, s->width, i));
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
    size_t n = (size_t)s->count + 1;
    int64_t lo = v, hi = v;
    if (s->count) {
        int64_t first = is_get(s, 0), last = is_get(s, s->count - 1);
        lo = first < v ? first : v;
        hi = last > v ? last : v;
    }
    unsigned w = width_for((uint64_t)hi - (uint64_t)lo);
    if (w < s->width)
        w = s->width;
    if (malloc_usable_size(s->data) < n * w) {
        /* Exact growth, as Redis's intset: malloc's rounding already
         * leaves room for a few more, and bytes per member are the point
         * of the encoding. */
        uint8_t *d = realloc(s->data, n * w);
        if (!d)
            return FC_ENOMEM;
        s->data = d;
    }
    if (s->count && (w != s->width || lo != s->base)) {
        /* A wider width or a lower base: rewrite every offset, from the
         * end so that a widening rewrite never overwrites unread ones. */
        uint64_t shift = (uint64_t)s->base - (uint64_t)lo;
        for (size_t i = s->count; i-- > 0;)
            put_w(s->data, w, i, get_w(s->data, s->width, i) + shift);
    }
    s->base = lo;
    s->width = (uint8_t)w;
    size_t pos;
    is_find(s, v, &pos);
    memmove(s->data + (pos + 1) * w, s->data + pos * w, (s->count - pos) * w);
    put_w(s->data, w, pos, (uint64_t)v - (uint64_t)lo);
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
    memset(s, 0, sizeof(*s));
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
