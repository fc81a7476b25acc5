/*
 * test_engine_table.c — the engine's table under load: incremental resize
 * with every key checked all along, tombstone churn, scan guarantees across
 * resizes, and a randomized comparison against a naive reference model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/engine.h"

#define T0 1000000

static size_t key_of(char *buf, unsigned i)
{
    /* Binary keys with a NUL inside, of varying lengths. */
    int n = snprintf(buf, 40, "k%u", i);
    buf[n] = 0;
    memset(buf + n + 1, 'p', i % 7);
    return (size_t)n + 1 + i % 7;
}

static int put(eng_shard *sh, unsigned i)
{
    char k[48];
    size_t kl = key_of(k, i);
    return eng_set(sh, eng_hash(k, kl), k, kl, &i, sizeof(i), 0, 0, T0, NULL,
                   NULL);
}

static int del(eng_shard *sh, unsigned i)
{
    char k[48];
    size_t kl = key_of(k, i);
    return eng_del(sh, eng_hash(k, kl), k, kl, T0, NULL);
}

/* Asserts key i is present (with its value) or absent. */
static void check(eng_shard *sh, unsigned i, bool present)
{
    char k[48];
    size_t kl = key_of(k, i), vl;
    eng_entry *e = eng_get(sh, eng_hash(k, kl), k, kl, T0);
    const uint8_t *v;

    if (!present) {
        assert_null(e);
        return;
    }
    assert_non_null(e);
    v = eng_entry_value(e, &vl);
    assert_int_equal(vl, sizeof(i));
    assert_memory_equal(v, &i, sizeof(i));
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_resize_under_load(void **state)
{
    enum { N = 250000 };
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    bool *live = calloc(N, sizeof(bool));
    uint64_t s = 12345;
    size_t n = 0;

    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(put(sh, i), FC_OK);
        live[i] = true;
        n++;
        /* Interleave reads of random earlier keys and deletions. */
        unsigned j = (unsigned)(rnd(&s) % (i + 1));
        check(sh, j, live[j]);
        if (i % 3 == 2) {
            unsigned d = (unsigned)(rnd(&s) % (i + 1));
            assert_int_equal(del(sh, d), live[d] ? FC_OK : FC_ENOTFOUND);
            if (live[d])
                n--;
            live[d] = false;
        }
        assert_int_equal(eng_len(sh), n);
        if (i % 50000 == 49999)
            for (unsigned k = 0; k <= i; k++)
                check(sh, k, live[k]);
    }
    for (unsigned k = 0; k < N; k++)
        check(sh, k, live[k]);
    /* Delete everything, checking the survivors as the table shrinks. */
    for (unsigned k = 0; k < N; k++) {
        if (live[k]) {
            assert_int_equal(del(sh, k), FC_OK);
            live[k] = false;
            n--;
        }
        if (k % 25000 == 0)
            for (unsigned m = k; m < N; m += 7)
                check(sh, m, live[m]);
    }
    assert_int_equal(eng_len(sh), 0);
    free(live);
    eng_shard_free(sh);
}

static void test_tombstone_churn(void **state)
{
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    size_t first = 0;
    unsigned next = 1000;

    for (unsigned i = 0; i < 1000; i++)
        assert_int_equal(put(sh, i), FC_OK);
    /* Rounds of inserting fresh keys and deleting them again: tombstones
     * must be recycled, not accumulate into ever larger tables. */
    for (int round = 0; round < 300; round++) {
        for (unsigned i = 0; i < 700; i++)
            assert_int_equal(put(sh, next + i), FC_OK);
        for (unsigned i = 0; i < 700; i++)
            assert_int_equal(del(sh, next + i), FC_OK);
        next += 700;
        assert_int_equal(eng_len(sh), 1000);
        if (round == 0)
            first = eng_memory(sh);
        assert_true(eng_memory(sh) <= first * 2);
    }
    for (unsigned i = 0; i < 1000; i++)
        check(sh, i, true);
    /* One key at a time, 100k distinct keys: the table stays tiny. */
    eng_clear(sh);
    first = eng_memory(sh);
    for (unsigned i = 0; i < 100000; i++) {
        assert_int_equal(put(sh, next + i), FC_OK);
        assert_int_equal(del(sh, next + i), FC_OK);
        assert_true(eng_memory(sh) <= first + 1024);
    }
    eng_shard_free(sh);
}

/* Delete-one-insert-one churn at a steady count, random victims: lookups
 * of absent keys must stay short (table.c, "Probing": under SwissTable's
 * stop rule the runs of groups without an EMPTY byte grew past 100 groups
 * here), and the rebuilds that clear passed marks must not grow the
 * table. */
static void test_steady_churn_probes(void **state)
{
    enum { N = 20000 };
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    unsigned *live = malloc(N * sizeof(*live)), next = N;
    uint64_t s = 0x2545f4914f6cdd1dull;
    (void)state;
    assert_non_null(live);
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(put(sh, i), FC_OK);
        live[i] = i;
    }
    eng_sweep(sh, 1 << 20, 0);
    size_t mem0 = eng_memory(sh), worst = 0;
    for (unsigned it = 0; it < 10 * N; it++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        unsigned j = (unsigned)(s % N);
        assert_int_equal(del(sh, live[j]), FC_OK);
        assert_int_equal(put(sh, next), FC_OK);
        live[j] = next++;
        if (it % 1000 == 0 && it >= 2 * N) { /* past the load's own state */
            size_t p = eng_longest_probe(sh);
            worst = p > worst ? p : worst;
        }
    }
    print_message("steady churn: longest probe seen %zu groups\n", worst);
    assert_true(worst < 24);
    assert_int_equal(eng_len(sh), N);
    eng_sweep(sh, 1 << 20, 0);
    assert_true(eng_memory(sh) <= mem0 * 5 / 4);
    for (unsigned i = 0; i < N; i += 97)
        check(sh, live[i], true);
    free(live);
    eng_shard_free(sh);
}

/* --- scan --- */

struct visits {
    unsigned *count; /* per key index */
    unsigned n;
};

static void count_visit(void *ctx, const eng_entry *e)
{
    struct visits *v = ctx;
    size_t len;
    const uint8_t *val = eng_entry_value(e, &len);
    unsigned i;
    assert_int_equal(len, sizeof(i));
    memcpy(&i, val, sizeof(i));
    assert_true(i < v->n);
    v->count[i]++;
}

static void test_scan_exact(void **state)
{
    enum { N = 10000 };
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    struct visits v = {calloc(N, sizeof(unsigned)), N};
    uint64_t c = 0;
    int calls = 0;

    assert_int_equal(eng_scan(sh, 0, 10, T0, count_visit, &v), 0);
    for (unsigned i = 0; i < N; i++)
        assert_int_equal(put(sh, i), FC_OK);
    do {
        c = eng_scan(sh, c, 10, T0, count_visit, &v);
        assert_true(c < (1ULL << 48));
        calls++;
    } while (c != 0);
    assert_true(calls > 1);
    for (unsigned i = 0; i < N; i++)
        assert_int_equal(v.count[i], 1);
    free(v.count);
    eng_shard_free(sh);
}

static void test_scan_while_growing(void **state)
{
    enum { N = 60000, FIRST = 3000 };
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    struct visits v = {calloc(N, sizeof(unsigned)), N};
    uint64_t c = 0;
    unsigned next = FIRST;

    for (unsigned i = 0; i < FIRST; i++)
        assert_int_equal(put(sh, i), FC_OK);
    do {
        c = eng_scan(sh, c, 7, T0, count_visit, &v);
        for (int j = 0; j < 40 && next < N; j++)
            assert_int_equal(put(sh, next++), FC_OK);
    } while (c != 0);
    assert_true(next > FIRST * 4); /* the table resized several times */
    for (unsigned i = 0; i < FIRST; i++)
        assert_true(v.count[i] >= 1);
    free(v.count);
    eng_shard_free(sh);
}

static void test_scan_while_shrinking(void **state)
{
    enum { N = 40000 };
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    struct visits v = {calloc(N, sizeof(unsigned)), N};
    uint64_t c = 0;
    unsigned victim = 0;

    for (unsigned i = 0; i < N; i++)
        assert_int_equal(put(sh, i), FC_OK);
    do {
        c = eng_scan(sh, c, 20, T0, count_visit, &v);
        /* Delete 200 keys per call, sparing every 16th. */
        for (int j = 0; j < 200 && victim < N; victim++) {
            if (victim % 16) {
                assert_int_equal(del(sh, victim), FC_OK);
                j++;
            }
        }
    } while (c != 0);
    assert_int_equal(eng_len(sh), N / 16);
    for (unsigned i = 0; i < N; i += 16)
        assert_true(v.count[i] >= 1);
    free(v.count);
    eng_shard_free(sh);
}

/* --- randomized comparison against a naive model --- */

#define MK 256 /* keys */
#define MV 600 /* max value length */

struct model {
    bool present[MK];
    int64_t exp[MK];
    size_t len[MK];
    uint8_t val[MK][MV];
};

static size_t mkey(char *buf, unsigned k)
{
    return (size_t)snprintf(buf, 16, "m%u", k);
}

static bool mlive(struct model *m, unsigned k, int64_t now)
{
    if (m->present[k] && m->exp[k] != 0 && m->exp[k] <= now)
        m->present[k] = false;
    return m->present[k];
}

static void mcheck(eng_shard *sh, struct model *m, unsigned k, int64_t now)
{
    char key[16];
    size_t kl = mkey(key, k), vl;
    eng_entry *e = eng_get(sh, eng_hash(key, kl), key, kl, now);
    const uint8_t *v;

    if (!mlive(m, k, now)) {
        assert_null(e);
        return;
    }
    assert_non_null(e);
    v = eng_entry_value(e, &vl);
    assert_int_equal(vl, m->len[k]);
    if (vl)
        assert_memory_equal(v, m->val[k], vl);
    assert_int_equal(eng_entry_expire_at(e), m->exp[k]);
}

static size_t rand_value(uint64_t *s, uint8_t *buf)
{
    size_t n;
    switch (rnd(s) % 4) {
    case 0: /* a number, for incrby */
        return (size_t)snprintf((char *)buf, 24, "%lld",
                                (long long)(rnd(s) % 2000) - 1000);
    case 1:
        n = 120 + rnd(s) % 20; /* around the 1-byte varint boundary */
        break;
    default:
        n = rnd(s) % 24;
    }
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)rnd(s);
    return n;
}

static void model_set(eng_shard *sh, struct model *m, unsigned k, int64_t now,
                      uint64_t *s)
{
    char key[16];
    size_t kl = mkey(key, k);
    uint8_t v[MV];
    size_t vl = rand_value(s, v);
    unsigned flags = (unsigned)(rnd(s) % 8) & 7u;
    int64_t exp = rnd(s) % 3 ? 0 : now + (int64_t)(rnd(s) % 40) - 5;
    bool live = mlive(m, k, now);
    int want = FC_OK;

    if (flags & ENG_SET_NX && flags & ENG_SET_XX)
        flags &= ~(unsigned)ENG_SET_XX;
    if ((flags & ENG_SET_NX) && live)
        want = FC_EEXISTS;
    if ((flags & ENG_SET_XX) && !live)
        want = FC_ENOTSET;
    assert_int_equal(eng_set(sh, eng_hash(key, kl), key, kl, v, vl, exp, flags,
                             now, NULL, NULL),
                     want);
    if (want != FC_OK)
        return;
    if ((flags & ENG_SET_KEEPTTL) && live)
        exp = m->exp[k];
    if (exp != 0 && exp <= now) {
        m->present[k] = false;
        return;
    }
    m->present[k] = true;
    m->exp[k] = exp;
    m->len[k] = vl;
    memcpy(m->val[k], v, vl);
}

/* Reference string-to-int64 as Redis's string2ll, written differently. */
static bool ref_int(const uint8_t *v, size_t n, long long *out)
{
    char buf[32], back[32];
    char *end;
    if (n == 0 || n > 20)
        return false;
    memcpy(buf, v, n);
    buf[n] = 0;
    if (memchr(buf, 0, n))
        return false;
    *out = strtoll(buf, &end, 10);
    if (*end)
        return false;
    snprintf(back, sizeof(back), "%lld", *out);
    return strcmp(back, buf) == 0; /* canonical, and not clamped */
}

static void model_edit(eng_shard *sh, struct model *m, unsigned k, int64_t now,
                       uint64_t *s)
{
    char key[16];
    size_t kl = mkey(key, k), len = 0;
    uint64_t h = eng_hash(key, kl);
    uint8_t d[64];
    size_t dl = rnd(s) % 40;
    bool live = mlive(m, k, now);

    for (size_t i = 0; i < dl; i++)
        d[i] = (uint8_t)rnd(s);
    switch (rnd(s) % 3) {
    case 0: { /* append */
        size_t base = live ? m->len[k] : 0;
        if (base + dl > MV)
            return;
        assert_int_equal(eng_append(sh, h, key, kl, d, dl, now, &len), FC_OK);
        assert_int_equal(len, base + dl);
        if (!live) {
            m->present[k] = true;
            m->exp[k] = 0;
        }
        memcpy(m->val[k] + base, d, dl);
        m->len[k] = base + dl;
        break;
    }
    case 1: { /* setrange */
        size_t off = rnd(s) % 200, base = live ? m->len[k] : 0;
        size_t nl = off + dl > base ? off + dl : base;
        if (nl > MV)
            return;
        assert_int_equal(eng_setrange(sh, h, key, kl, off, d, dl, now, &len),
                         FC_OK);
        if (dl == 0) {
            assert_int_equal(len, base);
            return;
        }
        assert_int_equal(len, nl);
        if (!live) {
            m->present[k] = true;
            m->exp[k] = 0;
            m->len[k] = 0;
        }
        if (off > m->len[k])
            memset(m->val[k] + m->len[k], 0, off - m->len[k]);
        memcpy(m->val[k] + off, d, dl);
        m->len[k] = nl;
        break;
    }
    default: { /* incrby */
        long long cur = 0, delta = (long long)(rnd(s) % 100) - 50;
        int64_t res;
        int rc = eng_incrby(sh, h, key, kl, delta, now, &res);
        if (live && !ref_int(m->val[k], m->len[k], &cur)) {
            assert_int_equal(rc, FC_ENOTINT);
            return;
        }
        assert_int_equal(rc, FC_OK);
        assert_int_equal(res, cur + delta);
        if (!live) {
            m->present[k] = true;
            m->exp[k] = 0;
        }
        m->len[k] =
            (size_t)snprintf((char *)m->val[k], 24, "%lld", cur + delta);
    }
    }
}

static void model_misc(eng_shard *sh, struct model *m, unsigned k, int64_t now,
                       uint64_t *s)
{
    char key[16];
    size_t kl = mkey(key, k);
    uint64_t h = eng_hash(key, kl);
    bool live = mlive(m, k, now);

    switch (rnd(s) % 3) {
    case 0:
        assert_int_equal(eng_del(sh, h, key, kl, now, NULL),
                         live ? FC_OK : FC_ENOTFOUND);
        m->present[k] = false;
        break;
    case 1: {
        int64_t exp = rnd(s) % 4 == 0 ? 0 : now + (int64_t)(rnd(s) % 40) - 5;
        assert_int_equal(eng_set_expire(sh, h, key, kl, exp, now),
                         live ? FC_OK : FC_ENOTFOUND);
        if (live && exp != 0 && exp <= now)
            m->present[k] = false;
        else if (live)
            m->exp[k] = exp;
        break;
    }
    default:
        (void)eng_sweep(sh, rnd(s) % 64, now);
    }
}

static void scan_collect(void *ctx, const eng_entry *e)
{
    bool *seen = ctx;
    size_t kl;
    const uint8_t *k = eng_entry_key(e, &kl);
    char buf[16];
    assert_true(kl < sizeof(buf) && k[0] == 'm');
    memcpy(buf, k + 1, kl - 1);
    buf[kl - 1] = 0;
    seen[atoi(buf)] = true;
}

static void model_full_check(eng_shard *sh, struct model *m, int64_t now)
{
    bool seen[MK] = {false};
    size_t live = 0;
    uint64_t c = 0;

    do
        c = eng_scan(sh, c, 50, now, scan_collect, seen);
    while (c);
    for (unsigned k = 0; k < MK; k++) {
        bool l = mlive(m, k, now);
        live += l;
        assert_int_equal(seen[k], l);
        mcheck(sh, m, k, now);
    }
    /* After reads expired the stale keys, the count is exact. */
    assert_int_equal(eng_len(sh), live);
}

static void test_model(void **state)
{
    struct model *m = calloc(1, sizeof(*m));
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    uint64_t s = 0xC0FFEE;
    int64_t now = T0;

    for (int op = 0; op < 30000; op++) {
        unsigned k = (unsigned)(rnd(&s) % MK);
        now += (int64_t)(rnd(&s) % 3);
        switch (rnd(&s) % 4) {
        case 0:
            mcheck(sh, m, k, now);
            break;
        case 1:
            model_set(sh, m, k, now, &s);
            break;
        case 2:
            model_edit(sh, m, k, now, &s);
            break;
        default:
            model_misc(sh, m, k, now, &s);
        }
        if (op % 2500 == 0)
            model_full_check(sh, m, now);
    }
    model_full_check(sh, m, now);
    free(m);
    eng_shard_free(sh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resize_under_load),
        cmocka_unit_test(test_tombstone_churn),
        cmocka_unit_test(test_steady_churn_probes),
        cmocka_unit_test(test_scan_exact),
        cmocka_unit_test(test_scan_while_growing),
        cmocka_unit_test(test_scan_while_shrinking),
        cmocka_unit_test(test_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
