/*
 * config.h — the server's configuration: defaults, the TOML-style config file
 * and the command line, in that order of precedence (CLI wins).
 *
 * File layout (parsed with libinih; TOML's `key = value` and `[section]` are
 * inih-compatible): top-level bind_addr ("host:port"), max_connections,
 * shard_count, threads, pin_threads, requirepass, loglevel,
 * ttl_sweep_interval_ms, route_mode,
 * stats_interval_ms, stats_log_interval_ms, metrics_bind, io; sections
 * [persistence], [tiers], [replication].
 * Strings may be "quoted"; booleans are true/false; integers are decimal.
 * Comments: whole lines starting with # or ;, and " # ..." at the end of a
 * line (preceded by whitespace). Unknown keys are errors reported as
 * "FILE:LINE: unknown key 'x' in section [s]". A section that holds no keys
 * at all is not seen by the parser and so not reported.
 * fast-cache.toml.example at the repository root documents every key.
 *
 * Owns: the strings in srv_config (malloc'd; srv_config_free frees them).
 * Threads: parsed on the main thread before workers start. Afterwards
 *   workers read it; CONFIG SET writes it only while every other worker is
 *   parked (exclusive execution), so no lock is needed.
 * Errors: functions return 0, or SRV_CONFIG_EXIT (help/version printed:
 *   exit 0), or -1 with a one-line message in err (the caller prints it and
 *   exits with status 2).
 */
#ifndef FC_SERVER_CONFIG_H
#define FC_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SRV_CONFIG_EXIT 1

enum srv_loglevel {
    SRV_LOG_DEBUG = 0,
    SRV_LOG_VERBOSE = 1,
    SRV_LOG_NOTICE = 2,
    SRV_LOG_WARNING = 3,
};

/* Redis's client-output-buffer-limit, one per client class: a client whose
 * unsent output exceeds `hard`, or stays above `soft` for `soft_secs`
 * seconds, is disconnected (0 = no limit). See obuf_limit.h. */
typedef struct srv_obuf_class {
    size_t hard, soft;
    int64_t soft_secs;
} srv_obuf_class;

enum { SRV_OBUF_NORMAL = 0, SRV_OBUF_REPLICA = 1, SRV_OBUF_PUBSUB = 2 };
#define SRV_OBUF_NCLASS 3

typedef struct srv_config {
    char *bind;          /* address to listen on */
    int port;            /* TCP port, 1..65535 */
    uint32_t threads;    /* workers; 0 = online cores (resolved later) */
    bool pin_threads;    /* pin each worker to its own CPU (default on) */
    bool activedefrag;   /* slab defrag on the sweep tick (default on) */
    uint32_t shards;     /* power of two; 0 = derived from threads */
    uint32_t maxclients; /* accepted connections at once */
    char *requirepass;   /* NULL = no AUTH needed */
    int loglevel;        /* enum srv_loglevel */
    char *io;            /* "epoll", "uring" or NULL (auto) */
    int64_t ttl_sweep_interval_ms;    /* active expiry period */
    int64_t stats_interval_ms;        /* instantaneous_ops_per_sec sampling */
    int64_t stats_log_interval_ms;    /* the periodic stats log line; 0 = off
                                         (metrics/statslog.c) */
    char *metrics_bind; /* "HOST:PORT" of the Prometheus endpoint; NULL =
                           off (metrics/metrics.h) */
    size_t client_query_buffer_limit; /* bytes buffered per client */
    size_t proto_max_bulk_len;        /* largest bulk argument */
    srv_obuf_class obuf_limits[SRV_OBUF_NCLASS]; /* by SRV_OBUF_* */
    /* Memory limit (src/engine/evict.c): file keys maxmemory (or the
     * seed's max_memory_bytes) and maxmemory_policy (or eviction_policy,
     * which also takes the seed's none/lru/lfu); flags likewise. */
    size_t maxmemory;      /* bytes; 0 = no limit */
    int maxmemory_policy;  /* enum eng_policy (default: clock) */
    int maxmemory_samples; /* 1..64 [5] */
    int lfu_log_factor;    /* [10] */
    int lfu_decay_time;    /* minutes [1] */
    uint64_t hash_seed;  /* key hash seed when hash_seed_set (--hash-seed) */
    bool hash_seed_set;  /* else a random one per process */
    int route_mode;      /* enum fc_route_mode: route_mode = "full_key"
                            (default) or "session_prefix" */
    char *config_file;                /* the file loaded, if any (absolute or as
                                         given) */
    struct {
        bool enabled;
        char *data_dir;             /* default "./var/fast-cache" */
        size_t segment_size_bytes;  /* WAL segment roll size */
        int64_t fsync_interval_ms;  /* fsync = interval: at most this lost */
        int64_t snapshot_every_seconds; /* 0 = no periodic snapshots */
        int64_t snapshot_min_writes;
        bool compress_snapshots;    /* zstd */
        int64_t wal_channel_capacity; /* records queued before back-pressure */
        char *fsync;                /* "always", "interval" or "no" */
        bool repair;                /* --repair-wal */
    } persistence;
    struct {
        bool enabled; /* the disk tier: refused at start (main.c) */
        char *path;
        /* The default policy's levels (engine/evict.c), whole-server
         * entries, divided among the shards; 0 until srv_config_resolve
         * fills in the seed's defaults from the host's caches
         * (util/geometry.h). */
        uint64_t hot_capacity, warm_capacity, cold_capacity;
        uint32_t promotion_batch;
    } tiers;
    /* [replication]: the seed's 19 keys (../shared/spec/replication.md
     * §1) with its defaults; see fast-cache.toml.example. */
    struct {
        bool enabled;       /* also turned on by any replication flag */
        char *role;         /* "primary" or "replica" */
        char *bind_addr;    /* "127.0.0.1:7631": where a primary listens */
        char *replica_of;   /* "host:port" of the primary (replica role) */
        char *auth_token;   /* NULL = none */
        char *compression;  /* "none", "zstd" or "lz4" */
        int64_t zstd_level; /* 3 */
        char *send_policy;  /* "batch" or "immediate" */
        int64_t batch_max_records;           /* 512 */
        size_t batch_max_bytes;              /* 1 MiB */
        int64_t batch_max_delay_us;          /* 750 */
        size_t backlog_bytes;                /* 64 MiB */
        size_t snapshot_chunk_bytes;         /* 1 MiB */
        int64_t queue_capacity;              /* 16384 */
        int64_t max_replicas;                /* 16 */
        int64_t connect_timeout_ms;          /* 500 */
        int64_t write_timeout_ms;            /* 500 */
        int64_t reconnect_backoff_ms;        /* 200: first delay */
        int64_t subscriber_channel_capacity; /* 1024 frames */
    } replication;
} srv_config;

void srv_config_defaults(srv_config *c);
void srv_config_free(srv_config *c);

/* Loads a config file into c (only the keys present change). */
int srv_config_load_file(srv_config *c, const char *path, char *err,
                         size_t errlen);

/* The whole start-up sequence: defaults are expected in c already; finds
 * --config FILE and loads it, then applies every other flag on top (flags
 * are "--name value" or "--name=value"; positional arguments are errors).
 * --help / --version print to `out` and return SRV_CONFIG_EXIT. */
int srv_config_from_args(srv_config *c, int argc, char **argv, FILE *out,
                         char *err, size_t errlen);

/* Fills in what depends on the machine: threads (online cores when 0) and
 * shards (64 per thread rounded up to a power of two, at most
 * FC_MAX_SHARDS, when 0). -1 with err when shards is not a power of two or
 * fewer than threads, or when srv_config_check_replication fails. */
int srv_config_resolve(srv_config *c, long online_cpus, char *err,
                       size_t errlen);

/* The [replication] rules when replication is enabled (spec §1.1 plus
 * ours): bind_addr set and HOST:PORT (port 0 lets the kernel pick), role
 * replica <=> replica_of set, as HOST:PORT, auth_token not empty, zstd_level
 * 1..22, every limit, capacity and timeout > 0, batch_max_bytes and
 * snapshot_chunk_bytes at most 32 MiB. 0, or -1 with a message naming the
 * key. srv_config_resolve ends with it. */
int srv_config_check_replication(const srv_config *c, char *err, size_t errlen);

/* Parsers shared with CONFIG SET. 0 or -1. */
int srv_parse_bool(const char *s, bool *out);
int srv_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Memory sizes as Redis accepts them: 123, 1k, 1kb, 1mb, 1gb (k = 1000,
 * kb = 1024). */
int srv_parse_memory(const char *s, size_t *out);
int srv_parse_loglevel(const char *s, int *out);
/* What maxmemory-policy accepts, for messages. */
#define SRV_POLICY_NAMES                                                       \
    "clock, noeviction, allkeys-lru, allkeys-lfu, volatile-lru, "              \
    "volatile-lfu, volatile-ttl, allkeys-random, volatile-random (or none, "   \
    "lru, lfu)"

/* metrics_bind / --metrics-bind: HOST:PORT with a numeric IPv4 or IPv6
 * host ("[::1]:9121") and a port 1..65535. 0, or -1 with why. */
int srv_check_metrics_bind(const char *v, char *why, size_t whylen);

/* "always", "interval" (or Redis's "everysec") or "no": 0, else -1. */
int srv_parse_fsync(const char *s);
const char *srv_loglevel_name(int level);

/* Usage text for --help. */
void srv_config_usage(FILE *out, const char *prog);

#endif /* FC_SERVER_CONFIG_H */
