/* packed.c — packed batch reads (fc_packed, fc_packed_view) and the
 * worker-local zero-copy batch (fc_local_mget_refs).
 *
 * Packing rides on the plain batch calls (fc_mget / fc_local_mget): their
 * callback appends each hit to the buffer, so a packed batch finds exactly
 * what the plain one does, with the same shard grouping (one lock per
 * shard run; in session_prefix mode a session's batch is one run) and the
 * same miss pipeline. The shared handle's callback runs under the shard
 * lock: a library-owned buffer may grow (realloc) there, at most log2 times
 * per buffer lifetime since it is reused across calls.
 *
 * Memory: fc_packed's arrays and (without a caller buffer) its data are
 * the library's, freed by fc_packed_free. A worker-local handle's view
 * memory is its scratch fc_packed (lib_local_scratch_free). */
#include <stdlib.h>

#include "lib/lib.h"

void fc_packed_init(fc_packed *p, void *buf, size_t cap)
{
    if (!p)
        return;
    memset(p, 0, sizeof(*p));
    if (buf) {
        p->data = buf;
        p->cap = cap;
        p->caller_data = 1;
    }
}

void fc_packed_free(fc_packed *p)
{
    if (!p)
        return;
    if (!p->caller_data)
        free(p->data);
    free(p->offset);
    free(p->length);
    memset(p, 0, sizeof(*p));
}

/* The state of one packing batch. */
struct pack_ctx {
    fc_packed *p;
    int first; /* lowest-index rejection (not a miss), FC_OK if none */
    size_t first_i;
    bool oom; /* the library's buffer could not grow */
};

/* Makes room for the item arrays of an n-item batch. */
static int pack_begin(fc_packed *p, size_t n)
{
    if (n > p->icap) {
        size_t *o = realloc(p->offset, n * sizeof(*o));
        if (o)
            p->offset = o;
        size_t *l = o ? realloc(p->length, n * sizeof(*l)) : NULL;
        if (!o || !l)
            return FC_ENOMEM;
        p->length = l;
        p->icap = n;
    }
    p->n = n;
    p->size = 0;
    p->hits = 0;
    return FC_OK;
}

static bool pack_grow(fc_packed *p, size_t need)
{
    size_t cap = p->cap ? p->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *d = realloc(p->data, cap);
    if (!d)
        return false;
    p->data = d;
    p->cap = cap;
    return true;
}

static void pack_one(void *arg, size_t i, int status, const void *value,
                     size_t len)
{
    struct pack_ctx *c = arg;
    fc_packed *p = c->p;
    p->offset[i] = FC_PACKED_MISS;
    p->length[i] = 0;
    if (status != FC_OK) {
        if (status != FC_ENOTFOUND && (c->first == FC_OK || i < c->first_i)) {
            c->first = status;
            c->first_i = i;
        }
        return;
    }
    size_t end = p->size + len;
    if (end > p->cap && !p->caller_data && !c->oom && !pack_grow(p, end))
        c->oom = true;
    if (end <= p->cap && len)
        memcpy(p->data + p->size, value, len);
    p->offset[i] = p->size;
    p->length[i] = len;
    p->size = end;
    p->hits++;
}

static int pack_end(const struct pack_ctx *c)
{
    if (c->oom)
        return FC_ENOMEM;
    if (c->p->size > c->p->cap)
        return FC_ETRUNC;
    return c->first;
}

int fc_mget_packed(fc_store *s, const fc_slice *keys, size_t n, fc_packed *p)
{
    if (!s || !p || (!keys && n))
        return FC_EINVAL;
    if (pack_begin(p, n) != FC_OK)
        return FC_ENOMEM;
    struct pack_ctx c = {p, FC_OK, 0, false};
    int rc = fc_mget(s, keys, n, pack_one, &c);
    return rc != FC_OK ? rc : pack_end(&c);
}

int fc_local_mget_packed(fc_local *l, const fc_slice *keys, size_t n,
                         fc_packed *p)
{
    if (!l || !p || (!keys && n))
        return FC_EINVAL;
    if (pack_begin(p, n) != FC_OK)
        return FC_ENOMEM;
    struct pack_ctx c = {p, FC_OK, 0, false};
    int rc = fc_local_mget(l, keys, n, pack_one, &c);
    return rc != FC_OK ? rc : pack_end(&c);
}

void lib_local_scratch_free(fc_local *l)
{
    if (l->scratch) {
        fc_packed_free(l->scratch);
        free(l->scratch);
        l->scratch = NULL;
    }
}

int fc_local_mget_packed_view(fc_local *l, const fc_slice *keys, size_t n,
                              fc_packed_view *out)
{
    if (!l || !out || (!keys && n))
        return FC_EINVAL;
    memset(out, 0, sizeof(*out));
    if (!l->scratch) {
        l->scratch = malloc(sizeof(*l->scratch));
        if (!l->scratch)
            return FC_ENOMEM;
        fc_packed_init(l->scratch, NULL, 0);
    }
    fc_packed *p = l->scratch;
    int rc = fc_local_mget_packed(l, keys, n, p);
    if (rc == FC_ENOMEM || rc == FC_EINVAL)
        return rc;
    *out =
        (fc_packed_view){p->data, p->size, p->offset, p->length, p->n, p->hits};
    return rc;
}

struct refs_ctx {
    fc_slice *vals;
    size_t hits;
    int first;
    size_t first_i;
};

static void ref_one(void *arg, size_t i, int status, const void *value,
                    size_t len)
{
    struct refs_ctx *c = arg;
    /* The engine keeps an entry it returned alive through the rest of the
     * batch (engine.h, eng_get_each) and until its shard's next mutation,
     * which only a later call on this handle can make. */
    c->vals[i] = status == FC_OK ? (fc_slice){lib_nonnull(value), len}
                                 : (fc_slice){NULL, 0};
    c->hits += status == FC_OK;
    if (status != FC_OK && status != FC_ENOTFOUND &&
        (c->first == FC_OK || i < c->first_i)) {
        c->first = status;
        c->first_i = i;
    }
}

int fc_local_mget_refs(fc_local *l, const fc_slice *keys, size_t n,
                       fc_slice *vals, size_t *hits)
{
    if (hits)
        *hits = 0;
    if (!l || (!vals && n) || (!keys && n))
        return FC_EINVAL;
    struct refs_ctx c = {vals, 0, FC_OK, 0};
    int rc = lib_local_mget_at(l, keys, n, ref_one, &c, eng_now_ms());
    if (hits)
        *hits = c.hits;
    return rc != FC_OK ? rc : c.first;
}
