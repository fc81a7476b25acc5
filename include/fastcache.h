/*
 * fastcache.h — the one public header of libfastcache.
 *
 * An embedded, thread-per-core in-memory key-value cache. Keys and values are
 * binary-safe byte strings (keys up to FC_MAX_KEY_LEN, values up to
 * FC_MAX_VALUE_LEN); TTLs are in milliseconds on a monotonic clock.
 *
 * Two kinds of handle over the same engine:
 *
 *  - fc_store: the shared handle. Thread-safe: any thread may call any
 *    function at any time. Keys hash (XXH3) to one of N shards (a power of
 *    two), each shard behind its own lock.
 *
 *  - fc_workers / fc_local: a store split into W worker handles. Worker w
 *    owns the shards s with (s % W) == w and is the only thread that may touch
 *    them; its fc_local_* calls take no lock and no atomic on the hot path.
 *    Every fc_local_* data call is "if local": a key owned by another worker
 *    is not touched and the call returns FC_ENOTLOCAL, storing the owning
 *    worker in *owner (when owner is non-NULL) so a caller can route there.
 *
 * Errors: functions return FC_OK (0) or a negative FC_E* code; fc_strerror()
 * gives the text. "Not found" is FC_ENOTFOUND, never a crash. Nothing aborts
 * on user input; out-of-memory is reported as FC_ENOMEM.
 *
 * Ownership: memory returned by the library with "malloc'd" in its comment is
 * the caller's, freed with fc_free(). Views (const pointers passed to a
 * callback) are borrowed and valid only during that callback.
 */
#ifndef FASTCACHE_H
#define FASTCACHE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FC_VERSION_MAJOR 0
#define FC_VERSION_MINOR 1
#define FC_VERSION_PATCH 0
#define FC_VERSION_STRING "0.1.0"

/* Limits, as Redis's defaults (proto-max-bulk-len = 512 MiB). */
#define FC_MAX_KEY_LEN ((size_t)512 * 1024 * 1024)
#define FC_MAX_VALUE_LEN ((size_t)512 * 1024 * 1024)
#define FC_MAX_SHARDS 65536u

/* Return codes. */
enum {
    FC_OK = 0,
    FC_ENOTFOUND = -1, /* key absent (or expired) */
    FC_EEXISTS = -2,   /* NX condition failed: key present */
    FC_ENOMEM = -3,    /* allocation failed, or memory limit reached */
    FC_EINVAL = -4,    /* bad argument (NULL, size too large, bad flags) */
    FC_ETOOBIG = -5,   /* key or value longer than the limits above */
    FC_ENOTINT = -6,   /* value is not a decimal 64-bit integer */
    FC_EOVERFLOW = -7, /* increment or TTL would overflow */
    FC_ENOTLOCAL = -8, /* key is owned by another worker (fc_local_*) */
    FC_ETRUNC = -9,    /* caller buffer too small; *len holds the needed size */
    FC_ENOTSET = -10,  /* XX condition failed: key absent */
    FC_EWRONGTYPE = -11, /* key holds a value of another type */
    FC_EIO = -12,      /* persistence: the data directory cannot be used or
                          the disk refused a write (fc_store_open with a
                          data_dir: damaged files, locked directory) */
    FC_EREADONLY = -13, /* a write call on a replica's store
                           (fc_replica_store): only the primary writes */
    FC_ETIMEDOUT = -14, /* fc_replica_wait_synced: not in sync in time */
    FC_ENOTSUP = -15,   /* not built in (fc_backend_cuda without FC_CUDA) */
};

/* Returns a static, human-readable string for a code above. */
const char *fc_strerror(int code);

/* TTL argument meaning "no expiry". Any ttl_ms <= 0 other than this means
 * "already expired": the key is deleted (Redis's SET PX 0 is an error at the
 * protocol level; at the library level a non-positive TTL removes the key). */
#define FC_TTL_NONE INT64_MIN

/* fc_set flags. */
#define FC_SET_NX 0x1u      /* only if absent */
#define FC_SET_XX 0x2u      /* only if present */
#define FC_SET_KEEPTTL 0x4u /* keep the existing TTL (ttl_ms ignored) */

/* fc_pttl results besides a positive remaining TTL. */
#define FC_TTL_NOKEY (-2)    /* key absent */
#define FC_TTL_NOEXPIRE (-1) /* key has no TTL */

/* fc_options.fsync: when a write is on disk (with a data_dir). */
enum fc_fsync {
    FC_FSYNC_DEFAULT = 0,  /* FC_FSYNC_INTERVAL */
    FC_FSYNC_ALWAYS = 1,   /* a write call returns once its record is durable */
    FC_FSYNC_INTERVAL = 2, /* fsync every fsync_interval_ms */
    FC_FSYNC_NO = 3,       /* the OS decides */
};

/* Eviction policies under a memory limit (fc_options.maxmemory_policy), as
 * Redis's maxmemory-policy; FC_POLICY_CLOCK (0) is the default: second
 * chance over each shard's table, one bit per key set by reads (no lock,
 * no list), with hot/warm/cold levels in two more bits (fc_tier_stats),
 * see src/engine/evict.c. */
enum fc_policy {
    FC_POLICY_CLOCK = 0,
    FC_POLICY_NOEVICTION = 1, /* writes that need room fail with FC_ENOMEM */
    FC_POLICY_ALLKEYS_LRU = 2,
    FC_POLICY_ALLKEYS_LFU = 3,
    FC_POLICY_VOLATILE_LRU = 4, /* volatile-*: only keys with a TTL */
    FC_POLICY_VOLATILE_LFU = 5,
    FC_POLICY_VOLATILE_TTL = 6, /* nearest expiry first */
    FC_POLICY_ALLKEYS_RANDOM = 7,
    FC_POLICY_VOLATILE_RANDOM = 8,
};

/* Why the store dropped a key on its own (fc_evict_fn's reason). */
enum fc_evict_reason {
    FC_EVICT_MEMORY = 1,  /* evicted to stay within maxmemory */
    FC_EVICT_EXPIRED = 2, /* its TTL passed (lazily or by a sweep) */
};

/* Called for every key the store drops on its own (not for deletes the
 * caller makes), on the thread whose call caused it, with the key's shard
 * locked (fc_store) or owned (fc_local): it must not call back into the
 * library on the same handle. key is valid only during the call. */
typedef void (*fc_evict_fn)(void *ctx, const void *key, size_t len, int reason);

typedef struct fc_options {
    uint32_t shards;     /* power of two, 1..FC_MAX_SHARDS; 0 = default (64) */
    size_t initial_capacity; /* keys to size for up front; 0 = small */

    /* Durability (fc_store_open only). NULL: in memory only. Otherwise the
     * store recovers from data_dir at open (created when missing, locked
     * against a second process), logs every write to a WAL there and takes
     * snapshots, with the server's formats and guarantees (README,
     * docs/FORMATS.md). Zero fields mean the defaults in brackets. */
    const char *data_dir;
    int fsync;                   /* enum fc_fsync [interval] */
    int64_t fsync_interval_ms;   /* [100]; the loss bound is this plus a
                                    quarter of it (the hand-off period) */
    int64_t snapshot_every_s;    /* [300]; < 0: no periodic snapshots */
    int64_t snapshot_min_writes; /* [1000] */
    int repair_wal;              /* open even with a damaged WAL, keeping
                                    its valid prefix (logged to stderr) */
    /* Seed of the key hash that places keys in shards and table groups.
     * 0 (the default): unseeded XXH3, the same as fc_hash, as before.
     * FC_HASH_SEED_RANDOM: a random seed per store (getrandom), so that
     * whoever picks the keys (say, a network client) cannot precompute keys
     * that all land on one shard and probe chain. Any other value: that
     * seed (reproducible placement). Route keys yourself with
     * fc_store_hash / fc_workers_hash, which always use the store's seed. */
    uint64_t hash_seed;
    /* How keys pick their shard: enum fc_route_mode [FC_ROUTE_FULL_KEY].
     * FC_ROUTE_SESSION_PREFIX needs data_dir NULL (recovery places keys
     * by their full hash). */
    int route_mode;

    /* Memory limit, in bytes of entries as allocated plus table arrays
     * (fc_store_memory's figure); 0 = none. Over it, a write first evicts
     * from the key's shard by maxmemory_policy (an eviction reaches the
     * mutation observer as FC_MUT_DEL); keys whose TTL passed go first.
     * The limit is global: one shard may use most of it. Zero fields mean
     * the defaults in brackets. A replica's store counts, never evicts. */
    size_t maxmemory;
    int maxmemory_policy;       /* enum fc_policy [FC_POLICY_CLOCK] */
    unsigned maxmemory_samples; /* keys sampled per LRU/LFU/TTL eviction,
                                   1..64 [5] */
    int lfu_log_factor;         /* Redis's lfu-log-factor [10]; < 0: 0 */
    int lfu_decay_time;         /* minutes per counter step down [1]; < 0: 0
                                   (no decay) */
    fc_evict_fn on_evict;       /* may be NULL */
    void *on_evict_ctx;
    /* The default policy's levels (hot, warm, cold; see fc_tier_stats):
     * whole-store entries per level, divided among the shards, and the most
     * entries promoted in one pass; 0 = the server's defaults, from this
     * host's CPU caches (README, [tiers]). */
    uint64_t hot_capacity, warm_capacity, cold_capacity;
    uint32_t promotion_batch;
} fc_options;

/* fc_options.route_mode. FULL_KEY: a key's shard comes from the hash of
 * the whole key. SESSION_PREFIX: from the hash of its session prefix
 * (fc_session_prefix), so that every chunk of a session lives in one shard
 * (one lock, one worker); keys without a prefix route as FULL_KEY. */
enum fc_route_mode {
    FC_ROUTE_FULL_KEY = 0,
    FC_ROUTE_SESSION_PREFIX = 1,
};

#define FC_HASH_SEED_RANDOM UINT64_MAX

/* A borrowed byte string, for batch calls. */
typedef struct fc_slice {
    const void *data;
    size_t len;
} fc_slice;

/* One item of fc_mset: key, value and TTL (FC_TTL_NONE for none). */
typedef struct fc_kv {
    fc_slice key;
    fc_slice value;
    int64_t ttl_ms;
} fc_kv;

/* Zero-copy read: called with a view of the value while the entry is pinned
 * (the shard lock held for fc_store). Must not call back into the library on
 * the same handle. The view is valid only during the call. */
typedef void (*fc_view_fn)(void *ctx, const void *value, size_t len);

/* Batch read: called once per input key, with its index in the input; value
 * is NULL and status FC_ENOTFOUND when absent. Same rules as fc_view_fn.
 * Calls are grouped by shard, not in index order. */
typedef void (*fc_mget_fn)(void *ctx, size_t index, int status,
                           const void *value, size_t len);

/* Mutation observer (for a WAL and replication). Called after every change
 * to a shard, on the thread making it, with the shard still locked (shared
 * handle) or owned (worker-local), and with the shard's new sequence number,
 * which increments by one per mutation. key/value views are valid only
 * during the call; value is NULL for deletes. expire_at_ms is an absolute
 * monotonic-clock time (0 = none). */
typedef enum fc_mutation_kind {
    FC_MUT_SET = 1,    /* key now holds value (with expire_at_ms) */
    FC_MUT_DEL = 2,    /* key removed by a caller */
    FC_MUT_EXPIRE = 3, /* key's TTL changed to expire_at_ms (0 = persisted) */
    FC_MUT_EXPIRED = 4, /* key removed because its TTL passed */
    FC_MUT_CLEAR = 5,  /* the whole shard was emptied; key is NULL */
    /* A change to the typed value (hash, list, set, zset) at key: value is
     * an op record (docs/FORMATS.md "Op records") of type value_type. */
    FC_MUT_OP = 6,
} fc_mutation_kind;

typedef struct fc_mutation {
    fc_mutation_kind kind;
    uint32_t shard;
    uint64_t seq;
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    int64_t expire_at_ms;
    /* 0 for strings; else the value's type (1 hash, 2 list, 3 set, 4
     * zset): a SET's value is then the serialized typed value. */
    unsigned value_type;
} fc_mutation;

typedef void (*fc_mutation_fn)(void *ctx, const fc_mutation *m);

/* Frees memory the library returned as malloc'd. */
void fc_free(void *p);

/* Milliseconds on the monotonic clock the library uses for TTLs. */
int64_t fc_now_ms(void);

/* Unseeded XXH3-64: the hash of stores opened with hash_seed 0 (the
 * default). For a store of any seed use fc_store_hash / fc_workers_hash. */
uint64_t fc_hash(const void *key, size_t len);

/* ---------------------------------------------------------------------
 * Shared, thread-safe handle.
 * ------------------------------------------------------------------- */
typedef struct fc_store fc_store;

/* Creates a store. opts may be NULL for defaults. */
int fc_store_open(fc_store **out, const fc_options *opts);
/* Frees the store and every entry. No call may be in flight. */
void fc_store_close(fc_store *s);

/* Sets key to value. ttl_ms: FC_TTL_NONE, or milliseconds from now.
 * flags: FC_SET_*. Returns FC_OK, FC_EEXISTS (NX and present),
 * FC_ENOTSET (XX and absent), FC_ENOMEM, FC_ETOOBIG, FC_EINVAL. */
int fc_set(fc_store *s, const void *key, size_t klen, const void *val,
           size_t vlen, int64_t ttl_ms, unsigned flags);
/* As fc_set, and when the key was present (and a string) stores a malloc'd
 * copy of its previous value in *old / *old_len; *old is NULL otherwise. */
int fc_set_get(fc_store *s, const void *key, size_t klen, const void *val,
               size_t vlen, int64_t ttl_ms, unsigned flags, void **old,
               size_t *old_len);

/* Copies the value into buf (capacity cap) and its length into *len.
 * FC_ETRUNC when cap is too small (nothing copied, *len = needed size). */
int fc_get(fc_store *s, const void *key, size_t klen, void *buf, size_t cap,
           size_t *len);
/* Stores a malloc'd copy of the value in *val (free with fc_free). */
int fc_get_alloc(fc_store *s, const void *key, size_t klen, void **val,
                 size_t *len);
/* Calls fn with a zero-copy view of the value; FC_ENOTFOUND without a call. */
int fc_get_view(fc_store *s, const void *key, size_t klen, fc_view_fn fn,
                void *ctx);

int fc_del(fc_store *s, const void *key, size_t klen); /* FC_OK/ENOTFOUND */
/* 1 if present, 0 if not (never an error). */
int fc_exists(fc_store *s, const void *key, size_t klen);
/* Sets a TTL of ttl_ms from now (<= 0 deletes the key). */
int fc_pexpire(fc_store *s, const void *key, size_t klen, int64_t ttl_ms);
int fc_expire(fc_store *s, const void *key, size_t klen, int64_t ttl_s);
/* Remaining TTL in ms, or FC_TTL_NOKEY / FC_TTL_NOEXPIRE. */
int64_t fc_pttl(fc_store *s, const void *key, size_t klen);
/* Remaining TTL in seconds, rounded as Redis's TTL does. */
int64_t fc_ttl(fc_store *s, const void *key, size_t klen);
/* Removes the TTL. FC_OK, or FC_ENOTFOUND (absent or had no TTL). */
int fc_persist(fc_store *s, const void *key, size_t klen);
/* Adds delta to the decimal integer at key (absent = 0), stores the result
 * in *result. FC_ENOTINT, FC_EOVERFLOW as Redis's INCRBY. Keeps the TTL. */
int fc_incrby(fc_store *s, const void *key, size_t klen, int64_t delta,
              int64_t *result);
/* Number of live keys (keys past their TTL not yet swept may be counted). */
size_t fc_len(fc_store *s);
/* Removes every key. */
void fc_clear(fc_store *s);

/* Batch calls group keys by shard (one lock per shard touched) and report
 * per-item results by input index. results may be NULL. */
int fc_mset(fc_store *s, const fc_kv *items, size_t n, int *results);
int fc_mget(fc_store *s, const fc_slice *keys, size_t n, fc_mget_fn fn,
            void *ctx);
/* Deletes keys; stores the number removed in *removed (may be NULL). */
int fc_mdel(fc_store *s, const fc_slice *keys, size_t n, size_t *removed);

/* Active expiry: examines at most `budget` entries across shards, removing
 * expired ones; returns the number removed. Call it periodically (e.g. every
 * 100 ms) or start the background thread below. Each shard visited also
 * takes a bounded defragmentation step when its memory pages are sparse
 * (entries move to fuller pages, emptied pages go back to the system). */
size_t fc_tick(fc_store *s, size_t budget);
/* Starts a thread calling fc_tick every interval_ms; stopped by
 * fc_store_close or fc_stop_expiry_thread. */
int fc_start_expiry_thread(fc_store *s, unsigned interval_ms);
void fc_stop_expiry_thread(fc_store *s);

/* Installs (or with fn == NULL removes) the mutation observer. Not to be
 * called while other threads use the store. */
void fc_store_set_observer(fc_store *s, fc_mutation_fn fn, void *ctx);
/* Current sequence number of a shard (0 before any mutation). */
uint64_t fc_store_shard_seq(fc_store *s, uint32_t shard);
uint32_t fc_store_shards(const fc_store *s);

/* Memory held by entries and tables, in bytes (allocator-reported). */
size_t fc_store_memory(fc_store *s);
/* Changes the memory limit (0 = none) at run time; a lower one evicts down
 * to it before returning (FC_ENOMEM when noeviction or a volatile policy
 * cannot get there: the limit is set all the same). */
int fc_store_set_maxmemory(fc_store *s, size_t bytes);
/* Keys evicted for memory so far. */
uint64_t fc_store_evicted(fc_store *s);

/* The store's figures that the server reports too, from the same engine
 * counters (INFO keyspace and memory, /metrics' fastcache_keys,
 * fastcache_keys_with_expiry, fastcache_memory_*_bytes,
 * fastcache_evicted_keys_total): keys, keys with a TTL, memory held by the
 * data as maxmemory counts it, its peak, the limit (0 = none), evictions.
 * Per-command counts and latencies are the server's (it times the
 * commands); the library runs none. */
typedef struct fc_stats {
    uint64_t keys, expires;
    uint64_t used_memory, peak_memory, maxmemory;
    uint64_t evicted;
} fc_stats;
/* Fills *out, every shard locked in turn (a consistent figure per shard,
 * not one cut of the whole store). FC_EINVAL on NULL. */
int fc_store_stats(fc_store *s, fc_stats *out);

/* One level of the default policy (FC_POLICY_CLOCK), as INFO's # Tiers
 * reports it: keys at the level now, its capacity (the option as divided
 * among the shards), hits (accessed bits the eviction hand found on the
 * level's keys: reads between two passes count once), promotions into
 * it and demotions out of it. Under another policy every key is cold. */
typedef struct fc_tier_stats {
    uint64_t keys, capacity, hits, promotions, demotions;
} fc_tier_stats;
enum { FC_TIER_COLD = 0, FC_TIER_WARM = 1, FC_TIER_HOT = 2, FC_TIERS = 3 };
/* Fills out[FC_TIERS] (indexed by FC_TIER_*), every shard locked in turn. */
int fc_store_tier_stats(fc_store *s, fc_tier_stats out[FC_TIERS]);
/* The key's hash in this store (its hash_seed applied; in session_prefix
 * mode its low 16 bits, which pick the shard, come from the key's session
 * prefix: see fc_store_route). */
uint64_t fc_store_hash(const fc_store *s, const void *key, size_t len);

/* With a data_dir: writes a snapshot now (the store keeps serving; the
 * call returns when the file is durable). FC_EINVAL without a data_dir,
 * FC_EEXISTS when a snapshot is already running, FC_EIO on a disk error. */
int fc_store_save(fc_store *s);
/* With a data_dir: returns once every write made before the call is on
 * disk (FC_EIO on a disk error). FC_OK and nothing to do without one. */
int fc_store_sync(fc_store *s);

/* ---------------------------------------------------------------------
 * Worker-local handles.
 * ------------------------------------------------------------------- */
typedef struct fc_workers fc_workers;
typedef struct fc_local fc_local;

/* Creates a store split across `workers` handles (1..shards). */
int fc_workers_open(fc_workers **out, const fc_options *opts,
                    unsigned workers);
/* Frees everything. No worker may be using its handle. */
void fc_workers_close(fc_workers *w);
unsigned fc_workers_count(const fc_workers *w);
/* Handle of worker `index`; to be used by one thread only. */
fc_local *fc_workers_local(fc_workers *w, unsigned index);
/* The key's hash in this store (its hash_seed and route_mode applied, as
 * fc_store_hash), for fc_workers_owner. */
uint64_t fc_workers_hash(const fc_workers *w, const void *key, size_t len);
/* Which worker owns a key (by hash from fc_workers_hash; fc_hash's is the
 * same for a store opened with hash_seed 0). */
unsigned fc_workers_owner(const fc_workers *w, uint64_t hash);
void fc_workers_set_observer(fc_workers *w, fc_mutation_fn fn, void *ctx);

unsigned fc_local_index(const fc_local *l);
/* Same contracts as the fc_store calls, plus FC_ENOTLOCAL (with *owner). */
int fc_local_set(fc_local *l, const void *key, size_t klen, const void *val,
                 size_t vlen, int64_t ttl_ms, unsigned flags,
                 unsigned *owner);
int fc_local_get(fc_local *l, const void *key, size_t klen, void *buf,
                 size_t cap, size_t *len, unsigned *owner);
/* Zero-copy: *val points into the entry, valid until the next call on this
 * handle. */
int fc_local_get_ref(fc_local *l, const void *key, size_t klen,
                     const void **val, size_t *len, unsigned *owner);
int fc_local_del(fc_local *l, const void *key, size_t klen, unsigned *owner);
/* 1 present, 0 absent, or FC_ENOTLOCAL. */
int fc_local_exists(fc_local *l, const void *key, size_t klen,
                    unsigned *owner);
int fc_local_pexpire(fc_local *l, const void *key, size_t klen,
                     int64_t ttl_ms, unsigned *owner);
/* Stores the TTL (or FC_TTL_NOKEY/NOEXPIRE) in *pttl. */
int fc_local_pttl(fc_local *l, const void *key, size_t klen, int64_t *pttl,
                  unsigned *owner);
int fc_local_persist(fc_local *l, const void *key, size_t klen,
                     unsigned *owner);
int fc_local_incrby(fc_local *l, const void *key, size_t klen, int64_t delta,
                    int64_t *result, unsigned *owner);
/* Keys in this worker's shards. */
size_t fc_local_len(fc_local *l);
void fc_local_clear(fc_local *l);
size_t fc_local_tick(fc_local *l, size_t budget);
/* Batch over keys that must all be local: a foreign key's result is
 * FC_ENOTLOCAL (reported through fn / results), the others proceed. */
int fc_local_mset(fc_local *l, const fc_kv *items, size_t n, int *results);
int fc_local_mget(fc_local *l, const fc_slice *keys, size_t n, fc_mget_fn fn,
                  void *ctx);

/* ---------------------------------------------------------------------
 * Sessions, routes, packed batches (both kinds of handle).
 *
 * A session's chunks are keys that share a session prefix: "s:<id>:c:<n>"
 * has the prefix "s:<id>" (everything before the last ":c:"), and an
 * LMCache key "...@session%<id>@..." has "lmcache-session:<id>". With
 * route_mode FC_ROUTE_SESSION_PREFIX a session lives in one shard, so a
 * batch of its chunks takes one shard lock (fc_store) or is local to one
 * worker (fc_local).
 * ------------------------------------------------------------------- */

/* "full_key" / "session_prefix" to an enum fc_route_mode: FC_OK or
 * FC_EINVAL. */
int fc_route_mode_parse(const char *name, int *mode);
/* The name of a mode ("full_key", "session_prefix", or "unknown"). */
const char *fc_route_mode_name(int mode);

/* The key's session prefix: 1 with its bytes in buf and its length in
 * *len; 0 when the key has none (nothing written); FC_ETRUNC when cap is
 * too small (*len = needed). */
int fc_session_prefix(const void *key, size_t klen, void *buf, size_t cap,
                      size_t *len);

/* A precomputed route: hash a key once, reuse it for repeated lookups on
 * the same store (a route from another store finds nothing useful, but is
 * harmless). hash is what the store's table uses for the key; shard is
 * hash's shard. */
typedef struct fc_route {
    uint64_t hash;
    uint32_t shard;
} fc_route;

int fc_store_route(const fc_store *s, const void *key, size_t klen,
                   fc_route *out);
/* The route of a session prefix: shard is where its chunks live in
 * session_prefix mode (hash is the prefix's hash, not a key's). */
int fc_store_route_session(const fc_store *s, const void *prefix, size_t plen,
                           fc_route *out);
/* fc_get with a route from fc_store_route for this key. */
int fc_get_routed(fc_store *s, const fc_route *r, const void *key, size_t klen,
                  void *buf, size_t cap, size_t *len);

/* Packed batch read: every hit's value back to back in one buffer, in the
 * order the batch visits them: input order on a worker-local handle (and
 * on a shared handle for keys of one shard, e.g. one session in
 * session_prefix mode), shard by shard otherwise; so always find item i by
 * offset[i]. Item i: offset[i] into data and length[i], or offset[i] ==
 * FC_PACKED_MISS
 * (length 0) for a miss. A key that is rejected (too long, another
 * worker's) is a miss too, and the call returns its error code after
 * finishing the batch. Init with fc_packed_init: buf == NULL lets the
 * library own and grow data (reused across calls); otherwise data is the
 * caller's buf of cap bytes, and a batch that does not fit returns
 * FC_ETRUNC with size = the bytes it needs (offsets as they would be).
 * The offset/length arrays are always the library's, reused across calls.
 * fc_packed_free frees what the library owns. */
#define FC_PACKED_MISS SIZE_MAX
typedef struct fc_packed {
    uint8_t *data;
    size_t size;    /* bytes of values (needed, when FC_ETRUNC) */
    size_t *offset; /* [n] */
    size_t *length; /* [n] */
    size_t n;       /* items of the last batch */
    size_t hits;
    /* private */
    size_t cap, icap;
    int caller_data;
} fc_packed;

void fc_packed_init(fc_packed *p, void *buf, size_t cap);
void fc_packed_free(fc_packed *p);
int fc_mget_packed(fc_store *s, const fc_slice *keys, size_t n, fc_packed *p);
int fc_local_mget_packed(fc_local *l, const fc_slice *keys, size_t n,
                         fc_packed *p);

/* The same result in memory the handle owns: no allocation by the caller,
 * valid until the next call on this handle (which reuses it). */
typedef struct fc_packed_view {
    const uint8_t *data;
    size_t size;
    const size_t *offset;
    const size_t *length;
    size_t n;
    size_t hits;
} fc_packed_view;
int fc_local_mget_packed_view(fc_local *l, const fc_slice *keys, size_t n,
                              fc_packed_view *out);
/* Zero-copy: vals[i] points into the stored value ({NULL, 0} for a miss),
 * valid until the next call on this handle. *hits may be NULL. */
int fc_local_mget_refs(fc_local *l, const fc_slice *keys, size_t n,
                       fc_slice *vals, size_t *hits);

/* Packed session write: n chunks of one session, values back to back in
 * data (value i = data + offset[i], length[i] bytes), one TTL for all.
 * Every key's session prefix (or, for a key without one, the key itself)
 * must equal prefix: a key that does not is FC_EINVAL in results[i] and is
 * not written. Returns the lowest-index failure, as fc_mset. */
typedef struct fc_session_write {
    fc_slice prefix;
    const fc_slice *keys;
    size_t n;
    const void *data;
    const size_t *offset;
    const size_t *length;
    int64_t ttl_ms;
} fc_session_write;
int fc_mset_session(fc_store *s, const fc_session_write *w, int *results);
int fc_local_mset_session(fc_local *l, const fc_session_write *w, int *results);

/* Worker-local routes, as fc_store_route; the owner is
 * fc_workers_owner(w, route.hash). */
int fc_workers_route(const fc_workers *w, const void *key, size_t klen,
                     fc_route *out);
/* fc_local_get_ref with a route from fc_workers_route for this key. */
int fc_local_get_ref_routed(fc_local *l, const fc_route *r, const void *key,
                            size_t klen, const void **val, size_t *len,
                            unsigned *owner);

/* ---------------------------------------------------------------------
 * Transfers: copy a session's chunks into a destination buffer (host
 * memory, or device memory through the CUDA backend).
 * ------------------------------------------------------------------- */

/* FC_LEN_ANY: no expected length. */
#define FC_LEN_ANY UINT64_MAX

typedef struct fc_chunk_desc {
    fc_slice key;
    uint32_t layer;        /* layer index (passed to the backend) */
    uint64_t dst_offset;   /* where the value goes in the destination */
    uint64_t expected_len; /* FC_LEN_ANY or the value's exact length */
} fc_chunk_desc;

typedef struct fc_transfer_req {
    fc_slice prefix; /* the session (checked non-NULL when len > 0) */
    const fc_chunk_desc *chunks;
    size_t n;
} fc_transfer_req;

/* Per-chunk status of a transfer. */
enum fc_chunk_status {
    FC_CHUNK_HIT = 0,          /* copied to dst + dst_offset */
    FC_CHUNK_MISS = 1,         /* absent or expired */
    FC_CHUNK_WRONG_LEN = 2,    /* present, length != expected_len: not copied */
    FC_CHUNK_OUT_OF_RANGE = 3, /* dst_offset + length > dst_len */
    FC_CHUNK_REJECTED = 4,     /* bad key, another worker's key, or the
                                  backend failed to copy */
};

typedef struct fc_transfer_stats {
    uint64_t requested; /* chunks in the request */
    uint64_t hit;       /* copied */
    uint64_t missed;    /* FC_CHUNK_MISS */
    uint64_t wrong_len; /* FC_CHUNK_WRONG_LEN */
    uint64_t failed;    /* OUT_OF_RANGE + REJECTED */
    uint64_t bytes;     /* bytes copied */
} fc_transfer_stats;

/* Sum of expected_len over the chunks (saturating); FC_ENOTFOUND when a
 * chunk has FC_LEN_ANY. */
int fc_transfer_expected_bytes(const fc_transfer_req *t, uint64_t *total);

/* The [cuda] settings (spec storage.md §5), with validation. */
typedef struct fc_cuda_options {
    int enabled;                    /* [0] */
    uint32_t device_ordinal;        /* [0] */
    uint64_t hot_tier_bytes;        /* [10 GiB] */
    uint64_t pinned_host_bytes;     /* [512 MiB] pinned staging budget */
    uint32_t transfer_stream_count; /* [4] */
    int layer_streaming;            /* [1] */
    int prefer_direct_host_dma;     /* [1] */
    uint64_t pinned_staging_threshold_bytes; /* [2 MiB]: chunks at least
                                                this big go through pinned
                                                staging */
    int allow_cpu_fallback; /* [1]: advice to the caller (use the host
                               backend when fc_backend_cuda fails) */
} fc_cuda_options;

void fc_cuda_options_default(fc_cuda_options *o);
/* FC_OK or FC_EINVAL with the spec's message in err (cap errlen; err may
 * be NULL). Checked only when enabled: hot_tier_bytes > 0,
 * transfer_stream_count > 0, pinned_host_bytes > 0 unless
 * prefer_direct_host_dma. */
int fc_cuda_options_validate(const fc_cuda_options *o, char *err,
                             size_t errlen);

/* A copy backend. Host: memcpy into host memory, always available. CUDA:
 * cudaMemcpyAsync into device memory, only in a build with -DFC_CUDA=ON
 * and the CUDA toolkit (FC_ENOTSUP otherwise; FC_EINVAL for options that
 * fail validation or are not enabled; FC_EIO when the device cannot be
 * used). One backend is used by one thread at a time. */
typedef struct fc_backend fc_backend;
int fc_backend_host(fc_backend **out);
int fc_backend_cuda(fc_backend **out, const fc_cuda_options *o);
const char *fc_backend_name(const fc_backend *b);
void fc_backend_close(fc_backend *b);

/* Runs a transfer: looks up each chunk in order and copies each hit to
 * dst + dst_offset through b (the CUDA backend waits for its streams
 * before returning). status[i] (may be NULL) gets the chunk's enum
 * fc_chunk_status; *stats (may be NULL) the totals. Returns FC_OK (misses
 * are not errors), FC_EINVAL (bad arguments), or FC_EIO when the backend
 * failed (those chunks are REJECTED). */
int fc_transfer(fc_store *s, const fc_transfer_req *t, fc_backend *b, void *dst,
                size_t dst_len, int *status, fc_transfer_stats *stats);
int fc_local_transfer(fc_local *l, const fc_transfer_req *t, fc_backend *b,
                      void *dst, size_t dst_len, int *status,
                      fc_transfer_stats *stats);

/* ---------------------------------------------------------------------
 * Embedded replica: an in-process, read-only copy of a remote fast-cache
 * server (its replication listener, --replication-bind), kept current by
 * one background thread that speaks FCRP: a snapshot when it starts (or
 * when it fell too far behind), then the primary's writes as they happen;
 * after a disconnect it resumes from where it was, retrying with capped,
 * jittered exponential backoff.
 *
 * fc_replica_store gives an ordinary fc_store for every read call (fc_get,
 * fc_get_view, fc_mget, fc_exists, fc_pttl, fc_len...); its write calls
 * return FC_EREADONLY (fc_clear does nothing) and fc_store_close on it
 * does nothing: fc_replica_close frees it. While a snapshot loads (status
 * SYNC) the store holds part of the data: fc_replica_status says when the
 * copy is complete, and fc_replica_wait_synced waits for that. Expiry
 * times arrive as the primary's wall-clock times and become TTLs on this
 * machine's clock (so clock skew between the two shifts them): reads never
 * return a key past its TTL, and a write that arrives already expired
 * deletes the key.
 * ------------------------------------------------------------------- */
typedef struct fc_replica fc_replica;

typedef struct fc_replica_options {
    const char *primary; /* "host:port" or "[v6]:port" (required) */
    const char *token;   /* the primary's auth token; NULL: none */
    fc_options store;    /* the local store: shards, initial_capacity,
                            hash_seed (data_dir must be NULL) */
    /* Zero fields mean the defaults in brackets. */
    uint32_t connect_timeout_ms;       /* [500] connect, and the handshake */
    uint32_t write_timeout_ms;         /* [500] */
    uint32_t reconnect_backoff_ms;     /* [200] first retry delay */
    uint32_t reconnect_backoff_max_ms; /* [5000] cap of the doubling */
} fc_replica_options;

enum fc_replica_state {
    FC_REPLICA_CONNECTING = 0, /* connecting, or waiting for the handshake */
    FC_REPLICA_SYNC = 1,       /* loading a snapshot: the store is partial */
    FC_REPLICA_CATCHUP = 2,    /* applying what the primary had meanwhile */
    FC_REPLICA_ONLINE = 3,     /* complete, following the primary */
    FC_REPLICA_DOWN = 4,       /* disconnected, waiting to retry */
    FC_REPLICA_STOPPED = 5,
};

typedef struct fc_replica_info {
    int state;              /* enum fc_replica_state */
    const char *state_name; /* "connecting", "sync", "catchup", "online",
                               "down", "stopped" (static) */
    int synced;             /* 1 while ONLINE: the copy is complete */
    int synced_once;        /* it was complete at least once */
    uint64_t offset;        /* the primary's writes applied so far */
    uint64_t records_applied, records_skipped; /* writes; duplicates */
    uint64_t entries_loaded, snapshots;        /* snapshot keys, snapshots */
    uint64_t reconnects, gaps, bytes_in;
    int64_t last_io_unix_ms;         /* last byte from the primary; 0 never */
    int64_t link_down_since_unix_ms; /* 0 while connected */
    char last_error[160]; /* why the last connection ended ("" none) */
} fc_replica_info;

/* Opens the local store and starts following the primary (returns at
 * once: see fc_replica_wait_synced). FC_EINVAL (no or bad primary address,
 * bad store options, a data_dir), FC_ENOMEM. */
int fc_replica_open(fc_replica **out, const fc_replica_options *o);
/* The replica's store, for reads; valid until fc_replica_close. */
fc_store *fc_replica_store(fc_replica *r);
int fc_replica_status(fc_replica *r, fc_replica_info *out);
/* Waits until the copy is complete (ONLINE). timeout_ms < 0: forever.
 * FC_OK, or FC_ETIMEDOUT. */
int fc_replica_wait_synced(fc_replica *r, int timeout_ms);
/* Stops the thread and frees the store. No call on its store may be in
 * flight. NULL is fine. */
void fc_replica_close(fc_replica *r);

#ifdef __cplusplus
}
#endif
#endif /* FASTCACHE_H */
