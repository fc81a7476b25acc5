/*
 * geometry.h — the host's CPU cache sizes and the [tiers] defaults the
 * seed derives from them (../shared/spec/storage.md §3).
 *
 * Probe: Linux sysfs, cpu0's cache index0 (index1 when index0 is an
 * instruction cache) = L1d, index2 = L2, index3 = L3, sizes like "48K" or
 * "2M"; a level that cannot be read takes the fallback: L1d 64 KiB, L2
 * 4 MiB, L3 16 MiB (no macOS sysctl: we build for Linux only).
 *
 * Owns: nothing. Threads: any (reads files, no state).
 */
#ifndef FC_UTIL_GEOMETRY_H
#define FC_UTIL_GEOMETRY_H

#include <stdint.h>

typedef struct geom_caches {
    uint64_t l1d, l2, l3; /* bytes */
} geom_caches;

typedef struct geom_tiers {
    uint64_t hot_capacity, warm_capacity, cold_capacity;
    uint32_t promotion_batch;
} geom_tiers;

#define GEOM_PROMOTION_BATCH 256

/* The sizes of this host (fallbacks where sysfs says nothing). */
void geom_probe(geom_caches *out);
/* "32K", "1M", "512" -> bytes; 0 when unreadable. */
uint64_t geom_parse_size(const char *s);
/* The seed's formulas:
 *   hot:  slots = max(4, L1d * 3/5 / 64), rounded to the nearest power of
 *         two (ties down), clamped to [256, 2048]; clamp(slots * 4/5,
 *         128, 16384)
 *   warm: clamp(L2 / 160, 1024, 131072)
 *   cold: clamp(max(L3 / shard_count, 2 MiB) / 192, 8192, 1000000)
 *   promotion_batch: 256. */
void geom_tier_defaults(const geom_caches *c, uint32_t shard_count,
                        geom_tiers *out);

#endif /* FC_UTIL_GEOMETRY_H */
