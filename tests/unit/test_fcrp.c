/* test_fcrp.c — protocol/fcrp.h: the FCRP v1 frame and payload codecs.
 * Byte layouts against the seed spec (../shared/spec/replication.md §2-3),
 * round trips of every kind, truncation, corruption with the integrity
 * check, caps and count bounds, compression, and expired-on-arrival. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lz4.h>
#include <zstd.h>

#include "protocol/fcrp.h"

static const fcrp_tx plain = {0};

/* Decodes one frame and its payload with the decoder of its kind. */
static int decode_all(const uint8_t *p, size_t len, const fcrp_rx *rx,
                      uint8_t *kind, size_t *need)
{
    fcrp_frame f;
    size_t used = 0, nd = 0;
    fc_buf scratch = {0};
    const uint8_t *pl;
    size_t pn;
    int rc = fcrp_frame_decode(p, len, rx, &f, &used, &nd);
    if (need)
        *need = nd;
    if (rc != FCRP_OK)
        return rc;
    if (used != len)
        return FCRP_ELEN; /* the tests give exactly one frame */
    if (kind)
        *kind = f.h.kind;
    rc = fcrp_frame_payload(&f, &scratch, &pl, &pn);
    if (rc == FCRP_OK) {
        fcrp_hello h;
        fcrp_wm w;
        fcrp_error e;
        fcrp_batch bt;
        fcrp_chunk ch;
        switch (f.h.kind) {
        case FCRP_HELLO:
            rc = fcrp_hello_decode(pl, pn, &h);
            break;
        case FCRP_SNAPSHOT_BEGIN:
        case FCRP_SNAPSHOT_END:
        case FCRP_ACK:
            rc = fcrp_wm_decode(pl, pn, &w);
            break;
        case FCRP_ERROR:
            rc = fcrp_error_decode(pl, pn, &e);
            break;
        case FCRP_MUTATION_BATCH:
            rc = fcrp_batch_open(pl, pn, &bt);
            break;
        case FCRP_SNAPSHOT_CHUNK:
            rc = fcrp_chunk_open(pl, pn, &ch);
            break;
        }
    }
    fc_buf_free(&scratch);
    return rc;
}

static const uint64_t wm3[3] = {7, 0, 0x0102030405060708ull};

static fcrp_record rec_set(uint32_t shard, uint64_t seq, const char *k,
                           const char *v, uint64_t exp)
{
    fcrp_record r = {.shard = shard,
                     .seq = seq,
                     .timestamp_ms = 1700000000000ull,
                     .op = FCRP_OP_SET,
                     .key_hash = 0x1111,
                     .key_tag = 0x2222,
                     .expire_at_ms = exp,
                     .key = (const uint8_t *)k,
                     .key_len = (uint32_t)strlen(k),
                     .value = (const uint8_t *)v,
                     .value_len = (uint32_t)strlen(v)};
    return r;
}

/* One frame of each kind into b (appended back to back); ends[i] is where
 * frame i ends. */
static int all_kinds(fc_buf *b, const fcrp_tx *tx, size_t ends[7])
{
    size_t m, at;
    int n = 0;
    fcrp_hello h = {.version = 1,
                    .role = FCRP_ROLE_REPLICA,
                    .token = "sekrit",
                    .token_len = 6,
                    .has_since = true};
    assert_int_equal(fcrp_frame_begin(b, &m), FCRP_OK);
    assert_int_equal(fcrp_hello_put(b, &h, wm3, 3), FCRP_OK);
    assert_int_equal(fcrp_frame_finish(b, m, FCRP_HELLO, tx), FCRP_OK);
    ends[n++] = b->len;
    for (uint8_t k = FCRP_SNAPSHOT_BEGIN; k <= FCRP_ACK; k += 2) {
        if (k == FCRP_MUTATION_BATCH)
            continue;
        assert_int_equal(fcrp_frame_begin(b, &m), FCRP_OK);
        assert_int_equal(fcrp_wm_put(b, wm3, 3), FCRP_OK);
        assert_int_equal(fcrp_frame_finish(b, m, k, tx), FCRP_OK);
        ends[n++] = b->len;
    }
    /* chunk */
    assert_int_equal(fcrp_frame_begin(b, &m), FCRP_OK);
    assert_int_equal(fcrp_chunk_put_head(b, 4, true, wm3, 3, &at), FCRP_OK);
    fcrp_entry e = {.expire_at_ms = FCRP_NO_EXPIRY,
                    .key = (const uint8_t *)"k1",
                    .key_len = 2,
                    .value = (const uint8_t *)"v1",
                    .value_len = 2};
    assert_int_equal(fcrp_entry_put(b, &e), FCRP_OK);
    fcrp_batch_set_count(b, at, 1);
    assert_int_equal(fcrp_frame_finish(b, m, FCRP_SNAPSHOT_CHUNK, tx), FCRP_OK);
    ends[n++] = b->len;
    /* batch */
    assert_int_equal(fcrp_frame_begin(b, &m), FCRP_OK);
    assert_int_equal(fcrp_batch_put_count(b, &at), FCRP_OK);
    fcrp_record r = rec_set(2, 9, "key", "value", FCRP_NO_EXPIRY);
    assert_int_equal(fcrp_record_put(b, &r), FCRP_OK);
    fcrp_batch_set_count(b, at, 1);
    assert_int_equal(fcrp_frame_finish(b, m, FCRP_MUTATION_BATCH, tx), FCRP_OK);
    ends[n++] = b->len;
    /* error */
    assert_int_equal(fcrp_frame_begin(b, &m), FCRP_OK);
    assert_int_equal(fcrp_error_put(b, FCRP_ERR_AUTH, NULL, 0), FCRP_OK);
    assert_int_equal(fcrp_frame_finish(b, m, FCRP_ERROR, tx), FCRP_OK);
    ends[n++] = b->len;
    return n;
}

/* --- layout: the seed's bytes ----------------------------------------------
 */

static void test_header_layout(void **state)
{
    (void)state;
    fc_buf b = {0};
    assert_int_equal(fcrp_frame_encode(&b, FCRP_ACK, &plain, "\0\0\0\0", 4),
                     FCRP_OK);
    static const uint8_t want[] = {'F', 'C', 'R', 'P', 1, 6, 0, 0, 4, 0,
                                   0,   0,   4,   0,   0, 0, 0, 0, 0, 0};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);

    fcrp_header h = {.kind = FCRP_ERROR,
                     .flags = FCRP_F_ZSTD,
                     .payload_len = 0x01020304,
                     .uncompressed_len = 0x0a0b0c0d};
    uint8_t out[16];
    assert_int_equal(fcrp_header_encode(out, 15, &h), FCRP_EINVAL);
    assert_int_equal(fcrp_header_encode(out, 16, &h), FCRP_OK);
    static const uint8_t wh[] = {'F', 'C', 'R', 'P', 1,    7,    1,    0,
                                 4,   3,   2,   1,   0x0d, 0x0c, 0x0b, 0x0a};
    assert_memory_equal(out, wh, 16);
    fc_buf_free(&b);
}

static void test_hello_layout(void **state)
{
    (void)state;
    fc_buf b = {0};
    fcrp_hello h = {.version = 1,
                    .role = FCRP_ROLE_REPLICA,
                    .token = "ab",
                    .token_len = 2,
                    .has_since = true};
    uint64_t since[2] = {5, 0x100};
    assert_int_equal(fcrp_hello_put(&b, &h, since, 2), FCRP_OK);
    static const uint8_t want[] = {1, 1, 2,    0, 0, 0, 'a', 'b', 1, 2,
                                   0, 0, 0,    5, 0, 0, 0,   0,   0, 0,
                                   0, 0, 0x01, 0, 0, 0, 0,   0,   0};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);

    fcrp_hello d;
    assert_int_equal(fcrp_hello_decode(want, sizeof want, &d), FCRP_OK);
    assert_int_equal(d.version, 1);
    assert_int_equal(d.role, FCRP_ROLE_REPLICA);
    assert_int_equal(d.token_len, 2);
    assert_memory_equal(d.token, "ab", 2);
    assert_true(d.has_since);
    assert_int_equal(d.since.n, 2);
    assert_true(fcrp_wm_get(&d.since, 0) == 5);
    assert_true(fcrp_wm_get(&d.since, 1) == 0x100);
    assert_true(fcrp_wm_get(&d.since, 2) == 0); /* past the end */

    /* a fresh subscriber: no token, no since */
    static const uint8_t fresh[] = {1, 2, 0, 0, 0, 0, 0};
    assert_int_equal(fcrp_hello_decode(fresh, sizeof fresh, &d), FCRP_OK);
    assert_null(d.token);
    assert_false(d.has_since);
    assert_int_equal(d.role, FCRP_ROLE_SUBSCRIBER);
    static const uint8_t role3[] = {1, 3, 0, 0, 0, 0, 0};
    assert_int_equal(fcrp_hello_decode(role3, sizeof role3, &d), FCRP_EROLE);
    static const uint8_t trail[] = {1, 1, 0, 0, 0, 0, 0, 9};
    assert_int_equal(fcrp_hello_decode(trail, sizeof trail, &d),
                     FCRP_ETRAILING);
    static const uint8_t badtok[] = {1, 1, 2, 0, 0, 0, 0xc0, 0x80, 0};
    assert_int_equal(fcrp_hello_decode(badtok, sizeof badtok, &d), FCRP_EUTF8);
    fc_buf_free(&b);
}

static void test_record_layout(void **state)
{
    (void)state;
    fc_buf b = {0};
    fcrp_record r =
        rec_set(0x0a0b0c0d, 0x1122334455667788ull, "K", "VV", FCRP_NO_EXPIRY);
    r.vtype = 0;
    assert_int_equal(fcrp_record_put(&b, &r), FCRP_OK);
    const uint8_t *p = (const uint8_t *)b.data;
    assert_int_equal(b.len, 53 + 1 + 2);
    assert_true(fcrp_get32(p) == 0x0a0b0c0d);
    assert_true(fcrp_get64(p + 4) == 0x1122334455667788ull);
    assert_true(fcrp_get64(p + 12) == 1700000000000ull);
    assert_int_equal(p[20], 1);
    assert_true(fcrp_get64(p + 21) == 0x1111);
    assert_true(fcrp_get64(p + 29) == 0x2222);
    assert_true(fcrp_get64(p + 37) == UINT64_MAX);
    assert_true(fcrp_get32(p + 45) == 1 && fcrp_get32(p + 49) == 2);
    assert_memory_equal(p + 53, "KVV", 3);

    /* a non-string value type rides in the op byte's high nibble */
    b.len = 0;
    r.vtype = 2;
    assert_int_equal(fcrp_record_put(&b, &r), FCRP_OK);
    assert_int_equal(((uint8_t *)b.data)[20], 0x21);
    r.vtype = FCRP_VTYPE_MAX + 1;
    assert_int_equal(fcrp_record_put(&b, &r), FCRP_EINVAL);
    r.vtype = 0;
    r.op = FCRP_OP_DEL; /* a DEL carries no value */
    assert_int_equal(fcrp_record_put(&b, &r), FCRP_EINVAL);
    r.op = 4;
    assert_int_equal(fcrp_record_put(&b, &r), FCRP_EINVAL);
    /* an op record on a typed value: op 6, a type, a record */
    b.len = 0;
    b.oom = false;
    r.op = FCRP_OP_OP;
    r.vtype = 3;
    assert_int_equal(fcrp_record_put(&b, &r), FCRP_OK);
    assert_int_equal(((uint8_t *)b.data)[20], 0x36);
    fcrp_batch it;
    fc_buf bb = {0};
    size_t at;
    fcrp_batch_put_count(&bb, &at);
    fc_buf_append(&bb, b.data, b.len);
    fcrp_batch_set_count(&bb, at, 1);
    assert_int_equal(fcrp_batch_open((uint8_t *)bb.data, bb.len, &it),
                     FCRP_OK);
    fcrp_record got;
    assert_true(fcrp_batch_next(&it, &got));
    assert_int_equal(got.op, FCRP_OP_OP);
    assert_int_equal(got.vtype, 3);
    assert_int_equal(fcrp_record_effective_op(&got, UINT64_MAX), FCRP_OP_OP);
    /* refused: an OP of type 0, and an OP without a record */
    r.vtype = 0;
    assert_int_equal(fcrp_record_put(&b, &r), FCRP_EINVAL);
    r.vtype = 1;
    r.value_len = 0;
    assert_int_equal(fcrp_record_put(&b, &r), FCRP_EINVAL);
    /* and on decode: patch a valid OP's type nibble to 0 */
    ((uint8_t *)bb.data)[4 + 20] = 0x06;
    assert_int_equal(fcrp_batch_open((uint8_t *)bb.data, bb.len, &it),
                     FCRP_EOP);
    fc_buf_free(&bb);
    fc_buf_free(&b);
}

/* A typed snapshot entry: bit 31 of value_len, then vtype and seq before
 * the serialized value; a bad type or a too-short head is refused. */
static void test_typed_chunk_entry(void **state)
{
    (void)state;
    fc_buf b = {0};
    size_t at;
    assert_int_equal(fcrp_chunk_put_head(&b, 1, true, wm3, 3, &at), FCRP_OK);
    size_t first = b.len;
    fcrp_entry in = {.expire_at_ms = FCRP_NO_EXPIRY,
                     .key = (const uint8_t *)"h",
                     .key_len = 1,
                     .value = (const uint8_t *)"serial",
                     .value_len = 6,
                     .vtype = 1,
                     .obj_seq = 0xabcdef0123ull};
    assert_int_equal(fcrp_entry_put(&b, &in), FCRP_OK);
    fcrp_batch_set_count(&b, at, 1);
    const uint8_t *e = (uint8_t *)b.data + first;
    assert_true(fcrp_get32(e + 4) == (0x80000000u | (6 + 9)));
    fcrp_chunk c;
    fcrp_entry out;
    assert_int_equal(fcrp_chunk_open((uint8_t *)b.data, b.len, &c), FCRP_OK);
    assert_true(fcrp_chunk_next(&c, &out));
    assert_int_equal(out.vtype, 1);
    assert_true(out.obj_seq == 0xabcdef0123ull);
    assert_int_equal(out.value_len, 6);
    assert_memory_equal(out.value, "serial", 6);
    /* type 0 and type 5 in a typed entry are refused */
    uint8_t *vt = (uint8_t *)b.data + first + 16 + 1;
    *vt = 0;
    assert_int_equal(fcrp_chunk_open((uint8_t *)b.data, b.len, &c), FCRP_EOP);
    *vt = FCRP_VTYPE_MAX + 1;
    assert_int_equal(fcrp_chunk_open((uint8_t *)b.data, b.len, &c), FCRP_EOP);
    /* a typed length shorter than its head */
    *vt = 1;
    fcrp_put32((uint8_t *)b.data + first + 4, 0x80000000u | 3);
    assert_true(fcrp_chunk_open((uint8_t *)b.data, b.len, &c) != FCRP_OK);
    fc_buf_free(&b);
}

/* --- round trips ------------------------------------------------------------
 */

static void test_roundtrip_every_kind(void **state)
{
    (void)state;
    fcrp_rx rx;
    fcrp_rx_default(&rx);
    rx.accept = FCRP_F_CHECK | FCRP_F_LZ4;
    fcrp_tx txs[4] = {{0},
                      {.check = true},
                      {.comp = FCRP_COMP_ZSTD, .check = true},
                      {.comp = FCRP_COMP_LZ4}};
    for (int t = 0; t < 4; t++) {
        fc_buf b = {0};
        size_t ends[7];
        int n = all_kinds(&b, &txs[t], ends);
        assert_int_equal(n, 7);
        static const uint8_t kinds[7] = {1, 2, 4, 6, 3, 5, 7};
        size_t start = 0;
        for (int i = 0; i < n; i++) {
            uint8_t k = 0;
            assert_int_equal(decode_all((uint8_t *)b.data + start,
                                        ends[i] - start, &rx, &k, NULL),
                             FCRP_OK);
            assert_int_equal(k, kinds[i]);
            start = ends[i];
        }
        fc_buf_free(&b);
    }
}

static void test_roundtrip_batch_fields(void **state)
{
    (void)state;
    fc_buf b = {0};
    size_t at;
    fcrp_record in[4] = {
        rec_set(3, 1, "alpha", "one", 1800000000000ull),
        {.shard = 3,
         .seq = 2,
         .op = FCRP_OP_DEL,
         .key = (const uint8_t *)"b",
         .key_len = 1,
         .expire_at_ms = FCRP_NO_EXPIRY},
        {.shard = 3,
         .seq = 3,
         .op = FCRP_OP_EXPIRE,
         .key = (const uint8_t *)"alpha",
         .key_len = 5,
         .expire_at_ms = FCRP_NO_EXPIRY},
        {.shard = 3,
         .seq = 4,
         .op = FCRP_OP_CLEAR,
         .expire_at_ms = FCRP_NO_EXPIRY},
    };
    in[0].vtype = 1;
    assert_int_equal(fcrp_batch_put_count(&b, &at), FCRP_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(fcrp_record_put(&b, &in[i]), FCRP_OK);
    fcrp_batch_set_count(&b, at, 4);
    fcrp_batch it;
    assert_int_equal(fcrp_batch_open((uint8_t *)b.data, b.len, &it), FCRP_OK);
    assert_int_equal(it.count, 4);
    fcrp_record r;
    for (int i = 0; i < 4; i++) {
        assert_true(fcrp_batch_next(&it, &r));
        assert_int_equal(r.shard, in[i].shard);
        assert_true(r.seq == in[i].seq);
        assert_true(r.timestamp_ms == in[i].timestamp_ms);
        assert_int_equal(r.op, in[i].op);
        assert_int_equal(r.vtype, in[i].vtype);
        assert_true(r.key_hash == in[i].key_hash);
        assert_true(r.key_tag == in[i].key_tag);
        assert_true(r.expire_at_ms == in[i].expire_at_ms);
        assert_int_equal(r.key_len, in[i].key_len);
        assert_int_equal(r.value_len, in[i].value_len);
        if (r.key_len)
            assert_memory_equal(r.key, in[i].key, r.key_len);
        if (r.value_len)
            assert_memory_equal(r.value, in[i].value, r.value_len);
        /* views into the payload */
        assert_true(r.key >= (uint8_t *)b.data &&
                    r.key + r.key_len <= (uint8_t *)b.data + b.len);
    }
    assert_false(fcrp_batch_next(&it, &r));

    /* one bad op in the last record refuses the whole batch up front */
    ((uint8_t *)b.data)[b.len - 53 + 20] = 9;
    assert_int_equal(fcrp_batch_open((uint8_t *)b.data, b.len, &it), FCRP_EOP);
    /* trailing byte */
    ((uint8_t *)b.data)[b.len - 53 + 20] = FCRP_OP_CLEAR;
    fc_buf_putc(&b, 0);
    assert_int_equal(fcrp_batch_open((uint8_t *)b.data, b.len, &it),
                     FCRP_ETRAILING);
    assert_int_equal(fcrp_batch_open((uint8_t *)b.data, b.len - 2, &it),
                     FCRP_ETRUNC);
    fc_buf_free(&b);
}

static void test_roundtrip_chunk(void **state)
{
    (void)state;
    fc_buf b = {0};
    size_t at;
    assert_int_equal(fcrp_chunk_put_head(&b, 77, false, wm3, 3, &at), FCRP_OK);
    fcrp_entry in[3] = {
        {.expire_at_ms = FCRP_NO_EXPIRY,
         .key = (const uint8_t *)"a",
         .key_len = 1,
         .value = (const uint8_t *)"",
         .value_len = 0},
        {.expire_at_ms = 5,
         .key = (const uint8_t *)"bb",
         .key_len = 2,
         .value = (const uint8_t *)"xyz",
         .value_len = 3},
        {.expire_at_ms = 9000,
         .key = (const uint8_t *)"",
         .key_len = 0,
         .value = (const uint8_t *)"v",
         .value_len = 1},
    };
    for (int i = 0; i < 3; i++)
        assert_int_equal(fcrp_entry_put(&b, &in[i]), FCRP_OK);
    fcrp_batch_set_count(&b, at, 3);
    /* layout: u64 index, u8 is_last, u32 wm count ... */
    assert_true(fcrp_get64((uint8_t *)b.data) == 77);
    assert_int_equal(((uint8_t *)b.data)[8], 0);
    assert_true(fcrp_get32((uint8_t *)b.data + 9) == 3);
    /* the entry: key_len, value_len, then expiry (not the record's order) */
    const uint8_t *e1 = (uint8_t *)b.data + 9 + 4 + 24 + 4 + 16 + 1;
    assert_true(fcrp_get32(e1) == 2 && fcrp_get32(e1 + 4) == 3 &&
                fcrp_get64(e1 + 8) == 5);

    fcrp_chunk c;
    assert_int_equal(fcrp_chunk_open((uint8_t *)b.data, b.len, &c), FCRP_OK);
    assert_true(c.index == 77);
    assert_false(c.is_last);
    assert_int_equal(c.wm.n, 3);
    assert_true(fcrp_wm_get(&c.wm, 2) == wm3[2]);
    fcrp_entry e;
    for (int i = 0; i < 3; i++) {
        assert_true(fcrp_chunk_next(&c, &e));
        assert_true(e.expire_at_ms == in[i].expire_at_ms);
        assert_int_equal(e.key_len, in[i].key_len);
        assert_int_equal(e.value_len, in[i].value_len);
        assert_memory_equal(e.value, in[i].value, e.value_len);
        assert_int_equal(fcrp_entry_expired(&e, 6), i == 1);
    }
    assert_false(fcrp_chunk_next(&c, &e));
    fc_buf_free(&b);
}

static void test_error_codes(void **state)
{
    (void)state;
    fc_buf b = {0};
    fcrp_error e;
    for (uint8_t c = 0; c < FCRP_ERR_COUNT_; c++) {
        for (int d = 0; d < 2; d++) {
            b.len = 0;
            assert_int_equal(fcrp_error_put(&b, c, d ? "why" : NULL, d ? 3 : 0),
                             FCRP_OK);
            assert_int_equal(fcrp_error_decode((uint8_t *)b.data, b.len, &e),
                             FCRP_OK);
            assert_int_equal(e.code, c);
            if (c != FCRP_ERR_OTHER) {
                assert_int_equal(e.detail_len, d ? 3 : 0);
                if (d)
                    assert_memory_equal(e.detail, "why", 3);
            }
        }
    }
    /* the seed's texts decode to their codes; other text is OTHER */
    static const uint8_t seed[] = {18,  0,   0,   0,   'i', 'n', 'v', 'a',
                                   'l', 'i', 'd', ' ', 'a', 'u', 't', 'h',
                                   ' ', 't', 'o', 'k', 'e', 'n'};
    assert_int_equal(fcrp_error_decode(seed, sizeof seed, &e), FCRP_OK);
    assert_int_equal(e.code, FCRP_ERR_AUTH);
    static const uint8_t other[] = {5, 0, 0, 0, 'o', 'o', 'p', 's', '!'};
    assert_int_equal(fcrp_error_decode(other, sizeof other, &e), FCRP_OK);
    assert_int_equal(e.code, FCRP_ERR_OTHER);
    assert_int_equal(e.detail_len, 5);
    static const uint8_t prefix[] = {19,  0,   0,   0,   'i', 'n', 'v', 'a',
                                     'l', 'i', 'd', ' ', 'a', 'u', 't', 'h',
                                     ' ', 't', 'o', 'k', 'e', 'n', 's'};
    assert_int_equal(fcrp_error_decode(prefix, sizeof prefix, &e), FCRP_OK);
    assert_int_equal(e.code, FCRP_ERR_OTHER);
    static const uint8_t bad[] = {2, 0, 0, 0, 0xed, 0xa0}; /* surrogate */
    assert_int_equal(fcrp_error_decode(bad, sizeof bad, &e), FCRP_EUTF8);
    assert_int_equal(fcrp_error_put(&b, FCRP_ERR_OTHER, "\xff", 1),
                     FCRP_EINVAL);
    fc_buf_free(&b);
}

/* --- truncation, corruption ----------------------------------------------- */

static void test_every_truncation_needs_more(void **state)
{
    (void)state;
    fcrp_rx rx;
    fcrp_rx_default(&rx);
    rx.accept = FCRP_F_CHECK | FCRP_F_LZ4;
    fcrp_tx tx = {.check = true};
    fc_buf b = {0};
    size_t ends[7];
    int n = all_kinds(&b, &tx, ends);
    size_t start = 0;
    for (int i = 0; i < n; i++) {
        const uint8_t *f = (uint8_t *)b.data + start;
        size_t len = ends[i] - start;
        for (size_t k = 0; k < len; k++) {
            size_t need = 0;
            assert_int_equal(decode_all(f, k, &rx, NULL, &need), FCRP_MORE);
            assert_true(need > k && need <= len);
            assert_int_equal(need, k < FCRP_HEADER_LEN ? FCRP_HEADER_LEN : len);
        }
        start = ends[i];
    }
    /* a stream: the first frame decodes from a buffer holding more */
    fcrp_frame fr;
    size_t used, need;
    assert_int_equal(
        fcrp_frame_decode((uint8_t *)b.data, b.len, &rx, &fr, &used, &need),
        FCRP_OK);
    assert_int_equal(used, ends[0]);
    fc_buf_free(&b);
}

static void test_every_flipped_bit_with_check(void **state)
{
    (void)state;
    fcrp_rx rx;
    fcrp_rx_default(&rx);
    rx.lim.max_payload = rx.lim.max_uncompressed = 1u << 20;
    rx.accept = FCRP_F_CHECK | FCRP_F_LZ4;
    rx.require_check = true;
    for (int comp = 0; comp < 3; comp++) {
        fcrp_tx tx = {.check = true, .comp = (uint8_t)comp};
        fc_buf b = {0};
        size_t ends[7];
        int n = all_kinds(&b, &tx, ends);
        /* room behind the frame, so a length made larger can be satisfied
         * and the check (not a short buffer) must refuse it */
        size_t pad = (1u << 20) + FCRP_HEADER_LEN;
        uint8_t *work = calloc(1, ends[n - 1] + pad);
        assert_non_null(work);
        size_t start = 0;
        for (int i = 0; i < n; i++) {
            size_t len = ends[i] - start;
            memcpy(work, b.data + start, len);
            assert_int_equal(decode_all(work, len, &rx, NULL, NULL), FCRP_OK);
            for (size_t bit = 0; bit < len * 8; bit++) {
                work[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                size_t need = 0;
                int rc = decode_all(work, len, &rx, NULL, &need);
                if (rc == FCRP_MORE) {
                    assert_true(need > len && need <= len + pad);
                    rc = decode_all(work, need, &rx, NULL, NULL);
                }
                assert_true(rc < 0);
                work[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            }
            start = ends[i];
        }
        free(work);
        fc_buf_free(&b);
    }
}

static void test_flags_and_reserved(void **state)
{
    (void)state;
    fcrp_rx rx;
    fcrp_rx_default(&rx);
    fc_buf b = {0};
    assert_int_equal(fcrp_frame_encode(&b, FCRP_ACK, &plain, "\0\0\0\0", 4),
                     FCRP_OK);
    uint8_t *p = (uint8_t *)b.data;
    fcrp_header h;
    assert_int_equal(fcrp_header_decode(p, b.len, &rx, &h), FCRP_OK);
    p[7] = 1; /* reserved */
    assert_int_equal(fcrp_header_decode(p, b.len, &rx, &h), FCRP_EFLAGS);
    p[7] = 0;
    static const uint8_t bad_flags[] = {0x02, 0x04, 0x08, 0x10,
                                        0x20, 0x40, 0x80, 0x03};
    for (size_t i = 0; i < sizeof bad_flags; i++) {
        p[6] = bad_flags[i];
        assert_int_equal(fcrp_header_decode(p, b.len, &rx, &h), FCRP_EFLAGS);
    }
    rx.accept = FCRP_F_LZ4 | FCRP_F_CHECK;
    p[6] = FCRP_F_ZSTD | FCRP_F_LZ4;
    assert_int_equal(fcrp_header_decode(p, b.len, &rx, &h), FCRP_EFLAGS);
    p[6] = FCRP_F_CAP_CHECK; /* caps only on Hello */
    assert_int_equal(fcrp_header_decode(p, b.len, &rx, &h), FCRP_EFLAGS);
    p[5] = FCRP_HELLO;
    assert_int_equal(fcrp_header_decode(p, b.len, &rx, &h), FCRP_OK);
    p[5] = FCRP_ACK;
    p[6] = 0;
    rx.require_check = true;
    assert_int_equal(fcrp_header_decode(p, b.len, &rx, &h), FCRP_ECHECK);
    rx.require_check = false;
    p[4] = 2;
    assert_int_equal(fcrp_header_decode(p, b.len, &rx, &h), FCRP_EVERSION);
    p[4] = 1;
    p[5] = 0;
    assert_int_equal(fcrp_header_decode(p, b.len, &rx, &h), FCRP_EKIND);
    p[5] = 8;
    assert_int_equal(fcrp_header_decode(p, b.len, &rx, &h), FCRP_EKIND);
    p[5] = FCRP_ACK;
    p[0] = 'f';
    assert_int_equal(fcrp_header_decode(p, b.len, &rx, &h), FCRP_EMAGIC);
    p[0] = 'F';
    p[12] = 5; /* uncompressed_len != payload_len without compression */
    assert_int_equal(fcrp_header_decode(p, b.len, &rx, &h), FCRP_ELEN);
    fc_buf_free(&b);

    /* caps advertised on a Hello, agreed as the intersection */
    fcrp_tx tx = {.caps = FCRP_F_CAP_CHECK | FCRP_F_CAP_LZ4};
    b = (fc_buf){0};
    assert_int_equal(
        fcrp_frame_encode(&b, FCRP_HELLO, &tx, "\1\1\0\0\0\0\0", 7), FCRP_OK);
    uint8_t flags = ((uint8_t *)b.data)[6];
    assert_int_equal(flags, FCRP_F_CAP_CHECK | FCRP_F_CAP_LZ4);
    assert_int_equal(fcrp_caps_agreed(FCRP_F_CAP_CHECK, flags),
                     FCRP_F_CAP_CHECK);
    assert_int_equal(fcrp_caps_agreed(FCRP_F_CAP_CHECK, 0), 0); /* v1 peer */
    b.len = 0;
    assert_int_equal(fcrp_frame_encode(&b, FCRP_ACK, &tx, "\0\0\0\0", 4),
                     FCRP_OK);
    assert_int_equal(((uint8_t *)b.data)[6], 0); /* never on other kinds */
    fc_buf_free(&b);
}

static void test_strip_check(void **state)
{
    (void)state;
    fcrp_tx tx = {.check = true};
    fc_buf b = {0};
    assert_int_equal(
        fcrp_frame_encode(&b, FCRP_ACK, &tx, "\1\0\0\0\7\0\0\0\0\0\0\0", 12),
        FCRP_OK);
    assert_int_equal(b.len, 16 + 12 + 4);
    uint8_t hdr[16], plainf[28];
    assert_int_equal(fcrp_header_strip_check((uint8_t *)b.data, b.len, hdr),
                     FCRP_OK);
    memcpy(plainf, hdr, 16);
    memcpy(plainf + 16, b.data + 16, 12);
    fcrp_rx rx;
    fcrp_rx_default(&rx); /* a peer that never negotiated */
    assert_int_equal(decode_all(plainf, sizeof plainf, &rx, NULL, NULL),
                     FCRP_OK);
    assert_int_equal(decode_all((uint8_t *)b.data, b.len, &rx, NULL, NULL),
                     FCRP_EFLAGS);
    assert_int_equal(fcrp_header_strip_check(plainf, sizeof plainf, hdr),
                     FCRP_EINVAL);
    fc_buf_free(&b);
}

/* --- caps and counts --------------------------------------------------------
 */

static void test_oversize_rejected_before_alloc(void **state)
{
    (void)state;
    fcrp_rx rx;
    fcrp_rx_default(&rx);
    fcrp_header h = {.kind = FCRP_MUTATION_BATCH,
                     .payload_len = FCRP_DEFAULT_MAX_PAYLOAD + 1,
                     .uncompressed_len = FCRP_DEFAULT_MAX_PAYLOAD + 1};
    uint8_t hdr[16];
    fcrp_header d;
    fcrp_frame f;
    size_t used, need;
    fcrp_header_encode(hdr, 16, &h);
    /* refused from the 16 header bytes alone: nothing to read or allocate */
    assert_int_equal(fcrp_header_decode(hdr, 16, &rx, &d), FCRP_ETOOBIG);
    assert_int_equal(fcrp_frame_decode(hdr, 16, &rx, &f, &used, &need),
                     FCRP_ETOOBIG);
    h.payload_len = h.uncompressed_len = UINT32_MAX;
    fcrp_header_encode(hdr, 16, &h);
    assert_int_equal(fcrp_header_decode(hdr, 16, &rx, &d), FCRP_ETOOBIG);
    /* a small compressed payload claiming a huge uncompressed size */
    h.flags = FCRP_F_ZSTD;
    h.payload_len = 10;
    h.uncompressed_len = FCRP_DEFAULT_MAX_PAYLOAD + 1;
    fcrp_header_encode(hdr, 16, &h);
    assert_int_equal(fcrp_header_decode(hdr, 16, &rx, &d), FCRP_ETOOBIG);
    /* Hello: its own, smaller cap (read before authentication) */
    h.kind = FCRP_HELLO;
    h.flags = 0;
    h.payload_len = h.uncompressed_len = FCRP_DEFAULT_MAX_HELLO + 1;
    fcrp_header_encode(hdr, 16, &h);
    assert_int_equal(fcrp_header_decode(hdr, 16, &rx, &d), FCRP_ETOOBIG);
    h.payload_len = h.uncompressed_len = FCRP_DEFAULT_MAX_HELLO;
    fcrp_header_encode(hdr, 16, &h);
    assert_int_equal(fcrp_header_decode(hdr, 16, &rx, &d), FCRP_OK);
    /* configurable */
    rx.lim.max_payload = 100;
    h.kind = FCRP_ACK;
    h.payload_len = h.uncompressed_len = 101;
    fcrp_header_encode(hdr, 16, &h);
    assert_int_equal(fcrp_header_decode(hdr, 16, &rx, &d), FCRP_ETOOBIG);

    /* decompression grows scratch to the announced size, never past it:
     * 100 KiB of zeros announced as 1 KiB is an error, not a big buffer */
    fcrp_rx_default(&rx);
    size_t big = 100 * 1024;
    uint8_t *zeros = calloc(1, big);
    size_t bound = ZSTD_compressBound(big);
    uint8_t *frame = malloc(16 + bound);
    assert_non_null(zeros);
    assert_non_null(frame);
    size_t clen = ZSTD_compress(frame + 16, bound, zeros, big, 1);
    assert_false(ZSTD_isError(clen));
    h = (fcrp_header){.kind = FCRP_MUTATION_BATCH,
                      .flags = FCRP_F_ZSTD,
                      .payload_len = (uint32_t)clen,
                      .uncompressed_len = 1024};
    fcrp_header_encode(frame, 16, &h);
    assert_int_equal(fcrp_frame_decode(frame, 16 + clen, &rx, &f, &used, &need),
                     FCRP_OK);
    fc_buf scratch = {0};
    const uint8_t *pl;
    size_t pn;
    assert_int_equal(fcrp_frame_payload(&f, &scratch, &pl, &pn),
                     FCRP_ECOMPRESS);
    assert_true(scratch.cap <= 2048);
    /* the same for lz4 */
    rx.accept = FCRP_F_LZ4;
    int lb = LZ4_compressBound((int)big);
    uint8_t *lf = malloc(16 + (size_t)lb);
    assert_non_null(lf);
    int ll = LZ4_compress_default((const char *)zeros, (char *)lf + 16,
                                  (int)big, lb);
    assert_true(ll > 0);
    h.flags = FCRP_F_LZ4;
    h.payload_len = (uint32_t)ll;
    fcrp_header_encode(lf, 16, &h);
    assert_int_equal(
        fcrp_frame_decode(lf, 16 + (size_t)ll, &rx, &f, &used, &need), FCRP_OK);
    fc_buf_free(&scratch);
    assert_int_equal(fcrp_frame_payload(&f, &scratch, &pl, &pn),
                     FCRP_ECOMPRESS);
    assert_true(scratch.cap <= 2048);
    /* garbage announced as compressed */
    memset(lf + 16, 0xff, (size_t)ll);
    assert_int_equal(fcrp_frame_payload(&f, &scratch, &pl, &pn),
                     FCRP_ECOMPRESS);
    h.flags = FCRP_F_ZSTD;
    fcrp_header_encode(lf, 16, &h);
    assert_int_equal(
        fcrp_frame_decode(lf, 16 + (size_t)ll, &rx, &f, &used, &need), FCRP_OK);
    assert_int_equal(fcrp_frame_payload(&f, &scratch, &pl, &pn),
                     FCRP_ECOMPRESS);
    fc_buf_free(&scratch);
    free(lf);
    free(frame);
    free(zeros);
}

static void test_counts_bounded_by_bytes_left(void **state)
{
    (void)state;
    fcrp_wm w;
    fcrp_batch bt;
    fcrp_chunk ch;
    fcrp_hello h;
    /* watermarks: 2 announced, room for 1 */
    static const uint8_t wm[] = {2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(fcrp_wm_decode(wm, sizeof wm, &w), FCRP_ECOUNT);
    static const uint8_t wmhuge[] = {0xff, 0xff, 0xff, 0xff};
    assert_int_equal(fcrp_wm_decode(wmhuge, sizeof wmhuge, &w), FCRP_ECOUNT);
    assert_int_equal(fcrp_wm_decode(wm, 3, &w), FCRP_ETRUNC);
    /* batch: 2^32-1 records in 60 bytes */
    uint8_t batch[4 + 56] = {0xff, 0xff, 0xff, 0xff};
    assert_int_equal(fcrp_batch_open(batch, sizeof batch, &bt), FCRP_ECOUNT);
    /* 2 records but bytes for one fixed part only */
    batch[0] = 2;
    batch[1] = batch[2] = batch[3] = 0;
    assert_int_equal(fcrp_batch_open(batch, sizeof batch, &bt), FCRP_ECOUNT);
    /* one record whose key_len runs past the end */
    batch[0] = 1;
    batch[4 + 20] = FCRP_OP_SET;
    fcrp_put32(batch + 4 + 45, 0xfffffff0u);
    assert_int_equal(fcrp_batch_open(batch, 4 + 53, &bt), FCRP_ETRUNC);
    /* chunk: entry count past the bytes */
    uint8_t chunk[8 + 1 + 4 + 4 + 15] = {0};
    fcrp_put32(chunk + 13, 1);
    assert_int_equal(fcrp_chunk_open(chunk, sizeof chunk, &ch), FCRP_ECOUNT);
    fcrp_put32(chunk + 13, 0);
    fcrp_put32(chunk + 9, 0x10000000u); /* wm count */
    assert_int_equal(fcrp_chunk_open(chunk, sizeof chunk, &ch), FCRP_ECOUNT);
    /* hello: since count past the bytes */
    static const uint8_t hello[] = {1, 1, 0, 0, 0, 0, 1, 9, 0, 0,
                                    0, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(fcrp_hello_decode(hello, sizeof hello, &h), FCRP_ECOUNT);
    /* hello: token length past the bytes */
    static const uint8_t tok[] = {1, 1, 0xff, 0xff, 0xff, 0x7f, 'a'};
    assert_int_equal(fcrp_hello_decode(tok, sizeof tok, &h), FCRP_ETRUNC);
}

/* --- compression ------------------------------------------------------------
 */

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static uint8_t rnd8(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return (uint8_t)rnd_state;
}

static void test_compression_kept_only_when_smaller(void **state)
{
    (void)state;
    fcrp_rx rx;
    fcrp_rx_default(&rx);
    rx.accept = FCRP_F_LZ4;
    uint8_t noise[4096], text[4096];
    for (size_t i = 0; i < sizeof noise; i++) {
        noise[i] = rnd8();
        text[i] = (uint8_t) "replication "[i % 12];
    }
    for (uint8_t comp = FCRP_COMP_ZSTD; comp <= FCRP_COMP_LZ4; comp++) {
        uint8_t want = comp == FCRP_COMP_ZSTD ? FCRP_F_ZSTD : FCRP_F_LZ4;
        fcrp_tx tx = {.comp = comp};
        fc_buf b = {0};
        fcrp_header h;
        /* incompressible: sent plain */
        assert_int_equal(
            fcrp_frame_encode(&b, FCRP_ERROR, &tx, noise, sizeof noise),
            FCRP_OK);
        assert_int_equal(fcrp_header_decode((uint8_t *)b.data, b.len, &rx, &h),
                         FCRP_OK);
        assert_int_equal(h.flags, 0);
        assert_int_equal(h.payload_len, sizeof noise);
        assert_int_equal(b.len, 16 + sizeof noise);
        assert_memory_equal(b.data + 16, noise, sizeof noise);
        /* tiny: never tried */
        b.len = 0;
        assert_int_equal(
            fcrp_frame_encode(&b, FCRP_ERROR, &tx, text, FCRP_COMPRESS_MIN - 1),
            FCRP_OK);
        assert_int_equal(((uint8_t *)b.data)[6], 0);
        /* compressible: compressed, smaller, and round trips */
        b.len = 0;
        assert_int_equal(
            fcrp_frame_encode(&b, FCRP_ERROR, &tx, text, sizeof text), FCRP_OK);
        assert_int_equal(fcrp_header_decode((uint8_t *)b.data, b.len, &rx, &h),
                         FCRP_OK);
        assert_int_equal(h.flags, want);
        assert_true(h.payload_len < sizeof text / 4);
        assert_int_equal(h.uncompressed_len, sizeof text);
        fcrp_frame f;
        size_t used, need, pn;
        const uint8_t *pl;
        fc_buf scratch = {0};
        assert_int_equal(
            fcrp_frame_decode((uint8_t *)b.data, b.len, &rx, &f, &used, &need),
            FCRP_OK);
        assert_int_equal(fcrp_frame_payload(&f, &scratch, &pl, &pn), FCRP_OK);
        assert_int_equal(pn, sizeof text);
        assert_memory_equal(pl, text, sizeof text);
        fc_buf_free(&scratch);
        fc_buf_free(&b);
    }
    /* lz4 not negotiated: refused */
    fcrp_tx tx = {.comp = FCRP_COMP_LZ4};
    fc_buf b = {0};
    assert_int_equal(fcrp_frame_encode(&b, FCRP_ERROR, &tx, text, sizeof text),
                     FCRP_OK);
    rx.accept = 0;
    fcrp_header h;
    assert_int_equal(fcrp_header_decode((uint8_t *)b.data, b.len, &rx, &h),
                     FCRP_EFLAGS);
    fc_buf_free(&b);
}

static void test_lz4_zstd_batch_roundtrip(void **state)
{
    (void)state;
    fcrp_rx rx;
    fcrp_rx_default(&rx);
    rx.accept = FCRP_F_LZ4 | FCRP_F_CHECK;
    char key[32], val[200];
    for (uint8_t comp = FCRP_COMP_NONE; comp <= FCRP_COMP_LZ4; comp++) {
        fcrp_tx tx = {
            .comp = comp, .check = comp == FCRP_COMP_LZ4, .zstd_level = 5};
        fc_buf b = {0};
        size_t m, at;
        assert_int_equal(fcrp_frame_begin(&b, &m), FCRP_OK);
        assert_int_equal(fcrp_batch_put_count(&b, &at), FCRP_OK);
        for (int i = 0; i < 300; i++) {
            snprintf(key, sizeof key, "user:%06d", i);
            memset(val, 'a' + i % 26, sizeof val - 1);
            val[sizeof val - 1] = 0;
            fcrp_record r =
                rec_set(1, (uint64_t)i + 1, key, val, FCRP_NO_EXPIRY);
            assert_int_equal(fcrp_record_put(&b, &r), FCRP_OK);
        }
        fcrp_batch_set_count(&b, at, 300);
        size_t raw = b.len - 16;
        assert_int_equal(fcrp_frame_finish(&b, m, FCRP_MUTATION_BATCH, &tx),
                         FCRP_OK);
        if (comp != FCRP_COMP_NONE)
            assert_true(b.len < raw / 2);
        fcrp_frame f;
        size_t used, need, pn;
        const uint8_t *pl;
        fc_buf scratch = {0};
        assert_int_equal(
            fcrp_frame_decode((uint8_t *)b.data, b.len, &rx, &f, &used, &need),
            FCRP_OK);
        assert_int_equal(fcrp_frame_payload(&f, &scratch, &pl, &pn), FCRP_OK);
        assert_int_equal(pn, raw);
        fcrp_batch it;
        fcrp_record r;
        assert_int_equal(fcrp_batch_open(pl, pn, &it), FCRP_OK);
        for (int i = 0; i < 300; i++) {
            assert_true(fcrp_batch_next(&it, &r));
            snprintf(key, sizeof key, "user:%06d", i);
            assert_int_equal(r.key_len, strlen(key));
            assert_memory_equal(r.key, key, r.key_len);
            assert_true(r.seq == (uint64_t)i + 1);
            assert_int_equal(r.value_len, sizeof val - 1);
            assert_int_equal(r.value[0], 'a' + i % 26);
        }
        assert_false(fcrp_batch_next(&it, &r));
        fc_buf_free(&scratch);
        fc_buf_free(&b);
    }
}

/* A seed encoder compresses with zstd even when that makes it larger; we
 * must read that. */
static void test_seed_zstd_larger_accepted(void **state)
{
    (void)state;
    uint8_t payload[8] = {1, 0, 0, 0, 42, 0, 0, 0}; /* Ack: count 1 ... */
    uint8_t ack[12] = {1, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0};
    (void)payload;
    uint8_t frame[16 + 64];
    size_t clen = ZSTD_compress(frame + 16, 64, ack, sizeof ack, 3);
    assert_false(ZSTD_isError(clen));
    assert_true(clen > sizeof ack);
    fcrp_header h = {.kind = FCRP_ACK,
                     .flags = FCRP_F_ZSTD,
                     .payload_len = (uint32_t)clen,
                     .uncompressed_len = sizeof ack};
    fcrp_header_encode(frame, 16, &h);
    fcrp_rx rx;
    fcrp_rx_default(&rx);
    fcrp_frame f;
    size_t used, need, pn;
    const uint8_t *pl;
    fc_buf scratch = {0};
    assert_int_equal(fcrp_frame_decode(frame, 16 + clen, &rx, &f, &used, &need),
                     FCRP_OK);
    assert_int_equal(fcrp_frame_payload(&f, &scratch, &pl, &pn), FCRP_OK);
    fcrp_wm w;
    assert_int_equal(fcrp_wm_decode(pl, pn, &w), FCRP_OK);
    assert_true(fcrp_wm_get(&w, 0) == 42);
    fc_buf_free(&scratch);
}

/* --- expiry on arrival ------------------------------------------------------
 */

static void test_expired_on_arrival(void **state)
{
    (void)state;
    uint64_t now = 1800000000000ull;
    fcrp_record r = rec_set(0, 1, "k", "v", now);
    assert_int_equal(fcrp_record_effective_op(&r, now), FCRP_OP_DEL);
    r.expire_at_ms = now - 1;
    assert_int_equal(fcrp_record_effective_op(&r, now), FCRP_OP_DEL);
    r.expire_at_ms = 0; /* the epoch: long past, not "no expiry" */
    assert_int_equal(fcrp_record_effective_op(&r, now), FCRP_OP_DEL);
    r.expire_at_ms = now + 1;
    assert_int_equal(fcrp_record_effective_op(&r, now), FCRP_OP_SET);
    r.expire_at_ms = FCRP_NO_EXPIRY;
    assert_int_equal(fcrp_record_effective_op(&r, now), FCRP_OP_SET);
    r.op = FCRP_OP_EXPIRE;
    r.value_len = 0;
    assert_int_equal(fcrp_record_effective_op(&r, now), FCRP_OP_EXPIRE);
    r.expire_at_ms = now - 5;
    assert_int_equal(fcrp_record_effective_op(&r, now), FCRP_OP_DEL);
    r.op = FCRP_OP_DEL;
    assert_int_equal(fcrp_record_effective_op(&r, now), FCRP_OP_DEL);
    r.op = FCRP_OP_CLEAR;
    assert_int_equal(fcrp_record_effective_op(&r, now), FCRP_OP_CLEAR);

    /* through the wire: the absolute expiry survives unchanged */
    fc_buf b = {0};
    size_t at;
    fcrp_record s = rec_set(0, 2, "k", "v", now - 10);
    fcrp_batch_put_count(&b, &at);
    fcrp_record_put(&b, &s);
    fcrp_batch_set_count(&b, at, 1);
    fcrp_batch it;
    fcrp_record d;
    assert_int_equal(fcrp_batch_open((uint8_t *)b.data, b.len, &it), FCRP_OK);
    assert_true(fcrp_batch_next(&it, &d));
    assert_true(d.expire_at_ms == now - 10);
    assert_int_equal(fcrp_record_effective_op(&d, now), FCRP_OP_DEL);
    assert_int_equal(fcrp_record_effective_op(&d, now - 11), FCRP_OP_SET);
    fc_buf_free(&b);
}

static void test_token_equal(void **state)
{
    (void)state;
    assert_true(fcrp_token_equal("secret", 6, "secret", 6));
    assert_false(fcrp_token_equal("secret", 6, "secreT", 6));
    assert_false(fcrp_token_equal("secret", 6, "Secret", 6));
    assert_false(fcrp_token_equal("secret", 6, "secret!", 7));
    assert_false(fcrp_token_equal("secret", 6, "secre", 5));
    assert_false(fcrp_token_equal("a\0", 2, "a", 1)); /* padding is not 0s */
    assert_false(fcrp_token_equal("secret", 6, NULL, 0));
    assert_true(fcrp_token_equal(NULL, 0, NULL, 0));
    assert_true(fcrp_token_equal(NULL, 0, "", 0));
}

static void test_strerror(void **state)
{
    (void)state;
    for (int s = FCRP_EINVAL; s <= FCRP_MORE; s++)
        assert_string_not_equal(fcrp_strerror(s), "unknown FCRP status");
    assert_string_equal(fcrp_strerror(FCRP_EKIND),
                        "unsupported FCRP frame kind");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_layout),
        cmocka_unit_test(test_hello_layout),
        cmocka_unit_test(test_record_layout),
        cmocka_unit_test(test_roundtrip_every_kind),
        cmocka_unit_test(test_roundtrip_batch_fields),
        cmocka_unit_test(test_roundtrip_chunk),
        cmocka_unit_test(test_typed_chunk_entry),
        cmocka_unit_test(test_error_codes),
        cmocka_unit_test(test_every_truncation_needs_more),
        cmocka_unit_test(test_every_flipped_bit_with_check),
        cmocka_unit_test(test_flags_and_reserved),
        cmocka_unit_test(test_strip_check),
        cmocka_unit_test(test_oversize_rejected_before_alloc),
        cmocka_unit_test(test_counts_bounded_by_bytes_left),
        cmocka_unit_test(test_compression_kept_only_when_smaller),
        cmocka_unit_test(test_lz4_zstd_batch_roundtrip),
        cmocka_unit_test(test_seed_zstd_larger_accepted),
        cmocka_unit_test(test_expired_on_arrival),
        cmocka_unit_test(test_token_equal),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
