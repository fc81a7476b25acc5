/*
 * test_obj_zset.c — the sorted set type below RESP: the B+tree against a
 * sorted-array model (ranks, bounds, iteration both ways), the pack's
 * score compaction, serialize -> load round trips in both encodings, every
 * truncation of a serialized value and of an op record rejected, corrupted
 * bytes never crashing the loader, and replay equivalence: random commands
 * on a shard with an observer, the records replayed into a second shard,
 * every value compared byte for byte.
 */
#include "test_commands.h"

#include <math.h>
#include <stdio.h>

#include "engine/obj.h"
#include "engine/obj_zset.h"

static uint64_t rnd_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    uint64_t x = rnd_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rnd_state = x;
}

/* --- the tree, directly --- */

static int cmp_elem_ptr(const void *a, const void *b)
{
    return zs_cmp_elem(*(zs_elem *const *)a, *(zs_elem *const *)b);
}

static zs_elem *mk(double s, unsigned id)
{
    char m[16];
    int n = snprintf(m, sizeof(m), "e%u", id);
    zs_elem *e = malloc(sizeof(*e) + (size_t)n);
    assert_non_null(e);
    e->score = s;
    e->len = (uint32_t)n;
    memcpy(e->m, m, (size_t)n);
    return e;
}

static bool before_score(double s, const char *m, size_t n, const void *ctx)
{
    (void)m, (void)n;
    return s < *(const double *)ctx;
}

static void test_tree_model(void **state)
{
    (void)state;
    enum { N = 20000 };
    zs_tree t = {0};
    zs_elem **model = calloc(N, sizeof(*model));
    size_t n = 0;
    unsigned id = 0;
    for (int step = 0; step < 60000; step++) {
        bool ins = n == 0 || (n < N && rnd() % 3 != 0);
        if (ins) {
            /* runs of ascending keys too: the lopsided split path */
            double s =
                step % 5000 < 1000 ? (double)step : (double)(rnd() % 1000);
            zs_elem *e = mk(s, id++);
            assert_int_equal(zt_insert(&t, e), FC_OK);
            size_t lo = 0, hi = n; /* sorted insert into the model */
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (cmp_elem_ptr(&model[mid], &e) < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            memmove(&model[lo + 1], &model[lo], (n - lo) * sizeof(*model));
            model[lo] = e;
            n++;
        } else {
            size_t i = (size_t)(rnd() % n);
            zs_elem *e = model[i];
            zt_remove(&t, e);
            memmove(&model[i], &model[i + 1], (n - i - 1) * sizeof(*model));
            n--;
            free(e);
        }
        assert_int_equal(t.count, n);
        if (step % 997 == 0 && n) {
            for (size_t i = 0; i < n; i += 1 + n / 50)
                assert_int_equal(zt_rank(&t, model[i]), i);
            zt_iter it;
            size_t i = 0;
            for (zt_iter_at(&t, 0, &it); it.valid; zt_iter_next(&it), i++)
                assert_ptr_equal(zt_iter_get(&it), model[i]);
            assert_int_equal(i, n);
            for (zt_iter_at(&t, n - 1, &it); it.valid; zt_iter_prev(&it))
                assert_ptr_equal(zt_iter_get(&it), model[--i]);
            assert_int_equal(i, 0);
            double b = (double)(rnd() % 1200);
            size_t want = 0;
            while (want < n && model[want]->score < b)
                want++;
            assert_int_equal(zt_lower(&t, before_score, &b), want);
        }
    }
    zt_free_all(&t, true);
    assert_int_equal(t.bytes, 0);
    free(model);
}

/* --- ZSCAN's cursor across index grows and shrinks --- */

struct seen {
    unsigned char *hit;
    size_t n;
};

static void scan_hit(void *ctx, const char *m, size_t n, double score)
{
    struct seen *sn = ctx;
    unsigned id;
    (void)score;
    char buf[16];
    assert_true(n < sizeof(buf));
    memcpy(buf, m, n);
    buf[n] = 0;
    if (sscanf(buf, "s%u", &id) == 1 && id < sn->n)
        sn->hit[id] = 1;
}

static void scan_phase(bool grow)
{
    enum { STABLE = 2000, CHURN = 60000 };
    eng_obj *o = zs_new();
    char m[16];
    unsigned out;
    double ns;
    for (unsigned i = 0; i < STABLE; i++) { /* present the whole scan */
        snprintf(m, sizeof(m), "s%u", i);
        assert_int_equal(zs_add(o, m, strlen(m), i, 0, &out, &ns), FC_OK);
    }
    if (!grow) /* start large: the churn below shrinks the index */
        for (unsigned i = 0; i < CHURN; i++) {
            snprintf(m, sizeof(m), "c%u", i);
            assert_int_equal(zs_add(o, m, strlen(m), i, 0, &out, &ns), FC_OK);
        }
    struct seen sn = {calloc(STABLE, 1), STABLE};
    size_t cursor = 0, calls = 0;
    unsigned next = 0;
    do {
        cursor = zs_scan(o, cursor, scan_hit, &sn);
        /* between calls: a few hundred changes, resizing the index */
        for (int k = 0; k < 300 && next < CHURN; k++, next++) {
            snprintf(m, sizeof(m), "c%u", next);
            if (grow)
                zs_add(o, m, strlen(m), next, 0, &out, &ns);
            else
                assert_true(zs_del(o, m, strlen(m)));
        }
        assert_true(++calls < 10000000);
    } while (cursor != 0);
    for (unsigned i = 0; i < STABLE; i++)
        assert_true(sn.hit[i]);
    free(sn.hit);
    eng_obj_free(o);
}

static void test_scan_across_resizes(void **state)
{
    (void)state;
    scan_phase(true);
    scan_phase(false);
}

/* --- objects --- */

static eng_obj *build(size_t n, size_t mlen, bool ints)
{
    eng_obj *o = zs_new();
    char m[128];
    assert_true(mlen < sizeof(m));
    for (size_t i = 0; i < n; i++) {
        snprintf(m, sizeof(m), "%0*zu", (int)mlen, i * 7919 % 100003);
        unsigned out;
        double ns, s = ints ? (double)(i % 50) - 25 : (double)i * 0.37 - 3;
        if (i % 17 == 0)
            s = i % 34 ? INFINITY : -INFINITY;
        assert_int_equal(zs_add(o, m, mlen, s, 0, &out, &ns), FC_OK);
    }
    return o;
}

static void ser(const eng_obj *o, fc_buf *b)
{
    b->len = 0;
    assert_int_equal(eng_obj_serialize(o, b), FC_OK);
}

static void test_round_trip(void **state)
{
    (void)state;
    size_t sizes[] = {1, 5, 128, 129, 1000, 20000};
    fc_buf a = {0}, b = {0};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (int ints = 0; ints < 2; ints++) {
            eng_obj *o = build(sizes[i], 8, ints);
            assert_int_equal(zs_len(o), sizes[i]);
            assert_int_equal(o->enc,
                             sizes[i] > 128 ? ZS_ENC_TREE : ZS_ENC_PACK);
            ser(o, &a);
            eng_obj *l;
            assert_int_equal(
                eng_zset_ops.load((const uint8_t *)a.data, a.len, &l), FC_OK);
            assert_int_equal(l->enc, o->enc);
            ser(l, &b);
            assert_int_equal(a.len, b.len);
            assert_memory_equal(a.data, b.data, a.len);
            eng_obj *d = eng_zset_ops.dup(o);
            ser(d, &b);
            assert_memory_equal(a.data, b.data, a.len);
            eng_obj_free(o);
            eng_obj_free(l);
            eng_obj_free(d);
        }
    }
    /* a long member makes a tree however few */
    eng_obj *o = build(3, 100, true);
    assert_int_equal(o->enc, ZS_ENC_TREE);
    eng_obj_free(o);
    fc_buf_free(&a);
    fc_buf_free(&b);
}

static void test_pack_scores(void **state)
{
    (void)state;
    double v[] = {0,
                  -0.0,
                  1,
                  -1,
                  127,
                  128,
                  -128,
                  -129,
                  1e15,
                  -1e15,
                  3.5,
                  1e300,
                  -1e-300,
                  INFINITY,
                  -INFINITY,
                  36028797018963967.0,
                  -36028797018963967.0,
                  36028797018963968.0,
                  4503599627370497.0};
    eng_obj *o = zs_new();
    char m[8];
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        unsigned out;
        double ns, got;
        snprintf(m, sizeof(m), "m%zu", i);
        assert_int_equal(zs_add(o, m, strlen(m), v[i], 0, &out, &ns), FC_OK);
        assert_true(zs_score(o, m, strlen(m), &got));
        assert_true(got == v[i]);
        /* no -0 is kept (zs_add) */
        assert_int_equal(!!signbit(got), v[i] == 0 ? 0 : !!signbit(v[i]));
    }
    assert_int_equal(o->enc, ZS_ENC_PACK);
    eng_obj_free(o);
}

static void test_load_rejects(void **state)
{
    (void)state;
    fc_buf a = {0};
    eng_obj *l;
    for (int big = 0; big < 2; big++) {
        eng_obj *o = build(big ? 200 : 20, 6, false);
        ser(o, &a);
        for (size_t n = 0; n < a.len; n++) /* every truncation */
            assert_int_equal(eng_zset_ops.load((const uint8_t *)a.data, n, &l),
                             FC_EINVAL);
        uint8_t *copy = malloc(a.len + 1);
        for (int k = 0; k < 3000; k++) { /* corruption: never a crash */
            memcpy(copy, a.data, a.len);
            for (int j = 0; j < 3; j++)
                copy[rnd() % a.len] = (uint8_t)rnd();
            if (eng_zset_ops.load(copy, a.len, &l) == FC_OK)
                eng_obj_free(l);
        }
        memcpy(copy, a.data, a.len);
        copy[a.len] = 0; /* trailing garbage */
        assert_int_equal(eng_zset_ops.load(copy, a.len + 1, &l), FC_EINVAL);
        free(copy);
        eng_obj_free(o);
    }
    /* out of order, duplicate, NaN */
    const uint8_t dup[] = {2, 1,   'a', 0, 0, 0, 0, 0, 0,    0xf0, 0x3f,
                           1, 'a', 0,   0, 0, 0, 0, 0, 0xf0, 0x3f};
    assert_int_equal(eng_zset_ops.load(dup, sizeof(dup), &l), FC_EINVAL);
    const uint8_t order[] = {2, 1,   'b', 0, 0, 0, 0, 0, 0,    0xf0, 0x3f,
                             1, 'a', 0,   0, 0, 0, 0, 0, 0xf0, 0x3f};
    assert_int_equal(eng_zset_ops.load(order, sizeof(order), &l), FC_EINVAL);
    const uint8_t nan[] = {1, 1, 'a', 0, 0, 0, 0, 0, 0, 0xf8, 0x7f};
    assert_int_equal(eng_zset_ops.load(nan, sizeof(nan), &l), FC_EINVAL);
    const uint8_t ok[] = {1, 1, 'a', 0, 0, 0, 0, 0, 0, 0xf0, 0x3f};
    assert_int_equal(eng_zset_ops.load(ok, sizeof(ok), &l), FC_OK);
    eng_obj_free(l);
    fc_buf_free(&a);
}

static void test_op_rejects(void **state)
{
    (void)state;
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    const char *k = "k";
    uint64_t h = eng_hash(k, 1);
    eng_op *op = eng_op_begin(ZOP_ADD);
    eng_op_arg_f64(op, 1.5);
    eng_op_arg(op, "mem", 3);
    eng_op_arg_f64(op, 2.5);
    eng_op_arg(op, "other", 5);
    /* seal by committing through a scratch object: the record bytes */
    eng_obj *o;
    assert_int_equal(eng_obj_open(sh, h, k, 1, ENG_TYPE_ZSET, true, TH_NOW, &o),
                     FC_OK);
    eng_obj_commit(sh, h, k, 1, o, op); /* empty object: removed */
    fc_buf rec = {0};
    fc_buf_append(&rec, op->b.data, op->b.len);
    for (size_t n = 0; n < rec.len; n++)
        assert_int_equal(
            eng_obj_apply(sh, h, k, 1, ENG_TYPE_ZSET, rec.data, n, 0, TH_NOW),
            FC_EINVAL);
    assert_int_equal(eng_len(sh), 0);
    assert_int_equal(
        eng_obj_apply(sh, h, k, 1, ENG_TYPE_ZSET, rec.data, rec.len, 0, TH_NOW),
        FC_OK);
    assert_int_equal(eng_obj_get(sh, h, k, 1, ENG_TYPE_ZSET, TH_NOW, &o),
                     FC_OK);
    assert_int_equal(zs_len(o), 2);
    /* unknown code, odd ADD, NaN score */
    ((uint8_t *)rec.data)[0] = 9;
    assert_int_equal(
        eng_obj_apply(sh, h, k, 1, ENG_TYPE_ZSET, rec.data, rec.len, 0, TH_NOW),
        FC_EINVAL);
    op = eng_op_begin(ZOP_ADD);
    eng_op_arg_f64(op, 1);
    eng_op_arg(op, "a", 1);
    eng_op_arg_f64(op, 2);
    eng_obj_open(sh, h, k, 1, ENG_TYPE_ZSET, true, TH_NOW, &o);
    eng_obj_commit(sh, h, k, 1, o, NULL);
    fc_buf odd = {0};
    fc_buf_append(&odd, op->b.data, op->b.len);
    /* the builder seals on commit only: seal by hand (argc 3) */
    uint8_t *p = (uint8_t *)odd.data + op->argc_at;
    p[0] = 0x83, p[1] = 0x80, p[2] = 0x80, p[3] = 0x80, p[4] = 0;
    assert_int_equal(
        eng_obj_apply(sh, h, k, 1, ENG_TYPE_ZSET, odd.data, odd.len, 0, TH_NOW),
        FC_EINVAL);
    assert_int_equal(eng_obj_get(sh, h, k, 1, ENG_TYPE_ZSET, TH_NOW, &o),
                     FC_OK);
    assert_int_equal(zs_len(o), 2); /* unchanged by the rejected records */
    fc_buf_free(&rec);
    fc_buf_free(&odd);
    eng_shard_free(sh);
}

/* --- replay equivalence --- */

typedef struct replay {
    eng_shard *dst;
    size_t ops, sets, dels;
    int fails;
} replay;

static void replay_fn(void *ctx, const fc_mutation *m)
{
    replay *r = ctx;
    uint64_t h = eng_hash(m->key, m->key_len);
    int rc = FC_OK;
    switch (m->kind) {
    case FC_MUT_OP:
        r->ops++;
        rc = eng_obj_apply(r->dst, h, m->key, m->key_len, m->value_type,
                           m->value, m->value_len, m->seq, TH_NOW);
        break;
    case FC_MUT_SET:
        r->sets++;
        if (m->value_type)
            rc = eng_obj_load(r->dst, h, m->key, m->key_len, m->value_type,
                              m->value, m->value_len, 0, 0, TH_NOW);
        else
            rc = eng_set(r->dst, h, m->key, m->key_len, m->value, m->value_len,
                         0, 0, TH_NOW, NULL, NULL);
        break;
    case FC_MUT_DEL:
        r->dels++;
        eng_del(r->dst, h, m->key, m->key_len, TH_NOW, NULL);
        break;
    default:
        break;
    }
    if (rc != FC_OK)
        r->fails++;
}

static const char *keys[] = {"za", "zb", "zc", "zd"};

static void member(char *buf, size_t cap, int pool)
{
    unsigned i = (unsigned)(rnd() % (unsigned)pool);
    if (i == 7)
        snprintf(buf, cap, "long-member-%070u", i); /* > 64 bytes */
    else
        snprintf(buf, cap, "m%u", i);
}

static void score(char *buf, size_t cap)
{
    switch (rnd() % 7) {
    case 0:
        snprintf(buf, cap, "inf");
        break;
    case 6:
        snprintf(buf, cap, "-0");
        break;
    case 1:
        snprintf(buf, cap, "%.3f", (double)(rnd() % 10000) / 7.0);
        break;
    default:
        snprintf(buf, cap, "%d", (int)(rnd() % 200) - 100);
    }
}

static void test_replay(void **state)
{
    (void)state;
    th *t = th_new(1);
    replay r = {.dst = eng_shard_new(0, 0, NULL)};
    eng_observer obs = {replay_fn, &r};
    eng_shard_free(t->shards[0]);
    t->shards[0] = eng_shard_new(0, 0, &obs);
    char a[100], b[100], c[100], d[120], e[120];
    for (int step = 0; step < 20000; step++) {
        const char *k = keys[rnd() % 4], *k2 = keys[rnd() % 4];
        int pool = k[1] == 'a' ? 300 : 60;
        switch (rnd() % 14) {
        case 0:
        case 1:
        case 2: {
            static const char *fl[] = {"CH", "NX", "XX", "GT", "LT", "CH"};
            score(a, sizeof(a)), member(b, sizeof(b), pool);
            score(c, sizeof(c)), member(d, sizeof(d), pool);
            if (rnd() % 2)
                RUN(t, "ZADD", k, a, b, c, d);
            else
                RUN(t, "ZADD", k, fl[rnd() % 6], a, b, c, d);
            break;
        }
        case 3:
            member(b, sizeof(b), pool);
            snprintf(a, sizeof(a), "%d", (int)(rnd() % 9) - 4);
            RUN(t, "ZINCRBY", k, a, b);
            break;
        case 4:
            member(b, sizeof(b), pool);
            RUN(t, "ZADD", k, "INCR", "GT", "1.5", b);
            break;
        case 5:
            member(b, sizeof(b), pool), member(c, sizeof(c), pool);
            RUN(t, "ZREM", k, b, c);
            break;
        case 6:
            snprintf(a, sizeof(a), "%d", (int)(rnd() % 5));
            RUN(t, rnd() % 2 ? "ZPOPMIN" : "ZPOPMAX", k, a);
            break;
        case 7:
            snprintf(a, sizeof(a), "%d", (int)(rnd() % 40) - 20);
            snprintf(b, sizeof(b), "(%d", (int)(rnd() % 60) - 20);
            RUN(t, "ZREMRANGEBYSCORE", k, a, b);
            break;
        case 8:
            snprintf(a, sizeof(a), "%d", (int)(rnd() % 10));
            snprintf(b, sizeof(b), "%d", (int)(rnd() % 10));
            RUN(t, "ZREMRANGEBYRANK", k, a, b);
            break;
        case 9:
            member(b, sizeof(b), pool), member(c, sizeof(c), pool);
            snprintf(d, sizeof(d), "[%s", b);
            snprintf(e, sizeof(e), "(%s", c);
            RUN(t, "ZREMRANGEBYLEX", k, d, e);
            break;
        case 10:
            RUN(t, "ZUNIONSTORE", k, "2", k2, keys[rnd() % 4], "WEIGHTS",
                rnd() % 2 ? "1" : "-1", "0.5");
            break;
        case 11:
            RUN(t, "ZRANGESTORE", k, k2, "0", "150");
            break;
        case 12:
            RUN(t, "ZMPOP", "2", k, k2, "MIN", "COUNT", "3");
            break;
        default:
            if (rnd() % 20 == 0)
                RUN(t, "DEL", k);
            else
                RUN(t, "ZINTERSTORE", k, "2", k, k2, "AGGREGATE", "MAX");
        }
        if (step % 500 == 0 || step == 19999) {
            fc_buf x = {0}, y = {0};
            assert_int_equal(eng_len(t->shards[0]), eng_len(r.dst));
            for (int i = 0; i < 4; i++) {
                uint64_t h = eng_hash(keys[i], 2);
                eng_obj *o1, *o2;
                int r1 = eng_obj_get(t->shards[0], h, keys[i], 2, ENG_TYPE_ZSET,
                                     TH_NOW, &o1);
                int r2 = eng_obj_get(r.dst, h, keys[i], 2, ENG_TYPE_ZSET,
                                     TH_NOW, &o2);
                assert_int_equal(r1, r2);
                if (r1 != FC_OK)
                    continue;
                ser(o1, &x);
                ser(o2, &y);
                assert_int_equal(x.len, y.len);
                assert_memory_equal(x.data, y.data, x.len);
                assert_int_equal(o1->enc, o2->enc);
            }
            fc_buf_free(&x);
            fc_buf_free(&y);
        }
    }
    assert_int_equal(r.fails, 0);
    assert_true(r.ops > 1000);
    assert_true(r.sets > 100);
    eng_shard_free(r.dst);
    th_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_model),
        cmocka_unit_test(test_pack_scores),
        cmocka_unit_test(test_scan_across_resizes),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_load_rejects),
        cmocka_unit_test(test_op_rejects),
        cmocka_unit_test(test_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
