/*
 * srvcmd.h — server-level commands (connection, server, introspection) and
 * the process's unified command table.
 *
 * A server command is a cmd_def (name, arity, flags, key positions and docs,
 * exactly as data commands declare them, with def.fn NULL) plus a function
 * that also sees the server, the worker and, when it runs on its own
 * connection's worker, the connection. Each family lives in one file
 * (cmd_conn.c, cmd_client.c, cmd_info.c, cmd_config.c, cmd_command.c,
 * cmd_server.c) and exports its table through one srv_cmds_<family>()
 * function; srvcmd.c lists the families. Adding a family = one file + one
 * line in srvcmd.c.
 *
 * Routing of server commands:
 *  - keyed ones (first_key > 0: MEMORY USAGE, OBJECT ...) are routed like
 *    data commands and may run on another worker: x->conn is then NULL, so
 *    they must not need it;
 *  - SRV_CMD_EXCL ones (CONFIG SET, MEMORY STATS, ...) read or write
 *    state of every worker: they run on the connection's worker with all
 *    other workers parked;
 *  - SRV_CMD_EVERY ones (CLIENT LIST, CLIENT KILL) concern what every
 *    worker holds for itself: they run on the connection's worker and
 *    gather each worker's part by message (srv_every, route/route.h);
 *  - the rest run inline on the connection's worker.
 *
 * The unified table (srv_cmdtab) merges these with the data commands of
 * command.h; a server command wins on a name clash. It is built once at
 * start and read-only afterwards, so every worker may look names up.
 *
 * Threads: the tables are immutable. A command function runs on one worker
 *   with the guarantees of its routing (above).
 * Memory: argv views are borrowed for the call; replies go to x->c->w.
 */
#ifndef FC_SERVER_SRVCMD_H
#define FC_SERVER_SRVCMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commands/command.h"

struct srv_server;
struct srv_worker;
struct conn;

typedef struct srv_exec {
    cmd_ctx *c; /* argv, writer, shards, time */
    struct srv_server *srv;
    struct srv_worker *w; /* the worker running the command */
    struct conn *conn;    /* NULL when run for another worker's client */
} srv_exec;

typedef void (*srv_cmd_fn)(srv_exec *x);

enum srv_cmd_flag {
    SRV_CMD_EXCL = 1u << 0,     /* run with every other worker parked */
    SRV_CMD_STALE_OK = 1u << 1, /* informational (COMMAND flags) */
    SRV_CMD_TX = 1u << 2,       /* MULTI, EXEC, ...: routed by multi.c */
    SRV_CMD_NO_MULTI = 1u << 3, /* refused inside MULTI (SHUTDOWN) */
    /* Answered from per-worker published figures (pubstats.h): inline, no
     * parking, once the connection's earlier requests are back. Wins over
     * the def's CMD_ALLKEYS. */
    SRV_CMD_PUBLISHED = 1u << 4,
    /* Gathers every worker's part by message (srv_every): inline, no
     * parking, once there is room towards every worker. Inside EXEC it
     * counts as exclusive (multi.c), and the command then reads every
     * worker directly (its srv_router holds the token). */
    SRV_CMD_EVERY = 1u << 5,
    /* May block (blocking.h): runs on its connection's worker, inline when
     * that worker owns its keys, else exclusively. */
    SRV_CMD_BLOCK = 1u << 6,
    /* Its key positions are Redis's "not_key" ones (SSUBSCRIBE's shard
     * channels): shown by COMMAND, never routed on; it runs inline on its
     * connection's worker. */
    SRV_CMD_NOTKEY = 1u << 7,
    /* EVAL and its kin: routed by multi.c (with SRV_CMD_TX), which runs
     * them on their connection's worker once its earlier requests are
     * back; inside MULTI, EXEC then runs exclusively (script.h). */
    SRV_CMD_SCRIPT = 1u << 8,
};

/* A subcommand, for COMMAND / COMMAND DOCS output only (the parent's
 * function dispatches). */
typedef struct srv_subcmd {
    const char *name; /* lower case, without the parent: "id" */
    int arity;        /* counts the parent: CLIENT ID = 2 */
    unsigned flags;   /* enum cmd_flag */
    unsigned sflags;  /* enum srv_cmd_flag: SRV_CMD_EXCL routes exclusively
                         (CONFIG SET) while the parent does not */
    const char *summary;
} srv_subcmd;

typedef struct srv_cmd {
    cmd_def def; /* def.fn unused (NULL) */
    srv_cmd_fn fn;
    unsigned sflags;        /* enum srv_cmd_flag */
    const srv_subcmd *subs; /* NULL-name terminated, or NULL */
} srv_cmd;

/* Families (one per cmd_*.c file). */
const srv_cmd *srv_cmds_conn(size_t *n);
const srv_cmd *srv_cmds_client(size_t *n);
const srv_cmd *srv_cmds_info(size_t *n);
const srv_cmd *srv_cmds_config(size_t *n);
const srv_cmd *srv_cmds_command(size_t *n);
const srv_cmd *srv_cmds_server(size_t *n);
const srv_cmd *srv_cmds_multi(size_t *n);
const srv_cmd *srv_cmds_script(size_t *n);
const srv_cmd *srv_cmds_persist(size_t *n);
const srv_cmd *srv_cmds_repl(size_t *n);
/* INFO's Persistence section (cmd_persist.c). */
struct fc_buf;
void srv_info_persistence(struct srv_server *s, struct fc_buf *b);
/* Appends one INFO line ("field:value" + CRLF) (cmd_info.c). */
void srv_info_line(struct fc_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const srv_cmd *srv_cmds_pub(size_t *n);    /* pubstats.c */
const srv_cmd *srv_cmds_pubsub(size_t *n); /* cmd_pubsub.c */
const srv_cmd *srv_cmds_latency(size_t *n); /* cmd_latency.c */
const srv_cmd *srv_cmds_slowlog(size_t *n); /* cmd_slowlog.c */

/* One entry of the unified table. */
typedef struct srv_cmdent {
    const cmd_def *def;
    const srv_cmd *scmd; /* NULL for data commands */
    uint32_t index;      /* 0..count-1: slot in per-command statistics */
} srv_cmdent;

#define SRV_NAME_MAX 32 /* longer names are no command's */

typedef struct srv_cmdtab {
    srv_cmdent *ents; /* [count], server commands first, then data */
    size_t count;
    uint32_t *hash; /* open addressing over ents, 0 = empty, else i+1 */
    size_t hash_mask;
    /* Per entry, its name in lower case, zero-padded to whole 8-byte
     * words, and its length: a lookup folds the asked name a word at a
     * time and compares words (srvcmd.c). */
    uint64_t (*folded)[SRV_NAME_MAX / 8];
    uint8_t *lens;
} srv_cmdtab;

int srv_cmdtab_build(srv_cmdtab *t); /* 0 or -1 (OOM) */
void srv_cmdtab_free(srv_cmdtab *t);
/* Case-insensitive; NULL when unknown. */
const srv_cmdent *srv_cmdtab_find(const srv_cmdtab *t, const char *name,
                                  size_t len);
/* The subcommand of cmd named by arg (case-insensitive), or NULL. */
const srv_subcmd *srv_subcmd_find(const srv_cmd *cmd, const char *arg,
                                  size_t len);

/* --- helpers for command functions ----------------------------------- */

/* Case-insensitive comparison of an argument with a C string. */
bool srv_arg_is(const resp_arg *a, const char *s);
/* Parses a whole argument as a signed decimal. 0 or -1. */
int srv_arg_ll(const resp_arg *a, long long *out);
/* "ERR wrong number of arguments for '<name>' command". */
void srv_reply_arity(srv_exec *x, const char *name);
/* "ERR unknown subcommand '<sub>'. Try <CMD> HELP." (Redis 7 wording). */
void srv_reply_unknown_sub(srv_exec *x, const char *cmd);
/* argv[i] as a NUL-terminated copy in buf (truncated to buflen - 1). */
const char *srv_arg_str(const resp_arg *a, char *buf, size_t buflen);

#endif /* FC_SERVER_SRVCMD_H */
