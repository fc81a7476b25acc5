/* test_persist_store.c — persistence end to end over the engine: shards
 * observed by ps_observe, a random but fixed-seed sequence of mutations
 * checked against an independent model, ps_close, then ps_open into fresh
 * shards and an exact comparison (values, and expiries within a few ms of
 * clock-offset jitter).
 *
 * Variants: lanes per shard and per thread; ps_save in the middle (snapshot
 * + WAL), compressed or not; shard count and seed changed on reopen (keys
 * re-placed, a CLEAR logged under the old layout removes exactly that
 * layout's keys); expired keys not resurrected; fsync always / interval /
 * no; tiny segments and pruning after ps_save; a torn tail; a flipped bit in
 * an earlier segment (error naming the file and offset; repair keeps the
 * prefix); a damaged newest snapshot (falls back to the previous one); a
 * segment with an incomplete header. Single-threaded, so ps_save holding
 * every shard is trivially true. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "engine/engine.h"
#include "persist/format.h"
#include "persist/persist.h"
#include "persist/recover.h"
#include "persist/wal.h"

#define MAXSH 16
#define NKEYS 384          /* key universe of the random workload */
#define TTL_SLACK_MS 50    /* mono->unix->mono offset jitter allowed */

/* --- deterministic randomness ------------------------------------------- */

static uint64_t rs;
static uint64_t rnd(void)
{
    uint64_t x = rs;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rs = x;
    return x * 0x2545f4914f6cdd1dull;
}
static uint64_t rn(uint64_t n)
{
    return rnd() % n;
}

static int64_t unix_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* --- files -------------------------------------------------------------- */

/* Directories made by the running test, removed by teardown when a failed
 * check skipped the test's own rm_dir. */
static char made[8][256];

static void make_tmpdir(char *out, size_t n)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, n, "%s/fc-persist-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(out));
    for (int i = 0; i < 8; i++)
        if (!made[i][0]) {
            snprintf(made[i], sizeof(made[i]), "%s", out);
            break;
        }
}

static void rm_dir_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void rm_dir(const char *dir)
{
    rm_dir_files(dir);
    for (int i = 0; i < 8; i++)
        if (!strcmp(made[i], dir))
            made[i][0] = 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 8; i++)
        if (made[i][0]) {
            rm_dir_files(made[i]);
            made[i][0] = 0;
        }
    return 0;
}

static void path_of(char *out, size_t n, const char *dir, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    *len = (size_t)sb.st_size;
    uint8_t *b = malloc(*len ? *len : 1);
    assert_non_null(b);
    size_t got = 0;
    while (got < *len) {
        ssize_t k = read(fd, b + got, *len - got);
        assert_true(k > 0);
        got += (size_t)k;
    }
    close(fd);
    return b;
}

static void write_all_at(const char *path, const uint8_t *b, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    size_t put = 0;
    while (put < len) {
        ssize_t k = write(fd, b + put, len - put);
        assert_true(k > 0);
        put += (size_t)k;
    }
    close(fd);
}

static void flip_bit(const char *path, size_t off, int bit)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t c;
    assert_int_equal(pread(fd, &c, 1, (off_t)off), 1);
    c ^= (uint8_t)(1u << bit);
    assert_int_equal(pwrite(fd, &c, 1, (off_t)off), 1);
    close(fd);
}

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) ? -1 : sb.st_size;
}

/* Segment numbers in dir, ascending; returns the count. */
static size_t list_segments(const char *dir, uint64_t *ids, size_t cap)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        uint64_t id;
        char tail[8];
        if (strlen(de->d_name) == 24 &&
            sscanf(de->d_name, "wal-%16" SCNx64 "%7s", &id, tail) == 2 &&
            !strcmp(tail, ".log") && n < cap)
            ids[n++] = id;
    }
    closedir(d);
    for (size_t i = 1; i < n; i++) /* insertion sort */
        for (size_t j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
            uint64_t t = ids[j];
            ids[j] = ids[j - 1];
            ids[j - 1] = t;
        }
    return n;
}

static void seg_path(char *out, size_t n, const char *dir, uint64_t segno)
{
    char name[64];
    ps_wal_segment_name(name, sizeof(name), segno);
    path_of(out, n, dir, name);
}

static void snap_path(char *out, size_t n, const char *dir, uint64_t id)
{
    snprintf(out, n, "%s/snap-%016" PRIx64 ".fcs", dir, id);
}

static pf_snap_header snap_header_of(const char *dir, uint64_t id)
{
    char p[4096];
    snap_path(p, sizeof(p), dir, id);
    size_t len;
    uint8_t *b = read_all(p, &len);
    pf_snap_header h;
    assert_int_equal(pf_snap_header_decode(b, len, &h), PF_OK);
    free(b);
    return h;
}

/* Offset of the first record in segment file `path` whose key is `key`
 * (walking with pf_rec_decode); -1 if none. */
static long find_record(const char *path, const char *key, size_t *rec_len)
{
    size_t len;
    uint8_t *b = read_all(path, &len);
    size_t off = PF_SEG_HEADER_LEN;
    long found = -1;
    while (off < len) {
        pf_rec r;
        size_t used;
        if (pf_rec_decode(b + off, len - off, &r, &used) != PF_OK)
            break;
        if (r.klen == strlen(key) && !memcmp(r.key, key, r.klen)) {
            found = (long)off;
            *rec_len = used;
            break;
        }
        off += used;
    }
    free(b);
    return found;
}

/* --- the world: shards + persistence ------------------------------------ */

typedef struct world {
    char dir[256];
    uint32_t n;
    uint64_t seed;
    eng_shard *sh[MAXSH];
    eng_observer obs;
    ps_persist *p;
    ps_config cfg;
    ps_recover_result rec;
    char err[512];
    uint64_t ops_since_flush;
    int flush_every;
} world;

static int log_warnings;
static void test_log(int level, const char *fmt, ...)
{
    if (level >= 1)
        log_warnings++;
    if (getenv("FC_TEST_VERBOSE")) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "[persist %d] ", level);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
}

static void world_init(world *w, const char *dir)
{
    memset(w, 0, sizeof(*w));
    snprintf(w->dir, sizeof(w->dir), "%s", dir);
    ps_config_defaults(&w->cfg);
    w->cfg.dir = w->dir;
    w->cfg.snapshot_every_s = 0;
    w->cfg.lane_mode = PS_LANES_PER_SHARD;
    w->cfg.log = test_log;
    w->flush_every = 1;
}

static void world_free_shards(world *w)
{
    for (uint32_t i = 0; i < w->n; i++) {
        eng_shard_free(w->sh[i]);
        w->sh[i] = NULL;
    }
}

/* Opens into fresh shards; 0, or -1 with w->err (shards freed). */
static int world_open(world *w, uint32_t n, uint64_t seed)
{
    assert_true(n <= MAXSH);
    w->n = n;
    w->seed = seed;
    w->obs.fn = NULL; /* no observer during recovery */
    w->obs.ctx = NULL;
    for (uint32_t i = 0; i < n; i++) {
        w->sh[i] = eng_shard_new(i, 0, &w->obs);
        assert_non_null(w->sh[i]);
        eng_shard_set_seed(w->sh[i], seed); /* as the server and library do */
    }
    w->err[0] = 0;
    if (ps_open(&w->p, &w->cfg, w->sh, n, seed, w->err, sizeof(w->err))) {
        w->p = NULL;
        world_free_shards(w);
        return -1;
    }
    w->obs.fn = ps_observe;
    w->obs.ctx = w->p;
    if (w->cfg.lane_mode == PS_LANES_PER_THREAD)
        ps_bind_lane(w->p, 0);
    ps_info info;
    ps_info_get(w->p, &info);
    w->rec = info.recovered;
    return 0;
}

static void world_open_ok(world *w, uint32_t n, uint64_t seed)
{
    int r = world_open(w, n, seed);
    if (r)
        fail_msg("ps_open failed: %s", w->err);
}

static void world_close(world *w)
{
    ps_close(w->p);
    w->p = NULL;
    world_free_shards(w);
}

/* The seeded hash picks the shard and is what the engine, seeded with the
 * same value (eng_shard_set_seed), rehashes entries with. */
static uint32_t shard_of(const world *w, const void *k, size_t kl,
                         uint64_t *h)
{
    *h = eng_hash_seeded(w->seed, k, kl);
    return (uint32_t)(*h & (w->n - 1));
}

/* After a mutation of shard s: hand the lane off now and then. */
static void after_op(world *w, uint32_t s)
{
    if (++w->ops_since_flush < (uint64_t)w->flush_every)
        return;
    w->ops_since_flush = 0;
    if (w->cfg.lane_mode == PS_LANES_PER_SHARD)
        ps_flush_shard(w->p, s);
    else
        ps_handoff(w->p);
}

static void world_save(world *w)
{
    int64_t now = eng_now_ms();
    int64_t off = unix_ms() - now;
    assert_int_equal(ps_save(w->p, w->sh, now, off), 0);
}

/* --- the model -------------------------------------------------------------- */

typedef struct mkey {
    bool present;
    uint8_t *val;
    size_t vlen, cap;
    int64_t exp; /* monotonic ms, 0 = none */
} mkey;

typedef struct model {
    mkey k[NKEYS];
} model;

static size_t key_name(int i, char *buf)
{
    /* first half: strings (APPEND), second half: integers (INCRBY) */
    return (size_t)sprintf(buf, i < NKEYS / 2 ? "str:%d" : "num:%d", i);
}

static void mset(mkey *m, const void *v, size_t vl, int64_t exp)
{
    if (m->cap < vl + 1) {
        m->cap = vl + 64;
        m->val = realloc(m->val, m->cap);
        assert_non_null(m->val);
    }
    if (vl)
        memcpy(m->val, v, vl);
    m->vlen = vl;
    m->exp = exp;
    m->present = true;
}

static void model_free(model *md)
{
    for (int i = 0; i < NKEYS; i++)
        free(md->k[i].val);
    memset(md, 0, sizeof(*md));
}

static size_t model_count(const model *md)
{
    size_t n = 0;
    for (int i = 0; i < NKEYS; i++)
        n += md->k[i].present;
    return n;
}

/* CLEAR of shard s under layout (n, seed): exactly the keys it placed there. */
static void model_clear(model *md, uint32_t n, uint64_t seed, uint32_t s)
{
    for (int i = 0; i < NKEYS; i++) {
        char k[32];
        size_t kl = key_name(i, k);
        if ((XXH3_64bits_withSeed(k, kl, seed) & (n - 1)) == s)
            md->k[i].present = false;
    }
}

static size_t total_keys(const world *w)
{
    size_t n = 0;
    for (uint32_t i = 0; i < w->n; i++)
        n += eng_len(w->sh[i]);
    return n;
}

/* Every key of the universe as the model says; and nothing else (extra
 * keys outside the universe: `extra` of them are expected). */
#define compare(w, md, extra) compare_at(w, md, extra, __LINE__)
static void compare_at(world *w, const model *md, size_t extra, int line)
{
    int64_t now = eng_now_ms();
    for (int i = 0; i < NKEYS; i++) {
        char k[32];
        size_t kl = key_name(i, k);
        uint64_t h;
        uint32_t s = shard_of(w, k, kl, &h);
        eng_entry *e = eng_get(w->sh[s], h, k, kl, now);
        const mkey *m = &md->k[i];
        if (!m->present) {
            if (e)
                fail_msg("line %d: key %s present, model says absent", line, k);
            continue;
        }
        if (!e)
            fail_msg("line %d: key %s absent, model says present", line, k);
        size_t vl;
        const uint8_t *v = eng_entry_value(e, &vl);
        if (vl != m->vlen || (vl && memcmp(v, m->val, vl)))
            fail_msg("line %d: key %s: value differs (len %zu vs model %zu)", line, k, vl,
                     m->vlen);
        int64_t ex = eng_entry_expire_at(e);
        if (m->exp == 0) {
            if (ex != 0)
                fail_msg("line %d: key %s: has a TTL, model has none", line, k);
        } else if (ex == 0 || ex < m->exp - TTL_SLACK_MS ||
                   ex > m->exp + TTL_SLACK_MS) {
            fail_msg("line %d: key %s: expire %" PRId64 " vs model %" PRId64, line, k, ex,
                     m->exp);
        }
    }
    size_t want = model_count(md) + extra, got = total_keys(w);
    if (want != got)
        fail_msg("line %d: %zu keys in the shards, %zu expected", line, got, want);
}

/* One random mutation, applied to the engine and the model; the engine's
 * answer is checked against the model. */
static void random_op(world *w, model *md, bool allow_clear)
{
    int i = (int)rn(NKEYS);
    bool num = i >= NKEYS / 2;
    char k[32];
    size_t kl = key_name(i, k);
    uint64_t h;
    uint32_t s = shard_of(w, k, kl, &h);
    eng_shard *sh = w->sh[s];
    mkey *m = &md->k[i];
    int64_t now = eng_now_ms();
    unsigned r = (unsigned)rn(1000);
    int rc;

    if (allow_clear && r < 6) { /* CLEAR of a random shard */
        uint32_t cs = (uint32_t)rn(w->n);
        eng_clear(w->sh[cs]);
        model_clear(md, w->n, w->seed, cs);
        after_op(w, cs);
        return;
    }
    if (r < 420) { /* SET */
        uint8_t v[2100];
        size_t vl;
        if (num) {
            vl = (size_t)sprintf((char *)v, "%" PRId64,
                                 (int64_t)rn(2000000) - 1000000);
        } else {
            vl = rn(8) == 0 ? rn(2048) : rn(65);
            for (size_t j = 0; j < vl; j++)
                v[j] = (uint8_t)rnd();
        }
        int64_t exp = rn(4) == 0 ? now + 3600000 + (int64_t)rn(3600000) : 0;
        rc = eng_set(sh, h, k, kl, v, vl, exp, 0, now, NULL, NULL);
        assert_int_equal(rc, FC_OK);
        mset(m, v, vl, exp);
    } else if (r < 560) { /* DEL */
        rc = eng_del(sh, h, k, kl, now, NULL);
        assert_int_equal(rc, m->present ? FC_OK : FC_ENOTFOUND);
        m->present = false;
    } else if (r < 700) { /* EXPIRE: set, persist, or in the past */
        unsigned t = (unsigned)rn(10);
        int64_t exp = t < 4   ? 0
                      : t < 9 ? now + 3600000 + (int64_t)rn(3600000)
                              : now - 1 - (int64_t)rn(100000);
        rc = eng_set_expire(sh, h, k, kl, exp, now);
        assert_int_equal(rc, m->present ? FC_OK : FC_ENOTFOUND);
        if (m->present) {
            if (t == 9)
                m->present = false;
            else
                m->exp = exp;
        }
    } else if (r < 850) {
        if (num) { /* INCRBY */
            int64_t delta = (int64_t)rn(2001) - 1000, res = 0, cur = 0;
            if (m->present) {
                char tmp[32];
                memcpy(tmp, m->val, m->vlen);
                tmp[m->vlen] = 0;
                cur = strtoll(tmp, NULL, 10);
            }
            rc = eng_incrby(sh, h, k, kl, delta, now, &res);
            assert_int_equal(rc, FC_OK);
            assert_true(res == cur + delta);
            char tmp[32];
            int n = sprintf(tmp, "%" PRId64, cur + delta);
            mset(m, tmp, (size_t)n, m->present ? m->exp : 0);
        } else { /* APPEND */
            uint8_t d[16];
            size_t dl = 1 + rn(16), nl = 0;
            for (size_t j = 0; j < dl; j++)
                d[j] = (uint8_t)('a' + rn(26));
            rc = eng_append(sh, h, k, kl, d, dl, now, &nl);
            assert_int_equal(rc, FC_OK);
            if (!m->present) {
                mset(m, d, dl, 0);
            } else {
                if (m->cap < m->vlen + dl + 1) {
                    m->cap = (m->vlen + dl) * 2 + 16;
                    m->val = realloc(m->val, m->cap);
                    assert_non_null(m->val);
                }
                memcpy(m->val + m->vlen, d, dl);
                m->vlen += dl;
            }
            assert_int_equal(nl, m->vlen);
        }
    } else if (r < 900) { /* SET NX / XX */
        bool nx = rn(2);
        const char *v = num ? "7" : "flagged";
        rc = eng_set(sh, h, k, kl, v, strlen(v), 0, nx ? ENG_SET_NX : ENG_SET_XX,
                     now, NULL, NULL);
        if (nx == m->present) {
            assert_int_equal(rc, nx ? FC_EEXISTS : FC_ENOTSET);
        } else {
            assert_int_equal(rc, FC_OK);
            mset(m, v, strlen(v), 0);
        }
    } else if (r < 950) { /* SET KEEPTTL */
        char v[] = "kept";
        rc = eng_set(sh, h, k, kl, num ? "11" : v, num ? 2 : 4, 0,
                     ENG_SET_KEEPTTL, now, NULL, NULL);
        assert_int_equal(rc, FC_OK);
        mset(m, num ? "11" : v, num ? 2 : 4, m->present ? m->exp : 0);
    } else { /* SET with a TTL already past: the key ends absent */
        rc = eng_set(sh, h, k, kl, "x", 1, now - 5, 0, now, NULL, NULL);
        assert_int_equal(rc, FC_OK);
        m->present = false;
    }
    after_op(w, s);
}

static void run_ops(world *w, model *md, int n, bool allow_clear)
{
    for (int i = 0; i < n; i++)
        random_op(w, md, allow_clear);
}

/* Sets a key outside the universe (counted as `extra` by compare). */
static void set_extra(world *w, const char *k, const char *v, int64_t exp)
{
    uint64_t h;
    uint32_t s = shard_of(w, k, strlen(k), &h);
    assert_int_equal(eng_set(w->sh[s], h, k, strlen(k), v, strlen(v), exp, 0,
                             eng_now_ms(), NULL, NULL),
                     FC_OK);
    after_op(w, s);
}

static bool has_key(world *w, const char *k)
{
    uint64_t h;
    uint32_t s = shard_of(w, k, strlen(k), &h);
    return eng_get(w->sh[s], h, k, strlen(k), eng_now_ms()) != NULL;
}

/* --- tests ------------------------------------------------------------------ */

static void roundtrip(int lane_mode, bool save_mid, bool compress, int fsync,
                      int nops, uint64_t seed)
{
    char dir[256];
    make_tmpdir(dir, sizeof(dir));
    world w;
    world_init(&w, dir);
    w.cfg.lane_mode = lane_mode;
    w.cfg.compress = compress;
    w.cfg.fsync = fsync;
    w.cfg.fsync_interval_ms = 5;
    w.flush_every = 7;
    model md = {0};
    rs = seed;

    world_open_ok(&w, 4, 0);
    assert_false(w.rec.have_snapshot);
    run_ops(&w, &md, nops / 2, true);
    if (save_mid)
        world_save(&w);
    run_ops(&w, &md, nops / 2, true);
    compare(&w, &md, 0); /* the model itself is right */
    world_close(&w);

    world_open_ok(&w, 4, 0);
    compare(&w, &md, 0);
    assert_int_equal(w.rec.have_snapshot, save_mid);
    assert_true(w.rec.wal_records > 0);
    if (save_mid)
        assert_true(w.rec.snap_keys > 0);
    assert_int_equal(w.rec.torn_bytes, 0);
    assert_int_equal(w.rec.repaired_bytes, 0);
    /* a second epoch on top of the first */
    run_ops(&w, &md, nops / 4, true);
    world_close(&w);
    world_open_ok(&w, 4, 0);
    compare(&w, &md, 0);
    assert_true(w.rec.max_epoch >= 2);
    world_close(&w);
    model_free(&md);
    rm_dir(dir);
}

static void test_roundtrip_per_shard(void **state)
{
    (void)state;
    roundtrip(PS_LANES_PER_SHARD, false, true, PS_FSYNC_INTERVAL, 3000, 1);
}

static void test_roundtrip_per_thread(void **state)
{
    (void)state;
    roundtrip(PS_LANES_PER_THREAD, false, true, PS_FSYNC_INTERVAL, 3000, 2);
}

static void test_save_mid_compressed(void **state)
{
    (void)state;
    roundtrip(PS_LANES_PER_SHARD, true, true, PS_FSYNC_INTERVAL, 3000, 3);
}

static void test_save_mid_raw(void **state)
{
    (void)state;
    roundtrip(PS_LANES_PER_SHARD, true, false, PS_FSYNC_INTERVAL, 3000, 4);
}

static void test_save_mid_per_thread(void **state)
{
    (void)state;
    roundtrip(PS_LANES_PER_THREAD, true, true, PS_FSYNC_INTERVAL, 2000, 5);
}

static void test_fsync_no(void **state)
{
    (void)state;
    roundtrip(PS_LANES_PER_SHARD, true, true, PS_FSYNC_NO, 1000, 6);
}

static void test_fsync_always(void **state)
{
    (void)state;
    roundtrip(PS_LANES_PER_SHARD, true, false, PS_FSYNC_ALWAYS, 300, 7);
}

/* fsync=always: what a hand-off returned is durable once ps_sync returns,
 * and on_durable reported it. */
static int durable_calls;
static void on_durable(void *ctx, uint32_t lane)
{
    (void)ctx;
    (void)lane;
    __atomic_fetch_add(&durable_calls, 1, __ATOMIC_RELAXED);
}

static void test_fsync_always_durable(void **state)
{
    (void)state;
    char dir[256];
    make_tmpdir(dir, sizeof(dir));
    world w;
    world_init(&w, dir);
    w.cfg.fsync = PS_FSYNC_ALWAYS;
    w.cfg.on_durable = on_durable;
    w.flush_every = 1000000; /* flushed by hand below */
    durable_calls = 0;
    model md = {0};
    rs = 8;
    world_open_ok(&w, 2, 0);
    for (int i = 0; i < 20; i++) {
        random_op(&w, &md, false);
        uint64_t g[2];
        for (uint32_t s = 0; s < 2; s++)
            g[s] = ps_flush_shard(w.p, s);
        assert_int_equal(ps_sync(w.p), 0);
        for (uint32_t s = 0; s < 2; s++)
            if (g[s])
                assert_true(ps_lane_durable(ps_lane_of(w.p, s), g[s]));
    }
    assert_true(durable_calls > 0);
    ps_info info;
    ps_info_get(w.p, &info);
    assert_true(info.wal.fsyncs > 0);
    assert_int_equal(info.wal_error, 0);
    assert_int_equal(ps_write_error(w.p), 0);
    world_close(&w);
    world_open_ok(&w, 2, 0);
    compare(&w, &md, 0);
    world_close(&w);
    model_free(&md);
    rm_dir(dir);
}

/* Layout changes across three generations: keys re-placed by the current
 * layout; every CLEAR removes exactly what its own run's layout put in that
 * shard, whether replayed from the WAL alone or over a snapshot. */
static void layout_change(uint64_t seed_b, uint64_t seed_c, uint64_t seed_d)
{
    char dir[256];
    make_tmpdir(dir, sizeof(dir));
    world w;
    world_init(&w, dir);
    w.flush_every = 3;
    model md = {0};
    rs = 9;

    /* A: 4 shards, seed 0 (== eng_hash), WAL only */
    world_open_ok(&w, 4, 0);
    run_ops(&w, &md, 1500, true);
    for (int i = 0; i < NKEYS; i += 2) { /* many keys, then CLEAR one shard */
        char k[32];
        size_t kl = key_name(i, k);
        uint64_t h;
        uint32_t s = shard_of(&w, k, kl, &h);
        const char *v = i < NKEYS / 2 ? k : "5"; /* num: keys stay numbers */
        assert_int_equal(eng_set(w.sh[s], h, k, kl, v, strlen(v), 0, 0,
                                 eng_now_ms(), NULL, NULL),
                         FC_OK);
        mset(&md.k[i], v, strlen(v), 0);
        after_op(&w, s);
    }
    {
        char k[32];
        size_t kl = key_name(0, k);
        assert_true(XXH3_64bits_withSeed(k, kl, 0) == eng_hash(k, kl));
    }
    size_t before = model_count(&md);
    eng_clear(w.sh[1]);
    model_clear(&md, 4, 0, 1);
    assert_true(model_count(&md) < before);
    ps_flush_shard(w.p, 1);
    run_ops(&w, &md, 50, false);
    compare(&w, &md, 0);
    world_close(&w);

    /* B: 8 shards, another seed; snapshot in the middle */
    world_open_ok(&w, 8, seed_b);
    compare(&w, &md, 0);
    run_ops(&w, &md, 800, true);
    world_save(&w);
    eng_clear(w.sh[5]);
    model_clear(&md, 8, seed_b, 5);
    ps_flush_shard(w.p, 5);
    run_ops(&w, &md, 800, true);
    compare(&w, &md, 0);
    world_close(&w);

    /* C: 2 shards, a third seed */
    world_open_ok(&w, 2, seed_c);
    compare(&w, &md, 0);
    assert_true(w.rec.have_snapshot);
    run_ops(&w, &md, 300, true);
    world_close(&w);

    /* back to A's layout */
    world_open_ok(&w, 4, 0);
    compare(&w, &md, 0);
    world_close(&w);

    /* one shard */
    world_open_ok(&w, 1, seed_d);
    compare(&w, &md, 0);
    world_close(&w);
    model_free(&md);
    rm_dir(dir);
}

/* Shard counts change (seed 0, as the server and the library use). */
static void test_layout_change_shards(void **state)
{
    (void)state;
    layout_change(0, 0, 0);
}

/* Shard counts and seeds change. */
static void test_layout_change_seed(void **state)
{
    (void)state;
    layout_change(0xabcdef12345ull, 77, 5);
}

/* Minimal: one shard, reopened with another seed (the layout cannot change
 * with one shard; only the hash recovery hands to the engine does). */
static void test_reopen_other_seed(void **state)
{
    (void)state;
    char dir[256];
    make_tmpdir(dir, sizeof(dir));
    world w;
    world_init(&w, dir);
    world_open_ok(&w, 1, 0);
    for (int i = 0; i < 200; i++) {
        char k[16];
        sprintf(k, "key%d", i);
        set_extra(&w, k, "v", 0);
    }
    world_close(&w);
    world_open_ok(&w, 1, 7);
    int missing = 0;
    for (int i = 0; i < 200; i++) {
        char k[16];
        sprintf(k, "key%d", i);
        missing += !has_key(&w, k);
    }
    if (missing || total_keys(&w) != 200)
        fail_msg("reopened with seed 7: %d of 200 keys not found, %zu in the "
                 "shards",
                 missing, total_keys(&w));
    world_close(&w);
    rm_dir(dir);
}

/* Keys whose expiry has passed by the time of recovery stay gone, whether
 * they are in the snapshot or only in the WAL (SET or EXPIRE record). */
static void test_expired_not_resurrected(void **state)
{
    (void)state;
    char dir[256];
    make_tmpdir(dir, sizeof(dir));
    world w;
    world_init(&w, dir);
    model md = {0};
    rs = 10;
    world_open_ok(&w, 4, 0);
    run_ops(&w, &md, 500, false);
    int64_t t0 = eng_now_ms(), ttl = 400;
    set_extra(&w, "short-snap", "a", t0 + ttl);
    set_extra(&w, "short-overwritten", "c", t0 + ttl);
    set_extra(&w, "long-snap", "d", t0 + 3600000);
    world_save(&w);
    set_extra(&w, "short-wal", "e", t0 + ttl);
    set_extra(&w, "short-expire-rec", "f", 0);
    {
        uint64_t h;
        const char *k = "short-expire-rec";
        uint32_t s = shard_of(&w, k, strlen(k), &h);
        assert_int_equal(eng_set_expire(w.sh[s], h, k, strlen(k), t0 + ttl,
                                        eng_now_ms()),
                         FC_OK);
        after_op(&w, s);
    }
    set_extra(&w, "short-overwritten", "g", 0);
    set_extra(&w, "long-wal", "h", t0 + 3600000);
    /* all still alive before closing (else the test machine was too slow
     * for the test's premise) */
    assert_true(eng_now_ms() < t0 + ttl);
    assert_true(has_key(&w, "short-snap") && has_key(&w, "short-wal"));
    world_close(&w);
    sleep_ms(t0 + ttl + 100 - eng_now_ms());

    world_open_ok(&w, 4, 0);
    assert_false(has_key(&w, "short-snap"));
    assert_false(has_key(&w, "short-wal"));
    assert_false(has_key(&w, "short-expire-rec"));
    assert_true(has_key(&w, "short-overwritten"));
    assert_true(has_key(&w, "long-snap"));
    assert_true(has_key(&w, "long-wal"));
    assert_true(w.rec.expired_dropped >= 3);
    compare(&w, &md, 3);
    world_close(&w);
    model_free(&md);
    rm_dir(dir);
}

/* A key written with a short TTL whose TTL was then removed (EXPIRE 0) or
 * extended before it ran out is live when the process stops; recovery after
 * the original TTL has passed must keep it. Both with the first SET in the
 * snapshot and with everything in the WAL. */
static void ttl_changed_case(bool snapshot)
{
    char dir[256];
    make_tmpdir(dir, sizeof(dir));
    world w;
    world_init(&w, dir);
    world_open_ok(&w, 4, 0);
    int64_t t0 = eng_now_ms(), ttl = 300;
    set_extra(&w, "persisted", "a", t0 + ttl);
    set_extra(&w, "extended", "b", t0 + ttl);
    if (snapshot)
        world_save(&w);
    const char *ks[] = {"persisted", "extended"};
    int64_t exps[] = {0, t0 + 3600000};
    for (int i = 0; i < 2; i++) {
        uint64_t h;
        uint32_t s = shard_of(&w, ks[i], strlen(ks[i]), &h);
        assert_int_equal(eng_set_expire(w.sh[s], h, ks[i], strlen(ks[i]),
                                        exps[i], eng_now_ms()),
                         FC_OK);
        after_op(&w, s);
    }
    assert_true(eng_now_ms() < t0 + ttl);
    world_close(&w);
    sleep_ms(t0 + ttl + 100 - eng_now_ms());
    world_open_ok(&w, 4, 0);
    assert_true(has_key(&w, "persisted"));
    assert_true(has_key(&w, "extended"));
    world_close(&w);
    rm_dir(dir);
}

static void test_ttl_changed_before_expiry_wal(void **state)
{
    (void)state;
    ttl_changed_case(false);
}
static void test_ttl_changed_before_expiry_snapshot(void **state)
{
    (void)state;
    ttl_changed_case(true);
}

/* Tiny segments: many of them; each ps_save prunes to what the two newest
 * snapshots need (the older one's wal_from_segno onward), and snapshots to
 * two. */
static void check_pruned(const char *dir, uint64_t want_oldest_snap,
                         uint64_t want_newest_snap)
{
    uint64_t ids[8];
    size_t ns = ps_list_snapshots(dir, ids, 8);
    size_t want_n = want_newest_snap - want_oldest_snap + 1;
    assert_int_equal(ns, want_n);
    assert_true(ids[0] == want_oldest_snap);
    assert_true(ids[ns - 1] == want_newest_snap);
    pf_snap_header h = snap_header_of(dir, ids[0]);
    uint64_t segs[4096];
    size_t n = list_segments(dir, segs, 4096);
    assert_true(n > 0);
    assert_true(segs[0] == h.wal_from_segno); /* nothing older kept */
    for (size_t i = 1; i < n; i++)
        assert_true(segs[i] == segs[i - 1] + 1); /* contiguous */
}

static void test_segments_and_pruning(void **state)
{
    (void)state;
    char dir[256];
    make_tmpdir(dir, sizeof(dir));
    world w;
    world_init(&w, dir);
    w.cfg.segment_size = 4096;
    w.cfg.fsync = PS_FSYNC_NO;
    w.flush_every = 1;
    model md = {0};
    rs = 11;
    uint64_t segs[4096];

    world_open_ok(&w, 4, 0);
    run_ops(&w, &md, 800, true);
    assert_int_equal(ps_sync(w.p), 0);
    size_t n0 = list_segments(dir, segs, 4096);
    assert_true(n0 >= 10);
    world_save(&w);
    check_pruned(dir, 1, 1);
    run_ops(&w, &md, 600, true);
    world_save(&w);
    check_pruned(dir, 1, 2);
    run_ops(&w, &md, 600, true);
    world_save(&w);
    check_pruned(dir, 2, 3);
    run_ops(&w, &md, 300, true);
    ps_info info;
    ps_info_get(w.p, &info);
    assert_int_equal(info.saves, 3);
    assert_true(info.wal_disk_bytes > 0);
    world_close(&w);

    world_open_ok(&w, 4, 0);
    compare(&w, &md, 0);
    assert_true(w.rec.have_snapshot);
    assert_true(w.rec.snap_id == 3);
    assert_true(w.rec.wal_segments > 1);
    world_close(&w);
    model_free(&md);
    rm_dir(dir);
}

/* A torn tail: the last segment cut inside a record (in its 8-byte prefix,
 * inside its body, or with the rest zero-filled): reopening truncates there,
 * and only the tail's keys are missing. */
static void torn_tail_case(int how)
{
    char dir[256];
    make_tmpdir(dir, sizeof(dir));
    world w;
    world_init(&w, dir);
    w.flush_every = 5;
    model md = {0};
    rs = 12 + (uint64_t)how;
    world_open_ok(&w, 4, 0);
    run_ops(&w, &md, 1000, true);
    /* lanes are per shard: hand every one off first, so that the tail's
     * records (each handed off at once) are the last ones in the file */
    for (uint32_t s = 0; s < w.n; s++)
        ps_flush_shard(w.p, s);
    assert_int_equal(ps_sync(w.p), 0);
    w.flush_every = 1;
    const char *tails[] = {"tail0", "tail1", "tail2", "tail3", "tail4"};
    for (int i = 0; i < 5; i++)
        set_extra(&w, tails[i], "tail-value-xxxxxxxxxxxxxxxxxxxx", 0);
    world_close(&w);

    uint64_t segs[8];
    assert_int_equal(list_segments(dir, segs, 8), 1);
    char p[4096];
    seg_path(p, sizeof(p), dir, segs[0]);
    size_t rl = 0;
    long off = find_record(p, "tail2", &rl);
    assert_true(off > 0);
    off_t full = file_size(p);
    off_t cut = how == 0 ? off + 3 : off + PF_REC_PREFIX + 5;
    assert_int_equal(truncate(p, cut), 0);
    if (how == 2) /* the size got ahead of the data: zeroes to the old end */
        assert_int_equal(truncate(p, full), 0);

    world_open_ok(&w, 4, 0);
    compare(&w, &md, 2);
    assert_true(has_key(&w, "tail0") && has_key(&w, "tail1"));
    assert_false(has_key(&w, "tail2") || has_key(&w, "tail3") ||
                 has_key(&w, "tail4"));
    assert_int_equal(w.rec.torn_bytes,
                     (uint64_t)((how == 2 ? full : cut) - off));
    assert_int_equal(file_size(p), off); /* truncated at the record */
    run_ops(&w, &md, 200, false);
    world_close(&w);
    /* and the log stays good afterwards */
    world_open_ok(&w, 4, 0);
    compare(&w, &md, 2);
    assert_int_equal(w.rec.torn_bytes, 0);
    world_close(&w);
    model_free(&md);
    rm_dir(dir);
}

static void test_torn_tail_prefix(void **state)
{
    (void)state;
    torn_tail_case(0);
}
static void test_torn_tail_body(void **state)
{
    (void)state;
    torn_tail_case(1);
}
static void test_torn_tail_zeroes(void **state)
{
    (void)state;
    torn_tail_case(2);
}

/* Two segments: K0..K99 in the first, L0..L9 in the second. */
static void write_two_segments(world *w)
{
    world_open_ok(w, 4, 0);
    for (int i = 0; i < 100; i++) {
        char k[16];
        sprintf(k, "K%d", i);
        set_extra(w, k, "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", 0);
    }
    world_close(w);
    world_open_ok(w, 4, 0);
    for (int i = 0; i < 10; i++) {
        char k[16];
        sprintf(k, "L%d", i);
        set_extra(w, k, "llll", 0);
    }
    world_close(w);
}

/* A flipped bit in a record in the middle of an earlier segment is not a
 * torn tail: ps_open fails naming the file and the offset. */
static void test_corrupt_middle_record(void **state)
{
    (void)state;
    char dir[256];
    make_tmpdir(dir, sizeof(dir));
    world w;
    world_init(&w, dir);
    write_two_segments(&w);
    uint64_t segs[8];
    assert_int_equal(list_segments(dir, segs, 8), 2);
    char p[4096];
    seg_path(p, sizeof(p), dir, segs[0]);
    size_t rl;
    long off = find_record(p, "K50", &rl);
    assert_true(off > 0);
    flip_bit(p, (size_t)off + rl - 3, 4); /* in the value */
    off_t size_before = file_size(p);

    assert_int_equal(world_open(&w, 4, 0), -1);
    char name[64], want[96];
    ps_wal_segment_name(name, sizeof(name), segs[0]);
    snprintf(want, sizeof(want), "offset %ld", off);
    if (!strstr(w.err, name) || !strstr(w.err, want))
        fail_msg("error should name %s and %s: %s", name, want, w.err);
    /* nothing was changed on disk by the failed open */
    assert_int_equal(file_size(p), size_before);
    assert_int_equal(list_segments(dir, segs, 8), 2);

    /* damage in the first record's checksum field: offset 64 */
    rm_dir(dir);
    make_tmpdir(dir, sizeof(dir));
    world_init(&w, dir);
    write_two_segments(&w);
    seg_path(p, sizeof(p), dir, 1);
    flip_bit(p, PF_SEG_HEADER_LEN, 0);
    assert_int_equal(world_open(&w, 4, 0), -1);
    if (!strstr(w.err, "offset 64"))
        fail_msg("error should name offset 64: %s", w.err);
    rm_dir(dir);
}

/* repair=true: the prefix before the damage is kept, the rest of that
 * segment and every later segment dropped. */
static void test_corrupt_middle_record_repair(void **state)
{
    (void)state;
    char dir[256];
    make_tmpdir(dir, sizeof(dir));
    world w;
    world_init(&w, dir);
    write_two_segments(&w);
    char p[4096];
    seg_path(p, sizeof(p), dir, 1);
    size_t rl;
    long off = find_record(p, "K50", &rl);
    assert_true(off > 0);
    flip_bit(p, (size_t)off + 12, 1); /* in the body's fixed part */

    w.cfg.repair = true;
    world_open_ok(&w, 4, 0);
    for (int i = 0; i < 100; i++) {
        char k[16];
        sprintf(k, "K%d", i);
        if (has_key(&w, k) != (i < 50))
            fail_msg("%s should be %s", k, i < 50 ? "kept" : "dropped");
    }
    for (int i = 0; i < 10; i++) {
        char k[16];
        sprintf(k, "L%d", i);
        assert_false(has_key(&w, k));
    }
    assert_int_equal(total_keys(&w), 50);
    assert_true(w.rec.repaired_bytes > 0);
    assert_int_equal(file_size(p), off);
    world_close(&w);
    rm_dir(dir);
}

/* After a repair, the log must be usable again without --repair-wal, and
 * what was written after the repair must survive later restarts (with or
 * without repair). */
static void test_repair_then_reopen(void **state)
{
    (void)state;
    char dir[256];
    make_tmpdir(dir, sizeof(dir));
    world w;
    world_init(&w, dir);
    write_two_segments(&w);
    char p[4096];
    seg_path(p, sizeof(p), dir, 1);
    size_t rl;
    long off = find_record(p, "K50", &rl);
    assert_true(off > 0);
    flip_bit(p, (size_t)off + 12, 1);

    w.cfg.repair = true;
    world_open_ok(&w, 4, 0);
    assert_int_equal(total_keys(&w), 50);
    set_extra(&w, "after-repair", "1", 0);
    world_close(&w);

    w.cfg.repair = false;
    if (world_open(&w, 4, 0))
        fail_msg("reopen after a repair failed: %s", w.err);
    assert_true(has_key(&w, "after-repair"));
    assert_int_equal(total_keys(&w), 51);
    world_close(&w);
    rm_dir(dir);
}

/* The same with the repair run started again with repair still on (an
 * operator leaving --repair-wal in the service file): nothing written after
 * the first repair may be thrown away. */
static void test_repair_twice_keeps_new_data(void **state)
{
    (void)state;
    char dir[256];
    make_tmpdir(dir, sizeof(dir));
    world w;
    world_init(&w, dir);
    write_two_segments(&w);
    char p[4096];
    seg_path(p, sizeof(p), dir, 1);
    size_t rl;
    long off = find_record(p, "K50", &rl);
    assert_true(off > 0);
    flip_bit(p, (size_t)off + 12, 1);

    w.cfg.repair = true;
    world_open_ok(&w, 4, 0);
    set_extra(&w, "after-repair", "1", 0);
    world_close(&w);
    world_open_ok(&w, 4, 0);
    assert_true(has_key(&w, "after-repair"));
    assert_int_equal(total_keys(&w), 51);
    assert_int_equal(w.rec.repaired_bytes, 0);
    world_close(&w);
    rm_dir(dir);
}

/* A last segment with an incomplete header (crash right after creating it)
 * is removed; the log must stay usable on the next restarts. */
static void test_partial_header_segment(void **state)
{
    (void)state;
    char dir[256];
    make_tmpdir(dir, sizeof(dir));
    world w;
    world_init(&w, dir);
    model md = {0};
    rs = 20;
    world_open_ok(&w, 4, 0);
    run_ops(&w, &md, 300, true);
    world_close(&w);
    uint64_t segs[8];
    assert_int_equal(list_segments(dir, segs, 8), 1);
    /* segment 2 created, 10 bytes of its header written */
    char p[4096];
    seg_path(p, sizeof(p), dir, segs[0] + 1);
    write_all_at(p, (const uint8_t *)PF_SEG_MAGIC "\1\0", 10);

    world_open_ok(&w, 4, 0);
    compare(&w, &md, 0);
    {
        off_t fs = file_size(p); /* removed (or a new segment in its place) */
        assert_true(fs < 0 || fs >= PF_SEG_HEADER_LEN);
    }
    set_extra(&w, "after", "1", 0);
    world_close(&w);

    if (world_open(&w, 4, 0))
        fail_msg("second reopen failed: %s", w.err);
    compare(&w, &md, 1);
    world_close(&w);
    model_free(&md);
    rm_dir(dir);
}

/* A damaged newest snapshot: recovery uses the previous one and the WAL
 * since its cut (kept by pruning for this), and ends in the same state. */
static void snapshot_fallback_case(int how)
{
    char dir[256];
    make_tmpdir(dir, sizeof(dir));
    world w;
    world_init(&w, dir);
    w.cfg.compress = how != 1;
    w.flush_every = 4;
    model md = {0};
    rs = 30 + (uint64_t)how;
    world_open_ok(&w, 4, 0);
    run_ops(&w, &md, 800, true);
    world_save(&w);
    run_ops(&w, &md, 800, true);
    world_save(&w);
    run_ops(&w, &md, 400, true);
    world_close(&w);

    uint64_t ids[4];
    assert_int_equal(ps_list_snapshots(dir, ids, 4), 2);
    char p[4096];
    snap_path(p, sizeof(p), dir, ids[1]);
    off_t sz = file_size(p);
    if (how == 0 || how == 1) /* a flipped bit in the body */
        flip_bit(p, (size_t)sz / 2, 3);
    else if (how == 2) /* cut short: no trailer */
        assert_int_equal(truncate(p, sz - 7), 0);
    else /* a bad header */
        flip_bit(p, 2, 0);

    log_warnings = 0;
    world_open_ok(&w, 4, 0);
    assert_true(w.rec.have_snapshot);
    assert_true(w.rec.snap_id == ids[0]);
    assert_true(w.rec.max_snap_id == ids[1]);
    assert_true(log_warnings > 0);
    compare(&w, &md, 0);
    world_close(&w);

    /* both damaged: refused, unless repairing */
    snap_path(p, sizeof(p), dir, ids[0]);
    flip_bit(p, (size_t)file_size(p) / 2, 5);
    assert_int_equal(world_open(&w, 4, 0), -1);
    if (!strstr(w.err, "no usable snapshot"))
        fail_msg("unexpected error: %s", w.err);
    w.cfg.repair = true;
    world_open_ok(&w, 4, 0);
    assert_false(w.rec.have_snapshot);
    world_close(&w);
    model_free(&md);
    rm_dir(dir);
}

static void test_snapshot_fallback_bitflip(void **state)
{
    (void)state;
    snapshot_fallback_case(0);
}
static void test_snapshot_fallback_bitflip_raw(void **state)
{
    (void)state;
    snapshot_fallback_case(1);
}
static void test_snapshot_fallback_truncated(void **state)
{
    (void)state;
    snapshot_fallback_case(2);
}
static void test_snapshot_fallback_header(void **state)
{
    (void)state;
    snapshot_fallback_case(3);
}

/* A second open of a directory in use is refused (LOCK). */
static void test_lock(void **state)
{
    (void)state;
    char dir[256];
    make_tmpdir(dir, sizeof(dir));
    world a, b;
    world_init(&a, dir);
    world_init(&b, dir);
    world_open_ok(&a, 2, 0);
    assert_int_equal(world_open(&b, 2, 0), -1);
    assert_non_null(strstr(b.err, "in use"));
    world_close(&a);
    world_open_ok(&b, 2, 0);
    world_close(&b);
    rm_dir(dir);
}

/* PER_THREAD: a thread whose lane was bound to an earlier (closed) persist
 * object and that did not bind again writes through the fallback lane of
 * the new one (persist.h: "a thread without a lane goes through a locked
 * fallback lane"). */
static void test_rebind_after_close(void **state)
{
    (void)state;
    char dir[256];
    make_tmpdir(dir, sizeof(dir));
    world w;
    world_init(&w, dir);
    w.cfg.lane_mode = PS_LANES_PER_THREAD;
    world_open_ok(&w, 2, 0); /* binds lane 0 */
    set_extra(&w, "first", "1", 0);
    world_close(&w);
    /* open by hand, so that nothing binds */
    w.n = 2;
    w.seed = 0;
    w.obs.fn = NULL;
    for (uint32_t i = 0; i < 2; i++)
        w.sh[i] = eng_shard_new(i, 0, &w.obs);
    assert_int_equal(ps_open(&w.p, &w.cfg, w.sh, 2, 0, w.err, sizeof(w.err)),
                     0);
    w.obs.fn = ps_observe;
    w.obs.ctx = w.p;
    set_extra(&w, "second", "2", 0);
    world_close(&w);
    world_open_ok(&w, 2, 0);
    assert_true(has_key(&w, "first"));
    assert_true(has_key(&w, "second"));
    world_close(&w);
    rm_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_roundtrip_per_shard, teardown),
        cmocka_unit_test_teardown(test_roundtrip_per_thread, teardown),
        cmocka_unit_test_teardown(test_save_mid_compressed, teardown),
        cmocka_unit_test_teardown(test_save_mid_raw, teardown),
        cmocka_unit_test_teardown(test_save_mid_per_thread, teardown),
        cmocka_unit_test_teardown(test_fsync_no, teardown),
        cmocka_unit_test_teardown(test_fsync_always, teardown),
        cmocka_unit_test_teardown(test_fsync_always_durable, teardown),
        cmocka_unit_test_teardown(test_layout_change_shards, teardown),
        cmocka_unit_test_teardown(test_layout_change_seed, teardown),
        cmocka_unit_test_teardown(test_reopen_other_seed, teardown),
        cmocka_unit_test_teardown(test_expired_not_resurrected, teardown),
        cmocka_unit_test_teardown(test_ttl_changed_before_expiry_wal, teardown),
        cmocka_unit_test_teardown(test_ttl_changed_before_expiry_snapshot, teardown),
        cmocka_unit_test_teardown(test_segments_and_pruning, teardown),
        cmocka_unit_test_teardown(test_torn_tail_prefix, teardown),
        cmocka_unit_test_teardown(test_torn_tail_body, teardown),
        cmocka_unit_test_teardown(test_torn_tail_zeroes, teardown),
        cmocka_unit_test_teardown(test_corrupt_middle_record, teardown),
        cmocka_unit_test_teardown(test_corrupt_middle_record_repair, teardown),
        cmocka_unit_test_teardown(test_repair_then_reopen, teardown),
        cmocka_unit_test_teardown(test_repair_twice_keeps_new_data, teardown),
        cmocka_unit_test_teardown(test_partial_header_segment, teardown),
        cmocka_unit_test_teardown(test_snapshot_fallback_bitflip, teardown),
        cmocka_unit_test_teardown(test_snapshot_fallback_bitflip_raw, teardown),
        cmocka_unit_test_teardown(test_snapshot_fallback_truncated, teardown),
        cmocka_unit_test_teardown(test_snapshot_fallback_header, teardown),
        cmocka_unit_test_teardown(test_lock, teardown),
        cmocka_unit_test_teardown(test_rebind_after_close, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
