/*
 * iter.c — whole-table walks: active expiry (eng_sweep), cursor iteration
 * (eng_scan) and random sampling (eng_random).
 */
#include "engine/shard.h"

/* --- active expiry --- */

static size_t sweep_group(eng_shard *sh, struct ht_table *t, struct ht_group *g,
                          int64_t *now)
{
    size_t removed = 0;
    for (uint64_t m = ctrl_full(g->ctrl); m; m &= m - 1) {
        struct ht_ref r = {.t = t, .g = g, .i = ctrl_first(m)};
        if (ent_expired(g->slot[r.i], now)) {
            shard_free_entry(sh, shard_remove(sh, &r, FC_MUT_EXPIRED));
            removed++;
        }
    }
    return removed;
}

size_t eng_sweep(eng_shard *sh, size_t budget, int64_t now)
{
    struct ht_table *t = &sh->ht.cur;
    size_t removed = 0, groups;

    groups = budget / HT_SLOTS + (budget % HT_SLOTS != 0);
    ht_step_n(&sh->ht, groups > sh->ht.mig_step ? groups : sh->ht.mig_step);
    if (sh->expires == 0)
        return 0;
    if (groups > t->n)
        groups = t->n;
    while (groups--) {
        if (sh->sweep_pos >= t->n)
            sh->sweep_pos = 0;
        removed += sweep_group(sh, t, &t->g[sh->sweep_pos++], &now);
    }
    if (removed)
        ht_maybe_shrink(&sh->ht);
    return removed;
}

size_t eng_migrate(eng_shard *sh, size_t groups)
{
    if (!sh->ht.old.g)
        return 0;
    size_t before = sh->ht.mig_pos;
    ht_step_n(&sh->ht, groups);
    /* Done (old freed: mig_pos no longer counts) or the groups stepped. */
    return sh->ht.old.g ? sh->ht.mig_pos - before : groups;
}

/* --- scan ---
 *
 * A cursor is (serial << 32) | group: the serial names the group array the
 * walk is in (16 bits, never 0), so a cursor is never 0 and fits in 48 bits.
 * A pass walks `old` (when a resize is migrating) and then `cur`, each in
 * group order. Entries never move inside an array, and migration only moves
 * them from `old` to `cur`, which the pass visits afterwards: so an entry
 * present for the whole pass is seen at least once. When the cursor's array
 * is gone (a migration ended, or eng_clear ran), the pass restarts from the
 * first array, which repeats entries but misses none. */

#define SCAN_POS_MASK 0xffffffffULL

static void scan_group(const struct ht_group *g, int64_t *now, eng_scan_fn fn,
                       void *ctx)
{
    for (uint64_t m = ctrl_full(g->ctrl); m; m &= m - 1) {
        const eng_entry *e = g->slot[ctrl_first(m)];
        if (!ent_expired(e, now))
            fn(ctx, e);
    }
}

uint64_t eng_scan(eng_shard *sh, uint64_t cursor, size_t count, int64_t now,
                  eng_scan_fn fn, void *ctx)
{
    struct eng_ht *ht = &sh->ht;
    struct ht_table *first = ht->old.g ? &ht->old : &ht->cur, *t = first;
    size_t pos = 0, groups = count / HT_SLOTS + 1;
    uint16_t serial = (uint16_t)(cursor >> 32);

    if (cursor != 0) {
        if (ht->old.g && serial == ht->old.serial) {
            t = &ht->old;
            pos = (size_t)(cursor & SCAN_POS_MASK);
        } else if (serial == ht->cur.serial) {
            t = &ht->cur;
            pos = (size_t)(cursor & SCAN_POS_MASK);
        }
    }
    for (;;) {
        if (pos >= t->n) {
            if (t == &ht->cur)
                return 0;
            t = &ht->cur;
            pos = 0;
        }
        if (groups-- == 0)
            break;
        scan_group(&t->g[pos++], &now, fn, ctx);
    }
    return ((uint64_t)t->serial << 32) | pos;
}

/* --- random sampling --- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ULL; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* A random full slot of t (t->count > 0): a random group, then the first
 * group from there that has entries, then a random entry in it. */
static struct ht_ref pick(struct ht_table *t, uint64_t *rng)
{
    uint64_t x = rng_next(rng);
    size_t gi = (size_t)(((x >> 32) * (uint64_t)t->n) >> 32);
    uint64_t m;
    unsigned k;

    while (!(m = ctrl_full(t->g[gi].ctrl)))
        gi = gi + 1 == t->n ? 0 : gi + 1;
    for (k = (unsigned)(x & 0xff) % (unsigned)__builtin_popcountll(m); k; k--)
        m &= m - 1;
    return (struct ht_ref){.t = t, .g = &t->g[gi], .i = ctrl_first(m)};
}

eng_entry *eng_random(eng_shard *sh, uint64_t *rng, int64_t now)
{
    struct eng_ht *ht = &sh->ht;

    /* Expired entries found on the way are removed; after 100 of them in a
     * row (a shard full of dead keys) give up rather than loop. */
    for (int tries = 0; tries < 100 && ht_len(ht); tries++) {
        struct ht_table *t = &ht->cur;
        struct ht_ref r;
        if (ht->old.count &&
            (ht->cur.count == 0 || rng_next(rng) % ht_len(ht) < ht->old.count))
            t = &ht->old;
        r = pick(t, rng);
        if (!ent_expired(r.g->slot[r.i], &now))
            return r.g->slot[r.i];
        shard_free_entry(sh, shard_remove(sh, &r, FC_MUT_EXPIRED));
    }
    return NULL;
}
