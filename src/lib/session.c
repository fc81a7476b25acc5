/* session.c — route modes, session prefixes, precomputed routes and packed
 * session writes, for both kinds of handle.
 *
 * The grammar and the route hash live in the engine (engine/session.c)
 * so that every layer (library, server) that picks a shard uses one
 * function; here they are only exposed. A route is the store's lib_route
 * hash plus its shard: lookups with a route skip the hashing and do
 * exactly what the plain call does with the same hash. */
#include <limits.h>

#include "lib/lib.h"

int fc_route_mode_parse(const char *name, int *mode)
{
    if (!name || !mode)
        return FC_EINVAL;
    if (strcmp(name, "full_key") == 0)
        *mode = FC_ROUTE_FULL_KEY;
    else if (strcmp(name, "session_prefix") == 0)
        *mode = FC_ROUTE_SESSION_PREFIX;
    else
        return FC_EINVAL;
    return FC_OK;
}

const char *fc_route_mode_name(int mode)
{
    switch (mode) {
    case FC_ROUTE_FULL_KEY:
        return "full_key";
    case FC_ROUTE_SESSION_PREFIX:
        return "session_prefix";
    default:
        return "unknown";
    }
}

int fc_session_prefix(const void *key, size_t klen, void *buf, size_t cap,
                      size_t *len)
{
    if (!len || lib_check_key(key, klen) != FC_OK || (!buf && cap))
        return FC_EINVAL;
    eng_prefix pf;
    if (!eng_session_prefix(lib_nonnull(key), klen, &pf))
        return 0;
    *len = pf.head_len + pf.n;
    if (*len > cap)
        return FC_ETRUNC;
    if (pf.head_len)
        memcpy(buf, pf.head, pf.head_len);
    if (pf.n)
        memcpy((uint8_t *)buf + pf.head_len, pf.p, pf.n);
    return 1;
}

/* Whether key belongs to the session `prefix`: its prefix (or, without
 * one, the key itself) has exactly those bytes. */
static bool in_session(const void *key, size_t klen, fc_slice prefix)
{
    eng_prefix pf;
    eng_session_prefix(key, klen, &pf);
    if (pf.head_len + pf.n != prefix.len)
        return false;
    const uint8_t *want = lib_nonnull(prefix.data);
    return memcmp(want, pf.head ? pf.head : "", pf.head_len) == 0 &&
           (!pf.n || memcmp(want + pf.head_len, pf.p, pf.n) == 0);
}

int fc_store_route(const fc_store *s, const void *key, size_t klen,
                   fc_route *out)
{
    if (!s || !out)
        return FC_EINVAL;
    int rc = lib_check_key(key, klen);
    if (rc != FC_OK)
        return rc;
    out->hash = lib_route(s->seed, s->route_mode, lib_nonnull(key), klen);
    out->shard = (uint32_t)(out->hash & s->mask);
    return FC_OK;
}

int fc_store_route_session(const fc_store *s, const void *prefix, size_t plen,
                           fc_route *out)
{
    if (!s || !out)
        return FC_EINVAL;
    int rc = lib_check_key(prefix, plen);
    if (rc != FC_OK)
        return rc;
    out->hash = eng_hash_seeded(s->seed, lib_nonnull(prefix), plen);
    out->shard = (uint32_t)(out->hash & s->mask);
    return FC_OK;
}

int fc_get_routed(fc_store *s, const fc_route *r, const void *key, size_t klen,
                  void *buf, size_t cap, size_t *len)
{
    if (!s || !r || !len || (!buf && cap))
        return FC_EINVAL;
    int rc = lib_check_key(key, klen);
    if (rc != FC_OK)
        return rc;
    struct lib_shard *sh = &s->shards[r->hash & s->mask];
    lib_lock_acquire(&sh->lock);
    rc = lib_op_get(sh->eng, r->hash, lib_nonnull(key), klen, buf, cap, len);
    lib_lock_release(&sh->lock);
    return rc;
}

int fc_workers_route(const fc_workers *w, const void *key, size_t klen,
                     fc_route *out)
{
    if (!w || !out)
        return FC_EINVAL;
    int rc = lib_check_key(key, klen);
    if (rc != FC_OK)
        return rc;
    out->hash = lib_route(w->seed, w->route_mode, lib_nonnull(key), klen);
    out->shard = (uint32_t)(out->hash & w->mask);
    return FC_OK;
}

int fc_local_get_ref_routed(fc_local *l, const fc_route *r, const void *key,
                            size_t klen, const void **val, size_t *len,
                            unsigned *owner)
{
    if (!l || !r || !val || !len)
        return FC_EINVAL;
    int rc = lib_check_key(key, klen);
    if (rc != FC_OK)
        return rc;
    eng_shard *sh = lib_mine(l, r->hash, owner);
    if (!sh)
        return FC_ENOTLOCAL;
    return lib_op_get_ref(sh, r->hash, lib_nonnull(key), klen, val, len);
}

/* --- packed session writes ------------------------------------------ */

/* Writes one chunk of at most LIB_BATCH items of w through the handle's
 * mset (which groups by shard: in session_prefix mode the whole chunk is
 * one shard run, one lock). Items outside the session are FC_EINVAL. */
static void session_chunk(fc_store *s, fc_local *l, const fc_session_write *w,
                          size_t base, size_t m, int *rc)
{
    fc_kv kv[LIB_BATCH];
    int res[LIB_BATCH];
    uint16_t at[LIB_BATCH];
    size_t k = 0;
    const uint8_t *data = w->data;
    for (size_t j = 0; j < m; j++) {
        size_t i = base + j;
        const fc_slice *key = &w->keys[i];
        rc[j] = lib_check_key(key->data, key->len);
        if (rc[j] == FC_OK &&
            !in_session(lib_nonnull(key->data), key->len, w->prefix))
            rc[j] = FC_EINVAL;
        if (rc[j] == FC_OK && w->length[i] && !data)
            rc[j] = FC_EINVAL;
        if (rc[j] != FC_OK)
            continue;
        kv[k] = (fc_kv){
            *key, {data ? data + w->offset[i] : NULL, w->length[i]}, w->ttl_ms};
        at[k++] = (uint16_t)j;
    }
    /* An mset refused as a whole (FC_EIO: the WAL cannot take it) fills
     * no result: those items get its code. */
    for (size_t q = 0; q < k; q++)
        res[q] = INT_MIN;
    int all = s ? fc_mset(s, kv, k, res) : fc_local_mset(l, kv, k, res);
    for (size_t q = 0; q < k; q++)
        rc[at[q]] = res[q] == INT_MIN ? all : res[q];
}

static int session_write(fc_store *s, fc_local *l, const fc_session_write *w,
                         int *results)
{
    if (!w || (w->n && (!w->keys || !w->offset || !w->length)) ||
        (!w->prefix.data && w->prefix.len))
        return FC_EINVAL;
    int first = FC_OK;
    int rc[LIB_BATCH];
    for (size_t base = 0; base < w->n; base += LIB_BATCH) {
        size_t m = w->n - base < LIB_BATCH ? w->n - base : LIB_BATCH;
        session_chunk(s, l, w, base, m, rc);
        for (size_t j = 0; j < m; j++)
            lib_note_result(results ? results + base : NULL, j, rc[j], &first);
    }
    return first;
}

int fc_mset_session(fc_store *s, const fc_session_write *w, int *results)
{
    if (!s)
        return FC_EINVAL;
    if (s->replica)
        return FC_EREADONLY;
    return session_write(s, NULL, w, results);
}

int fc_local_mset_session(fc_local *l, const fc_session_write *w, int *results)
{
    if (!l)
        return FC_EINVAL;
    return session_write(NULL, l, w, results);
}
