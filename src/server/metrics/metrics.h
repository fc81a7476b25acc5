/*
 * metrics.h — the server's telemetry outside RESP: the Prometheus endpoint
 * (--metrics-bind, http.c, served by libmicrohttpd), its text rendering
 * (prom.c), and the periodic stats log line (--stats-log-interval-ms,
 * statslog.c).
 *
 * Every figure is read, never counted again here: the per-worker atomics
 * INFO reads (worker.h: cmdstats and its latency buckets, stat_*; route/
 * mesh.h: hops and exclusive sections; pubstats.h: keys, expires, memory),
 * the process-wide ones (server.h, the memory budget), persistence's
 * ps_info_get and replication's hub and link stats. A scrape or a log line
 * therefore never parks or messages a worker: it costs the workers
 * nothing but the cache lines it reads. Other workers' published keyspace
 * figures are as of their last loop turn that ran a write (pubstats.h),
 * so once a load is over they match DBSIZE exactly.
 *
 * Owns: the endpoint's listening socket (until the daemon takes it), the
 *   libmicrohttpd daemon and its thread, the stats log thread.
 * Threads: srv_metrics_open / _start / _stop / _free on the main thread
 *   (open in srv_init, start and stop in srv_run around the workers' life,
 *   free in srv_destroy); the daemon's thread and the log thread run
 *   srv_metrics_render / the log line and read only atomics and the
 *   thread-safe stats getters. srv_metrics_render may run on any thread.
 */
#ifndef FC_SERVER_METRICS_H
#define FC_SERVER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct srv_server;

/* srv_metrics_open / _start / _stop / _free, the hooks the process calls,
 * are declared in server.h (the core cannot include this folder's headers:
 * scripts/check_layers.py) and defined in http.c. */

/* The Prometheus text exposition format 0.0.4 of the whole server, appended
 * to out (out->oom on failure). */
void srv_metrics_render(struct srv_server *s, fc_buf *out);

/* Whole-server sums of the figures the log line and the endpoint share
 * (every worker's atomics, relaxed loads; keyspace ones as published). */
typedef struct srv_metrics_totals {
    uint64_t cmds, hits, misses, expired, evicted;
    uint64_t keys, expires, memory;
    uint64_t clients, conns_received;
} srv_metrics_totals;
void srv_metrics_totals_get(struct srv_server *s, srv_metrics_totals *t);

/* The stats log thread (statslog.c): srv_metrics_start / _stop run it. */
struct srv_statslog;
int srv_statslog_start(struct srv_server *s, struct srv_statslog **out,
                       char *err, size_t errlen);
void srv_statslog_stop(struct srv_statslog *l);

#endif /* FC_SERVER_METRICS_H */
