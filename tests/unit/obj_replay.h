/*
 * obj_replay.h — shared by test_obj_hash.c and test_obj_set.c: a command
 * harness (test_commands.h) whose one shard has an observer that records
 * every mutation, the replay of those records into a second shard (as the
 * WAL and a replica do: eng_obj_apply for ops, eng_obj_load for whole
 * typed values), and a canonical form of a serialized hash or set (its
 * elements sorted: a table's iteration order depends on its history) to
 * compare the two shards by; and the byte-flipping of valid values and
 * records both tests fuzz load and apply with.
 */
#ifndef FC_TEST_OBJ_REPLAY_H
#define FC_TEST_OBJ_REPLAY_H

#include "engine/obj.h"
#include "test_commands.h"

typedef struct rp_rec {
    fc_mutation_kind kind;
    unsigned type;
    uint64_t seq;
    char *key;
    size_t klen;
    uint8_t *val;
    size_t vlen;
    int64_t exp;
} rp_rec;

typedef struct rp_log {
    rp_rec *r;
    size_t n, cap;
    eng_observer obs;
} rp_log;

static inline void rp_fn(void *ctx, const fc_mutation *m)
{
    rp_log *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->r = realloc(l->r, l->cap * sizeof(*l->r));
        assert_non_null(l->r);
    }
    rp_rec *r = &l->r[l->n++];
    r->kind = m->kind;
    r->type = m->value_type;
    r->seq = m->seq;
    r->exp = m->expire_at_ms;
    r->klen = m->key_len;
    r->key = malloc(m->key_len + 1);
    if (m->key_len)
        memcpy(r->key, m->key, m->key_len);
    r->vlen = m->value ? m->value_len : 0;
    r->val = malloc(r->vlen + 1);
    if (r->vlen)
        memcpy(r->val, m->value, r->vlen);
}

static inline void rp_log_free(rp_log *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->r[i].key);
        free(l->r[i].val);
    }
    free(l->r);
}

/* A one-shard harness whose shard reports to log. */
static inline th *rp_th_new(rp_log *log)
{
    th *t = th_new(1);
    memset(log, 0, sizeof(*log));
    log->obs.fn = rp_fn;
    log->obs.ctx = log;
    eng_shard_free(t->shards[0]);
    t->shards[0] = eng_shard_new(0, 0, &log->obs);
    assert_non_null(t->shards[0]);
    return t;
}

/* Replays log[from..) into sh. */
static inline void rp_replay(const rp_log *l, size_t from, eng_shard *sh)
{
    for (size_t i = from; i < l->n; i++) {
        const rp_rec *r = &l->r[i];
        uint64_t h = eng_hash(r->key, r->klen);
        int rc = FC_OK;
        switch (r->kind) {
        case FC_MUT_OP:
            rc = eng_obj_apply(sh, h, r->key, r->klen, r->type, r->val, r->vlen,
                               r->seq, TH_NOW);
            break;
        case FC_MUT_SET:
            if (r->type)
                rc = eng_obj_load(sh, h, r->key, r->klen, r->type, r->val,
                                  r->vlen, r->exp, 0, TH_NOW);
            else
                rc = eng_set(sh, h, r->key, r->klen, r->val, r->vlen, r->exp, 0,
                             TH_NOW, NULL, NULL);
            break;
        case FC_MUT_DEL:
        case FC_MUT_EXPIRED:
            eng_del(sh, h, r->key, r->klen, TH_NOW, NULL);
            break;
        default:
            break;
        }
        assert_int_equal(rc, FC_OK);
    }
}

static inline bool rp_varint(const uint8_t **p, const uint8_t *end, size_t *out)
{
    size_t x = 0;
    for (unsigned s = 0; s < 64; s += 7) {
        if (*p >= end)
            return false;
        uint8_t c = *(*p)++;
        x |= (size_t)(c & 0x7f) << s;
        if (!(c & 0x80)) {
            *out = x;
            return true;
        }
    }
    return false;
}

static int rp_cmp(const void *a, const void *b)
{
    const fc_buf *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->data, y->data, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* The serialized value of key (NULL: absent) made canonical: elements
 * (per items each) sorted, joined into out. */
static inline bool rp_canon(eng_shard *sh, const char *key, unsigned type,
                            size_t per, fc_buf *out)
{
    eng_obj *o;
    out->len = 0;
    if (eng_obj_get(sh, eng_hash(key, strlen(key)), key, strlen(key), type,
                    TH_NOW, &o) != FC_OK)
        return false;
    fc_buf s = {0};
    assert_int_equal(eng_obj_serialize(o, &s), FC_OK);
    const uint8_t *p = (const uint8_t *)s.data, *end = p + s.len;
    size_t count = 0, len = 0;
    assert_true(rp_varint(&p, end, &count));
    fc_buf *el = calloc(count ? count : 1, sizeof(*el));
    for (size_t i = 0; i < count; i++) {
        for (size_t j = 0; j < per; j++) {
            assert_true(rp_varint(&p, end, &len));
            assert_true(len <= (size_t)(end - p));
            fc_buf_append(&el[i], &len, sizeof(len));
            fc_buf_append(&el[i], p, len);
            p += len;
        }
    }
    assert_true(p == end);
    qsort(el, count, sizeof(*el), rp_cmp);
    for (size_t i = 0; i < count; i++) {
        fc_buf_append(out, el[i].data, el[i].len);
        fc_buf_free(&el[i]);
    }
    free(el);
    fc_buf_free(&s);
    return true;
}

/* Asserts key holds the same elements in both shards. */
static inline void rp_same(eng_shard *a, eng_shard *b, const char *key,
                           unsigned type, size_t per)
{
    fc_buf x = {0}, y = {0};
    bool ha = rp_canon(a, key, type, per, &x);
    bool hb = rp_canon(b, key, type, per, &y);
    assert_int_equal(ha, hb);
    assert_int_equal(x.len, y.len);
    if (x.len)
        assert_memory_equal(x.data, y.data, x.len);
    fc_buf_free(&x);
    fc_buf_free(&y);
}

/* Random byte changes (1 to 4 per round) of o's serialized form, 3000
 * rounds: t->load answers FC_OK or FC_EINVAL, never crashes (ASan). */
static inline void rp_fuzz_value(const eng_type_ops *t, const eng_obj *o,
                                 uint64_t *rng)
{
    fc_buf s = {0};
    assert_int_equal(eng_obj_serialize(o, &s), FC_OK);
    uint8_t *b = malloc(s.len);
    for (int round = 0; round < 3000; round++) {
        memcpy(b, s.data, s.len);
        for (int j = 0; j < 1 + round % 4; j++) {
            *rng = *rng * 6364136223846793005ull + 1;
            b[(*rng >> 33) % s.len] = (uint8_t)(*rng >> 20);
        }
        eng_obj *l;
        int rc = t->load(b, s.len, &l);
        assert_true(rc == FC_OK || rc == FC_EINVAL);
        if (rc == FC_OK)
            eng_obj_free(l);
    }
    free(b);
    fc_buf_free(&s);
}

/* One random byte change per round, 50 rounds, of every op record in l,
 * replayed on a scratch shard: FC_OK or FC_EINVAL, never a crash. */
static inline void rp_fuzz_ops(const rp_log *l, unsigned type, uint64_t *rng)
{
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    for (size_t i = 0; i < l->n; i++) {
        const rp_rec *r = &l->r[i];
        if (r->kind != FC_MUT_OP || r->vlen == 0)
            continue;
        uint8_t *b = malloc(r->vlen);
        for (int round = 0; round < 50; round++) {
            memcpy(b, r->val, r->vlen);
            *rng = *rng * 6364136223846793005ull + 1;
            b[(*rng >> 33) % r->vlen] = (uint8_t)(*rng >> 20);
            int rc = eng_obj_apply(sh, eng_hash("f", 1), "f", 1, type, b,
                                   r->vlen, 0, TH_NOW);
            assert_true(rc == FC_OK || rc == FC_EINVAL);
        }
        free(b);
    }
    eng_shard_free(sh);
}

#endif /* FC_TEST_OBJ_REPLAY_H */
