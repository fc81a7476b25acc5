/* test_local.c — worker-local handles: routing (each key answered by its
 * owner only, FC_ENOTLOCAL with the right owner everywhere else), every
 * fc_local_* call, local batches with foreign keys, per-worker len, clear
 * and tick. Threads driving their own handles are in test_threads.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fastcache.h"

#define NKEYS 600
#define HOUR_MS (3600 * 1000LL)

static int mkkey(char *buf, size_t cap, int i)
{
    return snprintf(buf, cap, "key-%d", i);
}

static void test_open_args(void **state)
{
    (void)state;
    fc_workers *w = (fc_workers *)1;
    fc_options o = {.shards = 4};
    assert_int_equal(fc_workers_open(&w, &o, 0), FC_EINVAL);
    assert_null(w);
    assert_int_equal(fc_workers_open(&w, &o, 5), FC_EINVAL);
    o.shards = 6;
    assert_int_equal(fc_workers_open(&w, &o, 2), FC_EINVAL);
    assert_int_equal(fc_workers_open(NULL, NULL, 2), FC_EINVAL);
    o.shards = 4;
    assert_int_equal(fc_workers_open(&w, &o, 4), FC_OK);
    assert_int_equal(fc_workers_count(w), 4);
    for (unsigned i = 0; i < 4; i++) {
        fc_local *l = fc_workers_local(w, i);
        assert_non_null(l);
        assert_int_equal(fc_local_index(l), i);
    }
    assert_null(fc_workers_local(w, 4));
    fc_workers_close(w);
    assert_int_equal(fc_workers_open(&w, NULL, 3), FC_OK); /* 64 shards */
    fc_workers_close(w);
    fc_workers_close(NULL);
}

/* The owner is (hash & (shards - 1)) % workers, as documented. */
static void check_owner_formula(fc_workers *w, uint32_t shards, unsigned nw)
{
    char key[32];
    for (int i = 0; i < NKEYS; i++) {
        int n = mkkey(key, sizeof(key), i);
        uint64_t h = fc_hash(key, (size_t)n);
        assert_int_equal(fc_workers_owner(w, h), (h & (shards - 1)) % nw);
    }
}

/* Every single-key call on a foreign handle: FC_ENOTLOCAL, *owner set,
 * nothing touched (owner may also be NULL). */
static void check_foreign(fc_local *l, const char *key, size_t kl,
                          unsigned want)
{
    unsigned owner = 999;
    char buf[16];
    size_t len;
    const void *ref;
    int64_t r;
    assert_int_equal(fc_local_set(l, key, kl, "x", 1, FC_TTL_NONE, 0, &owner),
                     FC_ENOTLOCAL);
    assert_int_equal(owner, want);
    owner = 999;
    assert_int_equal(fc_local_get(l, key, kl, buf, sizeof(buf), &len, &owner),
                     FC_ENOTLOCAL);
    assert_int_equal(owner, want);
    owner = 999;
    assert_int_equal(fc_local_get_ref(l, key, kl, &ref, &len, &owner),
                     FC_ENOTLOCAL);
    assert_int_equal(owner, want);
    owner = 999;
    assert_int_equal(fc_local_exists(l, key, kl, &owner), FC_ENOTLOCAL);
    assert_int_equal(owner, want);
    owner = 999;
    assert_int_equal(fc_local_del(l, key, kl, &owner), FC_ENOTLOCAL);
    assert_int_equal(owner, want);
    owner = 999;
    assert_int_equal(fc_local_pexpire(l, key, kl, 0, &owner), FC_ENOTLOCAL);
    assert_int_equal(owner, want);
    owner = 999;
    assert_int_equal(fc_local_pttl(l, key, kl, &r, &owner), FC_ENOTLOCAL);
    assert_int_equal(owner, want);
    owner = 999;
    assert_int_equal(fc_local_persist(l, key, kl, &owner), FC_ENOTLOCAL);
    assert_int_equal(owner, want);
    owner = 999;
    assert_int_equal(fc_local_incrby(l, key, kl, 1, &r, &owner), FC_ENOTLOCAL);
    assert_int_equal(owner, want);
    assert_int_equal(fc_local_del(l, key, kl, NULL), FC_ENOTLOCAL);
}

static void routing_case(uint32_t shards, unsigned nw)
{
    fc_workers *w;
    fc_options o = {.shards = shards};
    assert_int_equal(fc_workers_open(&w, &o, nw), FC_OK);
    check_owner_formula(w, shards, nw);
    char key[32];
    size_t per_worker[8] = {0};
    for (int i = 0; i < NKEYS; i++) {
        size_t kl = (size_t)mkkey(key, sizeof(key), i);
        unsigned own = fc_workers_owner(w, fc_hash(key, kl));
        per_worker[own]++;
        for (unsigned k = 0; k < nw; k++) {
            fc_local *l = fc_workers_local(w, k);
            if (k == own)
                assert_int_equal(
                    fc_local_set(l, key, kl, key, kl, FC_TTL_NONE, 0, NULL),
                    FC_OK);
            else
                check_foreign(l, key, kl, own);
        }
    }
    /* Each key is answered by exactly its owner. */
    for (int i = 0; i < NKEYS; i++) {
        size_t kl = (size_t)mkkey(key, sizeof(key), i);
        int answered = 0;
        for (unsigned k = 0; k < nw; k++) {
            char buf[32];
            size_t len;
            unsigned owner = 999;
            int rc = fc_local_get(fc_workers_local(w, k), key, kl, buf,
                                  sizeof(buf), &len, &owner);
            if (rc == FC_OK) {
                answered++;
                assert_int_equal(len, kl);
                assert_memory_equal(buf, key, kl);
            } else {
                assert_int_equal(rc, FC_ENOTLOCAL);
                assert_int_equal(owner, fc_workers_owner(w, fc_hash(key, kl)));
            }
        }
        assert_int_equal(answered, 1);
    }
    for (unsigned k = 0; k < nw; k++)
        assert_int_equal(fc_local_len(fc_workers_local(w, k)), per_worker[k]);
    fc_workers_close(w);
}

static void test_routing(void **state)
{
    (void)state;
    routing_case(64, 1);
    routing_case(64, 2);
    routing_case(64, 3);
    routing_case(4, 3); /* uneven: worker 0 owns shards 0 and 3 */
    routing_case(8, 8);
}

/* Finds a key owned by worker `want` (and one owned elsewhere). */
static size_t key_owned_by(fc_workers *w, unsigned want, bool mine, char *key,
                           size_t cap, int *from)
{
    for (int i = *from;; i++) {
        size_t kl = (size_t)snprintf(key, cap, "k%d", i);
        bool is = fc_workers_owner(w, fc_hash(key, kl)) == want;
        if (is == mine) {
            *from = i + 1;
            return kl;
        }
    }
}

static void test_local_calls(void **state)
{
    (void)state;
    fc_workers *w;
    assert_int_equal(fc_workers_open(&w, NULL, 3), FC_OK);
    fc_local *l = fc_workers_local(w, 1);
    char key[32], buf[8];
    int from = 0;
    size_t kl = key_owned_by(w, 1, true, key, sizeof(key), &from);
    size_t len;
    int64_t r, pttl;
    assert_int_equal(fc_local_exists(l, key, kl, NULL), 0);
    assert_int_equal(fc_local_get(l, key, kl, buf, sizeof(buf), &len, NULL),
                     FC_ENOTFOUND);
    assert_int_equal(
        fc_local_set(l, key, kl, "v1", 2, FC_TTL_NONE, FC_SET_XX, NULL),
        FC_ENOTSET);
    assert_int_equal(fc_local_set(l, key, kl, "v1", 2, HOUR_MS, 0, NULL),
                     FC_OK);
    assert_int_equal(
        fc_local_set(l, key, kl, "v2", 2, FC_TTL_NONE, FC_SET_NX, NULL),
        FC_EEXISTS);
    assert_int_equal(fc_local_exists(l, key, kl, NULL), 1);
    assert_int_equal(fc_local_get(l, key, kl, buf, 1, &len, NULL), FC_ETRUNC);
    assert_int_equal(len, 2);
    const void *ref = NULL;
    assert_int_equal(fc_local_get_ref(l, key, kl, &ref, &len, NULL), FC_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(ref, "v1", 2);
    assert_int_equal(fc_local_pttl(l, key, kl, &pttl, NULL), FC_OK);
    assert_true(pttl > 0 && pttl <= HOUR_MS);
    assert_int_equal(fc_local_persist(l, key, kl, NULL), FC_OK);
    assert_int_equal(fc_local_persist(l, key, kl, NULL), FC_ENOTFOUND);
    assert_int_equal(fc_local_pttl(l, key, kl, &pttl, NULL), FC_OK);
    assert_int_equal(pttl, FC_TTL_NOEXPIRE);
    assert_int_equal(fc_local_pexpire(l, key, kl, HOUR_MS, NULL), FC_OK);
    assert_int_equal(fc_local_pexpire(l, key, kl, FC_TTL_NONE, NULL),
                     FC_EINVAL);
    assert_int_equal(fc_local_pexpire(l, key, kl, INT64_MAX, NULL),
                     FC_EOVERFLOW);
    assert_int_equal(fc_local_incrby(l, key, kl, 1, &r, NULL), FC_ENOTINT);
    assert_int_equal(fc_local_pexpire(l, key, kl, -1, NULL), FC_OK);
    assert_int_equal(fc_local_pttl(l, key, kl, &pttl, NULL), FC_OK);
    assert_int_equal(pttl, FC_TTL_NOKEY);
    assert_int_equal(fc_local_incrby(l, key, kl, 40, &r, NULL), FC_OK);
    assert_int_equal(fc_local_incrby(l, key, kl, 2, &r, NULL), FC_OK);
    assert_int_equal(r, 42);
    assert_int_equal(fc_local_del(l, key, kl, NULL), FC_OK);
    assert_int_equal(fc_local_del(l, key, kl, NULL), FC_ENOTFOUND);
    assert_int_equal(fc_local_set(l, key, kl, "v", 1, 0, 0, NULL), FC_OK);
    assert_int_equal(fc_local_exists(l, key, kl, NULL), 0);
    /* argument errors come before routing */
    assert_int_equal(fc_local_set(l, NULL, 3, "v", 1, FC_TTL_NONE, 0, NULL),
                     FC_EINVAL);
    assert_int_equal(fc_local_get(l, key, kl, buf, sizeof(buf), NULL, NULL),
                     FC_EINVAL);
    assert_int_equal(
        fc_local_set(l, key, FC_MAX_KEY_LEN + 1, "v", 1, FC_TTL_NONE, 0, NULL),
        FC_ETOOBIG);
    fc_workers_close(w);
}

struct got {
    int status[16];
    char val[16][8];
    int calls;
};

static void mget_fn(void *ctx, size_t i, int status, const void *v, size_t len)
{
    struct got *g = ctx;
    g->status[i] = status;
    g->calls++;
    if (status == FC_OK)
        memcpy(g->val[i], v, len < 8 ? len : 8);
    else
        assert_null(v);
}

static void test_local_batches(void **state)
{
    (void)state;
    fc_workers *w;
    assert_int_equal(fc_workers_open(&w, NULL, 2), FC_OK);
    fc_local *l = fc_workers_local(w, 0);
    char keys[6][16];
    size_t kl[6];
    int from = 0;
    /* items 0, 2, 4 are ours, 1, 3, 5 belong to worker 1 */
    for (int i = 0; i < 6; i++)
        kl[i] = key_owned_by(w, 0, i % 2 == 0, keys[i], 16, &from);
    fc_kv items[7];
    fc_slice sl[7];
    for (int i = 0; i < 6; i++) {
        sl[i] = (fc_slice){keys[i], kl[i]};
        items[i] = (fc_kv){sl[i], {keys[i], 2}, FC_TTL_NONE};
    }
    items[6] = (fc_kv){sl[0], {"zz", 2}, FC_TTL_NONE}; /* repeat: last wins */
    sl[6] = sl[0];
    int res[7];
    assert_int_equal(fc_local_mset(l, items, 7, res), FC_ENOTLOCAL);
    for (int i = 0; i < 7; i++)
        assert_int_equal(res[i], i % 2 == 0 ? FC_OK : FC_ENOTLOCAL);
    assert_int_equal(fc_local_len(l), 3);
    assert_int_equal(fc_local_len(fc_workers_local(w, 1)), 0);

    struct got g = {0};
    assert_int_equal(fc_local_mget(l, sl, 7, mget_fn, &g), FC_OK);
    assert_int_equal(g.calls, 7);
    for (int i = 0; i < 7; i++)
        assert_int_equal(g.status[i], i % 2 == 0 ? FC_OK : FC_ENOTLOCAL);
    assert_memory_equal(g.val[0], "zz", 2);
    assert_memory_equal(g.val[2], keys[2], 2);
    assert_memory_equal(g.val[6], "zz", 2);

    /* only local items: OK overall */
    fc_kv mine[2] = {items[2], items[4]};
    assert_int_equal(fc_local_mset(l, mine, 2, NULL), FC_OK);
    assert_int_equal(fc_local_mset(l, NULL, 1, NULL), FC_EINVAL);
    assert_int_equal(fc_local_mget(l, sl, 1, NULL, NULL), FC_EINVAL);
    fc_workers_close(w);
}

/* Batches longer than a chunk (LIB_BATCH, 256) mixing every kind of item:
 * results come by input index, in input order, as item-by-item calls. */
enum { BIG = 700 };

struct order_got {
    size_t next;
    int status[BIG];
    char val[BIG][16];
};

static void order_fn(void *ctx, size_t i, int status, const void *v, size_t len)
{
    struct order_got *g = ctx;
    assert_int_equal(i, g->next); /* input order, each index once */
    g->next++;
    g->status[i] = status;
    if (status == FC_OK) {
        assert_true(len < sizeof(g->val[i]));
        memcpy(g->val[i], v, len);
        g->val[i][len] = 0;
    } else {
        assert_null(v);
        assert_int_equal(len, 0);
    }
}

static void test_local_batches_large(void **state)
{
    (void)state;
    fc_workers *w;
    fc_options o = {.shards = 8};
    assert_int_equal(fc_workers_open(&w, &o, 2), FC_OK);
    fc_local *l = fc_workers_local(w, 0);
    static char keys[BIG][16], vals[BIG][16];
    static fc_kv items[BIG];
    static fc_slice sl[BIG];
    static int res[BIG], want[BIG];
    static struct order_got g;
    int from = 0;
    /* i % 7: 0..2 ours, 3 foreign, 4 invalid (NULL key with a length),
     * 5 ours with a 1 ms TTL (expired by the mget), 6 a repeat of i - 6
     * with a new value (applied after it). */
    for (int i = 0; i < BIG; i++) {
        size_t kl = 0;
        int kind = i % 7;
        if (kind == 6) {
            items[i] = items[i - 6];
            snprintf(vals[i], sizeof(vals[i]), "r%d", i);
            items[i].value = (fc_slice){vals[i], strlen(vals[i])};
            sl[i] = sl[i - 6];
            continue;
        }
        if (kind != 4)
            kl = key_owned_by(w, 0, kind != 3, keys[i], 16, &from);
        snprintf(vals[i], sizeof(vals[i]), "v%d", i);
        sl[i] = (fc_slice){kind == 4 ? NULL : keys[i], kind == 4 ? 3 : kl};
        items[i] = (fc_kv){
            sl[i], {vals[i], strlen(vals[i])}, kind == 5 ? 1 : FC_TTL_NONE};
    }
    assert_int_equal(fc_local_mset(l, items, BIG, res), FC_ENOTLOCAL);
    for (int i = 0; i < BIG; i++) {
        int kind = i % 7 == 6 ? 0 : i % 7;
        want[i] = kind == 3 ? FC_ENOTLOCAL : kind == 4 ? FC_EINVAL : FC_OK;
        assert_int_equal(res[i], want[i]);
    }
    struct timespec ts = {0, 5 * 1000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(fc_local_mget(l, sl, BIG, order_fn, &g), FC_OK);
    assert_int_equal(g.next, BIG);
    for (int i = 0; i < BIG; i++) {
        int kind = i % 7, st = g.status[i];
        if (kind == 3)
            assert_int_equal(st, FC_ENOTLOCAL);
        else if (kind == 4)
            assert_int_equal(st, FC_EINVAL);
        else if (kind == 5)
            assert_int_equal(st, FC_ENOTFOUND);
        else if (kind == 0 && i + 6 < BIG)
            assert_string_equal(g.val[i], vals[i + 6]); /* the repeat won */
        else
            assert_string_equal(g.val[i], vals[i]);
        if (kind == 6)
            assert_string_equal(g.val[i], vals[i]);
    }
    fc_workers_close(w);
}

/* A callback may use the handle: later items see its changes, as they
 * would between single calls. */
struct reenter {
    fc_local *l;
    const fc_slice *sl;
    size_t n;
    int status[32];
    char val[32][8];
};

static void reenter_fn(void *ctx, size_t i, int status, const void *v,
                       size_t len)
{
    struct reenter *r = ctx;
    r->status[i] = status;
    if (status == FC_OK)
        memcpy(r->val[i], v, len < 7 ? len : 7);
    if (i % 3 == 0 && i + 1 < r->n) /* delete the next item's key */
        assert_true(fc_local_del(r->l, r->sl[i + 1].data, r->sl[i + 1].len,
                                 NULL) == FC_OK);
    if (i % 3 == 1 && i + 1 < r->n) /* rewrite the next item's value */
        assert_int_equal(fc_local_set(r->l, r->sl[i + 1].data, r->sl[i + 1].len,
                                      "new", 3, FC_TTL_NONE, 0, NULL),
                         FC_OK);
}

static void test_local_mget_reentrant(void **state)
{
    (void)state;
    fc_workers *w;
    assert_int_equal(fc_workers_open(&w, NULL, 1), FC_OK);
    fc_local *l = fc_workers_local(w, 0);
    char keys[30][8];
    fc_slice sl[30];
    for (int i = 0; i < 30; i++) {
        size_t kl = (size_t)snprintf(keys[i], sizeof(keys[i]), "re%d", i);
        sl[i] = (fc_slice){keys[i], kl};
        assert_int_equal(
            fc_local_set(l, keys[i], kl, "old", 3, FC_TTL_NONE, 0, NULL),
            FC_OK);
    }
    struct reenter r = {.l = l, .sl = sl, .n = 30};
    assert_int_equal(fc_local_mget(l, sl, 30, reenter_fn, &r), FC_OK);
    for (int i = 0; i < 30; i++) {
        if (i % 3 == 1) /* deleted by item i - 1's callback */
            assert_int_equal(r.status[i], FC_ENOTFOUND);
        else if (i % 3 == 2) /* rewritten by item i - 1's callback */
            assert_string_equal(r.val[i], "new");
        else
            assert_string_equal(r.val[i], "old");
    }
    fc_workers_close(w);
}

static void test_local_len_clear_tick(void **state)
{
    (void)state;
    fc_workers *w;
    fc_options o = {.shards = 16};
    assert_int_equal(fc_workers_open(&w, &o, 3), FC_OK);
    char key[32];
    size_t count[3] = {0}, ttl_count[3] = {0};
    for (int i = 0; i < NKEYS; i++) {
        size_t kl = (size_t)mkkey(key, sizeof(key), i);
        unsigned own = fc_workers_owner(w, fc_hash(key, kl));
        int64_t ttl = i % 3 == 0 ? 1 : FC_TTL_NONE;
        assert_int_equal(fc_local_set(fc_workers_local(w, own), key, kl, "v", 1,
                                      ttl, 0, NULL),
                         FC_OK);
        count[own]++;
        ttl_count[own] += ttl == 1;
    }
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
    /* Worker 2's tick removes only its own expired keys. */
    fc_local *l2 = fc_workers_local(w, 2);
    size_t removed = 0;
    for (int r = 0; r < 100000 && removed < ttl_count[2]; r++)
        removed += fc_local_tick(l2, 50);
    assert_int_equal(removed, ttl_count[2]);
    assert_int_equal(fc_local_len(l2), count[2] - ttl_count[2]);
    assert_int_equal(fc_local_len(fc_workers_local(w, 0)), count[0]);
    assert_int_equal(fc_local_tick(l2, 0), 0);
    /* Clearing worker 1 leaves the others' keys. */
    fc_local_clear(fc_workers_local(w, 1));
    assert_int_equal(fc_local_len(fc_workers_local(w, 1)), 0);
    assert_int_equal(fc_local_len(fc_workers_local(w, 0)), count[0]);
    assert_int_equal(fc_local_len(l2), count[2] - ttl_count[2]);
    fc_workers_close(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_args),
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_local_calls),
        cmocka_unit_test(test_local_batches),
        cmocka_unit_test(test_local_batches_large),
        cmocka_unit_test(test_local_mget_reentrant),
        cmocka_unit_test(test_local_len_clear_tick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
