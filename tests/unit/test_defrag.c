/*
 * test_defrag.c — incremental defragmentation of a shard's slab (slab.c's
 * top comment, engine.h's eng_defrag): after a fill of mixed sizes and a
 * random 70% deleted, the steps bring the pages' resident bytes within 10%
 * of the live chunks (entries over 512 B are malloc's and not counted) and free
 * the emptied pages, while every remaining key reads back its exact value
 * (strings, and hashes, lists, sets and zsets made through the commands, whose
 * object pointer moves with the entry); detached entries stay put; a batched
 * lookup's hint taken before a move is not trusted after it; moves made while
 * an incremental resize holds two tables repoint slots in both; and classes
 * left too rare for a page move to malloc.
 */
#include <stdio.h>

#include "engine/shard.h"
#include "test_commands.h"

#define NOW TH_NOW
#define VMAX 2000

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static size_t key_of(char *k, size_t cap, unsigned i)
{
    return (size_t)snprintf(k, cap, "key:%u", i);
}

/* Key i's value: its length and bytes follow from i alone. Four in five
 * are slab entries (up to 480 B), the others malloc's (513..2000 B). */
static size_t val_of(uint8_t *v, unsigned i)
{
    uint64_t s = 0x9E3779B97F4A7C15ULL * (i + 1), r = rnd(&s);
    size_t n = r % 5 ? 1 + (r >> 8) % 480 : 513 + (r >> 8) % (VMAX - 512);
    for (size_t j = 0; j < n; j++)
        v[j] = (uint8_t)(i * 31 + j * 7);
    return n;
}

static void set_key(eng_shard *sh, unsigned i)
{
    char k[32];
    uint8_t v[VMAX];
    size_t kl = key_of(k, sizeof(k), i), vl = val_of(v, i);
    assert_int_equal(
        eng_set(sh, eng_hash(k, kl), k, kl, v, vl, 0, 0, NOW, NULL, NULL),
        FC_OK);
}

static void del_key(eng_shard *sh, unsigned i)
{
    char k[32];
    size_t kl = key_of(k, sizeof(k), i);
    assert_int_equal(eng_del(sh, eng_hash(k, kl), k, kl, NOW, NULL), FC_OK);
}

/* eng_peek: finds in both tables without a migration step. */
static void expect_key(eng_shard *sh, unsigned i)
{
    char k[32];
    uint8_t v[VMAX];
    size_t kl = key_of(k, sizeof(k), i), vl = val_of(v, i), len;
    eng_entry *e = eng_peek(sh, eng_hash(k, kl), k, kl, NOW);
    assert_non_null(e);
    const uint8_t *p = eng_entry_value(e, &len);
    assert_int_equal(len, vl);
    assert_memory_equal(p, v, vl);
}

static eng_mem_stats stats(const eng_shard *sh)
{
    eng_mem_stats m = {0};
    eng_mem_stats_add(sh, &m);
    return m;
}

static double resident_ratio(const eng_shard *sh)
{
    eng_mem_stats m = stats(sh);
    return (double)m.slab_resident_bytes / (double)m.slab_live_bytes;
}

/* Steps until one finds nothing to do; returns the steps taken. */
static unsigned defrag_all(eng_shard *sh, size_t budget)
{
    unsigned steps = 0;
    while (eng_defrag(sh, budget) > 0) {
        steps++;
        assert_true(steps < 100000);
    }
    return steps;
}

/* Shuffled 0..n-1. */
static unsigned *perm(unsigned n, uint64_t seed)
{
    unsigned *p = malloc(n * sizeof(*p));
    assert_non_null(p);
    for (unsigned i = 0; i < n; i++)
        p[i] = i;
    for (unsigned i = n - 1; i > 0; i--) {
        unsigned j = (unsigned)(rnd(&seed) % (i + 1)), t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
    return p;
}

static void make_typed(th *t, unsigned n)
{
    char k[32], f[32], v[64];
    for (unsigned i = 0; i < n; i++) {
        snprintf(f, sizeof(f), "f%u", i);
        snprintf(v, sizeof(v), "value-%u", i * 7);
        snprintf(k, sizeof(k), "h:%u", i);
        EXPECT(t, ":1\r\n", "HSET", k, f, v);
        snprintf(k, sizeof(k), "l:%u", i);
        EXPECT(t, ":2\r\n", "RPUSH", k, v, f);
        snprintf(k, sizeof(k), "s:%u", i);
        EXPECT(t, ":1\r\n", "SADD", k, v);
        snprintf(k, sizeof(k), "z:%u", i);
        EXPECT(t, ":1\r\n", "ZADD", k, "2.5", v);
    }
}

static void expect_typed(th *t, unsigned i)
{
    char k[32], f[32], v[64], want[96];
    snprintf(f, sizeof(f), "f%u", i);
    snprintf(v, sizeof(v), "value-%u", i * 7);
    snprintf(want, sizeof(want), "$%zu\r\n%s\r\n", strlen(v), v);
    snprintf(k, sizeof(k), "h:%u", i);
    EXPECT(t, want, "HGET", k, f);
    snprintf(k, sizeof(k), "l:%u", i);
    EXPECT(t, want, "LINDEX", k, "0");
    snprintf(k, sizeof(k), "s:%u", i);
    EXPECT(t, ":1\r\n", "SISMEMBER", k, v);
    snprintf(k, sizeof(k), "z:%u", i);
    EXPECT(t, "$3\r\n2.5\r\n", "ZSCORE", k, v);
}

static void test_mixed_sizes_70pct_deleted(void **state)
{
    enum { N = 60000, TYPED = 300 };
    th *t = th_new(1);
    eng_shard *sh = t->shards[0];
    unsigned *order = perm(N, 42);
    bool *gone = calloc(N, sizeof(*gone));
    char k[32];

    (void)state;
    assert_non_null(gone);
    make_typed(t, TYPED);
    for (unsigned i = 0; i < N; i++)
        set_key(sh, i);
    size_t pages_full = slab_pages(&sh->slab);
    /* A random 70% deleted, strings and every other typed key. */
    for (unsigned j = 0; j < N * 7 / 10; j++) {
        del_key(sh, order[j]);
        gone[order[j]] = true;
    }
    for (unsigned i = 0; i < TYPED; i += 2) {
        snprintf(k, sizeof(k), "h:%u", i);
        EXPECT(t, ":1\r\n", "DEL", k);
    }
    size_t used = eng_memory(sh);
    double before = resident_ratio(sh);
    eng_mem_stats m0 = stats(sh);
    /* Few pages emptied on their own: the holes are spread. */
    assert_true(slab_pages(&sh->slab) > pages_full / 2);
    assert_true(before > 1.5);
    assert_true(eng_defrag_wanted(sh));

    unsigned steps = defrag_all(sh, 64 << 10);
    eng_mem_stats m = stats(sh);
    double after = resident_ratio(sh);
    printf("# resident/live %.3f -> %.3f, pages %zu -> %zu (mapped/live "
           "%.3f), %llu moved, %llu pages freed, %u steps\n",
           before, after, (size_t)(m0.slab_pages_bytes / SLAB_PAGE_SIZE),
           slab_pages(&sh->slab),
           (double)m.slab_pages_bytes / (double)m.slab_live_bytes,
           (unsigned long long)m.defrag_moved,
           (unsigned long long)m.defrag_pages_freed, steps);
    assert_true(after < 1.1);
    /* Mapped pages too: each class keeps at most one partial page. */
    assert_true((double)slab_bytes(&sh->slab) <
                1.1 * (double)slab_used(&sh->slab) +
                    (double)(SLAB_NCLASS * SLAB_PAGE_SIZE));
    assert_true(m.defrag_pages_freed > 0 && m.defrag_moved > 0);
    assert_false(eng_defrag_wanted(sh));
    /* Moves within the slab change no accounting; an entry spilled to
     * malloc (a rare class) counts malloc's usable size instead of its
     * class size: within a few bytes each. */
    size_t now_used = eng_memory(sh);
    assert_true(now_used <= used + used / 50 && now_used >= used - used / 50);
    for (unsigned i = 0; i < N; i++)
        if (!gone[i])
            expect_key(sh, i);
    for (unsigned i = 0; i < TYPED; i++) {
        if (i % 2)
            expect_typed(t, i);
        snprintf(k, sizeof(k), "l:%u", i);
        EXPECT(t, ":2\r\n", "LLEN", k);
    }
    /* Everything deleted: every page goes back. */
    for (unsigned i = 0; i < N; i++)
        if (!gone[i])
            del_key(sh, i);
    RUN(t, "FLUSHALL");
    assert_int_equal(slab_pages(&sh->slab), 0);
    free(gone);
    free(order);
    th_free(t);
}

static void test_detached_and_hints(void **state)
{
    enum { N = 20000 };
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    eng_entry *d = NULL;
    eng_hint hint;
    char k[32];
    size_t kl, len;

    (void)state;
    for (unsigned i = 0; i < N; i++)
        set_key(sh, i);
    /* Key 1 detached (the caller holds it), 90% of the others deleted. */
    kl = key_of(k, sizeof(k), 1);
    assert_int_equal(eng_del(sh, eng_hash(k, kl), k, kl, NOW, &d), FC_OK);
    for (unsigned i = 2; i < N; i++)
        if (i % 10)
            del_key(sh, i);
    /* A hint for key 10, taken before the moves. */
    kl = key_of(k, sizeof(k), 10);
    eng_prefetch_entry(sh, eng_hash(k, kl), &hint);
    assert_non_null(hint.e);
    eng_entry *was = hint.e;
    defrag_all(sh, 1 << 20);
    assert_true(stats(sh).defrag_moved > 0);
    /* The detached entry did not move: still readable where it was. */
    uint8_t v[VMAX];
    size_t vl = val_of(v, 1);
    assert_memory_equal(eng_entry_value(d, &len), v, vl);
    assert_int_equal(len, vl);
    eng_entry_free(sh, d);
    /* The hint is stale (the entry may have moved): still the right value. */
    eng_entry *e = eng_get_hinted(sh, eng_hash(k, kl), k, kl, NOW, &hint);
    assert_non_null(e);
    vl = val_of(v, 10);
    assert_memory_equal(eng_entry_value(e, &len), v, vl);
    (void)was;
    for (unsigned i = 10; i < N; i += 10)
        expect_key(sh, i);
    eng_shard_free(sh);
}

/* Deletes down to a shrink of the table, then defragments while both
 * tables hold entries: the moves repoint slots in `old` and in `cur`. */
static void test_during_incremental_resize(void **state)
{
    enum { N = 100000 };
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    unsigned *order = perm(N, 7);
    bool *gone = calloc(N, sizeof(*gone));
    unsigned j = 0;

    (void)state;
    assert_non_null(gone);
    for (unsigned i = 0; i < N; i++)
        set_key(sh, i);
    while (!sh->ht.old.g) {
        assert_true(j < N);
        del_key(sh, order[j]);
        gone[order[j++]] = true;
    }
    size_t old_count = sh->ht.old.count;
    assert_true(old_count > 0);
    /* eng_defrag takes no migration step: the resize stays in progress. */
    while (eng_defrag(sh, 32 << 10) > 0)
        assert_non_null(sh->ht.old.g);
    assert_non_null(sh->ht.old.g);
    assert_int_equal(sh->ht.old.count, old_count);
    assert_true(stats(sh).defrag_moved > 0);
    /* Fewer keys are left than above: each class's last page weighs more. */
    printf("# during a resize: resident/live %.3f, %u of %u keys left\n",
           resident_ratio(sh), N - j, N);
    assert_true(resident_ratio(sh) < 1.25);
    for (unsigned i = 0; i < N; i++)
        if (!gone[i])
            expect_key(sh, i);
    /* The migration then finishes over the moved entries. */
    for (unsigned r = 0; sh->ht.old.g && r < 1000000; r++)
        eng_sweep(sh, 7 * 64, NOW);
    assert_null(sh->ht.old.g);
    for (unsigned i = 0; i < N; i++)
        if (!gone[i])
            expect_key(sh, i);
    free(gone);
    free(order);
    eng_shard_free(sh);
}

/* A class whose pages are as few as its chunks need still gives back the
 * tail of a page emptied from the top. */
static void test_trim_single_page(void **state)
{
    enum { N = 600 };
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    char k[32];
    uint8_t v[64];

    (void)state;
    memset(v, 'x', sizeof(v));
    for (unsigned i = 0; i < N; i++) {
        size_t kl = key_of(k, sizeof(k), i);
        assert_int_equal(eng_set(sh, eng_hash(k, kl), k, kl, v, sizeof(v), 0, 0,
                                 NOW, NULL, NULL),
                         FC_OK);
    }
    assert_int_equal(slab_pages(&sh->slab), 1);
    /* Keep every 8th: one page, mostly holes. */
    for (unsigned i = 0; i < N; i++)
        if (i % 8) {
            size_t kl = key_of(k, sizeof(k), i);
            assert_int_equal(eng_del(sh, eng_hash(k, kl), k, kl, NOW, NULL),
                             FC_OK);
        }
    /* Too small to be worth it on its own (under DEFRAG_MIN)... */
    assert_false(eng_defrag_wanted(sh));
    assert_int_equal(eng_defrag(sh, 1 << 20), 0);
    eng_shard_free(sh);
}

/* Most of every class deleted: what is left of each is too little to keep
 * a page for (SLAB_CLOSE_BYTES), so it moves to malloc and the pages go. */
static void test_rare_classes_spill_to_malloc(void **state)
{
    enum { N = 20000 };
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    unsigned kept = 0;

    (void)state;
    for (unsigned i = 0; i < N; i++)
        set_key(sh, i);
    size_t pages = slab_pages(&sh->slab);
    assert_true(pages > 50);
    for (unsigned i = 0; i < N; i++) {
        if (i % 40)
            del_key(sh, i);
        else
            kept++;
    }
    assert_true(eng_defrag_wanted(sh));
    defrag_all(sh, 1 << 20);
    eng_mem_stats m = stats(sh);
    printf("# rare classes: %zu pages -> %zu, %llu entries moved, heap "
           "%zu B\n",
           pages, slab_pages(&sh->slab), (unsigned long long)m.defrag_moved,
           m.heap_bytes);
    /* Steps stop once the pages hold under DEFRAG_MIN (64 KiB) more than
     * their chunks: a few small pages may stay. */
    assert_true(slab_pages(&sh->slab) <= pages / 8);
    assert_true(m.slab_resident_bytes - m.slab_live_bytes <= (64 << 10));
    assert_true(m.defrag_moved > kept / 2);
    for (unsigned i = 0; i < N; i += 40)
        expect_key(sh, i);
    /* And they are freed from malloc, where they now live. */
    for (unsigned i = 0; i < N; i += 40)
        del_key(sh, i);
    assert_int_equal(sh->slab.big_bytes, 0);
    assert_int_equal(slab_pages(&sh->slab), 0);
    eng_shard_free(sh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixed_sizes_70pct_deleted),
        cmocka_unit_test(test_detached_and_hints),
        cmocka_unit_test(test_during_incremental_resize),
        cmocka_unit_test(test_trim_single_page),
        cmocka_unit_test(test_rare_classes_spill_to_malloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
