/*
 * replica.c — the embedded replica (fastcache.h, fc_replica_*): a shared
 * store marked read-only (its write calls return FC_EREADONLY) plus a
 * replication link (repl/link.h) whose applier writes into that store
 * through the engine, under the shard locks, as the public write calls
 * would, bypassing only the read-only check.
 *
 * Keys are placed by this store's own hash (the primary's shard numbers
 * only index the link's watermarks). Expiry arrives as unix ms and is
 * stored as the engine's monotonic ms through an offset (unix - mono)
 * refreshed after every read of the link and at each snapshot, adopted
 * only past the 1 ms jitter of reading two clocks, as persist does. The
 * link has already turned expired entries and records into nothing or
 * DELs by the unix clock; the engine deletes whatever the conversion
 * still leaves in the past.
 *
 * Owns: the store, the link, the wait condition. Threads: the applier runs
 *   on the link thread; every other call from any thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "engine/obj.h"
#include "lib/lib.h"
#include "persist/clock.h"
#include "repl/link.h"
#include "repl/sock.h"

struct fc_replica {
    fc_store *s;
    repl_link *link;
    pthread_mutex_t mu; /* with cv: fc_replica_wait_synced */
    pthread_cond_t cv;
    int64_t wall_off; /* unix - monotonic ms; the link thread's */
};

/* --- the applier (link thread) -------------------------------------------- */

static void refresh_offset(fc_replica *r)
{
    int64_t off = ps_unix_ms() - ps_mono_ms();
    if (off > r->wall_off + 1 || off < r->wall_off - 1)
        r->wall_off = off;
}

/* Absolute unix ms (FCRP_NO_EXPIRY: none) to the engine's expire_at:
 * 0 none, else monotonic ms >= 1 (a time in the past deletes). */
static int64_t to_mono(const fc_replica *r, uint64_t unix_ms)
{
    if (unix_ms == FCRP_NO_EXPIRY || unix_ms > (uint64_t)INT64_MAX)
        return 0; /* past year 292 million: as good as never */
    int64_t u = (int64_t)unix_ms, m;
    if (__builtin_sub_overflow(u, r->wall_off, &m))
        m = r->wall_off < 0 ? INT64_MAX : 1;
    return m < 1 ? 1 : m;
}

static struct lib_shard *key_shard(fc_store *s, const void *key, size_t klen,
                                   uint64_t *h)
{
    *h = lib_route(s->seed, s->route_mode, key, klen);
    return &s->shards[*h & s->mask];
}

static void clear_all(fc_store *s)
{
    for (uint32_t i = 0; i < s->nshards; i++) {
        lib_lock_acquire(&s->shards[i].lock);
        eng_clear(s->shards[i].eng);
        lib_lock_release(&s->shards[i].lock);
    }
}

static int put(fc_replica *r, const uint8_t *key, uint32_t klen,
               const uint8_t *val, uint32_t vlen, uint64_t expire_unix)
{
    uint64_t h;
    const void *k = lib_nonnull(key);
    struct lib_shard *sh = key_shard(r->s, k, klen, &h);
    lib_lock_acquire(&sh->lock);
    int rc = eng_set(sh->eng, h, k, klen, lib_nonnull(val), vlen,
                     to_mono(r, expire_unix), 0, ENG_NOW_LAZY, NULL, NULL);
    lib_lock_release(&sh->lock);
    return rc == FC_OK ? 0 : -1;
}

/* A typed value (hash, list, set, zset): held so that the key space
 * matches the primary's (the string API answers FC_EWRONGTYPE for it).
 * seq: a snapshot entry's image seq or an op record's seq. */
static int put_typed(fc_replica *r, uint8_t op, uint8_t vtype, uint64_t seq,
                     const uint8_t *key, uint32_t klen, const uint8_t *val,
                     uint32_t vlen, uint64_t expire_unix)
{
    uint64_t h;
    const void *k = lib_nonnull(key);
    struct lib_shard *sh = key_shard(r->s, k, klen, &h);
    int rc;
    lib_lock_acquire(&sh->lock);
    if (op == FCRP_OP_OP)
        rc = eng_obj_apply(sh->eng, h, k, klen, vtype, val, vlen, seq,
                           ENG_NOW_LAZY);
    else
        rc = eng_obj_load(sh->eng, h, k, klen, vtype, val, vlen,
                          to_mono(r, expire_unix), seq, ENG_NOW_LAZY);
    lib_lock_release(&sh->lock);
    return rc == FC_OK ? 0 : -1;
}

static int on_snapshot_begin(void *ctx)
{
    fc_replica *r = ctx;
    refresh_offset(r);
    clear_all(r->s);
    return 0;
}

static int on_entry(void *ctx, const fcrp_entry *e)
{
    if (e->vtype)
        return put_typed(ctx, FCRP_OP_SET, e->vtype, e->obj_seq, e->key,
                         e->key_len, e->value, e->value_len, e->expire_at_ms);
    return put(ctx, e->key, e->key_len, e->value, e->value_len,
               e->expire_at_ms);
}

static int on_snapshot_end(void *ctx)
{
    return 0;
}

static int on_record(void *ctx, const fcrp_record *rec, uint8_t op)
{
    fc_replica *r = ctx;
    if (op == FCRP_OP_CLEAR) { /* FLUSHALL / FLUSHDB: every key */
        clear_all(r->s);
        return 0;
    }
    if (op == FCRP_OP_OP || (op == FCRP_OP_SET && rec->vtype != 0))
        return put_typed(r, op, rec->vtype, op == FCRP_OP_OP ? rec->seq : 0,
                         rec->key, rec->key_len, rec->value, rec->value_len,
                         rec->expire_at_ms);
    if (op == FCRP_OP_SET)
        return put(r, rec->key, rec->key_len, rec->value, rec->value_len,
                   rec->expire_at_ms);
    uint64_t h;
    const void *k = lib_nonnull(rec->key);
    struct lib_shard *sh = key_shard(r->s, k, rec->key_len, &h);
    int rc = FC_OK;
    lib_lock_acquire(&sh->lock);
    if (op == FCRP_OP_DEL)
        rc = eng_del(sh->eng, h, k, rec->key_len, ENG_NOW_LAZY, NULL);
    else if (op == FCRP_OP_EXPIRE) /* NO_EXPIRY: persist (expire_at 0) */
        rc = eng_set_expire(sh->eng, h, k, rec->key_len,
                            to_mono(r, rec->expire_at_ms), eng_now_ms());
    else
        rc = FC_EINVAL;
    lib_lock_release(&sh->lock);
    /* an absent key: the primary's state already, nothing to do */
    return rc == FC_OK || rc == FC_ENOTFOUND ? 0 : -1;
}

static void on_synced(void *ctx)
{
    fc_replica *r = ctx;
    pthread_mutex_lock(&r->mu);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void on_flush(void *ctx)
{
    refresh_offset(ctx);
}

static const repl_apply_ops replica_ops = {
    .snapshot_begin = on_snapshot_begin,
    .entry = on_entry,
    .snapshot_end = on_snapshot_end,
    .record = on_record,
    .synced = on_synced,
    .flush = on_flush,
};

/* --- public calls --------------------------------------------------------- */

static void replica_free(fc_replica *r)
{
    if (r->s) {
        r->s->replica = NULL;
        fc_store_close(r->s);
    }
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static uint32_t or_default(uint32_t v, uint32_t d)
{
    return v ? v : d;
}

int fc_replica_open(fc_replica **out, const fc_replica_options *o)
{
    if (!out)
        return FC_EINVAL;
    *out = NULL;
    char host[256], err[160];
    uint16_t port;
    if (!o || !o->primary || o->store.data_dir ||
        repl_parse_addr(o->primary, host, sizeof host, &port, err,
                        sizeof err) != 0 ||
        port == 0)
        return FC_EINVAL;
    fc_replica *r = calloc(1, sizeof *r);
    if (!r)
        return FC_ENOMEM;
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    int rc = fc_store_open(&r->s, &o->store);
    if (rc != FC_OK) {
        replica_free(r);
        return rc;
    }
    r->s->replica = r; /* before anyone else sees the store */
    /* The primary's evictions arrive as deletes; a replica never evicts
     * nor refuses what it applies (Redis's replica-ignore-maxmemory). */
    atomic_store(&r->s->budget->enforce, false);
    r->wall_off = ps_unix_ms() - ps_mono_ms();

    repl_link_cfg c;
    repl_link_cfg_default(&c);
    c.host = host; /* copied by the link */
    c.port = port;
    c.token = (char *)o->token;
    c.connect_timeout_ms = or_default(o->connect_timeout_ms, 500);
    c.write_timeout_ms = or_default(o->write_timeout_ms, 500);
    c.backoff_ms = or_default(o->reconnect_backoff_ms, 200);
    c.backoff_max_ms = or_default(o->reconnect_backoff_max_ms, 5000);
    c.ops = &replica_ops;
    c.ctx = r;
    /* No log: an embedded store is quiet; fc_replica_status says why a
     * connection ended. */
    if (repl_link_start(&r->link, &c, err, sizeof err) != 0) {
        replica_free(r);
        return FC_ENOMEM; /* the config was checked: memory or a thread */
    }
    *out = r;
    return FC_OK;
}

fc_store *fc_replica_store(fc_replica *r)
{
    return r ? r->s : NULL;
}

int fc_replica_status(fc_replica *r, fc_replica_info *out)
{
    if (!r || !out)
        return FC_EINVAL;
    repl_link_stats st;
    repl_link_stats_get(r->link, &st);
    memset(out, 0, sizeof *out);
    out->state = st.state;
    out->state_name = repl_link_state_name(st.state);
    out->synced = st.state == REPL_LINK_ONLINE;
    out->synced_once = st.synced_once;
    out->offset = st.offset;
    out->records_applied = st.records_applied;
    out->records_skipped = st.records_skipped;
    out->entries_loaded = st.entries_loaded;
    out->snapshots = st.snapshots;
    out->reconnects = st.reconnects;
    out->gaps = st.gaps;
    out->bytes_in = st.bytes_in;
    out->last_io_unix_ms = st.last_io_unix_ms;
    out->link_down_since_unix_ms = st.link_down_since_unix_ms;
    memcpy(out->last_error, st.last_error, sizeof out->last_error);
    out->last_error[sizeof out->last_error - 1] = 0;
    return FC_OK;
}

static bool online(fc_replica *r)
{
    repl_link_stats st;
    repl_link_stats_get(r->link, &st);
    return st.state == REPL_LINK_ONLINE;
}

/* The link publishes ONLINE before its synced callback broadcasts under
 * r->mu, so a waiter that saw another state while holding r->mu is always
 * woken. */
int fc_replica_wait_synced(fc_replica *r, int timeout_ms)
{
    if (!r)
        return FC_EINVAL;
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    if (timeout_ms > 0) {
        dl.tv_sec += timeout_ms / 1000;
        dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
    }
    int rc = 0;
    pthread_mutex_lock(&r->mu);
    bool ok;
    while (!(ok = online(r)) && rc != ETIMEDOUT && timeout_ms != 0) {
        if (timeout_ms < 0)
            pthread_cond_wait(&r->cv, &r->mu);
        else
            rc = pthread_cond_timedwait(&r->cv, &r->mu, &dl);
    }
    pthread_mutex_unlock(&r->mu);
    return ok ? FC_OK : FC_ETIMEDOUT;
}

void fc_replica_close(fc_replica *r)
{
    if (!r)
        return;
    repl_link_stop(r->link); /* no applier call after this */
    replica_free(r);
}
