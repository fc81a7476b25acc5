/*
 * lock.h — the shard lock of the shared handle (private to src/lib).
 *
 * Owns: nothing but its one word of state.
 * Threads: any thread may take and release it; it is not recursive.
 * Why not pthread_mutex_t: a shard lock is held for one hash lookup (tens of
 *   nanoseconds), so the uncontended path must be a single CAS to take and a
 *   single exchange to release, inlined. Under contention it spins briefly
 *   (the holder is about to finish) and then sleeps on a futex, so a holder
 *   preempted on an oversubscribed machine costs a wait, not a burnt core.
 *   States (Drepper, "Futexes Are Tricky", mutex 3): 0 free, 1 held,
 *   2 held and somebody may be asleep in the kernel.
 */
#ifndef FC_LIB_LOCK_H
#define FC_LIB_LOCK_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct lib_lock {
    _Atomic uint32_t state;
} lib_lock;

/* Contended path, out of line: spin, then futex wait. */
void lib_lock_slow(lib_lock *l);
/* Wakes one sleeper. */
void lib_lock_wake(lib_lock *l);

static inline void lib_lock_init(lib_lock *l)
{
    atomic_init(&l->state, 0);
}

static inline void lib_lock_acquire(lib_lock *l)
{
    uint32_t expected = 0;
    if (__builtin_expect(atomic_compare_exchange_strong_explicit(
                             &l->state, &expected, 1, memory_order_acquire,
                             memory_order_relaxed),
                         1))
        return;
    lib_lock_slow(l);
}

static inline void lib_lock_release(lib_lock *l)
{
    if (__builtin_expect(
            atomic_exchange_explicit(&l->state, 0, memory_order_release) == 2,
            0))
        lib_lock_wake(l);
}

#endif /* FC_LIB_LOCK_H */
