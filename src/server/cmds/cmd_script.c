/*
 * cmd_script.c — the scripting command rows: EVAL, EVALSHA, EVAL_RO,
 * EVALSHA_RO and SCRIPT (script.c runs them), FCALL, FCALL_RO and FUNCTION
 * (script_fn.c).
 *
 * Threads: EVAL and kin are routed by multi.c (SRV_CMD_TX | SRV_CMD_SCRIPT)
 *   to their connection's worker; SCRIPT runs inline there (the cache has
 *   its own lock, SCRIPT KILL reaches the busy worker through atomics).
 */
#include "server/script.h"
#include "server/server.h"
#include "server/srvcmd.h"

static void cmd_eval(srv_exec *x)
{
    srv_script_eval(x, false, false);
}

static void cmd_evalsha(srv_exec *x)
{
    srv_script_eval(x, true, false);
}

static void cmd_eval_ro(srv_exec *x)
{
    srv_script_eval(x, false, true);
}

static void cmd_evalsha_ro(srv_exec *x)
{
    srv_script_eval(x, true, true);
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

static void script_help(srv_exec *x)
{
    static const char *const lines[] = {
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the "
        "script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is "
        "determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes "
        "are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Prints this help.",
    };
    size_t n = sizeof(lines) / sizeof(lines[0]);
    resp_array(x->c->w, n);
    for (size_t i = 0; i < n; i++)
        resp_simple(x->c->w, lines[i]);
}

static void cmd_script(srv_exec *x)
{
    cmd_ctx *c = x->c;
    const resp_arg *sub = &c->argv[1];
    srv_scripts *sc = x->srv->scripts;
    if (srv_arg_is(sub, "flush")) {
        if (flush_args_ok(x)) {
            srv_script_cache_flush(sc);
            resp_ok(c->w);
        } else {
            resp_error(c->w, "ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        }
    } else if (srv_arg_is(sub, "exists") && c->argc >= 3) {
        resp_array(c->w, c->argc - 2);
        for (size_t i = 2; i < c->argc; i++)
            resp_int(c->w,
                     srv_script_cache_has(sc, c->argv[i].ptr, c->argv[i].len));
    } else if (srv_arg_is(sub, "load") && c->argc == 3) {
        srv_script_load(x);
    } else if (srv_arg_is(sub, "kill") && c->argc == 2) {
        srv_script_kill(x, true);
    } else if (srv_arg_is(sub, "help") && c->argc == 2) {
        script_help(x);
    } else {
        srv_reply_unknown_sub(x, "SCRIPT");
    }
}

static void cmd_function(srv_exec *x)
{
    srv_fn_function(x);
}

static void cmd_fcall(srv_exec *x)
{
    srv_fn_fcall(x, false);
}

static void cmd_fcall_ro(srv_exec *x)
{
    srv_fn_fcall(x, true);
}

static const srv_subcmd function_subs[] = {
    {"load", -3, CMD_WRITE | CMD_NOSCRIPT, 0, "Creates a library."},
    {"list", -2, CMD_NOSCRIPT, 0, "Returns information about all libraries."},
    {"delete", 3, CMD_WRITE | CMD_NOSCRIPT, 0,
     "Deletes a library and its functions."},
    {"flush", -2, CMD_WRITE | CMD_NOSCRIPT, 0,
     "Deletes all libraries and functions."},
    {"stats", 2, CMD_NOSCRIPT, 0,
     "Returns information about a function during execution."},
    {"kill", 2, CMD_NOSCRIPT, 0, "Terminates a function during execution."},
    {"dump", 2, CMD_NOSCRIPT, 0,
     "Dumps all libraries into a serialized binary payload."},
    {"restore", -3, CMD_WRITE | CMD_NOSCRIPT, 0,
     "Restores all libraries from a payload."},
    {"help", 2, CMD_LOADING | CMD_STALE, 0,
     "Returns helpful text about the different subcommands."},
    {NULL, 0, 0, 0, NULL},
};

static const srv_subcmd script_subs[] = {
    {"exists", -3, CMD_NOSCRIPT, 0,
     "Determines whether server-side Lua scripts exist in the script "
     "cache."},
    {"flush", -2, CMD_NOSCRIPT, 0,
     "Removes all server-side Lua scripts from the script cache."},
    {"kill", 2, CMD_NOSCRIPT, 0,
     "Terminates a server-side Lua script during execution."},
    {"load", 3, CMD_NOSCRIPT | CMD_STALE, 0,
     "Loads a server-side Lua script to the script cache."},
    {"help", 2, CMD_LOADING | CMD_STALE, 0,
     "Returns helpful text about the "
     "different subcommands."},
    {NULL, 0, 0, 0, NULL},
};

/* EVAL's and FCALL's keys: numkeys at argv[2] (0 allowed), then the keys
 * (COMMAND GETKEYS); none when numkeys is not a valid count, as Redis's
 * evalGetKeys (the command itself then errs). */
static int script_keys(const resp_arg *argv, size_t argc, size_t *pos,
                       size_t max)
{
    long long n;
    if (argc < 3 || srv_arg_ll(&argv[2], &n) || n < 0 || (size_t)n > argc - 3)
        return 0;
    size_t k = (size_t)n < max ? (size_t)n : max;
    for (size_t i = 0; i < k; i++)
        pos[i] = 3 + i;
    return (int)k;
}

/* Redis: noscript, stale, skip_monitor, may_replicate, no_mandatory_keys;
 * the keys follow numkeys at argv[2] (COMMAND GETKEYS). */
#define EVAL_CMD(n, fl, fn, sum, since)                                        \
    {                                                                          \
        {n,                                                                    \
         -3,                                                                   \
         CMD_NOSCRIPT | CMD_STALE | (fl),                                      \
         0,                                                                    \
         0,                                                                    \
         0,                                                                    \
         CMD_SPLIT_NONE,                                                       \
         NULL,                                                                 \
         "scripting",                                                          \
         sum,                                                                  \
         since,                                                                \
         script_keys},                                                         \
            fn, SRV_CMD_TX | SRV_CMD_SCRIPT, NULL                              \
    }

#define SCRIPT_CMD(n, ar, fn, subs, sum, since)                                \
    {                                                                          \
        {n,    ar,          CMD_NOSCRIPT, 0,    0, 0, CMD_SPLIT_NONE,          \
         NULL, "scripting", sum,          since},                              \
            fn, 0, subs                                                        \
    }

static const srv_cmd cmds[] = {
    EVAL_CMD("eval", 0, cmd_eval, "Executes a server-side Lua script.",
             "2.6.0"),
    EVAL_CMD("evalsha", 0, cmd_evalsha,
             "Executes a server-side Lua script by SHA1 digest.", "2.6.0"),
    EVAL_CMD("eval_ro", CMD_READONLY, cmd_eval_ro,
             "Executes a read-only server-side Lua script.", "7.0.0"),
    EVAL_CMD("evalsha_ro", CMD_READONLY, cmd_evalsha_ro,
             "Executes a read-only server-side Lua script by SHA1 digest.",
             "7.0.0"),
    EVAL_CMD("fcall", 0, cmd_fcall, "Invokes a function.", "7.0.0"),
    EVAL_CMD("fcall_ro", CMD_READONLY, cmd_fcall_ro,
             "Invokes a read-only function.", "7.0.0"),
    SCRIPT_CMD("script", -2, cmd_script, script_subs,
               "A container for Lua scripts management commands.", "2.6.0"),
    SCRIPT_CMD("function", -2, cmd_function, function_subs,
               "A container for function commands.", "7.0.0"),
};

const srv_cmd *srv_cmds_script(size_t *n)
{
    *n = sizeof(cmds) / sizeof(cmds[0]);
    return cmds;
}
