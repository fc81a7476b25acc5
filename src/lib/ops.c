/* ops.c — per-key operations on a shard the caller holds (see lib.h). */
#include <stdlib.h>

#include "lib/lib.h"

static void *dup_bytes(const void *p, size_t n)
{
    void *c = malloc(n ? n : 1);
    if (c && n)
        memcpy(c, p, n);
    return c;
}

/* A set with a non-positive TTL: the key ends up absent, after the same
 * NX/XX checks a set makes. */
static int set_delete(eng_shard *sh, uint64_t hash, const lib_set_req *r)
{
    if (r->flags & FC_SET_NX) {
        if (eng_get(sh, hash, r->key, r->klen, r->now))
            return FC_EEXISTS;
        return FC_OK;
    }
    int rc = eng_del(sh, hash, r->key, r->klen, r->now, NULL);
    if (rc == FC_ENOTFOUND)
        return (r->flags & FC_SET_XX) ? FC_ENOTSET : FC_OK;
    return rc;
}

static int do_set(eng_shard *sh, uint64_t hash, const lib_set_req *r)
{
    if (r->expire_at == LIB_EXPIRE_DELETE)
        return set_delete(sh, hash, r);
    return eng_set(sh, hash, r->key, r->klen, r->val, r->vlen, r->expire_at,
                   r->flags, r->now, NULL, NULL);
}

/* The old value is copied before the set so that a failed copy (ENOMEM)
 * leaves the key untouched. */
int lib_op_set(eng_shard *sh, uint64_t hash, const lib_set_req *r, void **old,
               size_t *old_len)
{
    if (!old)
        return do_set(sh, hash, r);
    *old = NULL;
    *old_len = 0;
    void *copy = NULL;
    size_t copy_len = 0;
    eng_entry *e = eng_get(sh, hash, r->key, r->klen, r->now);
    if (e) {
        if (eng_entry_type(e) != ENG_TYPE_STRING)
            return FC_EWRONGTYPE; /* as Redis's SET ... GET */
        const uint8_t *v = eng_entry_value(e, &copy_len);
        copy = dup_bytes(v, copy_len);
        if (!copy)
            return FC_ENOMEM;
    }
    int rc = do_set(sh, hash, r);
    if (rc != FC_OK && rc != FC_EEXISTS) {
        free(copy);
        return rc;
    }
    *old = copy;
    *old_len = copy_len;
    return rc;
}

int lib_op_get_alloc(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                     void **val, size_t *len)
{
    const void *v;
    size_t n;
    int rc = lib_op_get_ref(sh, hash, key, klen, &v, &n);
    if (rc != FC_OK)
        return rc;
    void *copy = dup_bytes(v, n);
    if (!copy)
        return FC_ENOMEM;
    *val = copy;
    *len = n;
    return FC_OK;
}

int lib_op_pexpire(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                   int64_t expire_at, int64_t now)
{
    if (expire_at == LIB_EXPIRE_DELETE)
        return eng_del(sh, hash, key, klen, now, NULL);
    return eng_set_expire(sh, hash, key, klen, expire_at, now);
}

int64_t lib_op_pttl(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                    int64_t now)
{
    eng_entry *e = eng_get(sh, hash, key, klen, now);
    if (!e)
        return FC_TTL_NOKEY;
    int64_t at = eng_entry_expire_at(e);
    if (at == 0)
        return FC_TTL_NOEXPIRE;
    /* eng_get removed it if at <= now; clamp anyway, as Redis does. */
    return at > now ? at - now : 0;
}

/* Checked first so that a key without a TTL reports FC_ENOTFOUND and no
 * mutation reaches the observer. */
int lib_op_persist(eng_shard *sh, uint64_t hash, const void *key, size_t klen)
{
    eng_entry *e = eng_get(sh, hash, key, klen, ENG_NOW_LAZY);
    if (!e || eng_entry_expire_at(e) == 0)
        return FC_ENOTFOUND;
    return eng_set_expire(sh, hash, key, klen, 0, ENG_NOW_LAZY);
}
