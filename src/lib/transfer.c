/* transfer.c — session transfers (fc_transfer, fc_local_transfer), the
 * [cuda] options and the host backend.
 *
 * A transfer is a batch read whose hits go to the destination at their
 * descriptors' offsets instead of to a callback's caller: it rides on
 * fc_mget / fc_local_mget, so lookups are grouped by shard (one lock per
 * shard run: one for a session in session_prefix mode) and each value is
 * handed to the backend while its shard is held, which is when the bytes
 * are valid. Checks before a copy: the value's length against the
 * descriptor's expected_len (WRONG_LEN, not copied) and against the
 * destination's size (OUT_OF_RANGE, never written past dst_len). */
#include <stdio.h>
#include <stdlib.h>

#include "lib/backend.h"
#include "lib/lib.h"

/* --- [cuda] options (spec storage.md §5) ----------------------------- */

void fc_cuda_options_default(fc_cuda_options *o)
{
    if (!o)
        return;
    *o = (fc_cuda_options){
        .enabled = 0,
        .device_ordinal = 0,
        .hot_tier_bytes = 10737418240ull,
        .pinned_host_bytes = 536870912ull,
        .transfer_stream_count = 4,
        .layer_streaming = 1,
        .prefer_direct_host_dma = 1,
        .pinned_staging_threshold_bytes = 2097152ull,
        .allow_cpu_fallback = 1,
    };
}

static int cuda_fail(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return FC_EINVAL;
}

int fc_cuda_options_validate(const fc_cuda_options *o, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!o)
        return cuda_fail(err, errlen, "cuda options missing");
    if (!o->enabled)
        return FC_OK;
    if (o->hot_tier_bytes == 0)
        return cuda_fail(err, errlen,
                         "cuda.hot_tier_bytes must be > 0 when cuda is "
                         "enabled");
    if (o->transfer_stream_count == 0)
        return cuda_fail(err, errlen,
                         "cuda.transfer_stream_count must be > 0 when cuda "
                         "is enabled");
    if (o->pinned_host_bytes == 0 && !o->prefer_direct_host_dma)
        return cuda_fail(err, errlen,
                         "cuda.pinned_host_bytes must be > 0 when direct "
                         "host dma is disabled");
    return FC_OK;
}

/* --- backends ------------------------------------------------------- */

static int host_copy(fc_backend *b, void *dst, uint64_t off, const void *src,
                     size_t n, uint32_t layer)
{
    (void)b;
    (void)layer;
    if (n)
        memcpy((uint8_t *)dst + off, src, n);
    return FC_OK;
}

static int host_finish(fc_backend *b)
{
    (void)b;
    return FC_OK;
}

static void host_close(fc_backend *b)
{
    (void)b; /* static: nothing to free */
}

static fc_backend host_backend = {"host", host_copy, host_finish, host_close};

int fc_backend_host(fc_backend **out)
{
    if (!out)
        return FC_EINVAL;
    *out = &host_backend; /* stateless: one for everybody */
    return FC_OK;
}

int fc_backend_cuda(fc_backend **out, const fc_cuda_options *o)
{
    if (!out)
        return FC_EINVAL;
    *out = NULL;
    if (fc_cuda_options_validate(o, NULL, 0) != FC_OK || !o->enabled)
        return FC_EINVAL;
#ifdef FC_HAVE_CUDA
    return lib_backend_cuda_open(out, o);
#else
    return FC_ENOTSUP;
#endif
}

const char *fc_backend_name(const fc_backend *b)
{
    return b ? b->name : "none";
}

void fc_backend_close(fc_backend *b)
{
    if (b)
        b->close(b);
}

/* --- transfers ------------------------------------------------------ */

int fc_transfer_expected_bytes(const fc_transfer_req *t, uint64_t *total)
{
    if (!t || !total || (!t->chunks && t->n))
        return FC_EINVAL;
    uint64_t sum = 0;
    for (size_t i = 0; i < t->n; i++) {
        uint64_t e = t->chunks[i].expected_len;
        if (e == FC_LEN_ANY)
            return FC_ENOTFOUND;
        sum = __builtin_add_overflow(sum, e, &sum) ? UINT64_MAX : sum;
    }
    *total = sum;
    return FC_OK;
}

struct xfer_ctx {
    const fc_chunk_desc *chunks; /* of this slice of the request */
    fc_backend *b;
    void *dst;
    size_t dst_len;
    int *status; /* of this slice, may be NULL */
    fc_transfer_stats st;
    bool io_failed;
};

static int xfer_status(struct xfer_ctx *c, size_t i, int rc, const void *v,
                       size_t len)
{
    const fc_chunk_desc *d = &c->chunks[i];
    if (rc == FC_ENOTFOUND)
        return FC_CHUNK_MISS;
    if (rc != FC_OK)
        return FC_CHUNK_REJECTED;
    if (d->expected_len != FC_LEN_ANY && d->expected_len != len)
        return FC_CHUNK_WRONG_LEN;
    if (d->dst_offset > c->dst_len || len > c->dst_len - d->dst_offset)
        return FC_CHUNK_OUT_OF_RANGE;
    if (c->b->copy(c->b, c->dst, d->dst_offset, v, len, d->layer) != FC_OK) {
        c->io_failed = true;
        return FC_CHUNK_REJECTED;
    }
    c->st.bytes += len;
    return FC_CHUNK_HIT;
}

static void xfer_one(void *arg, size_t i, int rc, const void *v, size_t len)
{
    struct xfer_ctx *c = arg;
    int s = xfer_status(c, i, rc, v, len);
    if (c->status)
        c->status[i] = s;
    c->st.hit += s == FC_CHUNK_HIT;
    c->st.missed += s == FC_CHUNK_MISS;
    c->st.wrong_len += s == FC_CHUNK_WRONG_LEN;
    c->st.failed += s == FC_CHUNK_OUT_OF_RANGE || s == FC_CHUNK_REJECTED;
}

static int transfer(fc_store *s, fc_local *l, const fc_transfer_req *t,
                    fc_backend *b, void *dst, size_t dst_len, int *status,
                    fc_transfer_stats *stats)
{
    if (stats)
        memset(stats, 0, sizeof(*stats));
    if (!t || !b || (!t->chunks && t->n) || (!dst && dst_len) ||
        (!t->prefix.data && t->prefix.len))
        return FC_EINVAL;
    struct xfer_ctx c = {.b = b, .dst = dst, .dst_len = dst_len};
    fc_slice keys[LIB_BATCH];
    int rc = FC_OK;
    /* Slices of LIB_BATCH descriptors: the key arrays stay on the stack. */
    for (size_t base = 0; base < t->n && rc == FC_OK; base += LIB_BATCH) {
        size_t m = t->n - base < LIB_BATCH ? t->n - base : LIB_BATCH;
        for (size_t j = 0; j < m; j++)
            keys[j] = t->chunks[base + j].key;
        c.chunks = t->chunks + base;
        c.status = status ? status + base : NULL;
        rc = s ? fc_mget(s, keys, m, xfer_one, &c)
               : fc_local_mget(l, keys, m, xfer_one, &c);
    }
    if (b->finish(b) != FC_OK)
        c.io_failed = true;
    c.st.requested = t->n;
    if (stats)
        *stats = c.st;
    if (rc != FC_OK)
        return rc;
    return c.io_failed ? FC_EIO : FC_OK;
}

int fc_transfer(fc_store *s, const fc_transfer_req *t, fc_backend *b, void *dst,
                size_t dst_len, int *status, fc_transfer_stats *stats)
{
    if (!s) {
        if (stats)
            memset(stats, 0, sizeof(*stats));
        return FC_EINVAL;
    }
    return transfer(s, NULL, t, b, dst, dst_len, status, stats);
}

int fc_local_transfer(fc_local *l, const fc_transfer_req *t, fc_backend *b,
                      void *dst, size_t dst_len, int *status,
                      fc_transfer_stats *stats)
{
    if (!l) {
        if (stats)
            memset(stats, 0, sizeof(*stats));
        return FC_EINVAL;
    }
    return transfer(NULL, l, t, b, dst, dst_len, status, stats);
}
