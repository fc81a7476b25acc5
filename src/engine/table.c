/*
 * table.c — the shard's hash table: open addressing, SwissTable-style control
 * bytes, incremental resize.
 *
 * Layout. The table is an array of groups. A group is exactly one 64-byte
 * cache line: a 64-bit control word followed by 7 slots, each one pointer to
 * an entry (entry.h: key, value and metadata in one allocation). Control byte
 * i describes slot i: a 7-bit tag taken from the key's hash (0x00..0x7f) when
 * the slot is full, EMPTY (0x80) or DELETED (0xFE, a tombstone). Byte 7 has
 * no slot behind it and always holds SENTINEL (0xFF), which matches neither a
 * tag, nor EMPTY, nor DELETED. Per key this costs 64/7 = 9.1 bytes of table
 * divided by the load factor, plus the entry block itself.
 *
 * Matching. The control word is matched a whole group at a time with
 * portable SWAR arithmetic (table.h): one XOR/subtract/AND finds the bytes
 * equal to the wanted tag; shifts and masks find EMPTY or free bytes. Only
 * slots whose tag matches are dereferenced, so a lookup touches on average
 * one cache line of table plus the entry it returns (a miss costs ~1/128
 * entry dereferences per full slot looked at).
 *
 * Hash bits. The store routes keys to shards with the low 16 bits of the
 * hash, so inside a shard those bits are constant. The tag is bits 16..22 and
 * the home group is bits 32..63 scaled to the group count with a
 * multiply-shift ((h32 * n) >> 32), which lets the group count be any number
 * rather than a power of two: tables grow by ~1.5x instead of 2x, which
 * saves table memory (see sizing below).
 *
 * Probing. Linear over groups: home, home+1, ... wrapping at n. An insert
 * takes the first EMPTY-or-DELETED slot on its path, and marks every group
 * it probes past (one without a free slot) in the group's byte 7:
 * CTRL_SENTINEL_PASSED instead of CTRL_SENTINEL. A lookup stops after the
 * first group not so marked (ctrl_stops): no key lies beyond a group no
 * insert has probed past, full or not. At least one EMPTY slot always
 * exists (the maximum fill is n*7 - max(1, n*7/8)), so inserts terminate,
 * and the group where an insert stops is never passed by it, so lookups
 * terminate. Why not SwissTable's rule (stop at the first group with an
 * EMPTY byte): under churn at a memory limit every group is full at some
 * point, and with a rule on EMPTY bytes its erased slots must then stay
 * tombstones; runs of groups without an EMPTY byte grew to 130 and, with
 * the eviction hand in table order, to the whole table (2538 groups),
 * each walked by every lookup of an absent key, i.e. every SET of a new
 * key (test_evict's churn test; evict.c, hand_group).
 *
 * Tombstones. Erasing from a group no insert has passed marks the slot
 * EMPTY; in a passed group, DELETED (an insert may reuse it; only EMPTY
 * slots count for growth_left). Passed marks are cleared only by a
 * rebuild, so under churn they accumulate: once more than a quarter of the
 * groups are passed and the table has seen more erases than it holds
 * entries (so not while a table only grows: that rebuild would be an early
 * growth; and at most one rebuild per table's worth of erases, at most one
 * migrated entry per erase: with an eighth, the sampled policies' churn,
 * which passes groups fast, spent 20% of a SET in rebuilds), the next
 * insert starts a rebuild for the live count. growth_left counts the EMPTY
 * slots that may still be filled; filling a DELETED slot costs nothing.
 * When an insert needs an EMPTY slot and growth_left is 0, the table is
 * rebuilt for the live count: a larger table when it is really full, the
 * same or a smaller size when tombstones were the problem. Deletions that
 * leave the table under 1/8 full shrink it, so memory follows the data
 * back down (but never below the size the shard was created for).
 *
 * Sizing. A rebuilt table gets count/KEYS_PER_GROUP + 1 groups, i.e. a load
 * of 4/7 (57%); it is rebuilt again at 7/8. The table costs 16 B/key right
 * after a resize and 10.4 B/key just before the next one.
 *
 * Incremental resize. A rebuild never happens at once. The new array becomes
 * `cur` and the previous one `old`; each mutating call (and each eng_sweep)
 * first migrates `mig_step` groups of `old`, in order, rehashing their keys
 * into `cur`; so does eng_get (a lookup never hands out slots, only entries,
 * which migration does not move), so that a read-mostly shard does not stay
 * with two tables to probe; eng_sweep migrates as many groups as its budget
 * covers. Lookups consult `old` (while it holds entries) then `cur`;
 * inserts go to `cur` only; erases work in whichever table holds the key.
 * Migrated slots of `old` become DELETED, never EMPTY: a key still waiting
 * in a later group of `old` may have probed through them. mig_step is chosen
 * when the resize starts so that the migration ends before the inserts it
 * lets through (at most one per call) plus the migrated keys can exhaust
 * cur's growth_left; in practice it is 1 group per call when growing and a
 * few mostly-empty groups when shrinking. `old` is freed as soon as it holds
 * no entry. A new resize never starts while one is in progress.
 *
 * Reads. A lookup when no resize runs (ht_table_get) wants only the entry,
 * not a slot reference, and stays in few registers; everything else goes
 * through ht_find. The batch lookups (batch.c) prefetch a key's home group
 * before taking a shard's lock, so the group arrays' geometry (g, n) is
 * written with relaxed atomic stores (ht_geom_set, ht_table_assign) and
 * read there with relaxed atomic loads: a stale pair only makes a useless
 * prefetch.
 */
#include "engine/table.h"

#include <stdlib.h>

#include <malloc.h>

#define KEYS_PER_GROUP 4 /* target load after a rebuild: 4/7 */
/* A rebuild once more than 1/PASSED_MAX_PART of the groups are passed
 * (see Tombstones): a lookup of an absent key then reads ~1.3 groups. */
#define PASSED_MAX_PART 4
/* ... in a table of at least this many groups: a smaller one is read
 * whole in about what a resize's first steps cost. */
#define PASSED_MIN_GROUPS 64
#define MAX_GROUPS ((size_t)UINT32_MAX)

static size_t max_fill(size_t n)
{
    size_t slots = n * HT_SLOTS;
    size_t spare = slots / 8;
    return slots - (spare ? spare : 1);
}

/* Groups for a rebuild holding `keys`; never below the size the shard was
 * created for (its capacity hint). */
static size_t groups_for(const struct eng_ht *ht, size_t keys)
{
    size_t n = keys / KEYS_PER_GROUP + 1;
    return n > ht->min_groups ? n : ht->min_groups;
}

static int table_alloc(struct eng_ht *ht, struct ht_table *t, size_t n)
{
    void *p = NULL;
    if (n > MAX_GROUPS || n > SIZE_MAX / sizeof(struct ht_group) ||
        posix_memalign(&p, 64, n * sizeof(struct ht_group)))
        return FC_ENOMEM;
    for (size_t i = 0; i < n; i++)
        ((struct ht_group *)p)[i].ctrl = CTRL_INIT;
    ht_geom_set(t, p, n);
    t->count = 0;
    t->growth_left = max_fill(n);
    t->passed = 0;
    t->erased = 0;
    if (++ht->next_serial == 0)
        ht->next_serial = 1;
    t->serial = ht->next_serial;
    ht->bytes += malloc_usable_size(p);
    return FC_OK;
}

static void table_free(struct eng_ht *ht, struct ht_table *t)
{
    if (t->g) {
        ht->bytes -= malloc_usable_size(t->g);
        free(t->g);
    }
    ht_table_assign(t, &(struct ht_table){0});
}

int ht_init(struct eng_ht *ht, size_t capacity)
{
    memset(ht, 0, sizeof(*ht));
    /* Sized so that `capacity` keys fit before the first rebuild. */
    ht->min_groups = capacity / 6 + 1;
    return table_alloc(ht, &ht->cur, ht->min_groups);
}

void ht_reset(struct eng_ht *ht)
{
    struct ht_table t;
    table_free(ht, &ht->old);
    if (ht->cur.n != ht->min_groups &&
        table_alloc(ht, &t, ht->min_groups) == FC_OK) {
        table_free(ht, &ht->cur);
        ht_table_assign(&ht->cur, &t);
        return;
    }
    for (size_t i = 0; i < ht->cur.n; i++)
        ht->cur.g[i].ctrl = CTRL_INIT;
    ht->cur.count = 0;
    ht->cur.growth_left = max_fill(ht->cur.n);
    ht->cur.passed = 0;
    ht->cur.erased = 0;
    if (++ht->next_serial == 0)
        ht->next_serial = 1;
    ht->cur.serial = ht->next_serial; /* cursors of the old content die */
}

void ht_destroy(struct eng_ht *ht)
{
    table_free(ht, &ht->old);
    table_free(ht, &ht->cur);
}

static inline void set_ctrl(struct ht_group *g, unsigned i, unsigned v)
{
    g->ctrl = (g->ctrl & ~(0xffULL << (8 * i))) | ((uint64_t)v << (8 * i));
}

/* First EMPTY-or-DELETED slot on h's probe path (one always exists). */
static struct ht_group *find_free(struct ht_table *t, uint64_t h, unsigned *i)
{
    size_t n = t->n, gi = ht_home(h, n);
    for (;;) {
        struct ht_group *g = &t->g[gi];
        uint64_t m = ctrl_free(g->ctrl);
        if (m) {
            *i = ctrl_first(m);
            return g;
        }
        if (ctrl_byte(g->ctrl, 7) != CTRL_SENTINEL_PASSED) {
            set_ctrl(g, 7, CTRL_SENTINEL_PASSED);
            t->passed++;
        }
        if (++gi == n)
            gi = 0;
    }
}

static void place(struct ht_table *t, struct ht_group *g, unsigned i,
                  uint64_t h, eng_entry *e)
{
    if (ctrl_byte(g->ctrl, i) == CTRL_EMPTY)
        t->growth_left--;
    set_ctrl(g, i, ht_tag(h));
    g->slot[i] = e;
    t->count++;
}

static uint64_t entry_hash(const struct eng_ht *ht, const eng_entry *e)
{
    struct ent_view v;
    ent_decode(e, &v);
    return eng_hash_seeded(ht->seed, v.key, v.klen);
}

/* Moves every entry of an old group into cur. Reading each entry's key to
 * rehash it is a cache miss, and so is each target group: both are
 * prefetched for the whole group first so the misses overlap. */
static void migrate_group(struct eng_ht *ht, struct ht_group *og)
{
    uint64_t full = ctrl_full(og->ctrl), h[HT_SLOTS];
    struct ht_table *t = &ht->cur;

    for (uint64_t m = full; m; m &= m - 1)
        __builtin_prefetch(og->slot[ctrl_first(m)]);
    for (uint64_t m = full; m; m &= m - 1) {
        unsigned i = ctrl_first(m);
        h[i] = entry_hash(ht, og->slot[i]);
        __builtin_prefetch(&t->g[ht_home(h[i], t->n)]);
    }
    for (uint64_t m = full; m; m &= m - 1) {
        unsigned i = ctrl_first(m), j;
        struct ht_group *ng = find_free(t, h[i], &j);
        /* mig_step guarantees room; see the top comment. */
        place(t, ng, j, h[i], og->slot[i]);
        set_ctrl(og, i, CTRL_DELETED);
        ht->old.count--;
    }
}

void ht_step_n(struct eng_ht *ht, size_t groups)
{
    if (!ht->old.g)
        return;
    for (size_t k = 0; k < groups && ht->old.count; k++) {
        if (ht->mig_pos >= ht->old.n)
            break;
        migrate_group(ht, &ht->old.g[ht->mig_pos++]);
    }
    if (ht->old.count == 0)
        table_free(ht, &ht->old);
}

void ht_step(struct eng_ht *ht)
{
    ht_step_n(ht, ht->mig_step);
}

static void migrate_all(struct eng_ht *ht)
{
    ht_step_n(ht, SIZE_MAX);
}

/* Starts moving every entry into a new array of n groups, and does the
 * first step. */
static int start_resize(struct eng_ht *ht, size_t n)
{
    struct ht_table nt;
    size_t spare;

    if (ht->old.g)
        return FC_OK; /* one resize at a time */
    if (table_alloc(ht, &nt, n) != FC_OK)
        return FC_ENOMEM;
    ht_table_assign(&ht->old, &ht->cur);
    ht_table_assign(&ht->cur, &nt);
    ht->mig_pos = 0;
    /* Each call lets through at most one insert and migrates mig_step
     * groups: finish within spare/2 calls. */
    spare = nt.growth_left > ht->old.count + 1
                ? nt.growth_left - ht->old.count - 1
                : 0;
    spare /= 2;
    ht->mig_step = spare ? (ht->old.n + spare - 1) / spare : ht->old.n;
    if (ht->mig_step == 0)
        ht->mig_step = 1;
    ht_step(ht);
    return FC_OK;
}

int ht_insert(struct eng_ht *ht, uint64_t h, eng_entry *e)
{
    unsigned i;
    struct ht_group *g = find_free(&ht->cur, h, &i);

    if (!ht->old.g && ht->cur.n >= PASSED_MIN_GROUPS &&
        ht->cur.passed > ht->cur.n / PASSED_MAX_PART &&
        ht->cur.erased > ht->cur.count) {
        /* Too many groups no lookup stops at: rebuild at the same size. */
        if (start_resize(ht, groups_for(ht, ht_len(ht) + 1)) == FC_OK)
            g = find_free(&ht->cur, h, &i);
    }
    if (ht->cur.growth_left == 0 && ctrl_byte(g->ctrl, i) == CTRL_EMPTY) {
        /* Unreachable while migrating (mig_step); kept as a safety net. */
        migrate_all(ht);
        if (start_resize(ht, groups_for(ht, ht_len(ht) + 1)) != FC_OK)
            return FC_ENOMEM;
        g = find_free(&ht->cur, h, &i);
    }
    place(&ht->cur, g, i, h, e);
    return FC_OK;
}

eng_entry *ht_erase(struct eng_ht *ht, const struct ht_ref *r)
{
    struct ht_table *t = r->t;
    struct ht_group *g = r->g;
    eng_entry *e = g->slot[r->i];

    if (ctrl_byte(g->ctrl, 7) != CTRL_SENTINEL_PASSED) {
        set_ctrl(g, r->i, CTRL_EMPTY);
        t->growth_left++;
    } else {
        set_ctrl(g, r->i, CTRL_DELETED);
    }
    t->count--;
    t->erased++;
    if (t == &ht->old && t->count == 0)
        table_free(ht, &ht->old);
    return e;
}

void ht_maybe_shrink(struct eng_ht *ht)
{
    struct ht_table *t = &ht->cur;
    if (ht->old.g || t->n <= ht->min_groups || t->count >= t->n * HT_SLOTS / 8)
        return;
    (void)start_resize(ht, groups_for(ht, t->count)); /* failure: stay big */
}

size_t ht_longest_probe(const struct ht_table *t)
{
    size_t longest = 0, run = 0, first = 0;
    bool head = true; /* still in the run that starts at group 0 */
    for (size_t gi = 0; t->g && gi < t->n; gi++) {
        if (ctrl_stops(t->g[gi].ctrl)) {
            if (head)
                first = run;
            head = false;
            run = 0;
            continue;
        }
        if (++run > longest)
            longest = run;
    }
    /* The probe wraps: the last run continues into the first. */
    if (!head && run + first > longest)
        longest = run + first;
    return t->g ? longest + 1 : 0;
}
