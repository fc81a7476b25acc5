/*
 * APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE, INCR/DECR/INCRBY/DECRBY,
 * INCRBYFLOAT (Redis's number formatting) and LCS. Expected replies were
 * taken from redis-server 7.0.
 */
#include <stdio.h>

#include "test_commands.h"

static int setup(void **state)
{
    *state = th_new(4);
    return 0;
}

static int teardown(void **state)
{
    th_free(*state);
    return 0;
}

#define NOTINT "-ERR value is not an integer or out of range\r\n"
#define NOTFLOAT "-ERR value is not a valid float\r\n"
#define OVERFLOW "-ERR increment or decrement would overflow\r\n"
#define TOOBIG                                                                 \
    "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"

static void test_append_strlen(void **state)
{
    th *t = *state;
    EXPECT(t, ":0\r\n", "STRLEN", "a");
    EXPECT(t, ":5\r\n", "APPEND", "a", "hello");
    EXPECT(t, ":11\r\n", "APPEND", "a", " world");
    EXPECT(t, ":11\r\n", "APPEND", "a", "");
    EXPECT(t, "$11\r\nhello world\r\n", "GET", "a");
    EXPECT(t, ":11\r\n", "STRLEN", "a");
    /* APPEND keeps the TTL. */
    EXPECT(t, "+OK\r\n", "SET", "e", "1", "EX", "100");
    EXPECT(t, ":2\r\n", "APPEND", "e", "0");
    EXPECT(t, ":100\r\n", "TTL", "e");
}

static void test_getrange(void **state)
{
    th *t = *state;
    EXPECT(t, "$0\r\n\r\n", "GETRANGE", "nokey", "0", "-1");
    EXPECT(t, "+OK\r\n", "SET", "s", "Hello World");
    EXPECT(t, "$5\r\nHello\r\n", "GETRANGE", "s", "0", "4");
    EXPECT(t, "$5\r\nWorld\r\n", "GETRANGE", "s", "-5", "-1");
    EXPECT(t, "$5\r\nWorld\r\n", "GETRANGE", "s", "6", "100");
    EXPECT(t, "$3\r\nHel\r\n", "GETRANGE", "s", "-100", "2");
    EXPECT(t, "$0\r\n\r\n", "GETRANGE", "s", "5", "2");
    EXPECT(t, "$0\r\n\r\n", "GETRANGE", "s", "-1", "-5");
    EXPECT(t, "$1\r\nd\r\n", "GETRANGE", "s", "10", "10");
    EXPECT(t, "$0\r\n\r\n", "GETRANGE", "s", "11", "20");
    EXPECT(t, "$11\r\nHello World\r\n", "GETRANGE", "s", "-9223372036854775808",
           "9223372036854775807");
    EXPECT(t, "$3\r\nell\r\n", "SUBSTR", "s", "1", "3");
    EXPECT(t, NOTINT, "GETRANGE", "s", "x", "1");
    EXPECT(t, NOTINT, "GETRANGE", "s", "1", "y");
    /* Arguments are checked before the key is looked up. */
    EXPECT(t, NOTINT, "GETRANGE", "nokey", "1", "");
    EXPECT(t, "+OK\r\n", "SET", "e", "");
    EXPECT(t, "$0\r\n\r\n", "GETRANGE", "e", "0", "-1");
    EXPECT(t, "$0\r\n\r\n", "GETRANGE", "e", "-1", "0");
}

static void test_setrange(void **state)
{
    th *t = *state;
    EXPECT(t, ":8\r\n", "SETRANGE", "r", "5", "abc");
    RUN(t, "GET", "r");
    assert_int_equal(t->out.len, 14);
    assert_memory_equal(t->out.data, "$8\r\n\0\0\0\0\0abc\r\n", 14);
    EXPECT(t, ":8\r\n", "SETRANGE", "r", "1", "X");
    RUN(t, "GET", "r");
    assert_memory_equal(t->out.data, "$8\r\n\0X\0\0\0abc\r\n", 14);
    EXPECT(t, ":10\r\n", "SETRANGE", "r", "6", "WXYZ");
    /* Writing nothing answers the length and creates nothing. */
    EXPECT(t, ":10\r\n", "SETRANGE", "r", "0", "");
    EXPECT(t, ":0\r\n", "SETRANGE", "nokey", "0", "");
    EXPECT(t, ":0\r\n", "SETRANGE", "nokey", "536870912", "");
    EXPECT(t, ":0\r\n", "EXISTS", "nokey");
    EXPECT(t, "-ERR offset is out of range\r\n", "SETRANGE", "r", "-1", "x");
    EXPECT(t, NOTINT, "SETRANGE", "r", "x", "y");
    EXPECT(t, TOOBIG, "SETRANGE", "r", "536870912", "x");
    EXPECT(t, TOOBIG, "SETRANGE", "r", "536870910", "xyz");
    EXPECT(t, TOOBIG, "SETRANGE", "r", "9223372036854775807", "x");
    EXPECT(t, ":10\r\n", "STRLEN", "r");
    /* SETRANGE keeps the TTL. */
    EXPECT(t, "+OK\r\n", "SET", "e", "1", "EX", "100");
    EXPECT(t, ":2\r\n", "SETRANGE", "e", "1", "9");
    EXPECT(t, ":100\r\n", "TTL", "e");
}

static void test_incr_decr(void **state)
{
    th *t = *state;
    EXPECT(t, ":1\r\n", "INCR", "c");
    EXPECT(t, ":11\r\n", "INCRBY", "c", "10");
    EXPECT(t, ":10\r\n", "DECR", "c");
    EXPECT(t, ":5\r\n", "DECRBY", "c", "5");
    EXPECT(t, ":8\r\n", "DECRBY", "c", "-3");
    EXPECT(t, ":-9223372036854775800\r\n", "INCRBY", "c",
           "-9223372036854775808");
    EXPECT(t, "$20\r\n-9223372036854775800\r\n", "GET", "c");
    EXPECT(t, ":-1\r\n", "DECR", "new");
    EXPECT(t, ":-7\r\n", "DECRBY", "new2", "7");
    EXPECT(t, "+OK\r\n", "SET", "c", "-5");
    EXPECT(t, ":0\r\n", "INCRBY", "c", "5");
}

static void test_incr_errors(void **state)
{
    th *t = *state;
    EXPECT(t, "+OK\r\n", "SET", "c", "-9223372036854775807");
    EXPECT(t, ":-9223372036854775808\r\n", "DECR", "c");
    EXPECT(t, OVERFLOW, "DECR", "c");
    EXPECT(t, "+OK\r\n", "SET", "c", "9223372036854775806");
    EXPECT(t, ":9223372036854775807\r\n", "INCR", "c");
    EXPECT(t, OVERFLOW, "INCR", "c");
    EXPECT(t, OVERFLOW, "INCRBY", "c", "1");
    EXPECT(t, "-ERR decrement would overflow\r\n", "DECRBY", "c",
           "-9223372036854775808");
    EXPECT(t, NOTINT, "INCRBY", "c", "abc");
    EXPECT(t, NOTINT, "INCRBY", "c", "+1");
    EXPECT(t, NOTINT, "INCRBY", "c", "01");
    EXPECT(t, NOTINT, "INCRBY", "c", "-0");
    EXPECT(t, NOTINT, "INCRBY", "c", "9223372036854775808");
    EXPECT(t, NOTINT, "DECRBY", "c", "");
    const char *bad[] = {
        "1.5", "1 ", " 7", "007", "-0", "", "99999999999999999999", "abc"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EXPECT(t, "+OK\r\n", "SET", "c", bad[i]);
        EXPECT(t, NOTINT, "INCR", "c");
    }
    /* INCR keeps the TTL. */
    EXPECT(t, "+OK\r\n", "SET", "c", "1", "EX", "100");
    EXPECT(t, ":2\r\n", "INCR", "c");
    EXPECT(t, ":100\r\n", "TTL", "c");
}

static void test_incrbyfloat_format(void **state)
{
    th *t = *state;
    EXPECT(t, "+OK\r\n", "SET", "f", "10.5");
    EXPECT(t, "$4\r\n10.6\r\n", "INCRBYFLOAT", "f", "0.1");
    EXPECT(t, "+OK\r\n", "SET", "f", "5.0e3");
    EXPECT(t, "$4\r\n5200\r\n", "INCRBYFLOAT", "f", "2.0e2");
    EXPECT(t, "$3\r\n0.1\r\n", "INCRBYFLOAT", "h", "0.1");
    EXPECT(t, "$3\r\n0.3\r\n", "INCRBYFLOAT", "h", "0.2");
    EXPECT(t, "$21\r\n100000000000000000000\r\n", "INCRBYFLOAT", "h2", "1e20");
    EXPECT(t, "$8\r\n-0.00005\r\n", "INCRBYFLOAT", "h3", "-5e-5");
    EXPECT(t, "$13\r\n0.00000000011\r\n", "INCRBYFLOAT", "h4", "1.1e-10");
    EXPECT(t, "$18\r\n123456789012345678\r\n", "INCRBYFLOAT", "h5",
           "123456789012345678");
    EXPECT(t, "$1\r\n0\r\n", "INCRBYFLOAT", "z", "-0.0");
    EXPECT(t, "$3\r\n1.5\r\n", "INCRBYFLOAT", "p", "+1.5");
    EXPECT(t, "$3\r\n0.5\r\n", "INCRBYFLOAT", "p2", ".5");
    EXPECT(t, "$1\r\n5\r\n", "INCRBYFLOAT", "p3", "5.");
    EXPECT(t, "$2\r\n16\r\n", "INCRBYFLOAT", "p4", "0x10");
    EXPECT(t, "$1\r\n0\r\n", "INCRBYFLOAT", "p5", "1e-4950");
    EXPECT(t, "+OK\r\n", "SET", "c", "-5");
    EXPECT(t, "$5\r\n-5.25\r\n", "INCRBYFLOAT", "c", "-0.25");
    EXPECT(t, "$2\r\n-4\r\n", "INCRBYFLOAT", "c", "1.25");
    EXPECT(t, "$2\r\n-4\r\n", "GET", "c");
    EXPECT(t, "+OK\r\n", "SET", "g", "3.0");
    EXPECT(t, "$1\r\n3\r\n", "INCRBYFLOAT", "g", "1e-20");
    /* INCRBYFLOAT keeps the TTL. */
    EXPECT(t, "+OK\r\n", "SET", "g", "1", "EX", "100");
    EXPECT(t, "$1\r\n2\r\n", "INCRBYFLOAT", "g", "1");
    EXPECT(t, ":100\r\n", "TTL", "g");
}

static void test_incrbyfloat_errors(void **state)
{
    th *t = *state;
    const char *nan_inf = "-ERR increment would produce NaN or Infinity\r\n";
    const char *bad[] = {"abc", "nan", " 1", "1 ", "", "1e5000", "1.2.3"};
    EXPECT(t, "+OK\r\n", "SET", "f", "1");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        EXPECT(t, NOTFLOAT, "INCRBYFLOAT", "f", bad[i]);
    EXPECT(t, nan_inf, "INCRBYFLOAT", "f", "inf");
    EXPECT(t, nan_inf, "INCRBYFLOAT", "f", "-inf");
    EXPECT(t, "$1\r\n1\r\n", "GET", "f");
    EXPECT(t, "+OK\r\n", "SET", "s", "abc");
    EXPECT(t, NOTFLOAT, "INCRBYFLOAT", "s", "1");
    EXPECT(t, "+OK\r\n", "SET", "s", " 1");
    EXPECT(t, NOTFLOAT, "INCRBYFLOAT", "s", "1");
    EXPECT(t, "+OK\r\n", "SET", "s", "1e400");
    RUN(t, "INCRBYFLOAT", "s", "1");
    assert_memory_equal(t->out.data, "$401\r\n1000000000000000000028188", 29);
}

#define LCS_A "ohmytext"
#define LCS_B "mynewtext"

static void test_lcs_basic(void **state)
{
    th *t = *state;
    EXPECT(t, "+OK\r\n", "MSET", "key1", LCS_A, "key2", LCS_B);
    EXPECT(t, "$6\r\nmytext\r\n", "LCS", "key1", "key2");
    EXPECT(t, ":6\r\n", "LCS", "key1", "key2", "LEN");
    EXPECT(t, "$0\r\n\r\n", "LCS", "key1", "nokey");
    EXPECT(t, "$8\r\n" LCS_A "\r\n", "LCS", "key1", "key1");
    EXPECT(t, ":0\r\n", "LCS", "nokey", "nokey2", "len");
    EXPECT(t, "+OK\r\n", "MSET", "x", "ABCBDAB", "y", "BDCABA");
    EXPECT(t, ":4\r\n", "LCS", "x", "y", "LEN");
    EXPECT(t, "$4\r\nBDAB\r\n", "LCS", "x", "y");
    EXPECT(t,
           "*4\r\n$7\r\nmatches\r\n*2\r\n"
           "*2\r\n*2\r\n:5\r\n:6\r\n*2\r\n:3\r\n:4\r\n"
           "*2\r\n*2\r\n:3\r\n:4\r\n*2\r\n:0\r\n:1\r\n"
           "$3\r\nlen\r\n:4\r\n",
           "LCS", "x", "y", "IDX");
}

static void test_lcs_idx(void **state)
{
    th *t = *state;
    EXPECT(t, "+OK\r\n", "MSET", "key1", LCS_A, "key2", LCS_B);
    EXPECT(t,
           "*4\r\n$7\r\nmatches\r\n*2\r\n"
           "*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n"
           "*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n"
           "$3\r\nlen\r\n:6\r\n",
           "LCS", "key1", "key2", "IDX");
    EXPECT(t,
           "*4\r\n$7\r\nmatches\r\n*1\r\n"
           "*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
           "$3\r\nlen\r\n:6\r\n",
           "LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN");
    EXPECT(t,
           "*4\r\n$7\r\nmatches\r\n*2\r\n"
           "*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
           "*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n"
           "$3\r\nlen\r\n:6\r\n",
           "LCS", "key1", "key2", "idx", "withmatchlen", "minmatchlen", "-5");
    EXPECT(t, "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n", "LCS",
           "nokey", "nokey2", "IDX");
    t->w.proto = 3;
    EXPECT(t,
           "%2\r\n$7\r\nmatches\r\n*1\r\n"
           "*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
           "$3\r\nlen\r\n:6\r\n",
           "LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN");
}

static void test_lcs_errors(void **state)
{
    th *t = *state;
    EXPECT(t, "+OK\r\n", "MSET", "key1", LCS_A, "key2", LCS_B);
    EXPECT(t,
           "-ERR If you want both the length and indexes, please just use "
           "IDX.\r\n",
           "LCS", "key1", "key2", "IDX", "LEN");
    EXPECT(t, "-ERR syntax error\r\n", "LCS", "key1", "key2", "MINMATCHLEN");
    EXPECT(t, "-ERR syntax error\r\n", "LCS", "key1", "key2", "FOO");
    EXPECT(t, NOTINT, "LCS", "key1", "key2", "MINMATCHLEN", "abc");
    /* A 12000 x 12000 table would need more than proto-max-bulk-len. */
    char *big = malloc(12001);
    assert_non_null(big);
    memset(big, 'a', 12000);
    big[12000] = '\0';
    EXPECT(t, "+OK\r\n", "MSET", "big1", big, "big2", big);
    EXPECT(t,
           "-ERR Insufficient memory, transient memory for LCS exceeds "
           "proto-max-bulk-len\r\n",
           "LCS", "big1", "big2");
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_append_strlen),
        T(test_getrange),
        T(test_setrange),
        T(test_incr_decr),
        T(test_incr_errors),
        T(test_incrbyfloat_format),
        T(test_incrbyfloat_errors),
        T(test_lcs_basic),
        T(test_lcs_idx),
        T(test_lcs_errors),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
