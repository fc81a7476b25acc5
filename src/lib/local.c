/* local.c — worker-local handles: a store split so that worker w owns the
 * shards s with s % W == w. A call finds the key's shard, checks the owner
 * beside it (same cache line) and, when it is ours, works on the shard with
 * no lock and no atomic: ownership is the only synchronisation. */
#include <stdlib.h>

#include "lib/lib.h"

int fc_workers_open(fc_workers **out, const fc_options *opts, unsigned workers)
{
    if (!out)
        return FC_EINVAL;
    *out = NULL;
    uint32_t n = opts && opts->shards ? opts->shards : LIB_DEFAULT_SHARDS;
    int mode;
    if (n > FC_MAX_SHARDS || (n & (n - 1)) || workers == 0 || workers > n ||
        lib_route_mode(opts, &mode))
        return FC_EINVAL;
    if (opts && opts->data_dir)
        return FC_EINVAL; /* durability: the shared handle only, for now */
    size_t cap = opts ? opts->initial_capacity : 0;
    size_t per_shard = cap ? (cap + n - 1) / n : 0;

    /* Aligned: the budget's shared counters have a cache line of their
     * own (eng_budget). */
    fc_workers *w = aligned_alloc(LIB_CACHELINE, sizeof(*w));
    if (!w)
        return FC_ENOMEM;
    memset(w, 0, sizeof(*w));
    w->shards = calloc(n, sizeof(*w->shards));
    w->locals = aligned_alloc(LIB_CACHELINE, sizeof(*w->locals) * workers);
    if (!w->shards || !w->locals) {
        fc_workers_close(w);
        return FC_ENOMEM;
    }
    memset(w->locals, 0, sizeof(*w->locals) * workers);
    w->mask = n - 1;
    w->nworkers = workers;
    w->seed = lib_seed(opts);
    w->route_mode = mode;
    if (lib_budget_init(&w->budget, &w->evict_cb, opts, n) != FC_OK) {
        fc_workers_close(w);
        return FC_EINVAL;
    }
    if (opts)
        atomic_store(&w->budget.limit, (uint64_t)opts->maxmemory);
    /* nshards counts the shards created, so close can undo a partial open */
    for (uint32_t i = 0; i < n; i++, w->nshards++) {
        w->shards[i].owner = i % workers;
        w->shards[i].eng = eng_shard_new(i, per_shard, &w->observer);
        if (!w->shards[i].eng) {
            fc_workers_close(w);
            return FC_ENOMEM;
        }
        eng_shard_set_seed(w->shards[i].eng, w->seed);
        eng_shard_set_budget(w->shards[i].eng, &w->budget);
    }
    for (uint32_t k = 0; k < workers; k++) {
        memset(&w->locals[k], 0, sizeof(w->locals[k]));
        w->locals[k].shards = w->shards;
        w->locals[k].mask = w->mask;
        w->locals[k].seed = w->seed;
        w->locals[k].route_mode = mode;
        w->locals[k].index = k;
        w->locals[k].nworkers = workers;
    }
    *out = w;
    return FC_OK;
}

void fc_workers_close(fc_workers *w)
{
    if (!w)
        return;
    for (uint32_t i = 0; i < w->nshards; i++)
        eng_shard_free(w->shards[i].eng);
    for (uint32_t k = 0; w->locals && k < w->nworkers; k++)
        lib_local_scratch_free(&w->locals[k]);
    free(w->shards);
    free(w->locals);
    free(w);
}

unsigned fc_workers_count(const fc_workers *w)
{
    return w ? w->nworkers : 0;
}

fc_local *fc_workers_local(fc_workers *w, unsigned index)
{
    return w && index < w->nworkers ? &w->locals[index] : NULL;
}

uint64_t fc_workers_hash(const fc_workers *w, const void *key, size_t len)
{
    return w ? lib_route(w->seed, w->route_mode, lib_nonnull(key), len)
             : eng_hash(lib_nonnull(key), len);
}

unsigned fc_workers_owner(const fc_workers *w, uint64_t hash)
{
    return w ? w->shards[hash & w->mask].owner : 0;
}

/* No worker may be running: the observer is read without a lock. */
void fc_workers_set_observer(fc_workers *w, fc_mutation_fn fn, void *ctx)
{
    if (!w)
        return;
    w->observer.fn = fn;
    w->observer.ctx = ctx;
}

unsigned fc_local_index(const fc_local *l)
{
    return l ? l->index : 0;
}

/* Own shards of l are index + k * nworkers, k < own_count(l). */
static uint32_t own_count(const fc_local *l)
{
    return (l->mask + 1 - l->index + l->nworkers - 1) / l->nworkers;
}

static inline eng_shard *own_shard(const fc_local *l, uint32_t k)
{
    return l->shards[l->index + k * l->nworkers].eng;
}

size_t fc_local_len(fc_local *l)
{
    size_t n = 0;
    if (!l)
        return 0;
    uint32_t c = own_count(l);
    for (uint32_t k = 0; k < c; k++)
        n += eng_len(own_shard(l, k));
    return n;
}

void fc_local_clear(fc_local *l)
{
    if (!l)
        return;
    uint32_t c = own_count(l);
    for (uint32_t k = 0; k < c; k++)
        eng_clear(own_shard(l, k));
}

/* As fc_tick, over this worker's shards from its own cursor. */
size_t fc_local_tick(fc_local *l, size_t budget)
{
    if (!l || !budget)
        return 0;
    uint32_t c = own_count(l);
    size_t per = budget / c;
    if (per < LIB_TICK_MIN_PER_SHARD)
        per = LIB_TICK_MIN_PER_SHARD;
    int64_t now = eng_now_ms();
    size_t removed = 0;
    for (uint32_t v = 0; v < c && budget; v++) {
        size_t n = per < budget ? per : budget;
        eng_shard *sh = own_shard(l, l->tick_cursor);
        removed += eng_sweep(sh, n, now);
        if (eng_defrag_wanted(sh)) /* a call on this handle: refs end */
            eng_defrag(sh, LIB_TICK_DEFRAG_BYTES);
        eng_tier_walk(sh); /* the levels move with reads */
        l->tick_cursor = (l->tick_cursor + 1) % c;
        budget -= n;
    }
    return removed;
}
