/* test_persist_wal.c — the WAL writer alone: with a hand-off queue of a few
 * records, many producer threads hand off thousands of chunks; every record
 * must reach the segment files (back-pressure, never a drop), each lane's
 * records in its order, across segment rolls, and a durable generation
 * must be reported for every chunk (fsync = always). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "persist/format.h"
#include "persist/wal.h"

#define LANES 3
#define CHUNKS 400
#define PER_CHUNK 5

static char dir[256];

typedef struct producer {
    ps_wal *w;
    uint32_t lane;
    uint64_t last_gen;
} producer;

static void *produce(void *arg)
{
    producer *p = arg;
    ps_lane *l = ps_wal_lane(p->w, p->lane);
    uint64_t seq = 0;
    for (int c = 0; c < CHUNKS; c++) {
        for (int i = 0; i < PER_CHUNK; i++) {
            char key[32];
            int n = snprintf(key, sizeof(key), "lane%u:%llu", p->lane,
                             (unsigned long long)seq);
            fc_mutation m = {.kind = FC_MUT_SET,
                             .shard = p->lane,
                             .seq = ++seq,
                             .key = key,
                             .key_len = (size_t)n,
                             .value = "v",
                             .value_len = 1};
            ps_lane_append(l, &m, 0);
        }
        p->last_gen = ps_lane_handoff(l);
    }
    return NULL;
}

/* Reads every segment in order; checks each lane's seqs run 1, 2, ... */
static void check_files(uint64_t want_per_lane)
{
    uint64_t next[LANES] = {0};
    for (uint64_t segno = 1;; segno++) {
        char name[64], path[512];
        ps_wal_segment_name(name, sizeof(name), segno);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "rb");
        if (!f)
            break;
        struct stat sb;
        assert_int_equal(fstat(fileno(f), &sb), 0);
        uint8_t *b = malloc((size_t)sb.st_size + 1);
        assert_non_null(b);
        assert_int_equal(fread(b, 1, (size_t)sb.st_size, f),
                         (size_t)sb.st_size);
        fclose(f);
        pf_seg_header h;
        assert_int_equal(pf_seg_header_decode(b, (size_t)sb.st_size, &h),
                         PF_OK);
        size_t off = PF_SEG_HEADER_LEN;
        while (off < (size_t)sb.st_size) {
            pf_rec r;
            size_t used;
            assert_int_equal(
                pf_rec_decode(b + off, (size_t)sb.st_size - off, &r, &used),
                PF_OK);
            assert_true(r.shard < LANES);
            assert_int_equal(r.seq, next[r.shard] + 1); /* in order */
            next[r.shard] = r.seq;
            off += used;
        }
        free(b);
    }
    for (int i = 0; i < LANES; i++)
        assert_int_equal(next[i], want_per_lane); /* nothing dropped */
}

static void run(int fsync, size_t capacity, size_t segment_size)
{
    snprintf(dir, sizeof(dir), "/tmp/fc-wal-XXXXXX");
    assert_non_null(mkdtemp(dir));
    ps_wal_opts o = {.dir = dir,
                     .segment_size = segment_size,
                     .fsync = fsync,
                     .fsync_interval_ms = 5,
                     .capacity = capacity,
                     .nlanes = LANES,
                     .first_segno = 1,
                     .epoch = 1,
                     .nshards = 4};
    char err[256];
    ps_wal *w = NULL;
    assert_int_equal(ps_wal_open(&w, &o, err, sizeof(err)), 0);
    pthread_t t[LANES];
    producer p[LANES];
    for (uint32_t i = 0; i < LANES; i++) {
        p[i] = (producer){.w = w, .lane = i};
        assert_int_equal(pthread_create(&t[i], NULL, produce, &p[i]), 0);
    }
    for (int i = 0; i < LANES; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(ps_wal_sync(w), 0);
    for (uint32_t i = 0; i < LANES; i++) {
        assert_int_equal(p[i].last_gen, CHUNKS);
        assert_int_equal(ps_wal_wait_durable(w, i, p[i].last_gen), 0);
        assert_true(ps_lane_durable(ps_wal_lane(w, i), CHUNKS));
    }
    ps_wal_stats st;
    ps_wal_stats_get(w, &st);
    assert_int_equal(st.records, (uint64_t)LANES * CHUNKS * PER_CHUNK);
    assert_int_equal(st.queued_records, 0);
    assert_int_equal(ps_wal_error(w), 0);
    ps_wal_close(w);
    check_files((uint64_t)CHUNKS * PER_CHUNK);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_tiny_queue_always(void **state)
{
    (void)state;
    run(PS_FSYNC_ALWAYS, 4, (size_t)64 << 20);
}

static void test_tiny_queue_interval_many_segments(void **state)
{
    (void)state;
    run(PS_FSYNC_INTERVAL, 4, 8192); /* rolls every few chunks */
}

static void test_tiny_queue_no(void **state)
{
    (void)state;
    run(PS_FSYNC_NO, 1, 16384);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny_queue_always),
        cmocka_unit_test(test_tiny_queue_interval_many_segments),
        cmocka_unit_test(test_tiny_queue_no),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
