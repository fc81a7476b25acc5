/* test_transfer.c — session transfers with the host backend (issue 12):
 * hits, misses and wrong expected lengths, destination offsets, totals,
 * out-of-range descriptors, the worker-local form; and the [cuda] options'
 * defaults and validation errors (spec storage.md §5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fastcache.h"

#define K(s) (s), strlen(s)

static fc_chunk_desc chunk(const char *key, uint32_t layer, uint64_t off,
                           uint64_t expect)
{
    return (fc_chunk_desc){{key, strlen(key)}, layer, off, expect};
}

static void test_transfer_shared(void **state)
{
    (void)state;
    fc_store *s;
    fc_options o = {.route_mode = FC_ROUTE_SESSION_PREFIX};
    assert_int_equal(fc_store_open(&s, &o), FC_OK);
    assert_int_equal(fc_set(s, K("s:42:c:0"), K("AAAA"), FC_TTL_NONE, 0),
                     FC_OK);
    assert_int_equal(fc_set(s, K("s:42:c:1"), K("BBBBBB"), FC_TTL_NONE, 0),
                     FC_OK);
    assert_int_equal(fc_set(s, K("s:42:c:2"), K("CC"), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_set(s, K("s:42:c:4"), K(""), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_set(s, K("s:42:c:5"), K("EEE"), FC_TTL_NONE, 0), FC_OK);

    fc_chunk_desc d[7] = {
        chunk("s:42:c:1", 1, 10, 6),          /* hit, out of order */
        chunk("s:42:c:0", 0, 2, 4),           /* hit */
        chunk("s:42:c:3", 3, 30, 8),          /* miss */
        chunk("s:42:c:2", 2, 20, 5),          /* wrong length (2) */
        chunk("s:42:c:4", 4, 0, FC_LEN_ANY),  /* hit, empty */
        chunk("s:42:c:5", 5, 38, FC_LEN_ANY), /* 38 + 3 > 40: out of range */
        chunk("s:42:c:2", 2, 24, 2),          /* hit, the same key again */
    };
    fc_transfer_req t = {{"s:42", 4}, d, 7};
    uint8_t dst[40];
    memset(dst, '.', sizeof(dst));
    int st[7];
    fc_transfer_stats ts;
    fc_backend *b;
    assert_int_equal(fc_backend_host(&b), FC_OK);
    assert_string_equal(fc_backend_name(b), "host");
    assert_int_equal(fc_transfer(s, &t, b, dst, sizeof(dst), st, &ts), FC_OK);
    assert_int_equal(st[0], FC_CHUNK_HIT);
    assert_int_equal(st[1], FC_CHUNK_HIT);
    assert_int_equal(st[2], FC_CHUNK_MISS);
    assert_int_equal(st[3], FC_CHUNK_WRONG_LEN);
    assert_int_equal(st[4], FC_CHUNK_HIT);
    assert_int_equal(st[5], FC_CHUNK_OUT_OF_RANGE);
    assert_int_equal(st[6], FC_CHUNK_HIT);
    assert_int_equal(ts.requested, 7);
    assert_int_equal(ts.hit, 4);
    assert_int_equal(ts.missed, 1);
    assert_int_equal(ts.wrong_len, 1);
    assert_int_equal(ts.failed, 1);
    assert_int_equal(ts.bytes, 4 + 6 + 0 + 2);
    /* Every hit at its offset, nothing else written. */
    assert_memory_equal(dst, "..AAAA....BBBBBB........CC..............", 40);

    uint64_t total;
    assert_int_equal(fc_transfer_expected_bytes(&t, &total), FC_ENOTFOUND);
    fc_transfer_req t2 = {{"s:42", 4}, d, 4};
    assert_int_equal(fc_transfer_expected_bytes(&t2, &total), FC_OK);
    assert_int_equal(total, 6 + 4 + 8 + 5);
    fc_chunk_desc huge[2] = {chunk("a", 0, 0, UINT64_MAX - 1),
                             chunk("b", 0, 0, 5)};
    fc_transfer_req t3 = {{NULL, 0}, huge, 2};
    assert_int_equal(fc_transfer_expected_bytes(&t3, &total), FC_OK);
    assert_true(total == UINT64_MAX); /* saturates */

    /* Bad arguments; NULL status and stats are fine. */
    assert_int_equal(fc_transfer(s, &t, b, dst, sizeof(dst), NULL, NULL),
                     FC_OK);
    assert_int_equal(fc_transfer(s, &t, NULL, dst, 40, NULL, &ts), FC_EINVAL);
    assert_int_equal(ts.requested, 0);
    assert_int_equal(fc_transfer(s, &t, b, NULL, 40, NULL, NULL), FC_EINVAL);
    assert_int_equal(fc_transfer(NULL, &t, b, dst, 40, NULL, &ts), FC_EINVAL);
    fc_transfer_req bad = {{NULL, 3}, d, 1};
    assert_int_equal(fc_transfer(s, &bad, b, dst, 40, NULL, NULL), FC_EINVAL);
    fc_transfer_req empty = {{"s:1", 3}, NULL, 0};
    assert_int_equal(fc_transfer(s, &empty, b, NULL, 0, NULL, &ts), FC_OK);
    assert_int_equal(ts.requested, 0);
    fc_backend_close(b);
    fc_store_close(s);
}

/* A long request (several internal slices), all hits, laid out back to
 * back: the destination is the concatenation. */
static void test_transfer_many(void **state)
{
    (void)state;
    enum { N = 700, VL = 24 };
    fc_store *s;
    assert_int_equal(fc_store_open(&s, NULL), FC_OK);
    static char keys[N][32];
    static fc_chunk_desc d[N];
    static uint8_t want[N * VL], dst[N * VL];
    static int st[N];
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "s:big:c:%d", i);
        for (int b = 0; b < VL; b++)
            want[i * VL + b] = (uint8_t)(i * 7 + b);
        assert_int_equal(
            fc_set(s, K(keys[i]), want + i * VL, VL, FC_TTL_NONE, 0), FC_OK);
        d[i] = chunk(keys[i], (uint32_t)i, (uint64_t)i * VL, VL);
    }
    fc_transfer_req t = {{"s:big", 5}, d, N};
    fc_backend *b;
    fc_backend_host(&b);
    fc_transfer_stats ts;
    assert_int_equal(fc_transfer(s, &t, b, dst, sizeof(dst), st, &ts), FC_OK);
    assert_int_equal(ts.hit, N);
    assert_int_equal(ts.bytes, N * VL);
    assert_memory_equal(dst, want, sizeof(want));
    fc_backend_close(b);
    fc_store_close(s);
}

static void test_transfer_local(void **state)
{
    (void)state;
    fc_workers *w;
    fc_options o = {.shards = 8, .route_mode = FC_ROUTE_SESSION_PREFIX};
    assert_int_equal(fc_workers_open(&w, &o, 2), FC_OK);
    unsigned owner = fc_workers_owner(w, fc_workers_hash(w, K("s:9:c:0")));
    fc_local *l = fc_workers_local(w, owner);
    fc_local *other = fc_workers_local(w, 1 - owner);
    assert_int_equal(
        fc_local_set(l, K("s:9:c:0"), K("xy"), FC_TTL_NONE, 0, NULL), FC_OK);
    fc_chunk_desc d[2] = {chunk("s:9:c:0", 0, 1, 2), chunk("s:9:c:1", 1, 3, 2)};
    fc_transfer_req t = {{"s:9", 3}, d, 2};
    fc_backend *b;
    fc_backend_host(&b);
    uint8_t dst[6] = "......";
    int st[2];
    fc_transfer_stats ts;
    assert_int_equal(fc_local_transfer(l, &t, b, dst, 6, st, &ts), FC_OK);
    assert_memory_equal(dst, ".xy...", 6);
    assert_int_equal(st[0], FC_CHUNK_HIT);
    assert_int_equal(st[1], FC_CHUNK_MISS);
    assert_int_equal(ts.hit, 1);
    assert_int_equal(ts.missed, 1);
    /* On the other worker the whole session is foreign: rejected. */
    assert_int_equal(fc_local_transfer(other, &t, b, dst, 6, st, &ts), FC_OK);
    assert_int_equal(st[0], FC_CHUNK_REJECTED);
    assert_int_equal(st[1], FC_CHUNK_REJECTED);
    assert_int_equal(ts.failed, 2);
    assert_int_equal(ts.hit, 0);
    assert_int_equal(fc_local_transfer(NULL, &t, b, dst, 6, st, &ts),
                     FC_EINVAL);
    fc_workers_close(w);
}

static void expect_invalid(const fc_cuda_options *o, const char *msg)
{
    char err[128];
    assert_int_equal(fc_cuda_options_validate(o, err, sizeof(err)), FC_EINVAL);
    assert_string_equal(err, msg);
    fc_backend *b = (fc_backend *)1;
    assert_int_equal(fc_backend_cuda(&b, o), FC_EINVAL);
    assert_null(b);
}

static void test_cuda_options(void **state)
{
    (void)state;
    fc_cuda_options o;
    fc_cuda_options_default(&o);
    assert_int_equal(o.enabled, 0);
    assert_int_equal(o.device_ordinal, 0);
    assert_true(o.hot_tier_bytes == 10737418240ull);
    assert_true(o.pinned_host_bytes == 536870912ull);
    assert_int_equal(o.transfer_stream_count, 4);
    assert_int_equal(o.layer_streaming, 1);
    assert_int_equal(o.prefer_direct_host_dma, 1);
    assert_true(o.pinned_staging_threshold_bytes == 2097152ull);
    assert_int_equal(o.allow_cpu_fallback, 1);
    char err[128] = "x";
    assert_int_equal(fc_cuda_options_validate(&o, err, sizeof(err)), FC_OK);
    assert_string_equal(err, "");

    /* Disabled: nothing is checked. */
    o.hot_tier_bytes = 0;
    o.transfer_stream_count = 0;
    assert_int_equal(fc_cuda_options_validate(&o, NULL, 0), FC_OK);

    fc_cuda_options_default(&o);
    o.enabled = 1;
    assert_int_equal(fc_cuda_options_validate(&o, err, sizeof(err)), FC_OK);
    o.hot_tier_bytes = 0;
    expect_invalid(&o, "cuda.hot_tier_bytes must be > 0 when cuda is enabled");
    fc_cuda_options_default(&o);
    o.enabled = 1;
    o.transfer_stream_count = 0;
    expect_invalid(&o, "cuda.transfer_stream_count must be > 0 when cuda is "
                       "enabled");
    fc_cuda_options_default(&o);
    o.enabled = 1;
    o.pinned_host_bytes = 0; /* fine with direct host DMA... */
    assert_int_equal(fc_cuda_options_validate(&o, err, sizeof(err)), FC_OK);
    o.prefer_direct_host_dma = 0; /* ...not without */
    expect_invalid(&o,
                   "cuda.pinned_host_bytes must be > 0 when direct host dma "
                   "is disabled");
    /* A short error buffer is cut, never overrun. */
    char tiny[6];
    assert_int_equal(fc_cuda_options_validate(&o, tiny, sizeof(tiny)),
                     FC_EINVAL);
    assert_string_equal(tiny, "cuda.");
    assert_int_equal(fc_cuda_options_validate(NULL, NULL, 0), FC_EINVAL);

    /* A disabled config opens no CUDA backend; an enabled one needs a
     * build with FC_CUDA (FC_ENOTSUP otherwise) and a device. */
    fc_cuda_options_default(&o);
    fc_backend *b;
    assert_int_equal(fc_backend_cuda(&b, &o), FC_EINVAL);
    o.enabled = 1;
    int rc = fc_backend_cuda(&b, &o);
    assert_true(rc == FC_ENOTSUP || rc == FC_EIO || rc == FC_OK);
    if (rc == FC_OK) {
        assert_string_equal(fc_backend_name(b), "cuda");
        fc_backend_close(b);
    }
    assert_string_equal(fc_strerror(FC_ENOTSUP), "not supported by this build");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transfer_shared),
        cmocka_unit_test(test_transfer_many),
        cmocka_unit_test(test_transfer_local),
        cmocka_unit_test(test_cuda_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
