/* test_persist_format.c — the pure codecs of persist/format.h: every encoder
 * round-trips through its decoder; every proper prefix of a valid record or
 * item is PF_MORE (decoded from an exactly-sized heap copy, so ASan catches
 * a read past `avail`); a flipped bit anywhere in a WAL record is caught by
 * the checksum; structural damage (bad kinds, reserved bytes, klen+vlen !=
 * len, lengths over the limits, negative expiry) is PF_BAD even under a
 * valid checksum; segment and snapshot headers reject a bad magic, version,
 * checksum, flags, reserved bytes or shard count. Deterministic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>
#include <xxhash.h>

#include "persist/format.h"

/* --- helpers ------------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dull;
}

static void put32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* Recomputes a record's checksum after the test edited it, so that the
 * structural checks behind the checksum are reached. */
static void reseal(uint8_t *rec)
{
    uint32_t len = get32le(rec + 4);
    put32le(rec, (uint32_t)XXH3_64bits(rec + 4, 4 + (size_t)len));
}

/* Decodes from an exact heap copy of the first n bytes (ASan-checked). */
static int rec_decode_copy(const uint8_t *p, size_t n, pf_rec *r, size_t *used)
{
    uint8_t *c = malloc(n ? n : 1);
    assert_non_null(c);
    if (n)
        memcpy(c, p, n);
    int st = pf_rec_decode(c, n, r, used);
    free(c);
    return st;
}

static int item_decode_copy(const uint8_t *p, size_t n, pf_item *it,
                            size_t *used)
{
    uint8_t *c = malloc(n ? n : 1);
    assert_non_null(c);
    if (n)
        memcpy(c, p, n);
    int st = pf_item_decode(c, n, it, used);
    free(c);
    return st;
}

/* One encoded record of the given shape in a fresh buffer. */
static uint8_t *make_rec(uint8_t kind, uint32_t klen, uint32_t vlen,
                         int64_t expire, size_t *size)
{
    static uint8_t key[300], val[300];
    for (size_t i = 0; i < sizeof(key); i++) {
        key[i] = (uint8_t)(i * 7 + 1);
        val[i] = (uint8_t)(i * 13 + 5);
    }
    pf_rec r = {.kind = kind,
                .vtype = 0,
                .shard = 3,
                .seq = 0x0102030405060708ull,
                .expire_unix_ms = expire,
                .key = key,
                .klen = klen,
                .value = val,
                .vlen = vlen};
    *size = pf_rec_size(klen, vlen);
    uint8_t *b = malloc(*size);
    assert_non_null(b);
    pf_rec_encode(b, &r);
    return b;
}

/* --- WAL records -------------------------------------------------------- */

static void check_rec_roundtrip(uint8_t kind, uint8_t vtype, uint32_t shard,
                                uint64_t seq, int64_t exp, const void *k,
                                uint32_t kl, const void *v, uint32_t vl)
{
    pf_rec in = {.kind = kind,
                 .vtype = vtype,
                 .shard = shard,
                 .seq = seq,
                 .expire_unix_ms = exp,
                 .key = k,
                 .klen = kl,
                 .value = v,
                 .vlen = vl};
    size_t n = pf_rec_size(kl, vl);
    assert_int_equal(n, PF_REC_HEADER + kl + vl);
    uint8_t *b = malloc(n + 64);
    assert_non_null(b);
    memset(b, 0xA5, n + 64);
    pf_rec_encode(b, &in);
    for (size_t i = n; i < n + 64; i++) /* writes exactly pf_rec_size */
        assert_int_equal(b[i], 0xA5);
    pf_rec out;
    size_t used = 0;
    assert_int_equal(rec_decode_copy(b, n, &out, &used), PF_OK);
    assert_int_equal(used, n);
    assert_int_equal(out.kind, kind);
    assert_int_equal(out.vtype, vtype);
    assert_int_equal(out.shard, shard);
    assert_true(out.seq == seq);
    assert_true(out.expire_unix_ms == exp);
    assert_int_equal(out.klen, kl);
    assert_int_equal(out.vlen, vl);
    /* decoding with trailing bytes uses only the record */
    used = 0;
    assert_int_equal(pf_rec_decode(b, n + 64, &out, &used), PF_OK);
    assert_int_equal(used, n);
    assert_ptr_equal(out.key, b + PF_REC_HEADER);
    assert_ptr_equal(out.value, b + PF_REC_HEADER + kl);
    if (kl)
        assert_memory_equal(out.key, k, kl);
    if (vl)
        assert_memory_equal(out.value, v, vl);
    free(b);
}

static void test_rec_roundtrip(void **state)
{
    (void)state;
    uint8_t k[256], v[1024];
    for (size_t i = 0; i < sizeof(k); i++)
        k[i] = (uint8_t)rnd();
    for (size_t i = 0; i < sizeof(v); i++)
        v[i] = (uint8_t)rnd();
    check_rec_roundtrip(PF_REC_SET, 0, 0, 1, 0, "k", 1, "v", 1);
    check_rec_roundtrip(PF_REC_SET, 0, 7, UINT64_MAX, INT64_MAX, k, 256, v,
                        1024);
    check_rec_roundtrip(PF_REC_SET, 0, UINT32_MAX, 0, 1, "", 0, "", 0);
    check_rec_roundtrip(PF_REC_SET, 0, 1, 42, 1700000000000, k, 0, v, 17);
    check_rec_roundtrip(PF_REC_DEL, 0, 2, 43, 0, k, 200, NULL, 0);
    check_rec_roundtrip(PF_REC_EXPIRE, 0, 5, 44, 1700000000123, k, 9, NULL, 0);
    check_rec_roundtrip(PF_REC_EXPIRE, 0, 5, 45, 0, k, 9, NULL, 0);
    check_rec_roundtrip(PF_REC_CLEAR, 0, 6, 46, 0, NULL, 0, NULL, 0);
    check_rec_roundtrip(PF_REC_SET, 4, 6, 47, 0, k, 3, v, 40); /* a zset */
    check_rec_roundtrip(PF_REC_OP, 2, 6, 48, 0, k, 3, v, 12);  /* list op */
    for (int i = 0; i < 200; i++) {
        uint32_t kl = (uint32_t)(rnd() % 257), vl = (uint32_t)(rnd() % 1025);
        uint8_t kinds[] = {PF_REC_SET, PF_REC_DEL, PF_REC_EXPIRE, PF_REC_CLEAR,
                           PF_REC_OP};
        uint8_t kind = kinds[rnd() % 5], vtype = 0;
        if (kind != PF_REC_SET && kind != PF_REC_OP)
            vl = 0;
        if (kind == PF_REC_CLEAR)
            kl = 0;
        if (kind == PF_REC_SET)
            vtype = (uint8_t)(rnd() % (PF_VTYPE_MAX + 1));
        if (kind == PF_REC_OP) {
            vtype = (uint8_t)(1 + rnd() % PF_VTYPE_MAX);
            vl = vl ? vl : 1;
        }
        check_rec_roundtrip(kind, vtype, (uint32_t)rnd(), rnd(),
                            (int64_t)(rnd() >> 1), k, kl, v, vl);
    }
}

/* What the decoder refuses about value types: a type out of range, a type
 * on a DEL/EXPIRE/CLEAR, an OP without a type or without a record. */
static void test_rec_vtype_rules(void **state)
{
    (void)state;
    uint8_t b[256];
    struct {
        uint8_t kind, vtype;
        uint32_t vlen;
        int want;
    } cases[] = {
        {PF_REC_SET, PF_VTYPE_MAX + 1, 1, PF_BAD},
        {PF_REC_SET, 255, 1, PF_BAD},
        {PF_REC_DEL, 1, 0, PF_BAD},
        {PF_REC_EXPIRE, 3, 0, PF_BAD},
        {PF_REC_CLEAR, 2, 0, PF_BAD},
        {PF_REC_OP, 0, 4, PF_BAD},
        {PF_REC_OP, 1, 0, PF_BAD},
        {PF_REC_OP, PF_VTYPE_MAX + 1, 4, PF_BAD},
        {PF_REC_OP, 1, 4, PF_OK},
        {PF_REC_SET, PF_VTYPE_MAX, 4, PF_OK},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pf_rec r = {.kind = cases[i].kind,
                    .vtype = cases[i].vtype,
                    .key = (const uint8_t *)"k",
                    .klen = cases[i].kind == PF_REC_CLEAR ? 0 : 1,
                    .value = (const uint8_t *)"abcd",
                    .vlen = cases[i].vlen};
        pf_rec_encode(b, &r);
        pf_rec out;
        size_t used;
        assert_int_equal(rec_decode_copy(b, pf_rec_size(r.klen, r.vlen), &out,
                                         &used),
                         cases[i].want);
    }
}

/* Typed snapshot items: round trip of every field, and the types refused. */
static void test_item_typed(void **state)
{
    (void)state;
    uint8_t b[256];
    pf_item it;
    size_t used;
    size_t n = pf_item_typed_encode(b, 3, 1700000000000, 0x1122334455667788ull,
                                    "key", 3, "serial", 6);
    assert_int_equal(n, pf_typed_size(3, 6));
    assert_int_equal(item_decode_copy(b, n, &it, &used), PF_OK);
    assert_int_equal(used, n);
    assert_int_equal(it.tag, PF_ITEM_TYPED);
    assert_int_equal(it.vtype, 3);
    assert_true(it.num == 0x1122334455667788ull);
    assert_true(it.expire_unix_ms == 1700000000000);
    assert_int_equal(it.klen, 3);
    assert_memory_equal(it.key, "key", 3);
    assert_int_equal(it.vlen, 6);
    assert_memory_equal(it.value, "serial", 6);
    for (size_t cut = 0; cut < n; cut++) /* every truncation waits for more */
        assert_int_equal(item_decode_copy(b, cut, &it, &used), PF_MORE);
    for (unsigned vt = 0; vt < 256; vt++) {
        n = pf_item_typed_encode(b, (uint8_t)vt, 0, 1, "k", 1, "v", 1);
        int want = vt >= 1 && vt <= PF_VTYPE_MAX ? PF_OK : PF_BAD;
        assert_int_equal(item_decode_copy(b, n, &it, &used), want);
    }
}

/* Several records back to back decode one after another. */
static void test_rec_stream(void **state)
{
    (void)state;
    uint8_t buf[8192];
    size_t off = 0, sizes[64];
    int n = 0;
    while (n < 64) {
        uint32_t kl = (uint32_t)(rnd() % 40), vl = (uint32_t)(rnd() % 60);
        if (off + pf_rec_size(kl, vl) > sizeof(buf))
            break;
        uint8_t tmp[128];
        memset(tmp, n, sizeof(tmp));
        pf_rec r = {.kind = PF_REC_SET, .shard = (uint32_t)n, .seq = (uint64_t)n,
                    .key = tmp, .klen = kl, .value = tmp, .vlen = vl};
        pf_rec_encode(buf + off, &r);
        sizes[n++] = pf_rec_size(kl, vl);
        off += pf_rec_size(kl, vl);
    }
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        pf_rec r;
        size_t used;
        assert_int_equal(pf_rec_decode(buf + at, off - at, &r, &used), PF_OK);
        assert_int_equal(used, sizes[i]);
        assert_int_equal(r.shard, (uint32_t)i);
        assert_true(r.seq == (uint64_t)i);
        at += used;
    }
    assert_int_equal(at, off);
    pf_rec r;
    size_t used;
    assert_int_equal(pf_rec_decode(buf + at, 0, &r, &used), PF_MORE);
}

static void test_rec_truncated(void **state)
{
    (void)state;
    struct {
        uint8_t kind;
        uint32_t kl, vl;
    } shapes[] = {{PF_REC_SET, 5, 11}, {PF_REC_SET, 0, 0},
                  {PF_REC_SET, 300, 0}, {PF_REC_DEL, 12, 0},
                  {PF_REC_EXPIRE, 3, 0}, {PF_REC_CLEAR, 0, 0}};
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
        size_t n;
        uint8_t *b = make_rec(shapes[s].kind, shapes[s].kl, shapes[s].vl,
                              1234, &n);
        for (size_t cut = 0; cut < n; cut++) {
            pf_rec r;
            size_t used = 777;
            assert_int_equal(rec_decode_copy(b, cut, &r, &used), PF_MORE);
            assert_int_equal(used, 777); /* untouched unless PF_OK */
        }
        pf_rec r;
        size_t used;
        assert_int_equal(rec_decode_copy(b, n, &r, &used), PF_OK);
        free(b);
    }
}

/* Any single flipped bit makes the record unusable: PF_BAD, except that a
 * flip in the length field that makes the record run past the buffer is
 * PF_MORE (which recovery treats as a torn tail only at the end of the last
 * segment). With enough bytes after it, a grown length is PF_BAD too. */
static void test_rec_bitflip(void **state)
{
    (void)state;
    uint8_t kinds[] = {PF_REC_SET, PF_REC_DEL, PF_REC_EXPIRE, PF_REC_CLEAR};
    for (size_t ki = 0; ki < 4; ki++) {
        uint32_t kl = kinds[ki] == PF_REC_CLEAR ? 0 : 10;
        uint32_t vl = kinds[ki] == PF_REC_SET ? 20 : 0;
        size_t n;
        uint8_t *b = make_rec(kinds[ki], kl, vl, 99, &n);
        size_t big = n + 4096; /* room for any grown length below 4 KiB */
        uint8_t *c = calloc(1, big);
        assert_non_null(c);
        for (size_t bit = 0; bit < n * 8; bit++) {
            memcpy(c, b, n);
            memset(c + n, 0, big - n);
            c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            pf_rec r;
            size_t used;
            int st = rec_decode_copy(c, n, &r, &used);
            bool in_len = bit / 8 >= 4 && bit / 8 < 8;
            if (!in_len) {
                assert_int_equal(st, PF_BAD);
            } else {
                uint32_t len = get32le(c + 4);
                if (len >= PF_REC_FIXED && (size_t)len + PF_REC_PREFIX > n &&
                    len <= PF_REC_FIXED + PF_MAX_KEY + PF_MAX_VALUE)
                    assert_int_equal(st, PF_MORE);
                else
                    assert_int_equal(st, PF_BAD);
                if ((size_t)len + PF_REC_PREFIX <= big)
                    assert_int_equal(pf_rec_decode(c, big, &r, &used), PF_BAD);
            }
        }
        free(c);
        free(b);
    }
}

/* Under a valid checksum: every structural rule. */
static void test_rec_structure(void **state)
{
    (void)state;
    pf_rec r;
    size_t used, n;
    uint8_t *b;

    /* kinds: only 1, 2, 3, 5 exist (4 = EXPIRED is never logged) */
    for (unsigned k = 0; k < 256; k++) {
        b = make_rec(PF_REC_SET, 4, 0, 0, &n);
        b[PF_REC_PREFIX] = (uint8_t)k;
        reseal(b);
        int st = pf_rec_decode(b, n, &r, &used);
        if (k == PF_REC_SET || k == PF_REC_DEL || k == PF_REC_EXPIRE)
            assert_int_equal(st, PF_OK);
        else
            assert_int_equal(st, PF_BAD); /* CLEAR has a key here: bad too */
        free(b);
    }
    /* reserved u16 after kind/vtype */
    for (int byte = 2; byte < 4; byte++) {
        b = make_rec(PF_REC_SET, 4, 4, 0, &n);
        b[PF_REC_PREFIX + byte] = 1;
        reseal(b);
        assert_int_equal(pf_rec_decode(b, n, &r, &used), PF_BAD);
        free(b);
    }
    /* klen + vlen != len - FIXED, either way, including u32 wrap-around */
    {
        uint32_t kls[][2] = {{5, 4}, {3, 4}, {4, 5}, {4, 3}, {0, 0},
                             {UINT32_MAX, 9}, {9, UINT32_MAX},
                             {UINT32_MAX, UINT32_MAX}, {0x80000004u, 0x80000004u}};
        for (size_t i = 0; i < sizeof(kls) / sizeof(kls[0]); i++) {
            b = make_rec(PF_REC_SET, 4, 4, 0, &n);
            put32le(b + PF_REC_PREFIX + 24, kls[i][0]);
            put32le(b + PF_REC_PREFIX + 28, kls[i][1]);
            reseal(b);
            assert_int_equal(pf_rec_decode(b, n, &r, &used), PF_BAD);
            free(b);
        }
    }
    /* DEL / EXPIRE carry no value; CLEAR neither key nor value */
    b = make_rec(PF_REC_DEL, 4, 3, 0, &n);
    assert_int_equal(pf_rec_decode(b, n, &r, &used), PF_BAD);
    free(b);
    b = make_rec(PF_REC_EXPIRE, 4, 1, 5, &n);
    assert_int_equal(pf_rec_decode(b, n, &r, &used), PF_BAD);
    free(b);
    b = make_rec(PF_REC_CLEAR, 1, 0, 0, &n);
    assert_int_equal(pf_rec_decode(b, n, &r, &used), PF_BAD);
    free(b);
    b = make_rec(PF_REC_CLEAR, 0, 1, 0, &n);
    assert_int_equal(pf_rec_decode(b, n, &r, &used), PF_BAD);
    free(b);
    /* negative expiry */
    b = make_rec(PF_REC_SET, 2, 2, -1, &n);
    assert_int_equal(pf_rec_decode(b, n, &r, &used), PF_BAD);
    free(b);
    b = make_rec(PF_REC_EXPIRE, 2, 0, INT64_MIN, &n);
    assert_int_equal(pf_rec_decode(b, n, &r, &used), PF_BAD);
    free(b);
    /* length field below the fixed part, or over the limits: PF_BAD before
     * any wait for more bytes (only 8 bytes given) */
    uint32_t lens[] = {0, 1, PF_REC_FIXED - 1,
                       (uint32_t)(PF_REC_FIXED + PF_MAX_KEY + PF_MAX_VALUE + 1),
                       UINT32_MAX};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        uint8_t p[PF_REC_PREFIX] = {0};
        put32le(p + 4, lens[i]);
        put32le(p, (uint32_t)XXH3_64bits(p + 4, 4));
        assert_int_equal(rec_decode_copy(p, sizeof(p), &r, &used), PF_BAD);
    }
    /* the largest legal length only waits for its bytes */
    {
        uint8_t p[PF_REC_PREFIX] = {0};
        put32le(p + 4, (uint32_t)(PF_REC_FIXED + PF_MAX_KEY + PF_MAX_VALUE));
        assert_int_equal(rec_decode_copy(p, sizeof(p), &r, &used), PF_MORE);
    }
}

/* klen / vlen over PF_MAX_KEY / PF_MAX_VALUE inside a length that is itself
 * legal: needs the bytes to be present (the checksum covers them), so the
 * buffer is a lazily-mapped zero region (no RSS beyond the header page). */
static void test_rec_key_value_limits(void **state)
{
    (void)state;
    size_t big = PF_REC_HEADER + (size_t)PF_MAX_KEY + 1;
    uint8_t *m = mmap(NULL, big, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(m != MAP_FAILED);
    struct {
        uint32_t kl, vl;
        int want;
    } cases[] = {{(uint32_t)PF_MAX_KEY + 1, 0, PF_BAD},
                 {0, (uint32_t)PF_MAX_VALUE + 1, PF_BAD},
                 {(uint32_t)PF_MAX_KEY, 1, PF_OK},
                 {1, (uint32_t)PF_MAX_VALUE, PF_OK}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(m, 0, PF_REC_HEADER);
        uint32_t len = PF_REC_FIXED + cases[i].kl + cases[i].vl;
        put32le(m + 4, len);
        m[PF_REC_PREFIX] = PF_REC_SET;
        put32le(m + PF_REC_PREFIX + 24, cases[i].kl);
        put32le(m + PF_REC_PREFIX + 28, cases[i].vl);
        reseal(m);
        pf_rec r;
        size_t used = 0;
        assert_int_equal(pf_rec_decode(m, PF_REC_PREFIX + (size_t)len, &r, &used),
                         cases[i].want);
        if (cases[i].want == PF_OK)
            assert_int_equal(used, PF_REC_PREFIX + (size_t)len);
        /* one byte short: still only waiting */
        assert_int_equal(
            pf_rec_decode(m, PF_REC_PREFIX + (size_t)len - 1, &r, &used),
            PF_MORE);
    }
    munmap(m, big);
}

/* --- segment header ----------------------------------------------------- */

static void test_seg_header(void **state)
{
    (void)state;
    pf_seg_header in = {.segno = 0x1122334455667788ull,
                        .epoch = 9,
                        .seed = 0xdeadbeefcafef00dull,
                        .nshards = 64,
                        .created_unix_ms = 1700000000123};
    uint8_t b[PF_SEG_HEADER_LEN], c[PF_SEG_HEADER_LEN];
    pf_seg_header_encode(b, &in);
    assert_memory_equal(b, PF_SEG_MAGIC, 8);
    pf_seg_header out;
    memset(&out, 0, sizeof(out));
    assert_int_equal(pf_seg_header_decode(b, sizeof(b), &out), PF_OK);
    assert_true(out.segno == in.segno && out.epoch == in.epoch &&
                out.seed == in.seed && out.nshards == in.nshards &&
                out.created_unix_ms == in.created_unix_ms);
    for (size_t cut = 0; cut < PF_SEG_HEADER_LEN; cut++) {
        uint8_t *h = malloc(cut ? cut : 1);
        memcpy(h, b, cut);
        assert_int_equal(pf_seg_header_decode(h, cut, &out), PF_MORE);
        free(h);
    }
    /* every flipped bit: magic, version, header length, fields (checksum),
     * checksum itself */
    for (size_t bit = 0; bit < PF_SEG_HEADER_LEN * 8; bit++) {
        memcpy(c, b, sizeof(c));
        c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(pf_seg_header_decode(c, sizeof(c), &out), PF_BAD);
    }
    /* shard counts: powers of two only, and not zero */
    for (uint32_t ns = 0; ns <= 1025; ns++) {
        pf_seg_header h2 = in;
        h2.nshards = ns;
        pf_seg_header_encode(c, &h2);
        bool pow2 = ns && !(ns & (ns - 1));
        assert_int_equal(pf_seg_header_decode(c, sizeof(c), &out),
                         pow2 ? PF_OK : PF_BAD);
    }
    /* a wrong version / header length under a valid checksum */
    memcpy(c, b, sizeof(c));
    put32le(c + 8, PF_FORMAT_VERSION + 1);
    put64le(c + 56, XXH3_64bits(c, 56));
    assert_int_equal(pf_seg_header_decode(c, sizeof(c), &out), PF_BAD);
    memcpy(c, b, sizeof(c));
    put32le(c + 12, 65);
    put64le(c + 56, XXH3_64bits(c, 56));
    assert_int_equal(pf_seg_header_decode(c, sizeof(c), &out), PF_BAD);
    /* a wrong magic under a valid checksum */
    memcpy(c, b, sizeof(c));
    c[7] = '2';
    put64le(c + 56, XXH3_64bits(c, 56));
    assert_int_equal(pf_seg_header_decode(c, sizeof(c), &out), PF_BAD);
}

/* --- snapshot header / trailer --------------------------------------- */

static void test_snap_header(void **state)
{
    (void)state;
    pf_snap_header in = {.flags = PF_SNAP_F_ZSTD,
                         .epoch = 3,
                         .snap_id = 0xabcdef,
                         .wal_from_segno = 77,
                         .seed = 0x5eed,
                         .nshards = 8,
                         .created_unix_ms = 1700000000999};
    uint8_t b[PF_SNAP_HEADER_LEN], c[PF_SNAP_HEADER_LEN];
    pf_snap_header_encode(b, &in);
    assert_memory_equal(b, PF_SNAP_MAGIC, 8);
    pf_snap_header out;
    assert_int_equal(pf_snap_header_decode(b, sizeof(b), &out), PF_OK);
    assert_true(out.flags == in.flags && out.epoch == in.epoch &&
                out.snap_id == in.snap_id &&
                out.wal_from_segno == in.wal_from_segno &&
                out.seed == in.seed && out.nshards == in.nshards &&
                out.created_unix_ms == in.created_unix_ms);
    in.flags = 0;
    pf_snap_header_encode(b, &in);
    assert_int_equal(pf_snap_header_decode(b, sizeof(b), &out), PF_OK);
    assert_int_equal(out.flags, 0);
    for (size_t cut = 0; cut < PF_SNAP_HEADER_LEN; cut++) {
        uint8_t *h = malloc(cut ? cut : 1);
        memcpy(h, b, cut);
        assert_int_equal(pf_snap_header_decode(h, cut, &out), PF_MORE);
        free(h);
    }
    /* magic, version */
    for (size_t bit = 0; bit < 12 * 8; bit++) {
        memcpy(c, b, sizeof(c));
        c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(pf_snap_header_decode(c, sizeof(c), &out), PF_BAD);
    }
    /* flags: only the zstd bit is known */
    for (int bit = 1; bit < 32; bit++) {
        pf_snap_header h2 = in;
        h2.flags = 1u << bit;
        pf_snap_header_encode(c, &h2);
        assert_int_equal(pf_snap_header_decode(c, sizeof(c), &out), PF_BAD);
        h2.flags |= PF_SNAP_F_ZSTD;
        pf_snap_header_encode(c, &h2);
        assert_int_equal(pf_snap_header_decode(c, sizeof(c), &out), PF_BAD);
    }
    /* reserved u32 after nshards */
    for (int byte = 52; byte < 56; byte++) {
        memcpy(c, b, sizeof(c));
        c[byte] = 0x10;
        assert_int_equal(pf_snap_header_decode(c, sizeof(c), &out), PF_BAD);
    }
    /* shard counts */
    for (uint32_t ns = 0; ns <= 1025; ns++) {
        pf_snap_header h2 = in;
        h2.nshards = ns;
        pf_snap_header_encode(c, &h2);
        bool pow2 = ns && !(ns & (ns - 1));
        assert_int_equal(pf_snap_header_decode(c, sizeof(c), &out),
                         pow2 ? PF_OK : PF_BAD);
    }
    {
        pf_snap_header h2 = in;
        h2.nshards = 0x80000000u;
        pf_snap_header_encode(c, &h2);
        assert_int_equal(pf_snap_header_decode(c, sizeof(c), &out), PF_OK);
        h2.nshards = 0x80000001u;
        pf_snap_header_encode(c, &h2);
        assert_int_equal(pf_snap_header_decode(c, sizeof(c), &out), PF_BAD);
    }
}

static void test_snap_trailer(void **state)
{
    (void)state;
    uint8_t t[PF_SNAP_TRAILER_LEN];
    uint64_t got = 0;
    pf_snap_trailer_encode(t, 0x0123456789abcdefull);
    assert_memory_equal(t, PF_SNAP_TRAILER_MAGIC, 8);
    assert_int_equal(pf_snap_trailer_decode(t, sizeof(t), &got), PF_OK);
    assert_true(got == 0x0123456789abcdefull);
    for (size_t cut = 0; cut < sizeof(t); cut++) {
        uint8_t *h = malloc(cut ? cut : 1);
        memcpy(h, t, cut);
        assert_int_equal(pf_snap_trailer_decode(h, cut, &got), PF_MORE);
        free(h);
    }
    for (size_t bit = 0; bit < 64; bit++) {
        uint8_t c[PF_SNAP_TRAILER_LEN];
        memcpy(c, t, sizeof(c));
        c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(pf_snap_trailer_decode(c, sizeof(c), &got), PF_BAD);
    }
    /* the check value itself is opaque to the decoder */
    for (size_t bit = 64; bit < 128; bit++) {
        uint8_t c[PF_SNAP_TRAILER_LEN];
        memcpy(c, t, sizeof(c));
        c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(pf_snap_trailer_decode(c, sizeof(c), &got), PF_OK);
        assert_true(got == (0x0123456789abcdefull ^ (1ull << (bit - 64))));
    }
    assert_true(pf_check64("abc", 3) == XXH3_64bits("abc", 3));
    assert_true(pf_check32("abc", 3) == (uint32_t)XXH3_64bits("abc", 3));
}

/* --- snapshot body items ---------------------------------------------- */

static void test_item_roundtrip(void **state)
{
    (void)state;
    uint8_t b[4096];
    pf_item it;
    size_t used;
    uint8_t tags[] = {PF_ITEM_SHARD_BEGIN, PF_ITEM_SHARD_END, PF_ITEM_END};
    for (size_t t = 0; t < 3; t++) {
        uint32_t shards[] = {0, 1, 0xffffffffu};
        uint64_t nums[] = {0, 12345, UINT64_MAX};
        for (int i = 0; i < 3; i++) {
            memset(b, 0xA5, sizeof(b));
            size_t n = pf_item_shard_encode(b, tags[t], shards[i], nums[i]);
            assert_int_equal(n, PF_ITEM_SHARD_LEN);
            assert_int_equal(b[n], 0xA5);
            memset(&it, 0x5A, sizeof(it));
            assert_int_equal(item_decode_copy(b, n, &it, &used), PF_OK);
            assert_int_equal(used, PF_ITEM_SHARD_LEN);
            assert_int_equal(it.tag, tags[t]);
            assert_int_equal(it.shard, shards[i]);
            assert_true(it.num == nums[i]);
            assert_int_equal(it.klen, 0);
            assert_int_equal(it.vlen, 0);
            for (size_t cut = 0; cut < n; cut++) {
                used = 777;
                assert_int_equal(item_decode_copy(b, cut, &it, &used), PF_MORE);
                assert_int_equal(used, 777);
            }
        }
    }
    uint8_t k[300], v[900];
    for (size_t i = 0; i < sizeof(k); i++)
        k[i] = (uint8_t)rnd();
    for (size_t i = 0; i < sizeof(v); i++)
        v[i] = (uint8_t)rnd();
    struct {
        uint32_t kl, vl;
        int64_t exp;
    } cases[] = {{0, 0, 0}, {1, 0, 1}, {0, 1, 0}, {300, 900, INT64_MAX},
                 {17, 33, 1700000000000}};
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        memset(b, 0xA5, sizeof(b));
        size_t n = pf_item_entry_encode(b, 0, cases[c].exp, k, cases[c].kl, v,
                                        cases[c].vl);
        assert_int_equal(n, pf_entry_size(cases[c].kl, cases[c].vl));
        assert_int_equal(n, PF_ITEM_ENTRY_FIXED + cases[c].kl + cases[c].vl);
        assert_int_equal(b[n], 0xA5);
        assert_int_equal(pf_item_decode(b, n + 5, &it, &used), PF_OK);
        assert_int_equal(used, n);
        assert_int_equal(it.tag, PF_ITEM_ENTRY);
        assert_int_equal(it.vtype, 0);
        assert_true(it.expire_unix_ms == cases[c].exp);
        assert_int_equal(it.klen, cases[c].kl);
        assert_int_equal(it.vlen, cases[c].vl);
        assert_ptr_equal(it.key, b + PF_ITEM_ENTRY_FIXED);
        assert_ptr_equal(it.value, b + PF_ITEM_ENTRY_FIXED + cases[c].kl);
        if (cases[c].kl)
            assert_memory_equal(it.key, k, cases[c].kl);
        if (cases[c].vl)
            assert_memory_equal(it.value, v, cases[c].vl);
        assert_int_equal(item_decode_copy(b, n, &it, &used), PF_OK);
        for (size_t cut = 0; cut < n; cut++) {
            used = 777;
            assert_int_equal(item_decode_copy(b, cut, &it, &used), PF_MORE);
            assert_int_equal(used, 777);
        }
    }
}

static void test_item_bad(void **state)
{
    (void)state;
    uint8_t b[64];
    pf_item it;
    size_t used;
    /* unknown tags, whatever follows */
    for (unsigned t = 0; t < 256; t++) {
        memset(b, 0, sizeof(b));
        b[0] = (uint8_t)t;
        int st = item_decode_copy(b, sizeof(b), &it, &used);
        if (t == PF_ITEM_TYPED) /* vtype 0 is refused for a typed item */
            assert_int_equal(st, PF_BAD);
        else if (t == PF_ITEM_SHARD_BEGIN || t == PF_ITEM_SHARD_END ||
                 t == PF_ITEM_END || t == PF_ITEM_ENTRY)
            assert_int_equal(st, PF_OK);
        else
            assert_int_equal(st, PF_BAD);
        /* an unknown tag is bad even with nothing after it */
        st = item_decode_copy(b, 1, &it, &used);
        if (t == PF_ITEM_SHARD_BEGIN || t == PF_ITEM_SHARD_END ||
            t == PF_ITEM_END || t == PF_ITEM_ENTRY || t == PF_ITEM_TYPED)
            assert_int_equal(st, PF_MORE);
        else
            assert_int_equal(st, PF_BAD);
    }
    /* entry: vtype other than string */
    for (unsigned vt = 1; vt < 256; vt++) {
        size_t n = pf_item_entry_encode(b, (uint8_t)vt, 0, "k", 1, "v", 1);
        assert_int_equal(item_decode_copy(b, n, &it, &used), PF_BAD);
    }
    /* negative expiry */
    size_t n = pf_item_entry_encode(b, 0, -5, "k", 1, "v", 1);
    assert_int_equal(item_decode_copy(b, n, &it, &used), PF_BAD);
    /* lengths over the limits: PF_BAD from the fixed part alone (nothing
     * would be waited for, let alone allocated) */
    struct {
        uint64_t kl, vl;
        int want;
    } lim[] = {{PF_MAX_KEY + 1, 0, PF_BAD},
               {0, PF_MAX_VALUE + 1, PF_BAD},
               {UINT32_MAX, UINT32_MAX, PF_BAD},
               {PF_MAX_KEY, PF_MAX_VALUE, PF_MORE},
               {PF_MAX_KEY, 0, PF_MORE}};
    for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
        uint8_t f[PF_ITEM_ENTRY_FIXED] = {0};
        f[0] = PF_ITEM_ENTRY;
        put32le(f + 10, (uint32_t)lim[i].kl);
        put32le(f + 14, (uint32_t)lim[i].vl);
        assert_int_equal(item_decode_copy(f, sizeof(f), &it, &used),
                         lim[i].want);
    }
}

/* A whole body stream, raw: items decode in order and exactly cover it. */
static void test_item_stream(void **state)
{
    (void)state;
    uint8_t b[8192];
    size_t off = 0;
    off += pf_item_shard_encode(b + off, PF_ITEM_SHARD_BEGIN, 0, 100);
    for (int i = 0; i < 20; i++) {
        char k[16];
        int kl = snprintf(k, sizeof(k), "key%d", i);
        off += pf_item_entry_encode(b + off, 0, i % 3 ? 0 : 1700000000000 + i,
                                    k, (uint32_t)kl, "value", 5);
    }
    off += pf_item_shard_encode(b + off, PF_ITEM_SHARD_END, 0, 20);
    off += pf_item_shard_encode(b + off, PF_ITEM_END, 1, 20);
    size_t at = 0;
    int entries = 0, ends = 0;
    while (at < off) {
        pf_item it;
        size_t used;
        assert_int_equal(pf_item_decode(b + at, off - at, &it, &used), PF_OK);
        if (it.tag == PF_ITEM_ENTRY)
            entries++;
        if (it.tag == PF_ITEM_END) {
            ends++;
            assert_true(it.num == 20);
            assert_int_equal(it.shard, 1);
        }
        at += used;
    }
    assert_int_equal(at, off);
    assert_int_equal(entries, 20);
    assert_int_equal(ends, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rec_roundtrip),
        cmocka_unit_test(test_rec_vtype_rules),
        cmocka_unit_test(test_item_typed),
        cmocka_unit_test(test_rec_stream),
        cmocka_unit_test(test_rec_truncated),
        cmocka_unit_test(test_rec_bitflip),
        cmocka_unit_test(test_rec_structure),
        cmocka_unit_test(test_rec_key_value_limits),
        cmocka_unit_test(test_seg_header),
        cmocka_unit_test(test_snap_header),
        cmocka_unit_test(test_snap_trailer),
        cmocka_unit_test(test_item_roundtrip),
        cmocka_unit_test(test_item_bad),
        cmocka_unit_test(test_item_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
