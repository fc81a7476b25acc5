/*
 * lib.h — internals of libfastcache shared by the shared handle (store*.c)
 * and the worker-local handles (local.c). Private to src/lib.
 *
 * Owns: the layout of fc_store, fc_workers and fc_local, and the per-key
 *   operations both kinds of handle run once they hold a shard (lib_op_*).
 * Threads: a lib_op_* call needs exclusive use of its shard: the shard lock
 *   (fc_store) or ownership (fc_local). Argument checks (lib_check_*,
 *   lib_set_prepare, lib_ttl_to_expire) touch no shared state and run
 *   before a lock is taken, so that locks cover lookups only.
 * Memory: the handles own their engine shards. A copy malloc'd by a
 *   lib_op_* call belongs to the caller of the public function.
 */
#ifndef FC_LIB_LIB_H
#define FC_LIB_LIB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "engine/engine.h"
#include "fastcache.h"
#include "lib/lock.h"

#define LIB_CACHELINE 64
#define LIB_DEFAULT_SHARDS 64u
/* Slots a tick gives each shard it visits at least, so that a small budget
 * spread over many shards still makes progress on each one. */
#define LIB_TICK_MIN_PER_SHARD 32
/* Bytes a tick's defrag step may copy per shard visited (eng_defrag), only
 * where the slab's pages hold too much: as the server's sweep tick. */
#define LIB_TICK_DEFRAG_BYTES ((size_t)64 << 10)

/* expire_at meaning "the set removes the key" (a non-positive TTL). */
#define LIB_EXPIRE_DELETE (-1)

/* One shard of the shared handle, alone on its cache line so that two
 * threads working on neighbouring shards do not share a line. */
struct lib_shard {
    lib_lock lock;
    eng_shard *eng;
} __attribute__((aligned(LIB_CACHELINE)));

/* The user's eviction callback, as the engine's drop callback calls it. */
typedef struct lib_evict_cb {
    fc_evict_fn fn;
    void *ctx;
} lib_evict_cb;

struct fc_store {
    /* Read-only after open: what every call reads first. */
    struct lib_shard *shards;
    uint32_t mask;
    uint32_t nshards;
    uint64_t seed;         /* key hash seed (fc_options.hash_seed) */
    int route_mode;        /* enum fc_route_mode; read-only after open */
    eng_observer observer; /* the engine keeps a pointer to this */
    eng_budget *budget;    /* every shard's (below, own line) */
    /* A replica's store (replica.c): write calls return FC_EREADONLY,
     * fc_store_close leaves it to fc_replica_close. Set before the store
     * is shared, never changed while it is. */
    struct fc_replica *replica;

    /* The memory limit: settings read by writes, totals written by all. */
    eng_budget budget_mem;
    lib_evict_cb evict_cb;

    /* Written by fc_tick callers: kept off the read-mostly line. */
    _Alignas(LIB_CACHELINE) _Atomic uint32_t tick_cursor;

    /* Background expiry. ctl serialises start/stop; mu/cv wake the thread. */
    pthread_mutex_t exp_ctl;
    pthread_mutex_t exp_mu;
    pthread_cond_t exp_cv;
    pthread_t exp_thread;
    unsigned exp_interval_ms;
    bool exp_running;
    bool exp_stop;

    /* Durability (store_persist.c); NULL ps = in memory only. With ps, the
     * engine's observer is lib_persist_observe and the user's observer is
     * chained from it. */
    struct ps_persist *ps;
    eng_shard **engs; /* [nshards], for persist's shard-array calls */
    fc_mutation_fn user_obs;
    void *user_obs_ctx;
    bool ps_always;
    pthread_t ps_thread;
    bool ps_running;
    pthread_mutex_t ps_mu;
    pthread_cond_t ps_cv;
    bool ps_stop;
    int64_t ps_period_ms;
};

/* --- durability of the shared handle (store_persist.c) --- */
/* After the shards exist: recovery, WAL, the hand-off/snapshot thread.
 * FC_OK, FC_EIO (message on stderr) or FC_ENOMEM. */
int lib_persist_open(fc_store *s, const fc_options *o);
/* Before the shards are freed: stops the thread, fsyncs the WAL. */
void lib_persist_close(fc_store *s);
/* FC_EIO while the WAL refuses writes, else FC_OK. */
int lib_persist_check(const fc_store *s);

/* Shard table of a worker-split store: owner beside the shard pointer so
 * the "is it mine" check and the lookup share one cache line. */
struct lib_wshard {
    eng_shard *eng;
    uint32_t owner;
};

struct fc_local {
    const struct lib_wshard *shards; /* the store's table, read-only */
    uint64_t seed;                   /* the store's key hash seed */
    int route_mode;                  /* the store's enum fc_route_mode */
    uint32_t mask;
    uint32_t index;
    uint32_t nworkers;
    uint32_t tick_cursor; /* k-th own shard: index + k * nworkers */
    /* fc_local_mget_packed_view's memory, made on first use, freed by
     * fc_workers_close (packed.c). */
    struct fc_packed *scratch;
} __attribute__((aligned(LIB_CACHELINE)));

struct fc_workers {
    struct lib_wshard *shards;
    struct fc_local *locals;
    uint32_t mask;
    uint32_t nshards;
    uint32_t nworkers;
    uint64_t seed;
    int route_mode;
    eng_observer observer;
    eng_budget budget; /* every shard's; the limit set after open */
    lib_evict_cb evict_cb;
};

/* A budget from fc_options' memory fields, with no limit yet (the caller
 * sets it once recovery, if any, is done). FC_EINVAL for a bad policy or
 * sample count. */
int lib_budget_init(eng_budget *b, lib_evict_cb *cb, const fc_options *o,
                    uint32_t nshards);

/* The store's seed from fc_options.hash_seed (random when asked). */
uint64_t lib_seed(const fc_options *opts);
/* The route mode of opts: FC_OK with *mode, or FC_EINVAL (unknown mode,
 * or session_prefix with a data_dir). */
int lib_route_mode(const fc_options *opts, int *mode);

/* THE hash of a key in a store: every lookup, insert and shard choice of
 * the library goes through this (or through a route made by it), so that
 * session_prefix mode places and finds a key in the same shard. */
static inline uint64_t lib_route(uint64_t seed, int mode, const void *key,
                                 size_t klen)
{
    if (__builtin_expect(mode == FC_ROUTE_FULL_KEY, 1))
        return eng_hash_seeded(seed, key, klen);
    return eng_route_hash(seed, mode, key, klen);
}

/* The key's shard when worker-local handle l owns it; otherwise NULL, with
 * the owner stored in *owner when owner is non-NULL. */
static inline eng_shard *lib_mine(const fc_local *l, uint64_t hash,
                                  unsigned *owner)
{
    const struct lib_wshard *ws = &l->shards[hash & l->mask];
    if (__builtin_expect(ws->owner == l->index, 1))
        return ws->eng;
    if (owner)
        *owner = ws->owner;
    return NULL;
}

/* fc_local_mget at one time `now` for every chunk (ENG_NOW_LAZY: read per
 * chunk). With a fixed now an entry returned for one key is not freed as
 * expired by a later lookup in the batch, so borrowed views of all hits
 * stay valid together (fc_local_mget_refs). */
int lib_local_mget_at(fc_local *l, const fc_slice *keys, size_t n,
                      fc_mget_fn fn, void *ctx, int64_t now);

/* Frees l's packed-view scratch (packed.c). */
void lib_local_scratch_free(fc_local *l);

/* A set after its arguments were checked and its TTL converted. */
typedef struct lib_set_req {
    const void *key;
    size_t klen;
    const void *val;
    size_t vlen;
    int64_t expire_at; /* 0 none, LIB_EXPIRE_DELETE, else absolute ms */
    int64_t now;       /* ENG_NOW_LAZY unless the TTL made us read it */
    unsigned flags;
} lib_set_req;

/* --- argument checks (common.c / inline) --- */

/* The engine never sees a NULL pointer: an empty key or value may be
 * passed as NULL by callers, and memcmp/memcpy on NULL is undefined. */
static inline const void *lib_nonnull(const void *p)
{
    return p ? p : "";
}

static inline int lib_check_key(const void *key, size_t klen)
{
    if (klen > FC_MAX_KEY_LEN)
        return FC_ETOOBIG;
    if (!key && klen)
        return FC_EINVAL;
    return FC_OK;
}

/* The key of a worker-local call: checked, hashed once, on a shard the
 * handle owns. */
typedef struct lib_local_key {
    const void *p; /* never NULL */
    size_t n;
    uint64_t h;
    eng_shard *sh;
} lib_local_key;

/* For a key already checked and made non-NULL (by lib_set_prepare):
 * FC_OK with k filled when l owns the key, else FC_ENOTLOCAL with the owner
 * in *owner (when non-NULL). */
static inline int lib_local_find(const fc_local *l, const void *key,
                                 size_t klen, unsigned *owner, lib_local_key *k)
{
    k->p = key;
    k->n = klen;
    k->h = lib_route(l->seed, l->route_mode, key, klen);
    k->sh = lib_mine(l, k->h, owner);
    return k->sh ? FC_OK : FC_ENOTLOCAL;
}

/* The prologue of a worker-local call: the key's check error, or
 * lib_local_find's answer. */
static inline int lib_local_locate(const fc_local *l, const void *key,
                                   size_t klen, unsigned *owner,
                                   lib_local_key *k)
{
    int rc = lib_check_key(key, klen);
    if (rc != FC_OK)
        return rc;
    return lib_local_find(l, lib_nonnull(key), klen, owner, k);
}

/* Converts a relative TTL (ms) to an absolute expiry: 0 for FC_TTL_NONE,
 * LIB_EXPIRE_DELETE for other non-positive TTLs, FC_EOVERFLOW when now + ttl
 * does not fit. *now is read from the clock only when still ENG_NOW_LAZY,
 * so a batch reads it at most once. */
int lib_ttl_to_expire(int64_t ttl_ms, int64_t *now, int64_t *expire_at);

/* Checks a set's arguments and fills r. *now as for lib_ttl_to_expire. */
int lib_set_prepare(lib_set_req *r, const void *key, size_t klen,
                    const void *val, size_t vlen, int64_t ttl_ms,
                    unsigned flags, int64_t *now);

/* --- per-key operations on an exclusively held shard (ops.c) --- */

/* old may be NULL (plain set); otherwise receives a malloc'd copy of the
 * previous string value (NULL when there was none). */
int lib_op_set(eng_shard *sh, uint64_t hash, const lib_set_req *r, void **old,
               size_t *old_len);
int lib_op_get_alloc(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                     void **val, size_t *len);
int lib_op_pexpire(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                   int64_t expire_at, int64_t now);
int64_t lib_op_pttl(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                    int64_t now);
int lib_op_persist(eng_shard *sh, uint64_t hash, const void *key, size_t klen);

/* Status and value of a lookup's result (a borrowed entry, or NULL). */
static inline int lib_entry_string(const eng_entry *e, const void **val,
                                   size_t *len)
{
    if (!e)
        return FC_ENOTFOUND;
    if (eng_entry_type(e) != ENG_TYPE_STRING)
        return FC_EWRONGTYPE;
    *val = eng_entry_value(e, len);
    return FC_OK;
}

/* Zero-copy get: the view is valid until the shard's next mutation. */
static inline int lib_op_get_ref(eng_shard *sh, uint64_t hash, const void *key,
                                 size_t klen, const void **val, size_t *len)
{
    return eng_get_str(sh, hash, key, klen, ENG_NOW_LAZY, val, len);
}

/* Hot path: copy-out get. */
static inline int lib_op_get(eng_shard *sh, uint64_t hash, const void *key,
                             size_t klen, void *buf, size_t cap, size_t *len)
{
    return eng_get_str_copy(sh, hash, key, klen, buf, cap, len);
}

/* --- batches (store_batch.c, local_batch.c) --- */

/* Records item i's result; keeps in *first the lowest-index failure, which
 * is what a batch call returns. */
static inline void lib_note_result(int *results, size_t i, int rc, int *first)
{
    if (results)
        results[i] = rc;
    if (rc != FC_OK && *first == FC_OK)
        *first = rc;
}

/* Batch order (store_batch.c): sorts idx[0..n) (indices < LIB_BATCH) by
 * shard[idx], keeping input order within a shard, so that a batch takes
 * each shard's lock once and a key repeated in a batch is applied in
 * input order. */
#define LIB_BATCH 256
void lib_sort_by_shard(uint16_t *idx, size_t n, const uint32_t *shard,
                       uint32_t nshards);

#endif /* FC_LIB_LIB_H */
