/*
 * prom.c — the server's figures in Prometheus's text exposition format
 * 0.0.4: one "# HELP" and one "# TYPE" line per family, then its samples;
 * base units (seconds, bytes), counters named *_total. See metrics.h for
 * where each figure comes from; nothing here counts anything.
 *
 * Latency. Each worker buckets every command's duration as it times it
 * (exec.c; worker.h's srv_lat_bucket: powers of two of microseconds, the
 * buckets of Redis's LATENCY HISTOGRAM). They are served as one histogram
 * per command, whose _count is its +Inf bucket (so count and buckets agree
 * even while a worker is writing them), and as p50 / p99 / p999 over all
 * commands, each the upper bound of the bucket that holds that quantile:
 * a log2 histogram knows no finer than that, and says so in its HELP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repl/hub.h"
#include "repl/link.h"
#include "server/metrics/metrics.h"
#include "server/replication.h"
#include "server/server.h"
#include "server/worker.h"

#define LOAD(p) atomic_load_explicit((p), memory_order_relaxed)

#define out fc_buf_printf

static void family(fc_buf *b, const char *name, const char *type,
                   const char *help)
{
    out(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(fc_buf *b, const char *name, const char *type, const char *help,
                uint64_t v)
{
    family(b, name, type, help);
    out(b, "%s %llu\n", name, (unsigned long long)v);
}

/* A label value as the format escapes it (backslash, quote, newline). */
static void label_value(char *dst, size_t n, const char *v)
{
    size_t j = 0;
    for (; *v && j + 2 < n; v++) {
        if (*v == '\\' || *v == '"' || *v == '\n') {
            dst[j++] = '\\';
            dst[j++] = *v == '\n' ? 'n' : *v;
        } else {
            dst[j++] = *v;
        }
    }
    dst[j] = '\0';
}

void srv_metrics_totals_get(srv_server *s, srv_metrics_totals *t)
{
    memset(t, 0, sizeof(*t));
    for (uint32_t i = 0; i < s->nworkers; i++) {
        const srv_worker *w = &s->workers[i];
        t->cmds += LOAD(&w->stat_cmds);
        t->hits += LOAD(&w->stat_hits);
        t->misses += LOAD(&w->stat_misses);
        t->expired += LOAD(&w->stat_expired);
        t->keys += LOAD(&w->pub_keys);
        t->expires += LOAD(&w->pub_expires);
        t->memory += LOAD(&w->pub_memory);
    }
    t->evicted = LOAD(&s->budget.evicted);
    t->clients = LOAD(&s->nclients);
    t->conns_received = LOAD(&s->stat_conn_received);
}

/* Per command, summed over the workers: only commands that ran or were
 * refused (as INFO commandstats), so a scrape stays small. */
typedef struct cmd_sum {
    uint64_t calls, nsec, rejected, failed;
    uint64_t lat[SRV_LAT_BUCKETS];
} cmd_sum;

static void cmd_sum_get(srv_server *s, size_t k, cmd_sum *c)
{
    memset(c, 0, sizeof(*c));
    for (uint32_t i = 0; i < s->nworkers; i++) {
        const srv_cmdstat *st = &s->workers[i].cmdstats[k];
        c->calls += LOAD(&st->calls);
        c->nsec += LOAD(&st->nsec);
        c->rejected += LOAD(&st->rejected);
        c->failed += LOAD(&st->failed);
        for (int b = 0; b < SRV_LAT_BUCKETS; b++)
            c->lat[b] += LOAD(&st->lat[b]);
    }
}

/* Bucket b's upper bound in seconds: 2^b us, exact in six decimals. */
static void bucket_le(char *dst, size_t n, int b)
{
    if (b >= SRV_LAT_BUCKETS - 1)
        snprintf(dst, n, "+Inf");
    else
        snprintf(dst, n, "%.6f", (double)(1ULL << b) / 1e6);
}

static void commands(srv_server *s, fc_buf *b)
{
    size_t n = s->cmds.count;
    cmd_sum *all = calloc(n ? n : 1, sizeof(*all));
    if (!all) {
        b->oom = true;
        return;
    }
    uint64_t merged[SRV_LAT_BUCKETS] = {0};
    for (size_t k = 0; k < n; k++) {
        cmd_sum_get(s, k, &all[k]);
        for (int i = 0; i < SRV_LAT_BUCKETS; i++)
            merged[i] += all[k].lat[i];
    }
    static const struct {
        const char *name, *help;
        size_t off;
        bool seconds;
    } fams[] = {
        {"fastcache_commands_total", "Commands executed, by command.",
         offsetof(cmd_sum, calls), false},
        {"fastcache_commands_duration_seconds_total",
         "Time spent executing commands, by command.", offsetof(cmd_sum, nsec),
         true},
        {"fastcache_commands_failed_total",
         "Commands that ran and replied with an error, by command.",
         offsetof(cmd_sum, failed), false},
        {"fastcache_commands_rejected_total",
         "Commands refused before running (arity, authentication, "
         "subscribed context), by command.",
         offsetof(cmd_sum, rejected), false},
    };
    for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
        family(b, fams[f].name, "counter", fams[f].help);
        for (size_t k = 0; k < n; k++) {
            const cmd_sum *c = &all[k];
            if (!c->calls && !c->rejected && !c->failed)
                continue;
            uint64_t v = *(const uint64_t *)((const char *)c + fams[f].off);
            if (fams[f].seconds)
                out(b, "%s{cmd=\"%s\"} %.9f\n", fams[f].name,
                    s->cmds.ents[k].def->name, (double)v / 1e9);
            else
                out(b, "%s{cmd=\"%s\"} %llu\n", fams[f].name,
                    s->cmds.ents[k].def->name, (unsigned long long)v);
        }
    }
    const char *h = "fastcache_command_latency_seconds";
    family(b, h, "histogram",
           "Command execution time, by command (buckets: powers of two of "
           "microseconds).");
    for (size_t k = 0; k < n; k++) {
        const cmd_sum *c = &all[k];
        const char *name = s->cmds.ents[k].def->name;
        if (!c->calls)
            continue;
        uint64_t cum = 0;
        for (int i = 0; i < SRV_LAT_BUCKETS; i++) {
            char le[32];
            cum += c->lat[i];
            bucket_le(le, sizeof(le), i);
            out(b, "%s_bucket{cmd=\"%s\",le=\"%s\"} %llu\n", h, name, le,
                (unsigned long long)cum);
        }
        out(b, "%s_sum{cmd=\"%s\"} %.9f\n", h, name, (double)c->nsec / 1e9);
        out(b, "%s_count{cmd=\"%s\"} %llu\n", h, name, (unsigned long long)cum);
    }
    family(b, "fastcache_command_latency_quantile_seconds", "gauge",
           "Upper bound of the latency bucket holding the quantile, over "
           "every command since start (NaN before the first command).");
    static const struct {
        const char *label;
        uint64_t q; /* in 1/10000 */
    } qs[] = {{"0.5", 5000}, {"0.99", 9900}, {"0.999", 9990}};
    for (size_t q = 0; q < sizeof(qs) / sizeof(qs[0]); q++) {
        char le[32] = "NaN";
        int at = srv_lat_quantile(merged, qs[q].q);
        if (at >= 0)
            bucket_le(le, sizeof(le), at);
        out(b,
            "fastcache_command_latency_quantile_seconds{quantile=\"%s\"} "
            "%s\n",
            qs[q].label, le);
    }
    free(all);
}

static void keyspace(srv_server *s, fc_buf *b)
{
    srv_metrics_totals t;
    srv_metrics_totals_get(s, &t);
    one(b, "fastcache_keys", "gauge", "Keys stored (as DBSIZE).", t.keys);
    one(b, "fastcache_keys_with_expiry", "gauge", "Keys that have a TTL.",
        t.expires);
    one(b, "fastcache_expired_keys_total", "counter",
        "Keys removed because their TTL passed.", t.expired);
    one(b, "fastcache_evicted_keys_total", "counter",
        "Keys evicted for the memory limit.", t.evicted);
    one(b, "fastcache_keyspace_hits_total", "counter",
        "Single-key reads that found their key.", t.hits);
    one(b, "fastcache_keyspace_misses_total", "counter",
        "Single-key reads that did not find their key.", t.misses);
    uint64_t peak = eng_budget_peak(&s->budget);
    one(b, "fastcache_memory_used_bytes", "gauge",
        "Memory held by the data (the engine's accounting, what maxmemory "
        "counts).",
        t.memory);
    one(b, "fastcache_memory_peak_bytes", "gauge",
        "Highest memory held by the data since start.",
        peak > t.memory ? peak : t.memory);
    one(b, "fastcache_memory_limit_bytes", "gauge", "maxmemory (0 = no limit).",
        LOAD(&s->budget.limit));
    one(b, "fastcache_connections", "gauge", "Client connections open.",
        t.clients);
    one(b, "fastcache_connections_received_total", "counter",
        "Client connections accepted.", t.conns_received);
    one(b, "fastcache_connections_rejected_total", "counter",
        "Client connections refused (maxclients).",
        LOAD(&s->stat_rejected_conn));
}

static void workers(srv_server *s, fc_buf *b)
{
    static const struct {
        const char *name, *help;
    } fams[] = {
        {"fastcache_worker_commands_total", "Commands executed, by worker."},
        {"fastcache_worker_hops_total",
         "Requests a worker sent to the worker owning their keys."},
        {"fastcache_worker_exclusive_sections_total",
         "Exclusive sections (every other worker parked) a worker ran."},
        {"fastcache_worker_net_input_bytes_total",
         "Bytes read from clients, by worker."},
        {"fastcache_worker_net_output_bytes_total",
         "Reply bytes produced, by worker."},
    };
    for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
        family(b, fams[f].name, "counter", fams[f].help);
        for (uint32_t i = 0; i < s->nworkers; i++) {
            const srv_worker *w = &s->workers[i];
            const _Atomic uint64_t *p[] = {&w->stat_cmds, &w->rt.stat_hops,
                                           &w->rt.stat_excl, &w->stat_net_in,
                                           &w->stat_net_out};
            out(b, "%s{worker=\"%u\"} %llu\n", fams[f].name, i,
                (unsigned long long)LOAD(p[f]));
        }
    }
}

static void persistence(srv_server *s, fc_buf *b)
{
    ps_persist *ps = srv_ps(s);
    if (!s->cfg.persistence.enabled || !ps)
        return; /* off, or still loading: no figures to read yet */
    ps_info in;
    ps_info_get(ps, &in);
    one(b, "fastcache_wal_records_written_total", "counter",
        "WAL records written.", in.wal.records);
    one(b, "fastcache_wal_written_bytes_total", "counter", "WAL bytes written.",
        in.wal.bytes);
    one(b, "fastcache_wal_fsyncs_total", "counter", "WAL fsyncs.",
        in.wal.fsyncs);
    one(b, "fastcache_wal_write_errors_total", "counter",
        "WAL write or fsync errors.", in.wal.write_errors);
    one(b, "fastcache_wal_queued_records", "gauge",
        "WAL records waiting for the writer.", in.wal.queued_records);
    one(b, "fastcache_wal_disk_bytes", "gauge",
        "Bytes of the WAL segments on disk.", in.wal_disk_bytes);
    one(b, "fastcache_wal_segment", "gauge", "Current WAL segment number.",
        in.wal.segno);
    one(b, "fastcache_snapshots_total", "counter",
        "Snapshots completed by this process.", in.saves);
    one(b, "fastcache_snapshot_in_progress", "gauge",
        "1 while a snapshot runs.", in.bgsave_in_progress ? 1 : 0);
    one(b, "fastcache_snapshot_last_keys", "gauge",
        "Keys in the last snapshot.", in.last_snapshot_keys);
    one(b, "fastcache_snapshot_last_bytes", "gauge",
        "Bytes of the last snapshot file.", in.last_snapshot_bytes);
    one(b, "fastcache_changes_since_last_snapshot", "gauge",
        "Writes logged since the last snapshot.", in.changes_since_save);
    family(b, "fastcache_snapshot_last_success_timestamp_seconds", "gauge",
           "Unix time of the last good snapshot (0 = none).");
    out(b, "fastcache_snapshot_last_success_timestamp_seconds %.3f\n",
        (double)in.last_save_unix_ms / 1000.0);
}

#define MAX_PEERS 64

static void replication(srv_server *s, fc_buf *b)
{
    repl_hub *h = atomic_load(&s->hub);
    repl_link_stats ls;
    char host[256];
    uint16_t port = 0;
    bool replica = srv_replica_stats(s, &ls, host, sizeof(host), &port);
    if (replica) {
        bool up = ls.state == REPL_LINK_CATCHUP || ls.state == REPL_LINK_ONLINE;
        one(b, "fastcache_repl_link_up", "gauge",
            "1 while this replica's link to its primary is up.", up);
        one(b, "fastcache_repl_applied_records_total", "counter",
            "Replication records this replica applied.", ls.records_applied);
        one(b, "fastcache_repl_offset", "gauge",
            "Replication offset (records applied since the primary's "
            "history began).",
            ls.offset);
        one(b, "fastcache_repl_reconnects_total", "counter",
            "Reconnection attempts to the primary.", ls.reconnects);
    }
    if (!h)
        return;
    repl_hub_stats hs;
    repl_hub_stats_get(h, &hs);
    if (!replica) /* a replica's offset is its link's, above */
        one(b, "fastcache_repl_offset", "gauge",
            "Replication offset (records published since start).", hs.offset);
    one(b, "fastcache_repl_published_records_total", "counter",
        "Records published to replicas.", hs.records_published);
    one(b, "fastcache_repl_sent_bytes_total", "counter",
        "Bytes sent to replicas.", hs.bytes_sent);
    one(b, "fastcache_repl_dropped_slow_total", "counter",
        "Peers dropped for falling behind.", hs.dropped_slow);
    repl_peer_info *p = calloc(MAX_PEERS, sizeof(*p));
    uint32_t n = p ? repl_hub_peers(h, p, MAX_PEERS) : 0;
    family(b, "fastcache_repl_peer_acked_offset", "gauge",
           "Offset a peer acknowledged.");
    for (uint32_t i = 0; i < n; i++) {
        char a[160];
        label_value(a, sizeof(a), p[i].addr);
        out(b, "fastcache_repl_peer_acked_offset{peer=\"%s\"} %llu\n", a,
            (unsigned long long)p[i].offset);
    }
    family(b, "fastcache_repl_peer_lag_seconds", "gauge",
           "Time since a peer's last acknowledgement (peers that sent one).");
    for (uint32_t i = 0; i < n; i++) {
        char a[160];
        if (p[i].lag_ms < 0)
            continue;
        label_value(a, sizeof(a), p[i].addr);
        out(b, "fastcache_repl_peer_lag_seconds{peer=\"%s\"} %.3f\n", a,
            (double)p[i].lag_ms / 1000.0);
    }
    free(p);
}

void srv_metrics_render(srv_server *s, fc_buf *b)
{
    family(b, "fastcache_start_time_seconds", "gauge",
           "Unix time the server started.");
    out(b, "fastcache_start_time_seconds %.3f\n",
        (double)s->start_unix_ms / 1000.0);
    one(b, "fastcache_workers", "gauge", "Worker threads.", s->nworkers);
    commands(s, b);
    keyspace(s, b);
    workers(s, b);
    persistence(s, b);
    replication(s, b);
}
