/*
 * snapshot.c — the snapshot producers' slices and the snapshot thread
 * (design and the cut's argument in snapshot.h).
 */
#define _GNU_SOURCE
#include "persist/snapshot.h"

#include "engine/obj.h"
#include "persist/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "util/buf.h"

#define SCAN_STEP 128 /* slots per eng_scan call */

typedef struct slice {
    struct slice *next;
    uint64_t gen; /* the snapshot it belongs to */
    fc_buf b;
} slice;

typedef struct cursor {
    uint64_t gen, pos, count;
    bool started, done;
} cursor;

struct ps_snapper {
    char *dir;
    uint32_t nshards;
    void (*on_done)(void *ctx, const ps_snap_result *r);
    void *ctx;
    cursor *cur; /* [nshards]; cur[i] only by shard i's holder */

    _Atomic bool running;
    _Atomic uint64_t gen;
    _Atomic size_t queued_bytes;
    pthread_mutex_t mu;
    pthread_cond_t cv, cv_idle;
    slice *head, *tail;
    uint32_t done_shards;
    bool abort, oom, joinable;
    pthread_t thread;
    pf_snap_header hdr;
    ps_snap_result last;

    /* Snapshot thread only. */
    int fd;
    ZSTD_CCtx *zc;
    XXH3_state_t *xs;
    uint8_t *zbuf;
    size_t zcap;
    ps_snap_result r;
};

static void tmp_name(char *buf, size_t n, uint64_t id)
{
    snprintf(buf, n, "snap-%016" PRIx64 ".tmp", id);
}

static void final_name(char *buf, size_t n, uint64_t id)
{
    snprintf(buf, n, "snap-%016" PRIx64 ".fcs", id);
}

int ps_snapper_new(ps_snapper **out, const char *dir, uint32_t nshards,
                   void (*on_done)(void *ctx, const ps_snap_result *r),
                   void *ctx)
{
    ps_snapper *sn = calloc(1, sizeof(*sn));
    if (!sn)
        return ENOMEM;
    sn->dir = strdup(dir);
    sn->cur = calloc(nshards, sizeof(*sn->cur));
    if (!sn->dir || !sn->cur) {
        free(sn->dir);
        free(sn->cur);
        free(sn);
        return ENOMEM;
    }
    sn->nshards = nshards;
    sn->on_done = on_done;
    sn->ctx = ctx;
    sn->fd = -1;
    pthread_mutex_init(&sn->mu, NULL);
    pthread_cond_init(&sn->cv, NULL);
    pthread_cond_init(&sn->cv_idle, NULL);
    *out = sn;
    return 0;
}

/* --- the snapshot thread: compress, checksum, write ------------------- */

static int put_file(ps_snapper *sn, const void *p, size_t n)
{
    XXH3_64bits_update(sn->xs, p, n);
    const uint8_t *b = p;
    while (n) {
        ssize_t k = write(sn->fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? errno : EIO;
        b += k;
        n -= (size_t)k;
        sn->r.bytes += (uint64_t)k;
    }
    return 0;
}

static int put_body(ps_snapper *sn, const void *p, size_t n, bool end)
{
    sn->r.raw_bytes += n;
    if (!sn->zc)
        return put_file(sn, p, n);
    ZSTD_inBuffer in = {p, n, 0};
    for (;;) {
        ZSTD_outBuffer out = {sn->zbuf, sn->zcap, 0};
        size_t left = ZSTD_compressStream2(sn->zc, &out, &in,
                                           end ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(left))
            return EIO;
        int e = out.pos ? put_file(sn, sn->zbuf, out.pos) : 0;
        if (e)
            return e;
        if (end ? left == 0 : in.pos == in.size)
            return 0;
    }
}

static int finish_file(ps_snapper *sn)
{
    uint8_t z[PF_ITEM_SHARD_LEN];
    pf_item_shard_encode(z, PF_ITEM_END, sn->nshards, sn->r.keys);
    int e = put_body(sn, z, sizeof(z), true);
    if (e)
        return e;
    uint8_t t[PF_SNAP_TRAILER_LEN];
    pf_snap_trailer_encode(t, XXH3_64bits_digest(sn->xs));
    if ((e = put_file(sn, t, sizeof(t))))
        return e;
    if (fsync(sn->fd))
        return errno;
    close(sn->fd);
    sn->fd = -1;
    char tmp[64], fin[64];
    tmp_name(tmp, sizeof(tmp), sn->hdr.snap_id);
    final_name(fin, sizeof(fin), sn->hdr.snap_id);
    int dfd = open(sn->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return errno;
    e = renameat(dfd, tmp, dfd, fin) || fsync(dfd) ? errno : 0;
    close(dfd);
    return e;
}

static void *snap_main(void *arg)
{
    ps_snapper *sn = arg;
    int e = 0;
    pthread_mutex_lock(&sn->mu);
    for (;;) {
        while (!sn->head && sn->done_shards < sn->nshards && !sn->abort)
            pthread_cond_wait(&sn->cv, &sn->mu);
        slice *list = sn->head;
        sn->head = sn->tail = NULL;
        bool complete = sn->done_shards == sn->nshards && !list;
        bool aborted = sn->abort;
        if (sn->oom && !e)
            e = ENOMEM;
        pthread_mutex_unlock(&sn->mu);
        while (list) {
            slice *n = list->next;
            if (!e)
                e = put_body(sn, list->b.data, list->b.len, false);
            atomic_fetch_sub(&sn->queued_bytes, list->b.len);
            fc_buf_free(&list->b);
            free(list);
            list = n;
        }
        pthread_mutex_lock(&sn->mu);
        if (aborted && !e)
            e = ECANCELED;
        if (complete || (aborted && !sn->head))
            break;
    }
    pthread_mutex_unlock(&sn->mu);
    if (!e)
        e = finish_file(sn);
    if (sn->fd >= 0) {
        close(sn->fd);
        sn->fd = -1;
    }
    if (e) {
        char tmp[64];
        tmp_name(tmp, sizeof(tmp), sn->hdr.snap_id);
        int dfd = open(sn->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            unlinkat(dfd, tmp, 0);
            close(dfd);
        }
    }
    sn->r.status = e;
    sn->r.duration_ms = ps_unix_ms() - sn->r.started_unix_ms;
    if (sn->on_done)
        sn->on_done(sn->ctx, &sn->r);
    pthread_mutex_lock(&sn->mu);
    sn->last = sn->r;
    atomic_store_explicit(&sn->running, false, memory_order_release);
    pthread_cond_broadcast(&sn->cv_idle);
    pthread_mutex_unlock(&sn->mu);
    return NULL;
}

static void release_thread_state(ps_snapper *sn)
{
    ZSTD_freeCCtx(sn->zc);
    sn->zc = NULL;
    if (sn->xs)
        XXH3_freeState(sn->xs);
    sn->xs = NULL;
    free(sn->zbuf);
    sn->zbuf = NULL;
}

int ps_snap_start(ps_snapper *sn, const pf_snap_header *h)
{
    pthread_mutex_lock(&sn->mu);
    if (atomic_load(&sn->running)) {
        pthread_mutex_unlock(&sn->mu);
        return EBUSY;
    }
    if (sn->joinable) {
        pthread_join(sn->thread, NULL); /* it has finished: running is off */
        sn->joinable = false;
        release_thread_state(sn);
    }
    sn->hdr = *h;
    memset(&sn->r, 0, sizeof(sn->r));
    sn->r.snap_id = h->snap_id;
    sn->r.wal_from_segno = h->wal_from_segno;
    sn->r.started_unix_ms = ps_unix_ms();
    int e = 0;
    char tmp[64];
    tmp_name(tmp, sizeof(tmp), h->snap_id);
    int dfd = open(sn->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    sn->fd = dfd < 0 ? -1
                     : openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                              0644);
    if (sn->fd < 0)
        e = errno;
    if (dfd >= 0)
        close(dfd);
    sn->xs = XXH3_createState();
    if (!e && !sn->xs)
        e = ENOMEM;
    if (!e && (h->flags & PF_SNAP_F_ZSTD)) {
        sn->zc = ZSTD_createCCtx();
        sn->zcap = ZSTD_CStreamOutSize();
        sn->zbuf = malloc(sn->zcap);
        if (!sn->zc || !sn->zbuf)
            e = ENOMEM;
        else
            ZSTD_CCtx_setParameter(sn->zc, ZSTD_c_compressionLevel, 1);
    }
    uint8_t hb[PF_SNAP_HEADER_LEN];
    if (!e) {
        XXH3_64bits_reset(sn->xs);
        pf_snap_header_encode(hb, h);
        e = put_file(sn, hb, sizeof(hb));
    }
    if (!e) {
        sn->done_shards = 0;
        sn->abort = sn->oom = false;
        atomic_store(&sn->gen, atomic_load(&sn->gen) + 1);
        atomic_store_explicit(&sn->running, true, memory_order_release);
        if ((e = pthread_create(&sn->thread, NULL, snap_main, sn)))
            atomic_store(&sn->running, false);
        else
            sn->joinable = true;
    }
    if (e) {
        if (sn->fd >= 0) {
            close(sn->fd);
            sn->fd = -1;
            dfd = open(sn->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                unlinkat(dfd, tmp, 0);
                close(dfd);
            }
        }
        release_thread_state(sn);
    }
    pthread_mutex_unlock(&sn->mu);
    return e;
}

bool ps_snap_running(const ps_snapper *sn)
{
    return atomic_load_explicit(&sn->running, memory_order_acquire);
}

bool ps_snap_busy(const ps_snapper *sn)
{
    return atomic_load_explicit(&sn->queued_bytes, memory_order_relaxed) >=
           PS_SNAP_QUEUE_MAX;
}

/* --- producers -------------------------------------------------------- */

typedef struct enc_ctx {
    fc_buf *b;
    cursor *c;
    int64_t wall_offset;
} enc_ctx;

/* A typed value: its serialized form (built in a per-thread buffer) and
 * the seq of its last change, the per-key cut recovery needs. */
static void encode_typed(enc_ctx *x, const eng_entry *e)
{
    static _Thread_local fc_buf ser;
    const eng_obj *o = eng_entry_obj(e);
    size_t klen;
    const uint8_t *k = eng_entry_key(e, &klen);
    int64_t exp = eng_entry_expire_at(e);
    ser.len = 0;
    ser.oom = false;
    if (eng_obj_serialize(o, &ser) != FC_OK) {
        x->b->oom = true; /* the snapshot fails rather than miss a key */
        return;
    }
    size_t n = pf_typed_size(klen, ser.len);
    if (!fc_buf_reserve(x->b, n))
        return;
    x->b->len += pf_item_typed_encode(
        (uint8_t *)x->b->data + x->b->len, (uint8_t)eng_entry_type(e),
        exp ? exp + x->wall_offset : 0, eng_obj_snapshot_seq(o), k,
        (uint32_t)klen, ser.data, (uint32_t)ser.len);
    x->c->count++;
    if (ser.cap > ((size_t)1 << 20)) /* one huge value: don't keep it */
        fc_buf_free(&ser);
}

static void encode_entry(void *arg, const eng_entry *e)
{
    enc_ctx *x = arg;
    size_t klen, vlen;
    if (eng_entry_type(e) != ENG_TYPE_STRING) {
        encode_typed(x, e);
        return;
    }
    const uint8_t *k = eng_entry_key(e, &klen);
    const uint8_t *v = eng_entry_value(e, &vlen);
    int64_t exp = eng_entry_expire_at(e);
    size_t n = pf_entry_size(klen, vlen);
    if (!fc_buf_reserve(x->b, n))
        return;
    x->b->len += pf_item_entry_encode(
        (uint8_t *)x->b->data + x->b->len, (uint8_t)eng_entry_type(e),
        exp ? exp + x->wall_offset : 0, k, (uint32_t)klen, v, (uint32_t)vlen);
    x->c->count++;
}

bool ps_snap_step(ps_snapper *sn, eng_shard *sh, uint32_t idx, size_t budget,
                  int64_t now, int64_t wall_offset_ms)
{
    if (!atomic_load_explicit(&sn->running, memory_order_acquire))
        return false;
    uint64_t gen = atomic_load_explicit(&sn->gen, memory_order_acquire);
    cursor *c = &sn->cur[idx];
    if (c->gen != gen)
        *c = (cursor){.gen = gen};
    if (c->done)
        return false;
    slice *s = calloc(1, sizeof(*s));
    if (!s)
        return true; /* retried next turn */
    uint8_t tmp[PF_ITEM_SHARD_LEN];
    if (!c->started) {
        fc_buf_append(&s->b, tmp,
                      pf_item_shard_encode(tmp, PF_ITEM_SHARD_BEGIN, idx,
                                           eng_seq(sh)));
        c->started = true;
    }
    enc_ctx x = {.b = &s->b, .c = c, .wall_offset = wall_offset_ms};
    size_t slots = 0;
    do {
        c->pos = eng_scan(sh, c->pos, SCAN_STEP, now, encode_entry, &x);
        slots += SCAN_STEP;
    } while (c->pos != 0 && slots < budget && s->b.len < PS_SNAP_SLICE_BYTES);
    if (c->pos == 0) {
        fc_buf_append(&s->b, tmp,
                      pf_item_shard_encode(tmp, PF_ITEM_SHARD_END, idx,
                                           c->count));
        c->done = true;
    }
    s->gen = gen;
    pthread_mutex_lock(&sn->mu);
    if (gen != atomic_load(&sn->gen) || !atomic_load(&sn->running)) {
        /* A slice of a snapshot that ended under us: not this one's. */
        pthread_mutex_unlock(&sn->mu);
        fc_buf_free(&s->b);
        free(s);
        return false;
    }
    atomic_fetch_add(&sn->queued_bytes, s->b.len);
    if (s->b.oom)
        sn->oom = true;
    if (c->done) {
        sn->done_shards++;
        sn->r.keys += c->count;
    }
    if (sn->tail)
        sn->tail->next = s;
    else
        sn->head = s;
    sn->tail = s;
    pthread_cond_signal(&sn->cv);
    pthread_mutex_unlock(&sn->mu);
    return !c->done;
}

void ps_snap_abort(ps_snapper *sn)
{
    pthread_mutex_lock(&sn->mu);
    if (atomic_load(&sn->running)) {
        sn->abort = true;
        pthread_cond_broadcast(&sn->cv);
    }
    pthread_mutex_unlock(&sn->mu);
    (void)ps_snap_wait(sn);
}

int ps_snap_wait(ps_snapper *sn)
{
    pthread_mutex_lock(&sn->mu);
    while (atomic_load(&sn->running))
        pthread_cond_wait(&sn->cv_idle, &sn->mu);
    int st = sn->last.status;
    pthread_mutex_unlock(&sn->mu);
    return st;
}

void ps_snapper_free(ps_snapper *sn)
{
    if (!sn)
        return;
    pthread_mutex_lock(&sn->mu);
    sn->abort = true;
    pthread_cond_broadcast(&sn->cv);
    pthread_mutex_unlock(&sn->mu);
    if (sn->joinable)
        pthread_join(sn->thread, NULL);
    release_thread_state(sn);
    slice *s = sn->head;
    while (s) {
        slice *n = s->next;
        fc_buf_free(&s->b);
        free(s);
        s = n;
    }
    pthread_mutex_destroy(&sn->mu);
    pthread_cond_destroy(&sn->cv);
    pthread_cond_destroy(&sn->cv_idle);
    free(sn->cur);
    free(sn->dir);
    free(sn);
}
