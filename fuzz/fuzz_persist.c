/*
 * fuzz_persist.c — libFuzzer harness for the persistence formats and the
 * whole recovery path.
 *
 * Input: one control byte, then a body.
 *  1. The pure decoders over the raw input: pf_rec_decode and
 *     pf_item_decode in a loop (advancing by `used` on PF_OK, stopping on
 *     MORE/BAD), the header and trailer decoders at every offset of the
 *     first bytes. Checked: `used` stays inside the buffer, decoded views
 *     lie inside it, every proper prefix of an accepted item is PF_MORE,
 *     and a decoded record re-encodes to the same bytes.
 *  2. The body written as a WAL segment behind a valid header (layout from
 *     the control byte; optionally with every record's checksum fixed up so
 *     that the structure behind the checksum is reached; optionally split
 *     into two segments so that damage before the last one is an error),
 *     then ps_recover into fresh shards with repair off and on. With repair
 *     on, recovery of a WAL-only directory must succeed.
 *  3. The body written as a snapshot body between a valid header and a
 *     trailer whose checksum covers it (zstd flag when the control byte is
 *     odd; the body then either compressed by the harness, reaching the
 *     item parser through the streaming decompressor, or passed as-is, to
 *     fuzz the decompressor's error paths), then ps_recover.
 *
 * Everything is freed and the directory emptied after each input (keep
 * -max_len small, e.g. 4096: each input costs a few file writes).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "engine/engine.h"
#include "persist/format.h"
#include "persist/recover.h"
#include "persist/wal.h"

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c))                                                              \
            __builtin_trap();                                                  \
    } while (0)

#define NSHARDS 4

static char dir[256];

static void quiet(int level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}

static void empty_dir(void)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        unlink(p);
    }
    closedir(d);
}

static void put_file(const char *name, const uint8_t *a, size_t alen,
                     const uint8_t *b, size_t blen, const uint8_t *c,
                     size_t clen)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    CHECK(!alen || write(fd, a, alen) == (ssize_t)alen);
    CHECK(!blen || write(fd, b, blen) == (ssize_t)blen);
    CHECK(!clen || write(fd, c, clen) == (ssize_t)clen);
    close(fd);
}

static void remove_dir(void)
{
    empty_dir();
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* tmpfs when there is one: recovery fsyncs what it truncates */
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof(dir), "%s/fuzz-persist-%d-XXXXXX", base,
             (int)getpid());
    CHECK(mkdtemp(dir) != NULL);
    atexit(remove_dir);
    return 0;
}

/* --- 1. pure decoders ------------------------------------------------- */

static void decoders(const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        pf_rec r;
        size_t used = 0;
        int st = pf_rec_decode(p + off, n - off, &r, &used);
        if (st != PF_OK)
            break;
        CHECK(used >= PF_REC_HEADER && used <= n - off);
        CHECK(used == pf_rec_size(r.klen, r.vlen));
        CHECK(r.key == p + off + PF_REC_HEADER);
        CHECK(r.value == r.key + r.klen);
        CHECK(r.expire_unix_ms >= 0);
        /* re-encodes to the same bytes */
        uint8_t *re = malloc(used);
        CHECK(re);
        pf_rec_encode(re, &r);
        CHECK(!memcmp(re, p + off, used));
        free(re);
        /* every proper prefix only waits (sampled: first and last bytes) */
        for (size_t cut = 0; cut < used; cut += cut < 48 || cut + 48 > used ? 1 : 97) {
            pf_rec r2;
            size_t u2 = 0;
            CHECK(pf_rec_decode(p + off, cut, &r2, &u2) == PF_MORE);
        }
        off += used;
    }
    off = 0;
    while (off < n) {
        pf_item it;
        size_t used = 0;
        int st = pf_item_decode(p + off, n - off, &it, &used);
        if (st != PF_OK)
            break;
        CHECK(used >= 1 && used <= n - off);
        if (it.tag == PF_ITEM_ENTRY) {
            CHECK(used == pf_entry_size(it.klen, it.vlen));
            CHECK(it.key == p + off + PF_ITEM_ENTRY_FIXED);
            CHECK(it.value == it.key + it.klen);
            uint8_t *re = malloc(used);
            CHECK(re);
            CHECK(pf_item_entry_encode(re, it.vtype, it.expire_unix_ms, it.key,
                                       it.klen, it.value, it.vlen) == used);
            CHECK(!memcmp(re, p + off, used));
            free(re);
        } else if (it.tag == PF_ITEM_TYPED) {
            CHECK(used == pf_typed_size(it.klen, it.vlen));
            CHECK(it.key == p + off + PF_ITEM_TYPED_FIXED);
            CHECK(it.value == it.key + it.klen);
            CHECK(it.vtype >= 1 && it.vtype <= PF_VTYPE_MAX);
            uint8_t *re = malloc(used);
            CHECK(re);
            CHECK(pf_item_typed_encode(re, it.vtype, it.expire_unix_ms, it.num,
                                       it.key, it.klen, it.value,
                                       it.vlen) == used);
            CHECK(!memcmp(re, p + off, used));
            free(re);
        } else {
            CHECK(used == PF_ITEM_SHARD_LEN);
            uint8_t re[PF_ITEM_SHARD_LEN];
            pf_item_shard_encode(re, it.tag, it.shard, it.num);
            CHECK(!memcmp(re, p + off, used));
        }
        for (size_t cut = 0; cut < used; cut += cut < 48 || cut + 48 > used ? 1 : 97) {
            pf_item i2;
            size_t u2 = 0;
            CHECK(pf_item_decode(p + off, cut, &i2, &u2) == PF_MORE);
        }
        off += used;
    }
    for (size_t at = 0; at < 8 && at < n; at++) {
        pf_seg_header sh;
        pf_snap_header nh;
        uint64_t check;
        if (pf_seg_header_decode(p + at, n - at, &sh) == PF_OK) {
            uint8_t re[PF_SEG_HEADER_LEN];
            pf_seg_header_encode(re, &sh);
            CHECK(!memcmp(re, p + at, PF_SEG_HEADER_LEN));
        }
        if (pf_snap_header_decode(p + at, n - at, &nh) == PF_OK) {
            uint8_t re[PF_SNAP_HEADER_LEN];
            pf_snap_header_encode(re, &nh);
            CHECK(!memcmp(re, p + at, PF_SNAP_HEADER_LEN));
        }
        (void)pf_snap_trailer_decode(p + at, n - at, &check);
    }
}

/* --- recovery --------------------------------------------------------- */

static int recover(bool repair, uint32_t nshards, uint64_t seed,
                   ps_recover_result *res)
{
    eng_shard *sh[NSHARDS * 2];
    for (uint32_t i = 0; i < nshards; i++) {
        sh[i] = eng_shard_new(i, 0, NULL);
        CHECK(sh[i]);
    }
    ps_recover_opts o = {.dir = dir,
                         .shards = sh,
                         .nshards = nshards,
                         .seed = seed,
                         .repair = repair,
                         .log = quiet};
    char err[512];
    err[0] = 0;
    int r = ps_recover(&o, res, err, sizeof(err));
    if (r)
        CHECK(err[0]); /* a failure always says why */
    size_t keys = 0;
    for (uint32_t i = 0; i < nshards; i++) {
        keys += eng_len(sh[i]);
        eng_shard_free(sh[i]);
    }
    CHECK(res->keys == keys);
    return r;
}

/* Rewrites each record's checksum from its length field, as far as the
 * lengths chain inside the buffer. */
static void fix_checksums(uint8_t *p, size_t n)
{
    size_t off = 0;
    while (n - off >= PF_REC_PREFIX) {
        uint32_t len = (uint32_t)p[off + 4] | (uint32_t)p[off + 5] << 8 |
                       (uint32_t)p[off + 6] << 16 | (uint32_t)p[off + 7] << 24;
        if (len > n - off - PF_REC_PREFIX)
            break;
        uint32_t c = (uint32_t)XXH3_64bits(p + off + 4, 4 + (size_t)len);
        for (int i = 0; i < 4; i++)
            p[off + i] = (uint8_t)(c >> (8 * i));
        off += PF_REC_PREFIX + len;
    }
}

static void wal_case(uint8_t ctl, uint8_t split_at, const uint8_t *body,
                     size_t n)
{
    uint8_t *b = malloc(n ? n : 1);
    CHECK(b);
    if (n)
        memcpy(b, body, n);
    if (ctl & 0x02)
        fix_checksums(b, n);
    pf_seg_header h = {.segno = 1,
                       .epoch = 1,
                       .seed = (ctl & 0x10) ? 0x5eed : 0,
                       .nshards = 1u << ((ctl >> 2) & 3),
                       .created_unix_ms = 1700000000000};
    uint8_t hb[PF_SEG_HEADER_LEN], hb2[PF_SEG_HEADER_LEN];
    pf_seg_header_encode(hb, &h);
    h.segno = 2;
    h.epoch = (ctl & 0x20) ? 2 : 1;
    pf_seg_header_encode(hb2, &h);
    size_t cut = (ctl & 0x40) ? (size_t)split_at * n / 256 : n;
    if (ctl & 0x02) /* keep whole records in each segment when fixing up */
        fix_checksums(b + cut, n - cut);
    for (int repair = 0; repair < 2; repair++) {
        char name[64];
        ps_wal_segment_name(name, sizeof(name), 1);
        put_file(name, hb, sizeof(hb), b, cut, NULL, 0);
        if (cut < n) {
            ps_wal_segment_name(name, sizeof(name), 2);
            put_file(name, hb2, sizeof(hb2), b + cut, n - cut, NULL, 0);
        }
        ps_recover_result res;
        int r = recover(repair, NSHARDS, 0, &res);
        if (repair)
            CHECK(r == 0);
        if (r == 0) {
            /* A repair that drops segments numbers the next one after the
             * last survivor, so max_segno may shrink but never grow. */
            CHECK(res.max_segno <= (cut < n ? 2u : 1u));
            CHECK(res.max_segno == 0 || res.max_epoch >= 1);
        }
        empty_dir();
    }
    free(b);
}

static void snap_case(uint8_t ctl, const uint8_t *body, size_t n)
{
    bool zstd = ctl & 1;
    pf_snap_header h = {.flags = zstd ? PF_SNAP_F_ZSTD : 0,
                        .epoch = 1,
                        .snap_id = 1,
                        .wal_from_segno = 1,
                        .seed = 0,
                        .nshards = 1u << ((ctl >> 2) & 3),
                        .created_unix_ms = 1700000000000};
    uint8_t hb[PF_SNAP_HEADER_LEN];
    pf_snap_header_encode(hb, &h);
    uint8_t *z = NULL;
    const uint8_t *pb = body;
    size_t pn = n;
    if (zstd && (ctl & 0x02)) {
        size_t cap = ZSTD_compressBound(n);
        z = malloc(cap);
        CHECK(z);
        size_t zn = ZSTD_compress(z, cap, body, n, 1);
        CHECK(!ZSTD_isError(zn));
        pb = z;
        pn = zn;
    }
    XXH3_state_t *xs = XXH3_createState();
    CHECK(xs);
    XXH3_64bits_reset(xs);
    XXH3_64bits_update(xs, hb, sizeof(hb));
    XXH3_64bits_update(xs, pb, pn);
    uint8_t tb[PF_SNAP_TRAILER_LEN];
    pf_snap_trailer_encode(tb, XXH3_64bits_digest(xs));
    XXH3_freeState(xs);
    for (int repair = 0; repair < 2; repair++) {
        put_file("snap-0000000000000001.fcs", hb, sizeof(hb), pb, pn, tb,
                 sizeof(tb));
        ps_recover_result res;
        int r = recover(repair, NSHARDS, 0, &res);
        if (repair)
            CHECK(r == 0); /* an unusable snapshot is skipped when repairing */
        if (r == 0 && res.have_snapshot)
            CHECK(res.snap_id == 1);
        empty_dir();
    }
    free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    decoders(data, size);
    if (size < 2)
        return 0;
    uint8_t ctl = data[0];
    wal_case(ctl, data[1], data + 1, size - 1);
    snap_case(ctl, data + 1, size - 1);
    return 0;
}
