/* test_msgpack.c — protocol/msgpack.h, the codec under scripts' cmsgpack,
 * and util/sha1.h, the scripts' names: encodings byte for byte (the forms
 * lua_cmsgpack picks), decoding of every type byte range, truncation and
 * bad formats, and SHA-1 against FIPS 180 vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/msgpack.h"
#include "util/sha1.h"

static void expect_int(int64_t v, const char *hex)
{
    fc_buf b = {0};
    mp_put_int(&b, v);
    char got[64] = "";
    for (size_t i = 0; i < b.len; i++)
        snprintf(got + 2 * i, 3, "%02x", (unsigned char)b.data[i]);
    assert_string_equal(got, hex);
    size_t at = 0;
    mp_item it;
    assert_int_equal(mp_next(b.data, b.len, &at, &it), MP_OK);
    assert_int_equal(at, b.len);
    assert_int_equal(it.kind, MP_INT);
    assert_true(it.i == v);
    fc_buf_free(&b);
}

static void test_integers(void **state)
{
    (void)state;
    expect_int(0, "00");
    expect_int(127, "7f");
    expect_int(128, "cc80");
    expect_int(256, "cd0100");
    expect_int(65536, "ce00010000");
    expect_int(4294967296LL, "cf0000000100000000");
    expect_int(-1, "ff");
    expect_int(-32, "e0");
    expect_int(-33, "d0df");
    expect_int(-129, "d1ff7f");
    expect_int(-32769, "d2ffff7fff");
    expect_int(-2147483649LL, "d3ffffffff7fffffff");
    expect_int(INT64_MIN, "d38000000000000000");
}

static void test_floats_strings_containers(void **state)
{
    (void)state;
    fc_buf b = {0};
    mp_put_double(&b, 1.5);  /* exact in float32 */
    mp_put_double(&b, 0.1);  /* not */
    mp_put_str(&b, "ab", 2); /* fixstr */
    char big[300];
    memset(big, 'x', sizeof(big));
    mp_put_str(&b, big, 40);  /* str8 */
    mp_put_str(&b, big, 300); /* str16 */
    mp_put_array(&b, 3);
    mp_put_map(&b, 20); /* map16 */
    mp_put_nil(&b);
    mp_put_bool(&b, 1);
    const unsigned char *p = (const unsigned char *)b.data;
    assert_int_equal(p[0], 0xca);
    assert_int_equal(p[5], 0xcb);
    assert_int_equal(p[14], 0xa2);
    size_t at = 0;
    mp_item it;
    assert_int_equal(mp_next(b.data, b.len, &at, &it), MP_OK);
    assert_true(it.kind == MP_FLOAT && it.d == 1.5);
    assert_int_equal(mp_next(b.data, b.len, &at, &it), MP_OK);
    assert_true(it.kind == MP_FLOAT && it.d == 0.1);
    assert_int_equal(mp_next(b.data, b.len, &at, &it), MP_OK);
    assert_true(it.kind == MP_STR && it.len == 2 && !memcmp(it.s, "ab", 2));
    assert_int_equal(mp_next(b.data, b.len, &at, &it), MP_OK);
    assert_true(it.kind == MP_STR && it.len == 40);
    assert_int_equal(p[at], 0xda);
    assert_int_equal(mp_next(b.data, b.len, &at, &it), MP_OK);
    assert_true(it.kind == MP_STR && it.len == 300);
    assert_int_equal(mp_next(b.data, b.len, &at, &it), MP_OK);
    assert_true(it.kind == MP_ARRAY && it.n == 3);
    assert_int_equal(p[at], 0xde);
    assert_int_equal(mp_next(b.data, b.len, &at, &it), MP_OK);
    assert_true(it.kind == MP_MAP && it.n == 20);
    assert_int_equal(mp_next(b.data, b.len, &at, &it), MP_OK);
    assert_int_equal(it.kind, MP_NIL);
    assert_int_equal(mp_next(b.data, b.len, &at, &it), MP_OK);
    assert_true(it.kind == MP_BOOL && it.b);
    assert_int_equal(at, b.len);
    assert_int_equal(mp_next(b.data, b.len, &at, &it), MP_EMISSING);
    fc_buf_free(&b);
}

static void test_truncated_and_bad(void **state)
{
    (void)state;
    static const unsigned char cases[][3] = {
        {0xcd, 0x01}, {0xd9, 0x05, 'a'}, {0xdc, 0x00}, {0xcb, 0, 0}};
    static const size_t lens[] = {2, 3, 2, 3};
    for (size_t i = 0; i < 4; i++) {
        size_t at = 0;
        mp_item it;
        assert_int_equal(mp_next(cases[i], lens[i], &at, &it), MP_EMISSING);
        assert_int_equal(at, 0);
    }
    for (unsigned t = 0xc1; t <= 0xd8; t++) {
        if (t == 0xc1 || (t >= 0xc7 && t <= 0xc9) || (t >= 0xd4 && t <= 0xd8)) {
            unsigned char one[9] = {(unsigned char)t};
            size_t at = 0;
            mp_item it;
            assert_int_equal(mp_next(one, sizeof(one), &at, &it), MP_EBADFMT);
        }
    }
    /* uint64 above INT64_MAX stays unsigned. */
    unsigned char u[9] = {0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    size_t at = 0;
    mp_item it;
    assert_int_equal(mp_next(u, 9, &at, &it), MP_OK);
    assert_true(it.kind == MP_UINT && it.u == UINT64_MAX);
}

static void test_sha1(void **state)
{
    (void)state;
    char h[41];
    fc_sha1_hex("", 0, h);
    assert_string_equal(h, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    fc_sha1_hex("abc", 3, h);
    assert_string_equal(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    fc_sha1_hex(m, strlen(m), h); /* 56 bytes: the padding needs 2 blocks */
    assert_string_equal(h, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    char a[1000];
    memset(a, 'a', sizeof(a));
    fc_sha1_hex(a, sizeof(a), h);
    assert_string_equal(h, "291e9a6c66994949b57ba5e650361e98fc36b1ba");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_floats_strings_containers),
        cmocka_unit_test(test_truncated_and_bad),
        cmocka_unit_test(test_sha1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
