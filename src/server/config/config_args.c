/*
 * config_args.c — the command line. Two passes: the first finds --config,
 * --help and --version (and rejects unknown flags), the config file is
 * loaded, and the second applies every flag on top of it, so a flag always
 * wins over the file whatever the order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "fastcache.h"
#include "repl/sock.h"
#include "server/config/config.h"

typedef int (*flag_fn)(srv_config *c, const char *v, char *err, size_t errlen);

static int bad_value(const char *flag, const char *v, const char *why,
                     char *err, size_t errlen)
{
    snprintf(err, errlen, "invalid value '%s' for --%s: %s", v, flag, why);
    return -1;
}

static int set_string(char **dst, const char *v, char *err, size_t errlen)
{
    char *s = strdup(v);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    free(*dst);
    *dst = s;
    return 0;
}

static int f_bind(srv_config *c, const char *v, char *err, size_t errlen)
{
    if (!*v)
        return bad_value("bind", v, "empty address", err, errlen);
    return set_string(&c->bind, v, err, errlen);
}

static int f_port(srv_config *c, const char *v, char *err, size_t errlen)
{
    int64_t n;
    if (srv_parse_i64(v, 1, 65535, &n))
        return bad_value("port", v, "expected 1..65535", err, errlen);
    c->port = (int)n;
    return 0;
}

static int f_threads(srv_config *c, const char *v, char *err, size_t errlen)
{
    int64_t n;
    if (srv_parse_i64(v, 0, 1024, &n))
        return bad_value("threads", v, "expected 0 (all cores) .. 1024", err,
                         errlen);
    c->threads = (uint32_t)n;
    return 0;
}

static int f_pin(srv_config *c, const char *v, char *err, size_t errlen)
{
    if (srv_parse_bool(v, &c->pin_threads))
        return bad_value("pin-threads", v, "expected yes or no", err, errlen);
    return 0;
}

static int f_defrag(srv_config *c, const char *v, char *err, size_t errlen)
{
    if (srv_parse_bool(v, &c->activedefrag))
        return bad_value("activedefrag", v, "expected yes or no", err, errlen);
    return 0;
}

static int f_shards(srv_config *c, const char *v, char *err, size_t errlen)
{
    int64_t n;
    if (srv_parse_i64(v, 1, FC_MAX_SHARDS, &n) || (n & (n - 1)))
        return bad_value("shards", v, "expected a power of two, 1..65536", err,
                         errlen);
    c->shards = (uint32_t)n;
    return 0;
}

static int f_requirepass(srv_config *c, const char *v, char *err, size_t errlen)
{
    if (!*v) { /* Redis: an empty requirepass means no password */
        free(c->requirepass);
        c->requirepass = NULL;
        return 0;
    }
    return set_string(&c->requirepass, v, err, errlen);
}

static int f_maxclients(srv_config *c, const char *v, char *err, size_t errlen)
{
    int64_t n;
    if (srv_parse_i64(v, 1, 1000000, &n))
        return bad_value("maxclients", v, "expected 1..1000000", err, errlen);
    c->maxclients = (uint32_t)n;
    return 0;
}

static int f_loglevel(srv_config *c, const char *v, char *err, size_t errlen)
{
    if (srv_parse_loglevel(v, &c->loglevel))
        return bad_value("loglevel", v,
                         "expected debug, verbose, notice or warning", err,
                         errlen);
    return 0;
}

static int f_io(srv_config *c, const char *v, char *err, size_t errlen)
{
    if (strcmp(v, "epoll") && strcmp(v, "uring"))
        return bad_value("io", v, "expected epoll or uring", err, errlen);
    return set_string(&c->io, v, err, errlen);
}

static int f_persistence(srv_config *c, const char *v, char *err, size_t errlen)
{
    if (srv_parse_bool(v, &c->persistence.enabled))
        return bad_value("persistence", v, "expected yes or no", err, errlen);
    return 0;
}

static int f_data_dir(srv_config *c, const char *v, char *err, size_t errlen)
{
    if (!*v)
        return bad_value("data-dir", v, "empty path", err, errlen);
    c->persistence.enabled = true; /* --data-dir alone turns it on */
    return set_string(&c->persistence.data_dir, v, err, errlen);
}

static int f_fsync(srv_config *c, const char *v, char *err, size_t errlen)
{
    if (srv_parse_fsync(v))
        return bad_value("fsync", v, "expected always, interval or no", err,
                         errlen);
    return set_string(&c->persistence.fsync, v, err, errlen);
}

static int f_hash_seed(srv_config *c, const char *v, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 0);
    if (!*v || *v == '-' || *end || errno)
        return bad_value("hash-seed", v, "expected an unsigned 64-bit integer",
                         err, errlen);
    c->hash_seed = (uint64_t)n;
    c->hash_seed_set = true;
    return 0;
}

/* Replication flags turn the section on; the rules that involve several
 * keys (role replica needs replica_of, ...) are checked with the file's in
 * srv_config_check_replication. */
static int repl_addr_flag(const char *flag, char **dst, const char *v,
                          char *err, size_t errlen)
{
    char host[256], why[300];
    uint16_t port;
    if (repl_parse_addr(v, host, sizeof(host), &port, why, sizeof(why)) ||
        port == 0)
        return bad_value(flag, v, "expected HOST:PORT (port 1..65535)", err,
                         errlen);
    return set_string(dst, v, err, errlen);
}

static int f_repl_bind(srv_config *c, const char *v, char *err, size_t errlen)
{
    c->replication.enabled = true;
    return repl_addr_flag("replication-bind", &c->replication.bind_addr, v, err,
                          errlen);
}

static int f_replica_of(srv_config *c, const char *v, char *err, size_t errlen)
{
    c->replication.enabled = true;
    if (set_string(&c->replication.role, "replica", err, errlen))
        return -1;
    return repl_addr_flag("replica-of", &c->replication.replica_of, v, err,
                          errlen);
}

static int f_repl_token(srv_config *c, const char *v, char *err, size_t errlen)
{
    if (!*v)
        return bad_value("replication-token", v, "empty token", err, errlen);
    return set_string(&c->replication.auth_token, v, err, errlen);
}

static int f_metrics_bind(srv_config *c, const char *v, char *err,
                          size_t errlen)
{
    char why[300];
    if (srv_check_metrics_bind(v, why, sizeof(why)))
        return bad_value("metrics-bind", v, why, err, errlen);
    return set_string(&c->metrics_bind, v, err, errlen);
}

static int f_stats_log(srv_config *c, const char *v, char *err, size_t errlen)
{
    if (srv_parse_i64(v, 0, 86400000, &c->stats_log_interval_ms))
        return bad_value("stats-log-interval-ms", v,
                         "expected 0 (off) .. 86400000", err, errlen);
    return 0;
}

static int f_maxmemory(srv_config *c, const char *v, char *err, size_t errlen)
{
    if (srv_parse_memory(v, &c->maxmemory))
        return bad_value("maxmemory", v,
                         "expected a size in bytes (0 = no limit; 100mb, 4gb)",
                         err, errlen);
    return 0;
}

static int f_policy(srv_config *c, const char *v, char *err, size_t errlen)
{
    enum eng_policy p;
    if (eng_policy_parse(v, &p))
        return bad_value("maxmemory-policy", v, "expected " SRV_POLICY_NAMES,
                         err, errlen);
    c->maxmemory_policy = (int)p;
    return 0;
}

static int f_config(srv_config *c, const char *v, char *err, size_t errlen)
{
    return 0; /* loaded between the passes */
}

typedef struct flag {
    const char *name;
    flag_fn fn; /* NULL: no value (help, version) */
    const char *arg;
    const char *help;
} flag;

static const flag flags[] = {
    {"bind", f_bind, "ADDR", "address to listen on (default 127.0.0.1)"},
    {"port", f_port, "PORT", "TCP port (default 6380)"},
    {"threads", f_threads, "N",
     "worker threads (default: online cores). Keys owned by another worker "
     "cost a cross-thread hop, so when clients share a small machine (say 2 "
     "cores and a local benchmark), fewer workers than cores can serve more"},
    {"pin-threads", f_pin, "yes|no",
     "pin each worker to its own CPU (default yes; say no when clients or "
     "other busy processes share the cores: a pinned worker cannot move "
     "away from a busy CPU)"},
    {"activedefrag", f_defrag, "yes|no",
     "move entries out of sparse slab pages and give the memory back, in "
     "small steps on the sweep tick (default yes; Redis's name)"},
    {"shards", f_shards, "N",
     "engine shards, a power of two >= threads (default: 64 per thread, "
     "rounded up to a power of two)"},
    {"config", f_config, "FILE", "TOML config file (flags override it)"},
    {"requirepass", f_requirepass, "PASS", "password for AUTH"},
    {"maxclients", f_maxclients, "N", "max connections (default 10000)"},
    {"loglevel", f_loglevel, "LEVEL",
     "debug|verbose|notice|warning (default notice)"},
    {"io", f_io, "epoll|uring",
     "event loop backend (default: uring when available, else epoll)"},
    {"persistence", f_persistence, "yes|no",
     "WAL + snapshots in the data directory (default no)"},
    {"data-dir", f_data_dir, "DIR",
     "data directory (default ./var/fast-cache); turns persistence on"},
    {"fsync", f_fsync, "always|interval|no",
     "WAL fsync policy (default interval: every fsync_interval_ms)"},
    {"repair-wal", NULL, NULL,
     "start even if the WAL is damaged, keeping its valid prefix"},
    {"replication-bind", f_repl_bind, "ADDR:PORT",
     "accept replicas on this FCRP address (not the client port; default "
     "127.0.0.1:7631); turns replication on, as a primary unless "
     "--replica-of is given too"},
    {"replica-of", f_replica_of, "HOST:PORT",
     "follow the primary whose FCRP address (its --replication-bind, not "
     "its client port) this is; turns replication on as a replica"},
    {"replication-token", f_repl_token, "TOKEN",
     "shared secret: a primary accepts only replicas presenting it, a "
     "replica presents it"},
    {"maxmemory", f_maxmemory, "BYTES",
     "memory limit for the data (100mb, 4gb; default 0 = none), counted as "
     "INFO's used_memory"},
    {"max-memory-bytes", f_maxmemory, "BYTES",
     "the seed's name of --maxmemory"},
    {"maxmemory-policy", f_policy, "POLICY",
     "what goes when over maxmemory: clock (default), noeviction, "
     "allkeys-lru|lfu|random, volatile-lru|lfu|random|ttl"},
    {"eviction-policy", f_policy, "POLICY",
     "the seed's name of --maxmemory-policy (none, lru, lfu, or any of "
     "its values)"},
    {"metrics-bind", f_metrics_bind, "ADDR:PORT",
     "serve Prometheus metrics on http://ADDR:PORT/metrics, from a thread "
     "of its own (numeric address; default off)"},
    {"stats-log-interval-ms", f_stats_log, "MS",
     "log a stats line (ops/s, hit ratio, memory, connections) at notice "
     "level every MS milliseconds (default 0 = off)"},
    {"hash-seed", f_hash_seed, "N",
     "key hash seed, for reproducible key placement in tests (default: "
     "random per process)"},
    {"help", NULL, NULL, "print this help and exit"},
    {"version", NULL, NULL, "print the version and exit"},
};
#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

/* Prints text from column `indent` (where the cursor is), breaking lines
 * between words before column `width` and indenting the next ones. */
static void print_wrapped(FILE *out, const char *text, int indent, int width)
{
    int col = indent;
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, " ");
        if (col > indent && col + 1 + (int)n > width) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fprintf(out, "%.*s", (int)n, p);
        col += (int)n;
        p += n;
        p += strspn(p, " ");
    }
    fputc('\n', out);
}

void srv_config_usage(FILE *out, const char *prog)
{
    fprintf(out,
            "Usage: %s [--config FILE] [options]\n"
            "fast-cache-server: a thread-per-core, Redis-compatible cache "
            "server.\n\nOptions (\"--name value\" or \"--name=value\"):\n",
            prog);
    for (size_t i = 0; i < NFLAGS; i++) {
        char left[40];
        snprintf(left, sizeof(left), "--%s%s%s", flags[i].name,
                 flags[i].arg ? " " : "", flags[i].arg ? flags[i].arg : "");
        fprintf(out, "  %-24s ", left);
        print_wrapped(out, flags[i].help, 27, 79);
    }
}

/* Finds argv[*i]'s flag and value; advances *i past a separate value. */
static int split_flag(int argc, char **argv, int *i, const flag **fl,
                      const char **val, char *err, size_t errlen)
{
    const char *a = argv[*i];
    if (!strcmp(a, "-h"))
        a = "--help";
    else if (!strcmp(a, "-v"))
        a = "--version";
    if (strncmp(a, "--", 2) != 0) {
        snprintf(err, errlen, "unexpected argument '%s' (see --help)", a);
        return -1;
    }
    const char *name = a + 2, *eq = strchr(name, '=');
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    *fl = NULL;
    for (size_t k = 0; k < NFLAGS; k++)
        if (strlen(flags[k].name) == nlen &&
            !strncmp(flags[k].name, name, nlen))
            *fl = &flags[k];
    if (!*fl) {
        snprintf(err, errlen, "unknown option '--%.*s' (see --help)", (int)nlen,
                 name);
        return -1;
    }
    *val = NULL;
    if (!(*fl)->fn) {
        if (eq) {
            snprintf(err, errlen, "option '--%s' takes no value", (*fl)->name);
            return -1;
        }
        return 0;
    }
    if (eq) {
        *val = eq + 1;
    } else if (*i + 1 < argc) {
        *val = argv[++*i];
    } else {
        snprintf(err, errlen, "option '--%s' needs a value", (*fl)->name);
        return -1;
    }
    return 0;
}

int srv_config_from_args(srv_config *c, int argc, char **argv, FILE *out,
                         char *err, size_t errlen)
{
    const char *config_file = NULL;
    const flag *fl;
    const char *val;
    for (int i = 1; i < argc; i++) {
        if (split_flag(argc, argv, &i, &fl, &val, err, errlen))
            return -1;
        if (!strcmp(fl->name, "help")) {
            srv_config_usage(out, argv[0]);
            return SRV_CONFIG_EXIT;
        }
        if (!strcmp(fl->name, "version")) {
            fprintf(out, "fast-cache-server v=%s (redis protocol %s)\n",
                    FC_VERSION_STRING, "7.0");
            return SRV_CONFIG_EXIT;
        }
        if (fl->fn == f_config)
            config_file = val;
    }
    if (config_file && srv_config_load_file(c, config_file, err, errlen))
        return -1;
    for (int i = 1; i < argc; i++) {
        if (split_flag(argc, argv, &i, &fl, &val, err, errlen))
            return -1;
        if (!strcmp(fl->name, "repair-wal"))
            c->persistence.repair = true;
        if (fl->fn && fl->fn(c, val, err, errlen))
            return -1;
    }
    return 0;
}
