/*
 * test_engine_batch.c — the engine's batched lookups (eng_get_batch,
 * eng_get_each) and prefetch stages (eng_prefetch, eng_prefetch_entry,
 * eng_get_hinted). Each test runs the same operations on two twin shards,
 * one through the batch call and one through plain eng_get, and requires
 * the same results, the same mutations reported to the observer and the
 * same final state: across resizes, with expired keys, misses, repeated
 * keys, and callbacks that mutate the shards mid-batch.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/engine.h"

#define T0 1000000
#define MAXB 512

/* Mutations seen by a shard's observer. */
struct log {
    size_t n[FC_MUT_CLEAR + 1];
    uint64_t last_seq;
};

static void log_fn(void *ctx, const fc_mutation *m)
{
    struct log *l = ctx;
    l->n[m->kind]++;
    l->last_seq = m->seq;
}

/* Two shards driven identically: `a` through the batch calls, `b` through
 * eng_get. */
struct twin {
    eng_shard *a, *b;
    struct log la, lb;
    eng_observer oa, ob;
};

static void twin_open(struct twin *t, size_t capacity)
{
    memset(t, 0, sizeof(*t));
    t->oa = (eng_observer){log_fn, &t->la};
    t->ob = (eng_observer){log_fn, &t->lb};
    t->a = eng_shard_new(0, capacity, &t->oa);
    t->b = eng_shard_new(0, capacity, &t->ob);
    assert_non_null(t->a);
    assert_non_null(t->b);
}

static void twin_close(struct twin *t)
{
    eng_shard_free(t->a);
    eng_shard_free(t->b);
}

static size_t key_of(char *buf, unsigned i)
{
    /* Binary keys of varying lengths (4..22 bytes), some over 16. */
    int n = snprintf(buf, 24, "k%u", i);
    memset(buf + n, '\0', 1);
    memset(buf + n + 1, 'p', i % 13);
    return (size_t)n + 1 + i % 13;
}

/* Value of key i, version v: its length varies with i. */
static size_t val_of(char *buf, unsigned i, unsigned v)
{
    int n = snprintf(buf, 64, "v%u.%u", i, v);
    memset(buf + n, 'x', i % 31);
    return (size_t)n + i % 31;
}

static void set_both(struct twin *t, unsigned i, unsigned v, int64_t exp,
                     int64_t now)
{
    char k[32], val[96];
    size_t kl = key_of(k, i), vl = val_of(val, i, v);
    uint64_t h = eng_hash(k, kl);
    assert_int_equal(eng_set(t->a, h, k, kl, val, vl, exp, 0, now, NULL, NULL),
                     FC_OK);
    assert_int_equal(eng_set(t->b, h, k, kl, val, vl, exp, 0, now, NULL, NULL),
                     FC_OK);
}

static void del_both(struct twin *t, unsigned i, int64_t now)
{
    char k[32];
    size_t kl = key_of(k, i);
    uint64_t h = eng_hash(k, kl);
    int ra = eng_del(t->a, h, k, kl, now, NULL);
    assert_int_equal(ra, eng_del(t->b, h, k, kl, now, NULL));
}

static void assert_same_entry(const eng_entry *x, const eng_entry *y)
{
    size_t xl, yl;
    const uint8_t *xp, *yp;

    if (!y) {
        assert_null(x);
        return;
    }
    assert_non_null(x);
    xp = eng_entry_key(x, &xl);
    yp = eng_entry_key(y, &yl);
    assert_int_equal(xl, yl);
    assert_memory_equal(xp, yp, xl);
    xp = eng_entry_value(x, &xl);
    yp = eng_entry_value(y, &yl);
    assert_int_equal(xl, yl);
    assert_memory_equal(xp, yp, xl);
    assert_int_equal(eng_entry_expire_at(x), eng_entry_expire_at(y));
}

static void assert_twins_equal(const struct twin *t)
{
    assert_int_equal(eng_len(t->a), eng_len(t->b));
    assert_int_equal(eng_seq(t->a), eng_seq(t->b));
    assert_int_equal(eng_expires_count(t->a), eng_expires_count(t->b));
    assert_memory_equal(&t->la, &t->lb, sizeof(t->la));
}

/* A batch of key ids, as the arrays the engine takes. */
struct batch {
    size_t n;
    char k[MAXB][32];
    const void *key[MAXB];
    size_t klen[MAXB];
    uint64_t h[MAXB];
    eng_entry *out[MAXB];
};

static void batch_fill(struct batch *b, const unsigned *ids, size_t n)
{
    assert_true(n <= MAXB);
    b->n = n;
    for (size_t i = 0; i < n; i++) {
        b->klen[i] = key_of(b->k[i], ids[i]);
        b->key[i] = b->k[i];
        b->h[i] = eng_hash(b->k[i], b->klen[i]);
        b->out[i] = NULL;
    }
}

/* Looks ids up in a (batch) and b (one by one): same answers, same state. */
static void check_batch(struct twin *t, const unsigned *ids, size_t n,
                        int64_t now)
{
    static struct batch b;
    batch_fill(&b, ids, n);
    eng_get_batch(t->a, n, b.h, b.key, b.klen, now, b.out);
    for (size_t i = 0; i < n; i++)
        assert_same_entry(b.out[i],
                          eng_get(t->b, b.h[i], b.key[i], b.klen[i], now));
    assert_twins_equal(t);
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random ids below `range`: present keys, absent ones, repeats. */
static void random_ids(unsigned *ids, size_t n, unsigned range, uint64_t *s)
{
    for (size_t i = 0; i < n; i++)
        ids[i] = (unsigned)(rnd(s) % range);
    if (n > 3)
        ids[n - 1] = ids[0]; /* a repeat at the far end of the pipeline */
}

static void test_batch_matches_get_across_resizes(void **state)
{
    struct twin t;
    unsigned ids[MAXB];
    uint64_t s = 99;
    twin_open(&t, 0);
    /* Growing from empty crosses many resizes, each migrating over many
     * calls: batches run before, during and after every one of them. */
    for (unsigned i = 0; i < 60000; i++) {
        set_both(&t, i, 0, 0, T0);
        if (i % 97 == 0) {
            size_t n = 1 + rnd(&s) % 80;
            random_ids(ids, n, i + i / 4 + 1, &s);
            check_batch(&t, ids, n, T0);
        }
    }
    /* Deleting most keys shrinks the table (resizes the other way). */
    for (unsigned i = 0; i < 60000; i++) {
        if (i % 10 != 0)
            del_both(&t, i, T0);
        if (i % 101 == 0) {
            size_t n = 1 + rnd(&s) % 300;
            random_ids(ids, n, 61000, &s);
            check_batch(&t, ids, n, T0);
        }
    }
    twin_close(&t);
}

static void test_batch_expired_keys(void **state)
{
    struct twin t;
    unsigned ids[200];
    size_t n = 0;
    twin_open(&t, 0);
    /* Keys 0..299; odd ones expire at T0 + 10, multiples of 3 at T0 + 50. */
    for (unsigned i = 0; i < 300; i++)
        set_both(&t, i, 1, i % 2 ? T0 + 10 : i % 3 ? 0 : T0 + 50, T0);
    /* Every expired key twice (the repeat must not see the removed entry),
     * live keys, and absent keys. */
    for (unsigned i = 0; i < 60; i++) {
        ids[n++] = i;
        ids[n++] = i;
        ids[n++] = 1000 + i;
    }
    check_batch(&t, ids, n, T0 + 20);
    /* 30 distinct odd keys were seen expired: each removed once. */
    assert_int_equal(t.la.n[FC_MUT_EXPIRED], 30);
    assert_int_equal(eng_len(t.a), 270);
    /* Later, the multiples of 3 expire too. */
    check_batch(&t, ids, n, T0 + 60);
    assert_int_equal(t.la.n[FC_MUT_EXPIRED], 30 + 10);
    /* ENG_NOW_LAZY: the batch reads the clock itself (once), and agrees
     * with eng_get reading it. */
    for (unsigned i = 0; i < 300; i++)
        ids[i % 200] = i;
    check_batch(&t, ids, 200, ENG_NOW_LAZY);
    twin_close(&t);
}

static void test_batch_repeats_and_misses(void **state)
{
    struct twin t;
    static struct batch b;
    unsigned ids[MAXB];
    twin_open(&t, 64);
    for (unsigned i = 0; i < 50; i++)
        set_both(&t, i, 0, 0, T0);
    for (size_t i = 0; i < 40; i++)
        ids[i] = i % 2 ? 7 : 5000 + (unsigned)i; /* one key, and misses */
    batch_fill(&b, ids, 40);
    eng_get_batch(t.a, 40, b.h, b.key, b.klen, T0, b.out);
    for (size_t i = 0; i < 40; i++) {
        if (i % 2)
            assert_ptr_equal(b.out[i], b.out[1]); /* the same entry */
        else
            assert_null(b.out[i]);
    }
    assert_non_null(b.out[1]);
    check_batch(&t, ids, 40, T0);
    /* Lookups are not mutations. */
    assert_int_equal(eng_seq(t.a), 50);
    twin_close(&t);
}

static void test_batch_sizes(void **state)
{
    struct twin t;
    unsigned ids[MAXB];
    static struct batch b;
    twin_open(&t, 0);
    for (unsigned i = 0; i < 2000; i++)
        set_both(&t, i, 0, 0, T0);
    eng_get_batch(t.a, 0, b.h, b.key, b.klen, T0, b.out); /* no-op */
    /* Sizes around the pipeline's depth, and far beyond it. */
    size_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, MAXB};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        for (size_t i = 0; i < sizes[k]; i++)
            ids[i] = (unsigned)(i * 7 + k) % 2500;
        check_batch(&t, ids, sizes[k], T0);
    }
    twin_close(&t);
}

/* --- eng_get_each: several shards, callbacks that mutate --- */

struct each_ctx {
    eng_shard **set; /* the three shards of this side */
    const unsigned *ids;
    size_t n;
    eng_entry *seen[MAXB];
    size_t calls;
};

static unsigned shard_of(unsigned id)
{
    return id % 3;
}

/* After key i: deletes key i + 1 when key i is even, and rewrites key i
 * (to version 9) when it is odd, so later lookups (including repeats) see
 * the changes. Compares against what eng_get gives at the same moment. */
static void mutate(eng_shard **set, unsigned id)
{
    char k[32], val[96];
    size_t kl;
    if (id % 2 == 0) {
        kl = key_of(k, id + 1);
        (void)eng_del(set[shard_of(id + 1)], eng_hash(k, kl), k, kl, T0, NULL);
    } else {
        size_t vl = val_of(val, id, 9);
        kl = key_of(k, id);
        assert_int_equal(eng_set(set[shard_of(id)], eng_hash(k, kl), k, kl, val,
                                 vl, 0, 0, T0, NULL, NULL),
                         FC_OK);
    }
}

static void each_fn(void *p, size_t i, eng_entry *e)
{
    struct each_ctx *c = p;
    assert_int_equal(i, c->calls); /* index order */
    c->calls++;
    c->seen[i] = e;
    if (e) {
        /* The entry is usable here as eng_get's result: copy it out to
         * compare, since the mutation below may free it. */
        size_t vl;
        const uint8_t *v = eng_entry_value(e, &vl);
        assert_true(vl > 0 && v[0] == 'v');
    }
    mutate(c->set, c->ids[i]);
}

static void test_each_multi_shard_mutating(void **state)
{
    eng_shard *a[3], *b[3];
    eng_shard *ka[MAXB], *kb[MAXB];
    unsigned ids[MAXB];
    static struct batch bt;
    struct each_ctx c = {0};
    uint64_t s = 7;

    for (int j = 0; j < 3; j++) {
        a[j] = eng_shard_new((uint32_t)j, 0, NULL);
        b[j] = eng_shard_new((uint32_t)j, 0, NULL);
    }
    for (unsigned i = 0; i < 3000; i++) {
        char k[32], val[96];
        size_t kl = key_of(k, i), vl = val_of(val, i, 0);
        uint64_t h = eng_hash(k, kl);
        assert_int_equal(
            eng_set(a[shard_of(i)], h, k, kl, val, vl, 0, 0, T0, NULL, NULL),
            FC_OK);
        assert_int_equal(
            eng_set(b[shard_of(i)], h, k, kl, val, vl, 0, 0, T0, NULL, NULL),
            FC_OK);
    }
    for (int round = 0; round < 20; round++) {
        size_t n = 1 + rnd(&s) % 200;
        for (size_t i = 0; i < n; i++) {
            /* neighbours, so that deleting "the next key" matters */
            ids[i] = (unsigned)(rnd(&s) % 3100);
            if (i && rnd(&s) % 3 == 0)
                ids[i] = ids[i - 1] + 1;
            ka[i] = a[shard_of(ids[i])];
            kb[i] = b[shard_of(ids[i])];
        }
        batch_fill(&bt, ids, n);
        memset(&c, 0, sizeof(c));
        c.set = a;
        c.ids = ids;
        c.n = n;
        eng_get_each(ka, n, bt.h, bt.key, bt.klen, T0, each_fn, &c);
        assert_int_equal(c.calls, n);
        for (size_t i = 0; i < n; i++) {
            eng_entry *e = eng_get(kb[i], bt.h[i], bt.key[i], bt.klen[i], T0);
            /* seen[i] may be freed by now: compare presence only, then the
             * whole state once both sides made the same mutations. */
            assert_int_equal(c.seen[i] != NULL, e != NULL);
            mutate(b, ids[i]);
        }
        for (int j = 0; j < 3; j++) {
            assert_int_equal(eng_len(a[j]), eng_len(b[j]));
            assert_int_equal(eng_seq(a[j]), eng_seq(b[j]));
        }
    }
    /* Same contents: every key, present or not, looks the same. */
    for (unsigned i = 0; i < 3100; i++) {
        char k[32];
        size_t kl = key_of(k, i);
        uint64_t h = eng_hash(k, kl);
        assert_same_entry(eng_get(a[shard_of(i)], h, k, kl, T0),
                          eng_get(b[shard_of(i)], h, k, kl, T0));
    }
    for (int j = 0; j < 3; j++) {
        eng_shard_free(a[j]);
        eng_shard_free(b[j]);
    }
}

/* --- hints: taken under one hold, used after changes --- */

static eng_entry *hinted(eng_shard *sh, unsigned id, const eng_hint *hint)
{
    char k[32];
    size_t kl = key_of(k, id);
    return eng_get_hinted(sh, eng_hash(k, kl), k, kl, T0, hint);
}

static void take_hint(eng_shard *sh, unsigned id, eng_hint *hint)
{
    char k[32];
    size_t kl = key_of(k, id);
    uint64_t h = eng_hash(k, kl);
    eng_prefetch(sh, h);
    eng_prefetch_entry(sh, h, hint);
}

static void test_hints(void **state)
{
    struct twin t;
    enum { N = 5000 };
    static eng_hint hint[N + 100];
    (void)state;
    twin_open(&t, 0);
    for (unsigned i = 0; i < N; i++)
        set_both(&t, i, 0, 0, T0);
    /* Unchanged shard: every key (and some absent ones) as eng_get. In a
     * table this full some hints point at another key with the same tag,
     * which the lookup must reject. */
    for (unsigned i = 0; i < N + 100; i++)
        take_hint(t.a, i, &hint[i]);
    for (unsigned i = 0; i < N + 100; i++) {
        char k[32];
        size_t kl = key_of(k, i);
        assert_same_entry(hinted(t.a, i, &hint[i]),
                          eng_get(t.b, eng_hash(k, kl), k, kl, T0));
    }
    /* Changes after the hints: deleted keys, keys rewritten (their entry
     * reallocated, possibly at a freed entry's address), other keys added
     * (resizes). A stale hint must never be believed. */
    for (unsigned i = 0; i < N; i++)
        take_hint(t.a, i, &hint[i]);
    for (unsigned i = 0; i < N; i += 2)
        del_both(&t, i, T0);
    for (unsigned i = 1; i < N; i += 4)
        set_both(&t, i, 5, 0, T0);
    for (unsigned i = N; i < 3 * N; i++)
        set_both(&t, i, 0, 0, T0);
    for (unsigned i = 0; i < N; i++) {
        char k[32];
        size_t kl = key_of(k, i);
        assert_same_entry(hinted(t.a, i, &hint[i]),
                          eng_get(t.b, eng_hash(k, kl), k, kl, T0));
    }
    assert_twins_equal(&t);
    twin_close(&t);
}

/* eng_get_hinted at a later time than its hint: T0 above is the lookups'
 * now, so the TTL case needs its own clock. */
static void test_hint_expiry_now(void **state)
{
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    eng_hint hint;
    char k[32], v[96];
    size_t kl = key_of(k, 3), vl = val_of(v, 3, 0);
    uint64_t h = eng_hash(k, kl);
    assert_int_equal(eng_set(sh, h, k, kl, v, vl, T0 + 5, 0, T0, NULL, NULL),
                     FC_OK);
    eng_prefetch_entry(sh, h, &hint);
    assert_non_null(eng_get_hinted(sh, h, k, kl, T0 + 4, &hint));
    assert_null(eng_get_hinted(sh, h, k, kl, T0 + 5, &hint));
    assert_int_equal(eng_len(sh), 0);
    eng_shard_free(sh);
    (void)state;
}

/* --- eng_prefetch from another thread, while the owner mutates --- */

struct racer {
    eng_shard *sh;
    _Atomic int stop;
    unsigned long calls;
};

static void *prefetcher(void *p)
{
    struct racer *r = p;
    uint64_t s = 3;
    while (!r->stop) {
        eng_prefetch(r->sh, rnd(&s));
        r->calls++;
    }
    return NULL;
}

static void test_prefetch_concurrent_with_owner(void **state)
{
    struct racer r = {.sh = eng_shard_new(0, 0, NULL)};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, prefetcher, &r), 0);
    /* Grow (new arrays), shrink (arrays freed), clear: the prefetching
     * thread reads the geometry throughout; sanitizers watch. */
    for (int round = 0; round < 3; round++) {
        for (unsigned i = 0; i < 20000; i++) {
            char k[32];
            size_t kl = key_of(k, i);
            assert_int_equal(eng_set(r.sh, eng_hash(k, kl), k, kl, "v", 1, 0, 0,
                                     T0, NULL, NULL),
                             FC_OK);
        }
        for (unsigned i = 0; i < 20000; i += 2) {
            char k[32];
            size_t kl = key_of(k, i);
            assert_int_equal(eng_del(r.sh, eng_hash(k, kl), k, kl, T0, NULL),
                             FC_OK);
        }
        assert_int_equal(eng_len(r.sh), 10000);
        eng_clear(r.sh);
    }
    r.stop = 1;
    pthread_join(th, NULL);
    assert_true(r.calls > 0);
    eng_shard_free(r.sh);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_matches_get_across_resizes),
        cmocka_unit_test(test_batch_expired_keys),
        cmocka_unit_test(test_batch_repeats_and_misses),
        cmocka_unit_test(test_batch_sizes),
        cmocka_unit_test(test_each_multi_shard_mutating),
        cmocka_unit_test(test_hints),
        cmocka_unit_test(test_hint_expiry_now),
        cmocka_unit_test(test_prefetch_concurrent_with_owner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
