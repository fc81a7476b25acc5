/* test_packed.c — packed batch reads (issue 12) against the plain batch
 * API on random batches (hits, misses, empty and large values, repeated
 * keys, bad keys), caller-owned buffers (FC_ETRUNC), the worker-local
 * handle-owned view and the zero-copy refs. */
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

#define NKEYS 400
#define MAXB 700 /* more than one internal chunk (256) */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

struct world {
    char key[NKEYS][32];
    size_t klen[NKEYS];
    uint8_t *val[NKEYS]; /* NULL: not stored */
    size_t vlen[NKEYS];
};

/* Keys of 4 sessions and plain keys; a third absent; sizes 0..large. */
static void world_fill(struct world *w)
{
    for (int i = 0; i < NKEYS; i++) {
        int n = i % 3 ? snprintf(w->key[i], 32, "s:%d:c:%d", i % 4, i)
                      : snprintf(w->key[i], 32, "plain%d", i);
        w->klen[i] = (size_t)n;
        w->val[i] = NULL;
        if (next_rand() % 3 == 0)
            continue;
        uint64_t r = next_rand() % 10;
        w->vlen[i] = r == 0   ? 0
                     : r == 1 ? 70000 + next_rand() % 1000
                              : next_rand() % 300;
        w->val[i] = malloc(w->vlen[i] + 1);
        for (size_t b = 0; b < w->vlen[i]; b++)
            w->val[i][b] = (uint8_t)next_rand();
    }
}

static void world_free(struct world *w)
{
    for (int i = 0; i < NKEYS; i++)
        free(w->val[i]);
}

/* What the plain mget reported. */
struct plain {
    int rc[MAXB];
    uint8_t *v[MAXB];
    size_t len[MAXB];
};

static void plain_cb(void *ctx, size_t i, int status, const void *value,
                     size_t len)
{
    struct plain *p = ctx;
    p->rc[i] = status;
    p->len[i] = len;
    p->v[i] = NULL;
    if (status == FC_OK) {
        p->v[i] = malloc(len + 1);
        memcpy(p->v[i], value, len);
    }
}

static size_t random_batch(const struct world *w, fc_slice *keys, bool bad)
{
    size_t n = next_rand() % MAXB;
    for (size_t i = 0; i < n; i++) {
        int k = (int)(next_rand() % NKEYS);
        keys[i] = (fc_slice){w->key[k], w->klen[k]};
    }
    if (n > 3 && bad) { /* an empty key, and a NULL one with a length */
        keys[1] = (fc_slice){NULL, 0};
        keys[2] = (fc_slice){NULL, 5};
    }
    return n;
}

/* p equals the plain result item by item; with `ordered` (worker-local)
 * packed in input order, else (shared: shards in turn) in some order
 * that tiles the buffer exactly. */
static void check_same(const fc_packed *p, const struct plain *pl, size_t n,
                       bool ordered)
{
    assert_int_equal(p->n, n);
    size_t hits = 0, at = 0;
    uint8_t *cover = calloc(p->size + 1, 1);
    for (size_t i = 0; i < n; i++) {
        if (pl->rc[i] != FC_OK) {
            assert_true(p->offset[i] == FC_PACKED_MISS);
            assert_int_equal(p->length[i], 0);
            continue;
        }
        hits++;
        if (ordered)
            assert_int_equal(p->offset[i], at);
        assert_true(p->offset[i] + pl->len[i] <= p->size);
        for (size_t b = 0; b < pl->len[i]; b++)
            assert_int_equal(cover[p->offset[i] + b]++, 0); /* no overlap */
        assert_int_equal(p->length[i], pl->len[i]);
        if (pl->len[i])
            assert_memory_equal(p->data + p->offset[i], pl->v[i], pl->len[i]);
        at += pl->len[i];
    }
    assert_int_equal(p->hits, hits);
    assert_int_equal(p->size, at);
    free(cover);
}

static void plain_free(struct plain *pl, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(pl->v[i]);
}

static void test_shared_random(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        struct world *w = calloc(1, sizeof(*w));
        world_fill(w);
        fc_store *s;
        fc_options o = {.shards = 16, .route_mode = mode};
        assert_int_equal(fc_store_open(&s, &o), FC_OK);
        for (int i = 0; i < NKEYS; i++)
            if (w->val[i])
                assert_int_equal(fc_set(s, w->key[i], w->klen[i], w->val[i],
                                        w->vlen[i], FC_TTL_NONE, 0),
                                 FC_OK);
        fc_packed p;
        fc_packed_init(&p, NULL, 0);
        static fc_slice keys[MAXB];
        static struct plain pl;
        for (int round = 0; round < 40; round++) {
            size_t n = random_batch(w, keys, true);
            assert_int_equal(fc_mget(s, keys, n, plain_cb, &pl), FC_OK);
            int want = n > 3 ? FC_EINVAL : FC_OK; /* keys[2]: NULL, len 5 */
            assert_int_equal(fc_mget_packed(s, keys, n, &p), want);
            check_same(&p, &pl, n, false);
            plain_free(&pl, n);
        }
        fc_packed_free(&p);
        fc_store_close(s);
        world_free(w);
        free(w);
    }
}

static void test_caller_buffer(void **state)
{
    (void)state;
    fc_store *s;
    fc_options one = {.shards = 1}; /* one shard: input order */
    assert_int_equal(fc_store_open(&s, &one), FC_OK);
    fc_set(s, "a", 1, "1234", 4, FC_TTL_NONE, 0);
    fc_set(s, "b", 1, "", 0, FC_TTL_NONE, 0);
    fc_set(s, "c", 1, "567890", 6, FC_TTL_NONE, 0);
    fc_slice keys[4] = {{"a", 1}, {"x", 1}, {"b", 1}, {"c", 1}};
    uint8_t buf[8];
    fc_packed p;
    fc_packed_init(&p, buf, sizeof(buf));
    assert_int_equal(fc_mget_packed(s, keys, 4, &p), FC_ETRUNC);
    assert_int_equal(p.size, 10); /* what it needs */
    assert_int_equal(p.hits, 3);
    uint8_t big[16];
    fc_packed_free(&p);
    fc_packed_init(&p, big, sizeof(big));
    assert_int_equal(fc_mget_packed(s, keys, 4, &p), FC_OK);
    assert_ptr_equal(p.data, big);
    assert_int_equal(p.size, 10);
    assert_memory_equal(big, "1234567890", 10);
    assert_int_equal(p.offset[0], 0);
    assert_true(p.offset[1] == FC_PACKED_MISS);
    assert_int_equal(p.offset[2], 4);
    assert_int_equal(p.length[2], 0);
    assert_int_equal(p.offset[3], 4);
    assert_int_equal(p.length[3], 6);
    assert_int_equal(fc_mget_packed(s, keys, 0, &p), FC_OK);
    assert_int_equal(p.n, 0);
    assert_int_equal(p.hits, 0);
    fc_packed_free(&p);
    fc_packed_free(NULL);
    assert_int_equal(fc_mget_packed(s, NULL, 2, &p), FC_EINVAL);
    fc_store_close(s);
}

/* Worker-local: packed (own buffer), view (handle's memory) and refs give
 * the plain fc_local_mget's answer; foreign keys are misses + ENOTLOCAL. */
static void test_local_forms(void **state)
{
    (void)state;
    struct world *w = calloc(1, sizeof(*w));
    world_fill(w);
    fc_workers *ws;
    fc_options o = {.shards = 8, .route_mode = FC_ROUTE_SESSION_PREFIX};
    assert_int_equal(fc_workers_open(&ws, &o, 2), FC_OK);
    for (int i = 0; i < NKEYS; i++) {
        if (!w->val[i])
            continue;
        unsigned owner =
            fc_workers_owner(ws, fc_workers_hash(ws, w->key[i], w->klen[i]));
        assert_int_equal(fc_local_set(fc_workers_local(ws, owner), w->key[i],
                                      w->klen[i], w->val[i], w->vlen[i],
                                      FC_TTL_NONE, 0, NULL),
                         FC_OK);
    }
    fc_local *l = fc_workers_local(ws, 0);
    fc_packed p;
    fc_packed_init(&p, NULL, 0);
    static fc_slice keys[MAXB], vals[MAXB];
    static struct plain pl;
    for (int round = 0; round < 30; round++) {
        size_t n = random_batch(w, keys, false);
        assert_int_equal(fc_local_mget(l, keys, n, plain_cb, &pl), FC_OK);
        bool foreign = false;
        for (size_t i = 0; i < n; i++)
            foreign |= pl.rc[i] == FC_ENOTLOCAL;
        int want = foreign ? FC_ENOTLOCAL : FC_OK;
        assert_int_equal(fc_local_mget_packed(l, keys, n, &p), want);
        check_same(&p, &pl, n, true);

        fc_packed_view v;
        assert_int_equal(fc_local_mget_packed_view(l, keys, n, &v), want);
        fc_packed as = {.data = (uint8_t *)v.data,
                        .size = v.size,
                        .offset = (size_t *)v.offset,
                        .length = (size_t *)v.length,
                        .n = v.n,
                        .hits = v.hits};
        check_same(&as, &pl, n, true);

        size_t hits = 99;
        assert_int_equal(fc_local_mget_refs(l, keys, n, vals, &hits), want);
        assert_int_equal(hits, p.hits);
        for (size_t i = 0; i < n; i++) {
            if (pl.rc[i] != FC_OK) {
                assert_null(vals[i].data);
                continue;
            }
            assert_non_null(vals[i].data);
            assert_int_equal(vals[i].len, pl.len[i]);
            if (pl.len[i])
                assert_memory_equal(vals[i].data, pl.v[i], pl.len[i]);
        }
        plain_free(&pl, n);
    }
    fc_packed_free(&p);
    assert_int_equal(fc_local_mget_refs(l, NULL, 1, vals, NULL), FC_EINVAL);
    fc_workers_close(ws); /* frees the views' scratch */
    world_free(w);
    free(w);
}

/* Refs stay valid together even for a key with a TTL repeated across
 * internal chunks (one clock reading for the whole batch). */
static void test_refs_ttl_repeat(void **state)
{
    (void)state;
    fc_workers *ws;
    assert_int_equal(fc_workers_open(&ws, NULL, 1), FC_OK);
    fc_local *l = fc_workers_local(ws, 0);
    assert_int_equal(fc_local_set(l, "t", 1, "value", 5, 100000, 0, NULL),
                     FC_OK);
    static fc_slice keys[600], vals[600];
    for (int i = 0; i < 600; i++)
        keys[i] = (fc_slice){"t", 1};
    size_t hits;
    assert_int_equal(fc_local_mget_refs(l, keys, 600, vals, &hits), FC_OK);
    assert_int_equal(hits, 600);
    for (int i = 0; i < 600; i++)
        assert_memory_equal(vals[i].data, "value", 5);
    fc_workers_close(ws);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_random),
        cmocka_unit_test(test_caller_buffer),
        cmocka_unit_test(test_local_forms),
        cmocka_unit_test(test_refs_ttl_repeat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
