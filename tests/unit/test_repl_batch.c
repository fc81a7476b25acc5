/* test_repl_batch.c — repl/batch.h and repl/backlog.h: the batcher's size,
 * frame-cap and time rules, and the backlog's coverage, eviction, gaps and
 * iteration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fastcache.h>

#include "protocol/fcrp.h"
#include "repl/backlog.h"
#include "repl/batch.h"

static fcrp_record rec(uint32_t shard, uint64_t seq, const char *k, size_t vlen)
{
    static char val[4096];
    memset(val, 'v', sizeof val);
    fcrp_record r = {.shard = shard,
                     .seq = seq,
                     .op = FCRP_OP_SET,
                     .expire_at_ms = FCRP_NO_EXPIRY,
                     .key = (const uint8_t *)k,
                     .key_len = (uint32_t)strlen(k),
                     .value = (const uint8_t *)val,
                     .value_len = (uint32_t)vlen};
    return r;
}

/* Decodes a batcher frame and checks its records: shard, seqs lo..hi. */
static void expect_frame(const repl_frame *f, const fcrp_rx *rx, uint32_t shard,
                         uint64_t lo, uint64_t hi)
{
    fcrp_frame fr;
    size_t used, need, pn;
    const uint8_t *pl;
    fc_buf scratch = {0};
    assert_int_equal(fcrp_frame_decode(f->data, f->len, rx, &fr, &used, &need),
                     FCRP_OK);
    assert_int_equal(used, f->len);
    assert_int_equal(fr.h.kind, FCRP_MUTATION_BATCH);
    assert_int_equal(fcrp_frame_payload(&fr, &scratch, &pl, &pn), FCRP_OK);
    assert_int_equal(pn, f->raw_bytes);
    fcrp_batch it;
    fcrp_record r;
    assert_int_equal(fcrp_batch_open(pl, pn, &it), FCRP_OK);
    assert_int_equal(it.count, hi - lo + 1);
    assert_int_equal(f->records, it.count);
    for (uint64_t s = lo; s <= hi; s++) {
        assert_true(fcrp_batch_next(&it, &r));
        assert_int_equal(r.shard, shard);
        assert_true(r.seq == s);
    }
    assert_int_equal(f->shard, shard);
    assert_true(f->min_seq == lo && f->max_seq == hi);
    fc_buf_free(&scratch);
}

static fcrp_rx rx_all(void)
{
    fcrp_rx rx;
    fcrp_rx_default(&rx);
    rx.accept = FCRP_F_CHECK | FCRP_F_LZ4;
    return rx;
}

/* --- batcher ----------------------------------------------------------------
 */

static void test_batch_record_limit(void **state)
{
    (void)state;
    repl_batch_cfg c;
    repl_batch_cfg_default(&c);
    c.max_records = 3;
    repl_batcher b;
    assert_int_equal(repl_batcher_init(&b, 4, &c), FC_OK);
    fcrp_record r;
    for (uint64_t s = 1; s <= 2; s++) {
        r = rec(2, s, "k", 4);
        assert_int_equal(repl_batcher_push(&b, &r, 0), REPL_BATCH_OK);
    }
    assert_false(repl_batcher_due(&b, 2, 0));
    r = rec(2, 3, "k", 4);
    assert_int_equal(repl_batcher_push(&b, &r, 0), REPL_BATCH_FULL);
    assert_true(repl_batcher_due(&b, 2, 0));
    assert_true(repl_batcher_next_due(&b, 0) == 0);
    repl_frame f;
    assert_int_equal(repl_batcher_take(&b, 2, &f), 1);
    fcrp_rx rx = rx_all();
    expect_frame(&f, &rx, 2, 1, 3);
    assert_int_equal(f.raw_bytes, 4 + 3 * (53 + 1 + 4));
    assert_int_equal(f.len, 16 + f.raw_bytes);
    repl_frame_free(&f);
    /* empty now */
    assert_int_equal(repl_batcher_take(&b, 2, &f), 0);
    assert_null(f.data);
    assert_true(repl_batcher_next_due(&b, 0) == UINT64_MAX);
    repl_batcher_free(&b);
}

static void test_batch_byte_limit(void **state)
{
    (void)state;
    repl_batch_cfg c;
    repl_batch_cfg_default(&c);
    c.max_bytes = 200;
    repl_batcher b;
    assert_int_equal(repl_batcher_init(&b, 1, &c), FC_OK);
    fcrp_record r = rec(0, 1, "key", 44); /* 100 bytes */
    assert_int_equal(repl_batcher_push(&b, &r, 0), REPL_BATCH_OK);
    r = rec(0, 2, "key", 43); /* 199 in all: not yet */
    assert_int_equal(repl_batcher_push(&b, &r, 0), REPL_BATCH_OK);
    r = rec(0, 3, "key", 1000); /* >= 200: full, one record over is fine */
    assert_int_equal(repl_batcher_push(&b, &r, 0), REPL_BATCH_FULL);
    repl_frame f;
    assert_int_equal(repl_batcher_take(&b, 0, &f), 1);
    fcrp_rx rx = rx_all();
    expect_frame(&f, &rx, 0, 1, 3);
    repl_frame_free(&f);
    /* a record alone over max_bytes: its own batch, never split */
    r = rec(0, 4, "key", 4000);
    assert_int_equal(repl_batcher_push(&b, &r, 0), REPL_BATCH_FULL);
    assert_int_equal(repl_batcher_take(&b, 0, &f), 1);
    expect_frame(&f, &rx, 0, 4, 4);
    repl_frame_free(&f);
    repl_batcher_free(&b);
}

static void test_batch_immediate(void **state)
{
    (void)state;
    repl_batch_cfg c;
    repl_batch_cfg_default(&c);
    c.immediate = true;
    repl_batcher b;
    assert_int_equal(repl_batcher_init(&b, 2, &c), FC_OK);
    fcrp_rx rx = rx_all();
    for (uint64_t s = 1; s <= 3; s++) {
        fcrp_record r = rec(1, s, "k", 1);
        assert_int_equal(repl_batcher_push(&b, &r, 0), REPL_BATCH_FULL);
        assert_true(repl_batcher_due(&b, 1, 0));
        repl_frame f;
        assert_int_equal(repl_batcher_take(&b, 1, &f), 1);
        expect_frame(&f, &rx, 1, s, s);
        repl_frame_free(&f);
    }
    repl_batcher_free(&b);
}

static void test_batch_due_by_time(void **state)
{
    (void)state;
    repl_batch_cfg c;
    repl_batch_cfg_default(&c); /* 750 us */
    repl_batcher b;
    assert_int_equal(repl_batcher_init(&b, 3, &c), FC_OK);
    assert_true(repl_batcher_next_due(&b, 0) == UINT64_MAX);
    fcrp_record r = rec(0, 1, "a", 1);
    assert_int_equal(repl_batcher_push(&b, &r, 1000), REPL_BATCH_OK);
    assert_false(repl_batcher_due(&b, 0, 1000));
    assert_true(repl_batcher_next_due(&b, 1000) == 750);
    /* a later record does not restart the clock: the oldest one counts */
    r = rec(0, 2, "a", 1);
    assert_int_equal(repl_batcher_push(&b, &r, 1500), REPL_BATCH_OK);
    assert_true(repl_batcher_next_due(&b, 1500) == 250);
    r = rec(2, 1, "b", 1);
    assert_int_equal(repl_batcher_push(&b, &r, 1600), REPL_BATCH_OK);
    assert_true(repl_batcher_next_due(&b, 1700) == 50); /* min over shards */
    assert_false(repl_batcher_due(&b, 0, 1749));
    assert_true(repl_batcher_due(&b, 0, 1750));
    assert_false(repl_batcher_due(&b, 2, 1750));
    assert_true(repl_batcher_next_due(&b, 1750) == 0);
    assert_false(repl_batcher_due(&b, 1, 99999)); /* empty shard */
    repl_frame f;
    assert_int_equal(repl_batcher_take(&b, 0, &f), 1);
    fcrp_rx rx = rx_all();
    expect_frame(&f, &rx, 0, 1, 2);
    repl_frame_free(&f);
    assert_true(repl_batcher_next_due(&b, 1750) == 600);
    assert_true(repl_batcher_next_due(&b, 900) == 750); /* clock behind */
    assert_int_equal(repl_batcher_take(&b, 2, &f), 1);
    expect_frame(&f, &rx, 2, 1, 1);
    repl_frame_free(&f);
    assert_true(repl_batcher_next_due(&b, 1750) == UINT64_MAX);
    /* a zero delay: due as soon as it holds anything */
    repl_batcher_free(&b);
    c.max_delay_us = 0;
    assert_int_equal(repl_batcher_init(&b, 1, &c), FC_OK);
    r = rec(0, 1, "a", 1);
    assert_int_equal(repl_batcher_push(&b, &r, 5), REPL_BATCH_OK);
    assert_true(repl_batcher_due(&b, 0, 5));
    repl_batcher_free(&b);
}

static void test_batch_frame_cap(void **state)
{
    (void)state;
    repl_batch_cfg c;
    repl_batch_cfg_default(&c);
    c.max_frame = 300;
    repl_batcher b;
    assert_int_equal(repl_batcher_init(&b, 1, &c), FC_OK);
    fcrp_record r = rec(0, 1, "k", 300 - 4 - 53); /* 297 > 296 */
    assert_int_equal(repl_batcher_push(&b, &r, 0), FC_ETOOBIG);
    r = rec(0, 1, "k", 296 - 53 - 1); /* exactly fills a frame */
    assert_int_equal(repl_batcher_push(&b, &r, 0), REPL_BATCH_OK);
    r = rec(0, 2, "k", 0);
    assert_int_equal(repl_batcher_push(&b, &r, 0), REPL_BATCH_FLUSH_FIRST);
    assert_int_equal(repl_batcher_records(&b, 0), 1); /* not appended */
    repl_frame f;
    assert_int_equal(repl_batcher_take(&b, 0, &f), 1);
    assert_int_equal(f.raw_bytes, 300 - 0);
    fcrp_rx rx = rx_all();
    rx.lim.max_payload = rx.lim.max_uncompressed = 300;
    expect_frame(&f, &rx, 0, 1, 1);
    repl_frame_free(&f);
    assert_int_equal(repl_batcher_push(&b, &r, 0), REPL_BATCH_OK);
    assert_int_equal(repl_batcher_take(&b, 0, &f), 1);
    expect_frame(&f, &rx, 0, 2, 2);
    repl_frame_free(&f);
    repl_batcher_free(&b);

    /* with the check, its 4 bytes count against the peers' payload cap */
    c.tx.check = true;
    assert_int_equal(repl_batcher_init(&b, 1, &c), FC_OK);
    r = rec(0, 1, "k", 296 - 53 - 1);
    assert_int_equal(repl_batcher_push(&b, &r, 0), FC_ETOOBIG);
    r = rec(0, 1, "k", 292 - 53 - 1);
    assert_int_equal(repl_batcher_push(&b, &r, 0), REPL_BATCH_OK);
    assert_int_equal(repl_batcher_take(&b, 0, &f), 1);
    rx.require_check = true;
    expect_frame(&f, &rx, 0, 1, 1); /* payload_len 300: at the cap */
    assert_int_equal(f.len, 16 + 300);
    repl_frame_free(&f);
    repl_batcher_free(&b);
}

static void test_batch_rejects(void **state)
{
    (void)state;
    repl_batch_cfg c;
    repl_batch_cfg_default(&c);
    repl_batcher b;
    c.max_records = 0;
    assert_int_equal(repl_batcher_init(&b, 1, &c), FC_EINVAL);
    repl_batch_cfg_default(&c);
    assert_int_equal(repl_batcher_init(&b, 0, &c), FC_EINVAL);
    assert_int_equal(repl_batcher_init(&b, 2, &c), FC_OK);
    fcrp_record r = rec(2, 1, "k", 1);
    assert_int_equal(repl_batcher_push(&b, &r, 0), FC_EINVAL);
    r = rec(0, 0, "k", 1); /* sequences start at 1 */
    assert_int_equal(repl_batcher_push(&b, &r, 0), FC_EINVAL);
    r = rec(0, 5, "k", 1);
    assert_int_equal(repl_batcher_push(&b, &r, 0), REPL_BATCH_OK);
    r = rec(0, 5, "k", 1); /* not above the last */
    assert_int_equal(repl_batcher_push(&b, &r, 0), FC_EINVAL);
    r = rec(0, 6, "k", 1);
    r.op = FCRP_OP_DEL; /* a DEL with a value: the wire cannot carry it */
    assert_int_equal(repl_batcher_push(&b, &r, 0), FC_EINVAL);
    r.value_len = 0;
    assert_int_equal(repl_batcher_push(&b, &r, 0), REPL_BATCH_OK);
    repl_frame f;
    assert_int_equal(repl_batcher_take(&b, 0, &f), 1);
    fcrp_rx rx = rx_all();
    expect_frame(&f, &rx, 0, 5, 6);
    repl_frame_free(&f);
    assert_int_equal(repl_batcher_take(&b, 9, &f), FC_EINVAL);
    repl_batcher_free(&b);
}

static void test_batch_per_shard_compressed_checked(void **state)
{
    (void)state;
    repl_batch_cfg c;
    repl_batch_cfg_default(&c);
    c.tx.comp = FCRP_COMP_ZSTD;
    c.tx.check = true;
    repl_batcher b;
    assert_int_equal(repl_batcher_init(&b, 2, &c), FC_OK);
    char key[32];
    for (uint64_t s = 1; s <= 40; s++) {
        snprintf(key, sizeof key, "key:%llu", (unsigned long long)s);
        fcrp_record r = rec((uint32_t)(s % 2), (s + 1) / 2, key, 100);
        assert_int_equal(repl_batcher_push(&b, &r, s), REPL_BATCH_OK);
    }
    fcrp_rx rx = rx_all();
    rx.require_check = true;
    for (uint32_t sh = 0; sh < 2; sh++) {
        repl_frame f;
        assert_int_equal(repl_batcher_take(&b, sh, &f), 1);
        assert_true(f.len < f.raw_bytes / 2); /* compressed */
        assert_true((f.data[6] & (FCRP_F_ZSTD | FCRP_F_CHECK)) ==
                    (FCRP_F_ZSTD | FCRP_F_CHECK));
        expect_frame(&f, &rx, sh, 1, 20);
        repl_frame_free(&f);
    }
    repl_batcher_free(&b);
}

/* A WAL record becomes the same fact on the wire. */
static void test_record_from_wal(void **state)
{
    (void)state;
    pf_rec w = {.kind = PF_REC_SET,
                .vtype = 0,
                .shard = 5,
                .seq = 42,
                .expire_unix_ms = 1800000000000ll,
                .key = (const uint8_t *)"key",
                .klen = 3,
                .value = (const uint8_t *)"val",
                .vlen = 3};
    fcrp_record r;
    repl_record_from_wal(&r, &w, 1700000000000ull);
    assert_int_equal(r.op, FCRP_OP_SET);
    assert_int_equal(r.shard, 5);
    assert_true(r.seq == 42);
    assert_true(r.timestamp_ms == 1700000000000ull);
    assert_true(r.expire_at_ms == 1800000000000ull);
    assert_int_equal(r.value_len, 3);
    assert_true(r.key_hash != 0);
    w.expire_unix_ms = 0; /* none */
    repl_record_from_wal(&r, &w, 0);
    assert_true(r.expire_at_ms == FCRP_NO_EXPIRY);
    assert_int_equal(fcrp_record_effective_op(&r, UINT64_MAX - 1), FCRP_OP_SET);
    w.kind = PF_REC_EXPIRE; /* persisted: no expiry = persist on the wire */
    w.vlen = 0;
    repl_record_from_wal(&r, &w, 0);
    assert_int_equal(r.op, FCRP_OP_EXPIRE);
    assert_true(r.expire_at_ms == FCRP_NO_EXPIRY);
    w.kind = PF_REC_DEL;
    w.vlen = 3; /* ignored: a DEL carries no value */
    repl_record_from_wal(&r, &w, 0);
    assert_int_equal(r.value_len, 0);
    w.kind = PF_REC_CLEAR;
    w.klen = 0;
    repl_record_from_wal(&r, &w, 0);
    assert_int_equal(r.op, FCRP_OP_CLEAR);
    /* each one batches */
    repl_batch_cfg c;
    repl_batch_cfg_default(&c);
    repl_batcher b;
    assert_int_equal(repl_batcher_init(&b, 8, &c), FC_OK);
    assert_int_equal(repl_batcher_push(&b, &r, 0), REPL_BATCH_OK);
    repl_batcher_free(&b);
}

/* --- backlog
 * ------------------------------------------------------------------ */

/* A frame of records lo..hi for shard, through the batcher. */
static repl_frame mkframe(uint32_t shard, uint64_t lo, uint64_t hi, size_t vlen)
{
    repl_batch_cfg c;
    repl_batch_cfg_default(&c);
    c.max_records = 100000;
    c.max_bytes = SIZE_MAX / 2;
    repl_batcher b;
    assert_int_equal(repl_batcher_init(&b, shard + 1, &c), FC_OK);
    for (uint64_t s = lo; s <= hi; s++) {
        fcrp_record r = rec(shard, s, "k", vlen);
        assert_true(repl_batcher_push(&b, &r, 0) >= 0);
    }
    repl_frame f;
    assert_int_equal(repl_batcher_take(&b, shard, &f), 1);
    repl_batcher_free(&b);
    return f;
}

/* The (shard, min, max) of the frames a replica at w is sent, in order. */
static int collect(const repl_backlog *bl, const uint64_t *w, uint32_t n,
                   uint64_t out[][3], int cap)
{
    uint64_t cur = 0;
    int k = 0;
    const repl_frame *f;
    while ((f = repl_backlog_next(bl, w, n, &cur)) != NULL) {
        assert_true(k < cap);
        out[k][0] = f->shard;
        out[k][1] = f->min_seq;
        out[k][2] = f->max_seq;
        k++;
    }
    return k;
}

static void push(repl_backlog *bl, uint32_t shard, uint64_t lo, uint64_t hi,
                 size_t vlen)
{
    repl_frame f = mkframe(shard, lo, hi, vlen);
    assert_int_equal(repl_backlog_push(bl, &f), FC_OK);
    assert_null(f.data); /* owned by the backlog now */
}

static void test_backlog_coverage(void **state)
{
    (void)state;
    repl_backlog bl;
    assert_int_equal(repl_backlog_init(&bl, 2, 1 << 20, NULL), FC_OK);
    uint64_t got[8][3];
    uint64_t w0[2] = {0, 0};
    assert_int_equal(repl_backlog_check(&bl, w0, 2), REPL_CATCHUP_OK);
    assert_int_equal(collect(&bl, w0, 2, got, 8), 0);
    push(&bl, 0, 1, 3, 10);
    push(&bl, 1, 1, 2, 10);
    push(&bl, 0, 4, 6, 10);
    assert_true(repl_backlog_hi(&bl, 0) == 6 && repl_backlog_hi(&bl, 1) == 2);

    /* a fresh replica: everything, in push order */
    assert_int_equal(repl_backlog_check(&bl, w0, 2), REPL_CATCHUP_OK);
    assert_int_equal(collect(&bl, w0, 2, got, 8), 3);
    assert_true(got[0][0] == 0 && got[0][1] == 1 && got[0][2] == 3);
    assert_true(got[1][0] == 1 && got[1][1] == 1 && got[1][2] == 2);
    assert_true(got[2][0] == 0 && got[2][1] == 4 && got[2][2] == 6);
    /* missing entries count as 0 */
    assert_int_equal(collect(&bl, NULL, 0, got, 8), 3);

    /* part way: whole frames from the first one it lacks */
    uint64_t w1[2] = {4, 2};
    assert_int_equal(repl_backlog_check(&bl, w1, 2), REPL_CATCHUP_OK);
    assert_int_equal(collect(&bl, w1, 2, got, 8), 1);
    assert_true(got[0][1] == 4 && got[0][2] == 6); /* 4 again: replica drops */

    /* up to date */
    uint64_t w2[2] = {6, 2};
    assert_int_equal(repl_backlog_check(&bl, w2, 2), REPL_CATCHUP_OK);
    assert_int_equal(collect(&bl, w2, 2, got, 8), 0);

    /* ahead of us: another history */
    uint64_t w3[2] = {7, 0};
    assert_int_equal(repl_backlog_check(&bl, w3, 2), REPL_CATCHUP_SNAPSHOT);
    /* shards we do not have */
    uint64_t w4[3] = {0, 0, 1};
    assert_int_equal(repl_backlog_check(&bl, w4, 3), REPL_CATCHUP_SNAPSHOT);
    w4[2] = 0;
    assert_int_equal(repl_backlog_check(&bl, w4, 3), REPL_CATCHUP_OK);
    repl_backlog_free(&bl);
}

static void test_backlog_eviction(void **state)
{
    (void)state;
    repl_frame probe = mkframe(0, 1, 1, 100);
    size_t one = probe.len; /* each frame below is this size */
    repl_frame_free(&probe);
    repl_backlog bl;
    assert_int_equal(repl_backlog_init(&bl, 2, 3 * one, NULL), FC_OK);
    push(&bl, 0, 1, 1, 100);
    push(&bl, 1, 1, 1, 100);
    push(&bl, 0, 2, 2, 100);
    assert_int_equal(bl.bytes, 3 * one);
    assert_int_equal(bl.count, 3);
    push(&bl, 0, 3, 3, 100); /* evicts shard 0's seq 1 */
    assert_int_equal(bl.count, 3);
    assert_true(bl.bytes <= bl.budget);
    assert_true(bl.evicted == 1);
    uint64_t w[2] = {0, 0};
    assert_int_equal(repl_backlog_check(&bl, w, 2), REPL_CATCHUP_SNAPSHOT);
    w[0] = 1; /* has what was evicted */
    assert_int_equal(repl_backlog_check(&bl, w, 2), REPL_CATCHUP_OK);
    uint64_t got[8][3];
    assert_int_equal(collect(&bl, w, 2, got, 8), 3);
    assert_true(got[0][0] == 1 && got[1][1] == 2 && got[2][1] == 3);

    push(&bl, 1, 2, 2, 100); /* evicts shard 1's seq 1 */
    w[1] = 0;
    assert_int_equal(repl_backlog_check(&bl, w, 2), REPL_CATCHUP_SNAPSHOT);
    w[1] = 1;
    assert_int_equal(repl_backlog_check(&bl, w, 2), REPL_CATCHUP_OK);

    /* a frame alone larger than the budget goes at once */
    push(&bl, 1, 3, 50, 100);
    assert_int_equal(bl.count, 0);
    assert_int_equal(bl.bytes, 0);
    w[0] = 3;
    w[1] = 50; /* has all of it */
    assert_int_equal(repl_backlog_check(&bl, w, 2), REPL_CATCHUP_OK);
    assert_int_equal(collect(&bl, w, 2, got, 8), 0);
    w[1] = 49;
    assert_int_equal(repl_backlog_check(&bl, w, 2), REPL_CATCHUP_SNAPSHOT);
    repl_backlog_free(&bl);
}

static void test_backlog_gap_and_base(void **state)
{
    (void)state;
    uint64_t base[2] = {10, 0};
    repl_backlog bl;
    assert_int_equal(repl_backlog_init(&bl, 2, 1 << 20, base), FC_OK);
    uint64_t w[2] = {5, 0};
    /* older than where the backlog began: snapshot */
    assert_int_equal(repl_backlog_check(&bl, w, 2), REPL_CATCHUP_SNAPSHOT);
    w[0] = 10;
    assert_int_equal(repl_backlog_check(&bl, w, 2), REPL_CATCHUP_OK);
    push(&bl, 0, 11, 12, 1);
    assert_int_equal(repl_backlog_check(&bl, w, 2), REPL_CATCHUP_OK);
    /* a lost range (a batch that never made it): 13..14 missing */
    push(&bl, 0, 15, 16, 1);
    w[0] = 12;
    assert_int_equal(repl_backlog_check(&bl, w, 2), REPL_CATCHUP_SNAPSHOT);
    w[0] = 14;
    assert_int_equal(repl_backlog_check(&bl, w, 2), REPL_CATCHUP_OK);
    uint64_t got[8][3];
    assert_int_equal(collect(&bl, w, 2, got, 8), 1);
    assert_true(got[0][1] == 15);

    /* not newer, or overlapping: refused, still the caller's */
    repl_frame f = mkframe(0, 16, 16, 1);
    assert_int_equal(repl_backlog_push(&bl, &f), FC_EINVAL);
    assert_non_null(f.data);
    repl_frame_free(&f);
    f = mkframe(0, 16, 18, 1);
    assert_int_equal(repl_backlog_push(&bl, &f), FC_EINVAL);
    repl_frame_free(&f);
    f = mkframe(0, 17, 18, 1);
    f.min_seq = 0;
    assert_int_equal(repl_backlog_push(&bl, &f), FC_EINVAL);
    repl_frame_free(&f);
    f = mkframe(1, 1, 1, 1);
    f.shard = 2;
    assert_int_equal(repl_backlog_push(&bl, &f), FC_EINVAL);
    repl_frame_free(&f);
    repl_backlog_free(&bl);
    assert_int_equal(repl_backlog_init(&bl, 0, 1, NULL), FC_EINVAL);
}

static void test_backlog_cursor_and_wrap(void **state)
{
    (void)state;
    repl_frame probe = mkframe(0, 1, 1, 10);
    size_t one = probe.len;
    repl_frame_free(&probe);
    repl_backlog bl;
    assert_int_equal(repl_backlog_init(&bl, 1, 40 * one, NULL), FC_OK);
    /* many more frames than the ring's first size, wrapping with eviction */
    for (uint64_t s = 1; s <= 200; s++)
        push(&bl, 0, s, s, 10);
    assert_int_equal(bl.count, 40);
    uint64_t w[1] = {170};
    assert_int_equal(repl_backlog_check(&bl, w, 1), REPL_CATCHUP_OK);
    uint64_t cur = 0;
    const repl_frame *f;
    uint64_t want = 171;
    for (int i = 0; i < 5; i++) {
        f = repl_backlog_next(&bl, w, 1, &cur);
        assert_non_null(f);
        assert_true(f->min_seq == want++);
    }
    /* pushes between calls (evicting older frames) keep the cursor valid */
    for (uint64_t s = 201; s <= 210; s++)
        push(&bl, 0, s, s, 10);
    while ((f = repl_backlog_next(&bl, w, 1, &cur)) != NULL)
        assert_true(f->min_seq == want++);
    assert_true(want == 211);
    /* a cursor older than everything retained restarts at the oldest */
    w[0] = 0;
    cur = 0;
    f = repl_backlog_next(&bl, w, 1, &cur);
    assert_true(f && f->min_seq == 171);
    repl_backlog_free(&bl);
}

/* Random pushes (with lost ranges) against a model: the backlog keeps the
 * longest suffix of the pushed frames within budget, check() is OK exactly
 * when the retained frames of every shard hold every seq in (W, hi], and
 * iteration yields the retained frames above W in push order. */
typedef struct mframe {
    uint32_t shard;
    uint64_t min, max;
    size_t len;
} mframe;

static uint64_t lcg = 12345;
static uint32_t rnd(uint32_t n)
{
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(lcg >> 33) % n;
}

static void test_backlog_model(void **state)
{
    (void)state;
    enum { SH = 3, PUSHES = 400 };
    static mframe pushed[PUSHES];
    for (int round = 0; round < 4; round++) {
        size_t budget = 400 + rnd(4000);
        repl_backlog bl;
        assert_int_equal(repl_backlog_init(&bl, SH, budget, NULL), FC_OK);
        uint64_t hi[SH] = {0};
        int np = 0;
        for (int i = 0; i < PUSHES; i++) {
            uint32_t s = rnd(SH);
            uint64_t lo = hi[s] + 1 + (rnd(10) == 0 ? 1 + rnd(3) : 0);
            uint64_t top = lo + rnd(4);
            repl_frame f = mkframe(s, lo, top, rnd(200));
            pushed[np++] = (mframe){s, lo, top, f.len};
            assert_int_equal(repl_backlog_push(&bl, &f), FC_OK);
            hi[s] = top;
            /* retained = longest suffix within budget */
            size_t sum = 0;
            int first = np;
            while (first > 0 && sum + pushed[first - 1].len <= budget)
                sum += pushed[--first].len;
            assert_int_equal(bl.count, (size_t)(np - first));
            assert_int_equal(bl.bytes, sum);
            for (int q = 0; q < 3; q++) {
                uint64_t w[SH];
                int want = REPL_CATCHUP_OK;
                for (uint32_t t = 0; t < SH; t++) {
                    w[t] = rnd((uint32_t)hi[t] + 2);
                    if (w[t] > hi[t]) {
                        want = REPL_CATCHUP_SNAPSHOT;
                        continue;
                    }
                    uint64_t need = w[t] + 1;
                    for (int k = first; k < np; k++) {
                        if (pushed[k].shard != t || pushed[k].max < need)
                            continue;
                        if (pushed[k].min > need)
                            break;
                        need = pushed[k].max + 1;
                    }
                    if (need <= hi[t])
                        want = REPL_CATCHUP_SNAPSHOT;
                }
                assert_int_equal(repl_backlog_check(&bl, w, SH), want);
                uint64_t cur = 0;
                const repl_frame *g;
                int k = first;
                while ((g = repl_backlog_next(&bl, w, SH, &cur)) != NULL) {
                    while (k < np && pushed[k].max <= w[pushed[k].shard])
                        k++;
                    assert_true(k < np);
                    assert_int_equal(g->shard, pushed[k].shard);
                    assert_true(g->min_seq == pushed[k].min);
                    k++;
                }
                while (k < np && pushed[k].max <= w[pushed[k].shard])
                    k++;
                assert_int_equal(k, np);
            }
        }
        repl_backlog_free(&bl);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_record_limit),
        cmocka_unit_test(test_batch_byte_limit),
        cmocka_unit_test(test_batch_immediate),
        cmocka_unit_test(test_batch_due_by_time),
        cmocka_unit_test(test_batch_frame_cap),
        cmocka_unit_test(test_batch_rejects),
        cmocka_unit_test(test_batch_per_shard_compressed_checked),
        cmocka_unit_test(test_record_from_wal),
        cmocka_unit_test(test_backlog_coverage),
        cmocka_unit_test(test_backlog_eviction),
        cmocka_unit_test(test_backlog_gap_and_base),
        cmocka_unit_test(test_backlog_cursor_and_wrap),
        cmocka_unit_test(test_backlog_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
