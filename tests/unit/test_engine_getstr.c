/*
 * test_engine_getstr.c — eng_get_str, eng_get_str_copy, eng_get_str_hinted
 * and eng_get_str_each, the string reads with their own probe (shard.c,
 * batch.c), against eng_get on a twin shard: same answer (status, value
 * bytes), same mutations reported, same state. The keys and values cover
 * what the fast probe special-cases: key lengths 1..200 (the inline
 * compare's word sizes and its loop; 128 and over: two-byte lengths),
 * values of 0..300 bytes (128 and over move the key by a byte), TTLs live
 * and expired, typed values (FC_EWRONGTYPE), tag collisions (many keys of
 * one length), a resize under way, and an LFU budget (the touch's tail
 * call).
 */
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
#include "engine/obj.h"
#include "engine/obj_set.h"

#define T0 5000000
#define NKEYS 3000

struct log {
    size_t n[FC_MUT_CLEAR + 1];
};

static void log_fn(void *ctx, const fc_mutation *m)
{
    ((struct log *)ctx)->n[m->kind]++;
}

struct twin {
    eng_shard *a, *b; /* a: the string reads; b: eng_get */
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

/* Key i: a length from 1 to 200 (every length below 40 often), bytes that
 * differ from key i's neighbours of the same length only near the end, so
 * that a compare looking at too few bytes is caught. */
static size_t key_of(uint8_t *buf, unsigned i)
{
    size_t n = i % 5 == 0 ? 1 + (i * 7) % 200 : 1 + i % 40;
    memset(buf, 'k', n);
    for (size_t b = 0; b < 4 && b < n; b++)
        buf[n - 1 - b] = (uint8_t)(i >> (8 * b));
    if (n > 9)
        buf[n / 2] = (uint8_t)(i * 31);
    return n;
}

static size_t val_of(uint8_t *buf, unsigned i)
{
    size_t n = i % 7 == 0 ? (i * 13) % 301 : (i * 3) % 90;
    for (size_t b = 0; b < n; b++)
        buf[b] = (uint8_t)(i + b);
    return n;
}

/* Key i holds: a typed set (i % 11 == 3), a string with a TTL that has
 * passed by `later` (i % 9 == 4), one with a TTL still ahead (i % 9 == 5),
 * or a plain string. Keys with i % 13 == 6 are never set (misses). */
static void load_both(struct twin *t, unsigned nkeys)
{
    for (unsigned i = 0; i < nkeys; i++) {
        if (i % 13 == 6)
            continue;
        uint8_t k[256], v[512];
        size_t kl = key_of(k, i), vl = val_of(v, i);
        uint64_t h = eng_hash(k, kl);
        eng_shard *sh[2] = {t->a, t->b};
        for (int s = 0; s < 2; s++) {
            if (i % 11 == 3) {
                eng_obj *o = sobj_new();
                bool added;
                assert_non_null(o);
                assert_int_equal(sobj_add(o, "m", 1, &added), FC_OK);
                assert_int_equal(eng_set_obj(sh[s], h, k, kl, o, 0, T0), FC_OK);
                continue;
            }
            int64_t exp = i % 9 == 4 ? T0 + 10 : i % 9 == 5 ? T0 + 1000000 : 0;
            assert_int_equal(
                eng_set(sh[s], h, k, kl, v, vl, exp, 0, T0, NULL, NULL), FC_OK);
        }
    }
}

/* eng_get's answer as eng_get_str gives it. */
static int ref_get(eng_shard *sh, uint64_t h, const void *k, size_t kl,
                   int64_t now, const uint8_t **v, size_t *vl)
{
    eng_entry *e = eng_get(sh, h, k, kl, now);
    if (!e)
        return FC_ENOTFOUND;
    if (eng_entry_type(e) != ENG_TYPE_STRING)
        return FC_EWRONGTYPE;
    *v = eng_entry_value(e, vl);
    return FC_OK;
}

static void assert_same(int ra, const void *va, size_t la, int rb,
                        const uint8_t *vb, size_t lb)
{
    assert_int_equal(ra, rb);
    if (ra != FC_OK)
        return;
    assert_int_equal(la, lb);
    assert_memory_equal(va, vb, la);
}

static void assert_twins_equal(const struct twin *t)
{
    assert_int_equal(eng_len(t->a), eng_len(t->b));
    assert_int_equal(eng_seq(t->a), eng_seq(t->b));
    assert_int_equal(eng_expires_count(t->a), eng_expires_count(t->b));
    assert_memory_equal(&t->la, &t->lb, sizeof(t->la));
}

/* Every key, one by one, at time now: eng_get_str on a, eng_get on b. */
static void check_singles(struct twin *t, unsigned nkeys, int64_t now,
                          size_t *hits)
{
    for (unsigned i = 0; i < nkeys; i++) {
        uint8_t k[256];
        size_t kl = key_of(k, i);
        uint64_t h = eng_hash(k, kl);
        const void *va = NULL;
        const uint8_t *vb = NULL;
        size_t la = 0, lb = 0;
        if (i % 2) { /* the copying form, sometimes into too small a buffer */
            static uint8_t buf[512];
            size_t cap = i % 3 ? sizeof(buf) : i % 97, len = 0;
            memset(buf, 0xa5, sizeof(buf));
            /* eng_get_str_copy reads the clock itself (ENG_NOW_LAZY). */
            int ra = eng_get_str_copy(t->a, h, k, kl, buf, cap, &len);
            int rb = ref_get(t->b, h, k, kl, ENG_NOW_LAZY, &vb, &lb);
            if (rb == FC_OK && lb > cap) {
                assert_int_equal(ra, FC_ETRUNC);
                assert_int_equal(len, lb);
                assert_int_equal(buf[0], 0xa5); /* nothing copied */
            } else {
                assert_same(ra, buf, len, rb, vb, lb);
                if (ra == FC_OK)
                    assert_int_equal(buf[len], 0xa5); /* no overrun */
            }
            if (ra == FC_OK && hits)
                (*hits)++;
            continue;
        }
        int ra = eng_get_str(t->a, h, k, kl, now, &va, &la);
        int rb = ref_get(t->b, h, k, kl, now, &vb, &lb);
        assert_same(ra, va, la, rb, vb, lb);
        if (ra == FC_OK && hits)
            (*hits)++;
    }
    assert_twins_equal(t);
}

static void singles(void **state)
{
    (void)state;
    struct twin t;
    size_t hits = 0;
    twin_open(&t, NKEYS);
    load_both(&t, NKEYS);
    check_singles(&t, NKEYS, T0, &hits);
    /* Some of each kind answered: the test looked at something. */
    assert_true(hits > NKEYS / 2);
    /* Later: the short TTLs have passed (removed, reported as expired). */
    check_singles(&t, NKEYS, T0 + 100, NULL);
    assert_true(t.la.n[FC_MUT_EXPIRED] > 0);
    /* ENG_NOW_LAZY reads the real clock, far past T0. */
    check_singles(&t, NKEYS, ENG_NOW_LAZY, NULL);
    twin_close(&t);
}

/* A table too small for its keys resizes while being read. */
static void during_resize(void **state)
{
    (void)state;
    struct twin t;
    twin_open(&t, 8);
    for (unsigned round = 1; round <= 6; round++) {
        unsigned n = NKEYS * round / 6;
        load_both(&t, n);
        check_singles(&t, n, T0, NULL);
    }
    twin_close(&t);
}

/* Under an LFU budget the hit takes the counter path. */
static void lfu_touch(void **state)
{
    (void)state;
    struct twin t;
    eng_budget ba, bb;
    twin_open(&t, NKEYS);
    eng_budget_init(&ba);
    eng_budget_init(&bb);
    atomic_store(&ba.policy, ENG_POL_ALLKEYS_LFU);
    atomic_store(&bb.policy, ENG_POL_ALLKEYS_LFU);
    eng_shard_set_budget(t.a, &ba);
    eng_shard_set_budget(t.b, &bb);
    load_both(&t, 200);
    for (int r = 0; r < 20; r++)
        check_singles(&t, 200, T0, NULL);
    for (unsigned i = 0; i < 200; i++) {
        uint8_t k[256];
        size_t kl = key_of(k, i);
        uint64_t h = eng_hash(k, kl);
        eng_entry *ea = eng_peek(t.a, h, k, kl, T0),
                  *eb = eng_peek(t.b, h, k, kl, T0);
        assert_true((ea == NULL) == (eb == NULL));
        if (ea)
            assert_int_equal(eng_entry_freq(t.a, ea, T0),
                             eng_entry_freq(t.b, eb, T0));
    }
    twin_close(&t);
}

struct each_out {
    size_t n;
    int rc[NKEYS];
    const void *v[NKEYS];
    size_t len[NKEYS];
    uint8_t copy[NKEYS][301];
};

static void each_fn(void *ctx, size_t i, int rc, const void *val, size_t vlen)
{
    struct each_out *o = ctx;
    assert_int_equal(i, o->n); /* in index order, each once */
    o->n++;
    o->rc[i] = rc;
    o->len[i] = vlen;
    if (rc == FC_OK) /* valid now; later lookups may expire other keys */
        memcpy(o->copy[i], val, vlen);
}

/* Batches of every size from 1 to 40 (the short whole-batch form and the
 * pipeline), random key ids with repeats, against one-by-one eng_get. */
static void batches(void **state)
{
    (void)state;
    static struct each_out out;
    struct twin t;
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    twin_open(&t, NKEYS);
    load_both(&t, NKEYS);
    for (int64_t now = T0; now <= T0 + 100; now += 100) {
        for (size_t n = 1; n <= 40; n++) {
            static uint8_t k[40][256];
            const void *keys[40];
            size_t klen[40];
            uint64_t h[40];
            eng_shard *shards[40];
            for (size_t j = 0; j < n; j++) {
                rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
                unsigned id = (unsigned)(rng % (NKEYS + 50)); /* some past */
                klen[j] = key_of(k[j], id);
                keys[j] = k[j];
                h[j] = eng_hash(k[j], klen[j]);
                shards[j] = t.a;
            }
            memset(&out, 0, sizeof(out));
            eng_get_str_each(shards, n, h, keys, klen, now, each_fn, &out);
            assert_int_equal(out.n, n);
            for (size_t j = 0; j < n; j++) {
                const uint8_t *vb = NULL;
                size_t lb = 0;
                int rb = ref_get(t.b, h[j], keys[j], klen[j], now, &vb, &lb);
                assert_same(out.rc[j], out.copy[j], out.len[j], rb, vb, lb);
            }
            assert_twins_equal(&t);
        }
    }
    twin_close(&t);
}

/* eng_get_str_hinted: a hint from before a change is not trusted. */
static void hinted(void **state)
{
    (void)state;
    struct twin t;
    twin_open(&t, NKEYS);
    load_both(&t, NKEYS);
    for (unsigned i = 0; i < NKEYS; i++) {
        uint8_t k[256], v[512];
        size_t kl = key_of(k, i);
        uint64_t h = eng_hash(k, kl);
        eng_hint hint;
        eng_prefetch(t.a, h);
        eng_prefetch_entry(t.a, h, &hint);
        if (i % 4 == 0) { /* change the key after the hint */
            size_t vl = val_of(v, i + 1);
            assert_int_equal(
                eng_set(t.a, h, k, kl, v, vl, 0, 0, T0, NULL, NULL), FC_OK);
            assert_int_equal(
                eng_set(t.b, h, k, kl, v, vl, 0, 0, T0, NULL, NULL), FC_OK);
        }
        const void *va = NULL;
        const uint8_t *vb = NULL;
        size_t la = 0, lb = 0;
        int ra = eng_get_str_hinted(t.a, h, k, kl, T0, &hint, &va, &la);
        int rb = ref_get(t.b, h, k, kl, T0, &vb, &lb);
        assert_same(ra, va, la, rb, vb, lb);
    }
    assert_twins_equal(&t);
    twin_close(&t);
}

/* Keys that share one hash (so one tag and one probe chain: the compare
 * decides every lookup) and differ in a single byte, at each position in
 * turn: a compare that skips any byte returns another key's value. */
static void same_hash(void **state)
{
    (void)state;
    static const size_t lens[] = {1,  2,  3,  4,  5,  7,  8,  9,  15,  16,
                                  17, 23, 24, 25, 31, 32, 33, 40, 100, 127};
    struct twin t;
    /* Sized so that nothing resizes: a resize rehashes by the real hash. */
    twin_open(&t, 4096);
    for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
        size_t kl = lens[li];
        uint64_t h = 0x5bd1e9955bd1e995ull * (li + 1);
        uint8_t k[128], v[8];
        /* Variant j differs from the base key at byte j % kl; even
         * variants are stored, odd ones only looked up. */
        for (int pass = 0; pass < 2; pass++) {
            for (size_t j = 0; j < 2 * kl && j < 24; j++) {
                memset(k, 'b', kl);
                k[j % kl] = (uint8_t)('c' + j);
                if (pass == 0 && j % 2 == 0) {
                    memcpy(v, &j, sizeof(j));
                    assert_int_equal(
                        eng_set(t.a, h, k, kl, v, 8, 0, 0, T0, NULL, NULL),
                        FC_OK);
                    assert_int_equal(
                        eng_set(t.b, h, k, kl, v, 8, 0, 0, T0, NULL, NULL),
                        FC_OK);
                }
                if (pass == 1) {
                    const void *va = NULL;
                    const uint8_t *vb = NULL;
                    size_t la = 0, lb = 0;
                    int ra = eng_get_str(t.a, h, k, kl, T0, &va, &la);
                    int rb = ref_get(t.b, h, k, kl, T0, &vb, &lb);
                    assert_same(ra, va, la, rb, vb, lb);
                    assert_int_equal(ra, j % 2 == 0 ? FC_OK : FC_ENOTFOUND);
                }
            }
        }
    }
    assert_twins_equal(&t);
    twin_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(singles),   cmocka_unit_test(during_resize),
        cmocka_unit_test(lfu_touch), cmocka_unit_test(batches),
        cmocka_unit_test(hinted),    cmocka_unit_test(same_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
