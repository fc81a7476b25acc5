/* store_admin.c — the shared handle's whole-store calls: counts, clear,
 * active expiry (fc_tick and its background thread), observer, sequence
 * numbers and memory. Each visits shards one lock at a time, so a
 * whole-store call never stalls the store, and is not a snapshot. */
#include <errno.h>
#include <time.h>

#include "lib/lib.h"

/* Background expiry: slots per shard per round, and the share of the
 * interval that rounds may take while they keep finding expired keys. */
#define EXPIRY_ROUND_PER_SHARD 256
#define EXPIRY_BUSY_DIVISOR 4

size_t fc_len(fc_store *s)
{
    size_t n = 0;
    if (!s)
        return 0;
    for (uint32_t i = 0; i < s->nshards; i++) {
        lib_lock_acquire(&s->shards[i].lock);
        n += eng_len(s->shards[i].eng);
        lib_lock_release(&s->shards[i].lock);
    }
    return n;
}

void fc_clear(fc_store *s)
{
    if (!s || s->replica) /* read-only: only the primary's CLEAR empties it */
        return;
    for (uint32_t i = 0; i < s->nshards; i++) {
        lib_lock_acquire(&s->shards[i].lock);
        eng_clear(s->shards[i].eng);
        lib_lock_release(&s->shards[i].lock);
    }
}

size_t fc_tick(fc_store *s, size_t budget)
{
    if (!s || !budget)
        return 0;
    size_t per = budget / s->nshards;
    if (per < LIB_TICK_MIN_PER_SHARD)
        per = LIB_TICK_MIN_PER_SHARD;
    int64_t now = eng_now_ms();
    size_t removed = 0;
    /* The cursor is shared so that concurrent tickers (the thread and
     * callers) spread over shards instead of sweeping the same one. */
    for (uint32_t v = 0; v < s->nshards && budget; v++) {
        uint32_t i = atomic_fetch_add_explicit(&s->tick_cursor, 1,
                                               memory_order_relaxed) &
                     s->mask;
        size_t n = per < budget ? per : budget;
        lib_lock_acquire(&s->shards[i].lock);
        removed += eng_sweep(s->shards[i].eng, n, now);
        if (eng_defrag_wanted(s->shards[i].eng))
            eng_defrag(s->shards[i].eng, LIB_TICK_DEFRAG_BYTES);
        eng_tier_walk(s->shards[i].eng); /* the levels move with reads */
        lib_lock_release(&s->shards[i].lock);
        budget -= n;
    }
    return removed;
}

/* One wake-up of the expiry thread: a round over every shard, repeated
 * while a quarter of what it examined was expired (as Redis's active expiry
 * cycle) and a quarter of the interval is not used up. */
static void expiry_cycle(fc_store *s, unsigned interval_ms)
{
    size_t round = (size_t)EXPIRY_ROUND_PER_SHARD * s->nshards;
    int64_t deadline = eng_now_ms() + interval_ms / EXPIRY_BUSY_DIVISOR;
    while (fc_tick(s, round) * 4 >= round && eng_now_ms() < deadline)
        ;
}

static struct timespec deadline_after(unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void *expiry_main(void *arg)
{
    fc_store *s = arg;
    pthread_mutex_lock(&s->exp_mu);
    while (!s->exp_stop) {
        unsigned ms = s->exp_interval_ms;
        struct timespec ts = deadline_after(ms);
        int rc = 0;
        while (!s->exp_stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&s->exp_cv, &s->exp_mu, &ts);
        if (s->exp_stop)
            break;
        pthread_mutex_unlock(&s->exp_mu);
        expiry_cycle(s, ms);
        pthread_mutex_lock(&s->exp_mu);
    }
    pthread_mutex_unlock(&s->exp_mu);
    return NULL;
}

int fc_start_expiry_thread(fc_store *s, unsigned interval_ms)
{
    if (!s || !interval_ms)
        return FC_EINVAL;
    pthread_mutex_lock(&s->exp_ctl);
    int rc = FC_EINVAL; /* already running */
    if (!s->exp_running) {
        s->exp_stop = false;
        s->exp_interval_ms = interval_ms;
        rc = pthread_create(&s->exp_thread, NULL, expiry_main, s) == 0
                 ? FC_OK
                 : FC_ENOMEM;
        s->exp_running = rc == FC_OK;
    }
    pthread_mutex_unlock(&s->exp_ctl);
    return rc;
}

void fc_stop_expiry_thread(fc_store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->exp_ctl);
    if (s->exp_running) {
        pthread_mutex_lock(&s->exp_mu);
        s->exp_stop = true;
        pthread_cond_signal(&s->exp_cv);
        pthread_mutex_unlock(&s->exp_mu);
        pthread_join(s->exp_thread, NULL);
        s->exp_running = false;
    }
    pthread_mutex_unlock(&s->exp_ctl);
}

/* Every shard lock is held while the observer changes, so that the expiry
 * thread (which may be running) never sees half of fn/ctx. */
void fc_store_set_observer(fc_store *s, fc_mutation_fn fn, void *ctx)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->nshards; i++)
        lib_lock_acquire(&s->shards[i].lock);
    if (s->ps) { /* chained after the WAL's (store_persist.c) */
        s->user_obs = fn;
        s->user_obs_ctx = ctx;
    } else {
        s->observer.fn = fn;
        s->observer.ctx = ctx;
    }
    for (uint32_t i = 0; i < s->nshards; i++)
        lib_lock_release(&s->shards[i].lock);
}

uint64_t fc_store_shard_seq(fc_store *s, uint32_t shard)
{
    if (!s || shard >= s->nshards)
        return 0;
    lib_lock_acquire(&s->shards[shard].lock);
    uint64_t seq = eng_seq(s->shards[shard].eng);
    lib_lock_release(&s->shards[shard].lock);
    return seq;
}

uint32_t fc_store_shards(const fc_store *s)
{
    return s ? s->nshards : 0;
}

size_t fc_store_memory(fc_store *s)
{
    size_t n = 0;
    if (!s)
        return 0;
    for (uint32_t i = 0; i < s->nshards; i++) {
        lib_lock_acquire(&s->shards[i].lock);
        n += eng_memory(s->shards[i].eng);
        lib_lock_release(&s->shards[i].lock);
    }
    return n;
}

int fc_store_set_maxmemory(fc_store *s, size_t bytes)
{
    int rc = FC_OK;
    if (!s)
        return FC_EINVAL;
    atomic_store(&s->budget->limit, (uint64_t)bytes);
    if (!bytes)
        return FC_OK;
    int64_t now = eng_now_ms();
    /* Round robin over the shards, a batch each, until within the limit:
     * the shards' shares stay in proportion to what they hold. */
    for (int round = 0; round < 1 << 20; round++) {
        size_t removed = 0;
        for (uint32_t i = 0; i < s->nshards; i++) {
            lib_lock_acquire(&s->shards[i].lock);
            removed += eng_evict(s->shards[i].eng, 64, now);
            lib_lock_release(&s->shards[i].lock);
        }
        if (!removed)
            break;
    }
    if (eng_budget_used(s->budget) > bytes + (size_t)s->nshards * ENG_ACCT_STEP)
        rc = FC_ENOMEM;
    return rc;
}

int fc_store_tier_stats(fc_store *s, fc_tier_stats out[FC_TIERS])
{
    eng_tier_stats t[ENG_TIERS];
    if (!s || !out)
        return FC_EINVAL;
    memset(t, 0, sizeof(t));
    for (uint32_t i = 0; i < s->nshards; i++) {
        lib_lock_acquire(&s->shards[i].lock);
        eng_tier_stats_add(s->shards[i].eng, t);
        lib_lock_release(&s->shards[i].lock);
    }
    for (int l = 0; l < FC_TIERS; l++)
        out[l] = (fc_tier_stats){.keys = t[l].keys,
                                 .capacity = t[l].capacity,
                                 .hits = t[l].hits,
                                 .promotions = t[l].promotions,
                                 .demotions = t[l].demotions};
    return FC_OK;
}

uint64_t fc_store_evicted(fc_store *s)
{
    return s ? atomic_load(&s->budget->evicted) : 0;
}

int fc_store_stats(fc_store *s, fc_stats *out)
{
    if (!s || !out)
        return FC_EINVAL;
    memset(out, 0, sizeof(*out));
    /* The figures pubstats.c publishes for a server's worker, read the
     * same way (eng_len, eng_expires_count, eng_memory per shard). */
    for (uint32_t i = 0; i < s->nshards; i++) {
        lib_lock_acquire(&s->shards[i].lock);
        out->keys += eng_len(s->shards[i].eng);
        out->expires += eng_expires_count(s->shards[i].eng);
        out->used_memory += eng_memory(s->shards[i].eng);
        lib_lock_release(&s->shards[i].lock);
    }
    out->peak_memory = eng_budget_peak(s->budget);
    if (out->peak_memory < out->used_memory)
        out->peak_memory = out->used_memory;
    out->maxmemory = atomic_load(&s->budget->limit);
    out->evicted = atomic_load(&s->budget->evicted);
    return FC_OK;
}
