/*
 * test_commands.h — harness shared by the test_commands*.c unit tests: a
 * cmd_ctx over a few real engine shards with an fc_buf reply writer, and
 * helpers that run a command by name (through cmd_lookup, with the
 * router's arity check) and return its reply bytes.
 *
 * Time is the harness's: ctx.now starts at TH_NOW and tests move it, so
 * TTL behaviour is exact and nothing sleeps.
 */
#ifndef FC_TEST_COMMANDS_H
#define FC_TEST_COMMANDS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "commands/command.h"

#define TH_MAX_SHARDS 16
#define TH_MAX_ARGS 256
#define TH_NOW 1000000LL        /* monotonic ms at the start of a test */
#define TH_WALL 1700000000000LL /* Unix ms at TH_NOW */

typedef struct th {
    eng_shard *shards[TH_MAX_SHARDS];
    uint32_t nshards;
    fc_buf out;
    resp_writer w;
    cmd_ctx c;
    uint64_t rng;
    resp_arg argv[TH_MAX_ARGS];
} th;

static inline th *th_new(uint32_t nshards)
{
    th *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    assert_true(nshards >= 1 && nshards <= TH_MAX_SHARDS);
    assert_true((nshards & (nshards - 1)) == 0);
    for (uint32_t i = 0; i < nshards; i++) {
        t->shards[i] = eng_shard_new(i, 0, NULL);
        assert_non_null(t->shards[i]);
    }
    t->nshards = nshards;
    t->w.out = &t->out;
    t->w.proto = 2;
    t->rng = 12345;
    t->c.w = &t->w;
    t->c.shards = t->shards;
    t->c.shard_mask = nshards - 1;
    t->c.now = TH_NOW;
    t->c.wall_offset_ms = TH_WALL - TH_NOW;
    t->c.rng = &t->rng;
    return t;
}

static inline void th_free(th *t)
{
    for (uint32_t i = 0; i < t->nshards; i++)
        eng_shard_free(t->shards[i]);
    fc_buf_free(&t->out);
    free(t);
}

/* Runs argv[0..argc) and returns the reply, NUL-terminated (t->out.len is
 * its length). Asserts the command exists, that argc passes its arity (the
 * router's job) and that exactly one complete reply was written. */
static inline const char *th_runv(th *t, size_t argc, const resp_arg *argv)
{
    const cmd_def *d = cmd_lookup(argv[0].ptr, argv[0].len);
    assert_non_null(d);
    if (d->arity >= 0)
        assert_int_equal(argc, (size_t)d->arity);
    else
        assert_true(argc >= (size_t)-d->arity);
    t->out.len = 0;
    t->c.argv = argv;
    t->c.argc = argc;
    d->fn(&t->c);
    assert_false(t->out.oom);
    assert_true(t->out.len > 0);
    assert_int_equal(resp_reply_len(t->out.data, t->out.len), t->out.len);
    fc_buf_putc(&t->out, '\0');
    t->out.len--;
    return t->out.data;
}

/* Runs a command given as C strings, NULL-terminated. */
static inline const char *th_run(th *t, const char *first, ...)
{
    va_list ap;
    size_t n = 0;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *)) {
        assert_true(n < TH_MAX_ARGS);
        t->argv[n].ptr = s;
        t->argv[n].len = strlen(s);
        n++;
    }
    va_end(ap);
    return th_runv(t, n, t->argv);
}

#define RUN(t, ...) th_run((t), __VA_ARGS__, (const char *)NULL)
/* Asserts the byte-exact reply of a command. */
#define EXPECT(t, reply, ...) assert_string_equal(RUN(t, __VA_ARGS__), (reply))

/* Index of the shard a key hashes to. */
static inline unsigned th_shard_of(const th *t, const char *key)
{
    return (unsigned)(eng_hash(key, strlen(key)) & t->c.shard_mask);
}

#endif /* FC_TEST_COMMANDS_H */
