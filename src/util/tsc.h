/*
 * tsc.h — a nanosecond clock for timing commands: the CPU's time-stamp
 * counter scaled to CLOCK_MONOTONIC's rate, where the counter is constant
 * and non-stop (x86-64 with both flags in /proc/cpuinfo); else
 * clock_gettime(CLOCK_MONOTONIC) itself.
 *
 * Why: the server times every command (commandstats, INFO, latency), and
 * through the vDSO on this VM a clock read costs 23 ns, a pipelined
 * command's budget being ~300-500 ns; rdtsc costs 10.
 *
 * Only durations are meant: fc_tsc_ns() values are monotonic nanoseconds
 * on an unspecified origin (close to CLOCK_MONOTONIC's at calibration).
 * Threads: fc_tsc_init once, before the threads that read it start (the
 * server's main thread, in srv_init); fc_tsc_ns from any thread.
 */
#ifndef FC_UTIL_TSC_H
#define FC_UTIL_TSC_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

typedef struct fc_tsc_clock {
    bool use_tsc;
    uint64_t base_tsc, base_ns;
    uint64_t mult; /* ns per tick, as a 32.32 fixed-point number */
} fc_tsc_clock;

extern fc_tsc_clock fc_tsc;

/* Calibrates against CLOCK_MONOTONIC over about `ms` milliseconds (20 is
 * plenty: the error is below 0.1%); keeps clock_gettime when the counter
 * is not known to be constant and non-stop, or when force_clock is set.
 * Returns whether the counter is used. */
bool fc_tsc_init(unsigned ms, bool force_clock);

static inline uint64_t fc_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t fc_tsc_ns(void)
{
#if defined(__x86_64__)
    if (__builtin_expect(fc_tsc.use_tsc, 1)) {
        uint64_t d = __rdtsc() - fc_tsc.base_tsc;
        return fc_tsc.base_ns +
               (uint64_t)(((unsigned __int128)d * fc_tsc.mult) >> 32);
    }
#endif
    return fc_clock_ns();
}

#endif /* FC_UTIL_TSC_H */
