/*
 * spsc.h — bounded lock-free single-producer/single-consumer ring of
 * pointers, and a channel that adds a producer-side overflow list to it.
 *
 * The server has one channel per ordered pair of workers (src -> dst): a
 * request travels src -> dst, its reply (the same message) dst -> src. The
 * ring is bounded so that a stalled consumer cannot make a producer's memory
 * grow inside shared state; what does not fit waits in the producer's own
 * overflow list, in order, and is pushed again by spsc_chan_flush(). A
 * bounded channel (spsc_chan_init_bounded) allocates its overflow array
 * once, at its bound, and never grows it: sending then never allocates, so
 * it cannot fail for lack of memory, only when the caller broke the bound
 * it promised (the server's in-flight accounting, worker.h).
 *
 * Owns: the ring's slot array and the overflow array; never the pointed-to
 *   messages.
 * Threads: exactly one producer thread (push, chan_send, chan_flush) and one
 *   consumer thread (pop) per ring; spsc_ring_empty may be called by either.
 *   Head and tail live on separate cache lines, and each side caches the
 *   other's index, so a push or pop touches a shared line only when its
 *   cached view says full or empty.
 * Memory: push publishes with release, pop reads with acquire: everything the
 *   producer wrote into a message before pushing it is visible to the
 *   consumer after popping it.
 */
#ifndef FC_SERVER_ROUTE_SPSC_H
#define FC_SERVER_ROUTE_SPSC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct spsc_ring {
    _Alignas(64) _Atomic size_t head; /* next slot to pop (consumer) */
    size_t tail_cache;                /* consumer's view of tail */
    _Alignas(64) _Atomic size_t tail; /* next slot to fill (producer) */
    size_t head_cache;                /* producer's view of head */
    _Alignas(64) size_t mask;
    void *slots[];
} spsc_ring;

/* capacity: rounded up to a power of two, at least 2. NULL on OOM. */
spsc_ring *spsc_ring_new(size_t capacity);
void spsc_ring_free(spsc_ring *r);
/* Producer. false when full (p not queued). p must not be NULL. */
bool spsc_ring_push(spsc_ring *r, void *p);
/* Consumer. NULL when empty. */
void *spsc_ring_pop(spsc_ring *r);
/* Either side; a snapshot that may be stale by the time it returns. */
bool spsc_ring_empty(spsc_ring *r);

/* Channel: ring + overflow list, producer side. FIFO order is kept: while
 * anything waits in overflow, new messages queue behind it. */
typedef struct spsc_chan {
    spsc_ring *ring;
    void **ovf; /* overflow FIFO: ovf[ovf_head .. ovf_head + ovf_len) */
    size_t ovf_head, ovf_len, ovf_cap;
    bool bounded; /* ovf_cap is fixed */
} spsc_chan;

int spsc_chan_init(spsc_chan *ch, size_t capacity); /* 0 or -1 (OOM) */
/* A channel that holds at most capacity (rounded up as the ring's) plus
 * ovf_max messages; spsc_chan_send fails beyond that, never for OOM. */
int spsc_chan_init_bounded(spsc_chan *ch, size_t capacity, size_t ovf_max);
/* Frees ring and overflow array; messages still queued are the caller's to
 * drain first (spsc_ring_pop / spsc_chan_take_overflow). */
void spsc_chan_destroy(spsc_chan *ch);
/* Producer: queue p. -1 only when the overflow list cannot grow (OOM, or
 * a bounded channel is full). */
int spsc_chan_send(spsc_chan *ch, void *p);
/* Producer: move what fits from overflow into the ring; returns how many
 * messages still wait in overflow. */
size_t spsc_chan_flush(spsc_chan *ch);
/* Producer (or anyone once both threads are gone): the oldest overflowed
 * message, removed; NULL when none. For shutdown draining. */
void *spsc_chan_take_overflow(spsc_chan *ch);

#endif /* FC_SERVER_ROUTE_SPSC_H */
