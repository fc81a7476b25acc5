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
    struct eng_ht ht;
    struct slab slab; /* every entry of the shard, detached ones included */
    size_t expires;   /* entries with a TTL field */
    uint64_t seq;
    const eng_observer *obs;
    uint32_t index;
    size_t sweep_pos; /* next group of ht.cur that eng_sweep examines */
};

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

void shard_notify_slow(eng_shard *sh, fc_mutation_kind kind,
                       const eng_entry *e);

/* Bumps seq; calls the observer (if any) with e's key, and e's value and
 * TTL for SET and EXPIRE. e may be NULL (CLEAR). */
static inline void shard_notify(eng_shard *sh, fc_mutation_kind kind,
                                const eng_entry *e)
{
    sh->seq++;
    if (__builtin_expect(sh->obs != NULL && sh->obs->fn != NULL, 0))
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

/* Accounts and inserts a new entry. FC_OK or FC_ENOMEM (n not inserted). */
int shard_insert(eng_shard *sh, uint64_t h, eng_entry *n);

/* eng_get's paths that need a slot reference: a running resize (both tables
 * probed, a migration step taken), or an entry to expire. */
eng_entry *shard_get_slow(eng_shard *sh, uint64_t hash, const void *key,
                          size_t klen, int64_t *now);

/* The end of a lookup that found e (the live table's entry for key): lazy
 * expiry, then the accessed mark. */
static inline eng_entry *shard_hit(eng_shard *sh, eng_entry *e, uint64_t hash,
                                   const void *key, size_t klen, int64_t *now)
{
    if (__builtin_expect(ent_has_ttl(e), 0) && ent_expired(e, now))
        return shard_get_slow(sh, hash, key, klen, now);
    if (!(e->flags & ENT_F_ACCESSED)) /* don't dirty the line needlessly */
        e->flags |= ENT_F_ACCESSED;
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
