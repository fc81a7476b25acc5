/* test_obj_core.c — the pieces every typed value shares: the pack encoding
 * (engine/pack.h) checked against a plain array model, and the op record
 * codec (engine/obj.h): round trips, and every truncation and corruption
 * of a valid record refused without reading past its end (ASan in CI). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/obj.h"
#include "engine/pack.h"

static uint64_t rng = 0x1234567;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

#define MODEL_MAX 300
typedef struct item {
    uint8_t b[200];
    size_t n;
} item;

static void random_item(item *it)
{
    /* Lengths across the one/two byte varint edge (127/128). */
    static const size_t lens[] = {0, 1, 5, 127, 128, 129, 199};
    it->n = rnd() % 3 ? rnd() % 20 : lens[rnd() % 7];
    for (size_t i = 0; i < it->n; i++)
        it->b[i] = (uint8_t)rnd();
}

static void check_same(const eng_pack *pk, const item *m, size_t count)
{
    assert_int_equal(pk->count, count);
    size_t off = 0;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *p;
        size_t n;
        assert_true(off < pk->used);
        assert_int_equal(pk_offset(pk, i), off);
        off = pk_item(pk, off, &p, &n);
        assert_int_equal(n, m[i].n);
        if (n)
            assert_memory_equal(p, m[i].b, n);
    }
    assert_int_equal(off, pk->used);
    assert_true(pk_heap(pk) >= pk->used);
}

static void test_pack_model(void **state)
{
    (void)state;
    static item m[MODEL_MAX];
    size_t count = 0;
    eng_pack pk = {0};
    for (int step = 0; step < 20000; step++) {
        unsigned op = (unsigned)(rnd() % 10);
        if (op < 4 && count < MODEL_MAX) { /* insert anywhere */
            size_t at = rnd() % (count + 1);
            item it;
            random_item(&it);
            assert_int_equal(pk_insert(&pk, pk_offset(&pk, at), it.b, it.n),
                             FC_OK);
            memmove(&m[at + 1], &m[at], (count - at) * sizeof(item));
            m[at] = it;
            count++;
        } else if (op < 5 && count + 2 <= MODEL_MAX) { /* a pair */
            size_t at = rnd() % (count + 1);
            item a, b;
            random_item(&a);
            random_item(&b);
            assert_int_equal(
                pk_insert2(&pk, pk_offset(&pk, at), a.b, a.n, b.b, b.n),
                FC_OK);
            memmove(&m[at + 2], &m[at], (count - at) * sizeof(item));
            m[at] = a;
            m[at + 1] = b;
            count += 2;
        } else if (op < 7 && count) { /* erase a run */
            size_t at = rnd() % count, n = 1 + rnd() % 3;
            if (n > count - at)
                n = count - at;
            pk_erase(&pk, pk_offset(&pk, at), n);
            memmove(&m[at], &m[at + n], (count - at - n) * sizeof(item));
            count -= n;
        } else if (op < 9 && count) { /* replace, growing or shrinking */
            size_t at = rnd() % count;
            item it;
            random_item(&it);
            assert_int_equal(pk_replace(&pk, pk_offset(&pk, at), it.b, it.n),
                             FC_OK);
            m[at] = it;
        } else if (count) { /* find: the first equal item at the stride */
            size_t at = rnd() % count, stride = 1 + rnd() % 2;
            size_t want = PK_NONE;
            for (size_t i = 0; i < count; i += stride)
                if (m[i].n == m[at].n && !memcmp(m[i].b, m[at].b, m[at].n)) {
                    want = pk_offset(&pk, i);
                    break;
                }
            assert_int_equal(pk_find(&pk, m[at].b, m[at].n, stride), want);
        }
        if (step % 97 == 0)
            check_same(&pk, m, count);
    }
    check_same(&pk, m, count);
    eng_pack cp;
    assert_int_equal(pk_copy(&cp, &pk), FC_OK);
    check_same(&cp, m, count);
    pk_free(&cp);
    pk_free(&pk);
    assert_null(pk.data);
}

/* An emptied pack gives its block back. */
static void test_pack_empty_frees(void **state)
{
    (void)state;
    eng_pack pk = {0};
    for (int i = 0; i < 50; i++)
        assert_int_equal(pk_append(&pk, "abcdef", 6), FC_OK);
    pk_erase(&pk, 0, 50);
    assert_int_equal(pk.count, 0);
    assert_int_equal(pk.used, 0);
    assert_null(pk.data);
    assert_int_equal(pk_heap(&pk), 0);
}

static void test_op_roundtrip(void **state)
{
    (void)state;
    for (int round = 0; round < 200; round++) {
        unsigned code = (unsigned)(rnd() % 256);
        size_t argc = rnd() % 40;
        static item args[40];
        eng_op *op = eng_op_begin(code);
        for (size_t i = 0; i < argc; i++) {
            random_item(&args[i]);
            eng_op_arg(op, args[i].b, args[i].n);
        }
        eng_op_arg_i64(op, -1234567890123);
        eng_op_arg_f64(op, -2.5);
        eng_op_arg_f64(op, INFINITY);
        eng_op_reader r;
        unsigned got;
        fc_buf rec = {0};
        size_t len;
        const uint8_t *bytes = eng_op_record(op, &len);
        assert_non_null(bytes);
        fc_buf_append(&rec, bytes, len);
        assert_int_equal(eng_op_open(rec.data, rec.len, &got, &r), FC_OK);
        assert_int_equal(got, code);
        assert_int_equal(r.left, argc + 3);
        for (size_t i = 0; i < argc; i++) {
            const uint8_t *p;
            size_t n;
            assert_true(eng_op_next(&r, &p, &n));
            assert_int_equal(n, args[i].n);
            if (n)
                assert_memory_equal(p, args[i].b, n);
        }
        int64_t iv;
        double dv;
        assert_true(eng_op_next_i64(&r, &iv));
        assert_true(iv == -1234567890123);
        assert_true(eng_op_next_f64(&r, &dv));
        assert_true(dv == -2.5);
        assert_true(eng_op_next_f64(&r, &dv));
        assert_true(isinf(dv) && dv > 0);
        const uint8_t *p;
        size_t n;
        assert_false(eng_op_next(&r, &p, &n)); /* nothing more */
        /* Every truncation fails somewhere, never reading past the end:
         * each prefix is copied to a block of exactly its size. */
        for (size_t cut = 0; cut < rec.len; cut++) {
            uint8_t *t = malloc(cut ? cut : 1);
            memcpy(t, rec.data, cut);
            bool ok = eng_op_open(t, cut, &got, &r) == FC_OK;
            size_t seen = 0;
            while (ok && eng_op_next(&r, &p, &n))
                seen++;
            assert_true(!ok || seen < argc + 3);
            free(t);
        }
        fc_buf_free(&rec);
    }
}

static void test_op_bad_numbers(void **state)
{
    (void)state;
    /* code 1, argc 3: "12x", a 7-byte score, a NaN score */
    uint8_t rec[64], *p = rec;
    *p++ = 1;
    *p++ = 3;
    *p++ = 3;
    memcpy(p, "12x", 3);
    p += 3;
    *p++ = 7;
    memset(p, 0, 7);
    p += 7;
    *p++ = 8;
    double nan_v = NAN;
    uint64_t u;
    memcpy(&u, &nan_v, 8);
    for (int i = 0; i < 8; i++)
        *p++ = (uint8_t)(u >> (8 * i));
    eng_op_reader r;
    unsigned code;
    int64_t iv;
    double dv;
    assert_int_equal(eng_op_open(rec, (size_t)(p - rec), &code, &r), FC_OK);
    assert_false(eng_op_next_i64(&r, &iv));
    assert_false(eng_op_next_f64(&r, &dv));
    assert_false(eng_op_next_f64(&r, &dv));
    /* argc larger than the record could hold */
    uint8_t big[] = {1, 0xff, 0xff, 0x03, 0};
    assert_int_equal(eng_op_open(big, sizeof(big), &code, &r), FC_EINVAL);
    /* an argument length running past the end */
    uint8_t past[] = {1, 1, 0x80 | 10, 0};
    assert_int_equal(eng_op_open(past, sizeof(past), &code, &r), FC_OK);
    const uint8_t *ap;
    size_t an;
    assert_false(eng_op_next(&r, &ap, &an));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_model),
        cmocka_unit_test(test_pack_empty_frees),
        cmocka_unit_test(test_op_roundtrip),
        cmocka_unit_test(test_op_bad_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
