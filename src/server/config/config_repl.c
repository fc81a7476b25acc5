/*
 * config_repl.c — the [replication] section of the config file (spec
 * §1.1): its keys, parsed into srv_config.replication, and the rules an
 * enabled section must meet (srv_config_check_replication).
 */
#include "server/config/config_file.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocol/fcrp.h"
#include "repl/sock.h"

typedef struct enum_name {
    const char *name, *canon;
} enum_name;

static const enum_name repl_roles[] = {{"primary", "primary"},
                                       {"master", "primary"},
                                       {"replica", "replica"},
                                       {"slave", "replica"},
                                       {NULL, NULL}};
static const enum_name repl_compressions[] = {
    {"none", "none"}, {"zstd", "zstd"}, {"lz4", "lz4"}, {NULL, NULL}};
static const enum_name repl_policies[] = {
    {"batch", "batch"}, {"immediate", "immediate"}, {NULL, NULL}};

static int set_enum(file_ctx *f, char **dst, const char *k, const char *v,
                    const enum_name *names, const char *expected)
{
    char *s = cfg_unquote(v);
    const char *canon = NULL;
    for (size_t i = 0; s && names[i].name; i++)
        if (!strcasecmp(s, names[i].name))
            canon = names[i].canon;
    free(s);
    if (!canon) {
        snprintf(f->err, sizeof(f->err), "'%s' must be %s, got %s", k, expected,
                 v);
        return 0;
    }
    return cfg_set_str(f, dst, k, canon);
}

/* 0 is parsed here and refused by srv_config_check_replication, which
 * knows whether replication is on. */
static int set_size(file_ctx *f, size_t *dst, const char *k, const char *v)
{
    return cfg_parse_size(f, dst, k, v, "");
}

#define REPL_OFF(field) offsetof(srv_config, replication.field)

/* Integer keys, int64_t fields. Lower bounds are 0 on purpose: "> 0" is a
 * rule of the enabled section (spec §1.1), reported by the check. */
static const struct {
    const char *name;
    int64_t min, max;
    size_t off;
} repl_ints[] = {
    {"zstd_level", -(1 << 17), 1 << 17, REPL_OFF(zstd_level)},
    {"batch_max_records", 0, 1 << 24, REPL_OFF(batch_max_records)},
    {"batch_max_delay_us", 0, 60000000, REPL_OFF(batch_max_delay_us)},
    {"queue_capacity", 0, 1 << 30, REPL_OFF(queue_capacity)},
    {"max_replicas", 0, 65536, REPL_OFF(max_replicas)},
    {"connect_timeout_ms", 0, 3600000, REPL_OFF(connect_timeout_ms)},
    {"write_timeout_ms", 0, 3600000, REPL_OFF(write_timeout_ms)},
    {"reconnect_backoff_ms", 0, 3600000, REPL_OFF(reconnect_backoff_ms)},
    {"subscriber_channel_capacity", 0, 1 << 30,
     REPL_OFF(subscriber_channel_capacity)},
};

static const struct {
    const char *name;
    size_t off;
} repl_sizes[] = {
    {"batch_max_bytes", REPL_OFF(batch_max_bytes)},
    {"backlog_bytes", REPL_OFF(backlog_bytes)},
    {"snapshot_chunk_bytes", REPL_OFF(snapshot_chunk_bytes)},
};

static int replication_num(file_ctx *f, const char *k, const char *v)
{
    char *base = (char *)f->c;
    for (size_t i = 0; i < sizeof(repl_ints) / sizeof(repl_ints[0]); i++)
        if (!strcmp(k, repl_ints[i].name))
            return cfg_set_int(f, (int64_t *)(base + repl_ints[i].off), k, v,
                               repl_ints[i].min, repl_ints[i].max);
    for (size_t i = 0; i < sizeof(repl_sizes) / sizeof(repl_sizes[0]); i++)
        if (!strcmp(k, repl_sizes[i].name))
            return set_size(f, (size_t *)(base + repl_sizes[i].off), k, v);
    return -1;
}

int cfg_replication_key(file_ctx *f, const char *k, const char *v)
{
    srv_config *c = f->c;
    if (!strcmp(k, "enabled"))
        return cfg_set_bool(f, &c->replication.enabled, k, v);
    if (!strcmp(k, "role"))
        return set_enum(f, &c->replication.role, k, v, repl_roles,
                        "\"primary\" or \"replica\" (or \"master\", "
                        "\"slave\")");
    if (!strcmp(k, "compression"))
        return set_enum(f, &c->replication.compression, k, v, repl_compressions,
                        "\"none\", \"zstd\" or \"lz4\"");
    if (!strcmp(k, "send_policy"))
        return set_enum(f, &c->replication.send_policy, k, v, repl_policies,
                        "\"batch\" or \"immediate\"");
    if (!strcmp(k, "bind_addr"))
        return cfg_set_str(f, &c->replication.bind_addr, k, v);
    if (!strcmp(k, "replica_of"))
        return cfg_set_str(f, &c->replication.replica_of, k, v);
    if (!strcmp(k, "auth_token"))
        return cfg_set_str(f, &c->replication.auth_token, k, v);
    return replication_num(f, k, v);
}

/* --- [replication] rules ------------------------------------------------ */

static bool blank(const char *s)
{
    while (s && isspace((unsigned char)*s))
        s++;
    return !s || !*s;
}

/* "host:port" through the parser the transport itself uses, so what passes
 * here is what repl_listen / repl_connect will get. */
static int check_addr(const char *key, const char *v, bool port0_ok, char *err,
                      size_t errlen)
{
    char host[256], why[300];
    uint16_t port;
    if (repl_parse_addr(v, host, sizeof(host), &port, why, sizeof(why))) {
        snprintf(err, errlen, "[replication] %s: %s", key, why);
        return -1;
    }
    if (port == 0 && !port0_ok) {
        snprintf(err, errlen,
                 "[replication] %s: port must be 1..65535, "
                 "got '%s'",
                 key, v);
        return -1;
    }
    return 0;
}

/* The "> 0" rules of spec §1.1, each key named in its message. */
static int check_positive(const srv_config *c, char *err, size_t errlen)
{
    const struct {
        const char *name;
        uint64_t v;
    } keys[] = {
        {"batch_max_records", (uint64_t)c->replication.batch_max_records},
        {"batch_max_bytes", c->replication.batch_max_bytes},
        {"backlog_bytes", c->replication.backlog_bytes},
        {"snapshot_chunk_bytes", c->replication.snapshot_chunk_bytes},
        {"queue_capacity", (uint64_t)c->replication.queue_capacity},
        {"max_replicas", (uint64_t)c->replication.max_replicas},
        {"subscriber_channel_capacity",
         (uint64_t)c->replication.subscriber_channel_capacity},
        {"connect_timeout_ms", (uint64_t)c->replication.connect_timeout_ms},
        {"write_timeout_ms", (uint64_t)c->replication.write_timeout_ms},
        {"reconnect_backoff_ms", (uint64_t)c->replication.reconnect_backoff_ms},
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        /* int64 fields are parsed >= 0; a negative one set in code would
         * show here as huge, so test the sign through the cast too. */
        if (keys[i].v == 0 || (int64_t)keys[i].v < 0) {
            snprintf(err, errlen, "[replication] %s must be > 0", keys[i].name);
            return -1;
        }
    }
    /* A frame holds one batch or one chunk plus at most one record past the
     * threshold; the receiver refuses payloads over FCRP_DEFAULT_MAX_PAYLOAD
     * (64 MiB), so a larger threshold could never be delivered. */
    size_t cap = FCRP_DEFAULT_MAX_PAYLOAD / 2;
    if (c->replication.batch_max_bytes > cap ||
        c->replication.snapshot_chunk_bytes > cap) {
        snprintf(err, errlen,
                 "[replication] %s must be at most %zu bytes (32mb: a "
                 "frame's payload is capped at 64 MiB)",
                 c->replication.batch_max_bytes > cap ? "batch_max_bytes"
                                                      : "snapshot_chunk_bytes",
                 cap);
        return -1;
    }
    return 0;
}

int srv_config_check_replication(const srv_config *c, char *err, size_t errlen)
{
    if (!c->replication.enabled)
        return 0; /* spec §1.1: the rules apply to an enabled section */
    const char *role = c->replication.role ? c->replication.role : "primary";
    bool replica = !strcmp(role, "replica");
    if (strcmp(role, "primary") && !replica) {
        snprintf(err, errlen,
                 "[replication] role must be primary or "
                 "replica, got '%s'",
                 role);
        return -1;
    }
    if (blank(c->replication.bind_addr)) {
        snprintf(err, errlen, "[replication] bind_addr must be set");
        return -1;
    }
    if (check_addr("bind_addr", c->replication.bind_addr, true, err, errlen))
        return -1;
    if (replica && blank(c->replication.replica_of)) {
        snprintf(err, errlen,
                 "[replication] replica_of must be set for the replica role "
                 "(replica_of = \"host:port\" or --replica-of HOST:PORT)");
        return -1;
    }
    if (!replica && !blank(c->replication.replica_of)) {
        snprintf(err, errlen,
                 "[replication] replica_of is set but role is primary (set "
                 "role = \"replica\", or use --replica-of)");
        return -1;
    }
    if (replica &&
        check_addr("replica_of", c->replication.replica_of, false, err, errlen))
        return -1;
    if (c->replication.auth_token && !c->replication.auth_token[0]) {
        snprintf(err, errlen, "[replication] auth_token must not be empty");
        return -1;
    }
    if (c->replication.zstd_level < 1 || c->replication.zstd_level > 22) {
        snprintf(err, errlen,
                 "[replication] zstd_level must be 1..22, got %lld",
                 (long long)c->replication.zstd_level);
        return -1;
    }
    return check_positive(c, err, errlen);
}
