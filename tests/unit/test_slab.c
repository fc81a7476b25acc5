/*
 * test_slab.c — the per-shard slab allocator: every size class, pages
 * released as they empty, random alloc/free against a reference, big
 * blocks on malloc, and the engine's use of it (entries growing across
 * classes and onto malloc, memory following deletes back down).
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

#include "engine/shard.h"
#include "engine/slab.h"

#define T0 1000000

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 131 + i * 7);
}

static bool check(const uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)(seed * 131 + i * 7))
            return false;
    return true;
}

static void test_every_class(void **state)
{
    struct slab s;
    void *p[SLAB_MAX + 1];

    (void)state;
    slab_init(&s);
    for (size_t n = 1; n <= SLAB_MAX; n++) {
        p[n] = slab_alloc(&s, n);
        assert_non_null(p[n]);
        /* The smallest class that holds n: at most 7 bytes of rounding. */
        assert_true(slab_usable(p[n]) >= n);
        assert_true(slab_usable(p[n]) >= SLAB_MIN);
        assert_true(n <= SLAB_MIN || slab_usable(p[n]) < n + SLAB_STEP);
        assert_int_equal(slab_usable(p[n]) % SLAB_STEP, 0);
        assert_int_equal(slab_usable(p[n]), slab_class_size(n));
        fill(p[n], slab_usable(p[n]), (unsigned)n);
    }
    /* One page per class, each class's chunks in its own page. */
    assert_int_equal(slab_pages(&s), SLAB_NCLASS);
    assert_int_equal(slab_bytes(&s), SLAB_NCLASS * SLAB_PAGE_SIZE);
    for (size_t n = 1; n <= SLAB_MAX; n++) {
        assert_true(check(p[n], slab_usable(p[n]), (unsigned)n));
        slab_free(&s, p[n]);
    }
    assert_int_equal(slab_pages(&s), 0);
    assert_int_equal(slab_bytes(&s), 0);
    slab_destroy(&s);
}

static void test_pages_follow_frees(void **state)
{
    enum { N = 20000 };
    struct slab s;
    void **p = malloc(N * sizeof(*p));
    size_t per_page, pages;
    uint64_t rng = 7;

    (void)state;
    assert_non_null(p);
    slab_init(&s);
    for (unsigned i = 0; i < N; i++) {
        p[i] = slab_alloc(&s, 88);
        assert_non_null(p[i]);
        fill(p[i], 88, i);
    }
    per_page = (SLAB_PAGE_SIZE - 64) / 88;
    pages = (N + per_page - 1) / per_page;
    assert_int_equal(slab_pages(&s), pages);
    /* Every other chunk freed: no page empties, none is released. */
    for (unsigned i = 0; i < N; i += 2)
        slab_free(&s, p[i]);
    assert_int_equal(slab_pages(&s), pages);
    /* The holes are reused before any new page is taken. */
    for (unsigned i = 0; i < N; i += 2) {
        p[i] = slab_alloc(&s, 81);
        assert_non_null(p[i]);
        fill(p[i], 81, i);
    }
    assert_int_equal(slab_pages(&s), pages);
    /* Freed in random order, pages go back as they empty. */
    for (unsigned i = N - 1; i > 0; i--) {
        unsigned j = (unsigned)(rnd(&rng) % (i + 1));
        void *t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
    for (unsigned i = 0; i < N; i++) {
        slab_free(&s, p[i]);
        assert_true(slab_pages(&s) <= pages);
    }
    assert_int_equal(slab_pages(&s), 0);
    assert_int_equal(slab_bytes(&s), 0);
    slab_destroy(&s);
    free(p);
}

struct blk {
    uint8_t *p;
    size_t n;
    unsigned seed;
};

static void blk_free(struct slab *s, struct blk *b)
{
    assert_true(check(b->p, b->n, b->seed));
    if (b->n > SLAB_MAX)
        slab_big_free(s, b->p);
    else
        slab_free(s, b->p);
    b->p = NULL;
}

static void test_random_vs_reference(void **state)
{
    enum { SLOTS = 3000, OPS = 200000 };
    struct blk *b = calloc(SLOTS, sizeof(*b));
    struct slab s;
    uint64_t rng = 12345;
    size_t live_bytes = 0;

    (void)state;
    assert_non_null(b);
    slab_init(&s);
    for (unsigned op = 0; op < OPS; op++) {
        struct blk *x = &b[rnd(&rng) % SLOTS];
        if (x->p) {
            live_bytes -= x->n;
            blk_free(&s, x);
            continue;
        }
        /* Mostly slab sizes, some big ones. */
        x->n = 1 + rnd(&rng) % (rnd(&rng) % 8 ? SLAB_MAX : 4 * SLAB_MAX);
        x->p =
            x->n > SLAB_MAX ? slab_big_alloc(&s, x->n) : slab_alloc(&s, x->n);
        assert_non_null(x->p);
        x->seed = op;
        fill(x->p, x->n, op);
        live_bytes += x->n;
        assert_true(slab_bytes(&s) >= live_bytes);
    }
    for (unsigned i = 0; i < SLOTS; i++)
        if (b[i].p)
            blk_free(&s, &b[i]);
    assert_int_equal(slab_pages(&s), 0);
    assert_int_equal(slab_bytes(&s), 0);
    slab_destroy(&s);
    free(b);
}

static void test_big_on_malloc(void **state)
{
    struct slab s;
    uint8_t *p;

    (void)state;
    slab_init(&s);
    p = slab_big_alloc(&s, 100000);
    assert_non_null(p);
    fill(p, 100000, 3);
    assert_int_equal(slab_pages(&s), 0);
    assert_true(slab_bytes(&s) >= 100000);
    assert_true(check(p, 100000, 3));
    slab_big_free(&s, p);
    assert_int_equal(slab_bytes(&s), 0);
    /* Destroy releases pages that still hold live chunks. */
    assert_non_null(slab_alloc(&s, 40));
    assert_int_equal(slab_pages(&s), 1);
    slab_destroy(&s);
    assert_int_equal(slab_pages(&s), 0);
}

/* --- through the engine --- */

static uint64_t H(const void *k, size_t n)
{
    return eng_hash(k, n);
}

static void expect_val(eng_shard *sh, const char *k, const uint8_t *v, size_t n)
{
    size_t len;
    eng_entry *e = eng_get(sh, H(k, strlen(k)), k, strlen(k), T0);
    const uint8_t *p;

    assert_non_null(e);
    p = eng_entry_value(e, &len);
    assert_int_equal(len, n);
    assert_memory_equal(p, v, n);
}

static void test_engine_grow_across_classes(void **state)
{
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    uint8_t ref[3000];
    size_t n = 0, len;
    const char *k = "grow";

    (void)state;
    /* APPEND one byte at a time: the entry moves up through the classes
     * (with growth slack) and onto malloc. */
    for (unsigned i = 0; i < sizeof(ref); i++) {
        uint8_t c = (uint8_t)(i * 13 + 1);
        ref[n++] = c;
        assert_int_equal(eng_append(sh, H(k, 4), k, 4, &c, 1, T0, &len), FC_OK);
        assert_int_equal(len, n);
        if (i % 97 == 0 || i < 600)
            expect_val(sh, k, ref, n);
    }
    expect_val(sh, k, ref, n);
    assert_int_equal(slab_pages(&sh->slab), 0);
    /* SET back to small: a class with no page and little on malloc stays
     * on malloc (slab_class_open)... */
    assert_int_equal(
        eng_set(sh, H(k, 4), k, 4, "tiny", 4, 0, 0, T0, NULL, NULL), FC_OK);
    expect_val(sh, k, (const uint8_t *)"tiny", 4);
    assert_true(sh->slab.big_bytes > 0 && sh->slab.big_bytes < 64);
    assert_int_equal(slab_pages(&sh->slab), 0);
    /* ...until the class holds half a page there: then it gets a page. */
    for (unsigned i = 0; slab_pages(&sh->slab) == 0; i++) {
        char key[16];
        int kl = snprintf(key, sizeof(key), "x%u", i);
        assert_true(i < SLAB_OPEN_BYTES);
        assert_int_equal(eng_set(sh, H(key, (size_t)kl), key, (size_t)kl,
                                 "tiny", 4, 0, 0, T0, NULL, NULL),
                         FC_OK);
    }
    assert_true(sh->slab.big_bytes >= SLAB_OPEN_BYTES);
    for (unsigned i = 0;; i++) {
        char key[16];
        int kl = snprintf(key, sizeof(key), "x%u", i);
        if (eng_del(sh, H(key, (size_t)kl), key, (size_t)kl, T0, NULL) != FC_OK)
            break;
    }
    assert_int_equal(slab_pages(&sh->slab), 0);
    /* Adding a TTL grows the entry by 8 bytes; dropping keeps it. */
    for (unsigned i = 0; i < 60; i++) {
        char key[16];
        uint8_t v[600];
        int kl = snprintf(key, sizeof(key), "t%u", i);
        fill(v, i * 9, i);
        assert_int_equal(eng_set(sh, H(key, (size_t)kl), key, (size_t)kl, v,
                                 i * 9, 0, 0, T0, NULL, NULL),
                         FC_OK);
        assert_int_equal(eng_set_expire(sh, H(key, (size_t)kl), key, (size_t)kl,
                                        T0 + 1000, T0),
                         FC_OK);
        expect_val(sh, key, v, i * 9);
        assert_int_equal(
            eng_set_expire(sh, H(key, (size_t)kl), key, (size_t)kl, 0, T0),
            FC_OK);
        expect_val(sh, key, v, i * 9);
        assert_int_equal(
            eng_del(sh, H(key, (size_t)kl), key, (size_t)kl, T0, NULL), FC_OK);
    }
    /* SETRANGE far out, then back in, on a fresh key. */
    assert_int_equal(eng_setrange(sh, H("r", 1), "r", 1, 700, "x", 1, T0, &len),
                     FC_OK);
    assert_int_equal(len, 701);
    assert_int_equal(eng_del(sh, H("r", 1), "r", 1, T0, NULL), FC_OK);
    assert_int_equal(eng_del(sh, H(k, 4), k, 4, T0, NULL), FC_OK);
    assert_int_equal(slab_pages(&sh->slab), 0);
    assert_int_equal(sh->slab.big_bytes, 0);
    eng_shard_free(sh);
}

static void test_engine_memory_follows_deletes(void **state)
{
    enum { N = 200000 };
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    size_t base = eng_memory(sh), full;
    char k[32];
    uint8_t v[64];

    (void)state;
    memset(v, 'v', sizeof(v));
    for (unsigned i = 0; i < N; i++) {
        int n = snprintf(k, sizeof(k), "key:%012u", i);
        assert_int_equal(eng_set(sh, H(k, (size_t)n), k, (size_t)n, v,
                                 sizeof(v), 0, 0, T0, NULL, NULL),
                         FC_OK);
    }
    full = eng_memory(sh);
    /* 16 B key + 64 B value: 83 B entries in 88 B chunks, 744 a page. */
    assert_int_equal(slab_pages(&sh->slab), (N + 743) / 744);
    assert_true(full >= base + (size_t)N * 88);
    assert_true(full < base + (size_t)N * (88 + 24));
    for (unsigned i = 0; i < N; i++) {
        int n = snprintf(k, sizeof(k), "key:%012u", i);
        eng_entry *d = NULL;
        size_t kl;
        /* Every other entry detached, checked, then freed by the caller. */
        assert_int_equal(
            eng_del(sh, H(k, (size_t)n), k, (size_t)n, T0, i % 2 ? &d : NULL),
            FC_OK);
        if (d) {
            assert_memory_equal(eng_entry_key(d, &kl), k, (size_t)n);
            eng_entry_free(sh, d);
        }
    }
    assert_int_equal(eng_len(sh), 0);
    assert_int_equal(slab_pages(&sh->slab), 0);
    assert_true(eng_memory(sh) <= base + 1024);
    eng_shard_free(sh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_class),
        cmocka_unit_test(test_pages_follow_frees),
        cmocka_unit_test(test_random_vs_reference),
        cmocka_unit_test(test_big_on_malloc),
        cmocka_unit_test(test_engine_grow_across_classes),
        cmocka_unit_test(test_engine_memory_follows_deletes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
