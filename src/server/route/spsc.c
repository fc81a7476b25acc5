#include "server/route/spsc.h"

#include <stdint.h>
#include <stdlib.h>

spsc_ring *spsc_ring_new(size_t capacity)
{
    size_t cap = 2;
    while (cap < capacity) {
        if (cap > SIZE_MAX / 4 / sizeof(void *))
            return NULL;
        cap *= 2;
    }
    spsc_ring *r =
        aligned_alloc(64, (sizeof(*r) + cap * sizeof(void *) + 63) / 64 * 64);
    if (!r)
        return NULL;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    r->tail_cache = 0;
    r->head_cache = 0;
    r->mask = cap - 1;
    for (size_t i = 0; i < cap; i++)
        r->slots[i] = NULL;
    return r;
}

void spsc_ring_free(spsc_ring *r)
{
    free(r);
}

bool spsc_ring_push(spsc_ring *r, void *p)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (tail - r->head_cache > r->mask) {
        /* Looks full: refresh our view of the consumer's position. */
        r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
        if (tail - r->head_cache > r->mask)
            return false;
    }
    r->slots[tail & r->mask] = p;
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    return true;
}

void *spsc_ring_pop(spsc_ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (head == r->tail_cache) {
        r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (head == r->tail_cache)
            return NULL;
    }
    void *p = r->slots[head & r->mask];
    /* Release: the producer may reuse the slot only after we read it. */
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    return p;
}

bool spsc_ring_empty(spsc_ring *r)
{
    return atomic_load_explicit(&r->head, memory_order_acquire) ==
           atomic_load_explicit(&r->tail, memory_order_acquire);
}

int spsc_chan_init(spsc_chan *ch, size_t capacity)
{
    ch->ring = spsc_ring_new(capacity);
    ch->ovf = NULL;
    ch->ovf_head = ch->ovf_len = ch->ovf_cap = 0;
    ch->bounded = false;
    return ch->ring ? 0 : -1;
}

int spsc_chan_init_bounded(spsc_chan *ch, size_t capacity, size_t ovf_max)
{
    if (spsc_chan_init(ch, capacity))
        return -1;
    ch->bounded = true;
    if (ovf_max == 0)
        return 0;
    ch->ovf = malloc(ovf_max * sizeof(*ch->ovf));
    if (!ch->ovf) {
        spsc_chan_destroy(ch);
        return -1;
    }
    ch->ovf_cap = ovf_max;
    return 0;
}

void spsc_chan_destroy(spsc_chan *ch)
{
    spsc_ring_free(ch->ring);
    free(ch->ovf);
    ch->ring = NULL;
    ch->ovf = NULL;
    ch->ovf_head = ch->ovf_len = ch->ovf_cap = 0;
}

static int ovf_append(spsc_chan *ch, void *p)
{
    if (ch->ovf_head + ch->ovf_len == ch->ovf_cap) {
        if (ch->ovf_head > 0) {
            /* Reuse the consumed front before growing. */
            for (size_t i = 0; i < ch->ovf_len; i++)
                ch->ovf[i] = ch->ovf[ch->ovf_head + i];
            ch->ovf_head = 0;
        } else if (ch->bounded) {
            return -1; /* full: the caller's bound was broken */
        } else {
            size_t cap = ch->ovf_cap ? ch->ovf_cap * 2 : 64;
            void **n = realloc(ch->ovf, cap * sizeof(*n));
            if (!n)
                return -1;
            ch->ovf = n;
            ch->ovf_cap = cap;
        }
    }
    ch->ovf[ch->ovf_head + ch->ovf_len++] = p;
    return 0;
}

int spsc_chan_send(spsc_chan *ch, void *p)
{
    if (ch->ovf_len == 0 && spsc_ring_push(ch->ring, p))
        return 0;
    return ovf_append(ch, p);
}

size_t spsc_chan_flush(spsc_chan *ch)
{
    while (ch->ovf_len > 0 && spsc_ring_push(ch->ring, ch->ovf[ch->ovf_head])) {
        ch->ovf_head++;
        ch->ovf_len--;
    }
    if (ch->ovf_len == 0)
        ch->ovf_head = 0;
    return ch->ovf_len;
}

void *spsc_chan_take_overflow(spsc_chan *ch)
{
    if (ch->ovf_len == 0)
        return NULL;
    void *p = ch->ovf[ch->ovf_head++];
    ch->ovf_len--;
    return p;
}
