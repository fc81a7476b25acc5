/*
 * fuzz_resp.c — libFuzzer harness for the RESP parser, writer and
 * resp_reply_len.
 *
 * The input is a client stream, parsed request by request with both entry
 * points and two sets of limits (Redis's and tiny ones that reach the "too
 * big" paths within -max_len). Beyond the sanitizers it checks what the
 * contract promises: results inside the buffer, the two entry points
 * agreeing, a complete request's prefixes waiting, *need being a true lower
 * bound, and parsed words surviving an encode/parse round trip.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/resp.h"

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c))                                                              \
            __builtin_trap();                                                  \
    } while (0)

#define ERR_PFX "ERR Protocol error: "

typedef struct parsed {
    enum resp_status st;
    size_t argc, consumed, need;
    const char *err;
    resp_arg *args;
    size_t cap;
} parsed;

/* One parse, growing args on RESP_MORE_ARGS as a server would. */
static void parse_one(parsed *p, char *mut, const char *ro, size_t len,
                      const resp_limits *lim)
{
    for (;;) {
        if (mut)
            p->st = resp_parse_mut(mut, len, lim, p->args, p->cap, &p->argc,
                                   &p->consumed, &p->need, &p->err);
        else
            p->st = resp_parse(ro, len, lim, p->args, p->cap, &p->argc,
                               &p->consumed, &p->need, &p->err);
        if (p->st != RESP_MORE_ARGS)
            return;
        /* only complete requests ask for room: at least a byte per word */
        CHECK(p->argc > p->cap && p->argc <= len);
        p->cap = p->argc;
        p->args = realloc(p->args, p->cap * sizeof(*p->args));
        CHECK(p->args != NULL);
    }
}

static void check_result(const parsed *p, const char *base, size_t len)
{
    switch (p->st) {
    case RESP_DONE:
        CHECK(p->argc >= 1 && p->argc <= p->cap);
        for (size_t i = 0; i < p->argc; i++)
            CHECK(p->args[i].ptr >= base &&
                  p->args[i].len <=
                      (size_t)(base + p->consumed - p->args[i].ptr));
        /* fall through */
    case RESP_EMPTY:
        CHECK(p->consumed > 0 && p->consumed <= len);
        break;
    case RESP_NEED_MORE:
        CHECK(p->need == 0 || p->need > len);
        break;
    case RESP_ERROR:
        CHECK(p->err && strncmp(p->err, ERR_PFX, strlen(ERR_PFX)) == 0);
        break;
    default:
        CHECK(0);
    }
}

static bool same_args(const parsed *a, const parsed *b)
{
    if (a->argc != b->argc)
        return false;
    for (size_t i = 0; i < a->argc; i++)
        if (a->args[i].len != b->args[i].len ||
            memcmp(a->args[i].ptr, b->args[i].ptr, a->args[i].len) != 0)
            return false;
    return true;
}

/* Words -> multibulk through the writer -> parse -> the same words. */
static void check_roundtrip(const parsed *p, const resp_limits *lim)
{
    fc_buf b = {0};
    resp_writer w = {&b, 2};
    parsed q = {.cap = p->argc, .args = malloc(p->argc * sizeof(resp_arg))};

    CHECK(q.args != NULL);
    resp_array(&w, p->argc);
    for (size_t i = 0; i < p->argc; i++)
        resp_bulk(&w, p->args[i].ptr, p->args[i].len);
    CHECK(!b.oom);
    CHECK(resp_reply_len(b.data, b.len) == b.len);
    parse_one(&q, NULL, b.data, b.len, lim);
    /* inline words are not bound by the bulk limits; multibulk ones are */
    bool fits = p->argc <= lim->max_multibulk;
    for (size_t i = 0; i < p->argc; i++)
        fits = fits && p->args[i].len <= lim->max_bulk_len;
    if (fits) {
        CHECK(q.st == RESP_DONE && q.consumed == b.len);
        CHECK(same_args(p, &q));
    }
    free(q.args);
    fc_buf_free(&b);
}

/* A complete request's strict prefixes wait, with *need <= its length
 * (or, past max_inline_len, may be refused as too big, as Redis does). */
static void check_prefixes(const char *ro, size_t consumed,
                           const resp_limits *lim)
{
    size_t ks[2] = {consumed - 1, consumed / 2};
    for (int i = 0; i < 2; i++) {
        size_t k = ks[i];
        char *cut = malloc(k ? k : 1);
        parsed q = {.cap = 4, .args = malloc(4 * sizeof(resp_arg))};
        CHECK(cut && q.args);
        memcpy(cut, ro, k);
        parse_one(&q, NULL, cut, k, lim);
        if (q.st == RESP_ERROR)
            CHECK(k > lim->max_inline_len && strstr(q.err, "too big"));
        else
            CHECK(q.st == RESP_NEED_MORE && q.need <= consumed);
        free(q.args);
        free(cut);
    }
}

static void check_stream(const uint8_t *data, size_t size,
                         const resp_limits *lim)
{
    char *ro = malloc(size ? size : 1), *mut = malloc(size ? size : 1);
    parsed c = {.cap = 2, .args = malloc(2 * sizeof(resp_arg))};
    parsed m = {.cap = 2, .args = malloc(2 * sizeof(resp_arg))};
    size_t pos = 0;
    bool first = true;

    CHECK(ro && mut && c.args && m.args);
    memcpy(ro, data, size);
    memcpy(mut, data, size);
    for (;;) {
        size_t left = size - pos;
        parse_one(&c, NULL, ro + pos, left, lim);
        parse_one(&m, mut + pos, NULL, left, lim);
        check_result(&c, ro + pos, left);
        check_result(&m, mut + pos, left);
        if (c.st == RESP_ERROR && strstr(c.err, "writable")) {
            CHECK(m.st == RESP_DONE); /* only escapes need a writable buf */
        } else {
            CHECK(c.st == m.st);
            if (c.st == RESP_DONE)
                CHECK(same_args(&c, &m));
        }
        if (m.st == RESP_DONE)
            check_roundtrip(&m, lim);
        if (first && (c.st == RESP_DONE || c.st == RESP_EMPTY))
            check_prefixes(ro, c.consumed, lim);
        if (m.st != RESP_DONE && m.st != RESP_EMPTY)
            break;
        if (c.st == RESP_DONE || c.st == RESP_EMPTY)
            CHECK(c.consumed == m.consumed);
        pos += m.consumed;
        first = false;
    }
    free(c.args);
    free(m.args);
    free(ro);
    free(mut);
}

static void check_reply_len(const uint8_t *data, size_t size)
{
    char *p = malloc(size ? size : 1);
    CHECK(p != NULL);
    memcpy(p, data, size);
    size_t r = resp_reply_len(p, size);
    CHECK(r <= size);
    if (r > 0) {
        CHECK(resp_reply_len(p, r) == r);
        CHECK(resp_reply_len(p, r - 1) == 0);
    }
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    resp_limits def,
        tiny = {.max_bulk_len = 64, .max_multibulk = 8, .max_inline_len = 32};
    resp_limits_default(&def);
    check_stream(data, size, &def);
    check_stream(data, size, &tiny);
    check_reply_len(data, size);
    return 0;
}
