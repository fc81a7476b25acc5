/* backend_cuda.c — the CUDA copy backend of transfers. Built only with
 * -DFC_CUDA=ON when CMake finds the CUDA toolkit (it is not in
 * FC_LIB_SOURCES's glob); the default build never sees this file.
 *
 * Streams: transfer_stream_count streams on device_ordinal. With
 * layer_streaming a chunk goes to stream (layer % count), so one layer's
 * chunks land in order; otherwise streams take chunks in turn.
 * Staging: the source is a value valid only while its shard is held, so a
 * copy must have read it before copy() returns. cudaMemcpyAsync from
 * pageable memory does (it returns once the bytes are in the driver's
 * staging area): that is the direct path. Chunks of at least
 * pinned_staging_threshold_bytes (every chunk when prefer_direct_host_dma
 * is off) are first memcpy'd into this backend's pinned buffer
 * (pinned_host_bytes, one slice per stream) and copied from there
 * asynchronously; a slice is reused only after its stream is synchronised.
 * A chunk larger than a slice takes the direct path.
 *
 * UNTESTED: written on a machine without the CUDA toolkit or a GPU. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime_api.h>

#include "lib/backend.h"

struct cuda_backend {
    fc_backend base;
    int device;
    int layer_streaming;
    int stage_all;
    uint64_t threshold;
    uint32_t nstreams;
    uint32_t next;
    cudaStream_t *streams;
    uint8_t *pinned; /* nstreams slices of `slice` bytes, or NULL */
    size_t slice;
    size_t *used; /* bytes of each slice in flight since its last sync */
};

static int cu_ok(cudaError_t e)
{
    return e == cudaSuccess ? FC_OK : FC_EIO;
}

static int cuda_copy(fc_backend *base, void *dst, uint64_t off, const void *src,
                     size_t n, uint32_t layer)
{
    struct cuda_backend *b = (struct cuda_backend *)base;
    if (!n)
        return FC_OK;
    if (cudaSetDevice(b->device) != cudaSuccess)
        return FC_EIO;
    uint32_t k =
        b->layer_streaming ? layer % b->nstreams : b->next++ % b->nstreams;
    cudaStream_t st = b->streams[k];
    uint8_t *to = (uint8_t *)dst + off;
    bool stage = b->pinned && n <= b->slice &&
                 (b->stage_all || (uint64_t)n >= b->threshold);
    if (!stage)
        return cu_ok(cudaMemcpyAsync(to, src, n, cudaMemcpyDefault, st));
    if (b->used[k] + n > b->slice) {
        if (cudaStreamSynchronize(st) != cudaSuccess)
            return FC_EIO;
        b->used[k] = 0;
    }
    uint8_t *stg = b->pinned + (size_t)k * b->slice + b->used[k];
    memcpy(stg, src, n);
    b->used[k] += n;
    return cu_ok(cudaMemcpyAsync(to, stg, n, cudaMemcpyDefault, st));
}

static int cuda_finish(fc_backend *base)
{
    struct cuda_backend *b = (struct cuda_backend *)base;
    int rc = cu_ok(cudaSetDevice(b->device));
    for (uint32_t k = 0; k < b->nstreams; k++) {
        if (cudaStreamSynchronize(b->streams[k]) != cudaSuccess)
            rc = FC_EIO;
        b->used[k] = 0;
    }
    return rc;
}

static void cuda_close(fc_backend *base)
{
    struct cuda_backend *b = (struct cuda_backend *)base;
    if (cudaSetDevice(b->device) == cudaSuccess) {
        for (uint32_t k = 0; b->streams && k < b->nstreams; k++)
            if (b->streams[k])
                cudaStreamDestroy(b->streams[k]);
        if (b->pinned)
            cudaFreeHost(b->pinned);
    }
    free(b->streams);
    free(b->used);
    free(b);
}

int lib_backend_cuda_open(fc_backend **out, const fc_cuda_options *o)
{
    struct cuda_backend *b = calloc(1, sizeof(*b));
    if (!b)
        return FC_ENOMEM;
    b->base = (fc_backend){"cuda", cuda_copy, cuda_finish, cuda_close};
    b->device = (int)o->device_ordinal;
    b->layer_streaming = o->layer_streaming;
    b->stage_all = !o->prefer_direct_host_dma;
    b->threshold = o->pinned_staging_threshold_bytes;
    b->nstreams = o->transfer_stream_count;
    b->streams = calloc(b->nstreams, sizeof(*b->streams));
    b->used = calloc(b->nstreams, sizeof(*b->used));
    if (!b->streams || !b->used) {
        cuda_close(&b->base);
        return FC_ENOMEM;
    }
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || b->device >= count ||
        cudaSetDevice(b->device) != cudaSuccess) {
        cuda_close(&b->base);
        return FC_EIO;
    }
    for (uint32_t k = 0; k < b->nstreams; k++)
        if (cudaStreamCreateWithFlags(&b->streams[k], cudaStreamNonBlocking) !=
            cudaSuccess) {
            cuda_close(&b->base);
            return FC_EIO;
        }
    b->slice = (size_t)(o->pinned_host_bytes / b->nstreams);
    if (b->slice && cudaHostAlloc((void **)&b->pinned, b->slice * b->nstreams,
                                  cudaHostAllocDefault) != cudaSuccess) {
        cuda_close(&b->base);
        return FC_EIO;
    }
    *out = &b->base;
    return FC_OK;
}
