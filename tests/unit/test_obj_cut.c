/* test_obj_cut.c — the per-key cut that makes a fuzzy snapshot plus the op
 * records after its shard cut exact (engine/obj.h, docs/FORMATS.md "Typed
 * values"). A snapshot walk may serialize a value after changes that came
 * after its shard's cut: replaying those changes' records (not idempotent:
 * HINCRBY, RPUSH) on the image would apply them twice. The image carries
 * the seq of its value's last change, and eng_obj_apply skips records not
 * above it. Here: changes on shard A are logged; at a "cut" the shard's seq
 * is noted, later changes go on, then the value is "walked" (serialized
 * with eng_obj_snapshot_seq), more changes follow; shard B loads the image
 * with its seq and replays every record after the cut. B must end equal to
 * A. Hash records are absolute (HINCRBY logs the field's new value), so a
 * hash cannot show the rule failing; a list (RPUSH appends) shows that
 * without the image's seq the replay goes wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "obj_replay.h"

static void walk_after_cut(bool with_seq, bool *same)
{
    rp_log log;
    th *t = rp_th_new(&log);
    RUN(t, "HSET", "h", "a", "1");
    RUN(t, "HINCRBY", "h", "n", "5");
    uint64_t cut = eng_seq(t->shards[0]);
    size_t from = log.n; /* records after the cut */
    RUN(t, "HINCRBY", "h", "n", "7"); /* after the cut, before the walk */
    RUN(t, "HSET", "h", "b", "2");
    /* the walk reaches h */
    eng_obj *o;
    uint64_t h = eng_hash("h", 1);
    assert_int_equal(eng_obj_get(t->shards[0], h, "h", 1, ENG_TYPE_HASH,
                                 TH_NOW, &o),
                     FC_OK);
    fc_buf img = {0};
    assert_int_equal(eng_obj_serialize(o, &img), FC_OK);
    uint64_t img_seq = eng_obj_snapshot_seq(o);
    assert_true(img_seq > cut);
    RUN(t, "HINCRBY", "h", "n", "100"); /* after the walk */
    RUN(t, "HDEL", "h", "a");

    eng_shard *b = eng_shard_new(0, 0, NULL);
    assert_int_equal(eng_obj_load(b, h, "h", 1, ENG_TYPE_HASH, img.data,
                                  img.len, 0, with_seq ? img_seq : 0, TH_NOW),
                     FC_OK);
    rp_replay(&log, from, b);
    fc_buf x = {0}, y = {0};
    assert_true(rp_canon(t->shards[0], "h", ENG_TYPE_HASH, 2, &x));
    assert_true(rp_canon(b, "h", ENG_TYPE_HASH, 2, &y));
    *same = x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
    /* Once a record past the image applied, the key is no longer an
     * image: a later snapshot stores the shard's own seq. */
    eng_obj *ob;
    assert_int_equal(eng_obj_get(b, h, "h", 1, ENG_TYPE_HASH, TH_NOW, &ob),
                     FC_OK);
    assert_int_equal(ob->flags & ENG_OBJ_F_IMAGE, 0);
    assert_true(eng_obj_snapshot_seq(ob) == eng_seq(b));
    fc_buf_free(&x);
    fc_buf_free(&y);
    fc_buf_free(&img);
    eng_shard_free(b);
    th_free(t);
    rp_log_free(&log);
}

static void test_image_seq_skips_records_in_the_image(void **state)
{
    (void)state;
    bool same = false;
    walk_after_cut(true, &same);
    assert_true(same);
}

/* The same walk over a list, whose records are deltas (RPUSH appends):
 * with the image's seq the replay is exact; without it, the push between
 * the cut and the walk lands twice. */
static void list_walk_after_cut(bool with_seq, long long *len_a,
                                long long *len_b)
{
    rp_log log;
    th *t = rp_th_new(&log);
    RUN(t, "RPUSH", "l", "a", "b");
    size_t from = log.n;
    RUN(t, "RPUSH", "l", "c"); /* after the cut, before the walk */
    eng_obj *o;
    uint64_t h = eng_hash("l", 1);
    assert_int_equal(eng_obj_get(t->shards[0], h, "l", 1, ENG_TYPE_LIST,
                                 TH_NOW, &o),
                     FC_OK);
    fc_buf img = {0};
    assert_int_equal(eng_obj_serialize(o, &img), FC_OK);
    uint64_t img_seq = eng_obj_snapshot_seq(o);
    RUN(t, "RPUSH", "l", "d"); /* after the walk */
    RUN(t, "LPOP", "l");
    eng_shard *b = eng_shard_new(0, 0, NULL);
    assert_int_equal(eng_obj_load(b, h, "l", 1, ENG_TYPE_LIST, img.data,
                                  img.len, 0, with_seq ? img_seq : 0, TH_NOW),
                     FC_OK);
    rp_replay(&log, from, b);
    eng_obj *ob;
    assert_int_equal(eng_obj_get(b, h, "l", 1, ENG_TYPE_LIST, TH_NOW, &ob),
                     FC_OK);
    *len_a = (long long)eng_list_ops.len(o);
    *len_b = (long long)eng_list_ops.len(ob);
    fc_buf_free(&img);
    eng_shard_free(b);
    th_free(t);
    rp_log_free(&log);
}

static void test_list_replay_needs_the_image_seq(void **state)
{
    (void)state;
    long long a, b;
    list_walk_after_cut(true, &a, &b);
    assert_int_equal(a, 3); /* b c d */
    assert_int_equal(b, a);
    list_walk_after_cut(false, &a, &b);
    assert_int_equal(b, a + 1); /* c pushed twice: what the rule prevents */
}

/* An image untouched since it was loaded is stored with seq 0 (its seq
 * belongs to the run or primary it came from), so that every record after
 * a new cut applies to it. */
static void test_untouched_image_snapshots_as_zero(void **state)
{
    (void)state;
    eng_shard *a = eng_shard_new(0, 0, NULL);
    uint64_t h = eng_hash("h", 1);
    th *t = th_new(1);
    RUN(t, "HSET", "h", "a", "1");
    eng_obj *o;
    assert_int_equal(eng_obj_get(t->shards[0], h, "h", 1, ENG_TYPE_HASH,
                                 TH_NOW, &o),
                     FC_OK);
    fc_buf img = {0};
    assert_int_equal(eng_obj_serialize(o, &img), FC_OK);
    assert_int_equal(eng_obj_load(a, h, "h", 1, ENG_TYPE_HASH, img.data,
                                  img.len, 0, 12345, TH_NOW),
                     FC_OK);
    assert_int_equal(eng_obj_get(a, h, "h", 1, ENG_TYPE_HASH, TH_NOW, &o),
                     FC_OK);
    assert_true(o->flags & ENG_OBJ_F_IMAGE);
    assert_true(eng_obj_snapshot_seq(o) == 0);
    fc_buf_free(&img);
    eng_shard_free(a);
    th_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_seq_skips_records_in_the_image),
        cmocka_unit_test(test_untouched_image_snapshots_as_zero),
        cmocka_unit_test(test_list_replay_needs_the_image_seq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
