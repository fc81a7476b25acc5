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

#include "server/log.h"
#include "server/obuf_limit.h"
#include "server/server.h"
#include "server/srvcmd.h"
#include "server/worker.h"

typedef struct param param;
/* Writes the value into buf; returns buf or a static string. */
typedef const char *(*param_get)(srv_server *s, char *buf, size_t len);
/* NULL on success, else the reason (Redis's wording after " - "). */
typedef const char *(*param_set)(srv_server *s, const char *v);

struct param {
    const char *name;
    param_get get;
    param_set set; /* NULL: immutable */
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

static const char *s_maxclients(srv_server *s, const char *v)
{
    int64_t x;
    if (srv_parse_i64(v, 1, 1000000, &x))
        return "argument couldn't be parsed into an integer";
    s->cfg.maxclients = (uint32_t)x;
    return NULL;
}

static const char *g_requirepass(srv_server *s, char *b, size_t n)
{
    return s->cfg.requirepass ? s->cfg.requirepass : "";
}

static const char *s_requirepass(srv_server *s, const char *v)
{
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

static const char *s_save(srv_server *s, const char *v)
{
    return *v ? "snapshotting (save) is not supported" : NULL;
}

static const char *g_no(srv_server *s, char *b, size_t n)
{
    return "no";
}

static const char *s_appendonly(srv_server *s, const char *v)
{
    return strcasecmp(v, "no") ? "the append-only file is not supported" : NULL;
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

static const char *s_bulk_len(srv_server *s, const char *v)
{
    size_t x;
    if (srv_parse_memory(v, &x) || x < 1024)
        return "argument must be a memory value";
    s->cfg.proto_max_bulk_len = x;
    return NULL;
}

static const char *g_qbuf(srv_server *s, char *b, size_t n)
{
    snprintf(b, n, "%zu", s->cfg.client_query_buffer_limit);
    return b;
}

static const char *s_qbuf(srv_server *s, const char *v)
{
    size_t x;
    if (srv_parse_memory(v, &x) || x < 1024 * 1024)
        return "argument must be a memory value";
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

static const char *s_hz(srv_server *s, const char *v)
{
    int64_t hz;
    if (srv_parse_i64(v, 1, 500, &hz))
        return "argument couldn't be parsed into an integer";
    s->cfg.ttl_sweep_interval_ms = 1000 / hz;
    return NULL;
}

static const char *g_loglevel(srv_server *s, char *b, size_t n)
{
    return srv_loglevel_name(s->cfg.loglevel);
}

static const char *s_loglevel(srv_server *s, const char *v)
{
    if (srv_parse_loglevel(v, &s->cfg.loglevel))
        return "argument(s) must be one of the following: debug, verbose, "
               "notice, warning";
    srv_log_set_level(s->cfg.loglevel);
    return NULL;
}

static const char *g_policy(srv_server *s, char *b, size_t n)
{
    return "noeviction";
}

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

static const char *s_obuf(srv_server *s, const char *v)
{
    return srv_obuf_parse(v, s->cfg.obuf_limits);
}

static const char *g_io(srv_server *s, char *b, size_t n)
{
    return s->be->name;
}

static const param params[] = {
    {"bind", g_bind, NULL},
    {"port", g_port, NULL},
    {"maxclients", g_maxclients, s_maxclients},
    {"requirepass", g_requirepass, s_requirepass},
    {"save", g_save, s_save},
    {"appendonly", g_no, s_appendonly},
    {"databases", g_one, NULL},
    {"proto-max-bulk-len", g_bulk_len, s_bulk_len},
    {"client-query-buffer-limit", g_qbuf, s_qbuf},
    {"client-output-buffer-limit", g_obuf, s_obuf},
    {"hz", g_hz, s_hz},
    {"loglevel", g_loglevel, s_loglevel},
    {"maxmemory", g_zero, NULL},
    {"maxmemory-policy", g_policy, NULL},
    {"timeout", g_zero, NULL},
    {"daemonize", g_no, NULL},
    {"cluster-enabled", g_no, NULL},
    {"io-threads", g_threads, NULL},
    {"threads", g_threads, NULL},
    {"shards", g_shards, NULL},
    {"io-backend", g_io, NULL},
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
    /* Validate every name first: Redis applies all or nothing. */
    for (size_t i = 2; i < c->argc; i += 2) {
        const param *p = find_param(&c->argv[i]);
        srv_arg_str(&c->argv[i], name, sizeof(name));
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
    }
    for (size_t i = 2; i < c->argc; i += 2) {
        const param *p = find_param(&c->argv[i]);
        const char *why =
            p->set(x->srv, srv_arg_str(&c->argv[i + 1], val, sizeof(val)));
        if (why) {
            resp_errorf(c->w,
                        "ERR CONFIG SET failed (possibly related to "
                        "argument '%s') - %s",
                        p->name, why);
            return;
        }
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
        }
        atomic_store(&w->stat_cmds, 0);
        atomic_store(&w->stat_net_in, 0);
        atomic_store(&w->stat_net_out, 0);
        atomic_store(&w->stat_hits, 0);
        atomic_store(&w->stat_misses, 0);
        atomic_store(&w->stat_expired, 0);
        atomic_store(&w->stat_obuf_disconn, 0);
        atomic_store(&w->stat_excl, 0);
    }
    atomic_store(&s->stat_conn_received, 0);
    atomic_store(&s->stat_rejected_conn, 0);
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
