/*
 * test_obj_zset_oom.c — a sorted set change that runs out of memory
 * leaves the value exactly as it was (obj_zset.h's FC_ENOMEM contract), in
 * every allocation of every path: a pack insert and score update, the
 * pack -> tree conversion, tree inserts that split nodes up to the root,
 * tree score updates, and removals whose tree -> pack conversion or index
 * shrink fails (those must still succeed).
 *
 * Failures are injected by interposing malloc, calloc and realloc: after
 * `budget` more successful calls every call fails, until reset. Sanitizer
 * builds interpose them themselves: there the program exits 77, which
 * ctest reports as skipped (as test_rename_oom).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/obj.h"
#include "engine/obj_zset.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FC_NO_INTERPOSE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define FC_NO_INTERPOSE 1
#endif
#endif

#ifndef FC_NO_INTERPOSE
static long budget = -1; /* -1: allocations succeed */

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);

static bool take(void)
{
    if (budget < 0)
        return true;
    if (budget == 0)
        return false;
    budget--;
    return true;
}

void *malloc(size_t n)
{
    return take() ? __libc_malloc(n) : NULL;
}

void *calloc(size_t n, size_t m)
{
    return take() ? __libc_calloc(n, m) : NULL;
}

void *realloc(void *p, size_t n)
{
    return take() ? __libc_realloc(p, n) : NULL;
}

static void ser(const eng_obj *o, fc_buf *b)
{
    b->len = 0;
    b->oom = false;
    assert_int_equal(eng_obj_serialize(o, b), FC_OK);
}

/* Every member's rank is its position, both walks agree, scores read
 * back: the two structures are in step. */
static void check_consistent(const eng_obj *o)
{
    zs_iter it;
    const char *m;
    size_t n, r, i = 0;
    double s, got;
    zs_iter_init(&it, o, 0, false);
    while (zs_iter_next(&it, &m, &n, &s)) {
        assert_true(zs_rank(o, m, n, &r));
        assert_int_equal(r, i);
        assert_true(zs_score(o, m, n, &got));
        assert_true(got == s);
        i++;
    }
    zs_iter_done(&it);
    assert_int_equal(i, zs_len(o));
}

static eng_obj *build(size_t n, size_t mlen)
{
    eng_obj *o = zs_new();
    char m[128];
    for (size_t i = 0; i < n; i++) {
        unsigned out;
        double ns;
        snprintf(m, sizeof(m), "%0*zu", (int)mlen, (i * 7919) % 100003);
        assert_int_equal(
            zs_add(o, m, strlen(m), (double)(i % 97) * 0.5, 0, &out, &ns),
            FC_OK);
    }
    return o;
}

typedef int (*change_fn)(eng_obj *o, const void *arg);

static size_t failures_seen; /* proof that the injection bites */

/* Runs fn on a copy of base with 0, 1, 2... allocations allowed until it
 * succeeds: every failure must leave the copy as it was. */
static void each_failure(const eng_obj *base, change_fn fn, const void *arg)
{
    fc_buf before = {0}, after = {0};
    ser(base, &before);
    for (long allow = 0; allow < 10000; allow++) {
        eng_obj *o = eng_zset_ops.dup(base);
        assert_non_null(o);
        budget = allow;
        int rc = fn(o, arg);
        budget = -1;
        if (rc == FC_OK) {
            check_consistent(o);
            eng_obj_free(o);
            fc_buf_free(&before);
            fc_buf_free(&after);
            return;
        }
        assert_int_equal(rc, FC_ENOMEM);
        failures_seen++;
        ser(o, &after);
        assert_int_equal(after.len, before.len);
        assert_memory_equal(after.data, before.data, before.len);
        check_consistent(o);
        eng_obj_free(o);
    }
    fail_msg("never succeeded");
}

typedef struct add_arg {
    const char *m;
    double score;
} add_arg;

static int do_add(eng_obj *o, const void *arg)
{
    const add_arg *a = arg;
    unsigned out;
    double ns;
    return zs_add(o, a->m, strlen(a->m), a->score, 0, &out, &ns);
}

static void test_pack_paths(void **state)
{
    (void)state;
    eng_obj *o = build(100, 6);
    assert_int_equal(o->enc, ZS_ENC_PACK);
    add_arg fresh = {"new-member", 3.25}, upd = {"000000", 1e10},
            same = {"000000", 0.0};
    each_failure(o, do_add, &fresh);
    each_failure(o, do_add, &upd);
    each_failure(o, do_add, &same);
    eng_obj_free(o);
    /* the 129th element converts */
    o = build(128, 6);
    assert_int_equal(o->enc, ZS_ENC_PACK);
    each_failure(o, do_add, &fresh);
    add_arg longm = {"a member longer than sixty-four bytes, which makes the "
                     "value a tree at once",
                     1};
    each_failure(o, do_add, &longm);
    eng_obj_free(o);
    assert_true(failures_seen > 100); /* the conversion alone: 129+ */
}

static void test_tree_paths(void **state)
{
    (void)state;
    /* sizes around full leaves and a full root */
    size_t sizes[] = {129, 200, 2048, 4096, 20000};
    char m[32];
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        eng_obj *o = build(sizes[i], 6);
        assert_int_equal(o->enc, ZS_ENC_TREE);
        for (int k = 0; k < 8; k++) {
            snprintf(m, sizeof(m), "x%d", k);
            add_arg a = {m, (double)(k * 13 % 50)};
            each_failure(o, do_add, &a);
            add_arg end = {"zzz", 1e9}, start = {"", -1e9};
            each_failure(o, do_add, &end);
            each_failure(o, do_add, &start);
        }
        add_arg upd = {"000000", 77.5};
        each_failure(o, do_add, &upd);
        eng_obj_free(o);
    }
}

static void test_removals_under_oom(void **state)
{
    (void)state;
    eng_obj *o = build(3000, 6);
    zs_iter it;
    char m[16];
    /* removing down to a pack with every allocation failing: the value
     * stays correct (a tree), only larger */
    budget = 0;
    while (zs_len(o) > 10) {
        const char *pm;
        size_t pn;
        double s;
        zs_iter_init(&it, o, zs_len(o) / 2, false);
        assert_true(zs_iter_next(&it, &pm, &pn, &s));
        zs_iter_done(&it);
        memcpy(m, pm, pn);
        assert_true(zs_del(o, m, pn));
    }
    zs_del_range(o, 0, 5);
    budget = -1;
    assert_int_equal(o->enc, ZS_ENC_TREE);
    check_consistent(o);
    assert_true(zs_del(o, m, 0) == false);
    zs_del_range(o, 0, 1); /* memory back: converts now */
    assert_int_equal(o->enc, ZS_ENC_PACK);
    check_consistent(o);
    eng_obj_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_paths),
        cmocka_unit_test(test_tree_paths),
        cmocka_unit_test(test_removals_under_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
int main(void)
{
    return 77; /* skipped: sanitizers own malloc */
}
#endif
