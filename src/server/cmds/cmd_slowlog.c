/*
 * cmd_slowlog.c — SLOWLOG GET [count], LEN, RESET, HELP (Redis 7.0's
 * replies and errors) over every worker's ring (slowlog.h).
 *
 * Threads: inline on the client's worker, after its earlier requests are
 * back (SRV_CMD_PUBLISHED: so they are in the log); the rings' mutexes
 * keep it from racing the workers that log. No worker is parked.
 */
#include "server/slowlog.h"
#include "server/srvcmd.h"
#include "util/num.h"

static void slowlog_help(srv_exec *x)
{
    static const char *const lines[] = {
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 "
        "mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP "
        "and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        "HELP",
        "    Prints this help.",
    };
    resp_array(x->c->w, sizeof(lines) / sizeof(lines[0]));
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        resp_simple(x->c->w, lines[i]);
}

static void cmd_slowlog(srv_exec *x)
{
    cmd_ctx *c = x->c;
    const resp_arg *sub = &c->argv[1];
    if (srv_arg_is(sub, "get") && c->argc <= 3) {
        int64_t count = 10;
        if (c->argc == 3 &&
            (!fc_parse_i64(c->argv[2].ptr, c->argv[2].len, &count) ||
             count < -1)) {
            resp_error(c->w, "ERR count should be greater than or equal to -1");
            return;
        }
        srv_slowlog_get(x->srv, c->w, (long)count);
    } else if (srv_arg_is(sub, "len") && c->argc == 2) {
        resp_int(c->w, (int64_t)srv_slowlog_len(x->srv));
    } else if (srv_arg_is(sub, "reset") && c->argc == 2) {
        srv_slowlog_reset(x->srv);
        resp_ok(c->w);
    } else if (srv_arg_is(sub, "help") && c->argc == 2) {
        slowlog_help(x);
    } else {
        srv_reply_unknown_sub(x, "SLOWLOG");
    }
}

#define LS (CMD_LOADING | CMD_STALE)

static const srv_subcmd subs[] = {
    {"get", -2, LS, 0, "Returns the slow log's entries."},
    {"len", 2, LS, 0, "Returns the number of entries in the slow log."},
    {"reset", 2, LS, 0, "Clears all entries from the slow log."},
    {"help", 2, LS, 0, "Show helpful text about the different subcommands"},
    {NULL, 0, 0, 0, NULL},
};

static const srv_cmd cmds[] = {
    {{"slowlog", -2, 0, 0, 0, 0, CMD_SPLIT_NONE, NULL, "server",
      "A container for slow log commands.", "2.2.12"},
     cmd_slowlog,
     SRV_CMD_PUBLISHED,
     subs},
};

const srv_cmd *srv_cmds_slowlog(size_t *n)
{
    *n = sizeof(cmds) / sizeof(cmds[0]);
    return cmds;
}
