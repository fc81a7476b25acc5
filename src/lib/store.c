/* store.c — the shared handle: lifecycle and single-key calls. Each call
 * hashes the key once, checks its arguments, then holds the key's shard
 * lock for the lookup only. */
#include <stdlib.h>

#include "lib/lib.h"

/* The key of a single-key call: checked, hashed once, with its shard. */
struct store_key {
    const void *p; /* never NULL */
    size_t n;
    uint64_t h;
    struct lib_shard *sh;
};

/* For a key already checked and made non-NULL (by lib_set_prepare). */
static inline struct store_key store_find(fc_store *s, const void *key,
                                          size_t klen)
{
    uint64_t h = lib_route(s->seed, s->route_mode, key, klen);
    return (struct store_key){key, klen, h, &s->shards[h & s->mask]};
}

/* The prologue of a single-key call: checks the key, then finds it. The
 * lock is not taken yet, so that the caller's other checks stay outside. */
static inline int store_locate(fc_store *s, const void *key, size_t klen,
                               struct store_key *k)
{
    int rc = lib_check_key(key, klen);
    if (rc == FC_OK)
        *k = store_find(s, lib_nonnull(key), klen);
    return rc;
}

static inline eng_shard *store_lock(const struct store_key *k)
{
    lib_lock_acquire(&k->sh->lock);
    return k->sh->eng;
}

static inline void store_unlock(const struct store_key *k)
{
    lib_lock_release(&k->sh->lock);
}

int fc_store_open(fc_store **out, const fc_options *opts)
{
    if (!out)
        return FC_EINVAL;
    *out = NULL;
    uint32_t n = opts && opts->shards ? opts->shards : LIB_DEFAULT_SHARDS;
    int mode;
    if (n > FC_MAX_SHARDS || (n & (n - 1)) || lib_route_mode(opts, &mode))
        return FC_EINVAL;
    size_t cap = opts ? opts->initial_capacity : 0;
    size_t per_shard = cap ? (cap + n - 1) / n : 0;

    fc_store *s = aligned_alloc(LIB_CACHELINE, sizeof(*s));
    if (!s)
        return FC_ENOMEM;
    memset(s, 0, sizeof(*s));
    s->shards = aligned_alloc(LIB_CACHELINE, sizeof(*s->shards) * n);
    if (!s->shards) {
        free(s);
        return FC_ENOMEM;
    }
    s->mask = n - 1;
    s->seed = lib_seed(opts);
    s->route_mode = mode;
    s->budget = &s->budget_mem;
    if (lib_budget_init(s->budget, &s->evict_cb, opts, n) != FC_OK) {
        free(s->shards);
        free(s);
        return FC_EINVAL;
    }
    atomic_init(&s->tick_cursor, 0);
    pthread_mutex_init(&s->exp_ctl, NULL);
    pthread_mutex_init(&s->exp_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->exp_cv, &ca);
    pthread_condattr_destroy(&ca);
    /* nshards counts the shards created, so close can undo a partial open */
    for (uint32_t i = 0; i < n; i++, s->nshards++) {
        lib_lock_init(&s->shards[i].lock);
        s->shards[i].eng = eng_shard_new(i, per_shard, &s->observer);
        if (!s->shards[i].eng) {
            fc_store_close(s);
            return FC_ENOMEM;
        }
        eng_shard_set_seed(s->shards[i].eng, s->seed);
        eng_shard_set_budget(s->shards[i].eng, s->budget);
    }
    if (opts && opts->data_dir) {
        int rc = lib_persist_open(s, opts);
        if (rc != FC_OK) {
            fc_store_close(s);
            return rc;
        }
    }
    /* After recovery, which loads everything (as Redis does); the next
     * writes evict down if the data was over the limit. */
    if (opts)
        atomic_store(&s->budget->limit, (uint64_t)opts->maxmemory);
    *out = s;
    return FC_OK;
}

uint64_t fc_store_hash(const fc_store *s, const void *key, size_t len)
{
    return s ? lib_route(s->seed, s->route_mode, lib_nonnull(key), len)
             : eng_hash(lib_nonnull(key), len);
}

void fc_store_close(fc_store *s)
{
    if (!s || s->replica) /* a replica's: fc_replica_close frees it */
        return;
    fc_stop_expiry_thread(s);
    lib_persist_close(s);
    pthread_cond_destroy(&s->exp_cv);
    pthread_mutex_destroy(&s->exp_mu);
    pthread_mutex_destroy(&s->exp_ctl);
    for (uint32_t i = 0; i < s->nshards; i++)
        eng_shard_free(s->shards[i].eng);
    free(s->shards);
    free(s);
}

int fc_set_get(fc_store *s, const void *key, size_t klen, const void *val,
               size_t vlen, int64_t ttl_ms, unsigned flags, void **old,
               size_t *old_len)
{
    if (old)
        *old = NULL;
    if (!s || (old && !old_len))
        return FC_EINVAL;
    if (s->replica)
        return FC_EREADONLY;
    if (s->ps && lib_persist_check(s))
        return FC_EIO; /* the WAL cannot take it */
    int64_t now = ENG_NOW_LAZY;
    lib_set_req r;
    int rc = lib_set_prepare(&r, key, klen, val, vlen, ttl_ms, flags, &now);
    if (rc != FC_OK)
        return rc;
    struct store_key k = store_find(s, r.key, r.klen);
    rc = lib_op_set(store_lock(&k), k.h, &r, old, old_len);
    store_unlock(&k);
    return rc;
}

int fc_set(fc_store *s, const void *key, size_t klen, const void *val,
           size_t vlen, int64_t ttl_ms, unsigned flags)
{
    return fc_set_get(s, key, klen, val, vlen, ttl_ms, flags, NULL, NULL);
}

int fc_get(fc_store *s, const void *key, size_t klen, void *buf, size_t cap,
           size_t *len)
{
    if (!s || !len || (!buf && cap))
        return FC_EINVAL;
    struct store_key k;
    int rc = store_locate(s, key, klen, &k);
    if (rc != FC_OK)
        return rc;
    rc = lib_op_get(store_lock(&k), k.h, k.p, k.n, buf, cap, len);
    store_unlock(&k);
    return rc;
}

int fc_get_alloc(fc_store *s, const void *key, size_t klen, void **val,
                 size_t *len)
{
    if (!s || !val || !len)
        return FC_EINVAL;
    *val = NULL;
    struct store_key k;
    int rc = store_locate(s, key, klen, &k);
    if (rc != FC_OK)
        return rc;
    rc = lib_op_get_alloc(store_lock(&k), k.h, k.p, k.n, val, len);
    store_unlock(&k);
    return rc;
}

int fc_get_view(fc_store *s, const void *key, size_t klen, fc_view_fn fn,
                void *ctx)
{
    if (!s || !fn)
        return FC_EINVAL;
    struct store_key k;
    int rc = store_locate(s, key, klen, &k);
    if (rc != FC_OK)
        return rc;
    const void *v;
    size_t n;
    rc = lib_op_get_ref(store_lock(&k), k.h, k.p, k.n, &v, &n);
    if (rc == FC_OK)
        fn(ctx, v, n);
    store_unlock(&k);
    return rc;
}

int fc_del(fc_store *s, const void *key, size_t klen)
{
    if (s && s->replica)
        return FC_EREADONLY;
    if (s && s->ps && lib_persist_check(s))
        return FC_EIO; /* the WAL cannot take it */
    if (!s)
        return FC_EINVAL;
    struct store_key k;
    int rc = store_locate(s, key, klen, &k);
    if (rc != FC_OK)
        return rc;
    rc = eng_del(store_lock(&k), k.h, k.p, k.n, ENG_NOW_LAZY, NULL);
    store_unlock(&k);
    return rc;
}

int fc_exists(fc_store *s, const void *key, size_t klen)
{
    struct store_key k;
    if (!s || store_locate(s, key, klen, &k) != FC_OK)
        return 0;
    int found = eng_get(store_lock(&k), k.h, k.p, k.n, ENG_NOW_LAZY) != NULL;
    store_unlock(&k);
    return found;
}

/* TTL calls: FC_TTL_NONE is "no expiry" as a set's TTL, but here it would
 * read as "delete the key"; a caller passing it surely meant fc_persist, so
 * it is rejected rather than destroy the key. */
int fc_pexpire(fc_store *s, const void *key, size_t klen, int64_t ttl_ms)
{
    if (s && s->replica)
        return FC_EREADONLY;
    if (s && s->ps && lib_persist_check(s))
        return FC_EIO; /* the WAL cannot take it */
    if (!s || ttl_ms == FC_TTL_NONE)
        return FC_EINVAL;
    struct store_key k;
    int rc = store_locate(s, key, klen, &k);
    if (rc != FC_OK)
        return rc;
    int64_t now = ENG_NOW_LAZY, at;
    rc = lib_ttl_to_expire(ttl_ms, &now, &at);
    if (rc != FC_OK)
        return rc;
    rc = lib_op_pexpire(store_lock(&k), k.h, k.p, k.n, at, now);
    store_unlock(&k);
    return rc;
}

int fc_expire(fc_store *s, const void *key, size_t klen, int64_t ttl_s)
{
    if (ttl_s == FC_TTL_NONE)
        return FC_EINVAL;
    if (ttl_s > INT64_MAX / 1000)
        return FC_EOVERFLOW;
    /* Any non-positive TTL deletes; keep it off INT64_MIN's neighbours. */
    return fc_pexpire(s, key, klen, ttl_s > 0 ? ttl_s * 1000 : 0);
}

int64_t fc_pttl(fc_store *s, const void *key, size_t klen)
{
    struct store_key k;
    if (!s || store_locate(s, key, klen, &k) != FC_OK)
        return FC_TTL_NOKEY;
    int64_t now = eng_now_ms();
    int64_t ttl = lib_op_pttl(store_lock(&k), k.h, k.p, k.n, now);
    store_unlock(&k);
    return ttl;
}

int64_t fc_ttl(fc_store *s, const void *key, size_t klen)
{
    int64_t ms = fc_pttl(s, key, klen);
    return ms < 0 ? ms : (ms + 500) / 1000;
}

int fc_persist(fc_store *s, const void *key, size_t klen)
{
    if (s && s->replica)
        return FC_EREADONLY;
    if (s && s->ps && lib_persist_check(s))
        return FC_EIO; /* the WAL cannot take it */
    if (!s)
        return FC_EINVAL;
    struct store_key k;
    int rc = store_locate(s, key, klen, &k);
    if (rc != FC_OK)
        return rc;
    rc = lib_op_persist(store_lock(&k), k.h, k.p, k.n);
    store_unlock(&k);
    return rc;
}

int fc_incrby(fc_store *s, const void *key, size_t klen, int64_t delta,
              int64_t *result)
{
    if (s && s->replica)
        return FC_EREADONLY;
    if (s && s->ps && lib_persist_check(s))
        return FC_EIO; /* the WAL cannot take it */
    if (!s || !result)
        return FC_EINVAL;
    struct store_key k;
    int rc = store_locate(s, key, klen, &k);
    if (rc != FC_OK)
        return rc;
    rc = eng_incrby(store_lock(&k), k.h, k.p, k.n, delta, ENG_NOW_LAZY, result);
    store_unlock(&k);
    return rc;
}
