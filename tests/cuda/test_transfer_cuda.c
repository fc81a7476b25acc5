/* test_transfer_cuda.c — the CUDA transfer backend on a real device
 * (built only with -DFC_CUDA=ON and the CUDA toolkit; every test skips
 * when no device is visible). Chunks below and above
 * pinned_staging_threshold_bytes (direct and staged copies), staging slices
 * reused within one transfer (forcing a stream sync), layer streaming on
 * and off, staging everything (prefer_direct_host_dma off), and a bad
 * device ordinal. The destination is device memory, read back with
 * cudaMemcpy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cuda_runtime_api.h>

#include "fastcache.h"

#define MIB ((size_t)1 << 20)

static void need_device(void)
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0)
        skip();
}

struct chunk_spec {
    const char *key;
    size_t len; /* stored length; 0 with absent = a miss */
    int absent;
    uint64_t expect;
};

/* Stores the chunks, runs one transfer into device memory laid out back
 * to back, and checks every byte and status. */
static void run_case(const fc_cuda_options *o, const struct chunk_spec *c,
                     size_t n)
{
    fc_store *s;
    assert_int_equal(fc_store_open(&s, NULL), FC_OK);
    fc_chunk_desc *d = calloc(n, sizeof(*d));
    int *st = calloc(n, sizeof(*st));
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        d[i] = (fc_chunk_desc){{c[i].key, strlen(c[i].key)},
                               (uint32_t)(i % 3),
                               total,
                               c[i].expect};
        total += c[i].len;
    }
    uint8_t *want = malloc(total + 1), *got = malloc(total + 1);
    memset(want, 0xAB, total);
    for (size_t i = 0; i < n; i++) {
        if (c[i].absent)
            continue;
        uint8_t *v = malloc(c[i].len + 1);
        for (size_t b = 0; b < c[i].len; b++)
            v[b] = (uint8_t)(i * 31 + b * 7);
        assert_int_equal(
            fc_set(s, c[i].key, strlen(c[i].key), v, c[i].len, FC_TTL_NONE, 0),
            FC_OK);
        if (c[i].expect == FC_LEN_ANY || c[i].expect == c[i].len)
            memcpy(want + d[i].dst_offset, v, c[i].len);
        free(v);
    }
    void *dev = NULL;
    assert_int_equal(cudaMalloc(&dev, total ? total : 1), cudaSuccess);
    assert_int_equal(cudaMemset(dev, 0xAB, total), cudaSuccess);
    fc_backend *b;
    assert_int_equal(fc_backend_cuda(&b, o), FC_OK);
    assert_string_equal(fc_backend_name(b), "cuda");
    fc_transfer_req t = {{"s:1", 3}, d, n};
    fc_transfer_stats ts;
    assert_int_equal(fc_transfer(s, &t, b, dev, total, st, &ts), FC_OK);
    assert_int_equal(cudaMemcpy(got, dev, total, cudaMemcpyDeviceToHost),
                     cudaSuccess);
    assert_memory_equal(got, want, total);
    uint64_t bytes = 0, hits = 0;
    for (size_t i = 0; i < n; i++) {
        int e = c[i].absent ? FC_CHUNK_MISS
                : (c[i].expect != FC_LEN_ANY && c[i].expect != c[i].len)
                    ? FC_CHUNK_WRONG_LEN
                    : FC_CHUNK_HIT;
        assert_int_equal(st[i], e);
        if (e == FC_CHUNK_HIT) {
            hits++;
            bytes += c[i].len;
        }
    }
    assert_int_equal(ts.hit, hits);
    assert_int_equal(ts.bytes, bytes);
    fc_backend_close(b);
    cudaFree(dev);
    free(want);
    free(got);
    free(d);
    free(st);
    fc_store_close(s);
}

static const struct chunk_spec mixed[] = {
    {"s:1:c:0", 100, 0, 100},
    {"s:1:c:1", 3 * MIB, 0, FC_LEN_ANY}, /* >= 2 MiB: staged */
    {"s:1:c:2", 0, 0, 0},                /* empty */
    {"s:1:c:3", 64, 1, 64},              /* miss */
    {"s:1:c:4", 3 * MIB + 5, 0, FC_LEN_ANY},
    {"s:1:c:5", 3 * MIB, 0, FC_LEN_ANY}, /* same stream's slice again */
    {"s:1:c:6", 500, 0, 499},            /* wrong length */
    {"s:1:c:7", 2 * MIB, 0, 2 * MIB},    /* exactly the threshold */
};
#define NMIXED (sizeof(mixed) / sizeof(mixed[0]))

static void test_default_options(void **state)
{
    (void)state;
    need_device();
    fc_cuda_options o;
    fc_cuda_options_default(&o);
    o.enabled = 1;
    run_case(&o, mixed, NMIXED);
}

static void test_small_staging(void **state)
{
    (void)state;
    need_device();
    fc_cuda_options o;
    fc_cuda_options_default(&o);
    o.enabled = 1;
    o.transfer_stream_count = 2;
    o.pinned_host_bytes = 8 * MIB; /* 4 MiB slices: reuse forces syncs */
    run_case(&o, mixed, NMIXED);
    o.layer_streaming = 0;
    run_case(&o, mixed, NMIXED);
    o.prefer_direct_host_dma = 0; /* stage every chunk that fits */
    run_case(&o, mixed, NMIXED);
    o.pinned_host_bytes = 1 * MIB; /* big chunks do not fit: direct */
    run_case(&o, mixed, NMIXED);
}

static void test_no_pinned(void **state)
{
    (void)state;
    need_device();
    fc_cuda_options o;
    fc_cuda_options_default(&o);
    o.enabled = 1;
    o.pinned_host_bytes = 0; /* allowed with direct host DMA */
    o.transfer_stream_count = 1;
    run_case(&o, mixed, NMIXED);
}

static void test_bad_ordinal(void **state)
{
    (void)state;
    need_device();
    fc_cuda_options o;
    fc_cuda_options_default(&o);
    o.enabled = 1;
    o.device_ordinal = 4096;
    fc_backend *b;
    assert_int_equal(fc_backend_cuda(&b, &o), FC_EIO);
    assert_null(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_options),
        cmocka_unit_test(test_small_staging),
        cmocka_unit_test(test_no_pinned),
        cmocka_unit_test(test_bad_ordinal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
