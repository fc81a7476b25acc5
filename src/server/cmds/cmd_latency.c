/*
 * cmd_latency.c — LATENCY HISTOGRAM [command ...] and LATENCY HELP, in
 * Redis 7's layout: a map from command name to {calls, histogram_usec},
 * histogram_usec a map from a bucket's upper bound in microseconds (1, 2,
 * 4, ...) to the cumulative count of calls up to it, listing only the
 * buckets where the count grows. The buckets are the ones every worker
 * fills as it times commands (worker.h, srv_lat_bucket), which /metrics
 * serves as fastcache_command_latency_seconds: the same counters. Redis
 * buckets an HDR histogram the same way (powers of two from 1 us).
 *
 * The latency monitor (LATENCY LATEST, HISTORY, RESET, GRAPH, DOCTOR:
 * events over latency-monitor-threshold) does not exist here; those
 * subcommands say so rather than answer an empty monitor.
 *
 * Threads: inline on the client's worker (SRV_CMD_PUBLISHED: after its
 * earlier requests are back, so it counts them), reading every worker's
 * counters with relaxed loads; no worker is parked.
 */
#include <stdlib.h>
#include <string.h>

#include "server/server.h"
#include "server/route/route.h"
#include "server/srvcmd.h"
#include "server/worker.h"

#define LOAD(p) atomic_load_explicit((p), memory_order_relaxed)

static void sum_buckets(const srv_server *s, size_t k,
                        uint64_t out[SRV_LAT_BUCKETS])
{
    memset(out, 0, SRV_LAT_BUCKETS * sizeof(out[0]));
    for (uint32_t i = 0; i < s->nworkers; i++)
        for (int b = 0; b < SRV_LAT_BUCKETS; b++)
            out[b] += LOAD(&s->workers[i].cmdstats[k].lat[b]);
}

/* One command's entry: its name, then {calls, histogram_usec}. calls is
 * the histogram's total, so the two always agree. */
static void reply_one(srv_exec *x, size_t k, const uint64_t *lat)
{
    resp_writer *w = x->c->w;
    uint64_t calls = 0;
    size_t steps = 0;
    for (int b = 0; b < SRV_LAT_BUCKETS; b++) {
        calls += lat[b];
        steps += lat[b] != 0;
    }
    const char *name = x->srv->cmds.ents[k].def->name;
    resp_bulk(w, name, strlen(name));
    resp_map(w, 2);
    resp_bulk(w, "calls", 5);
    resp_int(w, (int64_t)calls);
    resp_bulk(w, "histogram_usec", 14);
    resp_map(w, steps);
    uint64_t cum = 0;
    for (int b = 0; b < SRV_LAT_BUCKETS; b++) {
        if (!lat[b])
            continue;
        cum += lat[b];
        /* The +Inf bucket has no bound: it reports as the next power. */
        resp_int(w, (int64_t)1 << b);
        resp_int(w, (int64_t)cum);
    }
}

static bool asked(const cmd_ctx *c, const srv_cmdent *e)
{
    if (c->argc == 2)
        return true; /* no names: every command that ran */
    for (size_t a = 2; a < c->argc; a++)
        if (srv_arg_is(&c->argv[a], e->def->name))
            return true;
    return false;
}

static bool ran(const uint64_t *lat)
{
    for (int b = 0; b < SRV_LAT_BUCKETS; b++)
        if (lat[b])
            return true;
    return false;
}

static void latency_histogram(srv_exec *x)
{
    const srv_server *s = x->srv;
    size_t n = 0;
    uint64_t lat[SRV_LAT_BUCKETS];
    /* Which commands to list is decided once: one that first runs while
     * this reply is written is left for the next call (the map's size is
     * written first). */
    bool *want = calloc(s->cmds.count ? s->cmds.count : 1, sizeof(*want));
    if (!want) {
        srv_reply_oom(x->c->w);
        return;
    }
    for (size_t k = 0; k < s->cmds.count; k++) {
        if (!asked(x->c, &s->cmds.ents[k]))
            continue;
        sum_buckets(s, k, lat);
        want[k] = ran(lat);
        n += want[k];
    }
    resp_map(x->c->w, n);
    for (size_t k = 0; k < s->cmds.count; k++) {
        if (!want[k])
            continue;
        sum_buckets(s, k, lat); /* counts only grow: still non-empty */
        reply_one(x, k, lat);
    }
    free(want);
}

static void latency_help(srv_exec *x)
{
    static const char *const lines[] = {
        "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "HISTOGRAM [COMMAND ...]",
        ("    Return a cumulative distribution of latencies in the format "
         "of a histogram for the specified command names."),
        "    If no commands are specified then all histograms are replied.",
        "HELP",
        "    Print this help.",
    };
    resp_array(x->c->w, sizeof(lines) / sizeof(lines[0]));
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        resp_simple(x->c->w, lines[i]);
}

static void cmd_latency(srv_exec *x)
{
    const cmd_ctx *c = x->c;
    if (srv_arg_is(&c->argv[1], "histogram"))
        latency_histogram(x);
    else if (srv_arg_is(&c->argv[1], "help") && c->argc == 2)
        latency_help(x);
    else if (srv_arg_is(&c->argv[1], "latest") ||
             srv_arg_is(&c->argv[1], "history") ||
             srv_arg_is(&c->argv[1], "reset") ||
             srv_arg_is(&c->argv[1], "graph") ||
             srv_arg_is(&c->argv[1], "doctor"))
        resp_error(c->w, "ERR the latency monitor is not implemented: "
                         "LATENCY HISTOGRAM reports command latencies");
    else
        srv_reply_unknown_sub(x, "LATENCY");
}

static const srv_subcmd subs[] = {
    {"histogram", -2, 0, 0,
     "Returns the cumulative distribution of latencies of a subset or all "
     "commands."},
    {"help", 2, 0, 0,
     "Returns helpful text about the different subcommands."},
    {NULL, 0, 0, 0, NULL},
};

static const srv_cmd cmds[] = {
    {{"latency", -2, 0, 0, 0, 0, CMD_SPLIT_NONE, NULL, "server",
      "A container for latency diagnostics commands.", "2.8.13"},
     cmd_latency,
     SRV_CMD_PUBLISHED,
     subs},
};

const srv_cmd *srv_cmds_latency(size_t *n)
{
    *n = sizeof(cmds) / sizeof(cmds[0]);
    return cmds;
}
