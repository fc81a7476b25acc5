/*
 * cmd_config.c — CONFIG GET / SET / RESETSTAT / REWRITE / HELP over the
 * parameters that exist here, under Redis's names.
 *
 * Threads: CONFIG SET and RESETSTAT run exclusively (every other worker
 * parked: they write state all workers read); CONFIG GET runs inline, which
 * is safe because a SET can only happen while this worker is parked.
 */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/obj.h"
#include "server/config/log.h"
#include "server/config/obuf_limit.h"
#include "server/pubstats.h"
#include "server/server.h"
#include "server/srvcmd.h"
#include "server/worker.h"

typedef struct param param;
/* Writes the value into buf; returns buf or a static string. */
typedef const char *(*param_get)(srv_server *s, char *buf, size_t len);
/* NULL when v is valid (and, with apply, then set), else the reason
 * (Redis's wording after " - "). CONFIG SET first calls every setter of
 * the request without apply, so that it applies all values or none. */
typedef const char *(*param_set)(srv_server *s, const char *v, bool apply);

struct param {
    const char *name;
    param_get get;
    param_set set;    /* NULL: cannot be set at run time */
    bool unsupported; /* Redis sets it at run time, we do not */
};

static const char *g_bind(srv_server *s, char *b, size_t n)
{
    return s->cfg.bind;
}

static const char *g_port(srv_server *s, char *b, size_t n)
{
    snprintf(b, n, "%d", s->cfg.port);
    return b;
}

static const char *g_maxclients(srv_server *s, char *b, size_t n)
{
    snprintf(b, n, "%u", s->cfg.maxclients);
    return b;
}

static const char *s_maxclients(srv_server *s, const char *v, bool apply)
{
    int64_t x;
    if (srv_parse_i64(v, 1, 1000000, &x))
        return "argument couldn't be parsed into an integer";
    if (apply)
        s->cfg.maxclients = (uint32_t)x;
    return NULL;
}

static const char *g_requirepass(srv_server *s, char *b, size_t n)
{
    return s->cfg.requirepass ? s->cfg.requirepass : "";
}

static const char *s_requirepass(srv_server *s, const char *v, bool apply)
{
    if (!apply)
        return NULL;
    char *p = *v ? strdup(v) : NULL;
    if (*v && !p)
        return "out of memory";
    free(s->cfg.requirepass);
    s->cfg.requirepass = p;
    return NULL;
}

static const char *g_save(srv_server *s, char *b, size_t n)
{
    return ""; /* no RDB snapshots */
}

static const char *s_save(srv_server *s, const char *v, bool apply)
{
    return *v ? "snapshotting (save) is not supported" : NULL;
}

static const char *g_no(srv_server *s, char *b, size_t n)
{
    return "no";
}

/* The WAL plays the AOF's part: its state is what a Redis tool asks for. */
static const char *g_appendonly(srv_server *s, char *b, size_t n)
{
    return s->cfg.persistence.enabled ? "yes" : "no";
}

static const char *s_appendonly(srv_server *s, const char *v, bool apply)
{
    bool want = !strcasecmp(v, "yes");
    if (!want && strcasecmp(v, "no"))
        return "argument must be 'yes' or 'no'";
    return want == s->cfg.persistence.enabled
               ? NULL
               : "persistence is chosen at start (--data-dir, --persistence)";
}

static const char *g_defrag(srv_server *s, char *b, size_t n)
{
    return s->cfg.activedefrag ? "yes" : "no";
}

/* Read by the workers on their sweep tick: a plain bool, as hz's interval;
 * a tick that sees the old value defragments once more (or once less). */
static const char *s_defrag(srv_server *s, const char *v, bool apply)
{
    bool want = !strcasecmp(v, "yes");
    if (!want && strcasecmp(v, "no"))
        return "argument must be 'yes' or 'no'";
    if (apply)
        s->cfg.activedefrag = want;
    return NULL;
}

static const char *g_appendfsync(srv_server *s, char *b, size_t n)
{
    const char *f = s->cfg.persistence.fsync ? s->cfg.persistence.fsync : "";
    return !strcmp(f, "interval") ? "everysec" : f; /* Redis's names */
}

static const char *g_dir(srv_server *s, char *b, size_t n)
{
    return s->cfg.persistence.data_dir ? s->cfg.persistence.data_dir : "";
}

static const char *g_one(srv_server *s, char *b, size_t n)
{
    return "1";
}

static const char *g_zero(srv_server *s, char *b, size_t n)
{
    return "0";
}

static const char *g_bulk_len(srv_server *s, char *b, size_t n)
{
    snprintf(b, n, "%zu", s->cfg.proto_max_bulk_len);
    return b;
}

static const char *s_bulk_len(srv_server *s, const char *v, bool apply)
{
    size_t x;
    if (srv_parse_memory(v, &x) || x < 1024)
        return "argument must be a memory value";
    if (apply)
        s->cfg.proto_max_bulk_len = x;
    return NULL;
}

static const char *g_qbuf(srv_server *s, char *b, size_t n)
{
    snprintf(b, n, "%zu", s->cfg.client_query_buffer_limit);
    return b;
}

static const char *s_qbuf(srv_server *s, const char *v, bool apply)
{
    size_t x;
    if (srv_parse_memory(v, &x) || x < 1024 * 1024)
        return "argument must be a memory value";
    if (apply)
        s->cfg.client_query_buffer_limit = x;
    return NULL;
}

/* hz is the active-expiry frequency: ttl_sweep_interval_ms = 1000 / hz. */
static const char *g_hz(srv_server *s, char *b, size_t n)
{
    int64_t ms = s->cfg.ttl_sweep_interval_ms;
    snprintf(b, n, "%lld", (long long)(ms > 0 ? (1000 + ms / 2) / ms : 10));
    return b;
}

static const char *s_hz(srv_server *s, const char *v, bool apply)
{
    int64_t hz;
    if (srv_parse_i64(v, 1, 500, &hz))
        return "argument couldn't be parsed into an integer";
    if (apply)
        s->cfg.ttl_sweep_interval_ms = 1000 / hz;
    return NULL;
}

static const char *g_loglevel(srv_server *s, char *b, size_t n)
{
    return srv_loglevel_name(s->cfg.loglevel);
}

static const char *s_loglevel(srv_server *s, const char *v, bool apply)
{
    int level;
    if (srv_parse_loglevel(v, &level))
        return "argument(s) must be one of the following: debug, verbose, "
               "notice, warning";
    if (apply) {
        s->cfg.loglevel = level;
        srv_log_set_level(level);
    }
    return NULL;
}

static const char *g_maxmemory(srv_server *s, char *b, size_t n)
{
    snprintf(b, n, "%llu", (unsigned long long)atomic_load(&s->budget.limit));
    return b;
}

/* A lower limit evicts down to it now, over every shard (CONFIG SET runs
 * with every other worker parked), a batch per shard per round so that
 * the shards shrink alike. Under noeviction (or a volatile policy out of
 * keys with a TTL) it stops where it must; later writes get -OOM. */
static void evict_down(srv_server *s)
{
    int64_t now = eng_now_ms();
    size_t total = 0;
    for (;;) {
        size_t removed = 0;
        for (uint32_t i = 0; i < s->nshards; i++)
            removed += eng_evict(s->shards[i], 64, now);
        total += removed;
        if (!removed)
            break;
    }
    if (total)
        srv_pub_refresh_all(s);
}

static const char *s_maxmemory(srv_server *s, const char *v, bool apply)
{
    size_t x;
    if (srv_parse_memory(v, &x))
        return "argument must be a memory value";
    if (apply) {
        s->cfg.maxmemory = x;
        atomic_store(&s->budget.limit, (uint64_t)x);
        if (x)
            evict_down(s);
    }
    return NULL;
}

static const char *g_policy(srv_server *s, char *b, size_t n)
{
    return eng_policy_name(atomic_load(&s->budget.policy));
}

static const char *s_policy(srv_server *s, const char *v, bool apply)
{
    enum eng_policy p;
    if (eng_policy_parse(v, &p))
        return "argument(s) must be one of the following: " SRV_POLICY_NAMES;
    if (apply) {
        s->cfg.maxmemory_policy = (int)p;
        atomic_store(&s->budget.policy, (int)p);
    }
    return NULL;
}

/* Integer settings of the budget, with their bounds. */
static const struct {
    const char *name;
    int min, max;
} budget_ints[] = {
    {"maxmemory-samples", 1, 64},
    {"lfu-log-factor", 0, 1 << 30},
    {"lfu-decay-time", 0, 1 << 30},
};

static _Atomic int *budget_int(srv_server *s, int which)
{
    return which == 0   ? &s->budget.samples
           : which == 1 ? &s->budget.lfu_log_factor
                        : &s->budget.lfu_decay_time;
}

static const char *g_bint(srv_server *s, char *b, size_t n, int which)
{
    snprintf(b, n, "%d", atomic_load(budget_int(s, which)));
    return b;
}

static const char *s_bint(srv_server *s, const char *v, bool apply, int which)
{
    int64_t x;
    if (srv_parse_i64(v, budget_ints[which].min, budget_ints[which].max, &x))
        return "argument couldn't be parsed into an integer or is out of "
               "range";
    if (apply)
        atomic_store(budget_int(s, which), (int)x);
    return NULL;
}

#define BUDGET_INT(i, gname, sname)                                            \
    static const char *gname(srv_server *s, char *b, size_t n)                 \
    {                                                                          \
        return g_bint(s, b, n, i);                                             \
    }                                                                          \
    static const char *sname(srv_server *s, const char *v, bool apply)         \
    {                                                                          \
        return s_bint(s, v, apply, i);                                         \
    }
BUDGET_INT(0, g_samples, s_samples)
BUDGET_INT(1, g_lfu_factor, s_lfu_factor)
BUDGET_INT(2, g_lfu_decay, s_lfu_decay)

/* [tiers]: whole-server entries per level and promotion_batch; a new
 * value is divided among the shards at once (engine/evict.c). */
static uint64_t *tier_field(srv_server *s, int which)
{
    return which == 0   ? &s->cfg.tiers.hot_capacity
           : which == 1 ? &s->cfg.tiers.warm_capacity
                        : &s->cfg.tiers.cold_capacity;
}

static const char *g_tier(srv_server *s, char *b, size_t n, int which)
{
    if (which == 3)
        snprintf(b, n, "%u", s->cfg.tiers.promotion_batch);
    else
        snprintf(b, n, "%llu", (unsigned long long)*tier_field(s, which));
    return b;
}

static const char *s_tier(srv_server *s, const char *v, bool apply, int which)
{
    int64_t x;
    if (srv_parse_i64(v, 1, which == 3 ? 1 << 30 : UINT32_MAX, &x))
        return "argument couldn't be parsed into an integer > 0 or is out "
               "of range";
    if (!apply)
        return NULL;
    if (which == 3)
        s->cfg.tiers.promotion_batch = (uint32_t)x;
    else
        *tier_field(s, which) = (uint64_t)x;
    eng_budget_set_tiers(&s->budget, s->cfg.tiers.hot_capacity,
                         s->cfg.tiers.warm_capacity, s->cfg.tiers.cold_capacity,
                         s->cfg.tiers.promotion_batch, s->nshards);
    return NULL;
}

#define TIER_PARAM(i, gname, sname)                                            \
    static const char *gname(srv_server *s, char *b, size_t n)                 \
    {                                                                          \
        return g_tier(s, b, n, i);                                             \
    }                                                                          \
    static const char *sname(srv_server *s, const char *v, bool apply)         \
    {                                                                          \
        return s_tier(s, v, apply, i);                                         \
    }
TIER_PARAM(0, g_hot_cap, s_hot_cap)
TIER_PARAM(1, g_warm_cap, s_warm_cap)
TIER_PARAM(2, g_cold_cap, s_cold_cap)
TIER_PARAM(3, g_promo_batch, s_promo_batch)

/* Encoding thresholds of the typed values (engine/obj.h), process-wide. */
static const struct {
    _Atomic long *v;
    long min, max;
} enc_ints[] = {
    {&eng_limits.hash_max_listpack_entries, 0, 1L << 30},
    {&eng_limits.hash_max_listpack_value, 0, 1L << 30},
    {&eng_limits.set_max_intset_entries, 0, 1L << 30},
    {&eng_limits.set_max_listpack_entries, 0, 1L << 30},
    {&eng_limits.set_max_listpack_value, 0, 1L << 30},
    {&eng_limits.zset_max_listpack_entries, 0, 1L << 30},
    {&eng_limits.zset_max_listpack_value, 0, 1L << 30},
    {&eng_limits.list_max_listpack_size, INT32_MIN, INT32_MAX},
};

static const char *g_eint(char *b, size_t n, int which)
{
    snprintf(b, n, "%ld", eng_limit(enc_ints[which].v));
    return b;
}

static const char *s_eint(const char *v, bool apply, int which)
{
    int64_t x;
    if (srv_parse_i64(v, enc_ints[which].min, enc_ints[which].max, &x))
        return "argument couldn't be parsed into an integer or is out of "
               "range";
    if (apply)
        atomic_store_explicit(enc_ints[which].v, (long)x,
                              memory_order_relaxed);
    return NULL;
}

#define ENC_INT(i, gname, sname)                                               \
    static const char *gname(srv_server *s, char *b, size_t n)                 \
    {                                                                          \
        return g_eint(b, n, i);                                                \
    }                                                                          \
    static const char *sname(srv_server *s, const char *v, bool apply)         \
    {                                                                          \
        return s_eint(v, apply, i);                                            \
    }
ENC_INT(0, g_hash_entries, s_hash_entries)
ENC_INT(1, g_hash_value, s_hash_value)
ENC_INT(2, g_intset_entries, s_intset_entries)
ENC_INT(3, g_set_entries, s_set_entries)
ENC_INT(4, g_set_value, s_set_value)
ENC_INT(5, g_zset_entries, s_zset_entries)
ENC_INT(6, g_zset_value, s_zset_value)
ENC_INT(7, g_list_size, s_list_size)

static const char *g_threads(srv_server *s, char *b, size_t n)
{
    snprintf(b, n, "%u", s->nworkers);
    return b;
}

static const char *g_shards(srv_server *s, char *b, size_t n)
{
    snprintf(b, n, "%u", s->nshards);
    return b;
}

static const char *g_obuf(srv_server *s, char *b, size_t n)
{
    srv_obuf_format(s->cfg.obuf_limits, b, n);
    return b;
}

static const char *s_obuf(srv_server *s, const char *v, bool apply)
{
    /* Parsed into a copy first: a bad value changes nothing. */
    srv_obuf_class tmp[SRV_OBUF_NCLASS];
    memcpy(tmp, s->cfg.obuf_limits, sizeof(tmp));
    const char *why = srv_obuf_parse(v, tmp);
    if (!why && apply)
        memcpy(s->cfg.obuf_limits, tmp, sizeof(tmp));
    return why;
}

static const char *g_io(srv_server *s, char *b, size_t n)
{
    return s->be->name;
}

/* busy-reply-threshold (alias lua-time-limit): when a running script
 * starts answering -BUSY to other workers' clients (script.h). */
static const char *g_busy(srv_server *s, char *b, size_t n)
{
    snprintf(b, n, "%lld", (long long)atomic_load(&s->busy_reply_ms));
    return b;
}

static const char *s_busy(srv_server *s, const char *v, bool apply)
{
    int64_t x;
    if (srv_parse_i64(v, 0, INT64_MAX / 2, &x))
        return "argument couldn't be parsed into an integer";
    if (apply)
        atomic_store(&s->busy_reply_ms, x);
    return NULL;
}

/* slowlog-log-slower-than (microseconds; negative: off) and
 * slowlog-max-len (slowlog.h): Redis's ranges. */
static const char *g_slow_us(srv_server *s, char *b, size_t n)
{
    snprintf(b, n, "%lld", (long long)atomic_load(&s->slowlog_us));
    return b;
}

static const char *s_slow_us(srv_server *s, const char *v, bool apply)
{
    int64_t x;
    if (srv_parse_i64(v, -INT64_MAX, INT64_MAX, &x))
        return "argument couldn't be parsed into an integer";
    if (apply)
        atomic_store(&s->slowlog_us, x);
    return NULL;
}

static const char *g_slow_max(srv_server *s, char *b, size_t n)
{
    snprintf(b, n, "%lld", (long long)atomic_load(&s->slowlog_max));
    return b;
}

static const char *s_slow_max(srv_server *s, const char *v, bool apply)
{
    int64_t x;
    if (srv_parse_i64(v, 0, INT64_MAX / 2, &x))
        return "argument couldn't be parsed into an integer";
    if (apply)
        atomic_store(&s->slowlog_max, x);
    return NULL;
}

static const param params[] = {
    {"bind", g_bind, NULL, true},
    {"port", g_port, NULL, true},
    {"maxclients", g_maxclients, s_maxclients, false},
    {"requirepass", g_requirepass, s_requirepass, false},
    {"save", g_save, s_save, false},
    {"appendonly", g_appendonly, s_appendonly, false},
    {"appendfsync", g_appendfsync, NULL, false},
    {"dir", g_dir, NULL, false},
    {"databases", g_one, NULL, false},
    {"proto-max-bulk-len", g_bulk_len, s_bulk_len, false},
    {"client-query-buffer-limit", g_qbuf, s_qbuf, false},
    {"client-output-buffer-limit", g_obuf, s_obuf, false},
    {"hz", g_hz, s_hz, false},
    {"busy-reply-threshold", g_busy, s_busy, false},
    {"slowlog-log-slower-than", g_slow_us, s_slow_us, false},
    {"slowlog-max-len", g_slow_max, s_slow_max, false},
    {"lua-time-limit", g_busy, s_busy, false},
    {"activedefrag", g_defrag, s_defrag, false},
    {"loglevel", g_loglevel, s_loglevel, false},
    {"maxmemory", g_maxmemory, s_maxmemory, false},
    {"maxmemory-policy", g_policy, s_policy, false},
    {"maxmemory-samples", g_samples, s_samples, false},
    {"lfu-log-factor", g_lfu_factor, s_lfu_factor, false},
    {"lfu-decay-time", g_lfu_decay, s_lfu_decay, false},
    {"hot-capacity", g_hot_cap, s_hot_cap, false},
    {"warm-capacity", g_warm_cap, s_warm_cap, false},
    {"cold-capacity", g_cold_cap, s_cold_cap, false},
    {"promotion-batch", g_promo_batch, s_promo_batch, false},
    {"hot_capacity", g_hot_cap, s_hot_cap, false},
    {"warm_capacity", g_warm_cap, s_warm_cap, false},
    {"cold_capacity", g_cold_cap, s_cold_cap, false},
    {"promotion_batch", g_promo_batch, s_promo_batch, false},
    {"hash-max-listpack-entries", g_hash_entries, s_hash_entries, false},
    {"hash-max-listpack-value", g_hash_value, s_hash_value, false},
    {"hash-max-ziplist-entries", g_hash_entries, s_hash_entries, false},
    {"hash-max-ziplist-value", g_hash_value, s_hash_value, false},
    {"set-max-intset-entries", g_intset_entries, s_intset_entries, false},
    {"set-max-listpack-entries", g_set_entries, s_set_entries, false},
    {"set-max-listpack-value", g_set_value, s_set_value, false},
    {"zset-max-listpack-entries", g_zset_entries, s_zset_entries, false},
    {"zset-max-listpack-value", g_zset_value, s_zset_value, false},
    {"zset-max-ziplist-entries", g_zset_entries, s_zset_entries, false},
    {"zset-max-ziplist-value", g_zset_value, s_zset_value, false},
    {"list-max-listpack-size", g_list_size, s_list_size, false},
    {"list-max-ziplist-size", g_list_size, s_list_size, false},
    {"timeout", g_zero, NULL, true},
    {"daemonize", g_no, NULL, false},
    {"cluster-enabled", g_no, NULL, false},
    {"io-threads", g_threads, NULL, false},
    {"threads", g_threads, NULL, false},
    {"shards", g_shards, NULL, false},
    {"io-backend", g_io, NULL, false},
};
#define NPARAMS (sizeof(params) / sizeof(params[0]))

static void config_get(srv_exec *x)
{
    cmd_ctx *c = x->c;
    bool hit[NPARAMS] = {false};
    size_t n = 0;
    for (size_t i = 2; i < c->argc; i++) {
        char pat[256];
        srv_arg_str(&c->argv[i], pat, sizeof(pat));
        for (size_t p = 0; p < NPARAMS; p++)
            if (!hit[p] && fnmatch(pat, params[p].name, FNM_CASEFOLD) == 0) {
                hit[p] = true;
                n++;
            }
    }
    resp_map(c->w, n);
    for (size_t p = 0; p < NPARAMS; p++) {
        if (!hit[p])
            continue;
        char buf[256];
        resp_bulk_cstr(c->w, params[p].name);
        resp_bulk_cstr(c->w, params[p].get(x->srv, buf, sizeof(buf)));
    }
}

/* Parameters Redis 7 sets at run time that do not exist here (beyond the
 * table's unsupported ones): CONFIG SET says so rather than "unknown". */
static const char *const redis_only[] = {
    "maxmemory-eviction-tenacity",
    "notify-keyspace-events",
    "tcp-keepalive",
    "latency-monitor-threshold",
    "latency-tracking",
    "appendfsync",
    "lazyfree-lazy-eviction",
    "lazyfree-lazy-expire",
    "lazyfree-lazy-server-del",
    "lazyfree-lazy-user-del",
    "lazyfree-lazy-user-flush",
    "active-expire-effort",
    "replicaof",
    "slaveof",
    "replica-read-only",
    "min-replicas-to-write",
    "masterauth",
    "masteruser",
    "dir",
    "dbfilename",
    "client-output-buffer-limit",
    "maxmemory-clients",
    "enable-debug-command",
};

static bool is_redis_only(const resp_arg *a)
{
    for (size_t i = 0; i < sizeof(redis_only) / sizeof(redis_only[0]); i++)
        if (srv_arg_is(a, redis_only[i]))
            return true;
    return false;
}

static const param *find_param(const resp_arg *a)
{
    for (size_t p = 0; p < NPARAMS; p++)
        if (srv_arg_is(a, params[p].name))
            return &params[p];
    return NULL;
}

static void config_set(srv_exec *x)
{
    cmd_ctx *c = x->c;
    char name[128], val[1024];
    if (c->argc < 4 || c->argc % 2) {
        srv_reply_arity(x, "config|set");
        return;
    }
    /* Validate every name and value first: Redis applies all or nothing. */
    for (size_t i = 2; i < c->argc; i += 2) {
        const param *p = find_param(&c->argv[i]);
        srv_arg_str(&c->argv[i], name, sizeof(name));
        if ((p && !p->set && p->unsupported) ||
            (!p && is_redis_only(&c->argv[i]))) {
            resp_errorf(c->w, "ERR Unsupported CONFIG parameter: %s", name);
            return;
        }
        if (!p) {
            resp_errorf(c->w,
                        "ERR Unknown option or number of arguments "
                        "for CONFIG SET - '%s'",
                        name);
            return;
        }
        if (!p->set) {
            resp_errorf(c->w,
                        "ERR CONFIG SET failed (possibly related to "
                        "argument '%s') - can't set immutable config",
                        name);
            return;
        }
        for (size_t j = 2; j < i; j += 2) {
            if (find_param(&c->argv[j]) == p) {
                resp_errorf(c->w,
                            "ERR CONFIG SET failed (possibly related to "
                            "argument '%s') - duplicate parameter",
                            name);
                return;
            }
        }
        const char *why = p->set(
            x->srv, srv_arg_str(&c->argv[i + 1], val, sizeof(val)), false);
        if (why) {
            resp_errorf(c->w,
                        "ERR CONFIG SET failed (possibly related to "
                        "argument '%s') - %s",
                        p->name, why);
            return;
        }
    }
    for (size_t i = 2; i < c->argc; i += 2) {
        const param *p = find_param(&c->argv[i]);
        const char *why = p->set(
            x->srv, srv_arg_str(&c->argv[i + 1], val, sizeof(val)), true);
        if (why) /* only out of memory can fail once validated */
            resp_errorf(c->w,
                        "ERR CONFIG SET failed (possibly related to "
                        "argument '%s') - %s",
                        p->name, why);
        if (why)
            return;
    }
    resp_ok(c->w);
}

/* Runs exclusively: the other workers' counters are not being written. */
static void config_resetstat(srv_exec *x)
{
    srv_server *s = x->srv;
    for (uint32_t i = 0; i < s->nworkers; i++) {
        srv_worker *w = &s->workers[i];
        for (size_t k = 0; k < s->cmds.count; k++) {
            atomic_store(&w->cmdstats[k].calls, 0);
            atomic_store(&w->cmdstats[k].nsec, 0);
            atomic_store(&w->cmdstats[k].rejected, 0);
            atomic_store(&w->cmdstats[k].failed, 0);
            for (int b = 0; b < SRV_LAT_BUCKETS; b++)
                atomic_store(&w->cmdstats[k].lat[b], 0);
        }
        atomic_store(&w->stat_cmds, 0);
        atomic_store(&w->stat_net_in, 0);
        atomic_store(&w->stat_net_out, 0);
        atomic_store(&w->stat_hits, 0);
        atomic_store(&w->stat_misses, 0);
        atomic_store(&w->stat_expired, 0);
        atomic_store(&w->stat_errors, 0); /* exclusive: nobody counts now */
        for (int k = 0; k < SRV_ERRSTAT_MAX; k++) {
            atomic_store(&w->errstats[k].count, 0);
            w->errstats[k].name[0] = '\0';
        }
        atomic_store(&w->stat_obuf_disconn, 0);
        atomic_store(&w->rt.stat_excl, 0);
    }
    atomic_store(&s->stat_conn_received, 0);
    atomic_store(&s->stat_rejected_conn, 0);
    atomic_store(&s->budget.evicted, 0);
    resp_ok(x->c->w);
}

static void config_help(srv_exec *x)
{
    static const char *const lines[] = {
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        ("    Return parameters matching the glob-like <pattern> and "
         "their values."),
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Print this help.",
    };
    resp_array(x->c->w, sizeof(lines) / sizeof(lines[0]));
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        resp_simple(x->c->w, lines[i]);
}

static void cmd_config(srv_exec *x)
{
    cmd_ctx *c = x->c;
    const resp_arg *sub = &c->argv[1];
    if (srv_arg_is(sub, "get")) {
        if (c->argc < 3)
            srv_reply_arity(x, "config|get");
        else
            config_get(x);
    } else if (srv_arg_is(sub, "set")) {
        config_set(x);
    } else if (srv_arg_is(sub, "resetstat") && c->argc == 2) {
        config_resetstat(x);
    } else if (srv_arg_is(sub, "rewrite") && c->argc == 2) {
        resp_error(c->w, x->srv->cfg.config_file
                             ? "ERR Rewriting the TOML config file is not "
                               "supported"
                             : "ERR The server is running without a config "
                               "file");
    } else if (srv_arg_is(sub, "help") && c->argc == 2) {
        config_help(x);
    } else {
        srv_reply_unknown_sub(x, "CONFIG");
    }
}

static const srv_subcmd subs[] = {
    {"get", -3, 0, 0,
     "Returns the effective values of configuration "
     "parameters."},
    {"set", -4, 0, SRV_CMD_EXCL, "Sets configuration parameters in-flight."},
    {"resetstat", 2, 0, SRV_CMD_EXCL, "Resets the server's statistics."},
    {"rewrite", 2, 0, 0, "Persists the effective configuration to file."},
    {"help", 2, 0, 0,
     "Returns helpful text about the different "
     "subcommands."},
    {NULL, 0, 0, 0, NULL},
};

static const srv_cmd cmds[] = {
    {{"config", -2, CMD_NOSCRIPT, 0, 0, 0, CMD_SPLIT_NONE, NULL, "server",
      "A container for server configuration commands.", "2.0.0"},
     cmd_config,
     0,
     subs},
};

const srv_cmd *srv_cmds_config(size_t *n)
{
    *n = sizeof(cmds) / sizeof(cmds[0]);
    return cmds;
}
