/*
 * test_commands_args.c — argument parsing the commands share, against the
 * rule each one copies: zc_parse_double (a ZADD score) must accept what
 * strtod accepts over the whole argument and give the same bits, its
 * integer shortcut included (signs, leading zeros, -0, 15 and 16 digits);
 * cmd_arg_is must match a literal case-insensitively and nothing longer,
 * shorter or different.
 */
#include "test_commands.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands/cmd_util.h"
#include "commands/t_zset_int.h"

/* Redis's getDoubleFromObject as the reference: strtod over all of it. */
static bool ref_double(const char *s, size_t n, double *out)
{
    char buf[128];
    if (n == 0 || n >= sizeof buf || s[0] == ' ' || s[0] == '\t' ||
        s[0] == '\n' || s[0] == '\r' || s[0] == '\v' || s[0] == '\f')
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if ((size_t)(end - buf) != n || isnan(v) ||
        (errno == ERANGE &&
         (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO)))
        return false;
    *out = v;
    return true;
}

static void same_as_strtod(const char *s)
{
    resp_arg a = {.ptr = s, .len = strlen(s)};
    double want = 0, got = 12345.5;
    bool ok = ref_double(s, a.len, &want);
    assert_int_equal(zc_parse_double(&a, &got), ok);
    if (ok) {
        assert_memory_equal(&got, &want, sizeof got); /* -0 and 0 differ */
    } else {
        assert_true(got == 12345.5); /* untouched */
    }
}

static void test_scores_match_strtod(void **state)
{
    (void)state;
    static const char *fixed[] = {
        "0",
        "-0",
        "+0",
        "00",
        "007",
        "-007",
        "1",
        "-1",
        "+1",
        "-",
        "+",
        "",
        "1.5",
        "-1.5",
        "1e3",
        "1E3",
        "inf",
        "-inf",
        "+inf",
        "nan",
        "1x",
        "x1",
        " 1",
        "1 ",
        "0x10",
        "--1",
        "+-1",
        "1e400",
        "1e-400",
        ".5",
        "999999999999999",
        "-999999999999999",
        "9999999999999999",
        "-9999999999999999",
        "123456789012345678901234567890",
        "9007199254740993",
        "000000000000000000001",
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        same_as_strtod(fixed[i]);
    uint64_t s = 99;
    char buf[64];
    for (int i = 0; i < 20000; i++) { /* random digit strings, 1..18 long */
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t len = 1 + (size_t)((s >> 40) % 18), at = 0;
        unsigned sign = (unsigned)(s >> 20) % 4;
        if (sign == 1)
            buf[at++] = '-';
        else if (sign == 2)
            buf[at++] = '+';
        for (size_t j = 0; j < len; j++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            buf[at++] = (char)('0' + (s >> 33) % 10);
        }
        buf[at] = '\0';
        same_as_strtod(buf);
    }
}

static bool is(const char *arg, const char *lower)
{
    resp_arg a = {.ptr = arg, .len = strlen(arg)};
    return cmd_arg_is(&a, lower);
}

static void test_arg_is(void **state)
{
    (void)state;
    assert_true(is("nx", "nx"));
    assert_true(is("NX", "nx"));
    assert_true(is("iNcR", "incr"));
    assert_false(is("n", "nx"));
    assert_false(is("nxx", "nx"));
    assert_false(is("", "nx"));
    assert_false(is("mx", "nx"));
    assert_false(is("nX ", "nx"));
    assert_true(is("", ""));
    /* A literal in a variable (SET's option table): the same rule. */
    const char *names[] = {"ex", "px", "keepttl"};
    resp_arg a = {.ptr = "KEEPTTL", .len = 7};
    assert_false(cmd_arg_is(&a, names[0]));
    assert_true(cmd_arg_is(&a, names[2]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scores_match_strtod),
        cmocka_unit_test(test_arg_is),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
