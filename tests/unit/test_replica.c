/* test_replica.c — the embedded replica (fastcache.h fc_replica_*) driven
 * by the scripted primary of support/fake_primary.h: a snapshot then
 * batches become values visible through fc_get and friends, TTLs arrive
 * as unix times and come out as local TTLs, DEL / EXPIRE / persist /
 * CLEAR apply, every write call is refused with FC_EREADONLY, wait_synced
 * waits, and a reconnect resumes from the watermarks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <stdatomic.h>
#include <time.h>

#include "fake_primary.h"
#include "fastcache.h"

#define NO_EXP FCRP_NO_EXPIRY
#define ALL_CAPS (FCRP_F_CAP_CHECK | FCRP_F_CAP_LZ4 | FCRP_F_CAP_FC)

typedef struct ctx {
    atomic_int phase; /* the test lets the script go on */
    /* conn 1's Hello (read after fp_stop) */
    bool has_since;
    uint32_t nsince;
    uint64_t since[FP_MAX_WM];
} ctx;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

#define EVENTUALLY(cond, ms)                                                   \
    ({                                                                         \
        int64_t dl_ = fp_mono_ms() + (ms);                                     \
        bool ok_;                                                              \
        while (!(ok_ = (cond)) && fp_mono_ms() < dl_)                          \
            sleep_ms(5);                                                       \
        ok_;                                                                   \
    })

/* Waits for the test to reach phase p; false when the fake stops. */
static bool wait_phase(fp_conn *c, ctx *x, int p)
{
    while (atomic_load(&x->phase) < p)
        if (fp_stopping(c->owner))
            return false;
        else
            sleep_ms(5);
    return true;
}

/* 2 primary shards, base 100. */
static void script(fp_conn *c, void *arg)
{
    ctx *x = arg;
    if (fp_read_hello(c, 3000) != 0)
        return;
    uint64_t now = (uint64_t)fp_unix_ms();
    if (c->index == 1) { /* resumes after the primary went away */
        x->has_since = c->has_since;
        x->nsince = c->nsince;
        memcpy(x->since, c->since, sizeof x->since);
        const uint64_t hw[2] = {108, 101};
        fp_send_hello(c, hw, 2, ALL_CAPS, 100);
        fcrp_record r = fp_rec(0, 108, FCRP_OP_SET, "after", "1", NO_EXP);
        fp_send_batch(c, &r, 1);
        fp_hold(c);
        return;
    }
    if (!wait_phase(c, x, 1)) /* the test first sees it unsynced */
        return;
    const uint64_t hw[2] = {102, 100}, wb[2] = {100, 100};
    fp_send_hello(c, hw, 2, ALL_CAPS, 100);
    fp_send_wm(c, FCRP_SNAPSHOT_BEGIN, wb, 2);
    fcrp_entry e[3] = {fp_entry("a", "1", NO_EXP),
                       fp_entry("t", "tt", now + 60000),
                       fp_entry("old", "gone", now - 5)};
    fp_send_chunk(c, 0, true, wb, 2, e, 3);
    fp_send_wm(c, FCRP_SNAPSHOT_END, hw, 2);
    fcrp_record r0[2] = {fp_rec(0, 101, FCRP_OP_SET, "s", "30", now + 30000),
                         fp_rec(0, 102, FCRP_OP_SET, "d", "del-me", NO_EXP)};
    fp_send_batch(c, r0, 2);

    if (!wait_phase(c, x, 2))
        return;
    now = (uint64_t)fp_unix_ms();
    fcrp_record r1[5] = {
        fp_rec(0, 103, FCRP_OP_DEL, "d", NULL, NO_EXP),
        fp_rec(0, 104, FCRP_OP_EXPIRE, "a", NULL, now + 10000),
        fp_rec(0, 105, FCRP_OP_EXPIRE, "t", NULL, NO_EXP), /* persist */
        fp_rec(0, 106, FCRP_OP_SET, "s", "late", now - 1), /* expired */
        fp_rec(1, 101, FCRP_OP_SET, "z", "26", NO_EXP)};
    fp_send_batch(c, r1, 5);

    if (!wait_phase(c, x, 3))
        return;
    fcrp_record r2 = fp_rec(0, 107, FCRP_OP_CLEAR, NULL, NULL, NO_EXP);
    fp_send_batch(c, &r2, 1);

    wait_phase(c, x, 4); /* then the primary goes away */
}

static fc_replica_info info(fc_replica *r)
{
    fc_replica_info i;
    assert_int_equal(fc_replica_status(r, &i), FC_OK);
    return i;
}

static int64_t get_str(fc_store *s, const char *k, char *buf, size_t cap)
{
    size_t len;
    int rc = fc_get(s, k, strlen(k), buf, cap - 1, &len);
    if (rc != FC_OK)
        return rc;
    buf[len] = 0;
    return 0;
}

static void has_value(fc_store *s, const char *k, const char *v)
{
    char buf[64];
    assert_int_equal(get_str(s, k, buf, sizeof buf), 0);
    assert_string_equal(buf, v);
}

/* The TTL left of a key the primary gave `want` ms a moment ago. Reading
 * two clocks to convert unix to monotonic ms costs up to 2 ms of error
 * either way (each read truncates, and the offset only follows moves past
 * 1 ms); the moment is at most 2 s on a busy machine. */
static void has_pttl(fc_store *s, const char *k, int64_t want)
{
    int64_t t = fc_pttl(s, k, strlen(k));
    if (t > want + 2 || t <= want - 2000)
        fail_msg("pttl(%s) = %lld, want about %lld", k, (long long)t,
                 (long long)want);
}

static void mget_fn(void *c, size_t i, int status, const void *v, size_t n)
{
    int *found = c;
    found[i] = status == FC_OK;
}

static void refuses_writes(fc_store *s)
{
    void *old;
    size_t olen, removed = 7;
    int64_t n;
    fc_kv kv = {{"k", 1}, {"v", 1}, FC_TTL_NONE};
    fc_slice key = {"a", 1};
    int res[1] = {0};
    assert_int_equal(fc_set(s, "k", 1, "v", 1, FC_TTL_NONE, 0), FC_EREADONLY);
    assert_int_equal(fc_set_get(s, "k", 1, "v", 1, FC_TTL_NONE, 0, &old, &olen),
                     FC_EREADONLY);
    assert_null(old);
    assert_int_equal(fc_del(s, "a", 1), FC_EREADONLY);
    assert_int_equal(fc_pexpire(s, "a", 1, 1000), FC_EREADONLY);
    assert_int_equal(fc_expire(s, "a", 1, 1), FC_EREADONLY);
    assert_int_equal(fc_persist(s, "a", 1), FC_EREADONLY);
    assert_int_equal(fc_incrby(s, "a", 1, 1, &n), FC_EREADONLY);
    assert_int_equal(fc_mset(s, &kv, 1, res), FC_EREADONLY);
    assert_int_equal(fc_mdel(s, &key, 1, &removed), FC_EREADONLY);
    assert_int_equal(removed, 0);
    size_t before = fc_len(s);
    fc_clear(s);       /* nothing */
    fc_store_close(s); /* nothing: the replica's */
    assert_int_equal(fc_len(s), before);
    assert_non_null(strstr(fc_strerror(FC_EREADONLY), "read-only"));
}

static void test_replica_follows_primary(void **state)
{
    ctx x = {0};
    fp *f;
    assert_int_equal(fp_start(&f, script, &x), 0);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", fp_port(f));
    fc_replica_options o = {.primary = addr,
                            .store = {.shards = 8},
                            .connect_timeout_ms = 5000,
                            .reconnect_backoff_ms = 20};
    fc_replica *r;
    assert_int_equal(fc_replica_open(&r, &o), FC_OK);
    fc_store *s = fc_replica_store(r);
    assert_non_null(s);
    assert_int_equal(fc_store_shards(s), 8);

    /* connected, no answer yet: not synced */
    assert_true(EVENTUALLY(fp_conns(f) == 1, 3000));
    assert_int_equal(fc_replica_wait_synced(r, 0), FC_ETIMEDOUT);
    assert_int_equal(fc_replica_wait_synced(r, 100), FC_ETIMEDOUT);
    fc_replica_info i = info(r);
    assert_false(i.synced);
    assert_string_equal(i.state_name, "connecting");
    atomic_store(&x.phase, 1);
    assert_int_equal(fc_replica_wait_synced(r, 5000), FC_OK);

    /* the snapshot and the first batch */
    i = info(r);
    assert_true(i.synced && i.synced_once);
    assert_int_equal(i.state, FC_REPLICA_ONLINE);
    assert_int_equal(i.snapshots, 1);
    assert_int_equal(i.entries_loaded, 2);
    assert_int_equal(i.records_applied, 2);
    assert_int_equal(i.offset, 2);
    assert_int_equal(fc_len(s), 4);
    has_value(s, "a", "1");
    has_value(s, "t", "tt");
    has_value(s, "s", "30");
    has_value(s, "d", "del-me");
    assert_false(fc_exists(s, "old", 3));
    assert_int_equal(fc_pttl(s, "a", 1), FC_TTL_NOEXPIRE);
    has_pttl(s, "t", 60000);
    has_pttl(s, "s", 30000);
    fc_slice keys[3] = {{"a", 1}, {"nope", 4}, {"d", 1}};
    int found[3] = {0};
    assert_int_equal(fc_mget(s, keys, 3, mget_fn, found), FC_OK);
    assert_true(found[0] && !found[1] && found[2]);
    refuses_writes(s);

    /* DEL, EXPIRE, persist, an expired SET, another shard */
    atomic_store(&x.phase, 2);
    assert_true(EVENTUALLY(info(r).records_applied == 7, 3000));
    assert_false(fc_exists(s, "d", 1));
    has_pttl(s, "a", 10000);
    assert_int_equal(fc_pttl(s, "t", 1), FC_TTL_NOEXPIRE);
    assert_false(fc_exists(s, "s", 1));
    has_value(s, "z", "26");
    assert_int_equal(fc_len(s), 3);

    /* CLEAR empties every shard */
    atomic_store(&x.phase, 3);
    assert_true(EVENTUALLY(info(r).records_applied == 8, 3000));
    assert_int_equal(fc_len(s), 0);
    assert_int_equal(info(r).offset, 7 + 1);

    /* the primary goes away; the replica resumes where it was */
    atomic_store(&x.phase, 4);
    char buf[8];
    assert_true(EVENTUALLY(get_str(s, "after", buf, sizeof buf) == 0, 3000));
    i = info(r);
    assert_int_equal(i.reconnects, 1);
    assert_int_equal(i.snapshots, 1);
    assert_true(i.synced);
    fc_replica_close(r);
    fp_stop(f);
    assert_true(x.has_since);
    assert_int_equal(x.nsince, 2);
    assert_int_equal(x.since[0], 107);
    assert_int_equal(x.since[1], 101);
}

/* A session_prefix replica (issue 12): what it applies lands where its own
 * reads look, i.e. a session's chunks in the session's shard. */
static void session_script(fp_conn *c, void *arg)
{
    (void)arg;
    if (fp_read_hello(c, 3000) != 0)
        return;
    const uint64_t hw[1] = {103}, wb[1] = {100};
    fp_send_hello(c, hw, 1, ALL_CAPS, 100);
    fp_send_wm(c, FCRP_SNAPSHOT_BEGIN, wb, 1);
    fcrp_entry e[3] = {fp_entry("s:5:c:0", "c0", NO_EXP),
                       fp_entry("s:5:c:1", "c1", NO_EXP),
                       fp_entry("plain", "p", NO_EXP)};
    fp_send_chunk(c, 0, true, wb, 1, e, 3);
    fp_send_wm(c, FCRP_SNAPSHOT_END, wb, 1);
    fcrp_record r[3] = {fp_rec(0, 101, FCRP_OP_SET, "s:5:c:2", "c2", NO_EXP),
                        fp_rec(0, 102, FCRP_OP_SET, "s:5:c:3", "c3", NO_EXP),
                        fp_rec(0, 103, FCRP_OP_DEL, "s:5:c:1", NULL, NO_EXP)};
    fp_send_batch(c, r, 3);
    fp_hold(c);
}

static void test_replica_session_prefix(void **state)
{
    (void)state;
    fp *f;
    assert_int_equal(fp_start(&f, session_script, NULL), 0);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", fp_port(f));
    fc_replica_options o = {
        .primary = addr,
        .store = {.shards = 16, .route_mode = FC_ROUTE_SESSION_PREFIX},
        .connect_timeout_ms = 5000};
    fc_replica *r;
    assert_int_equal(fc_replica_open(&r, &o), FC_OK);
    fc_store *s = fc_replica_store(r);
    assert_int_equal(fc_replica_wait_synced(r, 5000), FC_OK);
    assert_true(EVENTUALLY(info(r).records_applied == 3, 3000));
    has_value(s, "s:5:c:0", "c0");
    has_value(s, "s:5:c:2", "c2");
    has_value(s, "s:5:c:3", "c3");
    has_value(s, "plain", "p");
    assert_false(fc_exists(s, "s:5:c:1", 7));
    fc_route sr, kr;
    assert_int_equal(fc_store_route_session(s, "s:5", 3, &sr), FC_OK);
    fc_slice keys[3] = {{"s:5:c:0", 7}, {"s:5:c:1", 7}, {"s:5:c:3", 7}};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fc_store_route(s, keys[i].data, keys[i].len, &kr),
                         FC_OK);
        assert_int_equal(kr.shard, sr.shard);
    }
    fc_packed p;
    fc_packed_init(&p, NULL, 0);
    assert_int_equal(fc_mget_packed(s, keys, 3, &p), FC_OK);
    assert_int_equal(p.hits, 2);
    assert_memory_equal(p.data, "c0c3", 4); /* one shard: input order */
    fc_packed_free(&p);
    fc_replica_close(r);
    fp_stop(f);
}

static void test_replica_open_errors(void **state)
{
    fc_replica *r = (fc_replica *)1;
    fc_replica_options o = {0};
    assert_int_equal(fc_replica_open(NULL, &o), FC_EINVAL);
    assert_int_equal(fc_replica_open(&r, NULL), FC_EINVAL);
    assert_null(r);
    assert_int_equal(fc_replica_open(&r, &o), FC_EINVAL);
    o.primary = "no-port";
    assert_int_equal(fc_replica_open(&r, &o), FC_EINVAL);
    o.primary = "127.0.0.1:0";
    assert_int_equal(fc_replica_open(&r, &o), FC_EINVAL);
    o.primary = "127.0.0.1:7631";
    o.store.shards = 3;
    assert_int_equal(fc_replica_open(&r, &o), FC_EINVAL);
    o.store.shards = 0;
    o.store.data_dir = "/tmp";
    assert_int_equal(fc_replica_open(&r, &o), FC_EINVAL);
    assert_null(r);
    fc_replica_close(NULL);
    assert_null(fc_replica_store(NULL));
    assert_int_equal(fc_replica_wait_synced(NULL, 0), FC_EINVAL);
    fc_replica_info i;
    assert_int_equal(fc_replica_status(NULL, &i), FC_EINVAL);
    assert_non_null(strstr(fc_strerror(FC_ETIMEDOUT), "timed out"));
}

/* Nothing listens: the replica keeps retrying, reports why, and closes at
 * once. */
static void test_replica_no_primary(void **state)
{
    fp *f;
    ctx x = {0};
    assert_int_equal(fp_start(&f, script, &x), 0);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", fp_port(f));
    fp_stop(f); /* the port is free again */
    fc_replica_options o = {.primary = addr,
                            .reconnect_backoff_ms = 10,
                            .reconnect_backoff_max_ms = 20};
    fc_replica *r;
    assert_int_equal(fc_replica_open(&r, &o), FC_OK);
    assert_true(EVENTUALLY(info(r).reconnects >= 2, 3000));
    fc_replica_info i = info(r);
    assert_false(i.synced_once);
    assert_true(i.link_down_since_unix_ms > 0);
    assert_non_null(strstr(i.last_error, "connect"));
    assert_int_equal(fc_replica_wait_synced(r, 50), FC_ETIMEDOUT);
    assert_int_equal(fc_len(fc_replica_store(r)), 0);
    int64_t t0 = fp_mono_ms();
    fc_replica_close(r);
    assert_true(fp_mono_ms() - t0 < 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replica_follows_primary),
        cmocka_unit_test(test_replica_session_prefix),
        cmocka_unit_test(test_replica_open_errors),
        cmocka_unit_test(test_replica_no_primary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
