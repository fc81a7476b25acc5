/*
 * geometry.c — cache sizes from sysfs and the [tiers] defaults (see
 * geometry.h).
 */
#include "util/geometry.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define SYSFS_CACHE "/sys/devices/system/cpu/cpu0/cache/index%d/%s"

uint64_t geom_parse_size(const char *s)
{
    uint64_t n = 0;
    int digits = 0;
    while (isspace((unsigned char)*s))
        s++;
    for (; isdigit((unsigned char)*s); s++, digits++) {
        if (n > UINT64_MAX / 10 / (1 << 20))
            return 0;
        n = n * 10 + (uint64_t)(*s - '0');
    }
    if (!digits)
        return 0;
    if (*s == 'K' || *s == 'k')
        n <<= 10, s++;
    else if (*s == 'M' || *s == 'm')
        n <<= 20, s++;
    while (isspace((unsigned char)*s))
        s++;
    return *s ? 0 : n;
}

static int read_line(int index, const char *file, char *buf, size_t len)
{
    char path[128];
    snprintf(path, sizeof(path), SYSFS_CACHE, index, file);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *got = fgets(buf, (int)len, f);
    fclose(f);
    if (!got)
        return -1;
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

static uint64_t index_size(int index)
{
    char buf[64];
    return read_line(index, "size", buf, sizeof(buf)) ? 0
                                                      : geom_parse_size(buf);
}

void geom_probe(geom_caches *out)
{
    char type[64];
    int l1 = 0;
    if (read_line(0, "type", type, sizeof(type)) == 0 &&
        !strcmp(type, "Instruction"))
        l1 = 1;
    out->l1d = index_size(l1);
    if (!out->l1d && l1 == 0)
        out->l1d = index_size(1);
    out->l2 = index_size(2);
    out->l3 = index_size(3);
    if (!out->l1d)
        out->l1d = 64 << 10;
    if (!out->l2)
        out->l2 = 4 << 20;
    if (!out->l3)
        out->l3 = 16 << 20;
}

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The nearest power of two, ties going down (v >= 1). */
static uint64_t nearest_pow2(uint64_t v)
{
    uint64_t lo = 1;
    while (lo <= v / 2)
        lo <<= 1;
    uint64_t hi = lo << 1;
    return v - lo <= hi - v ? lo : hi;
}

void geom_tier_defaults(const geom_caches *c, uint32_t shard_count,
                        geom_tiers *out)
{
    uint64_t slots = c->l1d * 3 / 5 / 64;
    if (slots < 4)
        slots = 4;
    slots = clamp(nearest_pow2(slots), 256, 2048);
    out->hot_capacity = clamp(slots * 4 / 5, 128, 16384);
    out->warm_capacity = clamp(c->l2 / 160, 1024, 131072);
    uint64_t per = c->l3 / (shard_count ? shard_count : 1);
    if (per < (2u << 20))
        per = 2u << 20;
    out->cold_capacity = clamp(per / 192, 8192, 1000000);
    out->promotion_batch = GEOM_PROMOTION_BATCH;
}
