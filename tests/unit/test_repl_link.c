/* test_repl_link.c — repl/link.h, the replica side of FCRP, against a
 * scripted primary on loopback (support/fake_primary.h): handshake and
 * capabilities, refusal and backoff, snapshot then batches, duplicates,
 * gaps and resume from the watermarks, snapshot validation and full
 * resyncs, Acks, a stream written one byte at a time, applier errors, the
 * primary changing its shape, and prompt stops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fake_primary.h"
#include "repl/link.h"
#include "repl/sock.h"

#define NO_EXP FCRP_NO_EXPIRY
#define ALL_CAPS (FCRP_F_CAP_CHECK | FCRP_F_CAP_LZ4 | FCRP_F_CAP_FC)

/* --- a recording applier -------------------------------------------------- */

#define MAX_EV 256

typedef struct app {
    pthread_mutex_t mu;
    char ev[MAX_EV][400];
    int nev;
    int synced, flushes;
    const char *fail[4]; /* an entry or record with one of these keys fails,
                            once each */
} app;

static void app_init(app *a)
{
    memset(a, 0, sizeof *a);
    pthread_mutex_init(&a->mu, NULL);
}

static void app_free(app *a)
{
    pthread_mutex_destroy(&a->mu);
}

static void push(app *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void push(app *a, const char *fmt, ...)
{
    pthread_mutex_lock(&a->mu);
    if (a->nev < MAX_EV) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(a->ev[a->nev++], sizeof a->ev[0], fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&a->mu);
}

/* Fails (once) when key is the one to fail on. */
static bool fail_here(app *a, const uint8_t *k, uint32_t kl)
{
    bool f = false;
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < 4 && !f; i++) {
        f = a->fail[i] && strlen(a->fail[i]) == kl &&
            memcmp(a->fail[i], k, kl) == 0;
        if (f)
            a->fail[i] = NULL;
    }
    pthread_mutex_unlock(&a->mu);
    return f;
}

static int a_begin(void *ctx)
{
    push(ctx, "begin");
    return 0;
}

static int a_entry(void *ctx, const fcrp_entry *e)
{
    if (fail_here(ctx, e->key, e->key_len))
        return -1;
    push(ctx, "entry %.*s=%.*s", (int)e->key_len, (const char *)e->key,
         (int)e->value_len, (const char *)e->value);
    return 0;
}

static int a_end(void *ctx)
{
    push(ctx, "end");
    return 0;
}

static int a_record(void *ctx, const fcrp_record *r, uint8_t op)
{
    if (fail_here(ctx, r->key, r->key_len))
        return -1;
    const char *k = (const char *)r->key;
    int kl = (int)r->key_len;
    switch (op) {
    case FCRP_OP_SET:
        push(ctx, "set %.*s=%.*s", kl, k, (int)r->value_len,
             (const char *)r->value);
        break;
    case FCRP_OP_DEL:
        push(ctx, "del %.*s", kl, k);
        break;
    case FCRP_OP_EXPIRE:
        push(ctx, "expire %.*s", kl, k);
        break;
    case FCRP_OP_CLEAR:
        push(ctx, "clear");
        break;
    default:
        push(ctx, "op %u", op);
    }
    return 0;
}

static void a_synced(void *ctx)
{
    app *a = ctx;
    push(a, "synced");
    pthread_mutex_lock(&a->mu);
    a->synced++;
    pthread_mutex_unlock(&a->mu);
}

static void a_flush(void *ctx)
{
    app *a = ctx;
    pthread_mutex_lock(&a->mu);
    a->flushes++;
    pthread_mutex_unlock(&a->mu);
}

static const repl_apply_ops app_ops = {
    .snapshot_begin = a_begin,
    .entry = a_entry,
    .snapshot_end = a_end,
    .record = a_record,
    .synced = a_synced,
    .flush = a_flush,
};

static int app_synced(app *a)
{
    pthread_mutex_lock(&a->mu);
    int n = a->synced;
    pthread_mutex_unlock(&a->mu);
    return n;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls cond every 5 ms for up to ms; true once it holds. */
#define EVENTUALLY(cond, ms)                                                   \
    ({                                                                         \
        int64_t dl_ = fp_mono_ms() + (ms);                                     \
        bool ok_;                                                              \
        while (!(ok_ = (cond)) && fp_mono_ms() < dl_)                          \
            sleep_ms(5);                                                       \
        ok_;                                                                   \
    })

/* The events, without "synced" when skip_synced, must be exactly want. */
static void expect_events(app *a, bool skip_synced, const char *const *want,
                          int nwant)
{
    pthread_mutex_lock(&a->mu);
    int j = 0;
    for (int i = 0; i < a->nev; i++) {
        if (skip_synced && strcmp(a->ev[i], "synced") == 0)
            continue;
        if (j >= nwant || strcmp(a->ev[i], want[j]) != 0) {
            for (int k = 0; k < a->nev; k++)
                fprintf(stderr, "  event %d: %s\n", k, a->ev[k]);
            pthread_mutex_unlock(&a->mu);
            fail_msg("event %d: got '%s', want '%s'", i, a->ev[i],
                     j < nwant ? want[j] : "(end)");
        }
        j++;
    }
    pthread_mutex_unlock(&a->mu);
    assert_int_equal(j, nwant);
}

static repl_link *start_link(fp *f, app *a, const char *token, uint32_t backoff,
                             uint32_t backoff_max)
{
    repl_link_cfg c;
    repl_link_cfg_default(&c);
    c.host = (char *)"127.0.0.1";
    c.port = fp_port(f);
    c.token = (char *)token;
    c.connect_timeout_ms = 3000;
    c.backoff_ms = backoff;
    c.backoff_max_ms = backoff_max;
    c.ops = &app_ops;
    c.ctx = a;
    repl_link *l;
    char err[128];
    assert_int_equal(repl_link_start(&l, &c, err, sizeof err), 0);
    return l;
}

static repl_link_stats stats(repl_link *l)
{
    repl_link_stats s;
    repl_link_stats_get(l, &s);
    return s;
}

/* What scripts saw, per connection. */
typedef struct seen {
    uint8_t flags, version, role;
    bool has_since, closed;
    atomic_bool ack_ok; /* the test polls it; set after the rest */
    uint32_t nsince, nack;
    uint64_t since[FP_MAX_WM], ack[FP_MAX_WM];
    char token[64];
    int64_t ack_ms; /* how long the Ack took */
} seen;

typedef struct script_ctx {
    seen s[FP_MAX_CONNS];
    int64_t now; /* unix ms when the test started */
} script_ctx;

static void note_hello(script_ctx *x, fp_conn *c)
{
    if (c->index >= FP_MAX_CONNS)
        return;
    seen *s = &x->s[c->index];
    s->flags = c->hello_flags;
    s->version = c->version;
    s->role = c->role;
    s->has_since = c->has_since;
    s->nsince = c->nsince;
    memcpy(s->since, c->since, sizeof s->since);
    memcpy(s->token, c->token, sizeof s->token);
}

/* Reads the Hello, notes it; false when none came. */
static bool hello_in(script_ctx *x, fp_conn *c)
{
    if (fp_read_hello(c, 3000) != 0)
        return false;
    note_hello(x, c);
    return true;
}

/* --- handshake, snapshot, batches, Ack ------------------------------------ */

/* 2 shards, base 1000: a snapshot at W_b = [1003, 1000] with three live
 * entries and an expired one, ending at W_e = [1005, 1001]; batches that
 * overlap the snapshot (skipped), then reach W_e. */
static void script_full(fp_conn *c, void *ctx)
{
    script_ctx *x = ctx;
    if (!hello_in(x, c))
        return;
    uint64_t now = (uint64_t)fp_unix_ms();
    const uint64_t hw[2] = {1005, 1001}, wb[2] = {1003, 1000};
    fp_send_hello(c, hw, 2, ALL_CAPS, 1000);
    fp_send_wm(c, FCRP_SNAPSHOT_BEGIN, wb, 2);
    fcrp_entry e0[3] = {fp_entry("a", "1", NO_EXP),
                        fp_entry("x", "gone", now - 1000),
                        fp_entry("b", "2", now + 60000)};
    fp_send_chunk(c, 0, false, wb, 2, e0, 3);
    fcrp_entry e1[1] = {fp_entry("c", "3", NO_EXP)};
    fp_send_chunk(c, 1, false, wb, 2, e1, 1);
    fp_send_chunk(c, 2, true, wb, 2, NULL, 0);
    fp_send_wm(c, FCRP_SNAPSHOT_END, hw, 2);
    fcrp_record r0[4] = {fp_rec(0, 1002, FCRP_OP_SET, "a", "old", NO_EXP),
                         fp_rec(0, 1003, FCRP_OP_SET, "a", "1", NO_EXP),
                         fp_rec(0, 1004, FCRP_OP_SET, "d", "4", NO_EXP),
                         fp_rec(1, 1001, FCRP_OP_DEL, "c", NULL, NO_EXP)};
    fp_send_batch(c, r0, 4);
    /* a SET whose expiry passed arrives as a DEL; then a duplicate */
    fcrp_record r1[2] = {fp_rec(0, 1005, FCRP_OP_SET, "e", "5", now - 1),
                         fp_rec(0, 1005, FCRP_OP_SET, "e", "5", now - 1)};
    fp_send_batch(c, r1, 2);
    seen *s = &x->s[c->index];
    int64_t t0 = fp_mono_ms();
    /* the first Ack may predate the last batch: read until it has all */
    while (fp_read_ack(c, s->ack, FP_MAX_WM, &s->nack, 3000) == 0) {
        if (s->nack == 2 && s->ack[0] == 1005 && s->ack[1] == 1001) {
            s->ack_ok = true;
            break;
        }
    }
    s->ack_ms = fp_mono_ms() - t0;
    fp_hold(c);
}

static void test_snapshot_then_batches(void **state)
{
    script_ctx x = {.now = fp_unix_ms()};
    app a;
    app_init(&a);
    fp *f;
    assert_int_equal(fp_start(&f, script_full, &x), 0);
    repl_link *l = start_link(f, &a, "secret", 20, 100);
    assert_true(EVENTUALLY(app_synced(&a) == 1, 5000));
    assert_true(EVENTUALLY(stats(l).acks_sent >= 1 && x.s[0].ack_ok, 3000));
    repl_link_stats s = stats(l);
    repl_link_stop(l);
    fp_stop(f);

    /* our Hello: v1, replica, the token, fresh, every capability */
    assert_int_equal(x.s[0].version, 1);
    assert_int_equal(x.s[0].role, FCRP_ROLE_REPLICA);
    assert_string_equal(x.s[0].token, "secret");
    assert_false(x.s[0].has_since);
    assert_int_equal(x.s[0].flags & FCRP_F_CAPS, ALL_CAPS);

    static const char *const want[] = {"begin",     "entry a=1", "entry b=2",
                                       "entry c=3", "end",       "set d=4",
                                       "del c",     "del e",     "synced"};
    expect_events(&a, false, want, 9);

    assert_int_equal(s.state, REPL_LINK_ONLINE);
    assert_true(s.synced_once);
    assert_int_equal(s.snapshots, 1);
    assert_int_equal(s.entries_loaded, 3);
    assert_int_equal(s.records_applied, 3);
    assert_int_equal(s.records_skipped, 3);
    assert_int_equal(s.batches, 2);
    assert_int_equal(s.gaps, 0);
    assert_int_equal(s.reconnects, 0);
    assert_int_equal(s.catchups, 0);
    assert_int_equal(s.primary_shards, 2);
    assert_int_equal(s.offset, 5 + 1); /* watermarks minus the base */
    assert_int_equal(s.link_down_since_unix_ms, 0);
    assert_true(s.last_io_unix_ms >= x.now);
    assert_true(s.bytes_in > 0);
    assert_true(s.frames_in >= 8);
    assert_true(s.sync_bytes > 0);
    assert_string_equal(s.last_error, "");
    assert_string_equal(repl_link_state_name(s.state), "online");
    pthread_mutex_lock(&a.mu);
    assert_true(a.flushes >= 1);
    pthread_mutex_unlock(&a.mu);
    app_free(&a);
}

/* --- refusal and backoff -------------------------------------------------- */

static void script_refuse(fp_conn *c, void *ctx)
{
    if (fp_read_hello(c, 3000) == 0)
        fp_send_error(c, FCRP_ERR_AUTH);
}

static void test_wrong_token_backoff(void **state)
{
    app a;
    app_init(&a);
    fp *f;
    assert_int_equal(fp_start(&f, script_refuse, NULL), 0);
    repl_link *l = start_link(f, &a, "wrong", 40, 160);
    assert_true(EVENTUALLY(fp_conns(f) >= 6, 8000));
    repl_link_stats s = stats(l);
    repl_link_stop(l);

    assert_true(s.reconnects >= 5);
    assert_false(s.synced_once);
    assert_int_equal(s.snapshots, 0);
    assert_non_null(strstr(s.last_error, "invalid auth token"));
    /* the delay is capped, jitter included: within [3/4 cap, cap] */
    assert_true(s.backoff_ms <= 160 && s.backoff_ms >= 120);
    /* the gaps between attempts grow: at least 3/4 of 40, 80, 160, 160...
     * (upper bounds only loosely: the machine may be busy) */
    int64_t d[5];
    for (int i = 0; i < 5; i++)
        d[i] = fp_accept_ms(f, i + 1) - fp_accept_ms(f, i);
    assert_true(d[0] >= 30);
    assert_true(d[1] >= 60);
    assert_true(d[2] >= 120 && d[3] >= 120 && d[4] >= 120);
    assert_true(d[4] < 160 + 500);
    assert_int_equal(a.nev, 0);
    fp_stop(f);
    app_free(&a);
}

/* --- gap: resume from the watermarks -------------------------------------- */

/* A seed-like primary (no capabilities, 1 shard). */
static void script_gap(fp_conn *c, void *ctx)
{
    script_ctx *x = ctx;
    if (!hello_in(x, c))
        return;
    if (c->index == 0) {
        const uint64_t w3[1] = {3};
        fp_send_hello(c, w3, 1, 0, 0);
        fp_send_wm(c, FCRP_SNAPSHOT_BEGIN, w3, 1);
        fcrp_entry e = fp_entry("k", "v", NO_EXP);
        fp_send_chunk(c, 0, true, w3, 1, &e, 1);
        fp_send_wm(c, FCRP_SNAPSHOT_END, w3, 1);
        fcrp_record r[2] = {fp_rec(0, 4, FCRP_OP_SET, "a", "1", NO_EXP),
                            fp_rec(0, 5, FCRP_OP_SET, "b", "2", NO_EXP)};
        fp_send_batch(c, r, 2);
        fcrp_record g = fp_rec(0, 7, FCRP_OP_SET, "c", "3", NO_EXP);
        fp_send_batch(c, &g, 1);
        x->s[0].closed = fp_wait_closed(c, 3000) == 0;
        return;
    }
    const uint64_t w7[1] = {7};
    fp_send_hello(c, w7, 1, 0, 0);
    fcrp_record r[3] = {fp_rec(0, 5, FCRP_OP_SET, "b", "2", NO_EXP),
                        fp_rec(0, 6, FCRP_OP_SET, "x", "9", NO_EXP),
                        fp_rec(0, 7, FCRP_OP_SET, "c", "3", NO_EXP)};
    fp_send_batch(c, r, 3);
    fp_hold(c);
}

static void test_gap_resumes_from_watermarks(void **state)
{
    script_ctx x = {0};
    app a;
    app_init(&a);
    fp *f;
    assert_int_equal(fp_start(&f, script_gap, &x), 0);
    repl_link *l = start_link(f, &a, NULL, 20, 100);
    /* synced once or twice: the snapshot's end may share a read with the
     * gap, and a session that fails in a read does not report sync */
    assert_true(
        EVENTUALLY(stats(l).records_applied == 4 && app_synced(&a) >= 1, 5000));
    repl_link_stats s = stats(l);
    repl_link_stop(l);
    fp_stop(f);

    assert_true(x.s[0].closed); /* the link dropped the gap */
    assert_false(x.s[0].has_since);
    assert_string_equal(x.s[0].token, "");
    assert_true(x.s[1].has_since); /* and came back with its position */
    assert_int_equal(x.s[1].nsince, 1);
    assert_int_equal(x.s[1].since[0], 5);
    static const char *const want[] = {"begin",   "entry k=v", "end",
                                       "set a=1", "set b=2",   "set x=9",
                                       "set c=3"};
    expect_events(&a, true, want, 7);
    assert_int_equal(s.gaps, 1);
    assert_int_equal(s.reconnects, 1);
    assert_int_equal(s.catchups, 1);
    assert_int_equal(s.snapshots, 1);
    assert_int_equal(s.records_skipped, 1);
    assert_int_equal(s.records_applied, 4);
    assert_int_equal(s.acks_sent, 0); /* a seed primary never reads */
    assert_int_equal(s.offset, 7);    /* no base from a seed primary */
    assert_non_null(strstr(s.last_error, "gap on shard 0"));
    app_free(&a);
}

/* --- snapshot validation: full resyncs ------------------------------------ */

static void script_bad_snapshots(fp_conn *c, void *ctx)
{
    script_ctx *x = ctx;
    if (!hello_in(x, c))
        return;
    const uint64_t hw[1] = {12}, wb[1] = {11};
    fcrp_entry e = fp_entry("a", "1", NO_EXP);
    fp_send_hello(c, hw, 1, ALL_CAPS, 10);
    fp_send_wm(c, FCRP_SNAPSHOT_BEGIN, wb, 1);
    if (c->index == 0) { /* chunk 2 after chunk 0 */
        fp_send_chunk(c, 0, false, wb, 1, &e, 1);
        fp_send_chunk(c, 2, true, wb, 1, NULL, 0);
    } else if (c->index == 1) { /* End before the last chunk */
        fp_send_chunk(c, 0, false, wb, 1, &e, 1);
        fp_send_wm(c, FCRP_SNAPSHOT_END, hw, 1);
    } else if (c->index == 2) { /* a batch inside the snapshot */
        fp_send_chunk(c, 0, false, wb, 1, &e, 1);
        fcrp_record r = fp_rec(0, 12, FCRP_OP_SET, "z", "26", NO_EXP);
        fp_send_batch(c, &r, 1);
    } else {
        fp_send_chunk(c, 0, true, wb, 1, &e, 1);
        fp_send_wm(c, FCRP_SNAPSHOT_END, hw, 1);
        fcrp_record r = fp_rec(0, 12, FCRP_OP_SET, "z", "26", NO_EXP);
        fp_send_batch(c, &r, 1);
        fp_hold(c);
        return;
    }
    x->s[c->index].closed = fp_wait_closed(c, 3000) == 0;
}

static void test_bad_snapshot_full_resync(void **state)
{
    script_ctx x = {0};
    app a;
    app_init(&a);
    fp *f;
    assert_int_equal(fp_start(&f, script_bad_snapshots, &x), 0);
    repl_link *l = start_link(f, &a, NULL, 10, 50);
    assert_true(EVENTUALLY(app_synced(&a) == 1, 5000));
    repl_link_stats s = stats(l);
    repl_link_stop(l);
    fp_stop(f);

    for (int i = 0; i < 3; i++) {
        assert_true(x.s[i].closed);
        assert_false(x.s[i + 1].has_since); /* failed inside a snapshot */
    }
    static const char *const want[] = {
        "begin", "entry a=1", "begin", "entry a=1", "begin", "entry a=1",
        "begin", "entry a=1", "end",   "set z=26",  "synced"};
    expect_events(&a, false, want, 11);
    assert_int_equal(s.snapshots, 4);
    assert_int_equal(s.reconnects, 3);
    assert_int_equal(s.offset, 2);
    assert_non_null(strstr(s.last_error, "MutationBatch inside a snapshot"));
    app_free(&a);
}

/* --- Acks: after records and when idle ------------------------------------ */

static void script_idle_ack(fp_conn *c, void *ctx)
{
    script_ctx *x = ctx;
    if (!hello_in(x, c))
        return;
    const uint64_t hw[1] = {5};
    fp_send_hello(c, hw, 1, FCRP_F_CAP_FC, 5); /* nothing written yet */
    seen *s = &x->s[0];
    int64_t t0 = fp_mono_ms();
    if (fp_read_ack(c, s->ack, FP_MAX_WM, &s->nack, 3000) != 0)
        return;
    s->ack_ms = fp_mono_ms() - t0; /* the idle heartbeat */
    fcrp_record r = fp_rec(0, 6, FCRP_OP_EXPIRE, "k", NULL, NO_EXP);
    fp_send_batch(c, &r, 1);
    t0 = fp_mono_ms();
    uint64_t w[FP_MAX_WM];
    uint32_t n;
    if (fp_read_ack(c, w, FP_MAX_WM, &n, 3000) == 0 && n == 1 && w[0] == 6)
        x->s[1].ack_ms = fp_mono_ms() - t0, x->s[1].ack_ok = true;
    fp_hold(c);
}

static void test_acks(void **state)
{
    script_ctx x = {0};
    app a;
    app_init(&a);
    fp *f;
    assert_int_equal(fp_start(&f, script_idle_ack, &x), 0);
    repl_link *l = start_link(f, &a, NULL, 20, 100);
    assert_true(EVENTUALLY(x.s[1].ack_ok, 5000));
    repl_link_stats s = stats(l);
    repl_link_stop(l);
    fp_stop(f);

    /* nothing on the primary: synced at once, no snapshot, then one idle
     * Ack a second later with the base as position */
    assert_int_equal(x.s[0].nack, 1);
    assert_int_equal(x.s[0].ack[0], 5);
    assert_true(x.s[0].ack_ms >= 800);
    assert_true(x.s[1].ack_ms < 800); /* after a record: at once */
    static const char *const want[] = {"synced", "expire k"};
    expect_events(&a, false, want, 2);
    assert_int_equal(s.snapshots, 0);
    assert_int_equal(s.offset, 1);
    assert_true(s.acks_sent >= 2);
    app_free(&a);
}

/* --- one byte at a time --------------------------------------------------- */

static void script_trickle(fp_conn *c, void *ctx)
{
    script_ctx *x = ctx;
    if (!hello_in(x, c))
        return;
    c->trickle = true;
    const uint64_t hw[1] = {2}, wb[1] = {0};
    /* LZ4 agreed: a compressible value makes a compressed chunk */
    char big[300];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = 0;
    fp_send_hello(c, hw, 1, ALL_CAPS, 0);
    fp_send_wm(c, FCRP_SNAPSHOT_BEGIN, wb, 1);
    fcrp_entry e[2] = {fp_entry("big", big, NO_EXP),
                       fp_entry("s", "t", NO_EXP)};
    fp_send_chunk(c, 0, true, wb, 1, e, 2);
    fp_send_wm(c, FCRP_SNAPSHOT_END, wb, 1);
    fcrp_record r[2] = {fp_rec(0, 1, FCRP_OP_SET, "m", "n", NO_EXP),
                        fp_rec(0, 2, FCRP_OP_CLEAR, NULL, NULL, NO_EXP)};
    fp_send_batch(c, r, 2);
    fp_hold(c);
}

static void test_one_byte_writes(void **state)
{
    script_ctx x = {0};
    app a;
    app_init(&a);
    fp *f;
    assert_int_equal(fp_start(&f, script_trickle, &x), 0);
    repl_link *l = start_link(f, &a, NULL, 20, 100);
    assert_true(EVENTUALLY(stats(l).records_applied == 2, 10000));
    assert_true(EVENTUALLY(app_synced(&a) >= 1, 2000));
    repl_link_stats s = stats(l);
    repl_link_stop(l);
    fp_stop(f);

    char big[310];
    memset(big, 'q', 299);
    big[299] = 0;
    char want_big[320];
    snprintf(want_big, sizeof want_big, "entry big=%s", big);
    const char *const want[] = {"begin", want_big,  "entry s=t",
                                "end",   "set m=n", "clear"};
    expect_events(&a, true, want, 6);
    assert_int_equal(s.reconnects, 0);
    assert_int_equal(s.gaps, 0);
    assert_string_equal(s.last_error, "");
    app_free(&a);
}

/* --- applier errors ------------------------------------------------------- */

static void script_applier(fp_conn *c, void *ctx)
{
    script_ctx *x = ctx;
    if (!hello_in(x, c))
        return;
    const uint64_t w0[1] = {0}, w2[1] = {2};
    fp_send_hello(c, w2, 1, 0, 0);
    if (c->index == 2) { /* resumes from seq 1: the refused record again */
        fcrp_record r = fp_rec(0, 2, FCRP_OP_SET, "bad", "2", NO_EXP);
        fp_send_batch(c, &r, 1);
        fp_hold(c);
        return;
    }
    fp_send_wm(c, FCRP_SNAPSHOT_BEGIN, w0, 1);
    fcrp_entry e = fp_entry(c->index == 0 ? "badentry" : "ok", "v", NO_EXP);
    fp_send_chunk(c, 0, true, w0, 1, &e, 1);
    fp_send_wm(c, FCRP_SNAPSHOT_END, w0, 1);
    fcrp_record r[2] = {fp_rec(0, 1, FCRP_OP_SET, "a", "1", NO_EXP),
                        fp_rec(0, 2, FCRP_OP_SET, "bad", "2", NO_EXP)};
    fp_send_batch(c, r, 2);
    x->s[c->index].closed = fp_wait_closed(c, 3000) == 0;
}

static void test_applier_error_resyncs(void **state)
{
    script_ctx x = {0};
    app a;
    app_init(&a);
    a.fail[0] = "badentry"; /* session 0 fails in the snapshot */
    a.fail[1] = "bad";      /* session 1 on a record */
    fp *f;
    assert_int_equal(fp_start(&f, script_applier, &x), 0);
    repl_link *l = start_link(f, &a, NULL, 10, 50);
    assert_true(EVENTUALLY(
        stats(l).state == REPL_LINK_ONLINE && fp_conns(f) == 3, 5000));
    repl_link_stats s = stats(l);
    repl_link_stop(l);
    fp_stop(f);

    assert_true(x.s[0].closed && x.s[1].closed);
    assert_non_null(strstr(s.last_error, "applier refused a record"));
    assert_false(x.s[1].has_since); /* the snapshot failed: full sync */
    assert_true(x.s[2].has_since);  /* the record failed: resume */
    assert_int_equal(x.s[2].since[0], 1);
    static const char *const want[] = {"begin", "begin",   "entry ok=v",
                                       "end",   "set a=1", "set bad=2"};
    expect_events(&a, true, want, 6);
    assert_int_equal(s.reconnects, 2);
    assert_int_equal(s.catchups, 1);
    app_free(&a);
}

/* --- the primary changes shape: full resyncs ------------------------------ */

static void script_shape(fp_conn *c, void *ctx)
{
    script_ctx *x = ctx;
    if (!hello_in(x, c))
        return;
    const uint64_t z2[2] = {0, 0}, z4[4] = {0}, f2[2] = {5, 5}, h2[2] = {1, 0};
    switch (c->index) {
    case 0: /* 2 shards: sync, one record, then the primary goes away */
        fp_send_hello(c, h2, 2, 0, 0);
        fp_send_wm(c, FCRP_SNAPSHOT_BEGIN, z2, 2);
        fp_send_chunk(c, 0, true, z2, 2, NULL, 0);
        fp_send_wm(c, FCRP_SNAPSHOT_END, z2, 2);
        fcrp_record r = fp_rec(0, 1, FCRP_OP_SET, "a", "1", NO_EXP);
        fp_send_batch(c, &r, 1);
        sleep_ms(100);
        return;
    case 1: /* now 4 shards */
        fp_send_hello(c, z4, 4, 0, 0);
        break;
    case 2: /* 2 shards again, full sync at [5, 5] */
        fp_send_hello(c, f2, 2, 0, 0);
        fp_send_wm(c, FCRP_SNAPSHOT_BEGIN, f2, 2);
        fp_send_chunk(c, 0, true, f2, 2, NULL, 0);
        fp_send_wm(c, FCRP_SNAPSHOT_END, f2, 2);
        sleep_ms(100);
        return;
    case 3: /* restarted from scratch: behind the replica */
        fp_send_hello(c, z2, 2, 0, 0);
        break;
    default: /* empty primary, fresh replica: it empties its copy */
        fp_send_hello(c, z2, 2, 0, 0);
        fp_hold(c);
        return;
    }
    x->s[c->index].closed = fp_wait_closed(c, 3000) == 0;
}

static void test_primary_shape_change(void **state)
{
    script_ctx x = {0};
    app a;
    app_init(&a);
    fp *f;
    assert_int_equal(fp_start(&f, script_shape, &x), 0);
    repl_link *l = start_link(f, &a, NULL, 300, 300);
    assert_true(EVENTUALLY(app_synced(&a) == 3, 8000));
    repl_link_stats s = stats(l);
    repl_link_stop(l);
    int64_t d1 = fp_accept_ms(f, 2) - fp_accept_ms(f, 1);
    int64_t d3 = fp_accept_ms(f, 4) - fp_accept_ms(f, 3);
    fp_stop(f);

    assert_true(x.s[1].has_since);
    assert_int_equal(x.s[1].nsince, 2);
    assert_int_equal(x.s[1].since[0], 1);
    assert_true(x.s[1].closed);
    assert_false(x.s[2].has_since); /* shard count changed */
    assert_true(x.s[3].has_since);
    assert_int_equal(x.s[3].since[0], 5);
    assert_int_equal(x.s[3].since[1], 5);
    assert_false(x.s[4].has_since); /* the primary was behind */
    /* no backoff before those two reconnects */
    assert_true(d1 < 250);
    assert_true(d3 < 250);
    static const char *const want[] = {"begin", "end",   "set a=1", "begin",
                                       "end",   "begin", "end"};
    expect_events(&a, true, want, 7);
    assert_int_equal(s.reconnects, 4);
    assert_int_equal(s.primary_shards, 2);
    app_free(&a);
}

/* --- Error "resync required": forget the position ------------------------- */

static void script_resync(fp_conn *c, void *ctx)
{
    script_ctx *x = ctx;
    if (!hello_in(x, c))
        return;
    const uint64_t w1[1] = {1}, w0[1] = {0};
    fp_send_hello(c, w1, 1, 0, 0);
    if (c->index == 0) {
        fp_send_wm(c, FCRP_SNAPSHOT_BEGIN, w0, 1);
        fp_send_chunk(c, 0, true, w0, 1, NULL, 0);
        fp_send_wm(c, FCRP_SNAPSHOT_END, w0, 1);
        fcrp_record r = fp_rec(0, 1, FCRP_OP_SET, "a", "1", NO_EXP);
        fp_send_batch(c, &r, 1);
        sleep_ms(50);
        fp_send_error(c, FCRP_ERR_RESYNC);
    }
    x->s[c->index].closed = fp_wait_closed(c, 3000) == 0;
}

static void test_resync_error_forgets_position(void **state)
{
    script_ctx x = {0};
    app a;
    app_init(&a);
    fp *f;
    assert_int_equal(fp_start(&f, script_resync, &x), 0);
    repl_link *l = start_link(f, &a, NULL, 10, 50);
    assert_true(EVENTUALLY(fp_conns(f) >= 2, 5000));
    repl_link_stats s = stats(l);
    repl_link_stop(l);
    fp_stop(f);
    assert_int_equal(a.synced, 1);
    assert_true(x.s[0].closed);
    assert_false(x.s[1].has_since);
    assert_non_null(strstr(s.last_error, "resync required"));
    app_free(&a);
}

/* --- prompt stops --------------------------------------------------------- */

static void script_silent(fp_conn *c, void *ctx)
{
    fp_read_hello(c, 3000);
    fp_hold(c);
}

static void script_online(fp_conn *c, void *ctx)
{
    const uint64_t w[1] = {0};
    if (fp_read_hello(c, 3000) != 0)
        return;
    fp_send_hello(c, w, 1, 0, 0);
    fp_hold(c);
}

static int64_t timed_stop(repl_link *l)
{
    int64_t t0 = fp_mono_ms();
    repl_link_stop(l);
    return fp_mono_ms() - t0;
}

static uint16_t closed_port(void)
{
    char err[64];
    int fd = repl_listen("127.0.0.1", 0, err, sizeof err);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    close(fd);
    return ntohs(sa.sin_port);
}

static repl_link *start_to(const char *host, uint16_t port, app *a,
                           uint32_t timeout, uint32_t backoff)
{
    repl_link_cfg c;
    repl_link_cfg_default(&c);
    c.host = (char *)host;
    c.port = port;
    c.connect_timeout_ms = timeout;
    c.backoff_ms = c.backoff_max_ms = backoff;
    c.ops = &app_ops;
    c.ctx = a;
    repl_link *l;
    char err[128];
    assert_int_equal(repl_link_start(&l, &c, err, sizeof err), 0);
    return l;
}

static void test_stop_is_prompt(void **state)
{
    app a;
    app_init(&a);
    fp *f;

    /* waiting for the primary's Hello (10 s timeout) */
    assert_int_equal(fp_start(&f, script_silent, NULL), 0);
    repl_link *l = start_to("127.0.0.1", fp_port(f), &a, 10000, 10000);
    assert_true(EVENTUALLY(fp_conns(f) == 1, 3000));
    sleep_ms(50);
    assert_int_equal(stats(l).state, REPL_LINK_CONNECTING);
    assert_true(timed_stop(l) < 500);
    fp_stop(f);

    /* online, asleep in poll with no timer (seed primary: no Acks) */
    assert_int_equal(fp_start(&f, script_online, NULL), 0);
    l = start_to("127.0.0.1", fp_port(f), &a, 3000, 10000);
    assert_true(EVENTUALLY(stats(l).state == REPL_LINK_ONLINE, 3000));
    assert_true(timed_stop(l) < 500);
    fp_stop(f);

    /* in a 10 s backoff after a refused connect */
    l = start_to("127.0.0.1", closed_port(), &a, 3000, 10000);
    assert_true(EVENTUALLY(stats(l).state == REPL_LINK_DOWN, 3000));
    repl_link_stats s = stats(l);
    assert_true(s.link_down_since_unix_ms > 0);
    assert_non_null(strstr(s.last_error, "connect"));
    assert_true(timed_stop(l) < 500);

    /* connecting to an address that may never answer (blackholed here, or
     * refused at once: either way the stop is prompt) */
    l = start_to("10.255.255.1", 7631, &a, 10000, 10000);
    sleep_ms(100);
    assert_true(timed_stop(l) < 500);
    app_free(&a);
}

static void test_bad_config(void **state)
{
    repl_link_cfg c;
    repl_link_cfg_default(&c);
    repl_link *l = (repl_link *)1;
    char err[128];
    assert_int_equal(repl_link_start(&l, &c, err, sizeof err), -1);
    assert_null(l);
    assert_non_null(strstr(err, "host"));
    c.host = (char *)"127.0.0.1";
    c.port = 1;
    assert_int_equal(repl_link_start(&l, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "applier"));
    repl_link_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_then_batches),
        cmocka_unit_test(test_wrong_token_backoff),
        cmocka_unit_test(test_gap_resumes_from_watermarks),
        cmocka_unit_test(test_bad_snapshot_full_resync),
        cmocka_unit_test(test_acks),
        cmocka_unit_test(test_one_byte_writes),
        cmocka_unit_test(test_applier_error_resyncs),
        cmocka_unit_test(test_primary_shape_change),
        cmocka_unit_test(test_resync_error_forgets_position),
        cmocka_unit_test(test_stop_is_prompt),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
