/* test_model.c — thousands of random operations, each checked against a
 * simple reference model (an array of keys), through the shared handle
 * (several shard counts) and through worker-local handles (each key sent
 * to its owner, and now and then to a wrong worker, which must refuse).
 *
 * TTLs in the mix are an hour (cannot pass during the test), "none", or
 * non-positive (the key goes at once), so the model needs no clock. */
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

#define NK 48     /* key space: small, so that ops collide often */
#define VMAX 24   /* longest value */
#define OPS 20000 /* per configuration */
#define HOUR_MS (3600 * 1000LL)

struct mkey {
    bool present;
    bool ttl;
    char val[VMAX];
    size_t vlen;
};

struct model {
    struct mkey k[NK];
    char name[NK][16];
    size_t nlen[NK];
};

/* The implementation under test: a shared handle or a worker set. */
struct target {
    fc_store *s;
    fc_workers *w;
    unsigned nw;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static unsigned pick(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static void model_init(struct model *m)
{
    memset(m, 0, sizeof(*m));
    for (int i = 0; i < NK; i++) {
        /* a few binary keys with NULs among the text ones */
        if (i % 8 == 7) {
            memcpy(m->name[i], "b\0\0x", 4);
            m->name[i][3] = (char)('A' + i);
            m->nlen[i] = 4;
        } else {
            m->nlen[i] = (size_t)snprintf(m->name[i], 16, "key%d", i);
        }
    }
}

/* Values are either canonical integers or text that is not a number. */
static size_t random_value(char *buf)
{
    switch (pick(4)) {
    case 0:
        return (size_t)snprintf(buf, VMAX, "%lld",
                                (long long)pick(2001) - 1000);
    case 1:
        return (size_t)snprintf(buf, VMAX, "%lld",
                                (long long)(INT64_MAX - pick(3)));
    default: {
        size_t n = 1 + pick(VMAX - 1);
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)('a' + pick(26));
        buf[0] = 'v';
        return n;
    }
    }
}

static int64_t random_ttl(void)
{
    static const int64_t ttls[] = {FC_TTL_NONE, FC_TTL_NONE, HOUR_MS, 0, -5};
    return ttls[pick(5)];
}

/* ---- the target's calls, routed to the owner for worker sets ---- */

static fc_local *owner(struct target *t, struct model *m, int k)
{
    uint64_t h = fc_hash(m->name[k], m->nlen[k]);
    unsigned o = fc_workers_owner(t->w, h);
    if (t->nw > 1 && pick(16) == 0) { /* a wrong worker must refuse */
        unsigned wrong = (o + 1 + pick(t->nw - 1)) % t->nw, got = 999;
        fc_local *l = fc_workers_local(t->w, wrong);
        assert_int_equal(fc_local_del(l, m->name[k], m->nlen[k], &got),
                         FC_ENOTLOCAL);
        assert_int_equal(got, o);
    }
    return fc_workers_local(t->w, o);
}

static int t_set(struct target *t, struct model *m, int k, const char *v,
                 size_t vl, int64_t ttl, unsigned fl)
{
    if (t->s)
        return fc_set(t->s, m->name[k], m->nlen[k], v, vl, ttl, fl);
    return fc_local_set(owner(t, m, k), m->name[k], m->nlen[k], v, vl, ttl, fl,
                        NULL);
}

static int t_get(struct target *t, struct model *m, int k, char *buf,
                 size_t cap, size_t *len)
{
    if (t->s)
        return fc_get(t->s, m->name[k], m->nlen[k], buf, cap, len);
    return fc_local_get(owner(t, m, k), m->name[k], m->nlen[k], buf, cap, len,
                        NULL);
}

static int t_del(struct target *t, struct model *m, int k)
{
    if (t->s)
        return fc_del(t->s, m->name[k], m->nlen[k]);
    return fc_local_del(owner(t, m, k), m->name[k], m->nlen[k], NULL);
}

static int t_exists(struct target *t, struct model *m, int k)
{
    if (t->s)
        return fc_exists(t->s, m->name[k], m->nlen[k]);
    return fc_local_exists(owner(t, m, k), m->name[k], m->nlen[k], NULL);
}

static int t_incr(struct target *t, struct model *m, int k, int64_t d,
                  int64_t *r)
{
    if (t->s)
        return fc_incrby(t->s, m->name[k], m->nlen[k], d, r);
    return fc_local_incrby(owner(t, m, k), m->name[k], m->nlen[k], d, r, NULL);
}

static int t_pexpire(struct target *t, struct model *m, int k, int64_t ttl)
{
    if (t->s)
        return fc_pexpire(t->s, m->name[k], m->nlen[k], ttl);
    return fc_local_pexpire(owner(t, m, k), m->name[k], m->nlen[k], ttl, NULL);
}

static int t_persist(struct target *t, struct model *m, int k)
{
    if (t->s)
        return fc_persist(t->s, m->name[k], m->nlen[k]);
    return fc_local_persist(owner(t, m, k), m->name[k], m->nlen[k], NULL);
}

static int64_t t_pttl(struct target *t, struct model *m, int k)
{
    if (t->s)
        return fc_pttl(t->s, m->name[k], m->nlen[k]);
    int64_t p = 0;
    assert_int_equal(
        fc_local_pttl(owner(t, m, k), m->name[k], m->nlen[k], &p, NULL), FC_OK);
    return p;
}

static size_t t_len(struct target *t)
{
    if (t->s)
        return fc_len(t->s);
    size_t n = 0;
    for (unsigned i = 0; i < t->nw; i++)
        n += fc_local_len(fc_workers_local(t->w, i));
    return n;
}

/* ---- model semantics ---- */

static int model_set(struct mkey *e, const char *v, size_t vl, int64_t ttl,
                     unsigned fl)
{
    if ((fl & FC_SET_NX) && e->present)
        return FC_EEXISTS;
    if ((fl & FC_SET_XX) && !e->present)
        return FC_ENOTSET;
    if (fl & FC_SET_KEEPTTL) {
        e->ttl = e->present && e->ttl;
    } else if (ttl != FC_TTL_NONE && ttl <= 0) {
        e->present = false;
        return FC_OK;
    } else {
        e->ttl = ttl != FC_TTL_NONE;
    }
    e->present = true;
    memcpy(e->val, v, vl);
    e->vlen = vl;
    return FC_OK;
}

/* Strict decimal, as Redis's string2ll; values here are canonical or text. */
static bool model_int(const struct mkey *e, int64_t *out)
{
    char buf[VMAX + 1];
    memcpy(buf, e->val, e->vlen);
    buf[e->vlen] = '\0';
    if (buf[0] == 'v')
        return false;
    *out = strtoll(buf, NULL, 10);
    return true;
}

static void op_set(struct target *t, struct model *m, int k)
{
    static const unsigned flags[] = {0,
                                     0,
                                     FC_SET_NX,
                                     FC_SET_XX,
                                     FC_SET_KEEPTTL,
                                     FC_SET_NX | FC_SET_KEEPTTL,
                                     FC_SET_XX | FC_SET_KEEPTTL};
    char v[VMAX];
    size_t vl = random_value(v);
    int64_t ttl = random_ttl();
    unsigned fl = flags[pick(7)];
    struct mkey before = m->k[k];
    int want = model_set(&m->k[k], v, vl, ttl, fl);
    if (t->s && pick(3) == 0) { /* SET ... GET */
        void *old = NULL;
        size_t old_len = 0;
        assert_int_equal(fc_set_get(t->s, m->name[k], m->nlen[k], v, vl, ttl,
                                    fl, &old, &old_len),
                         want);
        assert_int_equal(old != NULL, before.present);
        if (old) {
            assert_int_equal(old_len, before.vlen);
            assert_memory_equal(old, before.val, old_len);
        }
        fc_free(old);
        return;
    }
    assert_int_equal(t_set(t, m, k, v, vl, ttl, fl), want);
}

static void op_get(struct target *t, struct model *m, int k)
{
    char buf[VMAX];
    size_t cap = pick(4) == 0 ? pick(VMAX) : VMAX, len = 0;
    int rc = t_get(t, m, k, buf, cap, &len);
    const struct mkey *e = &m->k[k];
    if (!e->present) {
        assert_int_equal(rc, FC_ENOTFOUND);
        return;
    }
    assert_int_equal(len, e->vlen);
    if (cap < e->vlen) {
        assert_int_equal(rc, FC_ETRUNC);
        return;
    }
    assert_int_equal(rc, FC_OK);
    assert_memory_equal(buf, e->val, len);
}

/* The copying and zero-copy reads must agree with the model too. */
static void op_get_other(struct target *t, struct model *m, int k)
{
    const struct mkey *e = &m->k[k];
    const void *v = NULL;
    void *copy = NULL;
    size_t len = 0;
    int rc;
    if (t->s) {
        rc = fc_get_alloc(t->s, m->name[k], m->nlen[k], &copy, &len);
        v = copy;
    } else {
        rc = fc_local_get_ref(owner(t, m, k), m->name[k], m->nlen[k], &v, &len,
                              NULL);
    }
    assert_int_equal(rc, e->present ? FC_OK : FC_ENOTFOUND);
    if (rc == FC_OK) {
        assert_int_equal(len, e->vlen);
        assert_memory_equal(v, e->val, len);
    }
    fc_free(copy);
}

static void op_incr(struct target *t, struct model *m, int k)
{
    struct mkey *e = &m->k[k];
    int64_t d = pick(2) ? (int64_t)pick(21) - 10 : (int64_t)pick(5);
    int64_t cur = 0, r = 0, want_r = 0;
    int want = FC_OK;
    if (e->present && !model_int(e, &cur))
        want = FC_ENOTINT;
    else if (__builtin_add_overflow(cur, d, &want_r))
        want = FC_EOVERFLOW;
    assert_int_equal(t_incr(t, m, k, d, &r), want);
    if (want != FC_OK)
        return;
    assert_true(r == want_r);
    if (!e->present)
        e->ttl = false;
    e->present = true;
    e->vlen = (size_t)snprintf(e->val, VMAX, "%lld", (long long)want_r);
}

static void op_ttl(struct target *t, struct model *m, int k)
{
    struct mkey *e = &m->k[k];
    switch (pick(3)) {
    case 0: {
        int64_t ttl = pick(2) ? HOUR_MS : -(int64_t)pick(3);
        assert_int_equal(t_pexpire(t, m, k, ttl),
                         e->present ? FC_OK : FC_ENOTFOUND);
        if (ttl > 0)
            e->ttl = true;
        else
            e->present = false;
        break;
    }
    case 1:
        assert_int_equal(t_persist(t, m, k),
                         e->present && e->ttl ? FC_OK : FC_ENOTFOUND);
        e->ttl = false;
        break;
    default: {
        int64_t p = t_pttl(t, m, k);
        if (!e->present)
            assert_int_equal(p, FC_TTL_NOKEY);
        else if (!e->ttl)
            assert_int_equal(p, FC_TTL_NOEXPIRE);
        else
            assert_true(p > 0 && p <= HOUR_MS);
    }
    }
}

struct mget_ctx {
    struct model *m;
    const int *idx;
    int calls;
    bool local;
};

static void mget_check(void *ctx, size_t i, int status, const void *v,
                       size_t len)
{
    struct mget_ctx *c = ctx;
    const struct mkey *e = &c->m->k[c->idx[i]];
    c->calls++;
    if (c->local && status == FC_ENOTLOCAL)
        return;
    assert_int_equal(status, e->present ? FC_OK : FC_ENOTFOUND);
    if (status == FC_OK) {
        assert_int_equal(len, e->vlen);
        assert_memory_equal(v, e->val, len);
    }
}

/* Batches: through the store, or one random worker's handle (foreign
 * items must come back FC_ENOTLOCAL and leave the model alone). */
static void op_batch(struct target *t, struct model *m)
{
    int n = 1 + (int)pick(20), idx[20], res[20];
    char vals[20][VMAX];
    fc_kv items[20];
    fc_slice keys[20];
    fc_local *l = t->w ? fc_workers_local(t->w, pick(t->nw)) : NULL;
    for (int i = 0; i < n; i++) {
        idx[i] = (int)pick(NK);
        keys[i] = (fc_slice){m->name[idx[i]], m->nlen[idx[i]]};
        size_t vl = random_value(vals[i]);
        items[i] = (fc_kv){keys[i], {vals[i], vl}, random_ttl()};
    }
    unsigned kind = pick(3);
    if (kind == 0) {
        int rc = l ? fc_local_mset(l, items, (size_t)n, res)
                   : fc_mset(t->s, items, (size_t)n, res);
        int first = FC_OK;
        for (int i = 0; i < n; i++) {
            uint64_t h = fc_hash(keys[i].data, keys[i].len);
            int want = l && fc_workers_owner(t->w, h) != fc_local_index(l)
                           ? FC_ENOTLOCAL
                           : model_set(&m->k[idx[i]], vals[i],
                                       items[i].value.len, items[i].ttl_ms, 0);
            assert_int_equal(res[i], want);
            if (want != FC_OK && first == FC_OK)
                first = want;
        }
        assert_int_equal(rc, first);
    } else if (kind == 1) {
        struct mget_ctx c = {m, idx, 0, l != NULL};
        assert_int_equal(l ? fc_local_mget(l, keys, (size_t)n, mget_check, &c)
                           : fc_mget(t->s, keys, (size_t)n, mget_check, &c),
                         FC_OK);
        assert_int_equal(c.calls, n);
    } else if (t->s) {
        size_t removed = 0, want = 0;
        assert_int_equal(fc_mdel(t->s, keys, (size_t)n, &removed), FC_OK);
        for (int i = 0; i < n; i++) {
            want += m->k[idx[i]].present;
            m->k[idx[i]].present = false;
        }
        assert_int_equal(removed, want);
    }
}

static void step(struct target *t, struct model *m)
{
    int k = (int)pick(NK);
    unsigned op = pick(100);
    if (op < 25) {
        op_set(t, m, k);
    } else if (op < 45) {
        op_get(t, m, k);
    } else if (op < 52) {
        op_get_other(t, m, k);
    } else if (op < 58) {
        assert_int_equal(t_del(t, m, k),
                         m->k[k].present ? FC_OK : FC_ENOTFOUND);
        m->k[k].present = false;
    } else if (op < 63) {
        assert_int_equal(t_exists(t, m, k), m->k[k].present);
    } else if (op < 73) {
        op_incr(t, m, k);
    } else if (op < 85) {
        op_ttl(t, m, k);
    } else if (op < 97) {
        op_batch(t, m);
    } else {
        size_t live = 0;
        for (int i = 0; i < NK; i++)
            live += m->k[i].present;
        assert_int_equal(t_len(t), live);
    }
}

static void run(struct target *t, uint64_t seed)
{
    struct model m;
    model_init(&m);
    rng_state = seed;
    for (int i = 0; i < OPS; i++)
        step(t, &m);
    for (int k = 0; k < NK; k++) /* final full comparison */
        op_get(t, &m, k);
}

static void test_model_store(void **state)
{
    (void)state;
    const uint32_t shards[] = {1, 4, 64};
    for (size_t i = 0; i < 3; i++) {
        fc_store *s;
        fc_options o = {.shards = shards[i]};
        assert_int_equal(fc_store_open(&s, &o), FC_OK);
        struct target t = {s, NULL, 0};
        run(&t, 0x9E3779B97F4A7C15ull + i);
        fc_store_close(s);
    }
}

static void test_model_workers(void **state)
{
    (void)state;
    const unsigned workers[] = {1, 2, 3};
    for (size_t i = 0; i < 3; i++) {
        fc_workers *w;
        fc_options o = {.shards = 16};
        assert_int_equal(fc_workers_open(&w, &o, workers[i]), FC_OK);
        struct target t = {NULL, w, workers[i]};
        run(&t, 0xD1B54A32D192ED03ull + i);
        fc_workers_close(w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_store),
        cmocka_unit_test(test_model_workers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
