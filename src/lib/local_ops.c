/* local_ops.c — the worker-local data calls (single-key and batches).
 * Every call: check arguments, hash once, and either work on our own shard
 * or answer FC_ENOTLOCAL with the owner. No lock, no atomic, no malloc
 * (but fc_local_* never returns malloc'd memory). */
#include "lib/lib.h"

/* The key's shard when this worker owns it; otherwise NULL, with the owner
 * stored in *owner when owner is non-NULL. */
static inline eng_shard *mine(const fc_local *l, uint64_t hash, unsigned *owner)
{
    const struct lib_wshard *ws = &l->shards[hash & l->mask];
    if (__builtin_expect(ws->owner == l->index, 1))
        return ws->eng;
    if (owner)
        *owner = ws->owner;
    return NULL;
}

int fc_local_set(fc_local *l, const void *key, size_t klen, const void *val,
                 size_t vlen, int64_t ttl_ms, unsigned flags, unsigned *owner)
{
    if (!l)
        return FC_EINVAL;
    int64_t now = ENG_NOW_LAZY;
    lib_set_req r;
    int rc = lib_set_prepare(&r, key, klen, val, vlen, ttl_ms, flags, &now);
    if (rc != FC_OK)
        return rc;
    uint64_t h = eng_hash(r.key, klen);
    eng_shard *sh = mine(l, h, owner);
    return sh ? lib_op_set(sh, h, &r, NULL, NULL) : FC_ENOTLOCAL;
}

int fc_local_get(fc_local *l, const void *key, size_t klen, void *buf,
                 size_t cap, size_t *len, unsigned *owner)
{
    if (!l || !len || (!buf && cap))
        return FC_EINVAL;
    int rc = lib_check_key(key, klen);
    if (rc != FC_OK)
        return rc;
    key = lib_nonnull(key);
    uint64_t h = eng_hash(key, klen);
    eng_shard *sh = mine(l, h, owner);
    return sh ? lib_op_get(sh, h, key, klen, buf, cap, len) : FC_ENOTLOCAL;
}

int fc_local_get_ref(fc_local *l, const void *key, size_t klen,
                     const void **val, size_t *len, unsigned *owner)
{
    if (!l || !val || !len)
        return FC_EINVAL;
    int rc = lib_check_key(key, klen);
    if (rc != FC_OK)
        return rc;
    key = lib_nonnull(key);
    uint64_t h = eng_hash(key, klen);
    eng_shard *sh = mine(l, h, owner);
    return sh ? lib_op_get_ref(sh, h, key, klen, val, len) : FC_ENOTLOCAL;
}

int fc_local_del(fc_local *l, const void *key, size_t klen, unsigned *owner)
{
    if (!l)
        return FC_EINVAL;
    int rc = lib_check_key(key, klen);
    if (rc != FC_OK)
        return rc;
    key = lib_nonnull(key);
    uint64_t h = eng_hash(key, klen);
    eng_shard *sh = mine(l, h, owner);
    return sh ? eng_del(sh, h, key, klen, ENG_NOW_LAZY, NULL) : FC_ENOTLOCAL;
}

int fc_local_exists(fc_local *l, const void *key, size_t klen, unsigned *owner)
{
    if (!l || lib_check_key(key, klen) != FC_OK)
        return 0;
    key = lib_nonnull(key);
    uint64_t h = eng_hash(key, klen);
    eng_shard *sh = mine(l, h, owner);
    if (!sh)
        return FC_ENOTLOCAL;
    return eng_get(sh, h, key, klen, ENG_NOW_LAZY) != NULL;
}

/* FC_TTL_NONE rejected as in fc_pexpire (store.c). */
int fc_local_pexpire(fc_local *l, const void *key, size_t klen, int64_t ttl_ms,
                     unsigned *owner)
{
    if (!l || ttl_ms == FC_TTL_NONE)
        return FC_EINVAL;
    int rc = lib_check_key(key, klen);
    if (rc != FC_OK)
        return rc;
    key = lib_nonnull(key);
    uint64_t h = eng_hash(key, klen);
    eng_shard *sh = mine(l, h, owner);
    if (!sh)
        return FC_ENOTLOCAL;
    int64_t now = ENG_NOW_LAZY, at;
    rc = lib_ttl_to_expire(ttl_ms, &now, &at);
    if (rc != FC_OK)
        return rc;
    return lib_op_pexpire(sh, h, key, klen, at, now);
}

int fc_local_pttl(fc_local *l, const void *key, size_t klen, int64_t *pttl,
                  unsigned *owner)
{
    if (!l || !pttl)
        return FC_EINVAL;
    int rc = lib_check_key(key, klen);
    if (rc != FC_OK)
        return rc;
    key = lib_nonnull(key);
    uint64_t h = eng_hash(key, klen);
    eng_shard *sh = mine(l, h, owner);
    if (!sh)
        return FC_ENOTLOCAL;
    *pttl = lib_op_pttl(sh, h, key, klen, eng_now_ms());
    return FC_OK;
}

int fc_local_persist(fc_local *l, const void *key, size_t klen, unsigned *owner)
{
    if (!l)
        return FC_EINVAL;
    int rc = lib_check_key(key, klen);
    if (rc != FC_OK)
        return rc;
    key = lib_nonnull(key);
    uint64_t h = eng_hash(key, klen);
    eng_shard *sh = mine(l, h, owner);
    return sh ? lib_op_persist(sh, h, key, klen) : FC_ENOTLOCAL;
}

int fc_local_incrby(fc_local *l, const void *key, size_t klen, int64_t delta,
                    int64_t *result, unsigned *owner)
{
    if (!l || !result)
        return FC_EINVAL;
    int rc = lib_check_key(key, klen);
    if (rc != FC_OK)
        return rc;
    key = lib_nonnull(key);
    uint64_t h = eng_hash(key, klen);
    eng_shard *sh = mine(l, h, owner);
    if (!sh)
        return FC_ENOTLOCAL;
    return eng_incrby(sh, h, key, klen, delta, ENG_NOW_LAZY, result);
}

/* Batches need no grouping: without locks, input order is as good as any,
 * and it applies repeated keys in order for free. */
int fc_local_mset(fc_local *l, const fc_kv *items, size_t n, int *results)
{
    if (!l || (!items && n))
        return FC_EINVAL;
    int first = FC_OK;
    int64_t now = ENG_NOW_LAZY; /* read once, by the first item with a TTL */
    for (size_t i = 0; i < n; i++) {
        const fc_kv *it = &items[i];
        lib_set_req r;
        int rc = lib_set_prepare(&r, it->key.data, it->key.len, it->value.data,
                                 it->value.len, it->ttl_ms, 0, &now);
        if (rc == FC_OK) {
            uint64_t h = eng_hash(r.key, r.klen);
            eng_shard *sh = mine(l, h, NULL);
            rc = sh ? lib_op_set(sh, h, &r, NULL, NULL) : FC_ENOTLOCAL;
        }
        if (results)
            results[i] = rc;
        if (rc != FC_OK && first == FC_OK)
            first = rc;
    }
    return first;
}

int fc_local_mget(fc_local *l, const fc_slice *keys, size_t n, fc_mget_fn fn,
                  void *ctx)
{
    if (!l || !fn || (!keys && n))
        return FC_EINVAL;
    for (size_t i = 0; i < n; i++) {
        const void *key = lib_nonnull(keys[i].data);
        size_t klen = keys[i].len;
        const void *v = NULL;
        size_t len = 0;
        int rc = lib_check_key(keys[i].data, klen);
        if (rc == FC_OK) {
            uint64_t h = eng_hash(key, klen);
            eng_shard *sh = mine(l, h, NULL);
            rc = sh ? lib_op_get_ref(sh, h, key, klen, &v, &len) : FC_ENOTLOCAL;
        }
        fn(ctx, i, rc, rc == FC_OK ? v : NULL, rc == FC_OK ? len : 0);
    }
    return FC_OK;
}
