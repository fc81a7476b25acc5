/*
 * time_hash.c — the engine's clock (monotonic milliseconds) and key hash
 * (XXH3-64, inlined from the header for speed).
 */
#include <time.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "engine/engine.h"

int64_t eng_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t eng_hash(const void *key, size_t len)
{
    return XXH3_64bits(key, len);
}

uint64_t eng_hash_seeded(uint64_t seed, const void *key, size_t len)
{
    return seed ? XXH3_64bits_withSeed(key, len, seed) : XXH3_64bits(key, len);
}
