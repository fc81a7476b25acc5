/*
 * script_fn.c — Redis 7.0 functions: the library registry, checking and
 * installing libraries (redis.register_function), FCALL/FCALL_RO; the
 * FUNCTION subcommands over the registry are script_fncmd.c's.
 *
 * The library registry (name, code, its functions' names, flags and
 * descriptions) is the process's, in srv_scripts under its mutex; every
 * change bumps fgen. FUNCTION LOAD checks a library by running its code in
 * a throw-away state (metadata line `#!lua name=<lib>`, then
 * redis.register_function calls, under the load API only); a worker runs
 * FCALL in its own function state (srv_lua.FL), rebuilt from the registry
 * whenever fgen moved since it was built: loading is deterministic, so
 * every worker's callbacks are the ones that were checked. FCALL then runs
 * like EVAL (srv_script_run: atomicity, busy, kill are the same).
 *
 * Not done: functions are not in snapshots, the WAL or the replication
 * stream (a restart or a replica starts without them: FUNCTION DUMP and
 * RESTORE move them by hand). FUNCTION DUMP's payload is our own format
 * (docs/FORMATS.md), not Redis's RDB one. A library's load is bounded by
 * LOAD_TIMEOUT_MS, as in Redis.
 *
 * Threads: the calling worker; the registry under srv_scripts.mu.
 * Memory: the registry owns copies of names, codes and descriptions.
 */
#include <lauxlib.h>
#include <lua.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "commands/cmd_util.h"
#include "server/script.h"
#include "server/server.h"
#include "server/worker.h"

#define LOAD_TIMEOUT_MS 500 /* Redis's limit on loading a library */

const struct srv_fn_flag srv_fn_flags[] = {
    {"no-writes", SRV_SCRIPT_NO_WRITES},
    {"allow-oom", SRV_SCRIPT_ALLOW_OOM},
    {"allow-stale", SRV_SCRIPT_ALLOW_STALE},
    {"no-cluster", SRV_SCRIPT_NO_CLUSTER},
    {"allow-cross-slot-keys", SRV_SCRIPT_CROSS_SLOT},
};
const size_t srv_fn_nflags = sizeof(srv_fn_flags) / sizeof(srv_fn_flags[0]);

static bool name_ok(const char *s, size_t n)
{
    if (!n || n > SRV_FN_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

static char *dup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

void srv_fn_lib_free(srv_lib *l)
{
    for (size_t i = 0; i < l->nfns; i++) {
        free(l->fns[i].name);
        free(l->fns[i].desc);
    }
    free(l->fns);
    free(l->name);
    free(l->code);
    memset(l, 0, sizeof(*l));
}

void srv_fn_free_libs(srv_scripts *sc)
{
    for (size_t i = 0; i < sc->nlibs; i++)
        srv_fn_lib_free(&sc->libs[i]);
    free(sc->libs);
    sc->libs = NULL;
    sc->nlibs = sc->libs_cap = 0;
}

/* --- redis.register_function ----------------------------------------- */

static int reg_err(lua_State *L, const char *msg)
{
    lua_newtable(L);
    lua_pushfstring(L, "ERR %s", msg);
    lua_setfield(L, -2, "err");
    return lua_error(L);
}

/* Appends {name, cb, flags, desc} to the registry's fc_reg list. */
static int reg_add(lua_State *L, int name_i, int cb_i, int flags, int desc_i)
{
    size_t n;
    const char *name = lua_tolstring(L, name_i, &n);
    if (!name_ok(name, n))
        return reg_err(L, "Library names can only contain letters, numbers, "
                          "or underscores(_) and must be at least one "
                          "character long");
    lua_getfield(L, LUA_REGISTRYINDEX, "fc_reg");
    if (!lua_istable(L, -1))
        return reg_err(L, "redis.register_function can only be called on "
                          "FUNCTION LOAD command");
    int reg = lua_gettop(L);
    size_t cnt = lua_objlen(L, reg);
    for (size_t i = 1; i <= cnt; i++) {
        lua_rawgeti(L, reg, (int)i);
        lua_getfield(L, -1, "name");
        bool same = lua_rawequal(L, -1, name_i);
        lua_pop(L, 2);
        if (same)
            return reg_err(L, "Function already exists in the library");
    }
    lua_newtable(L);
    lua_pushvalue(L, name_i);
    lua_setfield(L, -2, "name");
    lua_pushvalue(L, cb_i);
    lua_setfield(L, -2, "cb");
    lua_pushnumber(L, flags);
    lua_setfield(L, -2, "flags");
    if (desc_i) {
        lua_pushvalue(L, desc_i);
        lua_setfield(L, -2, "desc");
    }
    lua_rawseti(L, reg, (int)cnt + 1);
    return 0;
}

static int parse_flags(lua_State *L, int t, int *flags)
{
    lua_pushnil(L);
    while (lua_next(L, t)) {
        const char *f =
            lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        size_t i = 0;
        while (f && i < srv_fn_nflags && strcmp(f, srv_fn_flags[i].name) != 0)
            i++;
        if (!f || i == srv_fn_nflags)
            return reg_err(L, "unknown flag given");
        *flags |= srv_fn_flags[i].flag;
        lua_pop(L, 1);
    }
    return 0;
}

int srv_lua_register_function(lua_State *L)
{
    int argc = lua_gettop(L);
    if (argc < 1 || argc > 2)
        return reg_err(L, "wrong number of arguments to "
                          "redis.register_function");
    if (argc == 2) {
        if (!lua_isstring(L, 1))
            return reg_err(L, "first argument to redis.register_function "
                              "must be a string");
        if (!lua_isfunction(L, 2))
            return reg_err(L, "second argument to redis.register_function "
                              "must be a function");
        lua_pushvalue(L, 1);
        lua_tostring(L, -1); /* a number name becomes its string */
        return reg_add(L, lua_gettop(L), 2, 0, 0);
    }
    if (!lua_istable(L, 1))
        return reg_err(L, "calling redis.register_function with a single "
                          "argument is only applicable to Lua table "
                          "(representing named arguments).");
    /* Unknown names first, then each known one (the values are copied
     * above the table, where reg_add finds them). */
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        const char *k =
            lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
        if (strcmp(k, "function_name") && strcmp(k, "description") &&
            strcmp(k, "callback") && strcmp(k, "flags"))
            return reg_err(L, "unknown argument given to "
                              "redis.register_function");
        lua_pop(L, 1);
    }
    int name_i = 0, cb_i = 0, desc_i = 0, flags = 0;
    lua_getfield(L, 1, "function_name");
    if (!lua_isnil(L, -1)) {
        if (!lua_isstring(L, -1))
            return reg_err(L, "function_name argument given to "
                              "redis.register_function must be a string");
        lua_tostring(L, -1);
        name_i = lua_gettop(L);
    }
    lua_getfield(L, 1, "description");
    if (!lua_isnil(L, -1)) {
        if (!lua_isstring(L, -1))
            return reg_err(L, "description argument given to "
                              "redis.register_function must be a string");
        desc_i = lua_gettop(L);
    }
    lua_getfield(L, 1, "callback");
    if (!lua_isnil(L, -1)) {
        if (!lua_isfunction(L, -1))
            return reg_err(L, "callback argument given to "
                              "redis.register_function must be a function");
        cb_i = lua_gettop(L);
    }
    lua_getfield(L, 1, "flags");
    if (!lua_isnil(L, -1)) {
        if (!lua_istable(L, -1))
            return reg_err(L, "flags argument to redis.register_function "
                              "must be a table representing function flags");
        parse_flags(L, lua_gettop(L), &flags);
    }
    if (!name_i)
        return reg_err(L, "redis.register_function must get a function name "
                          "argument");
    if (!cb_i)
        return reg_err(L, "redis.register_function must get a callback "
                          "argument");
    return reg_add(L, name_i, cb_i, flags, desc_i);
}

/* --- loading a library ----------------------------------------------- */

/* "#!lua name=<lib>" (Redis 7.0's metadata). *skip = bytes of the line. */
static int parse_meta(const char *code, size_t len, char *name, size_t *skip,
                      char *err, size_t errlen)
{
    if (len < 2 || code[0] != '#' || code[1] != '!') {
        snprintf(err, errlen, "ERR Missing library metadata");
        return -1;
    }
    const char *nl = memchr(code, '\n', len);
    *skip = nl ? (size_t)(nl - code) : len;
    char line[512];
    size_t n = *skip < sizeof(line) - 1 ? *skip : sizeof(line) - 1;
    memcpy(line, code, n);
    line[n] = '\0';
    char *save = NULL, *tok = strtok_r(line, " \t\r", &save);
    if (strcmp(tok, "#!lua") != 0) {
        snprintf(err, errlen, "ERR Engine '%s' not found", tok + 2);
        return -1;
    }
    name[0] = '\0';
    bool named = false;
    while ((tok = strtok_r(NULL, " \t\r", &save))) {
        if (strncmp(tok, "name=", 5) != 0) {
            snprintf(err, errlen, "ERR Invalid metadata value given: %s", tok);
            return -1;
        }
        if (named) {
            snprintf(err, errlen,
                     "ERR Invalid metadata value, name argument "
                     "was given multiple times");
            return -1;
        }
        named = true;
        snprintf(name, SRV_FN_NAME_MAX + 2, "%s", tok + 5);
    }
    if (!named) {
        snprintf(err, errlen, "ERR Library name was not given");
        return -1;
    }
    if (!name_ok(name, strlen(name))) {
        snprintf(err, errlen,
                 "ERR Library names can only contain letters, "
                 "numbers, or underscores(_) and must be at "
                 "least one character long");
        return -1;
    }
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static _Thread_local int64_t load_deadline;

static void load_hook(lua_State *L, lua_Debug *ar)
{
    if (mono_ms() > load_deadline)
        luaL_error(L, "FUNCTION LOAD timeout");
}

/* Runs the library's code (after its metadata line) in L under the load
 * API; on success fc_reg holds what it registered (left in the registry).
 * -1 with err set otherwise. */
static int run_lib(lua_State *L, const char *code, size_t len, size_t skip,
                   char *err, size_t errlen)
{
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "fc_reg");
    if (luaL_loadbuffer(L, code + skip, len - skip, "@user_function")) {
        snprintf(err, errlen, "ERR Error compiling function: %s",
                 lua_tostring(L, -1));
        lua_settop(L, 0);
        return -1;
    }
    srv_lua_fn_env(L, true);
    load_deadline = mono_ms() + LOAD_TIMEOUT_MS;
    lua_sethook(L, load_hook, LUA_MASKCOUNT, 100000);
    int rc = lua_pcall(L, 0, 0, 0);
    lua_sethook(L, NULL, 0, 0);
    srv_lua_fn_env(L, false);
    if (rc) {
        const char *m = NULL;
        char tmp[400];
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "err");
            m = lua_tostring(L, -1);
        } else {
            snprintf(tmp, sizeof(tmp), "ERR %s",
                     lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
            m = tmp;
        }
        snprintf(err, errlen, "ERR Error registering functions: %s",
                 m ? m : "?");
        lua_settop(L, 0);
        return -1;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "fc_reg");
    if (lua_objlen(L, -1) == 0) {
        snprintf(err, errlen, "ERR No functions registered");
        lua_settop(L, 0);
        return -1;
    }
    lua_pop(L, 1);
    return 0;
}

/* Checks a library in a throw-away state and describes it in *out. */
int srv_fn_lib_check(srv_worker *w, const char *code, size_t len, srv_lib *out,
                     char *err, size_t errlen)
{
    char name[SRV_FN_NAME_MAX + 2];
    size_t skip;
    memset(out, 0, sizeof(*out));
    if (parse_meta(code, len, name, &skip, err, errlen))
        return -1;
    lua_State *L = srv_lua_new_fn_state(w);
    if (!L) {
        snprintf(err, errlen, "ERR out of memory");
        return -1;
    }
    int rc = run_lib(L, code, len, skip, err, errlen);
    if (!rc) {
        lua_getfield(L, LUA_REGISTRYINDEX, "fc_reg");
        size_t n = lua_objlen(L, -1);
        out->fns = calloc(n, sizeof(*out->fns));
        out->name = dup(name, strlen(name));
        out->code = dup(code, len);
        out->len = len;
        for (size_t i = 0; out->fns && i < n; i++) {
            lua_rawgeti(L, -1, (int)i + 1);
            lua_getfield(L, -1, "name");
            size_t nl;
            const char *fname = lua_tolstring(L, -1, &nl);
            out->fns[i].name = dup(fname, nl);
            lua_getfield(L, -2, "desc");
            if (lua_isstring(L, -1)) {
                size_t dl;
                const char *d = lua_tolstring(L, -1, &dl);
                out->fns[i].desc = dup(d, dl);
            }
            lua_getfield(L, -3, "flags");
            out->fns[i].flags = (int)lua_tonumber(L, -1);
            lua_pop(L, 4);
            out->nfns++;
        }
        if (!out->fns || !out->name || !out->code) {
            srv_fn_lib_free(out);
            snprintf(err, errlen, "ERR out of memory");
            rc = -1;
        }
    }
    lua_close(L);
    return rc;
}

/* Installs a checked library's callbacks as registry fn_<name> in L. */
static void lib_install(lua_State *L, const char *code, size_t len)
{
    char name[SRV_FN_NAME_MAX + 2], err[512];
    size_t skip;
    if (parse_meta(code, len, name, &skip, err, sizeof(err)) ||
        run_lib(L, code, len, skip, err, sizeof(err)))
        return; /* cannot happen: it was checked the same way */
    lua_getfield(L, LUA_REGISTRYINDEX, "fc_reg");
    size_t n = lua_objlen(L, -1);
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, (int)i);
        lua_getfield(L, -1, "name");
        lua_pushfstring(L, "fn_%s", lua_tostring(L, -1));
        lua_getfield(L, -3, "cb");
        lua_rawset(L, LUA_REGISTRYINDEX);
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "fc_reg");
}

/* The worker's function state, current with the registry. */
static srv_lua *fn_state(srv_worker *w)
{
    srv_lua *sl = srv_script_state(w);
    if (!sl)
        return NULL;
    srv_scripts *sc = w->srv->scripts;
    uint64_t gen = atomic_load(&sc->fgen);
    if (sl->FL && sl->fgen == gen)
        return sl;
    if (sl->FL)
        lua_close(sl->FL);
    sl->FL = srv_lua_new_fn_state(w);
    if (!sl->FL)
        return NULL;
    pthread_mutex_lock(&sc->mu);
    gen = atomic_load(&sc->fgen);
    for (size_t i = 0; i < sc->nlibs; i++) /* deterministic, short */
        lib_install(sl->FL, sc->libs[i].code, sc->libs[i].len);
    pthread_mutex_unlock(&sc->mu);
    sl->fgen = gen;
    return sl;
}

/* --- the registry (under mu) ----------------------------------------- */

srv_lib *srv_fn_lib_find(srv_scripts *sc, const char *name)
{
    for (size_t i = 0; i < sc->nlibs; i++)
        if (strcmp(sc->libs[i].name, name) == 0)
            return &sc->libs[i];
    return NULL;
}

/* The library (other than `except`) that has function `fn`, or NULL. */
static const srv_lib *fn_owner(srv_scripts *sc, const char *fn,
                               const char *except, const srv_fn **out)
{
    for (size_t i = 0; i < sc->nlibs; i++) {
        if (except && strcmp(sc->libs[i].name, except) == 0)
            continue;
        for (size_t j = 0; j < sc->libs[i].nfns; j++)
            if (strcmp(sc->libs[i].fns[j].name, fn) == 0) {
                if (out)
                    *out = &sc->libs[i].fns[j];
                return &sc->libs[i];
            }
    }
    return NULL;
}

/* Adds lib (taking it) or replaces the one of its name. */
int srv_fn_lib_put(srv_scripts *sc, srv_lib *lib, bool replace, char *err,
                   size_t errlen)
{
    srv_lib *old = srv_fn_lib_find(sc, lib->name);
    if (old && !replace) {
        snprintf(err, errlen, "ERR Library '%s' already exists", lib->name);
        return -1;
    }
    for (size_t j = 0; j < lib->nfns; j++)
        if (fn_owner(sc, lib->fns[j].name, lib->name, NULL)) {
            snprintf(err, errlen, "ERR Function %s already exists",
                     lib->fns[j].name);
            return -1;
        }
    if (old) {
        srv_fn_lib_free(old);
        *old = *lib;
    } else {
        if (sc->nlibs == sc->libs_cap) {
            size_t cap = sc->libs_cap ? sc->libs_cap * 2 : 8;
            srv_lib *nl = realloc(sc->libs, cap * sizeof(*nl));
            if (!nl) {
                snprintf(err, errlen, "ERR out of memory");
                return -1;
            }
            sc->libs = nl;
            sc->libs_cap = cap;
        }
        sc->libs[sc->nlibs++] = *lib;
    }
    memset(lib, 0, sizeof(*lib));
    atomic_fetch_add(&sc->fgen, 1);
    return 0;
}

/* --- FCALL ----------------------------------------------------------- */

void srv_fn_fcall(srv_exec *x, bool ro)
{
    cmd_ctx *c = x->c;
    resp_writer *wr = c->w;
    srv_scripts *sc = x->srv->scripts;
    char name[SRV_FN_NAME_MAX + 1];
    int flags = 0;
    bool found = false;
    if (c->argv[1].len <= SRV_FN_NAME_MAX) {
        memcpy(name, c->argv[1].ptr, c->argv[1].len);
        name[c->argv[1].len] = '\0';
        const srv_fn *f = NULL;
        pthread_mutex_lock(&sc->mu);
        found = fn_owner(sc, name, NULL, &f) != NULL;
        if (found)
            flags = f->flags;
        pthread_mutex_unlock(&sc->mu);
    }
    if (!found) {
        resp_error(wr, "ERR Function not found");
        return;
    }
    long long nk;
    if (srv_arg_ll(&c->argv[2], &nk)) {
        resp_error(wr, "ERR Bad number of keys provided");
        return;
    }
    if (nk > (long long)c->argc - 3) {
        resp_error(wr, "ERR Number of keys can't be greater than number of "
                       "args");
        return;
    }
    if (nk < 0) {
        resp_error(wr, "ERR Number of keys can't be negative");
        return;
    }
    if (ro && !(flags & SRV_SCRIPT_NO_WRITES)) {
        resp_error(wr, "ERR Can not execute a script with write flag using "
                       "*_ro command.");
        return;
    }
    srv_lua *sl = fn_state(x->w);
    if (!sl) {
        resp_error(wr, "ERR out of memory");
        return;
    }
    memcpy(sl->fn, name, strlen(name) + 1);
    sl->cur = sl->FL;
    sl->ro = flags & SRV_SCRIPT_NO_WRITES;
    sl->allow_oom = flags & SRV_SCRIPT_ALLOW_OOM;
    srv_script_run(x, sl, c->argv + 3, (size_t)nk, c->argv + 3 + nk,
                   c->argc - 3 - (size_t)nk);
    sl->fn[0] = '\0';
}
