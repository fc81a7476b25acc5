/*
 * cmd_script.c — EVAL, EVALSHA, FCALL (and their _RO forms), SCRIPT and
 * FUNCTION while scripting does not exist: what can be answered truthfully
 * is (SCRIPT FLUSH and FUNCTION FLUSH: +OK, there is nothing to flush;
 * SCRIPT EXISTS: no script is cached; FUNCTION LIST: no library), the rest
 * is refused with one clear error, so tooling that resets state with
 * FLUSH works and a client that needs scripts learns why it cannot.
 *
 * Threads: only the connection's own state is read; they run inline.
 */
#include "server/srvcmd.h"

#define NO_SCRIPTING "ERR scripting is not supported yet by fast-cache"

static void cmd_noscript(srv_exec *x)
{
    resp_error(x->c->w, NO_SCRIPTING);
}

/* FLUSH [ASYNC|SYNC]: the only options Redis takes. */
static bool flush_args_ok(srv_exec *x)
{
    cmd_ctx *c = x->c;
    if (c->argc == 2)
        return true;
    return c->argc == 3 && (srv_arg_is(&c->argv[2], "async") ||
                            srv_arg_is(&c->argv[2], "sync"));
}

static void cmd_script(srv_exec *x)
{
    cmd_ctx *c = x->c;
    const resp_arg *sub = &c->argv[1];
    if (srv_arg_is(sub, "flush")) {
        if (flush_args_ok(x))
            resp_ok(c->w);
        else
            resp_error(c->w, "ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    } else if (srv_arg_is(sub, "exists") && c->argc >= 3) {
        resp_array(c->w, c->argc - 2);
        for (size_t i = 2; i < c->argc; i++)
            resp_int(c->w, 0);
    } else if (srv_arg_is(sub, "kill") && c->argc == 2) {
        resp_error(c->w, "NOTBUSY No scripts in execution right now.");
    } else {
        resp_error(c->w, NO_SCRIPTING);
    }
}

static void cmd_function(srv_exec *x)
{
    cmd_ctx *c = x->c;
    const resp_arg *sub = &c->argv[1];
    if (srv_arg_is(sub, "flush")) {
        if (flush_args_ok(x))
            resp_ok(c->w);
        else
            resp_error(c->w, "ERR FUNCTION FLUSH only supports SYNC|ASYNC");
    } else if (srv_arg_is(sub, "list")) {
        resp_array(c->w, 0);
    } else if (srv_arg_is(sub, "kill") && c->argc == 2) {
        resp_error(c->w, "NOTBUSY No scripts in execution right now.");
    } else {
        resp_error(c->w, NO_SCRIPTING);
    }
}

#define SCRIPT_CMD(n, ar, fn, sum, since)                                      \
    {                                                                          \
        {n,    ar,          CMD_NOSCRIPT, 0,    0, 0, CMD_SPLIT_NONE,          \
         NULL, "scripting", sum,          since},                              \
            fn, 0, NULL                                                        \
    }

static const srv_cmd cmds[] = {
    SCRIPT_CMD("eval", -3, cmd_noscript,
               "Executes a server-side Lua script (not supported yet).",
               "2.6.0"),
    SCRIPT_CMD("evalsha", -3, cmd_noscript,
               "Executes a cached Lua script (not supported yet).", "2.6.0"),
    SCRIPT_CMD("eval_ro", -3, cmd_noscript,
               "Executes a read-only Lua script (not supported yet).", "7.0.0"),
    SCRIPT_CMD("evalsha_ro", -3, cmd_noscript,
               "Executes a cached read-only Lua script (not supported yet).",
               "7.0.0"),
    SCRIPT_CMD("fcall", -3, cmd_noscript,
               "Invokes a function (not supported yet).", "7.0.0"),
    SCRIPT_CMD("fcall_ro", -3, cmd_noscript,
               "Invokes a read-only function (not supported yet).", "7.0.0"),
    SCRIPT_CMD("script", -2, cmd_script,
               "A container for Lua scripts management commands.", "2.6.0"),
    SCRIPT_CMD("function", -2, cmd_function,
               "A container for function commands.", "7.0.0"),
};

const srv_cmd *srv_cmds_script(size_t *n)
{
    *n = sizeof(cmds) / sizeof(cmds[0]);
    return cmds;
}
