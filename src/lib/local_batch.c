/* local_batch.c — fc_local_mset / fc_local_mget: batches on a worker-local
 * handle.
 *
 * No lock is involved, so a batch needs no grouping by shard: items run in
 * input order (which also applies a repeated key in order), with the cache
 * misses of different items overlapped (engine.h, "batched lookups"): gets
 * through the engine's pipeline, sets by whole-chunk prefetch stages.
 * A batch is cut into chunks of LIB_BATCH items kept on the stack. */
#include "lib/lib.h"

static void mset_chunk(fc_local *l, const fc_kv *items, size_t m, int *results,
                       int *first, int64_t *now)
{
    lib_set_req req[LIB_BATCH];
    uint64_t h[LIB_BATCH];
    eng_shard *sh[LIB_BATCH];
    int rc[LIB_BATCH];

    for (size_t i = 0; i < m; i++) {
        const fc_kv *it = &items[i];
        lib_local_key k;
        sh[i] = NULL;
        int r =
            lib_set_prepare(&req[i], it->key.data, it->key.len, it->value.data,
                            it->value.len, it->ttl_ms, 0, now);
        if (r == FC_OK)
            r = lib_local_find(l, req[i].key, req[i].klen, NULL, &k);
        rc[i] = r;
        if (r != FC_OK)
            continue;
        h[i] = k.h;
        sh[i] = k.sh;
        eng_prefetch(k.sh, k.h);
    }
    /* A set costs far more than a lookup, so whole-chunk stages (all
     * groups, then all entries, then the sets) hide the misses better than
     * a short pipeline: measured, this way is ~1.4x faster for 16 items. */
    for (size_t i = 0; i < m; i++)
        if (sh[i])
            eng_prefetch_entry(sh[i], h[i], NULL);
    for (size_t i = 0; i < m; i++) {
        if (sh[i])
            rc[i] = lib_op_set(sh[i], h[i], &req[i], NULL, NULL);
        lib_note_result(results, i, rc[i], first);
    }
}

int fc_local_mset(fc_local *l, const fc_kv *items, size_t n, int *results)
{
    if (!l || (!items && n))
        return FC_EINVAL;
    int first = FC_OK;
    int64_t now = ENG_NOW_LAZY; /* read once, by the first item with a TTL */
    for (size_t base = 0; base < n; base += LIB_BATCH) {
        size_t m = n - base < LIB_BATCH ? n - base : LIB_BATCH;
        mset_chunk(l, items + base, m, results ? results + base : NULL, &first,
                   &now);
    }
    return first;
}

/* A chunk of fc_local_mget: the keys the engine looks up (compacted: idx
 * maps them back to input positions) and the status of the others. */
struct mget_chunk {
    uint64_t h[LIB_BATCH];
    eng_shard *sh[LIB_BATCH];
    const void *key[LIB_BATCH];
    size_t klen[LIB_BATCH];
    uint16_t idx[LIB_BATCH];
    int rc[LIB_BATCH]; /* by input position: FC_OK = looked up */
    size_t next;       /* first input position not yet reported */
    size_t base;
    int64_t now; /* ENG_NOW_LAZY, or one time for the whole batch */
    fc_mget_fn fn;
    void *ctx;
};

/* Reports input positions [c->next, end), none of which was looked up. */
static void report_skipped(struct mget_chunk *c, size_t end)
{
    for (; c->next < end; c->next++)
        c->fn(c->ctx, c->base + c->next, c->rc[c->next], NULL, 0);
}

/* Called by the engine right after lookup k, so results reach fn in input
 * order and fn may use the handle as after a single get. */
static void mget_found(void *ctx, size_t k, int rc, const void *v, size_t len)
{
    struct mget_chunk *c = ctx;
    size_t i = c->idx[k];

    if (i != c->next)
        report_skipped(c, i);
    c->fn(c->ctx, c->base + i, rc, v, len);
    c->next = i + 1;
}

static void mget_chunk(fc_local *l, const fc_slice *keys, size_t m,
                       struct mget_chunk *c)
{
    size_t n = 0;
    for (size_t i = 0; i < m; i++) {
        lib_local_key k;
        c->rc[i] = lib_local_locate(l, keys[i].data, keys[i].len, NULL, &k);
        if (c->rc[i] != FC_OK)
            continue;
        c->h[n] = k.h;
        c->sh[n] = k.sh;
        c->key[n] = k.p;
        c->klen[n] = k.n;
        c->idx[n++] = (uint16_t)i;
    }
    c->next = 0;
    if (n == m && c->base == 0) {
        /* Every key looked up, at its own index: the engine's callback has
         * fc_mget_fn's shape and meaning, so the caller's function is
         * called directly (one indirect call per key instead of two). */
        eng_get_str_each(c->sh, n, c->h, c->key, c->klen, c->now, c->fn,
                         c->ctx);
        return;
    }
    eng_get_str_each(c->sh, n, c->h, c->key, c->klen, c->now, mget_found, c);
    report_skipped(c, m);
}

int fc_local_mget(fc_local *l, const fc_slice *keys, size_t n, fc_mget_fn fn,
                  void *ctx)
{
    return lib_local_mget_at(l, keys, n, fn, ctx, ENG_NOW_LAZY);
}

int lib_local_mget_at(fc_local *l, const fc_slice *keys, size_t n,
                      fc_mget_fn fn, void *ctx, int64_t now)
{
    if (!l || !fn || (!keys && n))
        return FC_EINVAL;
    struct mget_chunk c;
    c.now = now;
    c.fn = fn;
    c.ctx = ctx;
    for (size_t base = 0; base < n; base += LIB_BATCH) {
        c.base = base;
        mget_chunk(l, keys + base, n - base < LIB_BATCH ? n - base : LIB_BATCH,
                   &c);
    }
    return FC_OK;
}
