/* test_num.c — util/num.h: Redis's string2ll rule, which both INCR (on a
 * stored value) and integer command arguments rely on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/num.h"

#include <math.h>
#include <stdio.h>

static void expect_ok(const char *s, int64_t want)
{
    int64_t v = want ^ 1; /* anything else, to see that it is written */
    assert_true(fc_parse_i64(s, strlen(s), &v));
    assert_true(v == want);
}

static void expect_bad(const void *s, size_t n)
{
    int64_t v = 42;
    assert_false(fc_parse_i64(s, n, &v));
    assert_int_equal(v, 42); /* untouched on failure */
}

static void test_accepts_canonical(void **state)
{
    (void)state;
    expect_ok("0", 0);
    expect_ok("7", 7);
    expect_ok("-7", -7);
    expect_ok("1234567890", 1234567890);
    expect_ok("9223372036854775807", INT64_MAX);
    expect_ok("-9223372036854775808", INT64_MIN);
    expect_ok("-9223372036854775807", -INT64_MAX);
}

static void test_rejects_non_canonical(void **state)
{
    (void)state;
    static const char *bad[] = {"",    "-",   "+1",  " 1",  "1 ",
                                "01",  "00",  "-0",  "-01", "1a",
                                "0x1", "1.0", "1e3", "--1", "abc"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_bad(bad[i], strlen(bad[i]));
}

static void test_rejects_out_of_range(void **state)
{
    (void)state;
    expect_bad("9223372036854775808", 19);
    expect_bad("-9223372036854775809", 20);
    expect_bad("18446744073709551616", 20); /* 2^64: u64 overflow itself */
    expect_bad("99999999999999999999", 20);
    expect_bad("-99999999999999999999", 21); /* longer than 20 chars */
    expect_bad("100000000000000000000", 21);
}

/* Only p[0..n) is read: the argument is a view into a larger buffer. */
static void test_length_bounds_the_input(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_true(fc_parse_i64("123456", 3, &v));
    assert_int_equal(v, 123);
    assert_true(fc_parse_i64("-5-", 2, &v));
    assert_int_equal(v, -5);
    expect_bad("1\0", 2); /* an embedded NUL is a bad character */
    expect_bad("12", 0);  /* empty view */
}

/* fc_fmt_g17 must print exactly what "%.17g" prints: its integer path
 * (below 2^53) and its libc path, both signs of zero, the edges. */
static void expect_g17(double d)
{
    char want[64], got[FC_G17_MAX];
    int k = snprintf(want, sizeof want, "%.17g", d);
    size_t n = fc_fmt_g17(d, got);
    assert_int_equal(n, (size_t)k);
    assert_string_equal(got, want);
}

static void test_g17_matches_printf(void **state)
{
    (void)state;
    const double fixed[] = {0.0, -0.0, 1, -1, 0.5, -0.5, 1.5, 3.0, 10, 1e15,
                            1e16, 1e17, -1e17, 9007199254740991.0,
                            -9007199254740991.0, 9007199254740992.0,
                            -9007199254740992.0, 9007199254740994.0, 1e300,
                            -1e-300, 4.9e-324, 123456789.125, 0.1, 2.5e-7};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        expect_g17(fixed[i]);
    uint64_t s = 77;
    for (int i = 0; i < 200000; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double d;
        switch (i % 4) {
        case 0: /* integers across the 2^53 edge */
            d = (double)(int64_t)(s >> (i % 40)) * ((s & 1) ? -1 : 1);
            break;
        case 1: /* small integers, the common score */
            d = (double)(int64_t)((s >> 33) % 2000001) - 1000000;
            break;
        case 2: { /* any finite bit pattern */
            uint64_t b = s ^ (s >> 17);
            memcpy(&d, &b, sizeof d);
            if (!isfinite(d))
                d = 1.25;
            break;
        }
        default: /* halves and quarters */
            d = (double)(int64_t)((s >> 30) % 100000) / 4.0;
        }
        expect_g17(d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_g17_matches_printf),
        cmocka_unit_test(test_accepts_canonical),
        cmocka_unit_test(test_rejects_non_canonical),
        cmocka_unit_test(test_rejects_out_of_range),
        cmocka_unit_test(test_length_bounds_the_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
