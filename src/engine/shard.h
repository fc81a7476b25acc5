/*
 * shard.h — private to the engine: the shard structure and the helpers that
 * shard.c (point operations), strings.c (value edits) and iter.c (sweep,
 * scan, random) share.
 *
 * Owns: the table, the slab and every entry in it. Threads: the shard's thread.
 */
#ifndef FC_ENGINE_SHARD_H
#define FC_ENGINE_SHARD_H

#include "engine/entry.h"
#include "engine/table.h"

struct eng_shard {
    /* Read by every hit (shard_touch), so on the table geometry's line. */
    eng_budget *budget; /* NULL: no limit, nothing counted */
    uint32_t clock_s;   /* last known monotonic second (ENG_NOW_LAZY calls) */
    uint32_t marks;     /* accessed bits set (0 -> 1) by hits, wrapping */
    struct eng_ht ht;
    struct slab slab; /* every entry of the shard, detached ones included */
    size_t expires;   /* entries with a TTL field */
    uint64_t seq;
    const eng_observer *obs;
    uint32_t index;
    size_t sweep_pos; /* next group of ht.cur that eng_sweep examines */
    /* Eviction (evict.c). */
    int64_t flushed;    /* this shard's bytes as last added to budget->used */
    size_t hand;        /* CLOCK hand: step * 8 + slot (evict.c) */
    size_t hand_n;      /* the group count hand_stride was chosen for */
    size_t hand_stride; /* step k visits group k * hand_stride mod hand_n */
    size_t hand_step, hand_g; /* the last step hand_group mapped, its group */
    uint64_t rng;             /* sampling and LFU's coin */
    uint64_t evicted;
    /* The default policy's levels (evict.c): entries per level, exact;
     * what the hand counted; the promotions left in this pass. */
    size_t tier_len[ENG_TIERS];
    uint64_t tier_hits[ENG_TIERS], tier_promos[ENG_TIERS],
        tier_demos[ENG_TIERS];
    uint32_t marks_seen; /* marks at the last eng_tier_walk */
    uint32_t promo_left;
    /* Typed values (obj.h): heap bytes their objects hold, as accounted. */
    size_t obj_bytes;
};

/* --- eviction and accounting (evict.c) --- */

static inline size_t shard_used(const eng_shard *sh)
{
    return slab_used(&sh->slab) + sh->ht.bytes + sh->obj_bytes + sizeof(*sh);
}

void shard_account_slow(eng_shard *sh, int64_t delta);

/* Adds this shard's change in bytes to its budget's total once it reaches
 * ENG_ACCT_STEP either way. */
static inline void shard_account(eng_shard *sh)
{
    if (!sh->budget)
        return;
    int64_t d = (int64_t)shard_used(sh) - sh->flushed;
    if (d >= ENG_ACCT_STEP || d <= -ENG_ACCT_STEP)
        shard_account_slow(sh, d);
}

/* After a delete: as shard_account, but exact while the total is over
 * the limit. */
void shard_account_freed(eng_shard *sh);

int shard_make_room_slow(eng_shard *sh, int64_t *now);

/* The start of every write that may grow memory: FC_OK, or FC_ENOMEM when
 * over the limit and nothing may be evicted here (see eng_set). */
static inline int shard_make_room(eng_shard *sh, int64_t *now)
{
    if (!sh->budget)
        return FC_OK;
    shard_account(sh);
    uint64_t lim =
        atomic_load_explicit(&sh->budget->limit, memory_order_relaxed);
    if (__builtin_expect(lim == 0, 1))
        return FC_OK;
    return shard_make_room_slow(sh, now);
}

/* The LRU clock: monotonic seconds, 24 bits (Redis's LRU_CLOCK). */
#define SHARD_LRU_MASK 0xffffffu
static inline uint32_t shard_clock(eng_shard *sh, const int64_t *now)
{
    if (*now != ENG_NOW_LAZY) {
        uint32_t c = (uint32_t)(*now / 1000);
        if (sh->clock_s != c) /* once a second: the shard's line stays clean */
            sh->clock_s = c;
    }
    return sh->clock_s & SHARD_LRU_MASK;
}

static inline bool shard_pol_lfu(int pol)
{
    return pol == ENG_POL_ALLKEYS_LFU || pol == ENG_POL_VOLATILE_LFU;
}

void shard_lfu_touch(eng_shard *sh, eng_entry *e, const int64_t *now);
/* A new entry's metadata: now for LRU, LFU's initial counter. */
void shard_meta_init(eng_shard *sh, eng_entry *e, const int64_t *now);

/* An access (read or write) of e: the LRU clock, or LFU's counter. */
static inline void shard_touch(eng_shard *sh, eng_entry *e, const int64_t *now)
{
    if (!sh->budget)
        return;
    int pol = atomic_load_explicit(&sh->budget->policy, memory_order_relaxed);
    if (__builtin_expect(shard_pol_lfu(pol), 0)) {
        shard_lfu_touch(sh, e, now);
        return;
    }
    uint32_t c = shard_clock(sh, now);
    if (ent_meta(e) != c) /* once a second at most: the line stays clean */
        ent_set_meta(e, c);
}

/* Resolves ENG_NOW_LAZY by reading the clock (once per call). */
static inline int64_t shard_now(int64_t *now)
{
    if (*now == ENG_NOW_LAZY)
        *now = eng_now_ms();
    return *now;
}

static inline bool ent_expired(const eng_entry *e, int64_t *now)
{
    return ent_has_ttl(e) && ent_expire(e) <= shard_now(now);
}

/* The calling thread's buffer for serializing a typed value (obj.c). */
struct fc_buf *obj_scratch(void);

void shard_notify_slow(eng_shard *sh, fc_mutation_kind kind,
                       const eng_entry *e);

/* Whether the shard has an observer that wants records now (engine.h). */
static inline bool shard_observed(const eng_shard *sh)
{
    const eng_observer *o = sh->obs;
    return o != NULL && o->fn != NULL &&
           (o->wanted == NULL ||
            atomic_load_explicit(o->wanted, memory_order_relaxed));
}

/* Bumps seq; calls the observer (if it wants records) with e's key, and
 * e's value and TTL for SET and EXPIRE. e may be NULL (CLEAR). */
static inline void shard_notify(eng_shard *sh, fc_mutation_kind kind,
                                const eng_entry *e)
{
    sh->seq++;
    if (__builtin_expect(shard_observed(sh), 0))
        shard_notify_slow(sh, kind, e);
}

/* Finds a live entry; removes it (FC_MUT_EXPIRED) and returns false when it
 * has expired. */
bool shard_find_live(eng_shard *sh, uint64_t h, const void *key, size_t klen,
                     int64_t *now, struct ht_ref *r);

/* Removes the entry at r and reports it as `kind`. Returns the entry, which
 * the caller frees (or hands over). */
eng_entry *shard_remove(eng_shard *sh, const struct ht_ref *r,
                        fc_mutation_kind kind);

/* Frees an entry that is no longer in the table. */
void shard_free_entry(eng_shard *sh, eng_entry *e);

/* Puts n in r's slot in place of the entry there (accounting included). */
void shard_replace(eng_shard *sh, const struct ht_ref *r, eng_entry *n);

/* Takes e out of the table at r (its TTL and level counts with it) and
 * returns it; nothing is reported. */
eng_entry *shard_erase(eng_shard *sh, const struct ht_ref *r);

/* Accounts and inserts a new entry, at the cold level. FC_OK or FC_ENOMEM
 * (n not inserted). */
int shard_insert(eng_shard *sh, uint64_t h, eng_entry *n);

/* eng_get's paths that need a slot reference: a running resize (both tables
 * probed, a migration step taken), or an entry to expire. */
eng_entry *shard_get_slow(eng_shard *sh, uint64_t hash, const void *key,
                          size_t klen, int64_t *now);

/* A read of e: sets its accessed bit (evict.c), only when clear so that
 * the line is not dirtied needlessly; counting the 0 -> 1 changes is a
 * plain add to the shard's own line on that rare branch (the periodic
 * walk, eng_tier_walk, skips shards where it did not move). */
static inline void shard_mark(eng_shard *sh, eng_entry *e)
{
    if (!(e->flags & ENT_F_ACCESSED)) {
        e->flags |= ENT_F_ACCESSED;
        sh->marks++;
    }
}

/* The end of a lookup that found e (the live table's entry for key): lazy
 * expiry, then the accessed mark. */
static inline eng_entry *shard_hit(eng_shard *sh, eng_entry *e, uint64_t hash,
                                   const void *key, size_t klen, int64_t *now)
{
    if (__builtin_expect(ent_has_ttl(e), 0) && ent_expired(e, now))
        return shard_get_slow(sh, hash, key, klen, now);
    shard_mark(sh, e);
    shard_touch(sh, e, now);
    return e;
}

/* eng_get's body, shared with the batch lookups (batch.c); *now as for
 * shard_now, so that a batch reads the clock at most once. */
static inline eng_entry *shard_get(eng_shard *sh, uint64_t hash,
                                   const void *key, size_t klen, int64_t *now)
{
    eng_entry *e;

    if (__builtin_expect(sh->ht.old.g != NULL, 0))
        return shard_get_slow(sh, hash, key, klen, now);
    e = ht_table_get(&sh->ht.cur, hash, key, klen);
    return e ? shard_hit(sh, e, hash, key, klen, now) : NULL;
}

#endif /* FC_ENGINE_SHARD_H */
