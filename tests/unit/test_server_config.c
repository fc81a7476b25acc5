/*
 * test_server_config.c — the server's configuration: the TOML file (valid
 * file, every section, quoting and comments, unknown keys reported as
 * FILE:LINE, bad values), the command line (flags, errors, precedence over
 * the file, help), the derived defaults and the value parsers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fastcache.h"
#include "server/config/config.h"

typedef struct fixture {
    char path[64];
    srv_config cfg;
    char err[512];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->path, sizeof(f->path), "/tmp/fc-test-config-XXXXXX");
    int fd = mkstemp(f->path);
    if (fd < 0) {
        free(f);
        return -1;
    }
    close(fd);
    srv_config_defaults(&f->cfg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    unlink(f->path);
    srv_config_free(&f->cfg);
    free(f);
    return 0;
}

static void write_file(fixture *f, const char *text)
{
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int load(fixture *f, const char *text)
{
    write_file(f, text);
    return srv_config_load_file(&f->cfg, f->path, f->err, sizeof(f->err));
}

static void assert_err(fixture *f, const char *suffix)
{
    char want[600];
    snprintf(want, sizeof(want), "%s%s", f->path, suffix);
    assert_string_equal(f->err, want);
}

static void test_defaults(void **state)
{
    fixture *f = *state;
    assert_string_equal(f->cfg.bind, "127.0.0.1");
    assert_int_equal(f->cfg.port, 6380);
    assert_int_equal(f->cfg.maxclients, 10000);
    assert_int_equal(f->cfg.ttl_sweep_interval_ms, 100);
    assert_int_equal(f->cfg.client_query_buffer_limit, 1024u * 1024 * 1024);
    assert_int_equal(f->cfg.proto_max_bulk_len, 512u * 1024 * 1024);
    assert_null(f->cfg.requirepass);
    assert_int_equal(f->cfg.loglevel, SRV_LOG_NOTICE);
}

static void test_valid_file(void **state)
{
    fixture *f = *state;
    int r = load(f, "# fast-cache\n"
                    "bind_addr = \"0.0.0.0:7001\"\n"
                    "max_connections = 77\n"
                    "shard_count = 256   # inline comment\n"
                    "threads = 3\n"
                    "ttl_sweep_interval_ms = 250\n"
                    "stats_interval_ms = 500\n"
                    "requirepass = \"s3cret\"\n"
                    "loglevel = \"warning\"\n"
                    "io = \"epoll\"\n"
                    "\n"
                    "[persistence]\n"
                    "enabled = true\n"
                    "data_dir = \"/var/lib/fc\"\n"
                    "segment_size_bytes = 1048576\n"
                    "fsync_interval_ms = 250\n"
                    "snapshot_every_seconds = 60\n"
                    "snapshot_min_writes = 5\n"
                    "compress_snapshots = false\n"
                    "wal_channel_capacity = 99\n"
                    "fsync = \"always\"\n"
                    "[tiers]\n"
                    "enabled = false\n"
                    "path = '/mnt/ssd'\n"
                    "[replication]\n"
                    "role = \"replica\"\n"
                    "bind_addr = \"127.0.0.1:7100\"\n"
                    "replica_of = \"10.0.0.1:7100\"\n"
                    "auth_token = \"tok \\\"q\\\"\"\n");
    assert_int_equal(r, 0);
    srv_config *c = &f->cfg;
    assert_string_equal(c->bind, "0.0.0.0");
    assert_int_equal(c->port, 7001);
    assert_int_equal(c->maxclients, 77);
    assert_int_equal(c->shards, 256);
    assert_int_equal(c->threads, 3);
    assert_int_equal(c->ttl_sweep_interval_ms, 250);
    assert_int_equal(c->stats_interval_ms, 500);
    assert_string_equal(c->requirepass, "s3cret");
    assert_int_equal(c->loglevel, SRV_LOG_WARNING);
    assert_string_equal(c->io, "epoll");
    assert_true(c->persistence.enabled);
    assert_string_equal(c->persistence.data_dir, "/var/lib/fc");
    assert_int_equal(c->persistence.segment_size_bytes, 1048576);
    assert_int_equal(c->persistence.fsync_interval_ms, 250);
    assert_int_equal(c->persistence.snapshot_every_seconds, 60);
    assert_int_equal(c->persistence.snapshot_min_writes, 5);
    assert_false(c->persistence.compress_snapshots);
    assert_int_equal(c->persistence.wal_channel_capacity, 99);
    assert_string_equal(c->persistence.fsync, "always");
    assert_false(c->tiers.enabled);
    assert_string_equal(c->tiers.path, "/mnt/ssd");
    assert_string_equal(c->replication.role, "replica");
    assert_string_equal(c->replication.bind_addr, "127.0.0.1:7100");
    assert_string_equal(c->replication.replica_of, "10.0.0.1:7100");
    assert_string_equal(c->replication.auth_token, "tok \"q\"");
    assert_string_equal(c->config_file, f->path);
}

/* The example shipped at the repository root must load as it is. */
static void test_shipped_example(void **state)
{
    fixture *f = *state;
    /* CMake compiles with absolute paths: __FILE__ locates the repo. */
    char path[1024];
    snprintf(path, sizeof(path), "%s", __FILE__);
    char *slash = strrchr(path, '/');
    assert_non_null(slash);
    snprintf(slash, sizeof(path) - (size_t)(slash - path),
             "/../../fast-cache.toml.example");
    assert_int_equal(
        srv_config_load_file(&f->cfg, path, f->err, sizeof(f->err)), 0);
    assert_string_equal(f->cfg.bind, "127.0.0.1");
    assert_int_equal(f->cfg.port, 6380);
    assert_null(f->cfg.requirepass); /* "" means none */
    assert_int_equal(f->cfg.client_query_buffer_limit, 1024u * 1024 * 1024);
    assert_false(f->cfg.persistence.enabled);
    assert_true(f->cfg.activedefrag);
    assert_null(f->cfg.metrics_bind); /* "" = off */
    assert_int_equal(f->cfg.stats_log_interval_ms, 0);
    /* Its [replication] section spells out the defaults, and they pass the
     * checks once replication is turned on. */
    assert_false(f->cfg.replication.enabled);
    assert_string_equal(f->cfg.replication.role, "primary");
    assert_string_equal(f->cfg.replication.bind_addr, "127.0.0.1:7631");
    assert_null(f->cfg.replication.replica_of);
    assert_null(f->cfg.replication.auth_token);
    assert_int_equal(f->cfg.replication.backlog_bytes, 64u << 20);
    assert_int_equal(f->cfg.replication.batch_max_delay_us, 750);
    f->cfg.replication.enabled = true;
    assert_int_equal(
        srv_config_check_replication(&f->cfg, f->err, sizeof(f->err)), 0);
}

static void test_ipv6_and_bare_host(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f, "bind_addr = \"[::1]:6390\"\n"), 0);
    assert_string_equal(f->cfg.bind, "::1");
    assert_int_equal(f->cfg.port, 6390);
    assert_int_equal(load(f, "bind_addr = \"localhost\"\n"), 0);
    assert_string_equal(f->cfg.bind, "localhost");
    assert_int_equal(f->cfg.port, 6390); /* unchanged */
}

static void test_unknown_key(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f, "threads = 2\n\n[persistence]\nenabled = "
                             "false\nwal_directory = \"x\"\n"),
                     -1);
    assert_err(f, ":5: unknown key 'wal_directory' in section [persistence]");
    assert_int_equal(load(f, "portt = 1\n"), -1);
    assert_err(f, ":1: unknown key 'portt' in section [top-level]");
}

static void test_unknown_section(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f, "[cluster]\nenabled = true\n"), -1);
    assert_err(f, ":2: unknown section [cluster]");
}

static void test_bad_values(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f, "max_connections = lots\n"), -1);
    assert_err(f, ":1: 'max_connections' must be an integer in [1, "
                  "1000000], got 'lots'");
    assert_int_equal(load(f, "\nbind_addr = \"1.2.3.4:70000\"\n"), -1);
    assert_err(f, ":2: 'bind_addr' must be \"host:port\", got "
                  "'\"1.2.3.4:70000\"'");
    assert_int_equal(load(f, "[persistence]\nenabled = maybe\n"), -1);
    assert_err(f, ":2: 'enabled' must be true or false, got 'maybe'");
    assert_int_equal(load(f, "[persistence]\nfsync = \"sometimes\"\n"), -1);
    assert_err(f, ":2: 'fsync' must be \"always\", \"interval\" or \"no\", "
                  "got \"sometimes\"");
    assert_int_equal(load(f, "loglevel = \"loud\"\n"), -1);
    assert_int_equal(load(f, "requirepass = \"unterminated\n"), -1);
    assert_err(f, ":1: bad string value for 'requirepass'");
    assert_int_equal(load(f, "shard_count = -1\n"), -1);
    assert_int_equal(load(f, "this line has no equals sign\n"), -1);
    assert_err(f, ":1: syntax error");
}

static void test_missing_file(void **state)
{
    fixture *f = *state;
    assert_int_equal(srv_config_load_file(&f->cfg, "/nonexistent/fc.toml",
                                          f->err, sizeof(f->err)),
                     -1);
    assert_non_null(strstr(f->err, "/nonexistent/fc.toml: cannot open"));
}

static int args(fixture *f, FILE *out, int argc, ...)
{
    char *argv[16] = {"fast-cache-server"};
    va_list ap;
    va_start(ap, argc);
    for (int i = 1; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    return srv_config_from_args(&f->cfg, argc, argv, out, f->err,
                                sizeof(f->err));
}

static void test_cli_flags(void **state)
{
    fixture *f = *state;
    assert_int_equal(args(f, stdout, 13, "--bind", "::", "--port", "7005",
                          "--threads=4", "--shards", "512", "--requirepass",
                          "pw", "--maxclients", "9", "--loglevel=debug"),
                     0);
    assert_string_equal(f->cfg.bind, "::");
    assert_int_equal(f->cfg.port, 7005);
    assert_int_equal(f->cfg.threads, 4);
    assert_int_equal(f->cfg.shards, 512);
    assert_string_equal(f->cfg.requirepass, "pw");
    assert_int_equal(f->cfg.maxclients, 9);
    assert_int_equal(f->cfg.loglevel, SRV_LOG_DEBUG);
    assert_int_equal(args(f, stdout, 3, "--io", "uring"), 0);
    assert_string_equal(f->cfg.io, "uring");
}

static void test_cli_errors(void **state)
{
    fixture *f = *state;
    assert_int_equal(args(f, stdout, 2, "--nope"), -1);
    assert_string_equal(f->err, "unknown option '--nope' (see --help)");
    assert_int_equal(args(f, stdout, 2, "--port"), -1);
    assert_string_equal(f->err, "option '--port' needs a value");
    assert_int_equal(args(f, stdout, 3, "--port", "0"), -1);
    assert_string_equal(f->err,
                        "invalid value '0' for --port: expected 1..65535");
    assert_int_equal(args(f, stdout, 3, "--shards", "100"), -1);
    assert_int_equal(args(f, stdout, 3, "--threads", "x"), -1);
    assert_int_equal(args(f, stdout, 3, "--io", "kqueue"), -1);
    assert_int_equal(args(f, stdout, 3, "--loglevel", "loud"), -1);
    assert_int_equal(args(f, stdout, 2, "positional"), -1);
    assert_string_equal(f->err,
                        "unexpected argument 'positional' (see --help)");
    assert_int_equal(args(f, stdout, 2, "--help=1"), -1);
}

static void test_cli_overrides_file(void **state)
{
    fixture *f = *state;
    write_file(f, "bind_addr = \"127.0.0.2:7000\"\nthreads = 2\n"
                  "max_connections = 5\n");
    /* The flag wins whether it comes before or after --config. */
    assert_int_equal(args(f, stdout, 5, "--port", "7001", "--config", f->path),
                     0);
    assert_int_equal(f->cfg.port, 7001);
    assert_string_equal(f->cfg.bind, "127.0.0.2");
    assert_int_equal(f->cfg.threads, 2);
    assert_int_equal(
        args(f, stdout, 5, "--config", f->path, "--maxclients", "6"), 0);
    assert_int_equal(f->cfg.maxclients, 6);
    assert_int_equal(f->cfg.port, 7000); /* from the file this time */
}

static void test_cli_bad_file(void **state)
{
    fixture *f = *state;
    write_file(f, "threads = 2\nbogus = 1\n");
    assert_int_equal(args(f, stdout, 3, "--config", f->path), -1);
    assert_err(f, ":2: unknown key 'bogus' in section [top-level]");
}

static void test_help_and_version(void **state)
{
    fixture *f = *state;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    assert_int_equal(args(f, out, 2, "--help"), SRV_CONFIG_EXIT);
    fflush(out);
    assert_non_null(strstr(text, "--port PORT"));
    assert_non_null(strstr(text, "--config FILE"));
    assert_non_null(strstr(text, "--replication-bind ADDR:PORT"));
    assert_non_null(strstr(text, "--replica-of HOST:PORT"));
    assert_non_null(strstr(text, "--replication-token TOKEN"));
    assert_int_equal(args(f, out, 2, "--version"), SRV_CONFIG_EXIT);
    fclose(out);
    assert_non_null(strstr(text, "fast-cache-server v="));
    free(text);
}

/* --- [replication] ---------------------------------------------------------
 */

static void test_replication_defaults(void **state)
{
    fixture *f = *state;
    srv_config *c = &f->cfg;
    assert_false(c->replication.enabled);
    assert_string_equal(c->replication.role, "primary");
    assert_string_equal(c->replication.bind_addr, "127.0.0.1:7631");
    assert_null(c->replication.replica_of);
    assert_null(c->replication.auth_token);
    assert_string_equal(c->replication.compression, "none");
    assert_int_equal(c->replication.zstd_level, 3);
    assert_string_equal(c->replication.send_policy, "batch");
    assert_int_equal(c->replication.batch_max_records, 512);
    assert_int_equal(c->replication.batch_max_bytes, 1u << 20);
    assert_int_equal(c->replication.batch_max_delay_us, 750);
    assert_int_equal(c->replication.backlog_bytes, 64u << 20);
    assert_int_equal(c->replication.snapshot_chunk_bytes, 1u << 20);
    assert_int_equal(c->replication.queue_capacity, 16384);
    assert_int_equal(c->replication.max_replicas, 16);
    assert_int_equal(c->replication.connect_timeout_ms, 500);
    assert_int_equal(c->replication.write_timeout_ms, 500);
    assert_int_equal(c->replication.reconnect_backoff_ms, 200);
    assert_int_equal(c->replication.subscriber_channel_capacity, 1024);
    /* The defaults are valid once turned on (a primary needs nothing). */
    c->replication.enabled = true;
    assert_int_equal(srv_config_check_replication(c, f->err, sizeof(f->err)),
                     0);
}

static void test_replication_every_key(void **state)
{
    fixture *f = *state;
    int r = load(f, "[replication]\n"
                    "enabled = true\n"
                    "role = \"replica\"\n"
                    "bind_addr = \"0.0.0.0:7700\"\n"
                    "replica_of = '[::1]:7631'\n"
                    "auth_token = \"s3cret\"\n"
                    "compression = \"zstd\"\n"
                    "zstd_level = 19\n"
                    "send_policy = \"immediate\"\n"
                    "batch_max_records = 64\n"
                    "batch_max_bytes = \"256kb\"\n"
                    "batch_max_delay_us = 0\n"
                    "backlog_bytes = 2mb\n"
                    "snapshot_chunk_bytes = 65536\n"
                    "queue_capacity = 100\n"
                    "max_replicas = 1\n"
                    "connect_timeout_ms = 1500\n"
                    "write_timeout_ms = 2500\n"
                    "reconnect_backoff_ms = 50\n"
                    "subscriber_channel_capacity = 8\n");
    assert_int_equal(r, 0);
    srv_config *c = &f->cfg;
    assert_true(c->replication.enabled);
    assert_string_equal(c->replication.role, "replica");
    assert_string_equal(c->replication.bind_addr, "0.0.0.0:7700");
    assert_string_equal(c->replication.replica_of, "[::1]:7631");
    assert_string_equal(c->replication.auth_token, "s3cret");
    assert_string_equal(c->replication.compression, "zstd");
    assert_int_equal(c->replication.zstd_level, 19);
    assert_string_equal(c->replication.send_policy, "immediate");
    assert_int_equal(c->replication.batch_max_records, 64);
    assert_int_equal(c->replication.batch_max_bytes, 256u * 1024);
    assert_int_equal(c->replication.batch_max_delay_us, 0);
    assert_int_equal(c->replication.backlog_bytes, 2u << 20);
    assert_int_equal(c->replication.snapshot_chunk_bytes, 65536);
    assert_int_equal(c->replication.queue_capacity, 100);
    assert_int_equal(c->replication.max_replicas, 1);
    assert_int_equal(c->replication.connect_timeout_ms, 1500);
    assert_int_equal(c->replication.write_timeout_ms, 2500);
    assert_int_equal(c->replication.reconnect_backoff_ms, 50);
    assert_int_equal(c->replication.subscriber_channel_capacity, 8);
    assert_int_equal(srv_config_check_replication(c, f->err, sizeof(f->err)),
                     0);
    /* lz4 is ours (negotiated in Hello); Redis's role names are aliases,
     * stored under our names. */
    assert_int_equal(load(f, "[replication]\ncompression = \"lz4\"\n"
                             "role = \"master\"\n"),
                     0);
    assert_string_equal(c->replication.compression, "lz4");
    assert_string_equal(c->replication.role, "primary");
    assert_int_equal(load(f, "[replication]\nrole = \"slave\"\n"), 0);
    assert_string_equal(c->replication.role, "replica");
}

static void test_replication_bad_values(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f, "[replication]\nrole = \"leader\"\n"), -1);
    assert_err(f, ":2: 'role' must be \"primary\" or \"replica\" (or "
                  "\"master\", \"slave\"), got \"leader\"");
    assert_int_equal(load(f, "[replication]\nrole = \"none\"\n"), -1);
    assert_int_equal(load(f, "[replication]\ncompression = \"gzip\"\n"), -1);
    assert_err(f, ":2: 'compression' must be \"none\", \"zstd\" or \"lz4\", "
                  "got \"gzip\"");
    assert_int_equal(load(f, "[replication]\nsend_policy = \"lazy\"\n"), -1);
    assert_err(f, ":2: 'send_policy' must be \"batch\" or \"immediate\", got "
                  "\"lazy\"");
    assert_int_equal(load(f, "[replication]\nenabled = sure\n"), -1);
    assert_err(f, ":2: 'enabled' must be true or false, got 'sure'");
    assert_int_equal(load(f, "[replication]\nbatch_max_records = -1\n"), -1);
    assert_err(f, ":2: 'batch_max_records' must be an integer in [0, "
                  "16777216], got '-1'");
    assert_int_equal(load(f, "[replication]\nmax_replicas = many\n"), -1);
    assert_int_equal(load(f, "[replication]\nbacklog_bytes = \"lots\"\n"), -1);
    assert_err(f, ":2: 'backlog_bytes' must be a size in bytes (suffixes k, "
                  "kb, m, mb, g, gb), got \"lots\"");
    assert_int_equal(load(f, "[replication]\nsnapshot_chunk_bytes = 1tb\n"),
                     -1);
    /* The seed spec has no `upstream` (it is replica_of). */
    assert_int_equal(load(f, "[replication]\nupstream = \"h:1\"\n"), -1);
    assert_err(f, ":2: unknown key 'upstream' in section [replication]");
}

/* Loads text, then runs the checks the start-up path runs. */
static const char *check_text(fixture *f, const char *text)
{
    srv_config_free(&f->cfg);
    srv_config_defaults(&f->cfg);
    if (load(f, text))
        return f->err;
    if (srv_config_check_replication(&f->cfg, f->err, sizeof(f->err)))
        return f->err;
    return "ok";
}

static void test_replication_checks(void **state)
{
    fixture *f = *state;
#define ON "[replication]\nenabled = true\n"
    /* Nothing is judged while replication is off. */
    assert_string_equal(check_text(f, "[replication]\nbind_addr = \"\"\n"
                                      "zstd_level = 99\nmax_replicas = 0\n"),
                        "ok");
    assert_string_equal(check_text(f, ON), "ok");
    assert_string_equal(check_text(f, ON "bind_addr = \"  \"\n"),
                        "[replication] bind_addr must be set");
    assert_string_equal(check_text(f, ON "bind_addr = \"localhost\"\n"),
                        "[replication] bind_addr: 'localhost' is not "
                        "HOST:PORT");
    assert_string_equal(check_text(f, ON "bind_addr = \"h:99999\"\n"),
                        "[replication] bind_addr: 'h:99999' is not "
                        "HOST:PORT");
    assert_string_equal(check_text(f, ON "bind_addr = \"[::1]:0\"\n"), "ok");
    assert_string_equal(check_text(f, ON "role = \"replica\"\n"),
                        "[replication] replica_of must be set for the "
                        "replica role (replica_of = \"host:port\" or "
                        "--replica-of HOST:PORT)");
    assert_string_equal(
        check_text(f, ON "role = \"slave\"\nreplica_of = \"10.1.1.1\"\n"),
        "[replication] replica_of: '10.1.1.1' is not HOST:PORT");
    assert_string_equal(
        check_text(f, ON "role = \"replica\"\nreplica_of = \"h:0\"\n"),
        "[replication] replica_of: port must be 1..65535, got 'h:0'");
    assert_string_equal(
        check_text(f, ON "role = \"replica\"\nreplica_of = \"h:7631\"\n"),
        "ok");
    assert_string_equal(check_text(f, ON "replica_of = \"h:7631\"\n"),
                        "[replication] replica_of is set but role is "
                        "primary (set role = \"replica\", or use "
                        "--replica-of)");
    assert_string_equal(check_text(f, ON "auth_token = \"\"\n"),
                        "[replication] auth_token must not be empty");
    assert_string_equal(check_text(f, ON "zstd_level = 0\n"),
                        "[replication] zstd_level must be 1..22, got 0");
    assert_string_equal(check_text(f, ON "zstd_level = 23\n"),
                        "[replication] zstd_level must be 1..22, got 23");
    assert_string_equal(check_text(f, ON "zstd_level = 22\n"), "ok");
    static const char *const positive[] = {
        "batch_max_records",           "batch_max_bytes",    "backlog_bytes",
        "snapshot_chunk_bytes",        "queue_capacity",     "max_replicas",
        "subscriber_channel_capacity", "connect_timeout_ms", "write_timeout_ms",
        "reconnect_backoff_ms"};
    for (size_t i = 0; i < sizeof(positive) / sizeof(positive[0]); i++) {
        char text[256], want[128];
        snprintf(text, sizeof(text), ON "%s = 0\n", positive[i]);
        snprintf(want, sizeof(want), "[replication] %s must be > 0",
                 positive[i]);
        assert_string_equal(check_text(f, text), want);
    }
    /* 0 is a valid delay: flush at every tick. */
    assert_string_equal(check_text(f, ON "batch_max_delay_us = 0\n"), "ok");
    assert_string_equal(check_text(f, ON "batch_max_bytes = 33mb\n"),
                        "[replication] batch_max_bytes must be at most "
                        "33554432 bytes (32mb: a frame's payload is capped "
                        "at 64 MiB)");
    assert_string_equal(check_text(f, ON "snapshot_chunk_bytes = 32mb\n"),
                        "ok");
#undef ON
}

static void test_replication_flags(void **state)
{
    fixture *f = *state;
    srv_config *c = &f->cfg;
    assert_int_equal(args(f, stdout, 5, "--replication-bind", "127.0.0.1:7711",
                          "--replication-token", "tok"),
                     0);
    assert_true(c->replication.enabled);
    assert_string_equal(c->replication.role, "primary");
    assert_string_equal(c->replication.bind_addr, "127.0.0.1:7711");
    assert_string_equal(c->replication.auth_token, "tok");
    assert_int_equal(srv_config_resolve(c, 2, f->err, sizeof(f->err)), 0);

    srv_config_free(c);
    srv_config_defaults(c);
    assert_int_equal(args(f, stdout, 2, "--replica-of=127.0.0.1:7711"), 0);
    assert_true(c->replication.enabled);
    assert_string_equal(c->replication.role, "replica");
    assert_string_equal(c->replication.replica_of, "127.0.0.1:7711");
    assert_null(c->replication.auth_token);
    assert_int_equal(srv_config_resolve(c, 2, f->err, sizeof(f->err)), 0);

    assert_int_equal(args(f, stdout, 3, "--replica-of", "nowhere"), -1);
    assert_string_equal(f->err, "invalid value 'nowhere' for --replica-of: "
                                "expected HOST:PORT (port 1..65535)");
    assert_int_equal(args(f, stdout, 3, "--replication-bind", "h:0"), -1);
    assert_string_equal(f->err, "invalid value 'h:0' for --replication-bind: "
                                "expected HOST:PORT (port 1..65535)");
    assert_int_equal(args(f, stdout, 3, "--replication-token", ""), -1);
    assert_string_equal(f->err, "invalid value '' for --replication-token: "
                                "empty token");
    assert_int_equal(args(f, stdout, 2, "--replicaof"), -1);
    assert_string_equal(f->err, "unknown option '--replicaof' (see --help)");
}

/* Flags and the file are judged together, after both are applied. */
static void test_replication_flags_and_file(void **state)
{
    fixture *f = *state;
    srv_config *c = &f->cfg;
    write_file(f, "[replication]\nenabled = true\nrole = \"replica\"\n"
                  "replica_of = \"h:1\"\nmax_replicas = 0\n");
    assert_int_equal(args(f, stdout, 3, "--config", f->path), 0);
    assert_int_equal(srv_config_resolve(c, 2, f->err, sizeof(f->err)), -1);
    assert_string_equal(f->err, "[replication] max_replicas must be > 0");

    srv_config_free(c);
    srv_config_defaults(c);
    write_file(f, "[replication]\nrole = \"replica\"\n"
                  "auth_token = \"from-file\"\n");
    assert_int_equal(args(f, stdout, 3, "--config", f->path), 0);
    assert_false(c->replication.enabled);
    assert_int_equal(srv_config_resolve(c, 2, f->err, sizeof(f->err)), 0);
    /* The flag turns it on: now role replica needs replica_of... */
    assert_int_equal(args(f, stdout, 5, "--replication-bind", "127.0.0.1:7712",
                          "--config", f->path),
                     0);
    assert_int_equal(srv_config_resolve(c, 2, f->err, sizeof(f->err)), -1);
    assert_non_null(strstr(f->err, "replica_of must be set"));
    /* ...which --replica-of gives; the flag's token wins over the file's. */
    assert_int_equal(args(f, stdout, 7, "--config", f->path, "--replica-of",
                          "127.0.0.1:7713", "--replication-token", "flag"),
                     0);
    assert_string_equal(c->replication.replica_of, "127.0.0.1:7713");
    assert_string_equal(c->replication.auth_token, "flag");
    assert_int_equal(srv_config_resolve(c, 2, f->err, sizeof(f->err)), 0);
}

static void test_resolve(void **state)
{
    fixture *f = *state;
    assert_int_equal(srv_config_resolve(&f->cfg, 3, f->err, sizeof(f->err)), 0);
    assert_int_equal(f->cfg.threads, 3);
    assert_int_equal(f->cfg.shards, 256); /* 3 * 64 = 192 -> 256 */
    f->cfg.threads = 8;
    f->cfg.shards = 4;
    assert_int_equal(srv_config_resolve(&f->cfg, 3, f->err, sizeof(f->err)),
                     -1);
    assert_string_equal(f->err, "shards (4) must be at least threads (8)");
}

/* route_mode (issue 12): full_key by default, session_prefix accepted,
 * anything else refused; session_prefix needs persistence off. */
static void test_route_mode(void **state)
{
    fixture *f = *state;
    assert_int_equal(f->cfg.route_mode, FC_ROUTE_FULL_KEY);
    assert_int_equal(load(f, "route_mode = \"session_prefix\"\n"), 0);
    assert_int_equal(f->cfg.route_mode, FC_ROUTE_SESSION_PREFIX);
    assert_int_equal(load(f, "route_mode = full_key\n"), 0);
    assert_int_equal(f->cfg.route_mode, FC_ROUTE_FULL_KEY);
    assert_int_equal(load(f, "route_mode = \"by_session\"\n"), -1);
    assert_err(f, ":1: 'route_mode' must be \"full_key\" or "
                  "\"session_prefix\", got \"by_session\"");
    assert_int_equal(load(f, "route_mode = \"session_prefix\"\n"
                             "[persistence]\nenabled = true\n"),
                     0);
    assert_int_equal(srv_config_resolve(&f->cfg, 2, f->err, sizeof(f->err)),
                     -1);
    assert_string_equal(f->err,
                        "route_mode = \"session_prefix\" needs [persistence] "
                        "enabled = false (recovery places keys by their full "
                        "hash)");
    f->cfg.persistence.enabled = false;
    assert_int_equal(srv_config_resolve(&f->cfg, 2, f->err, sizeof(f->err)), 0);
}

static void test_parsers(void **state)
{
    size_t sz;
    assert_int_equal(srv_parse_memory("1kb", &sz), 0);
    assert_int_equal(sz, 1024);
    assert_int_equal(srv_parse_memory("2k", &sz), 0);
    assert_int_equal(sz, 2000);
    assert_int_equal(srv_parse_memory("1GB", &sz), 0);
    assert_int_equal(sz, 1024u * 1024 * 1024);
    assert_int_equal(srv_parse_memory("12", &sz), 0);
    assert_int_equal(sz, 12);
    assert_int_equal(srv_parse_memory("1tb", &sz), -1);
    assert_int_equal(srv_parse_memory("-1", &sz), -1);
    bool b;
    assert_int_equal(srv_parse_bool("TRUE", &b), 0);
    assert_true(b);
    assert_int_equal(srv_parse_bool("no", &b), 0);
    assert_false(b);
    assert_int_equal(srv_parse_bool("2", &b), -1);
    int64_t v;
    assert_int_equal(srv_parse_i64("42", 0, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(srv_parse_i64("101", 0, 100, &v), -1);
    assert_int_equal(srv_parse_i64(" 1", 0, 100, &v), -1);
    assert_int_equal(srv_parse_i64("1x", 0, 100, &v), -1);
}

/* metrics_bind / --metrics-bind and stats_log_interval_ms: off by default,
 * numeric HOST:PORT only, errors naming the key or flag. */
static void test_metrics_keys(void **state)
{
    fixture *f = *state;
    assert_null(f->cfg.metrics_bind);
    assert_int_equal(f->cfg.stats_log_interval_ms, 0);
    assert_int_equal(load(f, "metrics_bind = \"127.0.0.1:9121\"\n"
                             "stats_log_interval_ms = 5000\n"),
                     0);
    assert_string_equal(f->cfg.metrics_bind, "127.0.0.1:9121");
    assert_int_equal(f->cfg.stats_log_interval_ms, 5000);
    assert_int_equal(load(f, "metrics_bind = \"[::1]:9121\"\n"), 0);
    assert_string_equal(f->cfg.metrics_bind, "[::1]:9121");
    assert_int_equal(load(f, "metrics_bind = \"\"\n"), 0); /* off again */
    assert_null(f->cfg.metrics_bind);
    assert_int_equal(load(f, "metrics_bind = \"localhost:9121\"\n"), -1);
    assert_err(f, ":1: 'metrics_bind' must be \"HOST:PORT\" (host must be a "
                  "numeric IPv4 or IPv6 address), got \"localhost:9121\"");
    assert_int_equal(load(f, "metrics_bind = \"127.0.0.1:0\"\n"), -1);
    assert_err(f, ":1: 'metrics_bind' must be \"HOST:PORT\" (port must be "
                  "1..65535), got \"127.0.0.1:0\"");
    assert_int_equal(load(f, "metrics_bind = \"127.0.0.1\"\n"), -1);
    assert_int_equal(load(f, "metrics_bind = \"127.0.0.1:70000\"\n"), -1);
    assert_int_equal(load(f, "stats_log_interval_ms = -1\n"), -1);
    assert_int_equal(args(f, stdout, 5, "--metrics-bind", "127.0.0.2:9000",
                          "--stats-log-interval-ms", "250"),
                     0);
    assert_string_equal(f->cfg.metrics_bind, "127.0.0.2:9000");
    assert_int_equal(f->cfg.stats_log_interval_ms, 250);
    assert_int_equal(args(f, stdout, 3, "--metrics-bind", "nohost"), -1);
    assert_non_null(strstr(f->err, "invalid value 'nohost' for "
                                   "--metrics-bind"));
    assert_int_equal(args(f, stdout, 3, "--metrics-bind", "10.0.0.1:99999"),
                     -1);
    assert_int_equal(args(f, stdout, 3, "--stats-log-interval-ms", "x"), -1);
    assert_string_equal(f->err, "invalid value 'x' for "
                                "--stats-log-interval-ms: expected 0 (off) "
                                ".. 86400000");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_valid_file),
        T(test_shipped_example),
        T(test_ipv6_and_bare_host),
        T(test_unknown_key),
        T(test_unknown_section),
        T(test_bad_values),
        T(test_missing_file),
        T(test_cli_flags),
        T(test_cli_errors),
        T(test_cli_overrides_file),
        T(test_cli_bad_file),
        T(test_help_and_version),
        T(test_replication_defaults),
        T(test_replication_every_key),
        T(test_replication_bad_values),
        T(test_replication_checks),
        T(test_replication_flags),
        T(test_replication_flags_and_file),
        T(test_resolve),
        T(test_route_mode),
        T(test_parsers),
        T(test_metrics_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
