/* test_num.c — util/num.h: Redis's string2ll rule, which both INCR (on a
 * stored value) and integer command arguments rely on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/num.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_canonical),
        cmocka_unit_test(test_rejects_non_canonical),
        cmocka_unit_test(test_rejects_out_of_range),
        cmocka_unit_test(test_length_bounds_the_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
