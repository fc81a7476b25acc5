/*
 * backend.h — the copy backends of transfers (transfer.c): host memcpy
 * (always) and CUDA (cuda/backend_cuda.c, only with -DFC_CUDA=ON). Private
 * to src/lib.
 *
 * Owns: nothing beyond a backend's own state (streams, pinned staging).
 * Threads: one thread at a time per backend (the caller's promise).
 * Contract: copy() may be called with a source that is valid only during
 *   the call (a value under its shard lock): a backend that copies later
 *   must stage the bytes first. finish() returns once every copy issued
 *   since the last finish() has landed; a transfer calls it before it
 *   returns.
 */
#ifndef FC_LIB_BACKEND_H
#define FC_LIB_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "fastcache.h"

struct fc_backend {
    const char *name;
    /* Copies n bytes from src to dst + off. FC_OK or FC_EIO. */
    int (*copy)(fc_backend *b, void *dst, uint64_t off, const void *src,
                size_t n, uint32_t layer);
    int (*finish)(fc_backend *b); /* FC_OK or FC_EIO */
    void (*close)(fc_backend *b);
};

/* The CUDA backend (backend_cuda.c); options already validated and
 * enabled. FC_OK, FC_ENOMEM or FC_EIO. */
int lib_backend_cuda_open(fc_backend **out, const fc_cuda_options *o);

#endif /* FC_LIB_BACKEND_H */
