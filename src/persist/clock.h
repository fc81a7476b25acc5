/*
 * clock.h — the two clocks persistence reads, in milliseconds: monotonic
 * (the engine's expiry clock, eng_now_ms's) and unix (what files store).
 * Threads: any. Owns nothing.
 */
#ifndef FC_PERSIST_CLOCK_H
#define FC_PERSIST_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t ps_clock_ms(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static inline int64_t ps_mono_ms(void)
{
    return ps_clock_ms(CLOCK_MONOTONIC);
}

static inline int64_t ps_unix_ms(void)
{
    return ps_clock_ms(CLOCK_REALTIME);
}

#endif /* FC_PERSIST_CLOCK_H */
