/*
 * recover.c — snapshot loading and WAL replay (rules in recover.h).
 */
#define _GNU_SOURCE
#include "persist/recover.h"
#include "persist/clock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "engine/obj.h"
#include "persist/format.h"
#include "persist/wal.h"
#include "util/buf.h"

#define MAX_FILES 65536

typedef struct rctx {
    const ps_recover_opts *o;
    ps_recover_result *res;
    int64_t now_mono, now_unix, woff;
    bool have_snap;
    uint64_t snap_epoch;
    uint64_t *cut; /* [cut_n]: the snapshot's seq per shard */
    uint32_t cut_n;
    int64_t next_progress_ms;
    uint64_t bytes_done, bytes_total;
    char *err;
    size_t errlen;
} rctx;

typedef struct mapped {
    uint8_t *p;
    size_t len;
    int fd;
} mapped;

static int map_file(const char *dir, const char *name, bool rw, mapped *m)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    m->p = NULL;
    m->len = 0;
    m->fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (m->fd < 0)
        return errno;
    struct stat sb;
    if (fstat(m->fd, &sb)) {
        int e = errno;
        close(m->fd);
        return e;
    }
    m->len = (size_t)sb.st_size;
    if (m->len) {
        void *p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, m->fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(m->fd);
            return e;
        }
        m->p = p;
    }
    return 0;
}

static void unmap_file(mapped *m)
{
    if (m->p)
        munmap(m->p, m->len);
    if (m->fd >= 0)
        close(m->fd);
    m->p = NULL;
    m->fd = -1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Strict names (the number parsed, not compared as text). */
static bool parse_name(const char *name, const char *prefix,
                       const char *suffix, uint64_t *n)
{
    size_t pl = strlen(prefix), sl = strlen(suffix);
    if (strlen(name) != pl + 16 + sl || strncmp(name, prefix, pl) ||
        strcmp(name + pl + 16, suffix))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < 16; i++) {
        char c = name[pl + i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                       : -1;
        if (d < 0)
            return false;
        v = (v << 4) | (uint64_t)d;
    }
    *n = v;
    return true;
}

static size_t list_files(const char *dir, const char *prefix,
                         const char *suffix, uint64_t *ids, size_t cap,
                         bool remove)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        uint64_t id;
        if (!parse_name(de->d_name, prefix, suffix, &id))
            continue;
        if (remove) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            unlink(path);
            continue;
        }
        if (n < cap)
            ids[n] = id;
        n++;
    }
    closedir(d);
    if (ids)
        qsort(ids, n < cap ? n : cap, sizeof(*ids), cmp_u64);
    return n;
}

size_t ps_list_snapshots(const char *dir, uint64_t *ids, size_t cap)
{
    return list_files(dir, "snap-", ".fcs", ids, cap, false);
}

static void progress(rctx *rc, size_t more)
{
    rc->bytes_done += more;
    int64_t now = ps_clock_ms(CLOCK_MONOTONIC);
    if (now < rc->next_progress_ms || !rc->o->log)
        return;
    if (rc->next_progress_ms) {
        double secs = (double)(now - rc->now_mono) / 1000.0;
        uint64_t keys = rc->res->snap_keys + rc->res->wal_applied;
        rc->o->log(0, "Loading: %" PRIu64 " keys and records, %.0f/s, %.0f%%",
                   keys, secs > 0 ? (double)keys / secs : 0.0,
                   rc->bytes_total ? 100.0 * (double)rc->bytes_done /
                                         (double)rc->bytes_total
                                   : 100.0);
    }
    rc->next_progress_ms = now + 1000;
}

/* --- applying facts ----------------------------------------------------- */

static eng_shard *place(rctx *rc, const void *key, size_t klen, uint64_t *h)
{
    /* The engine's own seeded hash: its tables rehash with it. */
    *h = eng_hash_seeded(rc->o->seed, key, klen);
    return rc->o->shards[*h & (rc->o->nshards - 1)];
}

/* Replay runs at a time before every expiry: a key whose TTL has passed is
 * kept until the end (a later EXPIRE record may extend or remove its TTL),
 * then purged. */
#define REPLAY_NOW (INT64_MIN + 1)
static int64_t to_mono(rctx *rc, int64_t exp_unix)
{
    if (!exp_unix)
        return 0;
    int64_t m = exp_unix - rc->woff;
    return m < 1 ? 1 : m;
}

static int apply_set(rctx *rc, const void *k, size_t kl, const void *v,
                     size_t vl, int64_t exp_unix)
{
    uint64_t h;
    eng_shard *sh = place(rc, k, kl, &h);
    int r = eng_set(sh, h, k, kl, v, vl, to_mono(rc, exp_unix), 0, REPLAY_NOW,
                    NULL, NULL);
    return r == FC_OK ? 0 : -1;
}

/* A whole typed value (a SET record of a type, or a snapshot's T item with
 * image_seq, its per-key cut). A value that does not decode passed the
 * record's checksum, so our own writer made it: corruption we cannot
 * repair; it is logged and the key skipped rather than the data dir
 * refused. */
static int apply_typed(rctx *rc, unsigned vtype, const void *k, size_t kl,
                       const void *v, size_t vl, int64_t exp_unix,
                       uint64_t image_seq)
{
    uint64_t h;
    eng_shard *sh = place(rc, k, kl, &h);
    int r = eng_obj_load(sh, h, k, kl, vtype, v, vl, to_mono(rc, exp_unix),
                         image_seq, REPLAY_NOW);
    if (r == FC_EINVAL) {
        if (rc->o->log)
            rc->o->log(1, "recovery: a typed value (type %u, key of %zu bytes) "
                      "does not decode; key skipped", vtype, kl);
        return 0;
    }
    return r == FC_OK ? 0 : -1;
}

/* An op record; seq is 0 for records of epochs after the snapshot's
 * (they all apply). */
static int apply_op(rctx *rc, const pf_rec *r, uint64_t seq)
{
    uint64_t h;
    eng_shard *sh = place(rc, r->key, r->klen, &h);
    int x = eng_obj_apply(sh, h, r->key, r->klen, r->vtype, r->value, r->vlen,
                          seq, REPLAY_NOW);
    if (x == FC_EINVAL) {
        if (rc->o->log)
            rc->o->log(1, "recovery: an op record (type %u) does not decode; "
                      "skipped", r->vtype);
        return 0;
    }
    return x == FC_OK ? 0 : -1;
}

/* Keys the writing run's layout put in one shard, collected before any is
 * deleted (eng_scan's callback must not mutate). */
typedef struct clear_ctx {
    uint64_t seed;
    uint32_t mask, shard;
    fc_buf keys; /* u32 length + bytes, repeated */
} clear_ctx;

static void collect_clear(void *arg, const eng_entry *e)
{
    clear_ctx *c = arg;
    size_t kl;
    const uint8_t *k = eng_entry_key(e, &kl);
    if ((XXH3_64bits_withSeed(k, kl, c->seed) & c->mask) != c->shard)
        return;
    uint32_t l32 = (uint32_t)kl;
    fc_buf_append(&c->keys, &l32, sizeof(l32));
    fc_buf_append(&c->keys, k, kl);
}

static int apply_clear(rctx *rc, uint32_t shard, uint64_t seed, uint32_t n)
{
    if (seed == rc->o->seed && n == rc->o->nshards) {
        eng_clear(rc->o->shards[shard]);
        return 0;
    }
    clear_ctx c = {.seed = seed, .mask = n - 1, .shard = shard};
    for (uint32_t i = 0; i < rc->o->nshards; i++) {
        uint64_t cur = 0;
        do
            cur = eng_scan(rc->o->shards[i], cur, 1024, REPLAY_NOW,
                           collect_clear, &c);
        while (cur);
    }
    if (c.keys.oom) {
        fc_buf_free(&c.keys);
        return -1;
    }
    for (size_t off = 0; off < c.keys.len;) {
        uint32_t kl;
        memcpy(&kl, c.keys.data + off, sizeof(kl));
        const char *k = c.keys.data + off + sizeof(kl);
        uint64_t h;
        eng_shard *sh = place(rc, k, kl, &h);
        eng_del(sh, h, k, kl, REPLAY_NOW, NULL);
        off += sizeof(kl) + kl;
    }
    fc_buf_free(&c.keys);
    return 0;
}

static int apply_rec(rctx *rc, const pf_rec *r, const pf_seg_header *sh,
                     bool same_epoch)
{
    uint64_t h;
    switch (r->kind) {
    case PF_REC_SET:
        if (r->vtype)
            return apply_typed(rc, r->vtype, r->key, r->klen, r->value,
                               r->vlen, r->expire_unix_ms, 0);
        return apply_set(rc, r->key, r->klen, r->value, r->vlen,
                         r->expire_unix_ms);
    case PF_REC_OP:
        return apply_op(rc, r, same_epoch ? r->seq : 0);
    case PF_REC_DEL: {
        eng_shard *s = place(rc, r->key, r->klen, &h);
        eng_del(s, h, r->key, r->klen, REPLAY_NOW, NULL);
        return 0;
    }
    case PF_REC_EXPIRE: {
        eng_shard *s = place(rc, r->key, r->klen, &h);
        int x = eng_set_expire(s, h, r->key, r->klen,
                               to_mono(rc, r->expire_unix_ms), REPLAY_NOW);
        return x == FC_ENOMEM ? -1 : 0;
    }
    case PF_REC_CLEAR:
        return apply_clear(rc, r->shard, sh->seed, sh->nshards);
    }
    return 0;
}

/* --- snapshots ------------------------------------------------------------ */

static bool snap_verify(const mapped *m, pf_snap_header *h, const char **why)
{
    uint64_t want;
    if (m->len < PF_SNAP_HEADER_LEN + PF_SNAP_TRAILER_LEN) {
        *why = "file too short";
        return false;
    }
    if (pf_snap_header_decode(m->p, m->len, h) != PF_OK) {
        *why = "bad header";
        return false;
    }
    if (pf_snap_trailer_decode(m->p + m->len - PF_SNAP_TRAILER_LEN,
                               PF_SNAP_TRAILER_LEN, &want) != PF_OK) {
        *why = "no trailer (incomplete file)";
        return false;
    }
    if (pf_check64(m->p, m->len - PF_SNAP_TRAILER_LEN) != want) {
        *why = "checksum mismatch";
        return false;
    }
    return true;
}

typedef struct body_state {
    uint32_t nshards;
    uint8_t *seen; /* [nshards]: 1 begun, 2 ended */
    bool ended;
    uint64_t entries;
} body_state;

/* Parses items from p; returns bytes consumed, or -1 on a bad item. */
static ssize_t body_items(rctx *rc, body_state *bs, const uint8_t *p,
                          size_t n)
{
    size_t off = 0;
    while (off < n) {
        pf_item it;
        size_t used;
        int st = pf_item_decode(p + off, n - off, &it, &used);
        if (st == PF_MORE)
            break;
        if (st == PF_BAD || bs->ended)
            return -1;
        switch (it.tag) {
        case PF_ITEM_SHARD_BEGIN:
            if (it.shard >= bs->nshards || bs->seen[it.shard])
                return -1;
            bs->seen[it.shard] = 1;
            rc->cut[it.shard] = it.num;
            break;
        case PF_ITEM_SHARD_END:
            if (it.shard >= bs->nshards || bs->seen[it.shard] != 1)
                return -1;
            bs->seen[it.shard] = 2;
            break;
        case PF_ITEM_END:
            if (it.num != bs->entries || it.shard != bs->nshards)
                return -1;
            for (uint32_t i = 0; i < bs->nshards; i++)
                if (bs->seen[i] != 2)
                    return -1;
            bs->ended = true;
            break;
        case PF_ITEM_TYPED:
            bs->entries++;
            if (apply_typed(rc, it.vtype, it.key, it.klen, it.value, it.vlen,
                            it.expire_unix_ms, it.num))
                return -1;
            rc->res->snap_keys++;
            break;
        default: /* entry */
            bs->entries++;
            if (apply_set(rc, it.key, it.klen, it.value, it.vlen,
                          it.expire_unix_ms))
                return -1;
            rc->res->snap_keys++;
        }
        off += used;
    }
    return (ssize_t)off;
}

static bool snap_load(rctx *rc, const mapped *m, const pf_snap_header *h)
{
    body_state bs = {.nshards = h->nshards};
    bs.seen = calloc(h->nshards, 1);
    rc->cut = calloc(h->nshards, sizeof(*rc->cut));
    rc->cut_n = h->nshards;
    bool ok = bs.seen && rc->cut;
    const uint8_t *body = m->p + PF_SNAP_HEADER_LEN;
    size_t blen = m->len - PF_SNAP_HEADER_LEN - PF_SNAP_TRAILER_LEN;
    if (ok && !(h->flags & PF_SNAP_F_ZSTD)) {
        ssize_t k = body_items(rc, &bs, body, blen);
        ok = k == (ssize_t)blen;
        progress(rc, blen);
    } else if (ok) {
        ZSTD_DCtx *dc = ZSTD_createDCtx();
        fc_buf acc = {0};
        size_t step = ZSTD_DStreamOutSize();
        ZSTD_inBuffer in = {body, blen, 0};
        size_t last = 1;
        ok = dc != NULL;
        while (ok && (in.pos < in.size || last != 0)) {
            if (!fc_buf_reserve(&acc, step)) {
                ok = false;
                break;
            }
            ZSTD_outBuffer out = {acc.data + acc.len, acc.cap - acc.len, 0};
            size_t before = in.pos;
            last = ZSTD_decompressStream(dc, &out, &in);
            if (ZSTD_isError(last) || (out.pos == 0 && in.pos == before &&
                                       in.pos == in.size && last != 0)) {
                ok = false;
                break;
            }
            acc.len += out.pos;
            ssize_t k = body_items(rc, &bs, (uint8_t *)acc.data, acc.len);
            if (k < 0) {
                ok = false;
                break;
            }
            fc_buf_consume(&acc, (size_t)k);
            progress(rc, in.pos - before);
        }
        ok = ok && acc.len == 0;
        fc_buf_free(&acc);
        ZSTD_freeDCtx(dc);
    }
    ok = ok && bs.ended;
    free(bs.seen);
    return ok;
}

static void clear_all(rctx *rc)
{
    for (uint32_t i = 0; i < rc->o->nshards; i++)
        eng_clear(rc->o->shards[i]);
    rc->res->snap_keys = rc->res->expired_dropped = 0;
}

/* Newest valid snapshot, falling back to older ones. */
static int load_snapshot(rctx *rc, pf_snap_header *used)
{
    uint64_t ids[1024]; /* only two are kept; more means foreign files */
    size_t n = ps_list_snapshots(rc->o->dir, ids, 1024);
    if (n > 1024)
        n = 1024;
    if (n)
        rc->res->max_snap_id = ids[n - 1];
    for (size_t i = n; i-- > 0;) {
        char name[64];
        snprintf(name, sizeof(name), "snap-%016" PRIx64 ".fcs", ids[i]);
        mapped m;
        int e = map_file(rc->o->dir, name, false, &m);
        if (e) {
            rc->o->log(1, "Cannot read snapshot %s: %s", name, strerror(e));
            continue;
        }
        const char *why = NULL;
        pf_snap_header h;
        bool ok = snap_verify(&m, &h, &why);
        if (ok) {
            rc->bytes_total += m.len;
            ok = snap_load(rc, &m, &h);
            if (!ok) {
                why = "bad body";
                clear_all(rc);
                free(rc->cut);
                rc->cut = NULL;
            }
        }
        unmap_file(&m);
        if (!ok) {
            rc->o->log(1, "Snapshot %s/%s is unusable (%s); trying an older one",
                       rc->o->dir, name, why);
            continue;
        }
        *used = h;
        rc->have_snap = true;
        rc->snap_epoch = h.epoch;
        rc->res->have_snapshot = true;
        rc->res->snap_id = h.snap_id;
        rc->res->snap_created_unix_ms = h.created_unix_ms;
        if (h.epoch > rc->res->max_epoch)
            rc->res->max_epoch = h.epoch;
        return 0;
    }
    if (n && rc->o->repair) {
        rc->o->log(1, "--repair-wal: no usable snapshot; replaying the WAL "
                      "alone, which may miss keys the snapshots held");
        return 0;
    }
    if (n) {
        snprintf(rc->err, rc->errlen,
                 "no usable snapshot in %s (%zu found, all damaged; see the "
                 "log)",
                 rc->o->dir, n);
        return -1;
    }
    return 0;
}

/* --- WAL -------------------------------------------------------------- */

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* Whether damage at off in the last segment is a torn tail: the record
 * runs past the end of the file, or nothing but zeroes follows (a size
 * extended before the data landed). */
static bool torn_tail(const mapped *m, size_t off, int st)
{
    if (st == PF_MORE)
        return true;
    if (all_zero(m->p + off, m->len - off))
        return true;
    if (m->len - off >= PF_REC_PREFIX) {
        const uint8_t *q = m->p + off + 4;
        uint64_t len = (uint64_t)q[0] | (uint64_t)q[1] << 8 |
                       (uint64_t)q[2] << 16 | (uint64_t)q[3] << 24;
        uint64_t end = off + PF_REC_PREFIX + len;
        return end >= m->len || all_zero(m->p + end, m->len - (size_t)end);
    }
    return true;
}

static void remove_segment(const char *dir, uint64_t segno)
{
    char name[64], path[4096];
    ps_wal_segment_name(name, sizeof(name), segno);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
}

/* Replays one segment. 1 = stop replay here (repaired), 0 = go on,
 * -1 = error. */
static int replay_segment(rctx *rc, uint64_t segno, bool last)
{
    char name[64];
    ps_wal_segment_name(name, sizeof(name), segno);
    mapped m;
    int e = map_file(rc->o->dir, name, true, &m);
    if (e) {
        snprintf(rc->err, rc->errlen, "cannot read %s/%s: %s", rc->o->dir,
                 name, strerror(e));
        return -1;
    }
    pf_seg_header sh;
    int st = pf_seg_header_decode(m.p, m.len, &sh);
    if (st != PF_OK || sh.segno != segno) {
        unmap_file(&m);
        if (last && st == PF_MORE) { /* created, header not yet written */
            rc->o->log(1, "WAL segment %s has no complete header: removed",
                       name);
            remove_segment(rc->o->dir, segno);
            return 2;
        }
        if (rc->o->repair) {
            rc->o->log(1, "--repair-wal: %s has a bad header; dropping it "
                          "and every later segment", name);
            remove_segment(rc->o->dir, segno);
            return 2;
        }
        snprintf(rc->err, rc->errlen,
                 "corrupt WAL segment header in %s/%s (offset 0); start with "
                 "--repair-wal to keep the log before it",
                 rc->o->dir, name);
        return -1;
    }
    if (sh.epoch > rc->res->max_epoch)
        rc->res->max_epoch = sh.epoch;
    bool same_epoch = rc->have_snap && sh.epoch == rc->snap_epoch;
    bool older = rc->have_snap && sh.epoch < rc->snap_epoch;
    size_t off = PF_SEG_HEADER_LEN;
    int rcode = 0;
    while (off < m.len) {
        pf_rec r;
        size_t used;
        st = pf_rec_decode(m.p + off, m.len - off, &r, &used);
        if (st == PF_OK && r.shard >= sh.nshards)
            st = PF_BAD;
        if (st != PF_OK) {
            size_t dropped = m.len - off;
            if (last && all_zero(m.p + off, dropped)) {
                /* fsync=always writes into zeroes written ahead (wal.c):
                 * the end of the log, not damage. */
                rc->o->log(0, "WAL %s: %zu bytes of space written ahead "
                              "after the last record (offset %zu): cut",
                           name, dropped, off);
            } else if (last && torn_tail(&m, off, st)) {
                rc->o->log(1, "WAL %s: torn record at the tail (offset %zu): "
                              "truncated, %zu bytes dropped",
                           name, off, dropped);
                rc->res->torn_bytes += dropped;
            } else if (rc->o->repair) {
                rc->o->log(1, "--repair-wal: %s is damaged at offset %zu: "
                              "kept the %zu records before it, dropped %zu "
                              "bytes and every later segment",
                           name, off, (size_t)rc->res->wal_records, dropped);
                rc->res->repaired_bytes += dropped;
                rcode = 1;
            } else {
                snprintf(rc->err, rc->errlen,
                         "corrupt WAL record in %s/%s at offset %zu; start "
                         "with --repair-wal to keep the log before it",
                         rc->o->dir, name, off);
                unmap_file(&m);
                return -1;
            }
            if (ftruncate(m.fd, (off_t)off) || fsync(m.fd))
                rc->o->log(1, "cannot truncate %s: %s", name, strerror(errno));
            break;
        }
        rc->res->wal_records++;
        bool skip = older || (same_epoch && r.shard < rc->cut_n &&
                              r.seq <= rc->cut[r.shard]);
        if (!skip) {
            if (apply_rec(rc, &r, &sh, same_epoch)) {
                snprintf(rc->err, rc->errlen,
                         "out of memory replaying %s/%s at offset %zu",
                         rc->o->dir, name, off);
                unmap_file(&m);
                return -1;
            }
            rc->res->wal_applied++;
        }
        off += used;
        progress(rc, used);
    }
    unmap_file(&m);
    return rcode;
}

static int replay_wal(rctx *rc, const pf_snap_header *snap)
{
    size_t n = list_files(rc->o->dir, "wal-", ".log", NULL, 0, false);
    if (n > MAX_FILES) {
        snprintf(rc->err, rc->errlen, "%zu WAL segments in %s: too many", n,
                 rc->o->dir);
        return -1;
    }
    uint64_t *ids = malloc((n ? n : 1) * sizeof(*ids));
    if (!ids) {
        snprintf(rc->err, rc->errlen, "out of memory");
        return -1;
    }
    n = list_files(rc->o->dir, "wal-", ".log", ids, n, false);
    if (n)
        rc->res->max_segno = ids[n - 1];
    size_t first = 0;
    if (rc->have_snap)
        while (first < n && ids[first] < snap->wal_from_segno)
            first++; /* covered by the snapshot; pruning had not run yet */
    for (size_t i = first; i < n; i++) {
        struct stat sb;
        char path[4096], name[64];
        ps_wal_segment_name(name, sizeof(name), ids[i]);
        snprintf(path, sizeof(path), "%s/%s", rc->o->dir, name);
        if (!stat(path, &sb))
            rc->bytes_total += (uint64_t)sb.st_size;
    }
    int r = 0;
    if (rc->have_snap && snap->wal_from_segno <= rc->res->max_segno &&
        (first == n || ids[first] != snap->wal_from_segno)) {
        snprintf(rc->err, rc->errlen,
                 "WAL segment %016" PRIx64 " that snapshot %016" PRIx64
                 " needs is missing from %s",
                 snap->wal_from_segno, snap->snap_id, rc->o->dir);
        r = -1;
    }
    for (size_t i = first; r == 0 && i < n; i++) {
        if (i > first && ids[i] != ids[i - 1] + 1) {
            if (!rc->o->repair) {
                snprintf(rc->err, rc->errlen,
                         "WAL segment %016" PRIx64 " is missing from %s (gap "
                         "before %016" PRIx64 "); start with --repair-wal to "
                         "keep the log before it",
                         ids[i - 1] + 1, rc->o->dir, ids[i]);
                r = -1;
                break;
            }
            rc->o->log(1, "--repair-wal: segment %016" PRIx64 " missing: "
                          "dropping every segment after it",
                       ids[i - 1] + 1);
            for (size_t j = i; j < n; j++)
                remove_segment(rc->o->dir, ids[j]);
            rc->res->max_segno = ids[i - 1];
            break;
        }
        int k = replay_segment(rc, ids[i], i + 1 == n);
        rc->res->wal_segments++;
        if (k < 0)
            r = -1;
        else if (k > 0) {
            for (size_t j = i + 1; j < n; j++)
                remove_segment(rc->o->dir, ids[j]);
            /* the next segment continues the surviving numbering */
            rc->res->max_segno = k == 2 ? ids[i] - 1 : ids[i];
            break;
        }
    }
    free(ids);
    return r;
}

static void no_log(int level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}

int ps_recover(const ps_recover_opts *o_in, ps_recover_result *res, char *err,
               size_t errlen)
{
    ps_recover_opts opts = *o_in;
    if (!opts.log)
        opts.log = no_log;
    const ps_recover_opts *o = &opts;
    memset(res, 0, sizeof(*res));
    rctx rc = {.o = o, .res = res, .err = err, .errlen = errlen};
    rc.now_mono = ps_clock_ms(CLOCK_MONOTONIC);
    rc.now_unix = ps_clock_ms(CLOCK_REALTIME);
    rc.woff = o->have_wall_offset ? o->wall_offset : rc.now_unix - rc.now_mono;
    /* A crash during a snapshot leaves its temporary file: never valid. */
    list_files(o->dir, "snap-", ".tmp", NULL, 0, true);
    pf_snap_header snap = {0};
    int r = load_snapshot(&rc, &snap);
    if (r == 0)
        r = replay_wal(&rc, &snap);
    free(rc.cut);
    for (uint32_t i = 0; i < o->nshards; i++)
        res->expired_dropped +=
            eng_sweep(o->shards[i], (size_t)1 << 40, rc.now_mono);
    for (uint32_t i = 0; i < o->nshards; i++)
        res->keys += eng_len(o->shards[i]);
    res->duration_ms = ps_clock_ms(CLOCK_MONOTONIC) - rc.now_mono;
    return r;
}
