/*
 * test_obj_set.c — the set type below the commands: the intset (widths,
 * order), serialize -> load round trips in every encoding, malformed
 * serialized values and op records rejected (every truncation of a valid
 * one), and replay equivalence: the records a random run of set commands
 * (SPOP, SMOVE and the STORE forms included) reports, replayed into a
 * second shard, rebuild the same sets.
 */
#include <stdio.h>

#include "engine/obj_intset.h"
#include "engine/obj_set.h"
#include "obj_replay.h"

static eng_obj *set_of(th *t, const char *key)
{
    eng_obj *o = NULL;
    assert_int_equal(eng_obj_get(t->shards[0], eng_hash(key, strlen(key)), key,
                                 strlen(key), ENG_TYPE_SET, TH_NOW, &o),
                     FC_OK);
    return o;
}

static void test_intset(void **state)
{
    (void)state;
    intset s = {0};
    size_t pos;
    static const int64_t vals[] = {5,      -3,        1000,      0, 70000,
                                   -70000, INT64_MAX, INT64_MIN, 42};
    assert_int_equal(is_add(&s, 1000), FC_OK);
    assert_int_equal(is_add(&s, 1200), FC_OK);
    assert_int_equal(s.width, 1);             /* offsets from 1000 */
    assert_int_equal(is_add(&s, 900), FC_OK); /* a new base: rewritten */
    assert_int_equal(s.width, 2);
    assert_int_equal(is_get(&s, 0), 900);
    assert_int_equal(is_get(&s, 1), 1000);
    assert_int_equal(is_get(&s, 2), 1200);
    while (s.count)
        is_remove(&s, 0);
    assert_null(s.data);
    /* Every width, extremes, and any insertion order. */
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        assert_false(is_find(&s, vals[i], &pos));
        assert_int_equal(is_add(&s, vals[i]), FC_OK);
        for (size_t j = 0; j <= i; j++) {
            assert_true(is_find(&s, vals[j], &pos));
            assert_int_equal(is_get(&s, pos), vals[j]);
        }
    }
    assert_int_equal(s.width, 8);
    assert_int_equal(s.count, 9);
    for (size_t i = 1; i < s.count; i++)
        assert_true(is_get(&s, i - 1) < is_get(&s, i));
    assert_true(is_find(&s, INT64_MIN, &pos));
    assert_int_equal(pos, 0);
    is_remove(&s, pos);
    assert_false(is_find(&s, INT64_MIN, &pos));
    assert_int_equal(s.count, 8);
    intset d;
    assert_int_equal(is_copy(&d, &s), FC_OK);
    for (size_t i = 0; i < s.count; i++)
        assert_int_equal(is_get(&d, i), is_get(&s, i));
    is_free(&d);
    /* Descending inserts rebase every time. */
    is_free(&s);
    for (int64_t v = 600; v > 0; v -= 3)
        assert_int_equal(is_add(&s, v), FC_OK);
    for (size_t i = 0; i < s.count; i++)
        assert_int_equal(is_get(&s, i), 3 + 3 * (int64_t)i);
    is_free(&s);
}

static void test_roundtrip(void **state)
{
    (void)state;
    rp_log log;
    th *t = rp_th_new(&log);
    char m[80];
    for (int i = 0; i < 50; i++) {
        snprintf(m, sizeof(m), "%d", i * 1000 - 20000);
        RUN(t, "SADD", "ints", m);
        snprintf(m, sizeof(m), "m%d", i);
        RUN(t, "SADD", "pack", m);
    }
    for (int i = 0; i < 700; i++) {
        snprintf(m, sizeof(m), "%d", i);
        RUN(t, "SADD", "bigints", m);
        snprintf(m, sizeof(m), "member:%d", i);
        RUN(t, "SADD", "table", m);
    }
    const char *keys[] = {"ints", "pack", "bigints", "table"};
    const char *encs[] = {"intset", "pack", "hashtable", "hashtable"};
    for (int k = 0; k < 4; k++) {
        eng_obj *o = set_of(t, keys[k]), *l;
        assert_string_equal(eng_set_ops.encoding(o), encs[k]);
        fc_buf s = {0}, s2 = {0};
        assert_int_equal(eng_obj_serialize(o, &s), FC_OK);
        assert_int_equal(eng_set_ops.load((const uint8_t *)s.data, s.len, &l),
                         FC_OK);
        assert_string_equal(eng_set_ops.encoding(l), encs[k]);
        assert_int_equal(sobj_len(l), sobj_len(o));
        sobj_it it = {0};
        const uint8_t *p;
        size_t n;
        while (sobj_next(o, &it, &p, &n))
            assert_true(sobj_has(l, p, n));
        eng_obj *d = eng_set_ops.dup(o);
        assert_non_null(d);
        assert_int_equal(eng_obj_serialize(d, &s2), FC_OK);
        if (k < 2) /* compact forms keep their order */
            assert_memory_equal(s.data, s2.data, s.len);
        assert_int_equal(s.len, s2.len);
        eng_obj_free(d);
        eng_obj_free(l);
        fc_buf_free(&s);
        fc_buf_free(&s2);
    }
    th_free(t);
    rp_log_free(&log);
}

static void test_malformed_serialized(void **state)
{
    (void)state;
    rp_log log;
    th *t = rp_th_new(&log);
    char m[32];
    for (int i = 0; i < 200; i++) {
        snprintf(m, sizeof(m), "%d", i);
        if (i < 10)
            RUN(t, "SADD", "ints", m);
        if (i < 20) {
            snprintf(m, sizeof(m), "p%d", i);
            RUN(t, "SADD", "pack", m);
        }
        snprintf(m, sizeof(m), "t%d", i);
        RUN(t, "SADD", "table", m);
    }
    const char *keys[] = {"ints", "pack", "table"};
    for (int k = 0; k < 3; k++) {
        fc_buf s = {0};
        eng_obj *l;
        assert_int_equal(eng_obj_serialize(set_of(t, keys[k]), &s), FC_OK);
        for (size_t n = 0; n < s.len; n++)
            assert_int_equal(eng_set_ops.load((const uint8_t *)s.data, n, &l),
                             FC_EINVAL);
        fc_buf_putc(&s, 'x');
        assert_int_equal(eng_set_ops.load((const uint8_t *)s.data, s.len, &l),
                         FC_EINVAL);
        fc_buf_free(&s);
    }
    static const uint8_t dup[] = {2, 1, '7', 1, '7'};
    static const uint8_t dup_str[] = {2, 1, 'a', 1, 'a'};
    static const uint8_t big[] = {0xff, 0xff, 0x7f, 1, 'a'};
    static const uint8_t longer[] = {1, 5, 'a'};
    eng_obj *l;
    assert_int_equal(eng_set_ops.load(dup, sizeof(dup), &l), FC_EINVAL);
    assert_int_equal(eng_set_ops.load(dup_str, sizeof(dup_str), &l), FC_EINVAL);
    assert_int_equal(eng_set_ops.load(big, sizeof(big), &l), FC_EINVAL);
    assert_int_equal(eng_set_ops.load(longer, sizeof(longer), &l), FC_EINVAL);
    static const uint8_t empty[] = {0};
    assert_int_equal(eng_obj_load(t->shards[0], eng_hash("e", 1), "e", 1,
                                  ENG_TYPE_SET, empty, 1, 0, 0, TH_NOW),
                     FC_EINVAL);
    th_free(t);
    rp_log_free(&log);
}

static void test_malformed_ops(void **state)
{
    (void)state;
    rp_log log;
    th *t = rp_th_new(&log);
    RUN(t, "SADD", "s", "a", "12", "b");
    RUN(t, "SREM", "s", "a", "12");
    assert_int_equal(log.n, 2);
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    for (size_t i = 0; i < log.n; i++) {
        const rp_rec *r = &log.r[i];
        assert_int_equal(r->kind, FC_MUT_OP);
        assert_int_equal(r->type, ENG_TYPE_SET);
        for (size_t n = 0; n < r->vlen; n++)
            assert_int_equal(eng_obj_apply(sh, eng_hash("s", 1), "s", 1,
                                           ENG_TYPE_SET, r->val, n, 0, TH_NOW),
                             FC_EINVAL);
        assert_int_equal(eng_len(sh), 0);
    }
    static const uint8_t unknown[] = {7, 0x81, 0x80, 0x80, 0x80, 0, 1, 'a'};
    static const uint8_t none[] = {SOP_ADD, 0x80, 0x80, 0x80, 0x80, 0};
    assert_int_equal(eng_obj_apply(sh, eng_hash("s", 1), "s", 1, ENG_TYPE_SET,
                                   unknown, sizeof(unknown), 0, TH_NOW),
                     FC_EINVAL);
    assert_int_equal(eng_obj_apply(sh, eng_hash("s", 1), "s", 1, ENG_TYPE_SET,
                                   none, sizeof(none), 0, TH_NOW),
                     FC_EINVAL);
    assert_int_equal(eng_len(sh), 0);
    eng_shard_free(sh);
    th_free(t);
    rp_log_free(&log);
}

static void test_replay_equivalence(void **state)
{
    (void)state;
    rp_log log;
    th *t = rp_th_new(&log);
    uint64_t rng = 7;
    char key[16], k2[16], k3[16], m[96], n[16];
    for (int step = 0; step < 8000; step++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        unsigned r = (unsigned)(rng >> 33);
        int k = (int)(r % 6);
        snprintf(key, sizeof(key), "s%d", k);
        snprintf(k2, sizeof(k2), "s%u", (r >> 4) % 6);
        snprintf(k3, sizeof(k3), "s%u", (r >> 8) % 6);
        unsigned span = k < 2 ? 900 : 40;
        unsigned v = (r >> 12) % span;
        if (k == 2 || k == 3 || (r >> 3) % 3 == 0)
            snprintf(m, sizeof(m), "%u", v); /* integer members */
        else if ((r >> 5) % 16 == 0)
            snprintf(m, sizeof(m), "long-member-%070u", v);
        else
            snprintf(m, sizeof(m), "m%u", v);
        snprintf(n, sizeof(n), "%u", (r >> 2) % 4);
        switch ((r >> 22) % 12) {
        case 0:
        case 1:
        case 2:
        case 3:
            RUN(t, "SADD", key, m, "7");
            break;
        case 4:
        case 5:
            RUN(t, "SREM", key, m, "7");
            break;
        case 6:
            RUN(t, "SPOP", key);
            break;
        case 7:
            RUN(t, "SPOP", key, n);
            break;
        case 8:
            RUN(t, "SMOVE", key, k2, m);
            break;
        case 9:
            if (r % 8 == 0)
                RUN(t, "SUNIONSTORE", k3, key, k2);
            else if (r % 8 == 1)
                RUN(t, "SINTERSTORE", k3, key, k2);
            else if (r % 8 == 2)
                RUN(t, "SDIFFSTORE", k3, key, k2);
            else
                RUN(t, "SISMEMBER", key, m);
            break;
        default:
            RUN(t, "SCARD", key);
            break;
        }
    }
    size_t whole = 0, ops = 0;
    for (size_t i = 0; i < log.n; i++) {
        whole += log.r[i].kind == FC_MUT_SET && log.r[i].type == ENG_TYPE_SET;
        ops += log.r[i].kind == FC_MUT_OP;
    }
    assert_true(whole > 10 && ops > 1000); /* the STORE forms ran */
    eng_shard *b = eng_shard_new(0, 0, NULL);
    rp_replay(&log, 0, b);
    for (int k = 0; k < 6; k++) {
        snprintf(key, sizeof(key), "s%d", k);
        rp_same(t->shards[0], b, key, ENG_TYPE_SET, 1);
    }
    assert_int_equal(eng_len(t->shards[0]), eng_len(b));
    eng_shard_free(b);
    th_free(t);
    rp_log_free(&log);
}

/* Random byte changes of valid serialized values and op records: load and
 * apply answer FC_OK or FC_EINVAL, never crash (run under ASan). */
static void test_fuzz(void **state)
{
    (void)state;
    rp_log log;
    th *t = rp_th_new(&log);
    RUN(t, "SADD", "ints", "1", "-300", "70000");
    RUN(t, "SADD", "pack", "a", "bb", "1");
    char m[32];
    for (int i = 0; i < 200; i++) {
        snprintf(m, sizeof(m), "t%d", i);
        RUN(t, "SADD", "table", m);
    }
    RUN(t, "SREM", "table", "t1", "t2");
    const char *keys[] = {"ints", "pack", "table"};
    uint64_t rng = 99;
    for (int k = 0; k < 3; k++)
        rp_fuzz_value(&eng_set_ops, set_of(t, keys[k]), &rng);
    rp_fuzz_ops(&log, ENG_TYPE_SET, &rng);
    th_free(t);
    rp_log_free(&log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intset),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_malformed_serialized),
        cmocka_unit_test(test_malformed_ops),
        cmocka_unit_test(test_replay_equivalence),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
