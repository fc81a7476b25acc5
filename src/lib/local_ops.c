/* local_ops.c — the worker-local single-key data calls (batches:
 * local_batch.c). Every call: check arguments, hash once, and either work on
 * our own shard or answer FC_ENOTLOCAL with the owner. No lock, no atomic, no
 * malloc (but fc_local_* never returns malloc'd memory). */
#include "lib/lib.h"

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
    eng_shard *sh = lib_mine(l, h, owner);
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
    eng_shard *sh = lib_mine(l, h, owner);
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
    eng_shard *sh = lib_mine(l, h, owner);
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
    eng_shard *sh = lib_mine(l, h, owner);
    return sh ? eng_del(sh, h, key, klen, ENG_NOW_LAZY, NULL) : FC_ENOTLOCAL;
}

int fc_local_exists(fc_local *l, const void *key, size_t klen, unsigned *owner)
{
    if (!l || lib_check_key(key, klen) != FC_OK)
        return 0;
    key = lib_nonnull(key);
    uint64_t h = eng_hash(key, klen);
    eng_shard *sh = lib_mine(l, h, owner);
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
    eng_shard *sh = lib_mine(l, h, owner);
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
    eng_shard *sh = lib_mine(l, h, owner);
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
    eng_shard *sh = lib_mine(l, h, owner);
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
    eng_shard *sh = lib_mine(l, h, owner);
    if (!sh)
        return FC_ENOTLOCAL;
    return eng_incrby(sh, h, key, klen, delta, ENG_NOW_LAZY, result);
}
