/*
 * test_evict_tiers.c — the default policy's hot/warm/cold levels
 * (engine/evict.c): keys read on two passes of the hand survive a scan of
 * one-shot keys that plain CLOCK lets push them out; no level goes above
 * its capacity; a hot key goes down one level per idle pass before it can
 * be evicted; the per-level counts equal a recount over the table after
 * random inserts, deletes, overwrites, edits, evictions and expiries; the
 * periodic walk does nothing without hits.
 *
 * Time is the `now` argument; the shard's generator is seeded from its
 * index: every run makes the same moves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/engine.h"
#include "engine/shard.h"

#define T0 100000000 /* ms */
#define VLEN 100

static uint64_t H(const char *k)
{
    return eng_hash(k, strlen(k));
}

static int put(eng_shard *sh, const char *k, size_t vlen, int64_t exp,
               int64_t now)
{
    char v[512];
    memset(v, 'v', sizeof(v));
    return eng_set(sh, H(k), k, strlen(k), v, vlen, exp, 0, now, NULL, NULL);
}

static eng_entry *peek(eng_shard *sh, const char *k)
{
    return eng_peek(sh, H(k), k, strlen(k), T0);
}

static void touch(eng_shard *sh, const char *k)
{
    assert_non_null(eng_get(sh, H(k), k, strlen(k), T0));
}

static const char *key(char *buf, const char *pfx, int i)
{
    snprintf(buf, 32, "%s:%04d", pfx, i);
    return buf;
}

typedef struct fixture {
    eng_budget b;
    eng_shard *sh;
} fixture;

static fixture *fx_new(uint64_t hot, uint64_t warm, uint32_t batch)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    eng_budget_init(&f->b);
    eng_budget_set_tiers(&f->b, hot, warm, 1000, batch, 1);
    f->sh = eng_shard_new(0, 0, NULL);
    assert_non_null(f->sh);
    eng_shard_set_budget(f->sh, &f->b);
    return f;
}

static void fx_free(fixture *f)
{
    eng_shard_free(f->sh);
    free(f);
}

static void limit_here(fixture *f)
{
    eng_sweep(f->sh, 1 << 20, T0); /* ends a resize */
    atomic_store(&f->b.limit, (uint64_t)eng_memory(f->sh));
}

static void stats(fixture *f, eng_tier_stats t[ENG_TIERS])
{
    memset(t, 0, sizeof(eng_tier_stats) * ENG_TIERS);
    eng_tier_stats_add(f->sh, t);
}

/* Entries per level, counted over both tables. */
static void recount(eng_shard *sh, size_t n[ENG_TIERS])
{
    struct ht_table *ts[2] = {&sh->ht.cur, &sh->ht.old};
    memset(n, 0, sizeof(size_t) * ENG_TIERS);
    for (int k = 0; k < 2; k++)
        for (size_t gi = 0; ts[k]->g && gi < ts[k]->n; gi++) {
            struct ht_group *g = &ts[k]->g[gi];
            for (uint64_t m = ctrl_full(g->ctrl); m; m &= m - 1) {
                unsigned l = ent_level(g->slot[ctrl_first(m)]);
                assert_true(l < ENG_TIERS);
                n[l]++;
            }
        }
}

static void check_counts(fixture *f)
{
    eng_tier_stats t[ENG_TIERS];
    size_t n[ENG_TIERS];
    stats(f, t);
    recount(f->sh, n);
    for (int l = 0; l < ENG_TIERS; l++)
        assert_int_equal(t[l].keys, n[l]);
    assert_int_equal(n[0] + n[1] + n[2], eng_len(f->sh));
    assert_true(t[ENG_TIER_HOT].keys <= t[ENG_TIER_HOT].capacity);
    assert_true(t[ENG_TIER_WARM].keys <= t[ENG_TIER_WARM].capacity);
}

/* 20 keys read on two laps of the hand, then a scan of one-shot keys
 * one and a half times the cache's size: the 20 are hot by then and need
 * three idle passes to go, so all survive; plain second chance (the old
 * default) evicts them on the scan's second pass. */
static void test_read_twice_survives_scan(void **state)
{
    fixture *f = fx_new(50, 50, 256);
    char k[32];
    (void)state;
    for (int i = 0; i < 100; i++)
        assert_int_equal(put(f->sh, key(k, "k", i), VLEN, 0, T0), FC_OK);
    limit_here(f);
    /* Read every half lap of the hand: each pass finds them accessed. */
    for (int r = 0; r < 6; r++) {
        for (int i = 0; i < 20; i++)
            touch(f->sh, key(k, "k", i));
        for (int i = 0; i < 50; i++)
            assert_int_equal(put(f->sh, key(k, "a", r * 50 + i), VLEN, 0, T0),
                             FC_OK);
    }
    eng_tier_stats t[ENG_TIERS];
    stats(f, t);
    /* (A pass can come round twice in one half lap when victims are
     * scarce: a key may be a level lower.) */
    assert_true(t[ENG_TIER_HOT].keys >= 15);
    for (int i = 0; i < 20; i++)
        assert_true(ent_level(peek(f->sh, key(k, "k", i))) >= ENG_TIER_WARM);
    uint64_t before = eng_evicted(f->sh);
    for (int i = 0; i < 150; i++)
        assert_int_equal(put(f->sh, key(k, "s", i), VLEN, 0, T0), FC_OK);
    assert_true(eng_evicted(f->sh) - before >= 140);
    for (int i = 0; i < 20; i++)
        assert_non_null(peek(f->sh, key(k, "k", i)));
    /* The scan's own keys went first: most of them are gone. */
    int kept = 0;
    for (int i = 0; i < 150; i++)
        kept += peek(f->sh, key(k, "s", i)) != NULL;
    assert_true(kept <= 80);
    check_counts(f);
    fx_free(f);
}

/* Every key is read between writes, so every pass wants to promote: the
 * levels fill up to their capacities and never above. */
static void test_levels_fill_to_capacity(void **state)
{
    fixture *f = fx_new(5, 10, 256);
    char k[32];
    eng_tier_stats t[ENG_TIERS];
    (void)state;
    for (int i = 0; i < 100; i++)
        assert_int_equal(put(f->sh, key(k, "k", i), VLEN, 0, T0), FC_OK);
    limit_here(f);
    for (int n = 0; n < 300; n++) {
        for (int i = 0; i < 100; i++) {
            key(k, "k", i);
            (void)eng_get(f->sh, H(k), k, strlen(k), T0);
        }
        assert_int_equal(put(f->sh, key(k, "new", n), VLEN, 0, T0), FC_OK);
        stats(f, t);
        assert_true(t[ENG_TIER_HOT].keys <= 5);
        assert_true(t[ENG_TIER_WARM].keys <= 10);
    }
    stats(f, t);
    assert_int_equal(t[ENG_TIER_HOT].keys, 5);
    assert_int_equal(t[ENG_TIER_WARM].keys, 10);
    assert_true(t[ENG_TIER_WARM].promotions >= 15);
    assert_true(t[ENG_TIER_HOT].promotions >= 5);
    assert_true(t[ENG_TIER_COLD].hits > 0);
    check_counts(f);
    fx_free(f);
}

/* One key made hot, then left idle: each lap of the periodic walk (driven
 * by a read of another key, since the walk skips shards nobody read)
 * takes it one level down, and it is still there after two. */
static void test_hot_key_demotes_when_idle(void **state)
{
    fixture *f = fx_new(10, 10, 1000);
    char k[32];
    (void)state;
    for (int i = 0; i < 50; i++)
        assert_int_equal(put(f->sh, key(k, "k", i), VLEN, 0, T0), FC_OK);
    atomic_store(&f->b.limit, (uint64_t)eng_memory(f->sh) * 10);
    /* Nobody read anything: the walk does nothing. */
    assert_int_equal(eng_tier_walk(f->sh), 0);
    for (int lap = 0; lap < 2; lap++) {
        touch(f->sh, "k:0007");
        assert_int_equal(eng_tier_walk(f->sh), 50); /* one whole lap */
    }
    eng_entry *e = peek(f->sh, "k:0007");
    assert_int_equal(ent_level(e), ENG_TIER_HOT);
    unsigned want[] = {ENG_TIER_WARM, ENG_TIER_COLD, ENG_TIER_COLD};
    for (int lap = 0; lap < 3; lap++) {
        touch(f->sh, "k:0001"); /* the pacer */
        assert_int_equal(eng_tier_walk(f->sh), 50);
        e = peek(f->sh, "k:0007");
        assert_non_null(e);
        assert_int_equal(ent_level(e), want[lap]);
    }
    eng_tier_stats t[ENG_TIERS];
    stats(f, t);
    assert_true(t[ENG_TIER_HOT].demotions >= 1);
    assert_true(t[ENG_TIER_WARM].demotions >= 1);
    /* Now cold and idle: under a limit it is a victim like any other. */
    check_counts(f);
    fx_free(f);
}

/* The walk promotes at most promotion_batch entries per pass. */
static void test_promotion_batch_bounds_a_pass(void **state)
{
    fixture *f = fx_new(100, 100, 7);
    char k[32];
    eng_tier_stats t[ENG_TIERS];
    (void)state;
    for (int i = 0; i < 50; i++)
        assert_int_equal(put(f->sh, key(k, "k", i), VLEN, 0, T0), FC_OK);
    atomic_store(&f->b.limit, (uint64_t)eng_memory(f->sh) * 10);
    for (int i = 0; i < 50; i++)
        touch(f->sh, key(k, "k", i));
    assert_int_equal(eng_tier_walk(f->sh), 7);
    stats(f, t);
    assert_int_equal(t[ENG_TIER_WARM].keys, 7);
    assert_int_equal(t[ENG_TIER_WARM].promotions, 7);
    /* No limit: no walk at all. */
    atomic_store(&f->b.limit, 0);
    touch(f->sh, "k:0001");
    assert_int_equal(eng_tier_walk(f->sh), 0);
    fx_free(f);
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random operations under a limit, with reads and walks: the counts kept
 * on every insert, delete and level change equal a recount. */
static void test_counts_match_recount(void **state)
{
    fixture *f = fx_new(20, 40, 16);
    char k[32];
    uint64_t s = 12345;
    int64_t now = T0;
    (void)state;
    for (int i = 0; i < 300; i++)
        assert_int_equal(put(f->sh, key(k, "k", i), VLEN, 0, now), FC_OK);
    limit_here(f);
    for (int step = 0; step < 20000; step++) {
        key(k, "k", (int)(rnd(&s) % 600));
        uint64_t h = H(k);
        size_t len;
        int64_t r;
        switch (rnd(&s) % 12) {
        case 0:
        case 1:
        case 2:
        case 3: /* reads dominate */
            (void)eng_get(f->sh, h, k, strlen(k), now);
            break;
        case 4: /* insert or overwrite, sizes that fit in place or not */
            (void)put(f->sh, k, 20 + rnd(&s) % 400, 0, now);
            break;
        case 5:
            (void)eng_del(f->sh, h, k, strlen(k), now, NULL);
            break;
        case 6: /* a TTL soon, or one already past */
            (void)eng_set_expire(f->sh, h, k, strlen(k),
                                 rnd(&s) % 2 ? now + 50 : now - 1, now);
            break;
        case 7:
            (void)eng_append(f->sh, h, k, strlen(k), "xyz", 3, now, &len);
            break;
        case 8:
            (void)eng_setrange(f->sh, h, k, strlen(k), rnd(&s) % 300, "ab", 2,
                               now, &len);
            break;
        case 9:
            (void)put(f->sh, k, VLEN, now + 30, now);
            break;
        case 10:
            now += 20; /* TTLs pass; sweeps and lazy expiry take them */
            eng_sweep(f->sh, 64, now);
            break;
        default:
            (void)eng_incrby(f->sh, h, k, strlen(k), 1, now, &r);
            eng_tier_walk(f->sh);
            break;
        }
        if (step % 97 == 0)
            check_counts(f);
    }
    check_counts(f);
    eng_tier_stats t[ENG_TIERS];
    stats(f, t);
    assert_true(eng_evicted(f->sh) > 0);
    assert_true(t[ENG_TIER_WARM].promotions > 0);
    assert_true(t[ENG_TIER_WARM].demotions > 0);
    eng_clear(f->sh);
    check_counts(f);
    fx_free(f);
}

/* Other policies leave the levels alone and report every key as cold. */
static void test_other_policies_report_cold(void **state)
{
    fixture *f = fx_new(10, 10, 256);
    char k[32];
    eng_tier_stats t[ENG_TIERS];
    (void)state;
    atomic_store(&f->b.policy, ENG_POL_ALLKEYS_LRU);
    for (int i = 0; i < 50; i++)
        assert_int_equal(put(f->sh, key(k, "k", i), VLEN, 0, T0), FC_OK);
    limit_here(f);
    for (int n = 0; n < 100; n++) {
        (void)eng_get(f->sh, H("k:0003"), "k:0003", 6, T0);
        assert_int_equal(put(f->sh, key(k, "new", n), VLEN, 0, T0), FC_OK);
        assert_int_equal(eng_tier_walk(f->sh), 0);
    }
    stats(f, t);
    assert_int_equal(t[ENG_TIER_COLD].keys, eng_len(f->sh));
    assert_int_equal(t[ENG_TIER_WARM].keys + t[ENG_TIER_HOT].keys, 0);
    assert_int_equal(t[ENG_TIER_WARM].promotions, 0);
    fx_free(f);
}

static void test_capacity_split_among_shards(void **state)
{
    eng_budget b;
    (void)state;
    eng_budget_init(&b);
    eng_budget_set_tiers(&b, 409, 13107, 8192, 256, 64);
    assert_int_equal(atomic_load(&b.tier_cap[ENG_TIER_HOT]), 6);
    assert_int_equal(atomic_load(&b.tier_cap[ENG_TIER_WARM]), 204);
    assert_int_equal(atomic_load(&b.tier_cap[ENG_TIER_COLD]), 128);
    eng_budget_set_tiers(&b, 3, 0, 0, 0, 64); /* at least 1; 0 keeps */
    assert_int_equal(atomic_load(&b.tier_cap[ENG_TIER_HOT]), 1);
    assert_int_equal(atomic_load(&b.tier_cap[ENG_TIER_WARM]), 204);
    assert_int_equal(atomic_load(&b.promotion_batch), 256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_twice_survives_scan),
        cmocka_unit_test(test_levels_fill_to_capacity),
        cmocka_unit_test(test_hot_key_demotes_when_idle),
        cmocka_unit_test(test_promotion_batch_bounds_a_pass),
        cmocka_unit_test(test_counts_match_recount),
        cmocka_unit_test(test_other_policies_report_cold),
        cmocka_unit_test(test_capacity_split_among_shards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
