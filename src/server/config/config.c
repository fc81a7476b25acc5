/*
 * config.c — defaults, the config file (inih) and value parsers. The command
 * line lives in config_args.c, the [replication] section in config_repl.c.
 */
#include "server/config/config.h"
#include "server/config/config_file.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/engine.h"
#include "fastcache.h"
#include "protocol/fcrp.h"
#include "repl/sock.h"
#include "server/config/obuf_limit.h"
#include "util/geometry.h"

void srv_config_defaults(srv_config *c)
{
    memset(c, 0, sizeof(*c));
    c->bind = strdup("127.0.0.1");
    c->port = 6380;
    c->maxclients = 10000;
    c->pin_threads = true;
    c->activedefrag = true;
    c->loglevel = SRV_LOG_NOTICE;
    c->ttl_sweep_interval_ms = 100;
    c->stats_interval_ms = 100;
    c->maxmemory_policy = ENG_POL_CLOCK;
    c->maxmemory_samples = 5;
    c->lfu_log_factor = 10;
    c->lfu_decay_time = 1;
    c->client_query_buffer_limit = (size_t)1024 * 1024 * 1024;
    c->proto_max_bulk_len = (size_t)512 * 1024 * 1024;
    srv_obuf_defaults(c->obuf_limits);
    c->persistence.data_dir = strdup("./var/fast-cache");
    c->persistence.segment_size_bytes = (size_t)64 * 1024 * 1024;
    c->persistence.fsync_interval_ms = 100;
    c->persistence.snapshot_every_seconds = 300;
    c->persistence.snapshot_min_writes = 1000;
    c->persistence.compress_snapshots = true;
    c->persistence.wal_channel_capacity = 16384;
    c->persistence.fsync = strdup("interval");
    c->replication.role = strdup("primary");
    c->replication.bind_addr = strdup("127.0.0.1:7631");
    c->replication.compression = strdup("none");
    c->replication.zstd_level = 3;
    c->replication.send_policy = strdup("batch");
    c->replication.batch_max_records = 512;
    c->replication.batch_max_bytes = (size_t)1 << 20;
    c->replication.batch_max_delay_us = 750;
    c->replication.backlog_bytes = (size_t)64 << 20;
    c->replication.snapshot_chunk_bytes = (size_t)1 << 20;
    c->replication.queue_capacity = 16384;
    c->replication.max_replicas = 16;
    c->replication.connect_timeout_ms = 500;
    c->replication.write_timeout_ms = 500;
    c->replication.reconnect_backoff_ms = 200;
    c->replication.subscriber_channel_capacity = 1024;
}

void srv_config_free(srv_config *c)
{
    free(c->bind);
    free(c->requirepass);
    free(c->io);
    free(c->metrics_bind);
    free(c->config_file);
    free(c->persistence.data_dir);
    free(c->persistence.fsync);
    free(c->tiers.path);
    free(c->replication.role);
    free(c->replication.bind_addr);
    free(c->replication.replica_of);
    free(c->replication.auth_token);
    free(c->replication.compression);
    free(c->replication.send_policy);
    memset(c, 0, sizeof(*c));
}

/* --- value parsers ----------------------------------------------------- */

int srv_parse_bool(const char *s, bool *out)
{
    if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcmp(s, "1")) {
        *out = true;
        return 0;
    }
    if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcmp(s, "0")) {
        *out = false;
        return 0;
    }
    return -1;
}

int srv_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!*s || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int srv_parse_memory(const char *s, size_t *out)
{
    if (!*s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    unsigned long long mul = 1;
    if (!strcasecmp(end, "k"))
        mul = 1000;
    else if (!strcasecmp(end, "kb"))
        mul = 1024;
    else if (!strcasecmp(end, "m"))
        mul = 1000 * 1000;
    else if (!strcasecmp(end, "mb"))
        mul = 1024 * 1024;
    else if (!strcasecmp(end, "g"))
        mul = 1000ULL * 1000 * 1000;
    else if (!strcasecmp(end, "gb"))
        mul = 1024ULL * 1024 * 1024;
    else if (*end)
        return -1;
    if (v > SIZE_MAX / mul)
        return -1;
    *out = (size_t)(v * mul);
    return 0;
}

static const char *const level_names[] = {"debug", "verbose", "notice",
                                          "warning"};

int srv_parse_loglevel(const char *s, int *out)
{
    for (int i = 0; i < 4; i++) {
        if (!strcasecmp(s, level_names[i])) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

const char *srv_loglevel_name(int level)
{
    return level >= 0 && level < 4 ? level_names[level] : "notice";
}

/* --- the config file ----------------------------------------------------- */

/* TOML strings: "basic" (with \" and \\ escapes) or 'literal'; bare words
 * are taken as they are. NULL on OOM or an unterminated quote. */
char *cfg_unquote(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || (v[0] != '"' && v[0] != '\''))
        return strdup(v);
    if (n < 2 || v[n - 1] != v[0])
        return NULL;
    char *out = malloc(n);
    if (!out)
        return NULL;
    size_t j = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        if (v[0] == '"' && v[i] == '\\' && i + 2 < n)
            i++;
        out[j++] = v[i];
    }
    out[j] = '\0';
    return out;
}

int cfg_set_str(file_ctx *f, char **dst, const char *name, const char *v)
{
    char *s = cfg_unquote(v);
    if (!s) {
        snprintf(f->err, sizeof(f->err), "bad string value for '%s'", name);
        return 0;
    }
    free(*dst);
    *dst = s;
    return 1;
}

int cfg_set_bool(file_ctx *f, bool *dst, const char *name, const char *v)
{
    if (srv_parse_bool(v, dst) == 0)
        return 1;
    snprintf(f->err, sizeof(f->err), "'%s' must be true or false, got '%s'",
             name, v);
    return 0;
}

int cfg_set_int(file_ctx *f, int64_t *dst, const char *name, const char *v,
                int64_t min, int64_t max)
{
    if (srv_parse_i64(v, min, max, dst) == 0)
        return 1;
    snprintf(f->err, sizeof(f->err),
             "'%s' must be an integer in [%lld, %lld], got '%s'", name,
             (long long)min, (long long)max, v);
    return 0;
}

/* "host:port", "[v6]:port" or "host" (port unchanged). */
static int parse_hostport(const char *s, char **host, int *port)
{
    const char *colon = strrchr(s, ':');
    const char *hs = s, *he = colon ? colon : s + strlen(s);
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || (rb[1] != '\0' && rb[1] != ':'))
            return -1;
        hs = s + 1;
        he = rb;
        colon = rb[1] == ':' ? rb + 1 : NULL;
    } else if (colon && strchr(s, ':') != colon) {
        colon = NULL; /* bare IPv6 address without a port */
        he = s + strlen(s);
    }
    if (colon) {
        int64_t p;
        if (srv_parse_i64(colon + 1, 1, 65535, &p))
            return -1;
        *port = (int)p;
    }
    if (he == hs)
        return -1;
    char *h = strndup(hs, (size_t)(he - hs));
    if (!h)
        return -1;
    free(*host);
    *host = h;
    return 1;
}

/* Top-level integers that land in a uint32_t field. */
static int top_u32(file_ctx *f, const char *k, const char *v)
{
    static const struct {
        const char *name;
        int64_t min, max;
        size_t off;
    } keys[] = {
        {"max_connections", 1, 1000000, offsetof(srv_config, maxclients)},
        {"shard_count", 0, FC_MAX_SHARDS, offsetof(srv_config, shards)},
        {"threads", 0, 1024, offsetof(srv_config, threads)},
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        int64_t n;
        if (strcmp(k, keys[i].name))
            continue;
        if (!cfg_set_int(f, &n, k, v, keys[i].min, keys[i].max))
            return 0;
        *(uint32_t *)((char *)f->c + keys[i].off) = (uint32_t)n;
        return 1;
    }
    return -1;
}

static int top_size(file_ctx *f, const char *k, const char *v, size_t *dst)
{
    char *s = cfg_unquote(v);
    size_t sz = 0;
    int ok = s && srv_parse_memory(s, &sz) == 0 && sz >= 1024;
    free(s);
    if (!ok) {
        snprintf(f->err, sizeof(f->err),
                 "'%s' must be a size of at least 1024 bytes, got %s", k, v);
        return 0;
    }
    *dst = sz;
    return 1;
}

int srv_check_metrics_bind(const char *v, char *why, size_t whylen)
{
    char host[256];
    uint16_t port = 0;
    struct in6_addr a6;
    struct in_addr a4;
    if (repl_parse_addr(v, host, sizeof(host), &port, why, whylen))
        return -1;
    if (port == 0) {
        snprintf(why, whylen, "port must be 1..65535");
        return -1;
    }
    /* Numeric only: the endpoint binds at start, and a name that resolves
     * to several addresses would leave which one open to the resolver. */
    if (inet_pton(AF_INET, host, &a4) != 1 &&
        inet_pton(AF_INET6, host, &a6) != 1) {
        snprintf(why, whylen, "host must be a numeric IPv4 or IPv6 address");
        return -1;
    }
    return 0;
}

/* metrics_bind = "HOST:PORT" turns the endpoint on; "" leaves it off. */
static int top_metrics_bind(file_ctx *f, const char *k, const char *v)
{
    srv_config *c = f->c;
    char why[80];
    if (!cfg_set_str(f, &c->metrics_bind, k, v))
        return 0;
    if (!c->metrics_bind[0]) {
        free(c->metrics_bind);
        c->metrics_bind = NULL;
        return 1;
    }
    if (srv_check_metrics_bind(c->metrics_bind, why, sizeof(why))) {
        snprintf(f->err, sizeof(f->err),
                 "'%s' must be \"HOST:PORT\" (%s), got %.64s", k, why, v);
        return 0;
    }
    return 1;
}

static int top_string(file_ctx *f, const char *k, const char *v)
{
    srv_config *c = f->c;
    if (!strcmp(k, "requirepass")) {
        if (!cfg_set_str(f, &c->requirepass, k, v))
            return 0;
        if (!c->requirepass[0]) { /* as in Redis: empty = no password */
            free(c->requirepass);
            c->requirepass = NULL;
        }
        return 1;
    }
    if (!strcmp(k, "io")) {
        if (!cfg_set_str(f, &c->io, k, v))
            return 0;
        if (strcmp(c->io, "epoll") && strcmp(c->io, "uring")) {
            snprintf(f->err, sizeof(f->err),
                     "'io' must be \"epoll\" or \"uring\", got %s", v);
            return 0;
        }
        return 1;
    }
    if (!strcmp(k, "metrics_bind"))
        return top_metrics_bind(f, k, v);
    char *s = cfg_unquote(v);
    int ok = -1;
    if (!strcmp(k, "bind_addr")) {
        ok = s && parse_hostport(s, &c->bind, &c->port) > 0;
        if (!ok)
            snprintf(f->err, sizeof(f->err),
                     "'bind_addr' must be \"host:port\", got '%s'", v);
    } else if (!strcmp(k, "route_mode")) {
        ok = s && fc_route_mode_parse(s, &c->route_mode) == FC_OK;
        if (!ok)
            snprintf(f->err, sizeof(f->err),
                     "'route_mode' must be \"full_key\" or "
                     "\"session_prefix\", got %s",
                     v);
    } else if (!strcmp(k, "loglevel")) {
        ok = s && srv_parse_loglevel(s, &c->loglevel) == 0;
        if (!ok)
            snprintf(f->err, sizeof(f->err),
                     "'loglevel' must be debug, verbose, notice or warning, "
                     "got %s",
                     v);
    }
    free(s);
    return ok;
}

/* A size as srv_parse_memory reads it (bare or quoted, "1mb", "64kb");
 * `zero` is what the error message says 0 means ("" for nothing). */
int cfg_parse_size(file_ctx *f, size_t *dst, const char *k, const char *v,
                   const char *zero)
{
    char *s = cfg_unquote(v);
    size_t sz = 0;
    int ok = s && srv_parse_memory(s, &sz) == 0;
    free(s);
    if (!ok) {
        snprintf(f->err, sizeof(f->err),
                 "'%s' must be a size in bytes (%ssuffixes k, kb, m, mb, g, "
                 "gb), got %s",
                 k, zero, v);
        return 0;
    }
    *dst = sz;
    return 1;
}

/* 0 (no limit) or a size. */
static int top_maxmemory(file_ctx *f, const char *k, const char *v)
{
    return cfg_parse_size(f, &f->c->maxmemory, k, v, "0 = no limit; ");
}

static int top_policy(file_ctx *f, const char *k, const char *v)
{
    char *s = cfg_unquote(v);
    enum eng_policy p;
    int ok = s && eng_policy_parse(s, &p) == 0;
    free(s);
    if (!ok) {
        snprintf(f->err, sizeof(f->err), "'%s' must be %s, got %s", k,
                 SRV_POLICY_NAMES, v);
        return 0;
    }
    f->c->maxmemory_policy = (int)p;
    return 1;
}

static int top_int_field(file_ctx *f, const char *k, const char *v, int64_t min,
                         int64_t max, int *dst)
{
    int64_t n;
    if (!cfg_set_int(f, &n, k, v, min, max))
        return 0;
    *dst = (int)n;
    return 1;
}

static int top_key(file_ctx *f, const char *k, const char *v)
{
    srv_config *c = f->c;
    int r = top_u32(f, k, v);
    if (r >= 0)
        return r;
    if (!strcmp(k, "pin_threads"))
        return cfg_set_bool(f, &c->pin_threads, k, v);
    if (!strcmp(k, "activedefrag"))
        return cfg_set_bool(f, &c->activedefrag, k, v);
    if (!strcmp(k, "ttl_sweep_interval_ms"))
        return cfg_set_int(f, &c->ttl_sweep_interval_ms, k, v, 1, 60000);
    if (!strcmp(k, "stats_interval_ms"))
        return cfg_set_int(f, &c->stats_interval_ms, k, v, 1, 60000);
    if (!strcmp(k, "stats_log_interval_ms"))
        return cfg_set_int(f, &c->stats_log_interval_ms, k, v, 0, 86400000);
    if (!strcmp(k, "client_query_buffer_limit"))
        return top_size(f, k, v, &c->client_query_buffer_limit);
    if (!strcmp(k, "proto_max_bulk_len"))
        return top_size(f, k, v, &c->proto_max_bulk_len);
    if (!strcmp(k, "maxmemory") || !strcmp(k, "max_memory_bytes"))
        return top_maxmemory(f, k, v);
    if (!strcmp(k, "maxmemory_policy") || !strcmp(k, "eviction_policy"))
        return top_policy(f, k, v);
    if (!strcmp(k, "maxmemory_samples"))
        return top_int_field(f, k, v, 1, 64, &c->maxmemory_samples);
    if (!strcmp(k, "lfu_log_factor"))
        return top_int_field(f, k, v, 0, INT_MAX, &c->lfu_log_factor);
    if (!strcmp(k, "lfu_decay_time"))
        return top_int_field(f, k, v, 0, INT_MAX, &c->lfu_decay_time);
    return top_string(f, k, v);
}

int srv_parse_fsync(const char *s)
{
    /* "everysec" is Redis's name for the same policy. */
    if (!strcmp(s, "always") || !strcmp(s, "interval") || !strcmp(s, "no") ||
        !strcmp(s, "everysec"))
        return 0;
    return -1;
}

static int persistence_key(file_ctx *f, const char *k, const char *v)
{
    srv_config *c = f->c;
    if (!strcmp(k, "enabled"))
        return cfg_set_bool(f, &c->persistence.enabled, k, v);
    if (!strcmp(k, "data_dir"))
        return cfg_set_str(f, &c->persistence.data_dir, k, v);
    if (!strcmp(k, "segment_size_bytes")) {
        int64_t n;
        if (!cfg_set_int(f, &n, k, v, 4096, (int64_t)1 << 40))
            return 0;
        c->persistence.segment_size_bytes = (size_t)n;
        return 1;
    }
    if (!strcmp(k, "fsync_interval_ms"))
        return cfg_set_int(f, &c->persistence.fsync_interval_ms, k, v, 1,
                           60000);
    if (!strcmp(k, "snapshot_every_seconds"))
        return cfg_set_int(f, &c->persistence.snapshot_every_seconds, k, v, 0,
                           INT64_MAX / 2000);
    if (!strcmp(k, "snapshot_min_writes"))
        return cfg_set_int(f, &c->persistence.snapshot_min_writes, k, v, 0,
                           INT64_MAX / 2);
    if (!strcmp(k, "compress_snapshots"))
        return cfg_set_bool(f, &c->persistence.compress_snapshots, k, v);
    if (!strcmp(k, "wal_channel_capacity"))
        return cfg_set_int(f, &c->persistence.wal_channel_capacity, k, v, 1,
                           1 << 30);
    if (!strcmp(k, "fsync")) {
        if (!cfg_set_str(f, &c->persistence.fsync, k, v))
            return 0;
        if (srv_parse_fsync(c->persistence.fsync)) {
            snprintf(f->err, sizeof(f->err),
                     "'fsync' must be \"always\", \"interval\" or \"no\", "
                     "got %s",
                     v);
            return 0;
        }
        return 1;
    }
    return -1;
}

/* A [tiers] count: an integer > 0 (the seed refuses 0 capacities). */
static int tier_count(file_ctx *f, const char *k, const char *v, uint64_t max,
                      uint64_t *dst)
{
    int64_t n;
    if (srv_parse_i64(v, 1, (int64_t)max, &n) == 0) {
        *dst = (uint64_t)n;
        return 1;
    }
    snprintf(f->err, sizeof(f->err),
             "[tiers] '%s' must be an integer > 0 (at most %llu), got '%s'", k,
             (unsigned long long)max, v);
    return 0;
}

static int tiers_key(file_ctx *f, const char *k, const char *v)
{
    srv_config *c = f->c;
    if (!strcmp(k, "enabled"))
        return cfg_set_bool(f, &c->tiers.enabled, k, v);
    if (!strcmp(k, "path"))
        return cfg_set_str(f, &c->tiers.path, k, v);
    if (!strcmp(k, "hot_capacity"))
        return tier_count(f, k, v, UINT32_MAX, &c->tiers.hot_capacity);
    if (!strcmp(k, "warm_capacity"))
        return tier_count(f, k, v, UINT32_MAX, &c->tiers.warm_capacity);
    if (!strcmp(k, "cold_capacity"))
        return tier_count(f, k, v, UINT32_MAX, &c->tiers.cold_capacity);
    if (!strcmp(k, "promotion_batch")) {
        uint64_t n;
        if (!tier_count(f, k, v, 1u << 30, &n))
            return 0;
        c->tiers.promotion_batch = (uint32_t)n;
        return 1;
    }
    return -1;
}

/* [replication] enums: each accepted spelling and the canonical value
 * stored (so the rest of the server compares against one name). */
/* inih handler: 1 = ok, 0 = error (inih then reports the line). */
static int on_key(void *user, const char *section, const char *name,
                  const char *value)
{
    file_ctx *f = user;
    if (f->err[0])
        return 0;
    int r;
    if (!section[0])
        r = top_key(f, name, value);
    else if (!strcmp(section, "persistence"))
        r = persistence_key(f, name, value);
    else if (!strcmp(section, "tiers"))
        r = tiers_key(f, name, value);
    else if (!strcmp(section, "replication"))
        r = cfg_replication_key(f, name, value);
    else {
        snprintf(f->err, sizeof(f->err), "unknown section [%s]", section);
        return 0;
    }
    if (r < 0) {
        snprintf(f->err, sizeof(f->err), "unknown key '%s' in section [%s]",
                 name, section[0] ? section : "top-level");
        return 0;
    }
    return r;
}

int srv_config_load_file(srv_config *c, const char *path, char *err,
                         size_t errlen)
{
    /* TOML comments are '#', also at the end of a line; TOML has no
     * continuation lines, so an indented key must not glue onto the
     * previous value. */
    ini_inline_comment_prefixes = "#";
    ini_allow_multiline = false;
    ini_stop_on_first_error = true;
    file_ctx f = {.c = c, .err = ""};
    int line = ini_parse(path, on_key, &f);
    if (line == -1) {
        snprintf(err, errlen, "%s: cannot open config file: %s", path,
                 strerror(errno));
        return -1;
    }
    if (line == -2) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (line > 0) {
        snprintf(err, errlen, "%s:%d: %s", path, line,
                 f.err[0] ? f.err : "syntax error");
        return -1;
    }
    char *p = strdup(path);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    free(c->config_file);
    c->config_file = p;
    return 0;
}

int srv_config_resolve(srv_config *c, long online_cpus, char *err,
                       size_t errlen)
{
    if (c->threads == 0)
        c->threads = online_cpus > 0 ? (uint32_t)online_cpus : 1;
    /* Workers talk over W*W channels of SRV_CHAN_CAPACITY slots each
     * (32 KiB): 1000 threads would take 32 GB before listening. More
     * workers than 4 per core only add hops, so that is the cap. */
    uint64_t cap = online_cpus > 4 ? (uint64_t)online_cpus * 4 : 16;
    if (cap > 1024)
        cap = 1024;
    if (c->threads > cap) {
        snprintf(err, errlen,
                 "threads (%u) must be at most %llu (4 per online CPU, at "
                 "least 16, at most 1024)",
                 c->threads, (unsigned long long)cap);
        return -1;
    }
    if (c->shards == 0) {
        uint64_t want = (uint64_t)c->threads * 64, s = 1;
        while (s < want && s < FC_MAX_SHARDS)
            s <<= 1;
        c->shards = (uint32_t)s;
    }
    if (c->shards & (c->shards - 1)) {
        snprintf(err, errlen, "shards must be a power of two, got %u",
                 c->shards);
        return -1;
    }
    if (c->shards < c->threads) {
        snprintf(err, errlen, "shards (%u) must be at least threads (%u)",
                 c->shards, c->threads);
        return -1;
    }
    /* The [tiers] levels left unset: the seed's defaults for this host
     * and shard count (util/geometry.h). */
    geom_caches gc;
    geom_tiers gt;
    geom_probe(&gc);
    geom_tier_defaults(&gc, c->shards, &gt);
    if (!c->tiers.hot_capacity)
        c->tiers.hot_capacity = gt.hot_capacity;
    if (!c->tiers.warm_capacity)
        c->tiers.warm_capacity = gt.warm_capacity;
    if (!c->tiers.cold_capacity)
        c->tiers.cold_capacity = gt.cold_capacity;
    if (!c->tiers.promotion_batch)
        c->tiers.promotion_batch = gt.promotion_batch;
    /* Recovery places keys by their full-key hash (persist/recover.c). */
    if (c->route_mode == FC_ROUTE_SESSION_PREFIX && c->persistence.enabled) {
        snprintf(err, errlen,
                 "route_mode = \"session_prefix\" needs [persistence] "
                 "enabled = false (recovery places keys by their full "
                 "hash)");
        return -1;
    }
    /* Here rather than at each key: the file and the flags (which may turn
     * replication on, or set the role) are judged together. */
    return srv_config_check_replication(c, err, errlen);
}
