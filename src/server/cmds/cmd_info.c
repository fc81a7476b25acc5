/*
 * cmd_info.c — INFO [section ...], in Redis 7's layout ("# Section" headers,
 * "field:value" lines, CRLF, a blank line between sections), with Redis
 * 7.0's default sections in its order. Every field is measured or states
 * what runs (maxmemory:0 = no limit, ...);
 * what we cannot measure (avg_ttl) is left out rather
 * than made up.
 *
 * Threads: INFO runs inline on the client's worker, without parking the
 * others: keyspace and memory come from the per-worker figures each worker
 * publishes (pubstats.h), everything else from atomics.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fastcache.h"
#include "server/script.h"
#include "server/lazyfree.h"
#include "server/pubstats.h"
#include "server/pubsub.h"
#include "server/replication.h"
#include "server/server.h"
#include "server/srvcmd.h"
#include "server/worker.h"

#define add srv_info_line

void srv_info_line(fc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fc_buf_vprintf(b, fmt, ap);
    va_end(ap);
    fc_buf_append(b, "\r\n", 2);
}

static uint64_t sum_stat(const srv_server *s, size_t off)
{
    uint64_t t = 0;
    for (uint32_t i = 0; i < s->nworkers; i++)
        t += atomic_load((_Atomic uint64_t *)((char *)&s->workers[i] + off));
    return t;
}

#define SUM(s, field) sum_stat(s, offsetof(srv_worker, field))

static void human(char *out, size_t n, uint64_t v)
{
    const char *u = "BKMGTP";
    double d = (double)v;
    int i = 0;
    while (d >= 1024 && i < 5) {
        d /= 1024;
        i++;
    }
    if (i == 0)
        snprintf(out, n, "%lluB", (unsigned long long)v);
    else
        snprintf(out, n, "%.2f%c", d, u[i]);
}

static void sec_server(srv_exec *x, fc_buf *b)
{
    srv_server *s = x->srv;
    struct utsname un;
    struct timeval tv;
    uname(&un);
    gettimeofday(&tv, NULL);
    int64_t up = (x->w->now - s->start_mono_ms) / 1000;
    char exe[512];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    add(b, "# Server");
    add(b, "redis_version:%s", SRV_VERSION);
    add(b, "redis_git_sha1:00000000");
    add(b, "redis_git_dirty:0");
    add(b, "redis_build_id:0");
    add(b, "redis_mode:standalone");
    add(b, "os:%s %s %s", un.sysname, un.release, un.machine);
    add(b, "arch_bits:%d", (int)(sizeof(void *) * 8));
    add(b, "multiplexing_api:%s", s->be->name);
#ifdef __VERSION__
    add(b, "gcc_version:%s", __VERSION__);
#endif
    add(b, "process_id:%d", (int)getpid());
    add(b, "process_supervised:no");
    add(b, "run_id:%s", s->run_id);
    add(b, "tcp_port:%d", s->cfg.port);
    add(b, "server_time_usec:%lld",
        (long long)tv.tv_sec * 1000000 + tv.tv_usec);
    add(b, "uptime_in_seconds:%lld", (long long)up);
    add(b, "uptime_in_days:%lld", (long long)(up / 86400));
    int64_t ms = s->cfg.ttl_sweep_interval_ms;
    add(b, "hz:%lld", (long long)(ms > 0 ? (1000 + ms / 2) / ms : 10));
    add(b, "configured_hz:%lld",
        (long long)(ms > 0 ? (1000 + ms / 2) / ms : 10));
    add(b, "executable:%s", exe);
    add(b, "config_file:%s", s->cfg.config_file ? s->cfg.config_file : "");
    add(b, "io_threads_active:0");
    add(b, "fast_cache_version:%s", FC_VERSION_STRING);
    add(b, "threads:%u", s->nworkers);
    add(b, "shards:%u", s->nshards);
}

static void sec_clients(srv_exec *x, fc_buf *b)
{
    srv_server *s = x->srv;
    add(b, "# Clients");
    add(b, "connected_clients:%u", atomic_load(&s->nclients));
    add(b, "cluster_connections:0");
    add(b, "maxclients:%u", s->cfg.maxclients);
    /* Blocked in BLPOP & co (blocking.h): the registry's count. */
    uint64_t blocked = atomic_load_explicit(&s->blk_waiting,
                                            memory_order_relaxed);
    add(b, "blocked_clients:%llu", (unsigned long long)blocked);
    add(b, "tracking_clients:0");
    add(b, "clients_in_timeout_table:0");
}

static uint64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, res = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%llu %llu", &size, &res) != 2)
        res = 0;
    fclose(f);
    return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* used_memory is the engine's own accounting (entry blocks as allocated,
 * table arrays: what maxmemory counts), summed from the figures every
 * worker publishes; the peak is the maximum the shared budget's total
 * reached (taken in steps of at most 4 KiB per shard, src/engine/evict.c).
 * mem_fragmentation_ratio is RSS over used_memory: the slab's page slack,
 * the connections' buffers (mem_clients_normal),
 * malloc's and everything else the process holds. The RSS peak is the
 * kernel's (ru_maxrss). */
static void sec_memory(srv_exec *x, fc_buf *b)
{
    srv_server *s = x->srv;
    srv_keyspace ks = {0};
    if (!atomic_load(&s->loading)) /* the main thread owns the shards */
        srv_pub_sum(x->w, &ks);
    uint64_t used = ks.memory, rss = rss_bytes();
    uint64_t peak = eng_budget_peak(&s->budget);
    uint64_t limit = atomic_load(&s->budget.limit);
    if (peak < used)
        peak = used;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    uint64_t rss_peak = (uint64_t)ru.ru_maxrss * 1024;
    char h1[32], h2[32], h3[32], h4[32], h5[32];
    human(h1, sizeof(h1), used);
    human(h2, sizeof(h2), rss);
    human(h3, sizeof(h3), rss_peak);
    human(h4, sizeof(h4), peak);
    human(h5, sizeof(h5), limit);
    add(b, "# Memory");
    add(b, "used_memory:%llu", (unsigned long long)used);
    add(b, "used_memory_human:%s", h1);
    add(b, "used_memory_rss:%llu", (unsigned long long)rss);
    add(b, "used_memory_rss_human:%s", h2);
    add(b, "used_memory_peak:%llu", (unsigned long long)peak);
    add(b, "used_memory_peak_human:%s", h4);
    add(b, "used_memory_rss_peak:%llu", (unsigned long long)rss_peak);
    add(b, "used_memory_rss_peak_human:%s", h3);
    add(b, "used_memory_dataset:%llu", (unsigned long long)used);
    /* Scripting (script.h): every worker's Lua state as of its last
     * script, and the cache's bodies. */
    uint64_t lua = srv_script_lua_memory(s);
    size_t nscripts, script_bytes;
    srv_script_cache_stats(s->scripts, &nscripts, &script_bytes);
    char h6[32];
    human(h6, sizeof(h6), lua);
    add(b, "used_memory_lua:%llu", (unsigned long long)lua);
    add(b, "used_memory_vm_eval:%llu", (unsigned long long)lua);
    add(b, "used_memory_lua_human:%s", h6);
    add(b, "used_memory_scripts_eval:%zu", script_bytes);
    add(b, "number_of_cached_scripts:%zu", nscripts);
    /* Not in used_memory (nor in what maxmemory counts), unlike Redis:
     * each worker sums its connections (struct, read and write buffers)
     * on its sweep tick; this worker's own is summed now. */
    srv_worker_pub_clients(x->w);
    uint64_t clients = 0;
    for (uint32_t i = 0; i < s->nworkers; i++)
        clients += atomic_load_explicit(&s->workers[i].pub_clients_mem,
                                        memory_order_relaxed);
    add(b, "mem_clients_normal:%llu", (unsigned long long)clients);
    add(b, "maxmemory:%llu", (unsigned long long)limit);
    add(b, "maxmemory_human:%s", h5);
    add(b, "maxmemory_policy:%s",
        eng_policy_name(atomic_load(&s->budget.policy)));
    add(b, "mem_fragmentation_ratio:%.2f",
        used ? (double)rss / (double)used : 0.0);
    /* The slab's own figures (src/engine/slab.h), from every worker's last
     * sweep tick (this worker's now): pages mapped, their bytes written
     * and not given back (what they can hold resident), the live chunks,
     * entries on malloc (over 512 B, or of a class too rare in its shard
     * for a page); and what defragmentation has done. */
    eng_mem_stats ms;
    srv_pub_mem_sum(x->w, &ms);
    add(b, "fc_slab_page_bytes:%llu", (unsigned long long)ms.slab_pages_bytes);
    add(b, "fc_slab_resident_bytes:%llu",
        (unsigned long long)ms.slab_resident_bytes);
    add(b, "fc_slab_live_bytes:%llu", (unsigned long long)ms.slab_live_bytes);
    add(b, "fc_slab_frag_ratio:%.2f",
        ms.slab_live_bytes
            ? (double)ms.slab_resident_bytes / (double)ms.slab_live_bytes
            : 0.0);
    add(b, "fc_heap_entry_bytes:%llu", (unsigned long long)ms.heap_bytes);
    add(b, "fc_activedefrag:%s", s->cfg.activedefrag ? "yes" : "no");
    add(b, "fc_defrag_moved:%llu", (unsigned long long)ms.defrag_moved);
    add(b, "fc_defrag_pages_freed:%llu",
        (unsigned long long)ms.defrag_pages_freed);
    add(b, "fc_defrag_trimmed_bytes:%llu",
        (unsigned long long)ms.defrag_trimmed_bytes);
    /* glibc's view (mallinfo2: walks its free lists, fine for INFO): what
     * its arenas hold from the system and how much of that is free. */
    struct mallinfo2 mi = mallinfo2();
    add(b, "fc_malloc_arena_bytes:%llu",
        (unsigned long long)(mi.arena + mi.hblkhd));
    add(b, "fc_malloc_free_bytes:%llu", (unsigned long long)mi.fordblks);
    add(b, "mem_allocator:libc");
    add(b, "lazyfree_pending_objects:%llu",
        (unsigned long long)srv_lazyfree_pending());
}

static void sec_persistence(srv_exec *x, fc_buf *b)
{
    srv_info_persistence(x->srv, b);
}

static void sec_stats(srv_exec *x, fc_buf *b)
{
    srv_server *s = x->srv;
    add(b, "# Stats");
    add(b, "total_connections_received:%llu",
        (unsigned long long)atomic_load(&s->stat_conn_received));
    add(b, "total_commands_processed:%llu",
        (unsigned long long)SUM(s, stat_cmds));
    add(b, "instantaneous_ops_per_sec:%llu",
        (unsigned long long)SUM(s, stat_inst_ops));
    add(b, "total_net_input_bytes:%llu",
        (unsigned long long)SUM(s, stat_net_in));
    add(b, "total_net_output_bytes:%llu",
        (unsigned long long)SUM(s, stat_net_out));
    add(b, "rejected_connections:%llu",
        (unsigned long long)atomic_load(&s->stat_rejected_conn));
    add(b, "expired_keys:%llu", (unsigned long long)SUM(s, stat_expired));
    add(b, "evicted_keys:%llu",
        (unsigned long long)atomic_load(&s->budget.evicted));
    add(b, "lazyfreed_objects:%llu", (unsigned long long)srv_lazyfree_done());
    add(b, "keyspace_hits:%llu", (unsigned long long)SUM(s, stat_hits));
    add(b, "keyspace_misses:%llu", (unsigned long long)SUM(s, stat_misses));
    add(b, "pubsub_channels:%zu", srv_ps_total(s, SRV_PS_CHAN));
    add(b, "pubsub_patterns:%zu", srv_ps_total(s, SRV_PS_PAT));
    add(b, "pubsubshard_channels:%zu", srv_ps_total(s, SRV_PS_SHARD));
    uint64_t errors = 0;
    for (uint32_t i = 0; i < s->nworkers; i++)
        errors += atomic_load_explicit(&s->workers[i].stat_errors,
                                       memory_order_relaxed);
    add(b, "total_error_replies:%llu", (unsigned long long)errors);
    add(b, "client_output_buffer_limit_disconnections:%llu",
        (unsigned long long)SUM(s, stat_obuf_disconn));
    add(b, "exclusive_sections:%llu", (unsigned long long)SUM(s, rt.stat_excl));
}

/* The default policy's levels (engine/evict.c; docs/ARCHITECTURE.md):
 * keys now at each level (exact), the level's capacity (the [tiers] key,
 * as divided among the shards), hits (accessed bits the hand found on the
 * level's entries: reads between two passes of the hand count once),
 * promotions into and demotions out of the level. Under another policy
 * every key is cold. Other workers' figures are as of their last tick. */
static void sec_tiers(srv_exec *x, fc_buf *b)
{
    static const char *const names[ENG_TIERS] = {"cold", "warm", "hot"};
    eng_tier_stats t[ENG_TIERS];
    srv_pub_tier_sum(x->w, t);
    add(b, "# Tiers");
    add(b, "tier_promotion_batch:%u", x->srv->cfg.tiers.promotion_batch);
    for (int l = ENG_TIER_HOT; l >= ENG_TIER_COLD; l--) {
        add(b, "tier_%s_keys:%llu", names[l], (unsigned long long)t[l].keys);
        add(b, "tier_%s_capacity:%llu", names[l],
            (unsigned long long)t[l].capacity);
        add(b, "tier_%s_hits:%llu", names[l], (unsigned long long)t[l].hits);
        add(b, "tier_%s_promotions:%llu", names[l],
            (unsigned long long)t[l].promotions);
        add(b, "tier_%s_demotions:%llu", names[l],
            (unsigned long long)t[l].demotions);
    }
}

static void sec_replication(srv_exec *x, fc_buf *b)
{
    srv_repl_info(x->srv, b);
}

static void sec_cpu(srv_exec *x, fc_buf *b)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    add(b, "# CPU");
    add(b, "used_cpu_sys:%ld.%06ld", (long)ru.ru_stime.tv_sec,
        (long)ru.ru_stime.tv_usec);
    add(b, "used_cpu_user:%ld.%06ld", (long)ru.ru_utime.tv_sec,
        (long)ru.ru_utime.tv_usec);
    getrusage(RUSAGE_CHILDREN, &ru);
    add(b, "used_cpu_sys_children:%ld.%06ld", (long)ru.ru_stime.tv_sec,
        (long)ru.ru_stime.tv_usec);
    add(b, "used_cpu_user_children:%ld.%06ld", (long)ru.ru_utime.tv_sec,
        (long)ru.ru_utime.tv_usec);
}

static void sec_modules(srv_exec *x, fc_buf *b)
{
    (void)x; /* no module system: the section is empty, as Redis's is */
    add(b, "# Modules");
}

/* Sums every worker's table, merging prefixes. The workers keep counting
 * meanwhile (worker.h: a slot's name is published by its count). */
static void sec_errorstats(srv_exec *x, fc_buf *b)
{
    srv_server *s = x->srv;
    struct {
        char name[SRV_ERRSTAT_NAME];
        uint64_t count;
    } all[SRV_ERRSTAT_MAX];
    size_t n = 0;
    for (uint32_t i = 0; i < s->nworkers; i++) {
        const srv_errstat *t = s->workers[i].errstats;
        for (int k = 0; k < SRV_ERRSTAT_MAX; k++) {
            uint64_t c = atomic_load_explicit(&t[k].count, memory_order_acquire);
            if (!c)
                break;
            size_t j = 0;
            while (j < n && strcmp(all[j].name, t[k].name))
                j++;
            if (j == n && n == SRV_ERRSTAT_MAX)
                continue;
            if (j == n) {
                memcpy(all[j].name, t[k].name, sizeof(all[j].name));
                all[n++].count = 0;
            }
            all[j].count += c;
        }
    }
    add(b, "# Errorstats");
    for (size_t j = 0; j < n; j++)
        add(b, "errorstat_%s:count=%llu", all[j].name,
            (unsigned long long)all[j].count);
}

static void sec_cluster(srv_exec *x, fc_buf *b)
{
    (void)x;
    add(b, "# Cluster");
    add(b, "cluster_enabled:0");
}

static void sec_commandstats(srv_exec *x, fc_buf *b)
{
    srv_server *s = x->srv;
    add(b, "# Commandstats");
    for (size_t k = 0; k < s->cmds.count; k++) {
        uint64_t calls = 0, nsec = 0, rej = 0, fail = 0;
        for (uint32_t i = 0; i < s->nworkers; i++) {
            srv_cmdstat *st = &s->workers[i].cmdstats[k];
            calls += atomic_load(&st->calls);
            nsec += atomic_load(&st->nsec);
            rej += atomic_load(&st->rejected);
            fail += atomic_load(&st->failed);
        }
        if (!calls && !rej && !fail)
            continue;
        uint64_t usec = nsec / 1000;
        add(b,
            "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,"
            "rejected_calls=%llu,failed_calls=%llu",
            s->cmds.ents[k].def->name, (unsigned long long)calls,
            (unsigned long long)usec,
            calls ? (double)nsec / 1000.0 / (double)calls : 0.0,
            (unsigned long long)rej, (unsigned long long)fail);
    }
}

/* Redis 7's latency_percentiles_usec_<cmd>:p50=..,p99=..,p99.9=.. from
 * the buckets every worker fills as it times commands (worker.h; the same
 * counters as LATENCY HISTOGRAM and /metrics): each percentile is the
 * upper bound of its bucket, a power of two of microseconds, where Redis's
 * HDR histogram is finer. Not a default section, as in Redis. */
static void sec_latencystats(srv_exec *x, fc_buf *b)
{
    srv_server *s = x->srv;
    static const uint64_t qs[] = {5000, 9900, 9990};
    add(b, "# Latencystats");
    for (size_t k = 0; k < s->cmds.count; k++) {
        uint64_t lat[SRV_LAT_BUCKETS] = {0};
        for (uint32_t i = 0; i < s->nworkers; i++)
            for (int l = 0; l < SRV_LAT_BUCKETS; l++)
                lat[l] += atomic_load_explicit(
                    &s->workers[i].cmdstats[k].lat[l], memory_order_relaxed);
        int at[3];
        for (int q = 0; q < 3; q++)
            at[q] = srv_lat_quantile(lat, qs[q]);
        if (at[0] < 0)
            continue; /* never ran */
        add(b,
            "latency_percentiles_usec_%s:p50=%llu.000,p99=%llu.000,"
            "p99.9=%llu.000",
            s->cmds.ents[k].def->name, 1ULL << at[0], 1ULL << at[1],
            1ULL << at[2]);
    }
}

static void sec_keyspace(srv_exec *x, fc_buf *b)
{
    srv_keyspace ks = {0};
    if (!atomic_load(&x->srv->loading)) /* the main thread owns the shards */
        srv_pub_sum(x->w, &ks);
    uint64_t keys = ks.keys, expires = ks.expires;
    add(b, "# Keyspace");
    if (keys)
        add(b, "db0:keys=%llu,expires=%llu", (unsigned long long)keys,
            (unsigned long long)expires); /* avg_ttl: not measured */
}

typedef struct section {
    const char *name;
    void (*fn)(srv_exec *x, fc_buf *b);
    bool in_default;
} section;

/* Redis 7.0's order (genInfoString); commandstats is not a default
 * section there either. */
static const section sections[] = {
    {"server", sec_server, true},
    {"clients", sec_clients, true},
    {"memory", sec_memory, true},
    {"persistence", sec_persistence, true},
    {"stats", sec_stats, true},
    {"replication", sec_replication, true},
    {"cpu", sec_cpu, true},
    {"modules", sec_modules, true},
    {"commandstats", sec_commandstats, false},
    {"errorstats", sec_errorstats, true},
    {"latencystats", sec_latencystats, false}, /* Redis's place for it */
    {"cluster", sec_cluster, true},
    {"keyspace", sec_keyspace, true},
    /* Ours, not in the default set (whose layout is Redis's): INFO tiers,
     * all or everything. */
    {"tiers", sec_tiers, false},
};
#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

static void cmd_info(srv_exec *x)
{
    cmd_ctx *c = x->c;
    bool want[NSECTIONS] = {false};
    if (c->argc == 1)
        for (size_t i = 0; i < NSECTIONS; i++)
            want[i] = sections[i].in_default;
    for (size_t a = 1; a < c->argc; a++) {
        bool all = srv_arg_is(&c->argv[a], "all") ||
                   srv_arg_is(&c->argv[a], "everything");
        bool def = srv_arg_is(&c->argv[a], "default");
        for (size_t i = 0; i < NSECTIONS; i++)
            if (all || (def && sections[i].in_default) ||
                srv_arg_is(&c->argv[a], sections[i].name))
                want[i] = true;
    }
    fc_buf b = {0};
    for (size_t i = 0; i < NSECTIONS; i++) {
        if (!want[i])
            continue;
        if (b.len)
            fc_buf_append(&b, "\r\n", 2);
        sections[i].fn(x, &b);
    }
    if (b.oom)
        resp_error(c->w, "ERR out of memory");
    else
        resp_verbatim(c->w, "txt", b.data ? b.data : "", b.len);
    fc_buf_free(&b);
}

static const srv_cmd cmds[] = {
    /* loading, stale as Redis: scripts may call INFO (not noscript). */
    {{"info", -1, CMD_LOADING | CMD_STALE, 0, 0, 0, CMD_SPLIT_NONE, NULL,
      "server",
      "Returns information and statistics about the server.", "1.0.0"},
     cmd_info,
     SRV_CMD_PUBLISHED,
     NULL},
};

const srv_cmd *srv_cmds_info(size_t *n)
{
    *n = sizeof(cmds) / sizeof(cmds[0]);
    return cmds;
}
