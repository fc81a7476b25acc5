/*
 * test_resp.c — RESP parser, reply writer and reply_len.
 *
 * Expected values are Redis 7.0's (checked against redis-server 7.0.15 where
 * the behaviour is observable on the wire).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/resp.h"

#define MAXARGS 64
#define ALL ((size_t)-1) /* expect_args: the request is the whole input */

typedef struct result {
    enum resp_status st;
    size_t argc, consumed, need;
    const char *err;
    resp_arg args[MAXARGS];
} result;

static resp_limits deflim(void)
{
    resp_limits l;
    resp_limits_default(&l);
    return l;
}

/* Parses a heap copy of exactly n bytes, so that ASan sees any over-read. */
static result parse_n(const char *in, size_t n, int mut, char **keep)
{
    resp_limits lim = deflim();
    result r;
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, in, n);
    if (mut)
        r.st = resp_parse_mut(copy, n, &lim, r.args, MAXARGS, &r.argc,
                              &r.consumed, &r.need, &r.err);
    else
        r.st = resp_parse(copy, n, &lim, r.args, MAXARGS, &r.argc, &r.consumed,
                          &r.need, &r.err);
    if (r.st == RESP_DONE)
        for (size_t i = 0; i < r.argc; i++)
            assert_true(r.args[i].ptr >= copy &&
                        r.args[i].ptr + r.args[i].len <= copy + n);
    *keep = copy;
    return r;
}

/* Expects one request made of the NULL-terminated words. */
static void expect_args(const char *in, size_t n, int mut, size_t consumed, ...)
{
    char *keep;
    result r = parse_n(in, n, mut, &keep);
    va_list ap;
    size_t i = 0;
    const char *w;

    assert_int_equal(r.st, RESP_DONE);
    assert_int_equal(r.consumed, consumed == ALL ? n : consumed);
    va_start(ap, consumed);
    while ((w = va_arg(ap, const char *)) != NULL) {
        assert_true(i < r.argc);
        assert_int_equal(r.args[i].len, strlen(w));
        assert_memory_equal(r.args[i].ptr, w, strlen(w));
        i++;
    }
    va_end(ap);
    assert_int_equal(r.argc, i);
    free(keep);
}

static void expect_error(const char *in, size_t n, const char *err)
{
    char *keep;
    result r = parse_n(in, n, 1, &keep);
    assert_int_equal(r.st, RESP_ERROR);
    assert_string_equal(r.err, err);
    free(keep);
}

static enum resp_status status_of(const char *in, size_t n, size_t *consumed)
{
    char *keep;
    result r = parse_n(in, n, 1, &keep);
    free(keep);
    if (consumed)
        *consumed = r.consumed;
    return r.st;
}

#define S(lit) lit, sizeof(lit) - 1

static void test_multibulk_basic(void **state)
{
    (void)state;
    expect_args(S("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"), 0, 33,
                "SET", "key", "value", NULL);
    expect_args(S("*1\r\n$0\r\n\r\n"), 0, 10, "", NULL);
    expect_args(S("*2\r\n$4\r\nECHO\r\n$12\r\n123456789012\r\n"), 0, ALL,
                "ECHO", "123456789012", NULL);
    /* Only the first request of a pipeline is consumed. */
    expect_args(S("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n"), 0, 14, "PING",
                NULL);
}

static void test_multibulk_binary(void **state)
{
    (void)state;
    static const char in[] = "*2\r\n$3\r\nGET\r\n$6\r\na\0\r\nb\n\r\n";
    char *keep;
    result r = parse_n(in, sizeof(in) - 1, 0, &keep);
    assert_int_equal(r.st, RESP_DONE);
    assert_int_equal(r.argc, 2);
    assert_int_equal(r.args[1].len, 6);
    assert_memory_equal(r.args[1].ptr, "a\0\r\nb\n", 6);
    assert_int_equal(r.consumed, sizeof(in) - 1);
    free(keep);
}

static void test_multibulk_empty(void **state)
{
    size_t c;
    (void)state;
    assert_int_equal(status_of(S("*0\r\n"), &c), RESP_EMPTY);
    assert_int_equal(c, 4);
    assert_int_equal(status_of(S("*-1\r\n"), &c), RESP_EMPTY);
    assert_int_equal(c, 5);
    assert_int_equal(status_of(S("*-7\r\n*1\r\n"), &c), RESP_EMPTY);
    assert_int_equal(c, 5);
    assert_int_equal(status_of("", 0, NULL), RESP_NEED_MORE);
}

/* Redis skips the two bytes after a length line and after a payload without
 * looking at them; a wrong length desyncs the stream the same way. */
static void test_multibulk_skips_like_redis(void **state)
{
    (void)state;
    expect_args(S("*1\r\n$3\r\nfooXY"), 0, 13, "foo", NULL);
    expect_args(S("*1\rX$3\rYfoo\r\n"), 0, 13, "foo", NULL);
    expect_error(S("*2\r\n$3\r\nfoobar\r\n$1\r\nx\r\n"),
                 "ERR Protocol error: expected '$', got 'r'");
}

static void test_multibulk_errors(void **state)
{
    (void)state;
    const char *ml = "ERR Protocol error: invalid multibulk length";
    const char *bl = "ERR Protocol error: invalid bulk length";
    expect_error(S("*x\r\n"), ml);
    expect_error(S("*\r\n"), ml);
    expect_error(S("*01\r\n"), ml);
    expect_error(S("*+1\r\n"), ml);
    expect_error(S("*1 \r\n"), ml);
    expect_error(S("*-0\r\n"), ml);
    expect_error(S("*1048577\r\n"), ml);
    expect_error(S("*9999999999999999999\r\n"), ml);
    expect_error(S("*99999999999999999999999999\r\n"), ml);
    expect_error(S("*1\r\n$-1\r\n"), bl);
    expect_error(S("*1\r\n$\r\n"), bl);
    expect_error(S("*1\r\n$0x1\r\n"), bl);
    expect_error(S("*1\r\n$536870913\r\n"), bl);
    expect_error(S("*1\r\n$9999999999999999999\r\n"), bl);
    expect_error(S("*1\r\n$9223372036854775807\r\n"), bl);
    expect_error(S("*1\r\n:1\r\n"),
                 "ERR Protocol error: expected '$', got ':'");
    expect_error(S("*2\r\n$1\r\na\r\n\r\n"),
                 "ERR Protocol error: expected '$', got ' '");
    /* A NUL byte ends the text, as Redis's %c + sdscat does. */
    expect_error(S("*1\r\n\0\r\n"), "ERR Protocol error: expected '$', got '");
    /* 512 MiB is still fine: it waits for the payload. */
    assert_int_equal(status_of(S("*1\r\n$536870912\r\n"), NULL),
                     RESP_NEED_MORE);
    assert_int_equal(status_of(S("*1048576\r\n"), NULL), RESP_NEED_MORE);
}

static void test_too_big_count_strings(void **state)
{
    (void)state;
    size_t n = 64 * 1024 + 10;
    char *b = malloc(n + 8);
    assert_non_null(b);
    b[0] = '*';
    memset(b + 1, '1', n - 1);
    /* Exactly 64 KiB of line still waits (Redis: > PROTO_INLINE_MAX_SIZE). */
    assert_int_equal(status_of(b, 64 * 1024, NULL), RESP_NEED_MORE);
    expect_error(b, 64 * 1024 + 1,
                 "ERR Protocol error: too big mbulk count string");
    expect_error(b, n, "ERR Protocol error: too big mbulk count string");
    /* With a '\r' later the line is merely an invalid number. */
    memcpy(b + n, "\r\n", 2);
    expect_error(b, n + 2, "ERR Protocol error: invalid multibulk length");
    memcpy(b, "*1\r\n$", 5);
    expect_error(b, n, "ERR Protocol error: too big bulk count string");
    /* The '$' is only checked once the line is complete. */
    memcpy(b, "*1\r\nX", 5);
    expect_error(b, n, "ERR Protocol error: too big bulk count string");
    assert_int_equal(status_of(b, 100, NULL), RESP_NEED_MORE);
    free(b);
}

static void test_huge_lengths_no_overflow(void **state)
{
    (void)state;
    resp_limits lim = {SIZE_MAX, SIZE_MAX, 64 * 1024, 0, 0};
    resp_arg a[4];
    size_t argc, consumed, need;
    const char *err;
    static const char in[] =
        "*9223372036854775807\r\n$9223372036854775807\r\nx";
    enum resp_status st = resp_parse(in, sizeof(in) - 1, &lim, a, 4, &argc,
                                     &consumed, &need, &err);
    assert_int_equal(st, RESP_NEED_MORE);
    assert_true(need > sizeof(in) - 1);
    assert_int_equal(need, SIZE_MAX); /* saturated, not wrapped */
}

static void test_need_hint(void **state)
{
    (void)state;
    char *keep;
    result r = parse_n(S("*2\r\n$5\r\nhel"), 0, &keep);
    free(keep);
    assert_int_equal(r.st, RESP_NEED_MORE);
    /* this payload (4+4+5+2) and at least "$0\r\n\r\n" for the next word */
    assert_int_equal(r.need, 21);
    r = parse_n(S("*3\r\n"), 0, &keep);
    free(keep);
    assert_int_equal(r.need, 4 + 3 * 6);
    r = parse_n(S("GET a"), 0, &keep);
    free(keep);
    assert_int_equal(r.st, RESP_NEED_MORE);
    assert_int_equal(r.need, 0);
}

/* Every prefix of a request waits; need never overshoots; the whole gives
 * the same words. */
static void check_split(const char *in, size_t n)
{
    char *keep, *keep2;
    result full = parse_n(in, n, 1, &keep);
    assert_true(full.st == RESP_DONE || full.st == RESP_EMPTY);
    for (size_t k = 0; k < full.consumed; k++) {
        result part = parse_n(in, k, 1, &keep2);
        free(keep2);
        assert_int_equal(part.st, RESP_NEED_MORE);
        assert_true(part.need == 0 ||
                    (part.need > k && part.need <= full.consumed));
    }
    result again = parse_n(in, full.consumed, 1, &keep2);
    assert_int_equal(again.st, full.st);
    assert_int_equal(again.argc, full.argc);
    for (size_t i = 0; i < full.argc; i++) {
        assert_int_equal(again.args[i].len, full.args[i].len);
        assert_memory_equal(again.args[i].ptr, full.args[i].ptr,
                            full.args[i].len);
    }
    free(keep);
    free(keep2);
}

static void test_split_every_byte(void **state)
{
    (void)state;
    check_split(S("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"));
    check_split(S("*2\r\n$3\r\nGET\r\n$10\r\n\r\n\0\0\r\n\r\n\r\n\r\n"));
    check_split(S("*1\r\n$0\r\n\r\n"));
    check_split(S("*0\r\n"));
    check_split(S("*12\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"
                  "$1\r\ne\r\n$1\r\nf\r\n$1\r\ng\r\n$1\r\nh\r\n$1\r\ni\r\n"
                  "$1\r\nj\r\n$1\r\nk\r\n$100\r\n"
                  "0123456789012345678901234567890123456789012345678901234"
                  "567890123456789012345678901234567890123456789\r\n"));
    check_split(S("SET \"a b\" 'c\\'d' \"\\x41\\n\"\r\n"));
    check_split(S("   \n"));
    check_split(S("PING\n"));
}

static void test_pipeline(void **state)
{
    (void)state;
    fc_buf b = {0};
    resp_writer w = {&b, 2};
    size_t total = 0;
    for (int i = 0; i < 500; i++) {
        char key[32];
        int kl = snprintf(key, sizeof(key), "key:%d", i);
        if (i % 3 == 2) {
            char line[64];
            int ll = snprintf(line, sizeof(line), "GET %s\r\n", key);
            fc_buf_append(&b, line, (size_t)ll);
        } else {
            resp_array(&w, 2);
            resp_bulk(&w, "GET", 3);
            resp_bulk(&w, key, (size_t)kl);
        }
    }
    resp_limits lim = deflim();
    size_t pos = 0;
    for (int i = 0; i < 500; i++) {
        resp_arg a[4];
        size_t argc, consumed, need;
        const char *err;
        char key[32];
        int kl = snprintf(key, sizeof(key), "key:%d", i);
        assert_int_equal(resp_parse_mut(b.data + pos, b.len - pos, &lim, a, 4,
                                        &argc, &consumed, &need, &err),
                         RESP_DONE);
        assert_int_equal(argc, 2);
        assert_int_equal(a[1].len, (size_t)kl);
        assert_memory_equal(a[1].ptr, key, (size_t)kl);
        pos += consumed;
        total++;
    }
    assert_int_equal(pos, b.len);
    assert_int_equal(total, 500);
    fc_buf_free(&b);
}

static void test_more_args(void **state)
{
    (void)state;
    resp_limits lim = deflim();
    resp_arg a[8];
    size_t argc, consumed, need;
    const char *err;
    char mb[] = "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n";
    char in[] = "MSET \"k\\x31\" v1 'k\\'2' v2\n";
    char orig[sizeof(in)];
    memcpy(orig, in, sizeof(in));

    assert_int_equal(resp_parse(mb, sizeof(mb) - 1, &lim, a, 2, &argc,
                                &consumed, &need, &err),
                     RESP_MORE_ARGS);
    assert_int_equal(argc, 5);
    assert_int_equal(resp_parse(mb, sizeof(mb) - 1, &lim, a, 5, &argc,
                                &consumed, &need, &err),
                     RESP_DONE);
    assert_int_equal(argc, 5);
    assert_memory_equal(a[4].ptr, "e", 1);
    /* Incomplete requests wait rather than ask for room first. */
    assert_int_equal(
        resp_parse(mb, 20, &lim, a, 2, &argc, &consumed, &need, &err),
        RESP_NEED_MORE);

    /* Inline: the first call must not decode, or the second would decode
     * twice. */
    assert_int_equal(resp_parse_mut(in, sizeof(in) - 1, &lim, a, 3, &argc,
                                    &consumed, &need, &err),
                     RESP_MORE_ARGS);
    assert_int_equal(argc, 5);
    assert_memory_equal(in, orig, sizeof(in));
    assert_int_equal(resp_parse_mut(in, sizeof(in) - 1, &lim, a, 8, &argc,
                                    &consumed, &need, &err),
                     RESP_DONE);
    assert_int_equal(argc, 5);
    assert_int_equal(a[1].len, 2);
    assert_memory_equal(a[1].ptr, "k1", 2);
    assert_int_equal(a[3].len, 3);
    assert_memory_equal(a[3].ptr, "k'2", 3);
    assert_int_equal(consumed, sizeof(in) - 1);
}

static void test_inline_words(void **state)
{
    (void)state;
    expect_args(S("PING\r\n"), 0, 6, "PING", NULL);
    expect_args(S("PING\n"), 0, 5, "PING", NULL);
    expect_args(S("  SET \t k   v  \r\nGET k\r\n"), 0, 17, "SET", "k", "v",
                NULL);
    expect_args(S("SET \"a b\" 'c d'\r\n"), 0, 17, "SET", "a b", "c d", NULL);
    expect_args(S("a \"\" ''\n"), 0, 8, "a", "", "", NULL);
    /* a quote inside a bare word opens a quoted part of that word */
    expect_args(S("foo\"bar baz\"\n"), 1, 13, "foobar baz", NULL);
    expect_args(S("a\rb\r\n"), 0, 5, "a", "b", NULL);
    /* \v separates words but does not end a bare one (isspace vs switch) */
    expect_args(S("\va\vb\n"), 0, 5, "a\vb", NULL);
    expect_args(S("\"x\"\v\"y\"\n"), 0, 8, "x", "y", NULL);
    char *keep;
    result r = parse_n(S("a\0b c\n"), 0, &keep);
    assert_int_equal(r.st, RESP_DONE);
    assert_int_equal(r.argc, 2);
    assert_int_equal(r.args[0].len, 3);
    assert_memory_equal(r.args[0].ptr, "a\0b", 3);
    free(keep);
}

static void test_inline_escapes(void **state)
{
    (void)state;
    expect_args(S("\"\\n\\r\\t\\b\\a\\\\\\\"\\q\"\n"), 1, ALL,
                "\n\r\t\b\a\\\"q", NULL);
    expect_args(S("\"\\x41\\x4a\\x4Z\\x\"\n"), 1, ALL, "AJx4Zx", NULL);
    char *keep;
    result r = parse_n(S("\"a\\x00b\"\n"), 1, &keep);
    assert_int_equal(r.st, RESP_DONE);
    assert_int_equal(r.args[0].len, 3);
    assert_memory_equal(r.args[0].ptr, "a\0b", 3);
    free(keep);
    expect_args(S("'it\\'s' 'a\\nb' 'x\\\\y'\n"), 1, ALL, "it's", "a\\nb",
                "x\\\\y", NULL);
    /* without escapes the read-only entry point is enough */
    expect_args(S("SET \"a b\" 'c d'\n"), 0, 16, "SET", "a b", "c d", NULL);
    r = parse_n(S("SET \"a\\nb\"\n"), 0, &keep);
    assert_int_equal(r.st, RESP_ERROR);
    assert_string_equal(r.err, "ERR Protocol error: escaped inline request "
                               "needs a writable buffer");
    free(keep);
}

static void test_inline_errors(void **state)
{
    (void)state;
    const char *uq = "ERR Protocol error: unbalanced quotes in request";
    expect_error(S("SET \"a\n"), uq);
    expect_error(S("SET 'a\n"), uq);
    expect_error(S("SET \"a\"b\n"), uq);
    expect_error(S("SET 'a'b\n"), uq);
    expect_error(S("SET \"a\\\"\n"), uq);
    expect_error(S("SET \"a\\\n"), uq);
    expect_error(S("SET 'a\\'\n"), uq);
    /* in single quotes the second backslash of \\' still escapes the ' */
    expect_error(S("SET 'a\\\\'\n"), uq);
    /* closing quote followed by a blank or the end is fine */
    expect_args(S("\"a\"\t\"b\"\r\n"), 0, 9, "a", "b", NULL);

    size_t n = 64 * 1024 + 1;
    char *b = malloc(n + 1);
    assert_non_null(b);
    memset(b, 'a', n);
    assert_int_equal(status_of(b, n - 1, NULL), RESP_NEED_MORE);
    expect_error(b, n, "ERR Protocol error: too big inline request");
    /* a complete long line is accepted, as by Redis */
    b[n] = '\n';
    assert_int_equal(status_of(b, n + 1, NULL), RESP_DONE);
    free(b);
}

static void test_inline_empty(void **state)
{
    size_t c;
    (void)state;
    assert_int_equal(status_of(S("\r\n"), &c), RESP_EMPTY);
    assert_int_equal(c, 2);
    assert_int_equal(status_of(S("\n"), &c), RESP_EMPTY);
    assert_int_equal(c, 1);
    assert_int_equal(status_of(S(" \t \r\nPING\r\n"), &c), RESP_EMPTY);
    assert_int_equal(c, 5);
}

/* ---- writer ------------------------------------------------------------ */

/* One writer call per case, by name, so the cases fit in a table. */
enum wop {
    W_NULL,
    W_NULLARR,
    W_MAP,
    W_SET,
    W_BOOL,
    W_DOUBLE,
    W_VERB,
    W_ARRAY,
    W_OK,
    W_SIMPLE,
    W_CSTR,
    W_ERR,
    W_ERRF
};

typedef struct wcase {
    enum wop op;
    double d;      /* number argument */
    const char *s; /* text argument */
    const char *want2, *want3;
} wcase;

static void apply(resp_writer *w, const wcase *c)
{
    switch (c->op) {
    case W_NULL:
        resp_null(w);
        break;
    case W_NULLARR:
        resp_null_array(w);
        break;
    case W_MAP:
        resp_map(w, (size_t)c->d);
        break;
    case W_SET:
        resp_set(w, (size_t)c->d);
        break;
    case W_BOOL:
        resp_bool(w, (int)c->d);
        break;
    case W_DOUBLE:
        resp_double(w, c->d);
        break;
    case W_VERB:
        resp_verbatim(w, c->s, c->s + 4, strlen(c->s + 4));
        break;
    case W_ARRAY:
        resp_array(w, (size_t)c->d);
        break;
    case W_OK:
        resp_ok(w);
        break;
    case W_SIMPLE:
        resp_simple(w, c->s);
        break;
    case W_CSTR:
        resp_bulk_cstr(w, c->s);
        break;
    case W_ERR:
        resp_error(w, c->s);
        break;
    case W_ERRF:
        resp_errorf(w, "ERR unknown command '%s', with args: %d", c->s,
                    (int)c->d);
        break;
    }
}

static void test_writer_resp2_vs_resp3(void **state)
{
    (void)state;
    static const wcase cases[] = {
        {W_NULL, 0, NULL, "$-1\r\n", "_\r\n"},
        {W_NULLARR, 0, NULL, "*-1\r\n", "_\r\n"},
        {W_MAP, 3, NULL, "*6\r\n", "%3\r\n"},
        {W_SET, 12, NULL, "*12\r\n", "~12\r\n"},
        {W_BOOL, 1, NULL, ":1\r\n", "#t\r\n"},
        {W_BOOL, 0, NULL, ":0\r\n", "#f\r\n"},
        {W_DOUBLE, 1.5, NULL, "$3\r\n1.5\r\n", ",1.5\r\n"},
        {W_DOUBLE, 0.1, NULL, "$19\r\n0.10000000000000001\r\n",
         ",0.10000000000000001\r\n"},
        {W_DOUBLE, 3.0, NULL, "$1\r\n3\r\n", ",3\r\n"},
        {W_DOUBLE, -1e22, NULL, "$6\r\n-1e+22\r\n", ",-1e+22\r\n"},
        {W_DOUBLE, HUGE_VAL, NULL, "$3\r\ninf\r\n", ",inf\r\n"},
        {W_DOUBLE, -HUGE_VAL, NULL, "$4\r\n-inf\r\n", ",-inf\r\n"},
        {W_VERB, 0, "txt:Some string", "$11\r\nSome string\r\n",
         "=15\r\ntxt:Some string\r\n"},
        /* a short format is padded with spaces, as addReplyVerbatim does */
        {W_VERB, 0, "md\0\0", "$0\r\n\r\n", "=4\r\nmd :\r\n"},
        {W_ARRAY, 0, NULL, "*0\r\n", "*0\r\n"},
        {W_OK, 0, NULL, "+OK\r\n", "+OK\r\n"},
        {W_SIMPLE, 0, "PONG\r\nx", "+PONG  x\r\n", "+PONG  x\r\n"},
        {W_CSTR, 0, "hello", "$5\r\nhello\r\n", "$5\r\nhello\r\n"},
        {W_CSTR, 0, NULL, "$-1\r\n", "_\r\n"},
        {W_ERR, 0, "\r\nERR a\r\nb\n", "-ERR a  b\r\n", "-ERR a  b\r\n"},
        {W_ERR, 0, "-WRONGTYPE x", "-WRONGTYPE x\r\n", "-WRONGTYPE x\r\n"},
        {W_ERRF, 2, "fo\ro", "-ERR unknown command 'fo o', with args: 2\r\n",
         "-ERR unknown command 'fo o', with args: 2\r\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int proto = 2; proto <= 3; proto++) {
            fc_buf b = {0};
            resp_writer w = {&b, proto};
            const char *want = proto == 2 ? cases[i].want2 : cases[i].want3;
            apply(&w, &cases[i]);
            assert_false(b.oom);
            assert_int_equal(b.len, strlen(want));
            assert_memory_equal(b.data, want, b.len);
            fc_buf_free(&b);
        }
    }
    /* NaN, whatever its sign bit, and binary bulk payloads */
    fc_buf b = {0};
    resp_writer w = {&b, 2};
    resp_double(&w, copysign(NAN, -1.0));
    resp_bulk(&w, "a\0\r\n", 4);
    w.proto = 3;
    resp_double(&w, NAN);
    assert_int_equal(b.len, 9 + 10 + 6);
    assert_memory_equal(b.data, "$3\r\nnan\r\n$4\r\na\0\r\n\r\n,nan\r\n",
                        b.len);
    fc_buf_free(&b);
}

static void test_writer_integers(void **state)
{
    (void)state;
    static const int64_t v[] = {0,
                                1,
                                -1,
                                9,
                                10,
                                99,
                                100,
                                12345,
                                -100000,
                                999999999,
                                INT64_MAX,
                                INT64_MIN,
                                INT64_MIN + 1,
                                1000000000000000000LL};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        fc_buf b = {0};
        resp_writer w = {&b, 3};
        char want[32];
        int n = snprintf(want, sizeof(want), ":%lld\r\n", (long long)v[i]);
        resp_int(&w, v[i]);
        assert_int_equal(b.len, (size_t)n);
        assert_memory_equal(b.data, want, b.len);
        fc_buf_free(&b);
    }
    /* every power of ten and its neighbours, as array headers */
    uint64_t p = 1;
    for (int e = 0; e < 20; e++, p *= 10) {
        for (uint64_t d = p - (p > 1); d <= p + 1; d++) {
            fc_buf b = {0};
            resp_writer w = {&b, 2};
            char want[32];
            int n = snprintf(want, sizeof(want), "*%llu\r\n",
                             (unsigned long long)d);
            resp_array(&w, (size_t)d);
            assert_int_equal(b.len, (size_t)n);
            assert_memory_equal(b.data, want, b.len);
            fc_buf_free(&b);
        }
    }
}

static void test_writer_long_error_and_oom(void **state)
{
    (void)state;
    fc_buf b = {0};
    resp_writer w = {&b, 2};
    char big[1000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    resp_errorf(&w, "ERR %s", big);
    assert_int_equal(b.len, 1 + 4 + 999 + 2);
    assert_memory_equal(b.data, "-ERR xxx", 8);
    assert_memory_equal(b.data + b.len - 3, "x\r\n", 3);
    /* once out of memory nothing more is written, even where room is left */
    size_t len = b.len;
    b.oom = true;
    resp_ok(&w);
    resp_int(&w, 5);
    resp_bulk(&w, "a", 1);
    resp_double(&w, 2.5);
    resp_verbatim(&w, "txt", "a", 1);
    assert_int_equal(b.len, len);
    fc_buf_free(&b);
    /* an impossible size is reported, not wrapped */
    resp_bulk(&w, "", SIZE_MAX - 8);
    assert_true(b.oom);
    fc_buf_free(&b);
}

/* ---- resp_reply_len ---------------------------------------------------- */

static void expect_reply_len(const char *p, size_t n, size_t want)
{
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, p, n);
    assert_int_equal(resp_reply_len(copy, n), want);
    /* every strict prefix of a complete reply is incomplete */
    for (size_t k = 0; want && k < want; k++)
        assert_int_equal(resp_reply_len(copy, k), 0);
    free(copy);
}

static void test_reply_len(void **state)
{
    (void)state;
    expect_reply_len(S("+OK\r\n"), 5);
    expect_reply_len(S("+OK\r\n:1\r\n"), 5);
    expect_reply_len(S("-ERR x\r\n"), 8);
    expect_reply_len(S(":-12\r\n"), 6);
    expect_reply_len(S("$-1\r\n"), 5);
    expect_reply_len(S("*-1\r\n"), 5);
    expect_reply_len(S("_\r\n"), 3);
    expect_reply_len(S("#t\r\n"), 4);
    expect_reply_len(S(",1.5\r\n"), 6);
    expect_reply_len(S("(123\r\n"), 6);
    expect_reply_len(S("$4\r\na\r\nb\r\n"), 10);
    expect_reply_len(S("=8\r\ntxt:abcd\r\n"), 14);
    expect_reply_len(S("!3\r\nerr\r\n"), 9);
    expect_reply_len(S("*0\r\n"), 4);
    expect_reply_len(S("*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n+x\r\n:9\r\n"), 28);
    expect_reply_len(S("%2\r\n+a\r\n:1\r\n+b\r\n~1\r\n_\r\n"), 23);
    expect_reply_len(S(">2\r\n+m\r\n$1\r\nx\r\n"), 15);
    /* an attribute is followed by the value it annotates */
    expect_reply_len(S("|1\r\n+k\r\n+v\r\n:5\r\n"), 16);
    /* malformed */
    expect_reply_len(S("?\r\n"), 0);
    expect_reply_len(S("+OK\n"), 0);
    expect_reply_len(S("+OK\rX"), 0);
    expect_reply_len(S(":abc\r\n"), 0);
    expect_reply_len(S("_x\r\n"), 0);
    expect_reply_len(S("#x\r\n"), 0);
    expect_reply_len(S("$3\r\nabcd\r\n"), 0);
    expect_reply_len(S("$-2\r\n"), 0);
    expect_reply_len(S("%-1\r\n"), 0);
    expect_reply_len(S("*?\r\n"), 0);
    expect_reply_len(S("*9223372036854775807\r\n:1\r\n"), 0);
    expect_reply_len(S("|9223372036854775807\r\n"), 0);
    expect_reply_len("", 0, 0);
    /* deep nesting needs no recursion */
    size_t depth = 100000, n = depth * 4 + 3;
    char *deep = malloc(n);
    assert_non_null(deep);
    for (size_t i = 0; i < depth; i++)
        memcpy(deep + i * 4, "*1\r\n", 4);
    memcpy(deep + depth * 4, "_\r\n", 3);
    assert_int_equal(resp_reply_len(deep, n), n);
    assert_int_equal(resp_reply_len(deep, n - 1), 0);
    free(deep);
}

/* ---- properties -------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random argv -> multibulk (through the writer) -> parse -> same argv, also
 * when the stream arrives in random pieces. */
static void test_property_roundtrip(void **state)
{
    (void)state;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    resp_limits lim = deflim();
    for (int round = 0; round < 300; round++) {
        fc_buf b = {0};
        resp_writer w = {&b, 2};
        size_t argc = 1 + rng_next(&seed) % 20, lens[20];
        char words[20][300];
        resp_array(&w, argc);
        for (size_t i = 0; i < argc; i++) {
            lens[i] = rng_next(&seed) % (i == 0 ? 300 : 40);
            for (size_t j = 0; j < lens[i]; j++)
                words[i][j] = (char)rng_next(&seed);
            resp_bulk(&w, words[i], lens[i]);
        }
        resp_ok(&w); /* an unrelated next "request" must stay unconsumed */
        size_t total = b.len - 5, avail = 0;
        resp_arg a[20];
        size_t got, consumed, need;
        const char *err;
        enum resp_status st = RESP_NEED_MORE;
        while (st == RESP_NEED_MORE) {
            assert_true(avail <= total);
            avail += 1 + rng_next(&seed) % 64;
            if (avail > b.len)
                avail = b.len;
            st = resp_parse(b.data, avail, &lim, a, 20, &got, &consumed, &need,
                            &err);
            if (st == RESP_NEED_MORE)
                assert_true(need == 0 || (need > avail && need <= total));
        }
        assert_int_equal(st, RESP_DONE);
        assert_int_equal(consumed, total);
        assert_int_equal(got, argc);
        for (size_t i = 0; i < argc; i++) {
            assert_int_equal(a[i].len, lens[i]);
            assert_memory_equal(a[i].ptr, words[i], lens[i]);
        }
        fc_buf_free(&b);
    }
}

/* Random words -> inline line quoted with every escape form -> parse_mut
 * (decoding in place) -> same words. */
static void test_property_inline_escapes(void **state)
{
    (void)state;
    uint64_t seed = 12345;
    resp_limits lim = deflim();
    for (int round = 0; round < 300; round++) {
        char line[4096], words[8][40];
        size_t n = 0, argc = 1 + rng_next(&seed) % 8, lens[8];
        for (size_t i = 0; i < argc; i++) {
            lens[i] = rng_next(&seed) % 40;
            line[n++] = '"';
            for (size_t j = 0; j < lens[i]; j++) {
                char c = (char)(rng_next(&seed) % 256);
                words[i][j] = c;
                if (c == '"' || c == '\\') {
                    line[n++] = '\\';
                    line[n++] = c;
                } else if (c == '\n') {
                    memcpy(line + n, "\\n", 2);
                    n += 2;
                } else if ((unsigned char)c < 32 || (unsigned char)c > 126) {
                    n += (size_t)snprintf(line + n, 5, "\\x%02x",
                                          (unsigned char)c);
                } else {
                    line[n++] = c;
                }
            }
            line[n++] = '"';
            line[n++] = ' ';
        }
        line[n++] = '\r';
        line[n++] = '\n';
        resp_arg a[8];
        size_t got, consumed, need;
        const char *err;
        assert_int_equal(
            resp_parse_mut(line, n, &lim, a, 8, &got, &consumed, &need, &err),
            RESP_DONE);
        assert_int_equal(consumed, n);
        assert_int_equal(got, argc);
        for (size_t i = 0; i < argc; i++) {
            assert_int_equal(a[i].len, lens[i]);
            assert_memory_equal(a[i].ptr, words[i], lens[i]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multibulk_basic),
        cmocka_unit_test(test_multibulk_binary),
        cmocka_unit_test(test_multibulk_empty),
        cmocka_unit_test(test_multibulk_skips_like_redis),
        cmocka_unit_test(test_multibulk_errors),
        cmocka_unit_test(test_too_big_count_strings),
        cmocka_unit_test(test_huge_lengths_no_overflow),
        cmocka_unit_test(test_need_hint),
        cmocka_unit_test(test_split_every_byte),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_more_args),
        cmocka_unit_test(test_inline_words),
        cmocka_unit_test(test_inline_escapes),
        cmocka_unit_test(test_inline_errors),
        cmocka_unit_test(test_inline_empty),
        cmocka_unit_test(test_writer_resp2_vs_resp3),
        cmocka_unit_test(test_writer_integers),
        cmocka_unit_test(test_writer_long_error_and_oom),
        cmocka_unit_test(test_reply_len),
        cmocka_unit_test(test_property_roundtrip),
        cmocka_unit_test(test_property_inline_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
