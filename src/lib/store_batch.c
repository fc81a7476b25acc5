/* store_batch.c — fc_mset / fc_mget / fc_mdel on the shared handle.
 *
 * A batch is cut into chunks of LIB_BATCH items kept on the stack (no
 * malloc, whatever n). Per chunk: check and hash every key, prefetching its
 * home group (eng_prefetch needs no lock); order the items by shard (stable,
 * so repeats of a key apply in input order); then visit the shards twice,
 * taking each one's lock once per visit: first to prefetch the entries the
 * groups point to, then to do the work. So the two cache misses of a lookup
 * overlap with those of the other keys instead of being paid one key after
 * the other: with many shards, runs are a key or two long, and a pipeline
 * inside one lock hold would have nothing to overlap. */
#include "lib/lib.h"

/* Small batches: insertion sort beats a counting pass over the buckets. */
#define SORT_INSERTION_MAX 32

static void insertion_sort(uint16_t *idx, size_t n, const uint32_t *shard)
{
    for (size_t i = 1; i < n; i++) {
        uint16_t v = idx[i];
        size_t j = i;
        for (; j > 0 && shard[idx[j - 1]] > shard[v]; j--)
            idx[j] = idx[j - 1];
        idx[j] = v;
    }
}

/* One stable counting-sort pass on the shard bits [shift, shift + 8),
 * whose values are below nb (<= 256): a store with few shards clears and
 * sums only that many counters. */
static void radix_pass(const uint16_t *in, uint16_t *out, size_t n,
                       const uint32_t *shard, unsigned shift, unsigned nb)
{
    uint32_t pos[257];
    memset(pos, 0, (nb + 1) * sizeof(pos[0]));
    for (size_t i = 0; i < n; i++)
        pos[((shard[in[i]] >> shift) & 0xff) + 1]++;
    for (unsigned b = 1; b <= nb; b++)
        pos[b] += pos[b - 1];
    for (size_t i = 0; i < n; i++)
        out[pos[(shard[in[i]] >> shift) & 0xff]++] = in[i];
}

void lib_sort_by_shard(uint16_t *idx, size_t n, const uint32_t *shard,
                       uint32_t nshards)
{
    if (n < 2 || nshards == 1)
        return;
    if (n <= SORT_INSERTION_MAX) {
        insertion_sort(idx, n, shard);
        return;
    }
    uint16_t tmp[LIB_BATCH];
    if (nshards <= 256) {
        radix_pass(idx, tmp, n, shard, 0, nshards);
        memcpy(idx, tmp, n * sizeof(*idx));
        return;
    }
    /* FC_MAX_SHARDS is 2^16: two passes cover every shard number. */
    radix_pass(idx, tmp, n, shard, 0, 256);
    radix_pass(tmp, idx, n, shard, 8, nshards >> 8);
}

/* A chunk's keys, hashed and ordered by shard. */
struct chunk {
    uint64_t hash[LIB_BATCH];
    eng_hint hint[LIB_BATCH]; /* from the second stage, for lookups */
    uint32_t shard[LIB_BATCH];
    uint16_t order[LIB_BATCH]; /* valid items, by shard */
    int rc[LIB_BATCH];         /* by input position: FC_OK = valid item */
    size_t n;
};

/* Adds input item i as the chunk's n-th valid item. */
static inline void chunk_add(struct chunk *c, fc_store *s, size_t n, size_t i,
                             const void *key, size_t klen)
{
    uint64_t h = lib_route(s->seed, s->route_mode, key, klen);
    uint32_t sid = (uint32_t)(h & s->mask);
    c->hash[i] = h;
    c->shard[i] = sid;
    c->order[n] = (uint16_t)i;
    eng_prefetch(s->shards[sid].eng, h); /* last: nothing live across it */
}

/* Takes the lock of the shard of the run of items (in c->order) that
 * starts at j, and returns the run's end (exclusive). */
static inline size_t run_lock(fc_store *s, const struct chunk *c, size_t j,
                              struct lib_shard **sh)
{
    uint32_t sid = c->shard[c->order[j]];
    while (j < c->n && c->shard[c->order[j]] == sid)
        j++;
    *sh = &s->shards[sid];
    lib_lock_acquire(&(*sh)->lock);
    return j;
}

/* Sorts the chunk by shard, then (second stage of the pipeline) prefetches
 * each item's entries, under each shard's lock in turn. */
static void chunk_prepare(struct chunk *c, fc_store *s)
{
    lib_sort_by_shard(c->order, c->n, c->shard, s->nshards);
    for (size_t j = 0; j < c->n;) {
        struct lib_shard *sh;
        size_t end = run_lock(s, c, j, &sh);
        for (; j < end; j++) {
            size_t i = c->order[j];
            eng_prefetch_entry(sh->eng, c->hash[i], &c->hint[i]);
        }
        lib_lock_release(&sh->lock);
    }
}

/* The first two stages for a chunk of keys; c->rc has each key's check. */
static void chunk_keys(struct chunk *c, fc_store *s, const fc_slice *k,
                       size_t m)
{
    size_t n = 0;
    for (size_t i = 0; i < m; i++) {
        const void *key = k[i].data;
        size_t klen = k[i].len;
        int rc = lib_check_key(key, klen);
        c->rc[i] = rc;
        if (rc == FC_OK)
            chunk_add(c, s, n++, i, lib_nonnull(key), klen);
    }
    c->n = n;
    chunk_prepare(c, s);
}

int fc_mget(fc_store *s, const fc_slice *keys, size_t n, fc_mget_fn fn,
            void *ctx)
{
    if (!s || !fn || (!keys && n))
        return FC_EINVAL;
    struct chunk c;
    for (size_t base = 0; base < n; base += LIB_BATCH) {
        const fc_slice *k = keys + base;
        size_t m = n - base < LIB_BATCH ? n - base : LIB_BATCH;
        chunk_keys(&c, s, k, m);
        for (size_t i = 0; c.n < m && i < m; i++) /* c.n < m: a bad key */
            if (c.rc[i] != FC_OK)
                fn(ctx, base + i, c.rc[i], NULL, 0);
        for (size_t j = 0; j < c.n;) {
            struct lib_shard *sh;
            size_t end = run_lock(s, &c, j, &sh);
            for (; j < end; j++) {
                size_t i = c.order[j];
                const void *v = NULL;
                size_t len = 0;
                int rc = eng_get_str_hinted(sh->eng, c.hash[i],
                                            lib_nonnull(k[i].data), k[i].len,
                                            ENG_NOW_LAZY, &c.hint[i], &v, &len);
                fn(ctx, base + i, rc, rc == FC_OK ? v : NULL, len);
            }
            lib_lock_release(&sh->lock);
        }
    }
    return FC_OK;
}

static void mset_chunk(fc_store *s, const fc_kv *items, size_t m, int *results,
                       int *first, int64_t *now)
{
    struct chunk c;
    lib_set_req req[LIB_BATCH];
    size_t n = 0;
    for (size_t i = 0; i < m; i++) {
        const fc_kv *it = &items[i];
        c.rc[i] =
            lib_set_prepare(&req[i], it->key.data, it->key.len, it->value.data,
                            it->value.len, it->ttl_ms, 0, now);
        if (c.rc[i] == FC_OK)
            chunk_add(&c, s, n++, i, req[i].key, req[i].klen);
    }
    c.n = n;
    chunk_prepare(&c, s);
    for (size_t j = 0; j < c.n;) {
        struct lib_shard *sh;
        size_t end = run_lock(s, &c, j, &sh);
        for (; j < end; j++) {
            size_t i = c.order[j];
            c.rc[i] = lib_op_set(sh->eng, c.hash[i], &req[i], NULL, NULL);
        }
        lib_lock_release(&sh->lock);
    }
    /* In input order, so that *first is the lowest failing index. */
    for (size_t i = 0; i < m; i++)
        lib_note_result(results, i, c.rc[i], first);
}

int fc_mset(fc_store *s, const fc_kv *items, size_t n, int *results)
{
    if (s && s->replica)
        return FC_EREADONLY;
    if (s && s->ps && lib_persist_check(s))
        return FC_EIO; /* the WAL cannot take it */
    if (!s || (!items && n))
        return FC_EINVAL;
    int first = FC_OK;
    int64_t now = ENG_NOW_LAZY; /* read once, by the first item with a TTL */
    for (size_t base = 0; base < n; base += LIB_BATCH) {
        size_t m = n - base < LIB_BATCH ? n - base : LIB_BATCH;
        mset_chunk(s, items + base, m, results ? results + base : NULL, &first,
                   &now);
    }
    return first;
}

int fc_mdel(fc_store *s, const fc_slice *keys, size_t n, size_t *removed)
{
    if (s && s->replica) {
        if (removed)
            *removed = 0;
        return FC_EREADONLY;
    }
    if (s && s->ps && lib_persist_check(s))
        return FC_EIO; /* the WAL cannot take it */
    if (removed)
        *removed = 0;
    if (!s || (!keys && n))
        return FC_EINVAL;
    size_t count = 0;
    int first = FC_OK; /* a bad key is reported; the others are deleted */
    struct chunk c;
    for (size_t base = 0; base < n; base += LIB_BATCH) {
        const fc_slice *k = keys + base;
        size_t m = n - base < LIB_BATCH ? n - base : LIB_BATCH;
        chunk_keys(&c, s, k, m);
        for (size_t i = 0; c.n < m && i < m; i++) /* c.n < m: a bad key */
            lib_note_result(NULL, i, c.rc[i], &first);
        for (size_t j = 0; j < c.n;) {
            struct lib_shard *sh;
            size_t end = run_lock(s, &c, j, &sh);
            for (; j < end; j++) {
                size_t i = c.order[j];
                count += eng_del(sh->eng, c.hash[i], lib_nonnull(k[i].data),
                                 k[i].len, ENG_NOW_LAZY, NULL) == FC_OK;
            }
            lib_lock_release(&sh->lock);
        }
    }
    if (removed)
        *removed = count;
    return first;
}
