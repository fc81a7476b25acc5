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
    lib_local_key k;
    int rc = lib_set_prepare(&r, key, klen, val, vlen, ttl_ms, flags, &now);
    if (rc == FC_OK)
        rc = lib_local_find(l, r.key, r.klen, owner, &k);
    return rc != FC_OK ? rc : lib_op_set(k.sh, k.h, &r, NULL, NULL);
}

int fc_local_get(fc_local *l, const void *key, size_t klen, void *buf,
                 size_t cap, size_t *len, unsigned *owner)
{
    if (!l || !len || (!buf && cap))
        return FC_EINVAL;
    lib_local_key k;
    int rc = lib_local_locate(l, key, klen, owner, &k);
    return rc != FC_OK ? rc : lib_op_get(k.sh, k.h, k.p, k.n, buf, cap, len);
}

int fc_local_get_ref(fc_local *l, const void *key, size_t klen,
                     const void **val, size_t *len, unsigned *owner)
{
    if (!l || !val || !len)
        return FC_EINVAL;
    lib_local_key k;
    int rc = lib_local_locate(l, key, klen, owner, &k);
    return rc != FC_OK ? rc : lib_op_get_ref(k.sh, k.h, k.p, k.n, val, len);
}

int fc_local_del(fc_local *l, const void *key, size_t klen, unsigned *owner)
{
    if (!l)
        return FC_EINVAL;
    lib_local_key k;
    int rc = lib_local_locate(l, key, klen, owner, &k);
    return rc != FC_OK ? rc : eng_del(k.sh, k.h, k.p, k.n, ENG_NOW_LAZY, NULL);
}

/* A bad key reads as absent (0), as in fc_exists; a foreign one does not. */
int fc_local_exists(fc_local *l, const void *key, size_t klen, unsigned *owner)
{
    if (!l)
        return 0;
    lib_local_key k;
    int rc = lib_local_locate(l, key, klen, owner, &k);
    if (rc != FC_OK)
        return rc == FC_ENOTLOCAL ? FC_ENOTLOCAL : 0;
    return eng_get(k.sh, k.h, k.p, k.n, ENG_NOW_LAZY) != NULL;
}

/* FC_TTL_NONE rejected as in fc_pexpire (store.c). */
int fc_local_pexpire(fc_local *l, const void *key, size_t klen, int64_t ttl_ms,
                     unsigned *owner)
{
    if (!l || ttl_ms == FC_TTL_NONE)
        return FC_EINVAL;
    lib_local_key k;
    int64_t now = ENG_NOW_LAZY, at;
    int rc = lib_local_locate(l, key, klen, owner, &k);
    if (rc == FC_OK)
        rc = lib_ttl_to_expire(ttl_ms, &now, &at);
    return rc != FC_OK ? rc : lib_op_pexpire(k.sh, k.h, k.p, k.n, at, now);
}

int fc_local_pttl(fc_local *l, const void *key, size_t klen, int64_t *pttl,
                  unsigned *owner)
{
    if (!l || !pttl)
        return FC_EINVAL;
    lib_local_key k;
    int rc = lib_local_locate(l, key, klen, owner, &k);
    if (rc == FC_OK)
        *pttl = lib_op_pttl(k.sh, k.h, k.p, k.n, eng_now_ms());
    return rc;
}

int fc_local_persist(fc_local *l, const void *key, size_t klen, unsigned *owner)
{
    if (!l)
        return FC_EINVAL;
    lib_local_key k;
    int rc = lib_local_locate(l, key, klen, owner, &k);
    return rc != FC_OK ? rc : lib_op_persist(k.sh, k.h, k.p, k.n);
}

int fc_local_incrby(fc_local *l, const void *key, size_t klen, int64_t delta,
                    int64_t *result, unsigned *owner)
{
    if (!l || !result)
        return FC_EINVAL;
    lib_local_key k;
    int rc = lib_local_locate(l, key, klen, owner, &k);
    if (rc != FC_OK)
        return rc;
    return eng_incrby(k.sh, k.h, k.p, k.n, delta, ENG_NOW_LAZY, result);
}
