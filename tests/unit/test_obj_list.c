/*
 * test_obj_list.c — lists in the engine: serialize -> load round trips in
 * both encodings, malformed serialized values and op records refused
 * (every truncation of a valid one), and replay equivalence: a random
 * sequence of list commands on one shard, every FC_MUT_OP / FC_MUT_SET /
 * FC_MUT_DEL record captured and replayed into a second shard, which must
 * end up with the same serialized values (what the WAL and replication
 * rely on).
 */
#include "test_commands.h"

#include <stdio.h>

#include "engine/obj.h"
#include "engine/obj_list.h"
#include "engine/obj_list_int.h" /* to see the tail offsets in use */

#define NOW TH_NOW

static uint64_t H(const char *k, size_t n)
{
    return eng_hash(k, n);
}

/* --- a list built through the engine functions --- */

static eng_obj *build(size_t n, size_t elen, unsigned seed)
{
    eng_obj *o = eng_list_ops.create();
    assert_non_null(o);
    char buf[4096];
    for (size_t i = 0; i < n; i++) {
        size_t len = elen ? elen : (size_t)((i * 7 + seed) % 40);
        for (size_t j = 0; j < len; j++)
            buf[j] = (char)('a' + (i + j + seed) % 26);
        if (!elen && i % 3 == 1) /* integers too: another item form */
            len = (size_t)snprintf(buf, sizeof(buf), "%lld",
                                   (long long)(i * 2654435761u) - 99999 *
                                       (long long)(i % 7));
        assert_int_equal(lst_push(o, (i + seed) % 3 != 0, buf, len), FC_OK);
    }
    return o;
}

static void serialize(const eng_obj *o, fc_buf *b)
{
    b->len = 0;
    assert_int_equal(eng_obj_serialize(o, b), FC_OK);
}

typedef struct walk_ctx {
    const eng_obj *o;
    size_t pos; /* one past the element expected next */
} walk_ctx;

static void walk_check(void *ctx, const uint8_t *p, size_t n)
{
    walk_ctx *w = ctx;
    const uint8_t *q;
    size_t m;
    assert_true(w->pos > 0);
    assert_true(lst_index(w->o, --w->pos, &q, &m));
    assert_int_equal(n, m);
    assert_memory_equal(p, q, n);
}

static void test_round_trip(void **state)
{
    (void)state;
    size_t sizes[] = {1, 5, 100, 3000, 20000};
    fc_buf a = {0}, b = {0};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        eng_obj *o = build(sizes[s], 0, (unsigned)s);
        assert_int_equal(lst_len(o), sizes[s]);
        assert_string_equal(eng_list_ops.encoding(o),
                            sizes[s] >= 3000 ? "chunked" : "pack");
        serialize(o, &a);
        eng_obj *l;
        assert_int_equal(eng_list_ops.load((const uint8_t *)a.data, a.len, &l),
                         FC_OK);
        assert_int_equal(lst_len(l), sizes[s]);
        serialize(l, &b);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        eng_obj *d = eng_list_ops.dup(o);
        serialize(d, &b);
        assert_memory_equal(a.data, b.data, a.len);
        /* element by element, against the iterator */
        lst_iter it;
        const uint8_t *p;
        size_t n, i = 0;
        lst_iter_at(o, 0, &it);
        while (lst_iter_next(&it, &p, &n)) {
            const uint8_t *q;
            size_t m;
            assert_true(lst_index(l, i, &q, &m));
            assert_int_equal(n, m);
            assert_memory_equal(p, q, n);
            i++;
        }
        assert_int_equal(i, sizes[s]);
        /* backwards, node by node, from every end, against the index */
        for (size_t end = sizes[s]; end > 0; end = end * 2 / 3) {
            walk_ctx w = {.o = o, .pos = end};
            assert_int_equal(lst_walk_back(o, end, end, walk_check, &w),
                             FC_OK);
            assert_int_equal(w.pos, 0);
        }
        eng_list_ops.free(o);
        eng_list_ops.free(l);
        eng_list_ops.free(d);
    }
    fc_buf_free(&a);
    fc_buf_free(&b);
}

static void test_malformed_values(void **state)
{
    (void)state;
    fc_buf a = {0};
    eng_obj *o = build(300, 0, 1);
    serialize(o, &a);
    eng_obj *l;
    for (size_t cut = 0; cut < a.len; cut++)
        assert_int_equal(
            eng_list_ops.load((const uint8_t *)a.data, cut, &l), FC_EINVAL);
    fc_buf_putc(&a, 0); /* a trailing byte */
    assert_int_equal(eng_list_ops.load((const uint8_t *)a.data, a.len, &l),
                     FC_EINVAL);
    static const uint8_t bad[][12] = {
        {0x02, 0x01, 'a'},                   /* count above the items */
        {0x01, 0x05, 'a'},                   /* item past the end */
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* endless varint */
         0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
        {0x01, 0x80},                        /* cut varint */
    };
    size_t lens[] = {3, 3, 12, 2};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(eng_list_ops.load(bad[i], lens[i], &l), FC_EINVAL);
    /* an empty list is not a value */
    uint8_t zero = 0;
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    assert_int_equal(eng_obj_load(sh, H("k", 1), "k", 1, ENG_TYPE_LIST, &zero,
                                  1, 0, 0, NOW),
                     FC_EINVAL);
    eng_shard_free(sh);
    eng_list_ops.free(o);
    fc_buf_free(&a);
}

/* Applies rec to a fresh copy of a 3-element list: the result code. */
static int apply_to_fresh(const void *rec, size_t n)
{
    eng_obj *o = build(3, 4, 0);
    eng_op_reader r;
    unsigned code;
    int rc = eng_op_open(rec, n, &code, &r);
    if (rc == FC_OK)
        rc = eng_list_ops.apply(o, code, &r);
    eng_list_ops.free(o);
    return rc;
}

static void test_malformed_ops(void **state)
{
    (void)state;
    fc_buf keep = {0};
    struct {
        unsigned code;
        const char *args[4];
        int nargs;
    } good[] = {
        {LOP_PUSH, {"1", "x", "y"}, 3}, {LOP_POP, {"0", "2"}, 2},
        {LOP_SET, {"1", "zz"}, 2},      {LOP_INSERT, {"3", "w"}, 2},
        {LOP_REM, {"-1", "abcd"}, 2},   {LOP_TRIM, {"1", "1"}, 2},
    };
    for (size_t g = 0; g < sizeof(good) / sizeof(good[0]); g++) {
        eng_op *op = eng_op_begin(good[g].code);
        for (int i = 0; i < good[g].nargs; i++)
            eng_op_arg(op, good[g].args[i], strlen(good[g].args[i]));
        /* seal through a commit-less copy: the record as the observer sees
         * it is what eng_op_record gives; here the builder's bytes with
         * the argc patched as op_seal does */
        keep.len = 0;
        fc_buf_append(&keep, op->b.data, op->b.len);
        size_t v = op->argc;
        for (int i = 0; i < 4; i++, v >>= 7)
            keep.data[op->argc_at + (size_t)i] = (char)((v & 0x7f) | 0x80);
        keep.data[op->argc_at + 4] = (char)(v & 0x7f);
        assert_int_equal(apply_to_fresh(keep.data, keep.len), FC_OK);
        for (size_t cut = 0; cut < keep.len; cut++)
            assert_int_equal(apply_to_fresh(keep.data, cut), FC_EINVAL);
    }
    /* well-formed records with bad arguments */
    const char *badv[][3] = {
        {"\x02", "0", "9"},  /* pop more than there is */
        {"\x02", "2", "1"},  /* bad side */
        {"\x03", "3", "x"},  /* set past the end */
        {"\x04", "4", "x"},  /* insert past the end */
        {"\x06", "2", "2"},  /* trim more than there is */
        {"\x09", "0", "0"},  /* unknown code */
        {"\x02", "0", "-1"}, /* negative count */
    };
    for (size_t i = 0; i < sizeof(badv) / sizeof(badv[0]); i++) {
        eng_op *op = eng_op_begin((unsigned)badv[i][0][0]);
        eng_op_arg(op, badv[i][1], strlen(badv[i][1]));
        eng_op_arg(op, badv[i][2], strlen(badv[i][2]));
        keep.len = 0;
        fc_buf_append(&keep, op->b.data, op->b.len);
        keep.data[op->argc_at] = (char)0x82;
        for (int j = 1; j < 4; j++)
            keep.data[op->argc_at + (size_t)j] = (char)0x80;
        keep.data[op->argc_at + 4] = 0;
        assert_int_equal(apply_to_fresh(keep.data, keep.len), FC_EINVAL);
    }
    fc_buf_free(&keep);
}

static size_t rnd(uint64_t *s, size_t m)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (size_t)((*s >> 33) % m);
}

/* --- a long list against a model, end operations first (the tail
 * offsets kept for the last node must follow every change) --- */

#define TM_MAX 40000

static void tm_check(const eng_obj *o, char **m, size_t n)
{
    assert_int_equal(lst_len(o), n);
    lst_iter it;
    const uint8_t *p;
    size_t len, i = 0;
    lst_iter_at(o, 0, &it);
    while (lst_iter_next(&it, &p, &len)) {
        assert_int_equal(len, strlen(m[i]));
        assert_memory_equal(p, m[i], len);
        i++;
    }
    assert_int_equal(i, n);
}

static void test_tail_model(void **state)
{
    (void)state;
    char **m = calloc(TM_MAX + 16, sizeof(char *));
    assert_non_null(m);
    size_t n = 0;
    uint64_t rng = 7;
    eng_obj *o = eng_list_ops.create();
    char buf[64];
    size_t kept = 0;
    for (int step = 0; step < 30000; step++) {
        size_t r = rnd(&rng, 100);
        size_t k = rnd(&rng, 1000000);
        if (r % 3 == 0)
            snprintf(buf, sizeof(buf), "%zu", k); /* integer items */
        else
            snprintf(buf, sizeof(buf), "e%zu", k);
        size_t bl = strlen(buf);
        if ((r < 45 || n < 2000) && n < TM_MAX) { /* push at the tail */
            assert_int_equal(lst_push(o, true, buf, bl), FC_OK);
            m[n++] = strdup(buf);
        } else if (r < 55 && n < TM_MAX) { /* push at the head */
            assert_int_equal(lst_push(o, false, buf, bl), FC_OK);
            memmove(m + 1, m, n * sizeof(char *));
            m[0] = strdup(buf);
            n++;
        } else if (r < 80) { /* pop 1..3 at the tail */
            size_t c = 1 + rnd(&rng, 3);
            if (c > n)
                c = n;
            lst_del(o, n - c, c);
            for (size_t j = n - c; j < n; j++)
                free(m[j]);
            n -= c;
        } else if (r < 85 && n) { /* pop at the head */
            lst_del(o, 0, 1);
            free(m[0]);
            memmove(m, m + 1, (n - 1) * sizeof(char *));
            n--;
        } else if (r < 90 && n) { /* set near the tail */
            size_t at = n - 1 - rnd(&rng, n < 50 ? n : 50);
            assert_int_equal(lst_set(o, at, buf, bl), FC_OK);
            free(m[at]);
            m[at] = strdup(buf);
        } else if (r < 95 && n < TM_MAX) { /* insert near the tail */
            size_t at = n - rnd(&rng, n < 50 ? n + 1 : 50);
            assert_int_equal(lst_insert(o, at, buf, bl), FC_OK);
            memmove(m + at + 1, m + at, (n - at) * sizeof(char *));
            m[at] = strdup(buf);
            n++;
        } else if (n > 10) { /* remove a range ending near the tail */
            size_t c = 1 + rnd(&rng, 5), at = n - c - rnd(&rng, 5);
            lst_del(o, at, c);
            for (size_t j = at; j < at + c; j++)
                free(m[j]);
            memmove(m + at, m + at + c, (n - at - c) * sizeof(char *));
            n -= c;
        }
        if (n) { /* the tail read every time */
            const uint8_t *p;
            size_t len;
            assert_true(lst_index(o, n - 1, &p, &len));
            assert_int_equal(len, strlen(m[n - 1]));
            assert_memory_equal(p, m[n - 1], len);
        }
        kept += ((list_obj *)o)->toff != NULL;
        if (step % 1000 == 0)
            tm_check(o, m, n);
    }
    tm_check(o, m, n);
    assert_true(kept > 20000); /* the offsets were used, not rebuilt */
    eng_list_ops.free(o);
    for (size_t j = 0; j < n; j++)
        free(m[j]);
    free(m);
}

/* --- the head node's front room (obj_list_head.c) against a model:
 * pushes and pops at the head use it, every other change closes it; the
 * heap count stays exact (the room is in node 0's block, counted), only
 * node 0 of a chunked list of two or more nodes ever has room, and the
 * room stays within its bound --- */

#include <malloc.h>

static void head_invariants(const eng_obj *o)
{
    const list_obj *l = (const list_obj *)o;
    size_t nb = 0;
    for (uint32_t i = 0; i < l->nn; i++) {
        const eng_pack *pk = NODE(l, i);
        const uint8_t *block = i == 0 ? pk->data - l->hgap : pk->data;
        nb += block ? malloc_usable_size((void *)block) : 0;
    }
    assert_int_equal(nb, l->nb);
    if (l->hgap) {
        assert_int_equal(l->o.enc, LENC_CHUNKED);
        assert_true(l->nn >= 2);
        /* Room of max(64, a quarter), pops give it back past the items. */
        size_t used = NODE(l, 0)->used;
        assert_true(l->hgap <= (used > 64 ? used : 64) + 64);
    }
}

static void test_head_room_model(void **state)
{
    (void)state;
    char **m = calloc(TM_MAX + 16, sizeof(char *));
    assert_non_null(m);
    size_t n = 0, roomy = 0;
    uint64_t rng = 11;
    eng_obj *o = eng_list_ops.create();
    char buf[64];
    for (int step = 0; step < 40000; step++) {
        size_t r = rnd(&rng, 100);
        size_t k = rnd(&rng, 1000000);
        snprintf(buf, sizeof(buf), r % 3 ? "h%zu" : "%zu", k);
        size_t bl = strlen(buf);
        if ((r < 50 || n < 3000) && n < TM_MAX) { /* LPUSH */
            assert_int_equal(lst_push(o, false, buf, bl), FC_OK);
            memmove(m + 1, m, n * sizeof(char *));
            m[0] = strdup(buf);
            n++;
        } else if (r < 80) { /* LPOP 1..3 */
            size_t c = 1 + rnd(&rng, 3);
            if (c > n)
                c = n;
            lst_del(o, 0, c);
            for (size_t j = 0; j < c; j++)
                free(m[j]);
            memmove(m, m + c, (n - c) * sizeof(char *));
            n -= c;
        } else if (r < 85 && n) { /* LSET near the head */
            size_t at = rnd(&rng, n < 20 ? n : 20);
            assert_int_equal(lst_set(o, at, buf, bl), FC_OK);
            free(m[at]);
            m[at] = strdup(buf);
        } else if (r < 90 && n < TM_MAX) { /* LINSERT near the head */
            size_t at = rnd(&rng, n < 20 ? n + 1 : 20);
            assert_int_equal(lst_insert(o, at, buf, bl), FC_OK);
            memmove(m + at + 1, m + at, (n - at) * sizeof(char *));
            m[at] = strdup(buf);
            n++;
        } else if (r < 93 && n) { /* LREM 1 of the head element */
            char *v = strdup(m[0]);
            assert_int_equal(lst_rem(o, 1, v, strlen(v)), 1);
            free(m[0]);
            memmove(m, m + 1, (n - 1) * sizeof(char *));
            n--;
            free(v);
        } else if (r < 95 && n > 10) { /* a range inside the head node */
            size_t at = 1 + rnd(&rng, 5), c = 1 + rnd(&rng, 3);
            lst_del(o, at, c);
            for (size_t j = at; j < at + c; j++)
                free(m[j]);
            memmove(m + at, m + at + c, (n - at - c) * sizeof(char *));
            n -= c;
        } else if (n) { /* RPOP: the tail, far from the room */
            lst_del(o, n - 1, 1);
            free(m[--n]);
        }
        if (n) {
            const uint8_t *p;
            size_t len;
            assert_true(lst_index(o, 0, &p, &len));
            assert_int_equal(len, strlen(m[0]));
            assert_memory_equal(p, m[0], len);
        }
        roomy += ((list_obj *)o)->hgap != 0;
        head_invariants(o);
        if (step % 2000 == 0)
            tm_check(o, m, n);
    }
    /* A drain from the head: the room must be given back as it grows. */
    while (n > 2500) {
        lst_del(o, 0, 1);
        free(m[0]);
        memmove(m, m + 1, (n - 1) * sizeof(char *));
        n--;
        head_invariants(o);
    }
    tm_check(o, m, n);
    /* A copy sees the same list. */
    eng_obj *d = eng_list_ops.dup(o);
    assert_non_null(d);
    tm_check(d, m, n);
    eng_list_ops.free(d);
    assert_true(roomy > 20000); /* the room was used, not always closed */
    eng_list_ops.free(o);
    for (size_t j = 0; j < n; j++)
        free(m[j]);
    free(m);
}

/* --- replay equivalence --- */

typedef struct capture {
    eng_shard *dst;
    size_t ops, sets, dels;
} capture;

static void capture_fn(void *ctx, const fc_mutation *m)
{
    capture *cp = ctx;
    uint64_t h = H(m->key, m->key_len);
    switch (m->kind) {
    case FC_MUT_OP:
        cp->ops++;
        assert_int_equal(eng_obj_apply(cp->dst, h, m->key, m->key_len,
                                       m->value_type, m->value, m->value_len,
                                       0, NOW),
                         FC_OK);
        break;
    case FC_MUT_SET:
        cp->sets++;
        if (m->value_type)
            assert_int_equal(eng_obj_load(cp->dst, h, m->key, m->key_len,
                                          m->value_type, m->value,
                                          m->value_len, m->expire_at_ms, 0,
                                          NOW),
                             FC_OK);
        else
            assert_int_equal(eng_set(cp->dst, h, m->key, m->key_len, m->value,
                                     m->value_len, m->expire_at_ms, 0, NOW,
                                     NULL, NULL),
                             FC_OK);
        break;
    case FC_MUT_DEL:
    case FC_MUT_EXPIRED:
        cp->dels++;
        eng_del(cp->dst, h, m->key, m->key_len, NOW, NULL);
        break;
    default:
        break;
    }
}

static bool saw_chunked;

static void compare_key(eng_shard *a, eng_shard *b, const char *k)
{
    eng_obj *oa = NULL, *ob = NULL;
    size_t n = strlen(k);
    int ra = eng_obj_get(a, H(k, n), k, n, ENG_TYPE_LIST, NOW, &oa);
    int rb = eng_obj_get(b, H(k, n), k, n, ENG_TYPE_LIST, NOW, &ob);
    assert_int_equal(ra, rb);
    if (ra != FC_OK)
        return;
    fc_buf x = {0}, y = {0};
    if (!strcmp(eng_list_ops.encoding(oa), "chunked"))
        saw_chunked = true;
    serialize(oa, &x);
    serialize(ob, &y);
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.data, y.data, x.len);
    fc_buf_free(&x);
    fc_buf_free(&y);
}

/* fill: list-max-listpack-size for the run (small ones make many nodes:
 * splits, merges and conversions all happen). */
static void replay_run(long fill)
{
    atomic_store(&eng_limits.list_max_listpack_size, fill);
    saw_chunked = false;
    th *t = th_new(1);
    capture cp = {.dst = eng_shard_new(0, 0, NULL)};
    eng_observer obs = {capture_fn, &cp};
    eng_shard_free(t->shards[0]);
    t->shards[0] = eng_shard_new(0, 0, &obs);
    const char *keys[] = {"a", "b", "c"};
    char v[600], n1[24], n2[24];
    uint64_t rng = 42;
#define RND(m) rnd(&rng, (m))
    for (int step = 0; step < 6000; step++) {
        const char *k = keys[RND(3)], *d = keys[RND(3)];
        size_t len = fill < 0 || RND(8) == 0 ? 300 + RND(300) : 1 + RND(6);
        for (size_t j = 0; j < len; j++)
            v[j] = (char)('a' + RND(4));
        v[len] = '\0';
        snprintf(n1, sizeof(n1), "%d", (int)RND(12) - 6);
        snprintf(n2, sizeof(n2), "%d", (int)RND(12) - 6);
        const char *s1 = RND(2) ? "LEFT" : "RIGHT";
        const char *s2 = RND(2) ? "LEFT" : "RIGHT";
        const char *where = RND(2) ? "BEFORE" : "AFTER";
        switch (RND(15)) {
        case 0: case 1: case 14:
            RUN(t, "RPUSH", k, v, v + len / 2, v + len - 1); break;
        case 2: RUN(t, "LPUSH", k, v); break;
        case 3: RUN(t, "LPOP", k, "2"); break;
        case 4: RUN(t, "RPOP", k); break;
        case 5: RUN(t, "LSET", k, n1, v); break;
        case 6: RUN(t, "LINSERT", k, where, "a", v); break;
        case 7: RUN(t, "LREM", k, n1, v + len - 1); break;
        case 8: RUN(t, "LTRIM", k, n1, n2); break;
        case 9: RUN(t, "LMOVE", k, d, s1, s2); break;
        case 10: RUN(t, "RPOPLPUSH", k, d); break;
        case 11: RUN(t, "LMPOP", "2", k, d, "RIGHT", "COUNT", "3"); break;
        case 12: RUN(t, "BLMOVE", k, d, s2, s1, "0"); break;
        default: RUN(t, "BLPOP", k, d, "0"); break;
        }
        if (step % 50 == 0)
            for (int i = 0; i < 3; i++)
                compare_key(t->shards[0], cp.dst, keys[i]);
    }
    for (int i = 0; i < 3; i++)
        compare_key(t->shards[0], cp.dst, keys[i]);
    assert_true(cp.ops > 1000);
    assert_true(saw_chunked); /* both encodings were replayed */
    eng_shard_free(cp.dst);
    th_free(t);
    atomic_store(&eng_limits.list_max_listpack_size, -2);
}

static void test_replay_equivalence(void **state)
{
    (void)state;
    replay_run(4);
    replay_run(1);
    replay_run(-1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_malformed_values),
        cmocka_unit_test(test_malformed_ops),
        cmocka_unit_test(test_tail_model),
        cmocka_unit_test(test_head_room_model),
        cmocka_unit_test(test_replay_equivalence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
