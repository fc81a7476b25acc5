/*
 * link.c — the replica link (link.h): its thread, one session after
 * another, and what each frame does to the watermarks and the applier.
 * Socket I/O and the backoff are in link_conn.c.
 *
 * Position. `wm[s]` is the last sequence of primary shard s the applier
 * has; `have_wm` says that wm describes what the applier holds, which is
 * what our Hello's has_since claims. It is false for a fresh link, from a
 * SnapshotBegin until its SnapshotEnd (the applier then holds part of a
 * copy), and after the primary's shard count changed or its watermarks
 * fell below ours (another history: a seed primary restarted at seq 1
 * would otherwise have every record skipped as a duplicate). A session
 * that fails inside a snapshot therefore resumes with a full sync, and any
 * other resumes from wm, so the primary sends the rest from its backlog.
 *
 * Sync. After the Hello exchange the link is SYNC (no position yet: a
 * snapshot is due) or CATCHUP with `target` = the primary's Hello
 * watermarks. SnapshotBegin replaces wm with its W_b (the snapshot is the
 * state at W_b or later, and the records after W_b follow it; the skip rule
 * absorbs the overlap) and SnapshotEnd sets target = W_e. CATCHUP becomes
 * ONLINE, and `synced` is called, once wm >= target on every shard and the
 * applier was flushed. A primary with nothing we lack sends nothing, so a
 * target already reached at the handshake is synced at once.
 *
 * A fresh session (no has_since) to a seed primary may get MutationBatch
 * frames and no snapshot (the seed serves seq 1.. from its backlog when it
 * still has them); the applier then may still hold a failed sync's part,
 * so it is emptied first with an empty snapshot_begin/snapshot_end pair.
 */
#define _GNU_SOURCE
#include "repl/link.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "repl/link_int.h"

#define OUR_CAPS (FCRP_F_CAP_CHECK | FCRP_F_CAP_LZ4 | FCRP_F_CAP_FC)

const char *repl_link_state_name(int state)
{
    switch (state) {
    case REPL_LINK_CONNECTING:
        return "connecting";
    case REPL_LINK_SYNC:
        return "sync";
    case REPL_LINK_CATCHUP:
        return "catchup";
    case REPL_LINK_ONLINE:
        return "online";
    case REPL_LINK_DOWN:
        return "down";
    case REPL_LINK_STOPPED:
        return "stopped";
    default:
        return "unknown";
    }
}

void repl_link_cfg_default(repl_link_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->role = FCRP_ROLE_REPLICA;
    c->connect_timeout_ms = 500;
    c->write_timeout_ms = 500;
    c->backoff_ms = 200;
    c->backoff_max_ms = 5000;
    fcrp_limits_default(&c->lim);
}

/* --- logging, failure, stats --------------------------------------------- */

void link_log(repl_link *l, int level, const char *fmt, ...)
{
    if (!l->cfg.log)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    l->cfg.log(level, "replication: %s", msg);
}

int link_fail(repl_link *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->st.last_error, sizeof l->st.last_error, fmt, ap);
    va_end(ap);
    link_log(l, REPL_LOG_WARNING, "%s", l->st.last_error);
    return LINK_END_FAIL;
}

void link_publish(repl_link *l)
{
    uint64_t off = 0;
    for (uint32_t i = 0; i < l->n; i++)
        off += l->wm[i] > l->base ? l->wm[i] - l->base : 0;
    l->st.offset = off;
    pthread_mutex_lock(&l->mu);
    l->pub = l->st;
    pthread_mutex_unlock(&l->mu);
}

static void set_state(repl_link *l, int state)
{
    l->st.state = state;
    link_publish(l);
}

/* The applier said no: nothing more is passed to it this session. */
static int applier_error(repl_link *l, const char *what)
{
    l->applier_failed = true;
    return link_fail(l, "the applier refused %s; resyncing", what);
}

static int io_end(ssize_t r)
{
    return r == LINK_IO_STOP ? LINK_END_STOP : LINK_END_FAIL;
}

/* --- position ------------------------------------------------------------- */

static bool reached(const repl_link *l)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->wm[i] < l->target[i])
            return false;
    return true;
}

/* A payload that is one watermark list, of exactly our shard count. */
static int take_wm(repl_link *l, const uint8_t *pl, size_t pn, uint64_t *dst,
                   const char *what)
{
    fcrp_wm w;
    int rc = fcrp_wm_decode(pl, pn, &w);
    if (rc != FCRP_OK)
        return link_fail(l, "bad %s from the primary: %s", what,
                         fcrp_strerror(rc));
    if (w.n != l->n)
        return link_fail(l, "%s carries %u watermarks for %u shards", what, w.n,
                         l->n);
    for (uint32_t i = 0; i < l->n; i++)
        dst[i] = fcrp_wm_get(&w, i);
    return LINK_GO_ON;
}

/* Records or an empty copy without a snapshot, in a session that had no
 * position (see the top of the file). */
static int fresh_start(repl_link *l)
{
    const repl_apply_ops *ops = l->cfg.ops;
    if (l->dirty &&
        (ops->snapshot_begin(l->cfg.ctx) || ops->snapshot_end(l->cfg.ctx)))
        return applier_error(l, "to empty its copy");
    l->have_wm = true;
    set_state(l, REPL_LINK_CATCHUP);
    return LINK_GO_ON;
}

static void check_synced(repl_link *l)
{
    if (l->st.state != REPL_LINK_CATCHUP || !reached(l))
        return;
    l->st.synced_once = true;
    if (!l->snap_seen && l->sent_since)
        l->st.catchups++;
    link_backoff_reset(l);
    /* Published before the callback: whoever it wakes sees ONLINE. */
    set_state(l, REPL_LINK_ONLINE);
    link_log(l, REPL_LOG_NOTICE, "in sync with the primary (%s)",
             l->snap_seen ? "snapshot" : "backlog");
    if (l->cfg.ops->synced)
        l->cfg.ops->synced(l->cfg.ctx);
}

/* --- frames --------------------------------------------------------------- */

static int on_begin(repl_link *l, const uint8_t *pl, size_t pn, size_t flen)
{
    if (l->in_snap)
        return link_fail(l, "SnapshotBegin inside a snapshot");
    if (take_wm(l, pl, pn, l->target, "SnapshotBegin"))
        return LINK_END_FAIL;
    memcpy(l->wm, l->target, sizeof(*l->wm) * l->n);
    l->have_wm = false;
    l->dirty = true;
    l->in_snap = l->snap_seen = true;
    l->snap_last = false;
    l->next_chunk = 0;
    l->st.snapshots++;
    l->st.sync_bytes = flen;
    l->st.sync_started_unix_ms = link_unix_ms();
    set_state(l, REPL_LINK_SYNC);
    link_log(l, REPL_LOG_NOTICE, "full sync: receiving a snapshot");
    if (l->cfg.ops->snapshot_begin(l->cfg.ctx))
        return applier_error(l, "the snapshot's start");
    return LINK_GO_ON;
}

static int on_chunk(repl_link *l, const uint8_t *pl, size_t pn, size_t flen,
                    uint64_t now)
{
    if (!l->in_snap)
        return link_fail(l, "SnapshotChunk outside a snapshot");
    if (l->snap_last)
        return link_fail(l, "SnapshotChunk after the last chunk");
    fcrp_chunk c;
    int rc = fcrp_chunk_open(pl, pn, &c);
    if (rc != FCRP_OK)
        return link_fail(l, "bad SnapshotChunk from the primary: %s",
                         fcrp_strerror(rc));
    if (c.index != l->next_chunk)
        return link_fail(l, "snapshot chunk %llu out of order (expected %llu)",
                         (unsigned long long)c.index,
                         (unsigned long long)l->next_chunk);
    l->next_chunk++;
    l->st.sync_bytes += flen;
    fcrp_entry e;
    while (fcrp_chunk_next(&c, &e)) {
        if (fcrp_entry_expired(&e, now))
            continue;
        if (l->cfg.ops->entry(l->cfg.ctx, &e))
            return applier_error(l, "a snapshot entry");
        l->st.entries_loaded++;
    }
    l->snap_last = c.is_last;
    /* A fast-cache primary's last chunk carries each shard's cut: the seq
     * at which its walk began, at or above Begin's (hub.h). Records up to
     * it are in the image, and the stream continues from it. */
    if (c.is_last && l->fc && c.wm.n == l->n)
        for (uint32_t i = 0; i < l->n; i++)
            l->wm[i] = fcrp_wm_get(&c.wm, i);
    return LINK_GO_ON;
}

static int on_end(repl_link *l, const uint8_t *pl, size_t pn)
{
    if (!l->in_snap)
        return link_fail(l, "SnapshotEnd without a snapshot");
    if (!l->snap_last)
        return link_fail(l, "SnapshotEnd before the last chunk");
    if (take_wm(l, pl, pn, l->target, "SnapshotEnd"))
        return LINK_END_FAIL;
    l->in_snap = false;
    if (l->cfg.ops->snapshot_end(l->cfg.ctx))
        return applier_error(l, "the snapshot's end");
    l->have_wm = true;
    set_state(l, REPL_LINK_CATCHUP);
    return LINK_GO_ON;
}

static int on_batch(repl_link *l, const uint8_t *pl, size_t pn, uint64_t now)
{
    if (l->in_snap)
        return link_fail(l, "MutationBatch inside a snapshot");
    if (!l->have_wm && fresh_start(l))
        return LINK_END_FAIL;
    fcrp_batch b;
    int rc = fcrp_batch_open(pl, pn, &b);
    if (rc != FCRP_OK)
        return link_fail(l, "bad MutationBatch from the primary: %s",
                         fcrp_strerror(rc));
    l->st.batches++;
    fcrp_record r;
    while (fcrp_batch_next(&b, &r)) {
        if (r.shard >= l->n)
            return link_fail(l, "record for shard %u of a %u-shard primary",
                             r.shard, l->n);
        uint64_t w = l->wm[r.shard];
        if (r.seq <= w) {
            l->st.records_skipped++;
            continue;
        }
        if (r.seq != w + 1) {
            l->st.gaps++;
            return link_fail(l,
                             "gap on shard %u: seq %llu after %llu; resuming "
                             "from our watermarks",
                             r.shard, (unsigned long long)r.seq,
                             (unsigned long long)w);
        }
        l->dirty = true;
        if (l->cfg.ops->record(l->cfg.ctx, &r,
                               fcrp_record_effective_op(&r, now)))
            return applier_error(l, "a record");
        l->wm[r.shard] = r.seq;
        l->st.records_applied++;
        l->ack_due = true;
    }
    return LINK_GO_ON;
}

static int on_frame(repl_link *l, const fcrp_frame *f, size_t flen,
                    uint64_t now)
{
    const uint8_t *pl;
    size_t pn;
    int rc = fcrp_frame_payload(f, &l->scratch, &pl, &pn);
    if (rc != FCRP_OK)
        return link_fail(l, "bad frame from the primary: %s",
                         fcrp_strerror(rc));
    switch (f->h.kind) {
    case FCRP_SNAPSHOT_BEGIN:
        return on_begin(l, pl, pn, flen);
    case FCRP_SNAPSHOT_CHUNK:
        return on_chunk(l, pl, pn, flen, now);
    case FCRP_SNAPSHOT_END:
        return on_end(l, pl, pn);
    case FCRP_MUTATION_BATCH:
        return on_batch(l, pl, pn, now);
    case FCRP_ERROR: {
        fcrp_error e;
        if (fcrp_error_decode(pl, pn, &e) != FCRP_OK)
            return link_fail(l, "the primary sent a bad Error frame");
        if (e.code == FCRP_ERR_RESYNC)
            l->have_wm = false; /* it cannot serve our position */
        return link_fail(l, "primary: %.*s", (int)e.msg_len, e.msg);
    }
    case FCRP_ACK: /* a fast-cache primary asks for ours (WAIT) */
        if (l->fc && l->have_wm)
            l->ack_asked = true;
        return LINK_GO_ON;
    default: /* Hello: nothing for a replica (the seed ignores it) */
        return LINK_GO_ON;
    }
}

/* Handles every complete frame in the buffer, then (when any was) flushes
 * the applier, checks for sync and acknowledges. */
static int drain(repl_link *l)
{
    uint64_t now = (uint64_t)link_unix_ms();
    bool any = false;
    int end = LINK_GO_ON;
    while (end == LINK_GO_ON) {
        fcrp_frame f;
        size_t used = 0, need = 0;
        int rc =
            fcrp_frame_decode((const uint8_t *)l->in.data + l->in_off,
                              l->in.len - l->in_off, &l->rx, &f, &used, &need);
        if (rc == FCRP_MORE) {
            l->need = need;
            break;
        }
        if (rc != FCRP_OK) {
            end = link_fail(l, "bad frame from the primary: %s",
                            fcrp_strerror(rc));
            break;
        }
        l->in_off += used;
        l->st.frames_in++;
        any = true;
        end = on_frame(l, &f, used, now);
    }
    fc_buf_consume(&l->in, l->in_off);
    l->in_off = 0;
    if (l->in.len == 0 && l->in.cap > LINK_BUF_KEEP)
        fc_buf_free(&l->in);
    if (l->scratch.cap > LINK_BUF_KEEP)
        fc_buf_free(&l->scratch);
    if (any && !l->applier_failed && l->cfg.ops->flush)
        l->cfg.ops->flush(l->cfg.ctx); /* what was applied stays applied */
    if (end == LINK_GO_ON) {
        check_synced(l);
        if (any && l->fc &&
            (l->ack_asked ||
             (l->ack_due &&
              link_mono_ms() - l->last_ack_mono >= LINK_ACK_MIN_MS))) {
            ssize_t r = link_send_ack(l);
            if (r < 0)
                end = io_end(r);
        }
    }
    link_publish(l);
    return end;
}

/* --- session -------------------------------------------------------------- */

/* The primary's Hello: shard count, base, whether our position still
 * holds, and where catching up ends. */
static int adopt_primary(repl_link *l, const fcrp_hello *h)
{
    if (!h->has_since)
        return link_fail(l, "the primary's Hello carries no watermarks");
    uint32_t cnt = h->since.n;
    uint64_t base = 0;
    if (l->fc) {
        if (cnt < 2)
            return link_fail(l, "the primary's Hello lacks its sequence base");
        base = fcrp_wm_get(&h->since, --cnt);
    }
    if (cnt == 0 || cnt > LINK_MAX_SHARDS)
        return link_fail(l, "the primary announces %u shards", cnt);
    if (l->have_wm) {
        const char *why = NULL;
        if (cnt != l->n)
            why = "the primary's shard count changed";
        for (uint32_t i = 0; !why && i < cnt; i++)
            if (l->wm[i] > fcrp_wm_get(&h->since, i))
                why = "the primary is behind our watermarks";
        if (why) {
            l->have_wm = false;
            snprintf(l->st.last_error, sizeof l->st.last_error,
                     "%s: full resync", why);
            link_log(l, REPL_LOG_NOTICE, "%s", l->st.last_error);
            return LINK_END_RESYNC;
        }
    }
    if (!l->have_wm) {
        if (cnt != l->n) {
            uint64_t *w = malloc(sizeof(*w) * cnt);
            uint64_t *t = malloc(sizeof(*t) * cnt);
            if (!w || !t) {
                free(w);
                free(t);
                return link_fail(l, "out of memory for %u watermarks", cnt);
            }
            free(l->wm);
            free(l->target);
            l->wm = w;
            l->target = t;
            l->n = cnt;
        }
        for (uint32_t i = 0; i < cnt; i++)
            l->wm[i] = base; /* a fast-cache primary's history starts there */
    }
    l->base = base;
    for (uint32_t i = 0; i < cnt; i++)
        l->target[i] = fcrp_wm_get(&h->since, i);
    l->st.primary_shards = cnt;
    l->st.link_down_since_unix_ms = 0;
    set_state(l, l->have_wm ? REPL_LINK_CATCHUP : REPL_LINK_SYNC);
    link_log(l, REPL_LOG_NOTICE, "connected to %s:%u (%u shards): %s",
             l->cfg.host, l->cfg.port, cnt,
             l->have_wm ? "resuming from our watermarks" : "full sync");
    /* Nothing at all on the primary: an empty copy is complete. */
    if (!l->have_wm && reached(l))
        return fresh_start(l);
    return LINK_GO_ON;
}

/* Waits connect_timeout_ms for the primary's Hello (or Error), then adopts
 * the agreed capabilities for every later frame, both ways. */
static int handshake(repl_link *l)
{
    int64_t deadline = link_mono_ms() + l->cfg.connect_timeout_ms;
    fcrp_frame f;
    size_t used = 0, need = FCRP_HEADER_LEN;
    for (;;) {
        int rc =
            fcrp_frame_decode((const uint8_t *)l->in.data + l->in_off,
                              l->in.len - l->in_off, &l->rx, &f, &used, &need);
        if (rc == FCRP_OK)
            break;
        if (rc != FCRP_MORE)
            return link_fail(l,
                             "bad frame from the primary in the "
                             "handshake: %s",
                             fcrp_strerror(rc));
        int64_t left = deadline - link_mono_ms();
        if (left <= 0)
            return link_fail(l, "no Hello from the primary within %u ms",
                             l->cfg.connect_timeout_ms);
        ssize_t r = link_read(l, need, (int)left);
        if (r == LINK_IO_STOP || r == LINK_IO_FAIL)
            return io_end(r);
    }
    l->in_off += used;
    l->st.frames_in++;
    const uint8_t *pl;
    size_t pn;
    int rc = fcrp_frame_payload(&f, &l->scratch, &pl, &pn);
    if (rc != FCRP_OK)
        return link_fail(l, "bad Hello from the primary: %s",
                         fcrp_strerror(rc));
    if (f.h.kind == FCRP_ERROR) {
        fcrp_error e;
        if (fcrp_error_decode(pl, pn, &e) != FCRP_OK)
            return link_fail(l, "the primary sent a bad Error frame");
        if (e.code == FCRP_ERR_RESYNC)
            l->have_wm = false;
        return link_fail(l, "primary refused us: %.*s", (int)e.msg_len, e.msg);
    }
    if (f.h.kind != FCRP_HELLO)
        return link_fail(l,
                         "expected a Hello from the primary, got frame "
                         "kind %u",
                         f.h.kind);
    fcrp_hello h;
    if ((rc = fcrp_hello_decode(pl, pn, &h)) != FCRP_OK)
        return link_fail(l, "bad Hello from the primary: %s",
                         fcrp_strerror(rc));
    if (h.version != FCRP_VERSION)
        return link_fail(l, "the primary speaks FCRP version %u", h.version);
    uint8_t agreed = fcrp_caps_agreed(OUR_CAPS, f.h.flags);
    bool check = agreed & FCRP_F_CAP_CHECK;
    l->rx.accept = (uint8_t)((check ? FCRP_F_CHECK : 0) |
                             (agreed & FCRP_F_CAP_LZ4 ? FCRP_F_LZ4 : 0));
    l->rx.require_check = check;
    l->tx.check = check; /* Acks are tiny: never compressed */
    l->fc = agreed & FCRP_F_CAP_FC;
    return adopt_primary(l, &h);
}

static int stream(repl_link *l)
{
    l->last_ack_mono = link_mono_ms();
    for (;;) {
        int end = drain(l);
        if (end != LINK_GO_ON)
            return end;
        /* The only timer: the idle Ack, once there is a position to ack. */
        int timeout = -1;
        bool heartbeat = l->fc && !l->in_snap && l->have_wm;
        if (heartbeat) {
            /* Applied records are acknowledged within LINK_ACK_MIN_MS. */
            int64_t period = l->ack_due ? LINK_ACK_MIN_MS : LINK_ACK_PERIOD_MS;
            int64_t left = l->last_ack_mono + period - link_mono_ms();
            timeout = left > 0 ? (int)left : 0;
        }
        ssize_t r = link_read(l, l->need, timeout);
        if (r == LINK_IO_TIMEOUT && heartbeat) {
            if ((r = link_send_ack(l)) < 0)
                return io_end(r);
            link_publish(l);
        } else if (r == LINK_IO_STOP || r == LINK_IO_FAIL) {
            return io_end(r);
        }
    }
}

static int session(repl_link *l)
{
    set_state(l, REPL_LINK_CONNECTING);
    fcrp_rx_default(&l->rx);
    l->rx.lim = l->cfg.lim;
    memset(&l->tx, 0, sizeof l->tx);
    l->fc = l->snap_seen = l->ack_due = l->applier_failed = false;
    l->need = FCRP_HEADER_LEN;
    int r = link_connect(l);
    if (r < 0)
        return io_end(r);
    if ((r = link_send_hello(l)) < 0)
        return io_end(r);
    int end = handshake(l);
    return end != LINK_GO_ON ? end : stream(l);
}

static void *link_main(void *arg)
{
    repl_link *l = arg;
    for (bool first = true;; first = false) {
        if (!first)
            l->st.reconnects++;
        int end = session(l);
        l->in_snap = false; /* have_wm stays false: a full sync follows */
        link_disconnect(l);
        if (end == LINK_END_STOP)
            break;
        l->st.state = REPL_LINK_DOWN;
        if (!l->st.link_down_since_unix_ms)
            l->st.link_down_since_unix_ms = link_unix_ms();
        if (end == LINK_END_FAIL) {
            l->st.backoff_ms = link_backoff_next(l);
            link_publish(l);
            if (link_sleep(l, l->st.backoff_ms))
                break;
        } else {
            link_publish(l);
        }
    }
    set_state(l, REPL_LINK_STOPPED);
    return NULL;
}

/* --- lifecycle ------------------------------------------------------------ */

static void link_free(repl_link *l)
{
    if (l->stop_rd >= 0)
        close(l->stop_rd);
    if (l->stop_wr >= 0)
        close(l->stop_wr);
    fc_buf_free(&l->in);
    fc_buf_free(&l->scratch);
    fc_buf_free(&l->out);
    free(l->wm);
    free(l->target);
    free(l->cfg.host);
    free(l->cfg.token);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static const char *cfg_error(const repl_link_cfg *c)
{
    if (!c->host || !*c->host)
        return "no primary host";
    if (!c->port)
        return "no primary port";
    if (c->role != FCRP_ROLE_REPLICA && c->role != FCRP_ROLE_SUBSCRIBER)
        return "role must be replica or subscriber";
    const repl_apply_ops *o = c->ops;
    if (!o || !o->snapshot_begin || !o->entry || !o->snapshot_end || !o->record)
        return "the applier lacks a callback";
    return NULL;
}

int repl_link_start(repl_link **out, const repl_link_cfg *cfg, char *err,
                    size_t errlen)
{
    *out = NULL;
    const char *bad = cfg ? cfg_error(cfg) : "no configuration";
    if (bad) {
        snprintf(err, errlen, "replication link: %s", bad);
        return -1;
    }
    repl_link *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "replication link: out of memory");
        return -1;
    }
    l->cfg = *cfg;
    l->fd = l->stop_rd = l->stop_wr = -1;
    pthread_mutex_init(&l->mu, NULL);
    l->cfg.host = strdup(cfg->host);
    l->cfg.token = cfg->token ? strdup(cfg->token) : NULL;
    int p[2];
    if (!l->cfg.host || (cfg->token && !l->cfg.token) ||
        pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(err, errlen, "replication link: %s", strerror(errno));
        link_free(l);
        return -1;
    }
    l->stop_rd = p[0];
    l->stop_wr = p[1];
    /* Durations are at least 1 ms (the seed's rule), the cap no lower than
     * the first delay, and zero limits mean the defaults. */
    repl_link_cfg *c = &l->cfg;
    c->connect_timeout_ms += !c->connect_timeout_ms;
    c->write_timeout_ms += !c->write_timeout_ms;
    c->backoff_ms += !c->backoff_ms;
    if (c->backoff_max_ms < c->backoff_ms)
        c->backoff_max_ms = c->backoff_ms;
    if (!c->lim.max_payload || !c->lim.max_uncompressed || !c->lim.max_hello)
        fcrp_limits_default(&c->lim);
    link_backoff_reset(l);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    l->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
             (uint64_t)(uintptr_t)l ^ ((uint64_t)getpid() << 40);
    l->rng += !l->rng;
    l->st.state = REPL_LINK_CONNECTING;
    l->st.link_down_since_unix_ms = link_unix_ms();
    l->pub = l->st;
    int rc = pthread_create(&l->thread, NULL, link_main, l);
    if (rc != 0) {
        snprintf(err, errlen, "replication link: thread: %s", strerror(rc));
        link_free(l);
        return -1;
    }
    *out = l;
    return 0;
}

void repl_link_stop(repl_link *l)
{
    if (!l)
        return;
    char c = 1;
    ssize_t w;
    do
        w = write(l->stop_wr, &c, 1);
    while (w < 0 && errno == EINTR);
    pthread_join(l->thread, NULL);
    link_free(l);
}

void repl_link_stats_get(repl_link *l, repl_link_stats *out)
{
    pthread_mutex_lock(&l->mu);
    *out = l->pub;
    pthread_mutex_unlock(&l->mu);
}
