/* common.c — handle-independent public calls and argument checks. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>

#include "lib/lib.h"
#include "util/geometry.h"

const char *fc_strerror(int code)
{
    switch (code) {
    case FC_OK:
        return "success";
    case FC_ENOTFOUND:
        return "key not found";
    case FC_EEXISTS:
        return "key already exists";
    case FC_ENOMEM:
        return "out of memory";
    case FC_EINVAL:
        return "invalid argument";
    case FC_ETOOBIG:
        return "key or value too large";
    case FC_ENOTINT:
        return "value is not an integer or out of range";
    case FC_EOVERFLOW:
        return "increment or TTL would overflow";
    case FC_ENOTLOCAL:
        return "key is owned by another worker";
    case FC_ETRUNC:
        return "buffer too small";
    case FC_ENOTSET:
        return "key does not exist";
    case FC_EWRONGTYPE:
        return "operation against a key holding the wrong kind of value";
    case FC_EIO:
        return "I/O error: the disk (persistence; see stderr) or the device "
               "(a transfer backend)";
    case FC_EREADONLY:
        return "read-only replica: writes go to the primary";
    case FC_ETIMEDOUT:
        return "timed out";
    case FC_ENOTSUP:
        return "not supported by this build";
    default:
        return "unknown error";
    }
}

void fc_free(void *p)
{
    free(p);
}

int64_t fc_now_ms(void)
{
    return eng_now_ms();
}

uint64_t fc_hash(const void *key, size_t len)
{
    return eng_hash(lib_nonnull(key), len);
}

uint64_t lib_seed(const fc_options *opts)
{
    uint64_t seed = opts ? opts->hash_seed : 0;
    if (seed != FC_HASH_SEED_RANDOM)
        return seed;
    /* getrandom never fails for 8 bytes once the pool is initialised; if
     * it does (very early boot, seccomp), fall back to clock and address
     * bits rather than to a fixed seed. */
    if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
        seed = (uint64_t)eng_now_ms() * 0x9e3779b97f4a7c15ULL ^
               (uint64_t)(uintptr_t)&seed;
    return seed == FC_HASH_SEED_RANDOM || seed == 0 ? 1 : seed;
}

int lib_route_mode(const fc_options *opts, int *mode)
{
    *mode = opts ? opts->route_mode : FC_ROUTE_FULL_KEY;
    if (*mode != FC_ROUTE_FULL_KEY && *mode != FC_ROUTE_SESSION_PREFIX)
        return FC_EINVAL;
    /* Recovery and snapshots place keys by their full hash (persist/). */
    if (*mode == FC_ROUTE_SESSION_PREFIX && opts->data_dir)
        return FC_EINVAL;
    return FC_OK;
}

/* fc_evict_fn has no shard argument: this adapter drops it. */
static void lib_on_drop(void *ctx, uint32_t shard, const void *key, size_t klen,
                        int reason)
{
    const lib_evict_cb *cb = ctx;
    (void)shard;
    cb->fn(cb->ctx, key, klen,
           reason == ENG_DROP_MEMORY ? FC_EVICT_MEMORY : FC_EVICT_EXPIRED);
}

int lib_budget_init(eng_budget *b, lib_evict_cb *cb, const fc_options *o,
                    uint32_t nshards)
{
    static const enum eng_policy pols[] = {
        [FC_POLICY_CLOCK] = ENG_POL_CLOCK,
        [FC_POLICY_NOEVICTION] = ENG_POL_NOEVICTION,
        [FC_POLICY_ALLKEYS_LRU] = ENG_POL_ALLKEYS_LRU,
        [FC_POLICY_ALLKEYS_LFU] = ENG_POL_ALLKEYS_LFU,
        [FC_POLICY_VOLATILE_LRU] = ENG_POL_VOLATILE_LRU,
        [FC_POLICY_VOLATILE_LFU] = ENG_POL_VOLATILE_LFU,
        [FC_POLICY_VOLATILE_TTL] = ENG_POL_VOLATILE_TTL,
        [FC_POLICY_ALLKEYS_RANDOM] = ENG_POL_ALLKEYS_RANDOM,
        [FC_POLICY_VOLATILE_RANDOM] = ENG_POL_VOLATILE_RANDOM,
    };
    eng_budget_init(b);
    geom_caches gc;
    geom_tiers gt;
    geom_probe(&gc);
    geom_tier_defaults(&gc, nshards, &gt);
    eng_budget_set_tiers(
        b, o && o->hot_capacity ? o->hot_capacity : gt.hot_capacity,
        o && o->warm_capacity ? o->warm_capacity : gt.warm_capacity,
        o && o->cold_capacity ? o->cold_capacity : gt.cold_capacity,
        o && o->promotion_batch ? o->promotion_batch : gt.promotion_batch,
        nshards);
    if (!o)
        return FC_OK;
    if (o->maxmemory_policy < 0 ||
        (size_t)o->maxmemory_policy >= sizeof(pols) / sizeof(pols[0]) ||
        o->maxmemory_samples > 64)
        return FC_EINVAL;
    atomic_store(&b->policy, (int)pols[o->maxmemory_policy]);
    if (o->maxmemory_samples)
        atomic_store(&b->samples, (int)o->maxmemory_samples);
    if (o->lfu_log_factor)
        atomic_store(&b->lfu_log_factor,
                     o->lfu_log_factor < 0 ? 0 : o->lfu_log_factor);
    if (o->lfu_decay_time)
        atomic_store(&b->lfu_decay_time,
                     o->lfu_decay_time < 0 ? 0 : o->lfu_decay_time);
    if (o->on_evict) {
        cb->fn = o->on_evict;
        cb->ctx = o->on_evict_ctx;
        b->on_drop = lib_on_drop;
        b->on_drop_ctx = cb;
    }
    return FC_OK;
}

int lib_ttl_to_expire(int64_t ttl_ms, int64_t *now, int64_t *expire_at)
{
    if (ttl_ms == FC_TTL_NONE) {
        *expire_at = 0;
        return FC_OK;
    }
    if (ttl_ms <= 0) {
        *expire_at = LIB_EXPIRE_DELETE;
        return FC_OK;
    }
    if (*now == ENG_NOW_LAZY)
        *now = eng_now_ms();
    /* Redis rejects such a TTL ("invalid expire time") rather than clamp:
     * a clamped TTL would silently become a different one. */
    if (ttl_ms > INT64_MAX - *now)
        return FC_EOVERFLOW;
    *expire_at = *now + ttl_ms;
    return FC_OK;
}

int lib_set_prepare(lib_set_req *r, const void *key, size_t klen,
                    const void *val, size_t vlen, int64_t ttl_ms,
                    unsigned flags, int64_t *now)
{
    int rc = lib_check_key(key, klen);
    if (rc != FC_OK)
        return rc;
    if (vlen > FC_MAX_VALUE_LEN)
        return FC_ETOOBIG;
    if (!val && vlen)
        return FC_EINVAL;
    if (flags & ~(FC_SET_NX | FC_SET_XX | FC_SET_KEEPTTL))
        return FC_EINVAL;
    if ((flags & FC_SET_NX) && (flags & FC_SET_XX))
        return FC_EINVAL;
    r->key = lib_nonnull(key);
    r->klen = klen;
    r->val = lib_nonnull(val);
    r->vlen = vlen;
    r->flags = flags;
    r->expire_at = 0;
    if (!(flags & FC_SET_KEEPTTL)) {
        rc = lib_ttl_to_expire(ttl_ms, now, &r->expire_at);
        if (rc != FC_OK)
            return rc;
    }
    r->now = *now;
    return FC_OK;
}
