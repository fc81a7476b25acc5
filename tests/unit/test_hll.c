/*
 * The HyperLogLog module (src/commands/hll.c) on its own: MurmurHash64A
 * against known values, register packing, the sparse encoder's exact bytes
 * for small cases (as Redis writes them), sparse and dense agreeing on
 * every register and estimate, the promotion at HLL_SPARSE_MAX_BYTES, the
 * estimator's accuracy, the cache bits, and the decoder rejecting bodies
 * that do not cover exactly 16384 registers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "commands/hll.h"

static void add_n(hll_buf *b, const char *prefix, int from, int to)
{
    char ele[64];
    for (int i = from; i < to; i++) {
        int n = snprintf(ele, sizeof(ele), "%s:%d", prefix, i);
        assert_true(hll_add(b, ele, (size_t)n) >= 0);
    }
}

static void test_murmur(void **state)
{
    (void)state;
    /* Reference values of MurmurHash64A (Austin Appleby's, seed as given). */
    assert_true(hll_murmur64a("", 0, 0) == 0);
    uint64_t a = hll_murmur64a("hello", 5, 0xadc83b19ULL);
    uint64_t b = hll_murmur64a("hello", 5, 0xadc83b19ULL);
    assert_true(a == b);
    assert_true(hll_murmur64a("hellp", 5, 0xadc83b19ULL) != a);
    /* Every tail length and a full block hash differently. */
    const char s[] = "0123456789abcdef";
    for (size_t n = 1; n < sizeof(s) - 1; n++)
        assert_true(hll_murmur64a(s, n, 1) != hll_murmur64a(s, n + 1, 1));
    long idx;
    int run = hll_pattern("a", 1, &idx);
    assert_true(idx >= 0 && idx < HLL_REGISTERS);
    assert_true(run >= 1 && run <= HLL_Q + 1);
}

static void test_empty(void **state)
{
    (void)state;
    hll_buf b;
    assert_true(hll_buf_empty(&b));
    assert_int_equal(b.len, 18);
    assert_memory_equal(b.p, "HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff", 18);
    assert_true(hll_valid_header(b.p, b.len));
    assert_true(hll_cache_valid(b.p));
    uint64_t card = 99;
    assert_int_equal(hll_count(b.p, b.len, &card), 0);
    assert_true(card == 0);
    hll_invalidate(b.p);
    assert_false(hll_cache_valid(b.p));
    hll_cache_set(b.p, 0x0102030405060708ULL);
    assert_true(hll_cache_valid(b.p));
    assert_true(hll_cache_get(b.p) == 0x0102030405060708ULL);
    hll_buf_free(&b);
}

static void test_sparse_bytes(void **state)
{
    (void)state;
    hll_buf b;
    assert_true(hll_buf_empty(&b));
    /* Register 0 to 3: VAL(3,1) then XZERO(16383). */
    assert_int_equal(hll_set(&b, 0, 3), 1);
    assert_int_equal(b.len, 19);
    assert_int_equal(b.p[16], 0x80 | (2 << 2));
    assert_int_equal(b.p[17], 0x40 | 0x3f);
    assert_int_equal(b.p[18], 0xfe);
    assert_int_equal(hll_set(&b, 0, 2), 0); /* lower: no change */
    /* Register 1 to 3: merges into VAL(3,2). */
    assert_int_equal(hll_set(&b, 1, 3), 1);
    assert_int_equal(b.len, 19);
    assert_int_equal(b.p[16], 0x80 | (2 << 2) | 1);
    /* Register 10 to 1: ZERO(8) VAL(1,1) XZERO(16373). */
    assert_int_equal(hll_set(&b, 10, 1), 1);
    assert_int_equal(b.len, 21);
    assert_int_equal(b.p[17], 7);
    assert_int_equal(b.p[18], 0x80);
    assert_int_equal(((b.p[19] & 0x3f) << 8 | b.p[20]) + 1, 16373);
    /* Last register. */
    assert_int_equal(hll_set(&b, HLL_REGISTERS - 1, 32), 1);
    uint8_t regs[HLL_REGISTERS] = {0};
    assert_int_equal(hll_merge(regs, b.p, b.len), 0);
    assert_int_equal(regs[0], 3);
    assert_int_equal(regs[1], 3);
    assert_int_equal(regs[2], 0);
    assert_int_equal(regs[10], 1);
    assert_int_equal(regs[HLL_REGISTERS - 1], 32);
    /* A value over 32 makes it dense. */
    assert_int_equal(hll_set(&b, 5, 33), 1);
    assert_int_equal(b.p[4], HLL_ENC_DENSE);
    assert_int_equal(b.len, HLL_DENSE_SIZE);
    memset(regs, 0, sizeof(regs));
    assert_int_equal(hll_merge(regs, b.p, b.len), 0);
    assert_int_equal(regs[5], 33);
    assert_int_equal(regs[HLL_REGISTERS - 1], 32);
    assert_int_equal(regs[10], 1);
    hll_buf_free(&b);
}

/* The same elements in a sparse HLL and a forced-dense one: the same
 * registers and estimate; and the sparse one turns dense by itself past
 * HLL_SPARSE_MAX_BYTES. */
static void test_sparse_dense_agree(void **state)
{
    (void)state;
    hll_buf s, d;
    assert_true(hll_buf_empty(&s));
    assert_true(hll_buf_empty(&d));
    assert_int_equal(hll_to_dense(&d), 0);
    int done = 0;
    for (int step = 0; step < 12; step++) {
        int to = done + 50 * (step + 1) * (step + 1);
        add_n(&s, "x", done, to);
        add_n(&d, "x", done, to);
        done = to;
        uint8_t rs[HLL_REGISTERS] = {0}, rd[HLL_REGISTERS] = {0};
        assert_int_equal(hll_merge(rs, s.p, s.len), 0);
        assert_int_equal(hll_merge(rd, d.p, d.len), 0);
        assert_memory_equal(rs, rd, HLL_REGISTERS);
        uint64_t cs, cd;
        assert_int_equal(hll_count(s.p, s.len, &cs), 0);
        assert_int_equal(hll_count(d.p, d.len, &cd), 0);
        assert_true(cs == cd);
        assert_true(hll_count_raw(rs) == cs);
        if (s.p[4] == HLL_ENC_SPARSE)
            assert_true(s.len <= HLL_SPARSE_MAX_BYTES);
        /* within 5% (the standard error is 0.81%) */
        double err = ((double)cs - done) / done;
        assert_true(err < 0.05 && err > -0.05);
    }
    assert_int_equal(s.p[4], HLL_ENC_DENSE); /* promoted on the way */
    hll_buf_free(&s);
    hll_buf_free(&d);
}

static void test_invalid(void **state)
{
    (void)state;
    uint8_t v[HLL_HDR_SIZE + 8];
    uint8_t regs[HLL_REGISTERS];
    uint64_t card;
    memset(v, 0, sizeof(v));
    memcpy(v, "HYLL", 4);
    v[4] = HLL_ENC_SPARSE;
    assert_true(hll_valid_header(v, HLL_HDR_SIZE));
    assert_false(hll_valid_header(v, HLL_HDR_SIZE - 1));
    v[4] = 2;
    assert_false(hll_valid_header(v, HLL_HDR_SIZE));
    v[4] = HLL_ENC_DENSE; /* dense needs its exact length */
    assert_false(hll_valid_header(v, HLL_HDR_SIZE + 2));
    v[4] = HLL_ENC_SPARSE;
    v[0] = 'h';
    assert_false(hll_valid_header(v, HLL_HDR_SIZE));
    v[0] = 'H';
    /* no registers at all */
    assert_int_equal(hll_count(v, HLL_HDR_SIZE, &card), -1);
    /* 16383 registers */
    v[16] = 0x7f;
    v[17] = 0xfe;
    assert_int_equal(hll_count(v, 18, &card), -1);
    /* 16383 + VAL run of 1: exact */
    v[18] = 0x80;
    assert_int_equal(hll_count(v, 19, &card), 0);
    /* 16383 + VAL run of 2: overflow */
    v[18] = 0x81;
    memset(regs, 0, sizeof(regs));
    assert_int_equal(hll_merge(regs, v, 19), -1);
    /* 16384 + ZERO */
    v[17] = 0xff;
    v[18] = 0x00;
    assert_int_equal(hll_count(v, 19, &card), -1);
    /* a cut-off XZERO: its second byte reads as 0 (16129 registers) */
    assert_int_equal(hll_count(v, 17, &card), -1);
    hll_buf b;
    assert_true(hll_buf_copy(&b, v, 19));
    /* An add reads only up to the opcode it changes, as in Redis; the
     * whole body is checked when it turns dense. */
    assert_int_equal(hll_set(&b, 7, 3), 1);
    assert_int_equal(hll_to_dense(&b), -1);
    hll_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_murmur),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_sparse_bytes),
        cmocka_unit_test(test_sparse_dense_agree),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
