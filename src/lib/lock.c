/* lock.c — contended path of the shard lock (see lock.h). */
#include "lib/lock.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Long enough to cover a holder finishing one lookup, short enough that a
 * preempted holder sends us to sleep quickly. */
#define LIB_LOCK_SPINS 128

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

static void futex_wait(_Atomic uint32_t *addr, uint32_t val)
{
    /* EINTR / EAGAIN just mean "look again", which the caller does. */
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL,
            0);
}

void lib_lock_wake(lib_lock *l)
{
    syscall(SYS_futex, (uint32_t *)&l->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL,
            0);
}

void lib_lock_slow(lib_lock *l)
{
    for (int i = 0; i < LIB_LOCK_SPINS; i++) {
        cpu_relax();
        uint32_t expected = 0;
        if (atomic_load_explicit(&l->state, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_weak_explicit(&l->state, &expected, 1,
                                                  memory_order_acquire,
                                                  memory_order_relaxed))
            return;
    }
    /* Announce a sleeper (state 2) so the releaser knows to wake us; we
     * own the lock whenever the exchange saw it free. */
    while (atomic_exchange_explicit(&l->state, 2, memory_order_acquire) != 0)
        futex_wait(&l->state, 2);
}
