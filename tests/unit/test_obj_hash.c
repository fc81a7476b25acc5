/*
 * test_obj_hash.c — the hash type below the commands: serialize -> load
 * round trips in both encodings, malformed serialized values and op
 * records rejected (every truncation of a valid one), and replay
 * equivalence: the records a random run of hash commands reports, replayed
 * into a second shard, rebuild the same hashes.
 */
#include <stdio.h>

#include "engine/obj_hash.h"
#include "obj_replay.h"

static eng_obj *hash_of(th *t, const char *key)
{
    eng_obj *o = NULL;
    assert_int_equal(eng_obj_get(t->shards[0], eng_hash(key, strlen(key)), key,
                                 strlen(key), ENG_TYPE_HASH, TH_NOW, &o),
                     FC_OK);
    return o;
}

static void fill(th *t, const char *key, int n, int vlen)
{
    char f[32], v[256];
    memset(v, 'v', sizeof(v));
    for (int i = 0; i < n; i++) {
        snprintf(f, sizeof(f), "field:%d", i);
        v[vlen] = 0;
        RUN(t, "HSET", key, f, v);
    }
}

static void expect_same_obj(const eng_obj *a, const eng_obj *b)
{
    assert_int_equal(hobj_len(a), hobj_len(b));
    size_t pos = 0, fl, vl, vl2;
    const uint8_t *f, *v, *v2;
    while (hobj_next(a, &pos, &f, &fl, &v, &vl)) {
        assert_true(hobj_get(b, f, fl, &v2, &vl2));
        assert_int_equal(vl, vl2);
        assert_memory_equal(v, v2, vl);
    }
}

static void test_roundtrip(void **state)
{
    (void)state;
    rp_log log;
    th *t = rp_th_new(&log);
    fill(t, "small", 10, 5);
    fill(t, "large", 600, 20); /* past hash-max-listpack-entries (512) */
    fill(t, "long", 3, 100);
    RUN(t, "HSET", "small", "", "");
    const char *keys[] = {"small", "large", "long"};
    const char *encs[] = {"pack", "hashtable", "hashtable"};
    for (int k = 0; k < 3; k++) {
        eng_obj *o = hash_of(t, keys[k]), *l;
        assert_string_equal(eng_hash_ops.encoding(o), encs[k]);
        fc_buf s = {0}, s2 = {0};
        assert_int_equal(eng_obj_serialize(o, &s), FC_OK);
        assert_int_equal(eng_hash_ops.load((const uint8_t *)s.data, s.len, &l),
                         FC_OK);
        assert_string_equal(eng_hash_ops.encoding(l), encs[k]);
        expect_same_obj(o, l);
        expect_same_obj(l, o);
        assert_int_equal(eng_obj_serialize(l, &s2), FC_OK);
        assert_int_equal(s.len, s2.len);
        eng_obj *d = eng_hash_ops.dup(o);
        assert_non_null(d);
        expect_same_obj(o, d);
        assert_true(d->bytes > 0);
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
    fill(t, "small", 6, 3);
    fill(t, "large", 200, 3);
    const char *keys[] = {"small", "large"};
    for (int k = 0; k < 2; k++) {
        fc_buf s = {0};
        eng_obj *l;
        assert_int_equal(eng_obj_serialize(hash_of(t, keys[k]), &s), FC_OK);
        for (size_t n = 0; n < s.len; n++)
            assert_int_equal(eng_hash_ops.load((const uint8_t *)s.data, n, &l),
                             FC_EINVAL);
        fc_buf_putc(&s, 'x'); /* a trailing byte */
        assert_int_equal(eng_hash_ops.load((const uint8_t *)s.data, s.len, &l),
                         FC_EINVAL);
        fc_buf_free(&s);
    }
    /* A repeated field; a count beyond the bytes; an unterminated varint;
     * an item longer than the value. */
    static const uint8_t dup[] = {2, 1, 'a', 1, 'x', 1, 'a', 1, 'y'};
    static const uint8_t big[] = {0xff, 0xff, 0xff, 0x7f, 1, 'a', 1, 'b'};
    static const uint8_t unterminated[] = {1, 0x81};
    static const uint8_t longer[] = {1, 1, 'a', 9, 'b'};
    eng_obj *l;
    assert_int_equal(eng_hash_ops.load(dup, sizeof(dup), &l), FC_EINVAL);
    assert_int_equal(eng_hash_ops.load(big, sizeof(big), &l), FC_EINVAL);
    assert_int_equal(eng_hash_ops.load(unterminated, sizeof(unterminated), &l),
                     FC_EINVAL);
    assert_int_equal(eng_hash_ops.load(longer, sizeof(longer), &l), FC_EINVAL);
    /* eng_obj_load refuses an empty hash (Redis never stores one). */
    static const uint8_t empty[] = {0};
    assert_int_equal(eng_obj_load(t->shards[0], eng_hash("e", 1), "e", 1,
                                  ENG_TYPE_HASH, empty, 1, 0, 0, TH_NOW),
                     FC_EINVAL);
    th_free(t);
    rp_log_free(&log);
}

static void test_malformed_ops(void **state)
{
    (void)state;
    rp_log log;
    th *t = rp_th_new(&log);
    RUN(t, "HSET", "h", "a", "1", "b", "2");
    RUN(t, "HDEL", "h", "a");
    assert_int_equal(log.n, 2);
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    for (size_t i = 0; i < log.n; i++) {
        const rp_rec *r = &log.r[i];
        assert_int_equal(r->kind, FC_MUT_OP);
        for (size_t n = 0; n < r->vlen; n++)
            assert_int_equal(eng_obj_apply(sh, eng_hash("h", 1), "h", 1,
                                           ENG_TYPE_HASH, r->val, n, 0, TH_NOW),
                             FC_EINVAL);
        assert_int_equal(eng_len(sh), 0); /* nothing left behind */
    }
    th_free(t);
    rp_log_free(&log);
    eng_shard_free(sh);
}

static void test_bad_codes(void **state)
{
    (void)state;
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    /* u8 code | 5-byte argc | items, built by hand. */
    static const uint8_t unknown[] = {9, 0x81, 0x80, 0x80, 0x80, 0, 1, 'a'};
    static const uint8_t odd[] = {HOP_SET, 0x81, 0x80, 0x80, 0x80, 0, 1, 'a'};
    static const uint8_t none[] = {HOP_DEL, 0x80, 0x80, 0x80, 0x80, 0};
    assert_int_equal(eng_obj_apply(sh, eng_hash("h", 1), "h", 1, ENG_TYPE_HASH,
                                   unknown, sizeof(unknown), 0, TH_NOW),
                     FC_EINVAL);
    assert_int_equal(eng_obj_apply(sh, eng_hash("h", 1), "h", 1, ENG_TYPE_HASH,
                                   odd, sizeof(odd), 0, TH_NOW),
                     FC_EINVAL);
    assert_int_equal(eng_obj_apply(sh, eng_hash("h", 1), "h", 1, ENG_TYPE_HASH,
                                   none, sizeof(none), 0, TH_NOW),
                     FC_EINVAL);
    assert_int_equal(eng_len(sh), 0);
    eng_shard_free(sh);
}

static void test_replay_equivalence(void **state)
{
    (void)state;
    rp_log log;
    th *t = rp_th_new(&log);
    uint64_t rng = 42;
    char key[16], f[16], f2[16], v[96], n[32];
    static const char *const incs[] = {"1.5", "-0.25", "1e3", "0.1", "3"};
    for (int step = 0; step < 6000; step++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        unsigned r = (unsigned)(rng >> 33);
        int k = (int)(r % 5);
        int span = k < 2 ? 700 : 30; /* two keys cross the thresholds */
        snprintf(key, sizeof(key), "h%d", k);
        snprintf(f, sizeof(f), "f%u", (r >> 3) % (unsigned)span);
        snprintf(f2, sizeof(f2), "f%u", (r >> 13) % (unsigned)span);
        size_t vl = (r >> 7) % 8 == 0 ? 80 : (r >> 11) % 10;
        memset(v, 'a' + (int)(r % 26), vl);
        v[vl] = 0;
        switch ((r >> 20) % 10) {
        case 0:
        case 1:
        case 2:
            RUN(t, "HSET", key, f, v, f2, "x");
            break;
        case 3:
            RUN(t, "HMSET", key, f, v);
            break;
        case 4:
        case 5:
            RUN(t, "HDEL", key, f, f2);
            break;
        case 6:
            snprintf(n, sizeof(n), "%d", (int)(r % 100) - 50);
            RUN(t, "HINCRBY", key, f, n);
            break;
        case 7:
            RUN(t, "HINCRBYFLOAT", key, f, incs[r % 5]);
            break;
        case 8:
            RUN(t, "HSETNX", key, f, v);
            break;
        default:
            if (r % 50 == 0)
                RUN(t, "DEL", key);
            else
                RUN(t, "HGET", key, f);
            break;
        }
    }
    eng_shard *b = eng_shard_new(0, 0, NULL);
    rp_replay(&log, 0, b);
    for (int k = 0; k < 5; k++) {
        snprintf(key, sizeof(key), "h%d", k);
        rp_same(t->shards[0], b, key, ENG_TYPE_HASH, 2);
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
    fill(t, "small", 6, 3);
    fill(t, "large", 200, 3);
    RUN(t, "HDEL", "large", "field:1", "field:2");
    const char *keys[] = {"small", "large"};
    uint64_t rng = 99;
    for (int k = 0; k < 2; k++)
        rp_fuzz_value(&eng_hash_ops, hash_of(t, keys[k]), &rng);
    rp_fuzz_ops(&log, ENG_TYPE_HASH, &rng);
    th_free(t);
    rp_log_free(&log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_malformed_serialized),
        cmocka_unit_test(test_malformed_ops),
        cmocka_unit_test(test_bad_codes),
        cmocka_unit_test(test_replay_equivalence),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
