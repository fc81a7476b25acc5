/* test_store_durable.c — the shared handle with a data directory: what was
 * written is there after close and reopen (WAL, then snapshot + WAL), TTLs
 * keep their absolute time, the directory is locked against a second
 * store, fc_store_save/sync, and the worker-local handles refuse a
 * data_dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fastcache.h"

#define K(s) (s), strlen(s)

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/fc-store-durable-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static fc_store *open_dir(int fsync)
{
    fc_options o = {.shards = 8, .data_dir = dir, .fsync = fsync};
    fc_store *s = NULL;
    assert_int_equal(fc_store_open(&s, &o), FC_OK);
    return s;
}

static void expect(fc_store *s, const char *key, const char *want)
{
    char buf[64];
    size_t len = 0;
    int rc = fc_get(s, K(key), buf, sizeof(buf), &len);
    if (!want) {
        assert_int_equal(rc, FC_ENOTFOUND);
        return;
    }
    assert_int_equal(rc, FC_OK);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(buf, want, len);
}

static void write_some(fc_store *s, int from, int to)
{
    for (int i = from; i < to; i++) {
        char k[32], v[32];
        snprintf(k, sizeof(k), "k%d", i);
        snprintf(v, sizeof(v), "v%d", i);
        assert_int_equal(fc_set(s, K(k), K(v), FC_TTL_NONE, 0), FC_OK);
    }
}

static void check_some(fc_store *s, int from, int to)
{
    for (int i = from; i < to; i++) {
        char k[32], v[32];
        snprintf(k, sizeof(k), "k%d", i);
        snprintf(v, sizeof(v), "v%d", i);
        expect(s, k, v);
    }
}

static void reopen_keeps_writes(int fsync)
{
    fc_store *s = open_dir(fsync);
    write_some(s, 0, 500);
    assert_int_equal(fc_del(s, K("k7")), FC_OK);
    int64_t n = 0;
    assert_int_equal(fc_incrby(s, K("counter"), 41, &n), FC_OK);
    assert_int_equal(fc_incrby(s, K("counter"), 1, &n), FC_OK);
    assert_int_equal(fc_set(s, K("gone"), K("x"), 1, 0), FC_OK); /* 1 ms */
    fc_store_close(s);
    usleep(20 * 1000);

    s = open_dir(fsync);
    check_some(s, 0, 7);
    expect(s, "k7", NULL);
    check_some(s, 8, 500);
    expect(s, "counter", "42");
    expect(s, "gone", NULL); /* its time passed while closed */
    assert_int_equal(fc_len(s), 500);
    fc_store_close(s);
}

static void test_reopen_always(void **state)
{
    (void)state;
    reopen_keeps_writes(FC_FSYNC_ALWAYS);
}

static void test_reopen_interval(void **state)
{
    (void)state;
    reopen_keeps_writes(FC_FSYNC_DEFAULT);
}

static void test_reopen_no(void **state)
{
    (void)state;
    reopen_keeps_writes(FC_FSYNC_NO);
}

static void test_save_then_more_writes(void **state)
{
    (void)state;
    fc_store *s = open_dir(FC_FSYNC_INTERVAL);
    write_some(s, 0, 300);
    assert_int_equal(fc_store_save(s), FC_OK);
    write_some(s, 300, 400);
    assert_int_equal(fc_del(s, K("k5")), FC_OK);
    assert_int_equal(fc_store_sync(s), FC_OK);
    fc_store_close(s);

    s = open_dir(FC_FSYNC_INTERVAL);
    check_some(s, 0, 5);
    expect(s, "k5", NULL);
    check_some(s, 6, 400);
    assert_int_equal(fc_len(s), 399);
    fc_store_close(s);
}

static void test_ttl_is_kept(void **state)
{
    (void)state;
    fc_store *s = open_dir(FC_FSYNC_ALWAYS);
    assert_int_equal(fc_set(s, K("t"), K("v"), 3600 * 1000, 0), FC_OK);
    assert_int_equal(fc_set(s, K("p"), K("v"), 3600 * 1000, 0), FC_OK);
    assert_int_equal(fc_persist(s, K("p")), FC_OK);
    fc_store_close(s);
    s = open_dir(FC_FSYNC_ALWAYS);
    int64_t ttl = fc_pttl(s, K("t"));
    assert_true(ttl > 3590 * 1000 && ttl <= 3600 * 1000);
    assert_int_equal(fc_pttl(s, K("p")), FC_TTL_NOEXPIRE);
    fc_store_close(s);
}

static void test_directory_is_locked(void **state)
{
    (void)state;
    fc_store *s = open_dir(FC_FSYNC_INTERVAL);
    fc_options o = {.data_dir = dir};
    fc_store *t = NULL;
    assert_int_equal(fc_store_open(&t, &o), FC_EIO);
    assert_null(t);
    fc_store_close(s);
    assert_int_equal(fc_store_open(&t, &o), FC_OK); /* free again */
    fc_store_close(t);
}

static void test_bad_options(void **state)
{
    (void)state;
    fc_options o = {.data_dir = dir, .fsync = 99};
    fc_store *s = NULL;
    assert_int_equal(fc_store_open(&s, &o), FC_EINVAL);
    fc_workers *w = NULL;
    fc_options wo = {.data_dir = dir};
    assert_int_equal(fc_workers_open(&w, &wo, 2), FC_EINVAL);
    fc_store *m = NULL;
    assert_int_equal(fc_store_open(&m, NULL), FC_OK);
    assert_int_equal(fc_store_save(m), FC_EINVAL); /* in memory only */
    assert_int_equal(fc_store_sync(m), FC_OK);
    fc_store_close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reopen_always, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_interval, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reopen_no, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_then_more_writes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ttl_is_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_is_locked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
