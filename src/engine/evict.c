/*
 * evict.c — the memory limit: accounting against a shared budget, the
 * access metadata (LRU clock, LFU counter) and the choice of victims.
 *
 * Accounting. A shard's bytes are its entry blocks as allocated (slab
 * chunks at their class size, big blocks at malloc's usable size), its
 * table arrays and the shard struct: the allocator's view of what the data
 * holds, as Redis's used_memory is jemalloc's; the slab's page slack is not
 * in it (it shows in RSS and mem_fragmentation_ratio). Counting pages
 * instead would be wrong for eviction: freeing chunks rarely frees a page,
 * so a limit on pages would evict far more than needed before it moved.
 * Each shard adds its change to the budget's process-wide total (one
 * relaxed atomic add) once the change reaches ENG_ACCT_STEP bytes, so the
 * total is exact to within that much per shard and a write costs an atomic
 * only once per few KiB written.
 *
 * Where the limit applies. There are no per-shard quotas: a shard evicts
 * when the global total is over the limit, at its own next write, from its
 * own keys (the writer pays, no shard waits for another). So a skewed
 * keyspace borrows freely: a shard may hold most of the budget as long as
 * the total fits. A shard that is asked to make room but holds nothing
 * evictable lets an allkeys write through (the others evict on their next
 * writes or on their worker's periodic pass, eng_evict) and refuses under
 * noeviction or a volatile policy (FC_ENOMEM, Redis's OOM error).
 * Expired keys go first: a bounded sweep of this shard runs before any
 * live key is chosen.
 *
 * The default policy: CLOCK (second chance) with three levels. Reads
 * already set the entry's ACCESSED bit (entry.h), a plain store by the
 * shard's owner: no lock, no list to splice, no line dirtied twice (the
 * shard counts the bit's 0 -> 1 changes, a plain add on that rare branch,
 * so that the periodic walk below can skip shards nobody read). Each entry
 * also has a level in two more bits of its flags byte: cold (0), warm (1),
 * hot (2) -- the [tiers] hot/warm/cold of the seed; no pointer, no extra
 * byte. A new key enters cold. The shard keeps a hand over its table's
 * groups (visited in a stride order, hand_group); passing an entry, the
 * hand
 *   - accessed: clears the bit and promotes the entry one level (cold ->
 *     warm -> hot) if that level is under its capacity in this shard
 *     ([tiers] X_capacity / shard count, at least 1) and the pass has
 *     promotions left (promotion_batch per pass), else leaves it there;
 *   - not accessed, warm or hot: demotes it one level;
 *   - not accessed, cold: takes it as the victim (and stays past it).
 * So a key read once between passes survives the next pass (SIEVE's
 * retention rule), a key read on several passes climbs and then needs up
 * to three idle passes to go, and a one-hit wonder of a scan, cold and
 * never read, goes at the hand's first pass: S3-FIFO's small queue (cold)
 * and main queue (warm, hot) as levels instead of queues. Why not SIEVE
 * or S3-FIFO proper: both need insertion order, a FIFO of the entries (a
 * pointer per entry, or a ring plus a back index in each entry to unlink
 * deletes); here the hash table's order stands in for it, so a new key is
 * placed at a random point of the circle instead of just behind the hand
 * (it gets between 0 and 1 lap before its first pass). The levels buy back
 * most of what that loses on scans (bench/evict_vs_redis.py: the scan
 * trace's hit ratio 0.480 -> 0.490, Zipf 0.747 -> 0.753, Redis's LFU
 * 0.509 / 0.754). A pass is one eviction call (a write's make-room, or
 * eng_evict) or one eng_tier_walk: the worker's periodic tick, when a
 * limit is set and the shard was read since the last one, walks the hand
 * over promotion_batch entries (promoting and demoting, never evicting),
 * so that the levels follow the reads even without writes. The cold
 * capacity is reported, not enforced: cold holds whatever is not
 * promoted, bounded by the memory limit. Per-level counts are exact
 * (kept on insert, delete and every level change, shard.c); "hits" per
 * level are the accessed bits the hand finds, one per entry per pass.
 * Other policies leave the levels alone (INFO reports every key cold).
 *
 * The Redis policies: sampled, as Redis does (maxmemory-samples entries of
 * the shard, each from a random group; Redis also keeps a pool of the best
 * candidates across evictions, which we do not), the best victim of the sample
 * evicted: largest idle time (LRU), smallest decayed counter (LFU),
 * nearest expiry (TTL), any (random); volatile-* look only at keys with a
 * TTL. The metadata is Redis's 24 bits (entry.h): the LRU clock in seconds
 * of the monotonic clock, updated on reads and writes under every non-LFU
 * policy at most once a second per entry; under LFU 16 bits of minutes
 * and Redis's logarithmic counter (LFU_INIT_VAL 5, lfu-log-factor,
 * lfu-decay-time), as evict.c's lfu_* below transcribe.
 *
 * Observers. An eviction is a removal reported as FC_MUT_DEL: the WAL logs
 * a delete and replicas apply one. The budget's on_drop callback hears of
 * it (ENG_DROP_MEMORY) and of TTL removals (ENG_DROP_EXPIRED, shard.c).
 */
#include "engine/shard.h"

#include <strings.h>

#define LFU_INIT_VAL 5
#define EXPIRE_FIRST_SLOTS                                                     \
    256 /* a sweep's budget before evicting live keys                          \
         */
#define EVICT_MAX_PER_WRITE 4096
#define SAMPLE_MAX_GROUPS 1024

static const char *const pol_names[ENG_POL_COUNT] = {
    [ENG_POL_NOEVICTION] = "noeviction",
    [ENG_POL_CLOCK] = "clock",
    [ENG_POL_ALLKEYS_LRU] = "allkeys-lru",
    [ENG_POL_ALLKEYS_LFU] = "allkeys-lfu",
    [ENG_POL_VOLATILE_LRU] = "volatile-lru",
    [ENG_POL_VOLATILE_LFU] = "volatile-lfu",
    [ENG_POL_VOLATILE_TTL] = "volatile-ttl",
    [ENG_POL_ALLKEYS_RANDOM] = "allkeys-random",
    [ENG_POL_VOLATILE_RANDOM] = "volatile-random",
};

int eng_policy_parse(const char *name, enum eng_policy *out)
{
    static const struct {
        const char *alias;
        enum eng_policy p;
    } aliases[] = {{"none", ENG_POL_NOEVICTION},
                   {"lru", ENG_POL_ALLKEYS_LRU},
                   {"lfu", ENG_POL_ALLKEYS_LFU}};
    for (int i = 0; i < ENG_POL_COUNT; i++)
        if (!strcasecmp(name, pol_names[i])) {
            *out = (enum eng_policy)i;
            return 0;
        }
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if (!strcasecmp(name, aliases[i].alias)) {
            *out = aliases[i].p;
            return 0;
        }
    return -1;
}

const char *eng_policy_name(enum eng_policy p)
{
    return (unsigned)p < ENG_POL_COUNT ? pol_names[p] : "?";
}

void eng_budget_init(eng_budget *b)
{
    memset(b, 0, sizeof(*b));
    atomic_store(&b->policy, ENG_POL_CLOCK);
    atomic_store(&b->samples, 5);
    atomic_store(&b->lfu_log_factor, 10);
    atomic_store(&b->lfu_decay_time, 1);
    atomic_store(&b->enforce, true);
    eng_budget_set_tiers(b, 2048, 8192, 65536, 256, 1);
}

void eng_budget_set_tiers(eng_budget *b, uint64_t hot, uint64_t warm,
                          uint64_t cold, uint32_t promotion_batch,
                          uint32_t nshards)
{
    uint64_t total[ENG_TIERS] = {cold, warm, hot};
    if (!nshards)
        nshards = 1;
    for (int l = 0; l < ENG_TIERS; l++) {
        if (!total[l])
            continue;
        uint64_t per = total[l] / nshards;
        per = per < 1 ? 1 : per > UINT32_MAX ? UINT32_MAX : per;
        atomic_store(&b->tier_cap[l], (uint32_t)per);
    }
    if (promotion_batch)
        atomic_store(&b->promotion_batch, promotion_batch);
}

void eng_shard_set_budget(eng_shard *sh, eng_budget *b)
{
    if (sh->budget)
        shard_account_slow(sh, -sh->flushed);
    sh->budget = b;
    sh->flushed = 0;
    if (b)
        shard_account_slow(sh, (int64_t)shard_used(sh));
}

uint64_t eng_budget_used(const eng_budget *b)
{
    int64_t u = atomic_load_explicit(&b->used, memory_order_relaxed);
    return u > 0 ? (uint64_t)u : 0;
}

uint64_t eng_budget_peak(const eng_budget *b)
{
    int64_t p = atomic_load_explicit(&b->peak, memory_order_relaxed);
    return p > 0 ? (uint64_t)p : 0;
}

uint64_t eng_evicted(const eng_shard *sh)
{
    return sh->evicted;
}

void shard_account_slow(eng_shard *sh, int64_t delta)
{
    eng_budget *b = sh->budget;
    int64_t now =
        atomic_fetch_add_explicit(&b->used, delta, memory_order_relaxed) +
        delta;
    int64_t peak = atomic_load_explicit(&b->peak, memory_order_relaxed);
    while (now > peak && !atomic_compare_exchange_weak_explicit(
                             &b->peak, &peak, now, memory_order_relaxed,
                             memory_order_relaxed))
        ;
    sh->flushed += delta;
}

/* Over the limit: by the budget's total, or by it plus what this shard
 * has not added yet. Either view counts, so that a shard whose own
 * unadded change is negative still sees a total that is over (it then
 * evicts at most ENG_ACCT_STEP bytes more than it had to). */
static bool over_limit(const eng_shard *sh)
{
    uint64_t lim =
        atomic_load_explicit(&sh->budget->limit, memory_order_relaxed);
    if (!lim)
        return false;
    int64_t used =
        atomic_load_explicit(&sh->budget->used, memory_order_relaxed);
    int64_t d = (int64_t)shard_used(sh) - sh->flushed;
    return used > (int64_t)lim || used + d > (int64_t)lim;
}

void shard_account_freed(eng_shard *sh)
{
    uint64_t lim =
        atomic_load_explicit(&sh->budget->limit, memory_order_relaxed);
    int64_t d = (int64_t)shard_used(sh) - sh->flushed;
    /* While the total is over the limit, what a delete frees counts at
     * once: under noeviction the next write must see the room it made. */
    if (d && lim &&
        atomic_load_explicit(&sh->budget->used, memory_order_relaxed) >
            (int64_t)lim)
        shard_account_slow(sh, d);
    else
        shard_account(sh);
}

static uint64_t rng_next(eng_shard *sh)
{
    uint64_t x = sh->rng; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    sh->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* --- LFU (Redis's evict.c, transcribed) --- */

static uint32_t lfu_minutes(eng_shard *sh, const int64_t *now)
{
    return (shard_clock(sh, now) / 60) & 0xffffu;
}

static unsigned lfu_decayed(const eng_shard *sh, uint32_t meta, uint32_t min)
{
    uint32_t ldt = meta >> 8, counter = meta & 0xffu;
    uint32_t elapsed = min >= ldt ? min - ldt : 65535 - ldt + min;
    int decay =
        atomic_load_explicit(&sh->budget->lfu_decay_time, memory_order_relaxed);
    uint32_t periods = decay > 0 ? elapsed / (uint32_t)decay : 0;
    return periods >= counter ? 0 : counter - periods;
}

static unsigned lfu_incr(eng_shard *sh, unsigned counter)
{
    if (counter == 255)
        return 255;
    double r = (double)(rng_next(sh) >> 11) / (double)(1ULL << 53);
    double base = counter > LFU_INIT_VAL ? counter - LFU_INIT_VAL : 0;
    int factor =
        atomic_load_explicit(&sh->budget->lfu_log_factor, memory_order_relaxed);
    double p = 1.0 / (base * factor + 1);
    return r < p ? counter + 1 : counter;
}

void shard_lfu_touch(eng_shard *sh, eng_entry *e, const int64_t *now)
{
    uint32_t min = lfu_minutes(sh, now);
    unsigned c = lfu_incr(sh, lfu_decayed(sh, ent_meta(e), min));
    ent_set_meta(e, min << 8 | c);
}

void shard_meta_init(eng_shard *sh, eng_entry *e, const int64_t *now)
{
    if (!sh->budget)
        return;
    if (shard_pol_lfu(
            atomic_load_explicit(&sh->budget->policy, memory_order_relaxed)))
        ent_set_meta(e, lfu_minutes(sh, now) << 8 | LFU_INIT_VAL);
    else
        ent_set_meta(e, shard_clock(sh, now));
}

uint64_t eng_entry_idle_s(const eng_shard *sh, const eng_entry *e, int64_t now)
{
    uint32_t c = (now != ENG_NOW_LAZY ? (uint32_t)(now / 1000) : sh->clock_s) &
                 SHARD_LRU_MASK;
    return (c - ent_meta(e)) & SHARD_LRU_MASK;
}

unsigned eng_entry_freq(const eng_shard *sh, const eng_entry *e, int64_t now)
{
    if (!sh->budget)
        return 0;
    uint32_t s = now != ENG_NOW_LAZY ? (uint32_t)(now / 1000) : sh->clock_s;
    return lfu_decayed(sh, ent_meta(e), (s / 60) & 0xffffu);
}

/* --- victims --- */

/* The table victims come from. evict_loop finishes any resize first: the
 * keys still waiting in `old` are the oldest ones, and a sample of them
 * alone (or a hand lapping that small array) would not be a sample of the
 * shard. Finishing costs one pass over `old`, once per resize. */
static struct ht_table *victim_table(eng_shard *sh)
{
    return &sh->ht.cur;
}

static bool pol_volatile(int pol)
{
    return pol == ENG_POL_VOLATILE_LRU || pol == ENG_POL_VOLATILE_LFU ||
           pol == ENG_POL_VOLATILE_TTL || pol == ENG_POL_VOLATILE_RANDOM;
}

/* Higher = better victim. */
static uint64_t victim_score(eng_shard *sh, int pol, const eng_entry *e,
                             int64_t *now)
{
    switch (pol) {
    case ENG_POL_ALLKEYS_LRU:
    case ENG_POL_VOLATILE_LRU:
        return eng_entry_idle_s(sh, e, *now);
    case ENG_POL_ALLKEYS_LFU:
    case ENG_POL_VOLATILE_LFU:
        return 255 - lfu_decayed(sh, ent_meta(e), lfu_minutes(sh, now));
    case ENG_POL_VOLATILE_TTL:
        return UINT64_MAX - (uint64_t)ent_expire(e);
    default:
        return 0;
    }
}

/* One qualifying entry from the first group at or after a random one
 * that has any, picked at random inside it. False when none qualifies in
 * SAMPLE_MAX_GROUPS groups. */
static bool sample_one(eng_shard *sh, struct ht_table *t, bool vol,
                       struct ht_ref *r)
{
    size_t gi = (size_t)(rng_next(sh) % t->n);
    for (size_t walked = 0; walked < t->n && walked < SAMPLE_MAX_GROUPS;
         walked++) {
        struct ht_group *g = &t->g[gi];
        uint64_t ok = 0;
        for (uint64_t m = ctrl_full(g->ctrl); m; m &= m - 1)
            if (!vol || ent_has_ttl(g->slot[ctrl_first(m)]))
                ok |= m & -m;
        if (ok) {
            unsigned k =
                (unsigned)(rng_next(sh) % (uint64_t)__builtin_popcountll(ok));
            while (k--)
                ok &= ok - 1;
            *r = (struct ht_ref){.t = t, .g = g, .i = ctrl_first(ok)};
            return true;
        }
        if (++gi == t->n)
            gi = 0;
    }
    return false;
}

/* The best of `samples` entries drawn one at a time from random groups.
 * Independent draws matter: a sample of neighbouring slots keeps coming
 * back to groups its earlier victims were taken from, which hold only the
 * survivors by then (the keys the policy wants to keep). */
static bool pick_sampled(eng_shard *sh, int pol, int64_t *now, struct ht_ref *r)
{
    struct ht_table *t = victim_table(sh);
    bool vol = pol_volatile(pol), found = false;
    int want = atomic_load_explicit(&sh->budget->samples, memory_order_relaxed);
    uint64_t best = 0;

    if (!t->count || (vol && !sh->expires))
        return false;
    if (pol == ENG_POL_ALLKEYS_RANDOM || pol == ENG_POL_VOLATILE_RANDOM)
        want = 1;
    for (int n = 0; n < want; n++) {
        struct ht_ref c;
        if (!sample_one(sh, t, vol, &c))
            break;
        uint64_t sc = victim_score(sh, pol, c.g->slot[c.i], now);
        if (!found || sc > best) {
            found = true;
            best = sc;
            *r = c;
        }
    }
    return found;
}

/* The hand passes e (the default policy's rule, see the top): an
 * accessed entry loses its bit and moves up a level when that level has
 * room in this shard and the pass has promotions left; an idle one moves
 * down a level; an idle cold one is the victim (true). */
static bool hand_pass(eng_shard *sh, eng_entry *e)
{
    unsigned lvl = ent_level(e);
    if (e->flags & ENT_F_ACCESSED) {
        e->flags &= (uint8_t)~ENT_F_ACCESSED;
        sh->tier_hits[lvl]++;
        if (lvl < ENG_TIER_HOT && sh->promo_left &&
            sh->tier_len[lvl + 1] <
                atomic_load_explicit(&sh->budget->tier_cap[lvl + 1],
                                     memory_order_relaxed)) {
            ent_set_level(e, lvl + 1);
            sh->tier_len[lvl]--;
            sh->tier_len[lvl + 1]++;
            sh->tier_promos[lvl + 1]++;
            sh->promo_left--;
        }
        return false;
    }
    if (lvl == ENG_TIER_COLD)
        return true;
    /* Down one level, or to cold when the level below is full (so that no
     * level ever holds more than its capacity). */
    unsigned to = lvl - 1;
    if (to != ENG_TIER_COLD &&
        sh->tier_len[to] >= atomic_load_explicit(&sh->budget->tier_cap[to],
                                                 memory_order_relaxed))
        to = ENG_TIER_COLD;
    ent_set_level(e, to);
    sh->tier_len[lvl]--;
    sh->tier_len[to]++;
    sh->tier_demos[lvl]++;
    return false;
}

static size_t gcd(size_t a, size_t b)
{
    while (b) {
        size_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The order the hand visits groups in: step k is group k * stride mod n,
 * with the stride coprime to n (about n / phi), so one turn still visits
 * every group once, but the groups visited one after the other lie far
 * apart. Why not table order: the hand empties the groups it passes, and
 * every insert lands at a random home, so in table order the groups just
 * ahead of the hand, the longest unvisited, fill up and overflow into each
 * other, and a lookup of an absent key (every SET of a new key) probes the
 * whole run of full groups. Measured (bench/evict_vs_redis.py, SET -P 16
 * under a limit): table order ran at 0.28 of no limit, with 75% of the
 * time in that probe; spread, the overflow of a group lands next to one
 * the hand visited at some random earlier time. */
static size_t hand_group(eng_shard *sh, size_t n, size_t step)
{
    if (sh->hand_n != n) {
        size_t s = (size_t)((double)n * 0.6180339887) | 1;
        while (s > 1 && gcd(s, n) != 1)
            s++;
        sh->hand_n = n;
        sh->hand_stride = s % n ? s % n : 1;
        sh->hand_step = SIZE_MAX - 1; /* no cached step (nor its next) */
    }
    /* The hand moves one step at a time: one add instead of a division. */
    if (step == sh->hand_step + 1) {
        size_t g = sh->hand_g + sh->hand_stride;
        sh->hand_g = g >= n ? g - n : g;
    } else if (step != sh->hand_step) {
        sh->hand_g = (size_t)(((unsigned __int128)step * sh->hand_stride) % n);
    }
    sh->hand_step = step;
    return sh->hand_g;
}

/* Moves the hand over at most `visits` entries (SIZE_MAX: until a
 * victim), applying hand_pass to each. With want_victim, stops at the
 * first victim (in *r, true); otherwise passes over victims too. The hand
 * is a position (step * 8 + slot; hand_group gives a step's group) and
 * moves past the victim, so that a bit it has just cleared is not seen
 * again before a whole turn. At most four turns: the first clears every
 * bit, the next two bring the hot entries down to cold, the fourth finds
 * a cold idle one. */
static bool hand_walk(eng_shard *sh, size_t visits, bool want_victim,
                      struct ht_ref *r)
{
    struct ht_table *t = victim_table(sh);
    if (!t->count)
        return false;
    for (size_t walked = 0; walked <= 4 * t->n + 1; walked++) {
        size_t step = sh->hand >> 3;
        unsigned from = (unsigned)(sh->hand & 7);
        if (step >= t->n) {
            step = 0;
            from = 0;
        }
        struct ht_group *g = &t->g[hand_group(sh, t->n, step)];
        uint64_t m = ctrl_full(g->ctrl) & ~((1ULL << (8 * from)) - 1);
        for (; m; m &= m - 1) {
            unsigned i = ctrl_first(m);
            if (!visits) {
                sh->hand = (step << 3) + i;
                return false;
            }
            visits--;
            if (!hand_pass(sh, g->slot[i]) || !want_victim)
                continue;
            *r = (struct ht_ref){.t = t, .g = g, .i = i};
            sh->hand = (step << 3) + i + 1;
            return true;
        }
        sh->hand = (step + 1) << 3;
    }
    return false;
}

/* CLOCK with levels: see the top. */
static bool pick_clock(eng_shard *sh, struct ht_ref *r)
{
    return hand_walk(sh, SIZE_MAX, true, r);
}

size_t eng_tier_walk(eng_shard *sh)
{
    eng_budget *b = sh->budget;
    if (!b || sh->marks == sh->marks_seen ||
        !atomic_load_explicit(&b->limit, memory_order_relaxed) ||
        atomic_load_explicit(&b->policy, memory_order_relaxed) !=
            ENG_POL_CLOCK ||
        !atomic_load_explicit(&b->enforce, memory_order_relaxed) ||
        sh->ht.old.g)
        return 0;
    sh->marks_seen = sh->marks;
    size_t batch =
        atomic_load_explicit(&b->promotion_batch, memory_order_relaxed);
    size_t n = batch < sh->ht.cur.count ? batch : sh->ht.cur.count;
    sh->promo_left = (uint32_t)batch;
    hand_walk(sh, n, false, NULL);
    return n;
}

void eng_tier_stats_add(const eng_shard *sh, eng_tier_stats sum[ENG_TIERS])
{
    bool levels = sh->budget &&
                  atomic_load_explicit(&sh->budget->policy,
                                       memory_order_relaxed) == ENG_POL_CLOCK;
    for (int l = 0; l < ENG_TIERS; l++) {
        if (levels)
            sum[l].keys += sh->tier_len[l];
        else if (l == ENG_TIER_COLD)
            sum[l].keys += ht_len(&sh->ht);
        if (sh->budget)
            sum[l].capacity += atomic_load_explicit(&sh->budget->tier_cap[l],
                                                    memory_order_relaxed);
        sum[l].hits += sh->tier_hits[l];
        sum[l].promotions += sh->tier_promos[l];
        sum[l].demotions += sh->tier_demos[l];
    }
}

static void evict_one(eng_shard *sh, const struct ht_ref *r)
{
    eng_entry *e = shard_remove(sh, r, FC_MUT_DEL);
    if (sh->budget->on_drop) {
        struct ent_view v;
        ent_decode(e, &v);
        sh->budget->on_drop(sh->budget->on_drop_ctx, sh->index, v.key, v.klen,
                            ENG_DROP_MEMORY);
    }
    shard_free_entry(sh, e);
    sh->evicted++;
    atomic_fetch_add_explicit(&sh->budget->evicted, 1, memory_order_relaxed);
}

/* Evicts while over the limit, at most max keys. *removed counts them (and
 * the expired keys of the first pass). False when a key had to go and the
 * policy found none here. */
static bool evict_loop(eng_shard *sh, size_t max, int64_t *now, size_t *removed)
{
    int pol = atomic_load_explicit(&sh->budget->policy, memory_order_relaxed);
    bool ok = true;

    sh->promo_left = atomic_load_explicit(&sh->budget->promotion_batch,
                                          memory_order_relaxed);
    if (sh->expires) {
        *removed += eng_sweep(sh, EXPIRE_FIRST_SLOTS, shard_now(now));
        shard_account(sh);
    }
    while (*removed < max && over_limit(sh)) {
        struct ht_ref r;
        if (sh->ht.old.g)
            ht_step_n(&sh->ht, sh->ht.old.n);
        bool got;
        if (pol == ENG_POL_NOEVICTION)
            got = false;
        else if (pol == ENG_POL_CLOCK)
            got = pick_clock(sh, &r);
        else
            got = pick_sampled(sh, pol, now, &r);
        if (!got) {
            ok = false;
            break;
        }
        evict_one(sh, &r);
        (*removed)++;
        shard_account(sh);
    }
    ht_maybe_shrink(&sh->ht);
    shard_account(sh);
    return ok;
}

int shard_make_room_slow(eng_shard *sh, int64_t *now)
{
    size_t removed = 0;
    if (!atomic_load_explicit(&sh->budget->enforce, memory_order_relaxed) ||
        !over_limit(sh))
        return FC_OK;
    if (evict_loop(sh, EVICT_MAX_PER_WRITE, now, &removed))
        return FC_OK;
    int pol = atomic_load_explicit(&sh->budget->policy, memory_order_relaxed);
    /* Nothing evictable here: allkeys policies let the write through (see
     * the top); noeviction and volatile ones refuse it, after adding this
     * shard's exact figure to the total, so that the other shards see the
     * total over the limit too (as Redis refuses every growing write
     * once used_memory is over). */
    if (pol == ENG_POL_NOEVICTION || pol_volatile(pol)) {
        int64_t d = (int64_t)shard_used(sh) - sh->flushed;
        if (d)
            shard_account_slow(sh, d);
        return FC_ENOMEM;
    }
    return FC_OK;
}

size_t eng_evict(eng_shard *sh, size_t max, int64_t now)
{
    size_t removed = 0;
    if (!sh->budget)
        return 0;
    shard_account(sh);
    if (!atomic_load_explicit(&sh->budget->enforce, memory_order_relaxed) ||
        !over_limit(sh))
        return 0;
    evict_loop(sh, max, &now, &removed);
    return removed;
}
