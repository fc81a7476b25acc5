/*
 * statslog.c — the seed's periodic stats report (its stats_interval_ms;
 * ../shared/spec/server.md §5): every stats_log_interval_ms, one notice
 * line
 *
 *   stats: ops_per_sec=1234.5 hit_ratio=0.9500 keys=10 used_memory=4096
 *   connections=3 commands=5000 hits=95 misses=5 expired=0 evicted=0
 *
 * (one line in the log). ops_per_sec and hit_ratio are over the interval
 * just ended (hit_ratio "-" when it saw no single-key read); the rest are
 * totals since start, so a reader can check one line against the next.
 * Our stats_interval_ms already meant the ops/sec sampling period (100 ms),
 * so the report has a key of its own, off by default: logs stay quiet
 * unless asked.
 *
 * Threads: a thread of its own, which reads the workers' atomics
 * (srv_metrics_totals_get) and never parks or wakes them. Owns: that
 * thread, its lock and condition (the stop signal).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/config/log.h"
#include "server/metrics/metrics.h"
#include "server/server.h"

typedef struct srv_statslog {
    srv_server *s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    bool stop;
} srv_statslog;

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void log_line(const srv_metrics_totals *t, const srv_metrics_totals *p,
                     int64_t dt_ns)
{
    double secs = dt_ns > 0 ? (double)dt_ns / 1e9 : 1.0;
    uint64_t reads = (t->hits - p->hits) + (t->misses - p->misses);
    char ratio[32] = "-";
    if (reads)
        snprintf(ratio, sizeof(ratio), "%.4f",
                 (double)(t->hits - p->hits) / (double)reads);
    srv_notice("stats: ops_per_sec=%.1f hit_ratio=%s keys=%llu "
               "used_memory=%llu connections=%llu commands=%llu hits=%llu "
               "misses=%llu expired=%llu evicted=%llu",
               (double)(t->cmds - p->cmds) / secs, ratio,
               (unsigned long long)t->keys, (unsigned long long)t->memory,
               (unsigned long long)t->clients, (unsigned long long)t->cmds,
               (unsigned long long)t->hits, (unsigned long long)t->misses,
               (unsigned long long)t->expired, (unsigned long long)t->evicted);
}

static void *run(void *arg)
{
    srv_statslog *l = arg;
    int64_t every = l->s->cfg.stats_log_interval_ms * 1000000;
    srv_metrics_totals prev, cur;
    srv_metrics_totals_get(l->s, &prev);
    int64_t last = mono_ns(), next = last + every;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        struct timespec at = {.tv_sec = next / 1000000000,
                              .tv_nsec = next % 1000000000};
        int e = pthread_cond_timedwait(&l->cond, &l->mu, &at);
        if (l->stop)
            break;
        if (e != ETIMEDOUT)
            continue; /* spurious: wait for the same deadline */
        pthread_mutex_unlock(&l->mu);
        int64_t now = mono_ns();
        srv_metrics_totals_get(l->s, &cur);
        log_line(&cur, &prev, now - last);
        prev = cur;
        last = now;
        /* Fixed period; after a stall, the next tick from now rather
         * than a burst of catch-up lines. */
        next += every;
        if (next <= now)
            next = now + every;
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

int srv_statslog_start(srv_server *s, srv_statslog **out, char *err,
                       size_t errlen)
{
    srv_statslog *l = calloc(1, sizeof(*l));
    pthread_condattr_t ca;
    *out = NULL;
    if (!l) {
        snprintf(err, errlen, "stats log: out of memory");
        return -1;
    }
    l->s = s;
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cond, &ca);
    pthread_condattr_destroy(&ca);
    int e = pthread_create(&l->thread, NULL, run, l);
    if (e) {
        snprintf(err, errlen, "stats log: cannot start its thread: %s",
                 strerror(e));
        pthread_cond_destroy(&l->cond);
        pthread_mutex_destroy(&l->mu);
        free(l);
        return -1;
    }
    *out = l;
    return 0;
}

void srv_statslog_stop(srv_statslog *l)
{
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    pthread_cond_destroy(&l->cond);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
