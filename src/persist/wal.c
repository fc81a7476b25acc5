/*
 * wal.c — lanes and the WAL writer thread (the design is in wal.h).
 *
 * Writer invariants:
 *  - `unsynced` holds the chunks written to the current segment since its
 *    last successful fsync, and they all lie beyond `seg_synced`; a roll
 *    always fsyncs first, so unsynced chunks never span segments.
 *  - On an error the segment is cut back to `seg_synced` and the unsynced
 *    chunks go back to the front of `pending`: nothing acknowledged as
 *    written is ever lost from memory before it is on disk, and a torn
 *    record is never left between good ones.
 */
#define _GNU_SOURCE
#include "persist/wal.h"
#include "persist/clock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "persist/format.h"

#define UNSYNCED_MAX ((size_t)64 * 1024 * 1024)
#define WRITER_NAP_MS 2 /* interval/no: chunks wait at most this for write() */

typedef struct chunk {
    struct chunk *next;
    uint8_t *data;
    size_t len;
    uint32_t nrec;
    uint32_t lane;
    uint64_t gen;
} chunk;

typedef struct chunk_list {
    chunk *head, *tail;
} chunk_list;

struct ps_wal {
    ps_wal_opts o;
    char *dir;
    ps_lane *lanes;
    pthread_t thread;
    bool started;

    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_space, cv_done;
    chunk_list queue; /* handed off, not taken by the writer */
    size_t queued;    /* records in queue */
    bool stop;
    bool writer_untimed; /* the writer sleeps until signalled */
    uint64_t roll_req, roll_done, rolled_segno;
    uint64_t sync_req, sync_done;
    ps_wal_stats st;
    _Atomic int err;
    _Atomic int lost; /* a record could not be buffered: sticky */

    /* Writer thread only. */
    chunk_list pending, unsynced;
    size_t unsynced_bytes;
    int fd, dirfd;
    uint64_t segno, seg_size, seg_synced;
    uint64_t seg_alloc; /* file size: seg_size plus preallocated zeroes */
    uint64_t *written_gen; /* [nlanes] */
    int64_t last_sync_ms;
    bool rewind_needed; /* a failure left bytes past seg_synced */
};

static void list_push(chunk_list *l, chunk *c)
{
    c->next = NULL;
    if (l->tail)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
}

/* Puts `front` before everything in l. */
static void list_prepend(chunk_list *l, chunk_list *front)
{
    if (!front->head)
        return;
    front->tail->next = l->head;
    if (!l->tail)
        l->tail = front->tail;
    l->head = front->head;
    front->head = front->tail = NULL;
}

void ps_wal_segment_name(char *buf, size_t n, uint64_t segno)
{
    snprintf(buf, n, "wal-%016" PRIx64 ".log", segno);
}

/* --- lanes ------------------------------------------------------------- */

ps_lane *ps_wal_lane(ps_wal *w, uint32_t i)
{
    return &w->lanes[i];
}

static bool lane_reserve(ps_lane *l, size_t n)
{
    if (l->cap - l->len >= n)
        return true;
    /* A chunk is about as big as the last one (one loop iteration's
     * writes): start there rather than growing through every power of
     * two each iteration. */
    size_t cap = l->cap ? l->cap : l->last_len > 4096 ? l->last_len : 4096;
    while (cap - l->len < n)
        cap *= 2;
    uint8_t *p = realloc(l->buf, cap);
    if (!p)
        return false;
    l->buf = p;
    l->cap = cap;
    return true;
}

void ps_lane_append(ps_lane *l, const fc_mutation *m, int64_t expire_unix)
{
    pf_rec r = {.shard = m->shard,
                .seq = m->seq,
                .key = m->key,
                .klen = (uint32_t)m->key_len,
                .value = m->value,
                .vlen = (uint32_t)m->value_len,
                .expire_unix_ms = expire_unix};
    switch (m->kind) {
    case FC_MUT_SET:
        r.kind = PF_REC_SET;
        r.vtype = (uint8_t)m->value_type;
        break;
    case FC_MUT_OP:
        r.kind = PF_REC_OP;
        r.vtype = (uint8_t)m->value_type;
        break;
    case FC_MUT_DEL:
        r.kind = PF_REC_DEL;
        r.vlen = 0;
        break;
    case FC_MUT_EXPIRE:
        r.kind = PF_REC_EXPIRE;
        r.vlen = 0;
        break;
    case FC_MUT_CLEAR:
        r.kind = PF_REC_CLEAR;
        r.klen = r.vlen = 0;
        break;
    default:
        return; /* FC_MUT_EXPIRED: recovery drops expired keys itself */
    }
    size_t n = pf_rec_size(r.klen, r.vlen);
    if (!lane_reserve(l, n)) {
        l->oom = true;
        atomic_store(&l->wal->lost, ENOMEM);
        return;
    }
    pf_rec_encode(l->buf + l->len, &r);
    l->len += n;
    l->nrec++;
    atomic_store_explicit(&l->appended,
                          atomic_load_explicit(&l->appended,
                                               memory_order_relaxed) + 1,
                          memory_order_relaxed);
    if (l->len >= PS_LANE_FLUSH_BYTES)
        ps_lane_handoff(l);
}

uint64_t ps_lane_handoff(ps_lane *l)
{
    if (!l->len)
        return 0;
    ps_wal *w = l->wal;
    chunk *c = malloc(sizeof(*c));
    if (!c)
        return 0; /* kept in the lane: the next hand-off retries */
    c->data = l->buf;
    c->len = l->len;
    c->nrec = l->nrec;
    c->lane = l->id;
    c->gen = l->gen;
    l->last_len = l->len + l->len / 4;
    l->buf = NULL;
    l->len = l->cap = 0;
    l->nrec = 0;
    uint64_t gen = l->gen++; /* c is the writer's once queued */
    pthread_mutex_lock(&w->mu);
    while (w->queued >= w->o.capacity && w->queue.head && !w->stop)
        pthread_cond_wait(&w->cv_space, &w->mu);
    list_push(&w->queue, c);
    w->queued += c->nrec;
    /* A worker hands off every loop iteration: waking the writer for each
     * (a futex call, and a context switch when both share a core) cost
     * more than the write itself. Wake it when a reply waits for it
     * (always), when it sleeps with nothing due, or when the queue fills;
     * otherwise it comes back within WRITER_NAP_MS by itself. */
    if (w->o.fsync == PS_FSYNC_ALWAYS || w->writer_untimed ||
        w->queued >= w->o.capacity / 4)
        pthread_cond_signal(&w->cv_work);
    pthread_mutex_unlock(&w->mu);
    return gen;
}

/* --- writer: segments ------------------------------------------------ */

static int open_segment(ps_wal *w, uint64_t segno)
{
    char name[64];
    ps_wal_segment_name(name, sizeof(name), segno);
    int fd = openat(w->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                    0644);
    if (fd < 0)
        return errno;
    uint8_t h[PF_SEG_HEADER_LEN];
    pf_seg_header hdr = {.segno = segno,
                         .epoch = w->o.epoch,
                         .seed = w->o.seed,
                         .nshards = w->o.nshards,
                         .created_unix_ms = ps_unix_ms()};
    pf_seg_header_encode(h, &hdr);
    if (write(fd, h, sizeof(h)) != (ssize_t)sizeof(h) || fdatasync(fd) ||
        fsync(w->dirfd)) {
        int e = errno ? errno : EIO;
        close(fd);
        unlinkat(w->dirfd, name, 0);
        return e;
    }
    w->fd = fd;
    w->segno = segno;
    w->seg_size = w->seg_synced = w->seg_alloc = PF_SEG_HEADER_LEN;
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
    while (n) {
        ssize_t k = pwrite(fd, p, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (k == 0)
            return EIO;
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

/* fsync=always: records go into space written with zeroes beforehand, so
 * that an fdatasync has no file size (metadata) to commit, only data: on
 * ext4 here 146 us instead of 243 us per write+fdatasync. The zeroes are
 * written PREALLOC_STEP at a time (each step costs one metadata commit),
 * are never left behind in a closed segment (cut at roll and close), and
 * recovery treats a zero tail of the last segment as the end of the log. */
#define PREALLOC_STEP ((uint64_t)1 << 20)

static int ensure_room(ps_wal *w, size_t n)
{
    if (w->o.fsync != PS_FSYNC_ALWAYS || w->seg_size + n <= w->seg_alloc)
        return 0;
    static const uint8_t zeroes[64 * 1024];
    uint64_t want = w->seg_size + n + PREALLOC_STEP;
    while (w->seg_alloc < want) {
        uint64_t k = want - w->seg_alloc;
        if (k > sizeof(zeroes))
            k = sizeof(zeroes);
        int e = write_all(w->fd, zeroes, (size_t)k, w->seg_alloc);
        if (e)
            return e;
        w->seg_alloc += k;
    }
    return 0;
}

/* Drops preallocated zeroes past the records (before a roll or close). */
static int cut_prealloc(ps_wal *w)
{
    if (w->seg_alloc == w->seg_size)
        return 0;
    if (ftruncate(w->fd, (off_t)w->seg_size) || fdatasync(w->fd))
        return errno ? errno : EIO;
    w->seg_alloc = w->seg_size;
    return 0;
}

/* fsync; on success everything unsynced is durable: publish and free. */
static void settle(ps_wal *w);

static int do_sync(ps_wal *w)
{
    if (fdatasync(w->fd))
        return errno ? errno : EIO;
    settle(w);
    pthread_mutex_lock(&w->mu);
    w->st.fsyncs++;
    w->st.last_fsync_unix_ms = ps_unix_ms();
    pthread_mutex_unlock(&w->mu);
    return 0;
}

/* What was written is as durable as the policy makes it: publish the
 * generations and free the chunks (after an fsync, or after the write
 * itself with fsync = no). */
static void settle(ps_wal *w)
{
    w->seg_synced = w->seg_size;
    w->last_sync_ms = ps_mono_ms();
    chunk *c = w->unsynced.head;
    while (c) {
        chunk *n = c->next;
        if (c->gen > w->written_gen[c->lane])
            w->written_gen[c->lane] = c->gen;
        free(c->data);
        free(c);
        c = n;
    }
    w->unsynced.head = w->unsynced.tail = NULL;
    w->unsynced_bytes = 0;
    for (uint32_t i = 0; i < w->o.nlanes; i++) {
        ps_lane *l = &w->lanes[i];
        if (w->written_gen[i] >
            atomic_load_explicit(&l->durable_gen, memory_order_relaxed)) {
            atomic_store_explicit(&l->durable_gen, w->written_gen[i],
                                  memory_order_release);
            if (w->o.on_durable)
                w->o.on_durable(w->o.ctx, i);
        }
    }
}

static int roll(ps_wal *w)
{
    int e = do_sync(w);
    if (!e)
        e = cut_prealloc(w); /* before the next segment exists: only the
                                last segment may end in zeroes */
    if (e)
        return e;
    e = open_segment(w, w->segno + 1);
    if (e)
        return e;
    /* The old descriptor closes only once the new segment exists, so a
     * failed roll leaves a usable current segment. */
    return 0;
}

static int roll_swap(ps_wal *w)
{
    int old = w->fd;
    int e = roll(w);
    if (!e)
        close(old);
    else
        w->fd = old;
    return e;
}

/* Writes the pending chunks; they move to `unsynced`. */
static int write_pending(ps_wal *w)
{
    chunk *c;
    uint64_t recs = 0, bytes = 0;
    while ((c = w->pending.head)) {
        if (w->seg_size + c->len > w->o.segment_size &&
            w->seg_size > PF_SEG_HEADER_LEN) {
            int e = roll_swap(w);
            if (e)
                return e;
        }
        int e = ensure_room(w, c->len);
        if (!e)
            e = write_all(w->fd, c->data, c->len, w->seg_size);
        if (e)
            return e;
        w->pending.head = c->next;
        if (!w->pending.head)
            w->pending.tail = NULL;
        w->seg_size += c->len;
        w->unsynced_bytes += c->len;
        list_push(&w->unsynced, c);
        recs += c->nrec;
        bytes += c->len;
    }
    if (recs) {
        pthread_mutex_lock(&w->mu);
        w->st.records += recs;
        w->st.bytes += bytes;
        pthread_mutex_unlock(&w->mu);
    }
    return 0;
}

/* After a failure: cut the segment back to its durable size and queue the
 * unsynced chunks again, before the pending ones. */
static int rewind_segment(ps_wal *w)
{
    if (ftruncate(w->fd, (off_t)w->seg_synced)) {
        w->rewind_needed = true; /* never append after a torn chunk */
        return errno ? errno : EIO;
    }
    w->rewind_needed = false;
    w->seg_size = w->seg_alloc = w->seg_synced;
    w->unsynced_bytes = 0;
    list_prepend(&w->pending, &w->unsynced);
    return 0;
}

static bool sync_due(const ps_wal *w, bool forced)
{
    if (!w->unsynced.head)
        return false;
    if (forced || w->o.fsync == PS_FSYNC_ALWAYS ||
        w->unsynced_bytes >= UNSYNCED_MAX)
        return true;
    return w->o.fsync == PS_FSYNC_INTERVAL &&
           ps_mono_ms() - w->last_sync_ms >= w->o.fsync_interval_ms;
}

static void deadline(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static void *writer_main(void *arg)
{
    ps_wal *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        bool failed = atomic_load(&w->err) != 0;
        bool idle = !w->queue.head && !w->stop && w->roll_req == w->roll_done &&
                    w->sync_req == w->sync_done;
        if (idle) {
            bool timed = true;
            int64_t wait = 0;
            if (failed)
                wait = PS_RETRY_MS;
            else if (w->unsynced.head && w->o.fsync == PS_FSYNC_INTERVAL)
                wait = w->o.fsync_interval_ms - (ps_mono_ms() - w->last_sync_ms);
            else
                timed = false; /* nothing due: sleep until work arrives */
            /* Unsignalled hand-offs (see ps_lane_handoff) are picked up
             * within a nap whenever something was written lately. */
            if (w->o.fsync != PS_FSYNC_ALWAYS && !failed && w->unsynced.head &&
                (!timed || wait > WRITER_NAP_MS)) {
                timed = true;
                wait = WRITER_NAP_MS;
            }
            if (!timed) {
                w->writer_untimed = true;
                pthread_cond_wait(&w->cv_work, &w->mu);
                w->writer_untimed = false;
            } else if (wait > 0) {
                struct timespec ts;
                deadline(&ts, wait);
                pthread_cond_timedwait(&w->cv_work, &w->mu, &ts);
            }
        }
        list_prepend(&w->queue, &w->pending); /* keep order: pending first */
        w->pending = w->queue;
        w->queue.head = w->queue.tail = NULL;
        w->queued = 0;
        pthread_cond_broadcast(&w->cv_space);
        uint64_t sync_want = w->sync_req;
        bool roll_want = w->roll_req != w->roll_done;
        uint64_t roll_want_id = w->roll_req;
        bool stopping = w->stop;
        pthread_mutex_unlock(&w->mu);

        int e = w->rewind_needed ? rewind_segment(w) : 0;
        if (!e)
            e = write_pending(w);
        if (!e && sync_due(w, stopping || roll_want ||
                                  sync_want != w->sync_done))
            e = do_sync(w);
        if (!e && w->o.fsync == PS_FSYNC_NO)
            settle(w); /* the OS decides: written is all we promise */
        if (!e && roll_want)
            e = roll_swap(w);
        if (e)
            (void)rewind_segment(w); /* retried before the next write */

        pthread_mutex_lock(&w->mu);
        if (e) {
            if (!failed) {
                w->st.write_errors++;
                if (w->o.log)
                    w->o.log(1, "WAL write to %s failed: %s; writes are "
                                "refused until it succeeds (retrying every "
                                "%d ms)",
                             w->dir, strerror(e), PS_RETRY_MS);
            }
            atomic_store(&w->err, e);
            pthread_cond_broadcast(&w->cv_done); /* waiters see the error */
            if (stopping) {
                pthread_cond_broadcast(&w->cv_done);
                break; /* close gives up: the records stay unwritten */
            }
            /* Wait before retrying, unless asked to stop. */
            struct timespec ts;
            deadline(&ts, PS_RETRY_MS);
            pthread_cond_timedwait(&w->cv_work, &w->mu, &ts);
            continue;
        }
        if (failed && w->o.log)
            w->o.log(0, "WAL writes to %s succeed again", w->dir);
        atomic_store(&w->err, 0);
        if (roll_want) {
            w->roll_done = roll_want_id;
            w->rolled_segno = w->segno;
        }
        w->sync_done = sync_want;
        w->st.segno = w->segno;
        w->st.segment_bytes = w->seg_size;
        pthread_cond_broadcast(&w->cv_done);
        if (stopping && !w->queue.head) {
            (void)cut_prealloc(w); /* a clean close leaves no zeroes */
            break;
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* --- lifecycle and control ------------------------------------------- */

int ps_wal_open(ps_wal **out, const ps_wal_opts *o, char *err, size_t errlen)
{
    ps_wal *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    w->o = *o;
    w->fd = w->dirfd = -1;
    w->dir = strdup(o->dir);
    w->lanes = calloc(o->nlanes, sizeof(*w->lanes));
    w->written_gen = calloc(o->nlanes, sizeof(*w->written_gen));
    if (!w->dir || !w->lanes || !w->written_gen) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < o->nlanes; i++) {
        w->lanes[i].id = i;
        w->lanes[i].gen = 1;
        w->lanes[i].wal = w;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv_work, &ca);
    pthread_cond_init(&w->cv_space, NULL);
    pthread_cond_init(&w->cv_done, NULL);
    pthread_condattr_destroy(&ca);
    w->dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int e = w->dirfd < 0 ? errno : open_segment(w, o->first_segno);
    if (e) {
        snprintf(err, errlen, "cannot create WAL segment in %s: %s", o->dir,
                 strerror(e));
        goto fail;
    }
    w->last_sync_ms = ps_mono_ms();
    w->st.segno = w->segno;
    w->st.segment_bytes = w->seg_size;
    if ((e = pthread_create(&w->thread, NULL, writer_main, w))) {
        snprintf(err, errlen, "cannot start the WAL writer: %s", strerror(e));
        goto fail;
    }
    w->started = true;
    *out = w;
    return 0;
fail:
    ps_wal_close(w);
    return -1;
}

static void free_list(chunk_list *l)
{
    chunk *c = l->head;
    while (c) {
        chunk *n = c->next;
        free(c->data);
        free(c);
        c = n;
    }
    l->head = l->tail = NULL;
}

void ps_wal_close(ps_wal *w)
{
    if (!w)
        return;
    if (w->started) {
        for (uint32_t i = 0; i < w->o.nlanes; i++)
            ps_lane_handoff(&w->lanes[i]);
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_cond_broadcast(&w->cv_work);
        pthread_cond_broadcast(&w->cv_space);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv_work);
        pthread_cond_destroy(&w->cv_space);
        pthread_cond_destroy(&w->cv_done);
    }
    free_list(&w->queue);
    free_list(&w->pending);
    free_list(&w->unsynced);
    if (w->fd >= 0)
        close(w->fd);
    if (w->dirfd >= 0)
        close(w->dirfd);
    for (uint32_t i = 0; w->lanes && i < w->o.nlanes; i++)
        free(w->lanes[i].buf);
    free(w->lanes);
    free(w->written_gen);
    free(w->dir);
    free(w);
}

int ps_wal_roll(ps_wal *w, uint64_t *segno)
{
    pthread_mutex_lock(&w->mu);
    uint64_t id = ++w->roll_req;
    pthread_cond_signal(&w->cv_work);
    int e = 0;
    /* A failing disk ends the wait: a snapshot cannot start then, and the
     * caller (a worker) must not hang until the disk recovers. */
    while (w->roll_done < id && !w->stop && !(e = atomic_load(&w->err)))
        pthread_cond_wait(&w->cv_done, &w->mu);
    if (w->roll_done >= id) {
        e = 0;
    } else {
        if (!e)
            e = ECANCELED;
        /* Withdraw the request if the writer has not taken it yet. */
        if (w->roll_req == id && w->roll_done == id - 1)
            w->roll_req = id - 1;
    }
    *segno = w->rolled_segno;
    pthread_mutex_unlock(&w->mu);
    return e;
}

int ps_wal_sync(ps_wal *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t id = ++w->sync_req;
    pthread_cond_signal(&w->cv_work);
    while (w->sync_done < id && !w->stop && !atomic_load(&w->err))
        pthread_cond_wait(&w->cv_done, &w->mu);
    int e = w->sync_done >= id ? 0 : atomic_load(&w->err);
    pthread_mutex_unlock(&w->mu);
    return e ? e : (w->sync_done >= id ? 0 : EIO);
}

int ps_wal_wait_durable(ps_wal *w, uint32_t lane, uint64_t gen)
{
    ps_lane *l = &w->lanes[lane];
    if (ps_lane_durable(l, gen))
        return 0;
    pthread_mutex_lock(&w->mu);
    int e = 0;
    while (!ps_lane_durable(l, gen) && !w->stop &&
           !(e = atomic_load(&w->err)))
        pthread_cond_wait(&w->cv_done, &w->mu);
    pthread_mutex_unlock(&w->mu);
    return ps_lane_durable(l, gen) ? 0 : e ? e : EIO;
}

void ps_wal_prune(ps_wal *w, uint64_t segno)
{
    DIR *d = fdopendir(dup(w->dirfd));
    if (!d)
        return;
    rewinddir(d); /* the dup shares the offset of earlier listings */
    pthread_mutex_lock(&w->mu);
    uint64_t cur = w->st.segno;
    pthread_mutex_unlock(&w->mu);
    struct dirent *de;
    while ((de = readdir(d))) {
        uint64_t n;
        char tail[8];
        if (sscanf(de->d_name, "wal-%16" SCNx64 "%7s", &n, tail) != 2 ||
            strcmp(tail, ".log") || strlen(de->d_name) != 24)
            continue;
        if (n < segno && n < cur)
            unlinkat(w->dirfd, de->d_name, 0);
    }
    closedir(d);
}

int ps_wal_error(const ps_wal *w)
{
    int e = atomic_load_explicit(&w->err, memory_order_relaxed);
    return e ? e : atomic_load_explicit(&w->lost, memory_order_relaxed);
}

void ps_wal_stats_get(ps_wal *w, ps_wal_stats *st)
{
    pthread_mutex_lock(&w->mu);
    *st = w->st;
    st->queued_records = w->queued;
    pthread_mutex_unlock(&w->mu);
}

uint64_t ps_wal_disk_bytes(ps_wal *w)
{
    DIR *d = fdopendir(dup(w->dirfd));
    if (!d)
        return 0;
    rewinddir(d);
    uint64_t total = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        struct stat sb;
        if (!strncmp(de->d_name, "wal-", 4) &&
            fstatat(w->dirfd, de->d_name, &sb, 0) == 0)
            total += (uint64_t)sb.st_size;
    }
    closedir(d);
    return total;
}
