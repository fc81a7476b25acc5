/*
 * engine.h — the storage engine: one shard = one hash table of entries, with
 * lazy + active expiry, memory accounting and the mutation hook.
 *
 * Owns: the table arrays and every entry in them.
 * Threads: a shard is single-threaded. Exactly one thread touches a shard at
 *   a time; the caller provides that guarantee (a lock in the shared handle,
 *   ownership in worker-local handles and in the server). Nothing here locks
 *   and nothing here knows about sockets, protocols or threads. The one
 *   exception is eng_prefetch, a cache hint any thread may give at any time.
 * Memory: entries are allocated and freed here. A pointer to an entry (or its
 *   key/value bytes) returned by a lookup is borrowed: valid until the next
 *   mutating call on the same shard. A "detached" entry handed to the caller
 *   (eng_set/eng_del with a non-NULL detached argument) belongs to the caller,
 *   who frees it with eng_entry_free().
 * Time: every call takes `now`, milliseconds on the monotonic clock
 *   (eng_now_ms()). ENG_NOW_LAZY lets the engine read the clock only when it
 *   needs it (an entry with a TTL), which keeps TTL-less hot paths clock-free.
 *   Expiry times are absolute monotonic milliseconds; 0 means "no expiry".
 */
#ifndef FC_ENGINE_H
#define FC_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fastcache.h"

#define ENG_NOW_LAZY INT64_MIN

/* Value types. Only strings exist today; the others are reserved so that
 * typed values (stored behind a pointer in the value bytes) need no new
 * table or entry layout. */
enum eng_type {
    ENG_TYPE_STRING = 0,
    ENG_TYPE_HASH = 1,
    ENG_TYPE_LIST = 2,
    ENG_TYPE_SET = 3,
    ENG_TYPE_ZSET = 4,
};

/* eng_set flags (same bits as FC_SET_*). */
#define ENG_SET_NX FC_SET_NX
#define ENG_SET_XX FC_SET_XX
#define ENG_SET_KEEPTTL FC_SET_KEEPTTL

typedef struct eng_entry eng_entry;
typedef struct eng_shard eng_shard;

/* Observer shared by all shards of a store (may be NULL).
 * wanted: NULL, or a flag the observer's owner raises once someone
 * consumes mutation records. While it reads 0 the shards call no observer
 * and the typed commands build no op record (a tenth of an LPUSH's
 * instructions), committing their change as a store without an observer
 * would; seqs still advance. Raising it must happen-before the consumer's
 * starting point (a snapshot cut, a log's first record), which then
 * covers every change made unrecorded. */
typedef struct eng_observer {
    fc_mutation_fn fn;
    void *ctx;
    const _Atomic int *wanted;
} eng_observer;

/* --- memory limit and eviction (evict.c; the design is at its top) ---
 *
 * A budget is shared by every shard of a store (or server): the limit and
 * policy, which any thread may change at any time (relaxed atomics: a
 * shard sees a change at its next write), and the process-wide total of
 * used bytes, to which each shard adds its own changes in steps of at
 * least ENG_ACCT_STEP bytes (so the total is exact to within that much per
 * shard). A shard without a budget has no limit and counts nothing. */
enum eng_policy {
    ENG_POL_NOEVICTION = 0,
    ENG_POL_CLOCK = 1, /* the default: second chance, one bit (evict.c) */
    ENG_POL_ALLKEYS_LRU = 2,
    ENG_POL_ALLKEYS_LFU = 3,
    ENG_POL_VOLATILE_LRU = 4,
    ENG_POL_VOLATILE_LFU = 5,
    ENG_POL_VOLATILE_TTL = 6,
    ENG_POL_ALLKEYS_RANDOM = 7,
    ENG_POL_VOLATILE_RANDOM = 8,
};
#define ENG_POL_COUNT 9
#define ENG_ACCT_STEP 4096

/* Why a key left on its own (not by a caller's delete). */
enum eng_drop_reason { ENG_DROP_MEMORY = 1, ENG_DROP_EXPIRED = 2 };
/* Called on the shard's thread, with the key still readable, for every key
 * evicted for memory and every key removed because its TTL passed. */
typedef void (*eng_drop_fn)(void *ctx, uint32_t shard, const void *key,
                            size_t klen, int reason);

/* The levels of the default policy, in an entry's flags (entry.h). */
enum eng_tier { ENG_TIER_COLD = 0, ENG_TIER_WARM = 1, ENG_TIER_HOT = 2 };
#define ENG_TIERS 3

typedef struct eng_budget {
    /* Settings: read on every write (and the policy on every hit). */
    _Atomic uint64_t limit;     /* bytes; 0 = no limit */
    _Atomic int policy;         /* enum eng_policy */
    _Atomic int samples;        /* maxmemory-samples, 1..64 [5] */
    _Atomic int lfu_log_factor; /* [10] */
    _Atomic int lfu_decay_time; /* minutes per halving step [1] */
    _Atomic bool enforce;       /* false: count, never evict nor refuse
                                   (replicas, recovery) */
    eng_drop_fn on_drop; /* set before the shards are used; may be NULL */
    void *on_drop_ctx;
    /* The default policy's levels (evict.c): per-shard capacities of the
     * warm and hot levels (and cold's, reported only), and the most
     * entries the hand promotes in one pass (eng_budget_set_tiers). */
    _Atomic uint32_t tier_cap[ENG_TIERS];
    _Atomic uint32_t promotion_batch;
    /* Written by every shard: its own line. */
    _Alignas(64) _Atomic int64_t used;
    _Atomic int64_t peak;
    _Atomic uint64_t evicted;
} eng_budget;

/* Defaults above, no limit, policy CLOCK, enforcing; the tiers as
 * eng_budget_set_tiers(b, 2048, 8192, 65536, 256, 1). */
void eng_budget_init(eng_budget *b);
/* The [tiers] settings: whole-store capacities of the hot, warm and cold
 * levels, divided among nshards (each shard gets at least 1), and
 * promotion_batch. A zero argument keeps the current value. */
void eng_budget_set_tiers(eng_budget *b, uint64_t hot, uint64_t warm,
                          uint64_t cold, uint32_t promotion_batch,
                          uint32_t nshards);

/* Per-level figures of a shard (eng_tier_stats_add sums them). keys: the
 * entries at the level now (exact); capacity: the shard's share; hits:
 * accessed bits the hand found on entries of the level (an entry read
 * any number of times between two passes counts once); promotions into
 * the level, demotions out of it. Under a policy other than the default
 * the levels do not move and every key is reported as cold. */
typedef struct eng_tier_stats {
    uint64_t keys, capacity, hits, promotions, demotions;
} eng_tier_stats;
void eng_tier_stats_add(const eng_shard *sh, eng_tier_stats sum[ENG_TIERS]);
/* The periodic part of the default policy's promotion: with a limit set
 * and hits since the last call, walks the hand over at most
 * promotion_batch entries (promoting the accessed ones, demoting the idle
 * ones, evicting none). Returns the entries visited. */
size_t eng_tier_walk(eng_shard *sh);
/* Attaches sh to b (before its first write; b outlives sh). */
void eng_shard_set_budget(eng_shard *sh, eng_budget *b);
/* Redis's names plus "clock" (our default) and the seed's aliases "none",
 * "lru", "lfu". 0, or -1 for an unknown name. */
int eng_policy_parse(const char *name, enum eng_policy *out);
const char *eng_policy_name(enum eng_policy p);
/* The budget's total and peak, in bytes (the peak is taken at the same
 * granularity as the total). */
uint64_t eng_budget_used(const eng_budget *b);
uint64_t eng_budget_peak(const eng_budget *b);
/* Evicts from sh (expired keys first, then by the policy) while the
 * budget's total is over its limit, at most max keys. Returns the number of
 * keys removed (evicted or expired). For a lowered limit and for a worker's
 * periodic pass: writes evict on their own. */
size_t eng_evict(eng_shard *sh, size_t max, int64_t now);
/* Keys this shard evicted for memory. */
uint64_t eng_evicted(const eng_shard *sh);
/* OBJECT IDLETIME: seconds since the entry was last read or written (LRU
 * clock, wraps after 194 days as in Redis). Meaningful unless an LFU policy
 * is in force. */
uint64_t eng_entry_idle_s(const eng_shard *sh, const eng_entry *e, int64_t now);
/* OBJECT FREQ: the LFU counter with its decay applied (not stored).
 * Meaningful under an LFU policy. */
unsigned eng_entry_freq(const eng_shard *sh, const eng_entry *e, int64_t now);

int64_t eng_now_ms(void);
/* XXH3-64 of the key, unseeded: eng_hash_seeded(0, ...). */
uint64_t eng_hash(const void *key, size_t len);
/* XXH3-64 with a seed. A shard's placement of keys (its table) uses its
 * seed (eng_shard_set_seed), so every caller that hashes keys for a shard
 * must use the same one. A per-process random seed keeps clients from
 * precomputing keys that all land on one shard and one probe chain; nothing
 * stored depends on it (a loaded key is hashed again locally). */
uint64_t eng_hash_seeded(uint64_t seed, const void *key, size_t len);

/* --- session prefixes and route hashes (session.c) --- */
/* A key's session prefix: the bytes head[0..head_len) followed by
 * p[0..n) (head is "lmcache-session:" for LMCache keys, else empty and p
 * points into the key). */
typedef struct eng_prefix {
    const char *head;
    size_t head_len;
    const uint8_t *p;
    size_t n;
} eng_prefix;
/* 1 and *out filled when key has a session prefix (spec grammar, see
 * session.c), 0 when it has none (then *out is the key itself). */
int eng_session_prefix(const void *key, size_t klen, eng_prefix *out);
/* eng_hash_seeded of the prefix's bytes. */
uint64_t eng_prefix_hash(uint64_t seed, const eng_prefix *pf);
/* The shard bits (low 16) from the prefix's hash, the table's bits (16..63)
 * from the key's. */
#define ENG_ROUTE_SHARD_BITS 0xffffull
static inline uint64_t eng_route_combine(uint64_t key_hash,
                                         uint64_t prefix_hash)
{
    return (key_hash & ~ENG_ROUTE_SHARD_BITS) |
           (prefix_hash & ENG_ROUTE_SHARD_BITS);
}
/* The hash every lookup of key uses in a store of this seed and route mode
 * (enum fc_route_mode): the plain hash in full_key mode and for keys
 * without a session prefix; else eng_route_combine(key's, prefix's). */
uint64_t eng_route_hash(uint64_t seed, int mode, const void *key, size_t klen);

/* --- entries (read-only accessors) --- */
const uint8_t *eng_entry_key(const eng_entry *e, size_t *len);
const uint8_t *eng_entry_value(const eng_entry *e, size_t *len);
int64_t eng_entry_expire_at(const eng_entry *e); /* 0 = none */
enum eng_type eng_entry_type(const eng_entry *e);
/* Bytes the entry's block takes (its slab size class, or malloc's usable
 * size for a large one): MEMORY USAGE. */
size_t eng_entry_memory(const eng_entry *e);
/* Frees a detached entry. */
void eng_entry_free(eng_shard *sh, eng_entry *e);

/* --- shard lifecycle --- */
/* index: the shard's number in its store (reported to observers).
 * capacity: keys to size for up front (0 = small). */
eng_shard *eng_shard_new(uint32_t index, size_t capacity,
                         const eng_observer *observer);
/* The seed the shard's table rehashes keys with when it resizes (default
 * 0); set it before the first insert. */
void eng_shard_set_seed(eng_shard *sh, uint64_t seed);
void eng_shard_free(eng_shard *sh);

/* --- lookups --- */
/* Returns the live entry for key, or NULL. Removes it first when expired
 * (reported as FC_MUT_EXPIRED). Marks it accessed (eviction metadata). */
eng_entry *eng_get(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                   int64_t now);

/* eng_get of a string value: FC_OK with *val / *vlen (borrowed as eng_get's
 * entry is), FC_ENOTFOUND, or FC_EWRONGTYPE (the key holds a typed value).
 * The hot read of the library and the server (getstr.c says why it is its
 * own function). */
int eng_get_str(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                int64_t now, const void **val, size_t *vlen);
/* eng_get_str copying the value into buf: FC_OK and *len, FC_ETRUNC (*len
 * set, the value longer than cap, nothing copied), FC_ENOTFOUND or
 * FC_EWRONGTYPE. The time is ENG_NOW_LAZY (read only for a TTL). */
int eng_get_str_copy(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                     void *buf, size_t cap, size_t *len);

/* As eng_get (lazy expiry included) but leaves the access metadata alone:
 * OBJECT, MEMORY USAGE, TTL-style introspection. */
eng_entry *eng_peek(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                    int64_t now);

/* --- batched lookups: overlapping the cache misses of many keys ---
 *
 * A lookup at a large key count is two dependent cache misses: the key's
 * home group in the table, then the entry it points to. Done one key at a
 * time, a batch pays both latencies per key; these calls let the misses of
 * different keys overlap, in three stages: prefetch every key's group;
 * then read the groups and prefetch the entries whose tag matches; then
 * look up for real (mostly cache hits by then). Prefetches are hints only:
 * no result ever depends on them. */

/* Stage 1: prefetches hash's home group (in both tables during a resize).
 * The one call here that needs no ownership: it reads only the table
 * geometry, through relaxed atomic loads, so any thread may call it at any
 * time, even while the owner mutates or frees arrays (a stale geometry just
 * prefetches a useless line; prefetches never fault). The shard itself must
 * stay alive. */
void eng_prefetch(const eng_shard *sh, uint64_t hash);
/* What stage 2 learnt for stage 3: the likely entry, and the shard's seq
 * when it was seen (the hint is ignored once the shard has changed). */
typedef struct eng_hint {
    eng_entry *e;
    uint64_t seq;
    uint64_t moved; /* the shard's defrag moves then (entries change place) */
} eng_hint;
/* Stage 2 (shard held): reads hash's home group and prefetches the entries
 * whose tag matches (and the next group when the probe may continue). Fills
 * *hint when hint is non-NULL. */
void eng_prefetch_entry(const eng_shard *sh, uint64_t hash, eng_hint *hint);
/* Stage 3: eng_get, with a hint from eng_prefetch_entry on the same shard
 * and hash (taken under an earlier hold is fine: a shard changed since then
 * is detected and the hint ignored). Same result as eng_get. */
eng_entry *eng_get_hinted(eng_shard *sh, uint64_t hash, const void *key,
                          size_t klen, int64_t now, const eng_hint *hint);
/* Looks up keys[0..n) in one shard with all three stages pipelined. out[i]
 * gets exactly what n eng_get calls in index order would return (same lazy
 * expiry, accessed marks and migration steps; a key repeated in the batch
 * is looked up again), except that the clock is read at most once. Borrowed
 * entries as for eng_get: valid until the next mutating call on the shard,
 * and an entry returned for key i is not freed by the lookups of later keys
 * (a lookup frees only expired entries, which it never returns). */
void eng_get_batch(eng_shard *sh, size_t n, const uint64_t *hashes,
                   const void *const *keys, const size_t *klens, int64_t now,
                   eng_entry **out);
/* As eng_get_batch, but key i is looked up in shards[i] (shards may repeat;
 * the caller holds all of them), and the result goes to fn(ctx, i, entry),
 * called in index order right after lookup i and before any later one: so
 * fn may use the entry as eng_get's result, and may even mutate the shards
 * (later lookups then see the change). For callers that hold many shards,
 * so that a batch spread over shards still overlaps its misses. */
typedef void (*eng_each_fn)(void *ctx, size_t i, eng_entry *e);
void eng_get_each(eng_shard *const *shards, size_t n, const uint64_t *hashes,
                  const void *const *keys, const size_t *klens, int64_t now,
                  eng_each_fn fn, void *ctx);

/* eng_get_each for string reads: fn(ctx, i, rc, val, vlen) with eng_get_str's
 * result for key i (val/vlen set only for FC_OK), same order and rules. The
 * batch read of the library (fc_local_mget). */
typedef void (*eng_str_fn)(void *ctx, size_t i, int rc, const void *val,
                           size_t vlen);
void eng_get_str_each(eng_shard *const *shards, size_t n,
                      const uint64_t *hashes, const void *const *keys,
                      const size_t *klens, int64_t now, eng_str_fn fn,
                      void *ctx);
/* eng_get_str with a stage-2 hint, as eng_get_hinted is eng_get. */
int eng_get_str_hinted(eng_shard *sh, uint64_t hash, const void *key,
                       size_t klen, int64_t now, const eng_hint *hint,
                       const void **val, size_t *vlen);

/* --- mutations (each bumps the shard's seq and notifies the observer) --- */
/* Writes that may grow memory (eng_set, eng_append, eng_setrange,
 * eng_incrby) first make room under the shard's budget: when its total is
 * over the limit they evict from this shard (reported to the observer as
 * FC_MUT_DEL, so a WAL and replicas see deletes), or return FC_ENOMEM
 * under noeviction, or when a volatile policy finds no key with a TTL
 * here. Reads and deletes never do.
 *
 * Sets key to value. expire_at: absolute ms, 0 = none; ignored with
 * ENG_SET_KEEPTTL when the key exists. Returns FC_OK, FC_EEXISTS (NX),
 * FC_ENOTSET (XX), FC_ENOMEM, FC_ETOOBIG. When detached_old is non-NULL and
 * the key existed, the old entry is handed over instead of freed (NULL
 * otherwise). *out (if non-NULL) receives the new entry. An expire_at that
 * is non-zero and <= now (after KEEPTTL applied) leaves the key absent: an
 * existing key is removed (FC_MUT_DEL, detached_old as above) and FC_OK is
 * returned with *out NULL. */
int eng_set(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
            const void *val, size_t vlen, int64_t expire_at, unsigned flags,
            int64_t now, eng_entry **detached_old, eng_entry **out);
/* Removes key. FC_OK or FC_ENOTFOUND. detached as for eng_set. */
int eng_del(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
            int64_t now, eng_entry **detached);
/* Sets (expire_at > 0) or removes (0) the TTL of an existing key. An
 * expire_at <= now deletes the key (reported as FC_MUT_DEL). FC_OK or
 * FC_ENOTFOUND (or FC_ENOMEM: adding a TTL may reallocate the entry).
 * Removing the TTL of a key that has none is FC_OK and no mutation (no seq
 * bump). FC_MUT_EXPIRE carries the key and the new expire_at, value NULL. */
int eng_set_expire(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                   int64_t expire_at, int64_t now);
/* Appends to the string at key (creating it). *new_len gets the length. */
int eng_append(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
               const void *data, size_t dlen, int64_t now, size_t *new_len);
/* Overwrites at offset, zero-padding as Redis's SETRANGE (creates the key
 * unless dlen == 0). *new_len gets the length. */
int eng_setrange(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                 size_t offset, const void *data, size_t dlen, int64_t now,
                 size_t *new_len);
/* Edits the string at key in place: grows it with zero bytes to at least
 * min_len (creating it when absent, even when min_len is 0), then calls
 * fn(arg, value, length) once to change bytes of it, then reports one
 * FC_MUT_SET with the result (SETBIT, BITFIELD). fn must not call the
 * engine; the value pointer is valid only inside fn. TTL kept. FC_OK,
 * FC_EWRONGTYPE, FC_ENOMEM, FC_ETOOBIG. *new_len gets the length. */
typedef void (*eng_edit_fn)(void *arg, uint8_t *val, size_t len);
int eng_edit(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
             size_t min_len, eng_edit_fn fn, void *arg, int64_t now,
             size_t *new_len);
/* Redis INCRBY semantics, TTL kept. FC_ENOTINT / FC_EOVERFLOW. */
int eng_incrby(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
               int64_t delta, int64_t now, int64_t *result);
/* Empties the shard (one FC_MUT_CLEAR). */
void eng_clear(eng_shard *sh);

/* --- whole-shard --- */
size_t eng_len(const eng_shard *sh);
/* The most table groups a lookup of an absent key reads in the shard's
 * current table (a scan of the whole table: for tests and diagnostics). */
size_t eng_longest_probe(const eng_shard *sh);
/* Bytes: entry blocks as allocated (slab chunks at their class size, big
 * blocks at malloc's usable size), table arrays and the shard itself. The
 * figure the memory limit counts. */
size_t eng_memory(const eng_shard *sh);
/* The slab's pages plus big blocks plus tables: what the shard holds from
 * the system (page slack included). */
size_t eng_memory_held(const eng_shard *sh);
uint64_t eng_seq(const eng_shard *sh);
/* Sets where the shard's sequence continues from (the next mutation gets
 * seq + 1). A replication primary starts its shards at a base unique to
 * its run, so that sequences never repeat across runs. */
void eng_set_seq(eng_shard *sh, uint64_t seq);
size_t eng_expires_count(const eng_shard *sh); /* keys with a TTL */
/* Active expiry: examines up to `budget` slots from a cursor that persists
 * across calls, and does a bounded step of any incremental resize. Returns
 * the number of keys removed. */
size_t eng_sweep(eng_shard *sh, size_t budget, int64_t now);
/* Migrates up to `groups` groups of a resize in progress (table.c:
 * "Incremental resize"); returns how many it did (0: none pending). For
 * an idle owner's periodic pass: writes drive a migration, and a shard
 * that stops taking writes would otherwise keep both arrays for long. */
size_t eng_migrate(eng_shard *sh, size_t groups);

/* --- memory: figures and defragmentation (defrag.c) ---
 *
 * The slab (slab.h) keeps entries of up to 512 B in 64 KiB pages of one
 * size class; churn leaves pages sparse, and their memory stays resident.
 * Larger entries (and those of a class too rare in the shard to fill half
 * a page) are malloc's: its fragmentation is glibc's business.
 * eng_defrag moves live entries out of sparse pages into fuller ones of the
 * same class (the table slot is repointed at the copy), or to malloc for a
 * class too rare in the shard to keep a page, frees the emptied pages and
 * gives back the unused tails of the others, in bounded steps. Accounted
 * bytes change only by the difference between a chunk's class size and
 * malloc's usable size for a spilled entry.
 * Moving an entry is a mutation of the shard for the borrowing contract:
 * pointers to entries (and to their key or value bytes) taken before an
 * eng_defrag call are invalid after it, as after any mutating call;
 * detached entries are never moved. seq is not bumped (nothing logical
 * changed; observers hear nothing). */
typedef struct eng_mem_stats {
    size_t slab_pages_bytes;    /* pages mapped, 64 KiB each */
    size_t slab_resident_bytes; /* their bytes ever written and not given
                                   back: an upper bound of their RSS */
    size_t slab_live_bytes;     /* live chunks at their class size */
    size_t heap_bytes;          /* entries on malloc (usable size) */
    uint64_t defrag_moved;      /* entries moved, ever */
    uint64_t defrag_pages_freed;
    uint64_t defrag_trimmed_bytes; /* page tails given back, ever */
} eng_mem_stats;
void eng_mem_stats_add(const eng_shard *sh, eng_mem_stats *sum);
/* True when this shard's pages hold more than about 5% (and 64 KiB) over
 * its live chunks and a defrag step may reduce it: the caller's cue to keep
 * calling eng_defrag even while idle. */
bool eng_defrag_wanted(const eng_shard *sh);
/* One step of at most about `budget` bytes copied (at least one entry when
 * there is work). Returns the bytes copied (0: nothing to do). */
size_t eng_defrag(eng_shard *sh, size_t budget);

/* Iteration. Calls fn for live entries starting at cursor, visiting about
 * `count` slots; returns the next cursor, 0 when the pass is complete.
 * Entries present for the whole pass are visited at least once (a resize
 * during the pass may cause repeats, never misses). fn must not mutate the
 * shard. Expired entries are skipped (not removed).
 * Cursors are below 2^48 (16 bits name the table array, 32 bits a group).
 * When the array a cursor names is gone (a resize finished between calls,
 * or eng_clear), the pass restarts from the beginning: nothing is missed,
 * but under endless resizing a pass may not end. The array names wrap
 * after 65535 resizes; a cursor kept across that many could skip entries. */
typedef void (*eng_scan_fn)(void *ctx, const eng_entry *e);
uint64_t eng_scan(eng_shard *sh, uint64_t cursor, size_t count, int64_t now,
                  eng_scan_fn fn, void *ctx);
/* A uniformly-ish random live entry (NULL if empty); rng is caller state.
 * Expired entries met on the way are removed (FC_MUT_EXPIRED); after 100 of
 * them in a row it gives up and returns NULL even if live keys remain. */
eng_entry *eng_random(eng_shard *sh, uint64_t *rng, int64_t now);

#endif /* FC_ENGINE_H */
