/*
 * script_lua.c — a worker's Lua states (EVAL's, and the functions' with
 * its load API), the sandbox, the redis.* library, compiling and running
 * a script, as Redis 7.0 does them (the design is in script.h; the value
 * conversions are script_conv.c's).
 *
 * Sandbox: base, table, string, math, cjson, bit and cmsgpack
 * (script_msgpack.c); no loadfile, dofile,
 * os, io. The globals table is protected by a metatable: reading a missing
 * global raises "Script attempted to access nonexistent global variable",
 * creating one raises "Attempt to modify a readonly table" (Redis 7.0's
 * wording). Redis's patched Lua also makes library tables read-only; stock
 * Lua 5.1 cannot, so `string.x = 1` is allowed here.
 *
 * Threads: the worker's own, with the state's srv_lua.
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include <lua-bitop.h>
#include <lua-cjson.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/config/log.h"
#include "server/exec.h"
#include "server/script.h"
#include "server/server.h"
#include "util/sha1.h"

static srv_worker *worker_of(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "fc_worker");
    srv_worker *w = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return w;
}

/* Raises {err = msg} (Redis's error table): the error handler adds where. */
static int raise_err(lua_State *L, const char *msg)
{
    lua_newtable(L);
    lua_pushstring(L, msg);
    lua_setfield(L, -2, "err");
    return lua_error(L);
}

/* --- redis.call / redis.pcall ---------------------------------------- */

/* Redis 7.0 formats a number argument with %.17g (Lua's own %.14g would
 * lose precision). */
static size_t fmt_number(lua_Number v, char *buf, size_t cap)
{
    return (size_t)snprintf(buf, cap, "%.17g", (double)v);
}

#define CALL_ARGV_STATIC 16

static int do_call(lua_State *L, bool raise)
{
    srv_worker *w = worker_of(L);
    srv_lua *sl = w->lua;
    int argc = lua_gettop(L);
    if (argc == 0)
        return raise_err(L, "ERR Please specify at least one argument for "
                            "this redis lib call");
    resp_arg sargv[CALL_ARGV_STATIC];
    resp_arg *argv = argc <= CALL_ARGV_STATIC
                         ? sargv
                         : malloc((size_t)argc * sizeof(resp_arg));
    /* Number arguments need bytes of their own: converted in place (the
     * stack slot then holds the string, which keeps it alive). */
    for (int i = 1; argv && i <= argc; i++) {
        int t = lua_type(L, i);
        if (t == LUA_TNUMBER) {
            char nb[64];
            size_t len = fmt_number(lua_tonumber(L, i), nb, sizeof(nb));
            lua_pushlstring(L, nb, len);
            lua_replace(L, i);
        } else if (t != LUA_TSTRING) {
            if (argv != sargv)
                free(argv);
            return raise_err(L, "ERR Lua redis lib command arguments must be "
                                "strings or integers");
        }
        argv[i - 1].ptr = lua_tolstring(L, i, &argv[i - 1].len);
    }
    if (!argv)
        return raise_err(L, "ERR out of memory");
    srv_server *s = w->srv;
    const char *err = NULL;
    const srv_cmdent *e = srv_cmdtab_find(&s->cmds, argv[0].ptr, argv[0].len);
    if (!e)
        err = "ERR Unknown Redis command called from script";
    else if (e->def->arity >= 0 ? (size_t)argc != (size_t)e->def->arity
                                : (size_t)argc < (size_t)-e->def->arity)
        err = "ERR Wrong number of args calling Redis command from script";
    else
        err = srv_script_may_call(w, sl, e, argv, (size_t)argc);
    if (err) {
        if (argv != sargv)
            free(argv);
        if (sl->abort) {
            /* Not catchable: the hook raises again at every instruction. */
            srv_lua_hook_arm(L);
        } else if (!raise) {
            lua_newtable(L);
            lua_pushstring(L, err);
            lua_setfield(L, -2, "err");
            return 1;
        }
        return raise_err(L, err);
    }
    fc_buf out = {0};
    resp_writer wr = {.out = &out, .proto = sl->resp};
    conn *c = sl->x->conn;
    w->blk_deny++; /* a blocking command answers as if it timed out */
    w->exec_mark_ns = 0;
    srv_execute(w, e, argv, (size_t)argc, &wr, c);
    w->blk_deny--;
    if (argv != sargv)
        free(argv);
    if (!out.len) {
        fc_buf_free(&out);
        return raise_err(L, "ERR out of memory");
    }
    size_t at = 0;
    bool is_err = out.data[0] == '-';
    srv_lua_push_reply(L, out.data, out.len, &at, 0);
    fc_buf_free(&out);
    if (is_err && raise)
        return lua_error(L); /* the {err=...} table */
    return 1;
}

static int l_call(lua_State *L)
{
    return do_call(L, true);
}

static int l_pcall(lua_State *L)
{
    return do_call(L, false);
}

/* --- the rest of redis.* -------------------------------------------- */

static int l_error_reply(lua_State *L)
{
    if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING)
        return luaL_error(L, "wrong number or type of arguments");
    /* Redis: "-CODE msg" keeps CODE, anything else gets ERR. */
    size_t n;
    const char *s = lua_tolstring(L, 1, &n);
    const char *sp = memchr(s, ' ', n);
    lua_newtable(L);
    if (sp)
        lua_pushlstring(L, s[0] == '-' ? s + 1 : s, s[0] == '-' ? n - 1 : n);
    else
        lua_pushfstring(L, "ERR %s", s[0] == '-' ? s + 1 : s);
    lua_setfield(L, -2, "err");
    return 1;
}

static int l_status_reply(lua_State *L)
{
    if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING)
        return luaL_error(L, "wrong number or type of arguments");
    lua_newtable(L);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "ok");
    return 1;
}

static int l_sha1hex(lua_State *L)
{
    if (lua_gettop(L) != 1)
        return raise_err(L, "ERR wrong number of arguments");
    size_t n;
    const char *s = lua_tolstring(L, 1, &n);
    char hex[41];
    fc_sha1_hex(s ? s : "", s ? n : 0, hex);
    lua_pushstring(L, hex);
    return 1;
}

static int l_log(lua_State *L)
{
    int argc = lua_gettop(L);
    if (argc < 2)
        return raise_err(L, "ERR redis.log() requires two arguments or more.");
    if (!lua_isnumber(L, 1))
        return raise_err(L, "ERR First argument must be a number (log level).");
    int level = (int)lua_tonumber(L, 1);
    if (level < SRV_LOG_DEBUG || level > SRV_LOG_WARNING)
        return raise_err(L, "ERR Invalid debug level.");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 2; i <= argc; i++) {
        size_t n;
        const char *s = lua_tolstring(L, i, &n);
        if (s) {
            if (i > 2)
                luaL_addchar(&b, ' ');
            luaL_addlstring(&b, s, n);
        }
    }
    luaL_pushresult(&b);
    srv_log(level, "%s", lua_tostring(L, -1));
    return 0;
}

static int l_setresp(lua_State *L)
{
    if (lua_gettop(L) != 1)
        return raise_err(L, "ERR redis.setresp() requires one argument.");
    int v = (int)lua_tonumber(L, 1);
    if (v != 2 && v != 3)
        return raise_err(L, "ERR RESP version must be 2 or 3.");
    worker_of(L)->lua->resp = v;
    return 0;
}

/* Effects replication is the only kind in 7.0: accepted, nothing to do. */
static int l_set_repl(lua_State *L)
{
    if (lua_gettop(L) != 1)
        return raise_err(L, "ERR redis.set_repl() requires one argument.");
    int v = (int)lua_tonumber(L, 1);
    if (v < 0 || v > 3)
        return raise_err(L, "ERR Invalid replication flags. Use REPL_AOF, "
                            "REPL_REPLICA, REPL_ALL or REPL_NONE.");
    return 0;
}

static int l_replicate_commands(lua_State *L)
{
    lua_pushboolean(L, 1);
    return 1;
}

/* Redis 7.0's pcall: an error table caught by the script becomes its err
 * string (what pcall(redis.call, ...) returns). */
static int l_pcall_wrap(lua_State *L)
{
    int argc = lua_gettop(L);
    luaL_checkany(L, 1);
    lua_pushboolean(L, 1);
    lua_insert(L, 1);
    if (lua_pcall(L, argc - 1, LUA_MULTRET, 0)) {
        lua_remove(L, 1);
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "err");
            if (lua_isstring(L, -1))
                lua_replace(L, -2);
            else
                lua_pop(L, 1);
        }
        lua_pushboolean(L, 0);
        lua_insert(L, 1);
    }
    return lua_gettop(L);
}

/* --- globals protection --------------------------------------------- */

static int g_index(lua_State *L)
{
    const char *name = lua_tostring(L, 2);
    return luaL_error(L,
                      "Script attempted to access nonexistent global "
                      "variable '%s'",
                      name ? name : "?");
}

static int g_newindex(lua_State *L)
{
    return luaL_error(L, "Attempt to modify a readonly table");
}

static void open_lib(lua_State *L, lua_CFunction f, const char *name)
{
    lua_pushcfunction(L, f);
    lua_pushstring(L, name);
    lua_call(L, 1, 0);
}

static void set_fn(lua_State *L, const char *name, lua_CFunction f)
{
    lua_pushcfunction(L, f);
    lua_setfield(L, -2, name);
}

static void set_num(lua_State *L, const char *name, lua_Number v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, name);
}

lua_State *srv_lua_new_state(srv_worker *w)
{
    lua_State *L = luaL_newstate();
    if (!L)
        return NULL;
    open_lib(L, luaopen_base, "");
    open_lib(L, luaopen_table, LUA_TABLIBNAME);
    open_lib(L, luaopen_string, LUA_STRLIBNAME);
    open_lib(L, luaopen_math, LUA_MATHLIBNAME);
    lua_pushcfunction(L, luaopen_cjson);
    lua_call(L, 0, 1);
    lua_setglobal(L, "cjson");
    lua_pushcfunction(L, luaopen_bit);
    lua_call(L, 0, 1);
    lua_setglobal(L, "bit");
    lua_pushcfunction(L, l_pcall_wrap);
    lua_setglobal(L, "pcall");
    srv_lua_open_cmsgpack(L);
    lua_pushnil(L);
    lua_setglobal(L, "loadfile");
    lua_pushnil(L);
    lua_setglobal(L, "dofile");
    lua_pushlightuserdata(L, w);
    lua_setfield(L, LUA_REGISTRYINDEX, "fc_worker");

    lua_newtable(L);
    set_fn(L, "call", l_call);
    set_fn(L, "pcall", l_pcall);
    set_fn(L, "error_reply", l_error_reply);
    set_fn(L, "status_reply", l_status_reply);
    set_fn(L, "sha1hex", l_sha1hex);
    set_fn(L, "log", l_log);
    set_fn(L, "setresp", l_setresp);
    set_fn(L, "set_repl", l_set_repl);
    set_fn(L, "replicate_commands", l_replicate_commands);
    set_num(L, "LOG_DEBUG", SRV_LOG_DEBUG);
    set_num(L, "LOG_VERBOSE", SRV_LOG_VERBOSE);
    set_num(L, "LOG_NOTICE", SRV_LOG_NOTICE);
    set_num(L, "LOG_WARNING", SRV_LOG_WARNING);
    set_num(L, "REPL_NONE", 0);
    set_num(L, "REPL_AOF", 1);
    set_num(L, "REPL_SLAVE", 2);
    set_num(L, "REPL_REPLICA", 2);
    set_num(L, "REPL_ALL", 3);
    lua_pushstring(L, SRV_VERSION);
    lua_setfield(L, -2, "REDIS_VERSION");
    int maj = 0, min = 0, pat = 0;
    sscanf(SRV_VERSION, "%d.%d.%d", &maj, &min, &pat);
    set_num(L, "REDIS_VERSION_NUM", (maj << 16) | (min << 8) | pat);
    lua_setglobal(L, "redis");

    /* Last: from here on the globals are read-only to scripts (the C side
     * sets KEYS and ARGV with rawset). */
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_newtable(L);
    lua_pushcfunction(L, g_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, g_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
    return L;
}

/* --- the functions' state (script_fn.c) ---------------------------- */

/* A table whose missing fields raise the missing-global error. */
static void protect(lua_State *L)
{
    lua_newtable(L);
    lua_pushcfunction(L, g_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, g_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
}

/* Redis 7.0's trick: the globals are an empty table whose __index is the
 * load API while a library loads (only redis.register_function, log and
 * the constants) and every global once it runs: closures made while
 * loading see the full globals when called. */
lua_State *srv_lua_new_fn_state(srv_worker *w)
{
    lua_State *L = srv_lua_new_state(w);
    if (!L)
        return NULL;
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_setfield(L, LUA_REGISTRYINDEX, "fc_full");
    lua_newtable(L); /* the load API */
    lua_newtable(L);
    set_fn(L, "register_function", srv_lua_register_function);
    set_fn(L, "log", l_log);
    set_num(L, "LOG_DEBUG", SRV_LOG_DEBUG);
    set_num(L, "LOG_VERBOSE", SRV_LOG_VERBOSE);
    set_num(L, "LOG_NOTICE", SRV_LOG_NOTICE);
    set_num(L, "LOG_WARNING", SRV_LOG_WARNING);
    lua_getglobal(L, "redis");
    lua_getfield(L, -1, "REDIS_VERSION");
    lua_setfield(L, -3, "REDIS_VERSION");
    lua_getfield(L, -1, "REDIS_VERSION_NUM");
    lua_setfield(L, -3, "REDIS_VERSION_NUM");
    lua_pop(L, 1);
    protect(L);
    lua_setfield(L, -2, "redis");
    protect(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "fc_loadapi");
    lua_newtable(L); /* the new globals */
    lua_newtable(L);
    lua_getfield(L, LUA_REGISTRYINDEX, "fc_full");
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, g_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "fc_envmt");
    lua_setmetatable(L, -2);
    lua_replace(L, LUA_GLOBALSINDEX);
    return L;
}

void srv_lua_fn_env(lua_State *L, bool loading)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "fc_envmt");
    lua_getfield(L, LUA_REGISTRYINDEX, loading ? "fc_loadapi" : "fc_full");
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

/* --- compile and run ------------------------------------------------ */

static void fname(char *buf, const char *sha)
{
    memcpy(buf, "f_", 2);
    memcpy(buf + 2, sha, 40);
    buf[42] = '\0';
}

bool srv_lua_has(lua_State *L, const char *sha)
{
    char name[43];
    fname(name, sha);
    lua_getfield(L, LUA_REGISTRYINDEX, name);
    bool has = lua_isfunction(L, -1);
    lua_pop(L, 1);
    return has;
}

const char *srv_lua_compile(lua_State *L, const char *sha, const char *body,
                            size_t len)
{
    static _Thread_local char errbuf[512];
    if (luaL_loadbuffer(L, body, len, "@user_script")) {
        snprintf(errbuf, sizeof(errbuf),
                 "ERR Error compiling script (new function): %s",
                 lua_tostring(L, -1));
        lua_pop(L, 1);
        return errbuf;
    }
    char name[43];
    fname(name, sha);
    lua_setfield(L, LUA_REGISTRYINDEX, name);
    return NULL;
}

static void hook(lua_State *L, lua_Debug *ar)
{
    srv_worker *w = worker_of(L);
    srv_lua *sl = w->lua;
    srv_lua_hook_check(w, sl);
    if (sl->abort == LUA_ABORT_KILL) {
        srv_lua_hook_arm(L);
        raise_err(L, "ERR Script killed by user with SCRIPT KILL...");
    } else if (sl->abort == LUA_ABORT_RESTART) {
        raise_err(L, "ERR script restarts in an exclusive section");
    }
}

/* After an abort: the hook fires at every instruction, so that a pcall in
 * the script cannot swallow the error. */
void srv_lua_hook_arm(lua_State *L)
{
    lua_sethook(L, hook, LUA_MASKCOUNT, 1);
}

/* The message handler: Redis's error table with where it was raised
 * (skipping a C function such as redis.call or error). */
static int err_handler(lua_State *L)
{
    lua_Debug ar;
    bool where = false;
    if (lua_getstack(L, 1, &ar)) {
        lua_getinfo(L, "nSl", &ar);
        where = true;
        if (strcmp(ar.what, "C") == 0) {
            where = lua_getstack(L, 2, &ar) != 0;
            if (where)
                lua_getinfo(L, "nSl", &ar);
        }
    }
    if (!lua_istable(L, 1)) {
        const char *m = lua_tostring(L, 1);
        lua_newtable(L);
        lua_pushfstring(L, "ERR %s", m ? m : "(error object is not a string)");
        lua_setfield(L, -2, "err");
        lua_replace(L, 1);
    }
    lua_settop(L, 1);
    if (where) {
        lua_pushstring(L, ar.source);
        lua_setfield(L, 1, "source");
        lua_pushnumber(L, ar.currentline);
        lua_setfield(L, 1, "line");
    }
    return 1;
}

static void push_array(lua_State *L, const resp_arg *a, size_t n)
{
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushlstring(L, a[i].ptr, a[i].len);
        lua_rawseti(L, -2, (int)i + 1);
    }
}

static void set_array(lua_State *L, const char *name, const resp_arg *a,
                      size_t n)
{
    lua_pushstring(L, name);
    push_array(L, a, n);
    lua_rawset(L, LUA_GLOBALSINDEX);
}

static void reply_error(lua_State *L, srv_lua *sl, resp_writer *wr)
{
    if (!lua_istable(L, -1)) {
        resp_errorf(wr, "ERR Error running script (call to %s%s): @%s",
                    sl->fn[0] ? "" : "f_", sl->fn[0] ? sl->fn : sl->sha,
                    lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
        return;
    }
    size_t n;
    const char *msg = srv_lua_table_str(L, "err", &n);
    const char *src = srv_lua_table_str(L, "source", &n);
    lua_pushstring(L, "line");
    lua_rawget(L, -2);
    bool has_line = lua_type(L, -1) == LUA_TNUMBER;
    long line = has_line ? (long)lua_tonumber(L, -1) : 0;
    lua_pop(L, 1);
    char buf[1024];
    const char *who = sl->fn[0] ? sl->fn : sl->sha;
    if (src && has_line)
        snprintf(buf, sizeof(buf), "%s script: %s, on %s:%ld.", msg ? msg : "",
                 who, src, line);
    else if (src)
        snprintf(buf, sizeof(buf), "%s script: %s, on %s.", msg ? msg : "", who,
                 src);
    else
        snprintf(buf, sizeof(buf), "%s script: %s.", msg ? msg : "", who);
    srv_lua_reply_line(wr, '-', buf, strlen(buf));
}

void srv_lua_run(srv_worker *w, srv_lua *sl, const resp_arg *keys, size_t nkeys,
                 const resp_arg *args, size_t nargs, resp_writer *wr)
{
    lua_State *L = sl->cur;
    lua_settop(L, 0);
    lua_pushcfunction(L, err_handler);
    int nin = 0;
    if (sl->fn[0]) {
        /* FCALL: the callback registered as fn_<name>, called with the
         * keys and the arguments (script_fn.c). */
        lua_pushfstring(L, "fn_%s", sl->fn);
        lua_rawget(L, LUA_REGISTRYINDEX);
        push_array(L, keys, nkeys);
        push_array(L, args, nargs);
        nin = 2;
    } else {
        char name[43];
        fname(name, sl->sha);
        lua_getfield(L, LUA_REGISTRYINDEX, name);
        set_array(L, "KEYS", keys, nkeys);
        set_array(L, "ARGV", args, nargs);
    }
    lua_sethook(L, hook, LUA_MASKCOUNT, SRV_LUA_HOOK_COUNT);
    int rc = lua_pcall(L, nin, 1, 1);
    lua_sethook(L, NULL, 0, 0);
    if (rc)
        reply_error(L, sl, wr);
    else
        srv_lua_write_value(L, wr, 0, sl->resp);
    lua_settop(L, 0);
    lua_gc(L, LUA_GCSTEP, 1);
}

size_t srv_lua_memory(lua_State *L)
{
    return L ? (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024 +
                   (size_t)lua_gc(L, LUA_GCCOUNTB, 0)
             : 0;
}
