/* test_session.c — route modes (issue 12): the session prefix grammar,
 * session chunks co-locating in one shard (shared and worker-local
 * handles), the combined route hash surviving table resizes, precomputed
 * routes, and packed session writes. */
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

#define K(s) (s), strlen(s)

static void expect_prefix(const char *key, int want, const char *prefix)
{
    char buf[512];
    size_t len = 0;
    int rc = fc_session_prefix(key, strlen(key), buf, sizeof(buf), &len);
    assert_int_equal(rc, want);
    if (want == 1) {
        assert_int_equal(len, strlen(prefix));
        assert_memory_equal(buf, prefix, len);
    }
}

static void test_prefix_grammar(void **state)
{
    (void)state;
    expect_prefix("s:42:c:7", 1, "s:42");
    expect_prefix("s:42:c:7:c:9", 1, "s:42:c:7"); /* the LAST ":c:" */
    expect_prefix("s:42", 1, "s:42");
    expect_prefix("s:42:l:0", 1, "s:42:l:0");
    expect_prefix("s::c:", 1, "s:");
    expect_prefix("s:", 1, "s:");
    expect_prefix("plain", 0, NULL);
    expect_prefix("x:42:c:7", 0, NULL);
    expect_prefix("model@session%abc@chunk3", 1, "lmcache-session:abc");
    expect_prefix("a@b@session%x", 1, "lmcache-session:x");
    expect_prefix("session%abc@tail", 1, "lmcache-session:abc");
    expect_prefix("a@session%", 1, "lmcache-session:");
    expect_prefix("a@session%1@session%2", 1, "lmcache-session:1");
    expect_prefix("session%abc", 0, NULL); /* no '@' */
    expect_prefix("a@xsession%abc", 0, NULL);
    expect_prefix("\xff@session%x", 0, NULL);                    /* not UTF-8 */
    expect_prefix("\xc3\xa9@session%x", 1, "lmcache-session:x"); /* é */
    expect_prefix("\xed\xa0\x80@session%x", 0, NULL); /* a surrogate */

    char small[4];
    size_t len;
    assert_int_equal(fc_session_prefix(K("s:42:c:1"), small, 2, &len),
                     FC_ETRUNC);
    assert_int_equal(len, 4);
    assert_int_equal(fc_session_prefix(K("s:1"), NULL, 0, NULL), FC_EINVAL);
}

static void test_mode_names(void **state)
{
    (void)state;
    int m = -1;
    assert_int_equal(fc_route_mode_parse("full_key", &m), FC_OK);
    assert_int_equal(m, FC_ROUTE_FULL_KEY);
    assert_int_equal(fc_route_mode_parse("session_prefix", &m), FC_OK);
    assert_int_equal(m, FC_ROUTE_SESSION_PREFIX);
    assert_int_equal(fc_route_mode_parse("session", &m), FC_EINVAL);
    assert_int_equal(fc_route_mode_parse(NULL, &m), FC_EINVAL);
    assert_string_equal(fc_route_mode_name(FC_ROUTE_SESSION_PREFIX),
                        "session_prefix");
    assert_string_equal(fc_route_mode_name(FC_ROUTE_FULL_KEY), "full_key");
    assert_string_equal(fc_route_mode_name(9), "unknown");

    fc_store *s;
    fc_workers *w;
    fc_options o = {.route_mode = 9};
    assert_int_equal(fc_store_open(&s, &o), FC_EINVAL);
    assert_int_equal(fc_workers_open(&w, &o, 2), FC_EINVAL);
    o = (fc_options){.route_mode = FC_ROUTE_SESSION_PREFIX,
                     .data_dir = "/nonexistent/never-created"};
    assert_int_equal(fc_store_open(&s, &o), FC_EINVAL);
}

static fc_store *open_store(int mode, uint32_t shards, uint64_t seed)
{
    fc_store *s;
    fc_options o = {.shards = shards, .route_mode = mode, .hash_seed = seed};
    assert_int_equal(fc_store_open(&s, &o), FC_OK);
    return s;
}

/* Shards whose sequence moved. */
static unsigned shards_touched(fc_store *s)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < fc_store_shards(s); i++)
        n += fc_store_shard_seq(s, i) != 0;
    return n;
}

#define CHUNKS 48

static void chunk_key(char *buf, size_t cap, const char *session, int i)
{
    snprintf(buf, cap, "%s:c:%d", session, i);
}

static void test_colocate_shared(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        fc_store *s = open_store(mode, 64, mode ? 77 : 0);
        fc_route sr;
        assert_int_equal(fc_store_route_session(s, K("s:42"), &sr), FC_OK);
        unsigned same = 0;
        for (int i = 0; i < CHUNKS; i++) {
            char k[32];
            chunk_key(k, sizeof(k), "s:42", i);
            fc_route r;
            assert_int_equal(fc_store_route(s, K(k), &r), FC_OK);
            same += r.shard == sr.shard;
            /* The table bits are always the key's own hash. */
            assert_true((r.hash >> 16) == (fc_store_hash(s, K(k)) >> 16));
            assert_true(r.hash == fc_store_hash(s, K(k)));
            assert_int_equal(fc_set(s, K(k), K("v"), FC_TTL_NONE, 0), FC_OK);
        }
        if (mode == FC_ROUTE_SESSION_PREFIX) {
            assert_int_equal(same, CHUNKS);
            assert_int_equal(shards_touched(s), 1);
            assert_int_equal(fc_store_shard_seq(s, sr.shard), CHUNKS);
        } else {
            assert_true(shards_touched(s) > 1); /* 48 keys over 64 shards */
        }
        /* Keys without a prefix route as in full_key mode. */
        fc_store *f = open_store(FC_ROUTE_FULL_KEY, 64, mode ? 77 : 0);
        assert_true(fc_store_hash(s, K("plain")) ==
                    fc_store_hash(f, K("plain")));
        assert_true(fc_store_hash(s, K("s:42")) == fc_store_hash(f, K("s:42")));
        fc_store_close(f);
        fc_store_close(s);
    }
}

/* An LMCache key goes where its derived prefix's session lives, also for
 * prefixes too long for the hash's stack buffer (streamed), seeded. */
static void test_lmcache_route(void **state)
{
    (void)state;
    fc_store *s = open_store(FC_ROUTE_SESSION_PREFIX, 1024, 12345);
    for (size_t idlen = 1; idlen < 600; idlen += 97) {
        char id[700], key[800], prefix[800];
        memset(id, 'a' + (int)(idlen % 26), idlen);
        id[idlen] = '\0';
        snprintf(key, sizeof(key), "model@session%%%s@chunk7", id);
        snprintf(prefix, sizeof(prefix), "lmcache-session:%s", id);
        fc_route kr, pr;
        assert_int_equal(fc_store_route(s, K(key), &kr), FC_OK);
        assert_int_equal(fc_store_route_session(s, K(prefix), &pr), FC_OK);
        assert_int_equal(kr.shard, pr.shard);
        assert_true((kr.hash & 0xffff) == (pr.hash & 0xffff));
    }
    fc_store_close(s);
}

/* Many keys of one session: one shard's table grows through many
 * (incremental) resizes, which rehash keys alone; every key stays
 * reachable, and deletes work. */
static void test_resize_one_session(void **state)
{
    (void)state;
    fc_store *s = open_store(FC_ROUTE_SESSION_PREFIX, 16, 0);
    const int n = 20000;
    char k[48], v[48];
    for (int i = 0; i < n; i++) {
        chunk_key(k, sizeof(k), "s:big", i);
        snprintf(v, sizeof(v), "v%d", i);
        assert_int_equal(fc_set(s, K(k), K(v), FC_TTL_NONE, 0), FC_OK);
        if (i % 997 == 0) { /* read back while resizes are under way */
            char out[48];
            size_t len;
            assert_int_equal(fc_get(s, K(k), out, sizeof(out), &len), FC_OK);
        }
    }
    assert_int_equal(shards_touched(s), 1);
    assert_int_equal(fc_len(s), (size_t)n);
    for (int i = 0; i < n; i++) {
        char out[48];
        size_t len;
        chunk_key(k, sizeof(k), "s:big", i);
        snprintf(v, sizeof(v), "v%d", i);
        fc_route r;
        assert_int_equal(fc_store_route(s, K(k), &r), FC_OK);
        assert_int_equal(fc_get_routed(s, &r, K(k), out, sizeof(out), &len),
                         FC_OK);
        assert_int_equal(len, strlen(v));
        assert_memory_equal(out, v, len);
        if (i % 2)
            assert_int_equal(fc_del(s, K(k)), FC_OK);
    }
    for (int i = 0; i < n; i++) {
        chunk_key(k, sizeof(k), "s:big", i);
        assert_int_equal(fc_exists(s, K(k)), i % 2 ? 0 : 1);
    }
    fc_store_close(s);
}

static void test_routed_get(void **state)
{
    (void)state;
    fc_store *s = open_store(FC_ROUTE_FULL_KEY, 8, 0);
    fc_route r;
    char out[8];
    size_t len;
    assert_int_equal(fc_store_route(s, K("k"), &r), FC_OK);
    assert_int_equal(fc_get_routed(s, &r, K("k"), out, sizeof(out), &len),
                     FC_ENOTFOUND);
    assert_int_equal(fc_set(s, K("k"), K("val"), FC_TTL_NONE, 0), FC_OK);
    assert_int_equal(fc_get_routed(s, &r, K("k"), out, 2, &len), FC_ETRUNC);
    assert_int_equal(len, 3);
    assert_int_equal(fc_get_routed(s, &r, K("k"), out, sizeof(out), &len),
                     FC_OK);
    assert_memory_equal(out, "val", 3);
    assert_int_equal(fc_get_routed(s, NULL, K("k"), out, 8, &len), FC_EINVAL);
    assert_int_equal(fc_store_route(s, NULL, 3, &r), FC_EINVAL);
    fc_store_close(s);
}

/* Builds a packed session write of n chunks "<session>:c:<i>" = "val<i>". */
struct sw {
    char key[CHUNKS][32];
    fc_slice keys[CHUNKS];
    char data[CHUNKS * 16];
    size_t off[CHUNKS], len[CHUNKS];
    int res[CHUNKS];
    fc_session_write w;
};

static void sw_fill(struct sw *b, const char *session, size_t n)
{
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        chunk_key(b->key[i], sizeof(b->key[i]), session, (int)i);
        b->keys[i] = (fc_slice){b->key[i], strlen(b->key[i])};
        b->off[i] = at;
        b->len[i] = (size_t)sprintf(b->data + at, "val%zu", i);
        at += b->len[i];
    }
    b->w = (fc_session_write){{session, strlen(session)},
                              b->keys,
                              n,
                              b->data,
                              b->off,
                              b->len,
                              FC_TTL_NONE};
}

static void test_session_write_shared(void **state)
{
    (void)state;
    fc_store *s = open_store(FC_ROUTE_SESSION_PREFIX, 64, 0);
    struct sw *b = calloc(1, sizeof(*b));
    sw_fill(b, "s:7", CHUNKS);
    strcpy(b->key[5], "s:8:c:5"); /* another session: refused */
    b->keys[5].len = strlen(b->key[5]);
    b->len[9] = 0; /* an empty value is fine */
    assert_int_equal(fc_mset_session(s, &b->w, b->res), FC_EINVAL);
    fc_route sr;
    fc_store_route_session(s, K("s:7"), &sr);
    assert_int_equal(shards_touched(s), 1);
    assert_int_equal(fc_store_shard_seq(s, sr.shard), CHUNKS - 1);
    for (size_t i = 0; i < CHUNKS; i++) {
        assert_int_equal(b->res[i], i == 5 ? FC_EINVAL : FC_OK);
        char out[32];
        size_t len;
        int rc =
            fc_get(s, b->keys[i].data, b->keys[i].len, out, sizeof(out), &len);
        assert_int_equal(rc, i == 5 ? FC_ENOTFOUND : FC_OK);
        if (rc == FC_OK) {
            assert_int_equal(len, b->len[i]);
            assert_memory_equal(out, b->data + b->off[i], len);
        }
    }
    /* A TTL for all; a non-positive one deletes. */
    sw_fill(b, "s:7", 3);
    b->w.ttl_ms = 0;
    assert_int_equal(fc_mset_session(s, &b->w, NULL), FC_OK);
    assert_int_equal(fc_exists(s, K("s:7:c:0")), 0);
    assert_int_equal(fc_exists(s, K("s:7:c:3")), 1);
    assert_int_equal(fc_mset_session(s, NULL, NULL), FC_EINVAL);
    assert_int_equal(fc_mset_session(NULL, &b->w, NULL), FC_EINVAL);
    free(b);
    fc_store_close(s);
}

static void test_session_write_local(void **state)
{
    (void)state;
    fc_workers *w;
    fc_options o = {.shards = 16, .route_mode = FC_ROUTE_SESSION_PREFIX};
    assert_int_equal(fc_workers_open(&w, &o, 4), FC_OK);
    struct sw *b = calloc(1, sizeof(*b));
    sw_fill(b, "s:99", CHUNKS);
    fc_route r0;
    assert_int_equal(fc_workers_route(w, b->keys[0].data, b->keys[0].len, &r0),
                     FC_OK);
    unsigned owner = fc_workers_owner(w, r0.hash);
    for (size_t i = 1; i < CHUNKS; i++) { /* one worker owns the session */
        fc_route r;
        fc_workers_route(w, b->keys[i].data, b->keys[i].len, &r);
        assert_int_equal(fc_workers_owner(w, r.hash), owner);
        assert_true(r.hash ==
                    fc_workers_hash(w, b->keys[i].data, b->keys[i].len));
    }
    fc_local *other = fc_workers_local(w, (owner + 1) % 4);
    assert_int_equal(fc_local_mset_session(other, &b->w, b->res), FC_ENOTLOCAL);
    for (size_t i = 0; i < CHUNKS; i++)
        assert_int_equal(b->res[i], FC_ENOTLOCAL);
    fc_local *mine = fc_workers_local(w, owner);
    assert_int_equal(fc_local_mset_session(mine, &b->w, b->res), FC_OK);
    assert_int_equal(fc_local_len(mine), CHUNKS);
    for (size_t i = 0; i < CHUNKS; i++) {
        const void *v;
        size_t len;
        unsigned who = 99;
        fc_route r;
        fc_workers_route(w, b->keys[i].data, b->keys[i].len, &r);
        assert_int_equal(fc_local_get_ref_routed(mine, &r, b->keys[i].data,
                                                 b->keys[i].len, &v, &len,
                                                 NULL),
                         FC_OK);
        assert_int_equal(len, b->len[i]);
        assert_memory_equal(v, b->data + b->off[i], len);
        assert_int_equal(fc_local_get_ref_routed(other, &r, b->keys[i].data,
                                                 b->keys[i].len, &v, &len,
                                                 &who),
                         FC_ENOTLOCAL);
        assert_int_equal(who, owner);
    }
    free(b);
    fc_workers_close(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_grammar),
        cmocka_unit_test(test_mode_names),
        cmocka_unit_test(test_colocate_shared),
        cmocka_unit_test(test_lmcache_route),
        cmocka_unit_test(test_resize_one_session),
        cmocka_unit_test(test_routed_get),
        cmocka_unit_test(test_session_write_shared),
        cmocka_unit_test(test_session_write_local),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
