/*
 * script_fn.c — Redis 7.0 functions: FUNCTION LOAD/LIST/DELETE/FLUSH/DUMP/
 * RESTORE/STATS/KILL/HELP and FCALL/FCALL_RO.
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
 * (docs/FORMATS.md), not Redis's RDB one.
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

static const struct {
    const char *name;
    int flag;
} fn_flags[] = {
    {"no-writes", SRV_SCRIPT_NO_WRITES},
    {"allow-oom", SRV_SCRIPT_ALLOW_OOM},
    {"allow-stale", SRV_SCRIPT_ALLOW_STALE},
    {"no-cluster", SRV_SCRIPT_NO_CLUSTER},
    {"allow-cross-slot-keys", SRV_SCRIPT_CROSS_SLOT},
};
#define NFLAGS (sizeof(fn_flags) / sizeof(fn_flags[0]))

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

static void lib_free(srv_lib *l)
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
        lib_free(&sc->libs[i]);
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
        const char *f = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                       : NULL;
        size_t i = 0;
        while (f && i < NFLAGS && strcmp(f, fn_flags[i].name) != 0)
            i++;
        if (!f || i == NFLAGS)
            return reg_err(L, "unknown flag given");
        *flags |= fn_flags[i].flag;
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
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                       : "";
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
            snprintf(err, errlen, "ERR Invalid metadata value, name argument "
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
        snprintf(err, errlen, "ERR Library names can only contain letters, "
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
static int lib_check(srv_worker *w, const char *code, size_t len, srv_lib *out,
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
            lib_free(out);
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

static srv_lib *lib_find(srv_scripts *sc, const char *name)
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
static int lib_put(srv_scripts *sc, srv_lib *lib, bool replace, char *err,
                   size_t errlen)
{
    srv_lib *old = lib_find(sc, lib->name);
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
        lib_free(old);
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

/* --- FUNCTION ------------------------------------------------------- */

static void fn_load(srv_exec *x)
{
    cmd_ctx *c = x->c;
    bool replace = false;
    size_t ci = 2;
    if (c->argc == 4) {
        if (!srv_arg_is(&c->argv[2], "replace")) {
            char o[64];
            resp_errorf(c->w, "ERR Unknown option given: %s",
                        srv_arg_str(&c->argv[2], o, sizeof(o)));
            return;
        }
        replace = true;
        ci = 3;
    } else if (c->argc != 3) {
        srv_reply_arity(x, "function|load");
        return;
    }
    char err[640];
    srv_lib lib;
    if (lib_check(x->w, c->argv[ci].ptr, c->argv[ci].len, &lib, err,
                  sizeof(err))) {
        resp_error(c->w, err);
        return;
    }
    srv_scripts *sc = x->srv->scripts;
    char name[SRV_FN_NAME_MAX + 1];
    snprintf(name, sizeof(name), "%s", lib.name);
    pthread_mutex_lock(&sc->mu);
    int rc = lib_put(sc, &lib, replace, err, sizeof(err));
    pthread_mutex_unlock(&sc->mu);
    if (rc) {
        lib_free(&lib);
        resp_error(c->w, err);
        return;
    }
    resp_bulk_cstr(c->w, name);
}

static void list_lib(resp_writer *wr, const srv_lib *l, bool code)
{
    resp_map(wr, code ? 4 : 3);
    resp_bulk_cstr(wr, "library_name");
    resp_bulk_cstr(wr, l->name);
    resp_bulk_cstr(wr, "engine");
    resp_bulk_cstr(wr, "LUA");
    resp_bulk_cstr(wr, "functions");
    resp_array(wr, l->nfns);
    for (size_t j = 0; j < l->nfns; j++) {
        const srv_fn *f = &l->fns[j];
        resp_map(wr, 3);
        resp_bulk_cstr(wr, "name");
        resp_bulk_cstr(wr, f->name);
        resp_bulk_cstr(wr, "description");
        if (f->desc)
            resp_bulk_cstr(wr, f->desc);
        else
            resp_null(wr);
        resp_bulk_cstr(wr, "flags");
        size_t nf = 0;
        for (size_t k = 0; k < NFLAGS; k++)
            nf += (f->flags & fn_flags[k].flag) != 0;
        resp_set(wr, nf);
        for (size_t k = 0; k < NFLAGS; k++)
            if (f->flags & fn_flags[k].flag)
                resp_bulk_cstr(wr, fn_flags[k].name);
    }
    if (code) {
        resp_bulk_cstr(wr, "library_code");
        resp_bulk(wr, l->code, l->len);
    }
}

static bool lib_match(const char *pat, const char *name)
{
    return cmd_glob_match(pat, strlen(pat), name, strlen(name), false);
}

static void fn_list(srv_exec *x)
{
    cmd_ctx *c = x->c;
    bool code = false;
    char pat[256] = "";
    bool has_pat = false;
    for (size_t i = 2; i < c->argc; i++) {
        if (srv_arg_is(&c->argv[i], "withcode")) {
            code = true;
        } else if (srv_arg_is(&c->argv[i], "libraryname")) {
            if (i + 1 >= c->argc) {
                resp_error(c->w, "ERR library name argument was not given");
                return;
            }
            if (has_pat) {
                resp_error(c->w, "ERR library name can be given only once");
                return;
            }
            srv_arg_str(&c->argv[++i], pat, sizeof(pat));
            has_pat = true;
        } else {
            char a[64];
            resp_errorf(c->w, "ERR Unknown argument %s",
                        srv_arg_str(&c->argv[i], a, sizeof(a)));
            return;
        }
    }
    srv_scripts *sc = x->srv->scripts;
    pthread_mutex_lock(&sc->mu);
    size_t n = 0;
    for (size_t i = 0; i < sc->nlibs; i++)
        n += !has_pat || lib_match(pat, sc->libs[i].name);
    resp_array(c->w, n);
    for (size_t i = 0; i < sc->nlibs; i++)
        if (!has_pat || lib_match(pat, sc->libs[i].name))
            list_lib(c->w, &sc->libs[i], code);
    pthread_mutex_unlock(&sc->mu);
}

static void fn_delete(srv_exec *x)
{
    cmd_ctx *c = x->c;
    srv_scripts *sc = x->srv->scripts;
    char name[SRV_FN_NAME_MAX + 2];
    srv_arg_str(&c->argv[2], name, sizeof(name));
    pthread_mutex_lock(&sc->mu);
    srv_lib *l = lib_find(sc, name);
    if (l) {
        lib_free(l);
        *l = sc->libs[--sc->nlibs];
        atomic_fetch_add(&sc->fgen, 1);
    }
    pthread_mutex_unlock(&sc->mu);
    if (l)
        resp_ok(c->w);
    else
        resp_error(c->w, "ERR Library not found");
}

static void fn_flush(srv_exec *x)
{
    cmd_ctx *c = x->c;
    if (c->argc > 3 ||
        (c->argc == 3 && !srv_arg_is(&c->argv[2], "async") &&
         !srv_arg_is(&c->argv[2], "sync"))) {
        resp_error(c->w, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
    }
    srv_scripts *sc = x->srv->scripts;
    pthread_mutex_lock(&sc->mu);
    srv_fn_free_libs(sc);
    atomic_fetch_add(&sc->fgen, 1);
    pthread_mutex_unlock(&sc->mu);
    resp_ok(c->w);
}

static void fn_stats(srv_exec *x)
{
    resp_writer *wr = x->c->w;
    srv_scripts *sc = x->srv->scripts;
    pthread_mutex_lock(&sc->mu);
    size_t nl = sc->nlibs, nf = 0;
    for (size_t i = 0; i < nl; i++)
        nf += sc->libs[i].nfns;
    pthread_mutex_unlock(&sc->mu);
    /* running_script: the caller's worker runs nothing else meanwhile,
     * and a busy script on another worker makes this -BUSY (exec.c)
     * unless it is FUNCTION KILL: always nil here. */
    resp_map(wr, 2);
    resp_bulk_cstr(wr, "running_script");
    resp_null(wr);
    resp_bulk_cstr(wr, "engines");
    resp_map(wr, 1);
    resp_bulk_cstr(wr, "LUA");
    resp_map(wr, 2);
    resp_bulk_cstr(wr, "libraries_count");
    resp_int(wr, (int64_t)nl);
    resp_bulk_cstr(wr, "functions_count");
    resp_int(wr, (int64_t)nf);
}

/* --- DUMP and RESTORE (docs/FORMATS.md) ----------------------------- */

#define DUMP_MAGIC "FCFN"
#define DUMP_VERSION 1

static void put32(fc_buf *b, uint32_t v)
{
    unsigned char t[4] = {(unsigned char)v, (unsigned char)(v >> 8),
                          (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    fc_buf_append(b, t, 4);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void fn_dump(srv_exec *x)
{
    srv_scripts *sc = x->srv->scripts;
    fc_buf b = {0};
    fc_buf_append(&b, DUMP_MAGIC, 4);
    fc_buf_putc(&b, DUMP_VERSION);
    pthread_mutex_lock(&sc->mu);
    put32(&b, (uint32_t)sc->nlibs);
    for (size_t i = 0; i < sc->nlibs; i++) {
        put32(&b, (uint32_t)sc->libs[i].len);
        fc_buf_append(&b, sc->libs[i].code, sc->libs[i].len);
    }
    pthread_mutex_unlock(&sc->mu);
    uint64_t h = XXH3_64bits(b.data, b.len);
    put32(&b, (uint32_t)h);
    put32(&b, (uint32_t)(h >> 32));
    resp_bulk(x->c->w, b.data, b.len);
    fc_buf_free(&b);
}

/* Checks a payload and every library in it (into libs[], *n). */
static int dump_parse(srv_worker *w, const resp_arg *a, srv_lib **libs,
                      size_t *n, char *err, size_t errlen)
{
    const unsigned char *p = (const unsigned char *)a->ptr;
    size_t len = a->len;
    *libs = NULL;
    *n = 0;
    if (len < 4 + 1 + 4 + 8 || memcmp(p, DUMP_MAGIC, 4) != 0 ||
        p[4] != DUMP_VERSION ||
        XXH3_64bits(p, len - 8) !=
            ((uint64_t)get32(p + len - 4) << 32 | get32(p + len - 8))) {
        snprintf(err, errlen, "ERR DUMP payload version or checksum are wrong");
        return -1;
    }
    uint32_t cnt = get32(p + 5);
    size_t at = 9, end = len - 8;
    if (cnt > (end - at) / 4) {
        snprintf(err, errlen, "ERR DUMP payload version or checksum are wrong");
        return -1;
    }
    *libs = calloc(cnt ? cnt : 1, sizeof(**libs));
    if (!*libs) {
        snprintf(err, errlen, "ERR out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < cnt; i++) {
        uint32_t l = end - at >= 4 ? get32(p + at) : UINT32_MAX;
        if (l > end - at - 4) {
            snprintf(err, errlen, "ERR DUMP payload version or checksum are wrong");
            return -1;
        }
        if (lib_check(w, (const char *)p + at + 4, l, &(*libs)[i], err,
                      errlen))
            return -1;
        (*n)++;
        at += 4 + (size_t)l;
    }
    return 0;
}

static void fn_restore(srv_exec *x)
{
    cmd_ctx *c = x->c;
    int policy = 0; /* 0 APPEND, 1 REPLACE, 2 FLUSH */
    if (c->argc == 4) {
        if (srv_arg_is(&c->argv[3], "replace"))
            policy = 1;
        else if (srv_arg_is(&c->argv[3], "flush"))
            policy = 2;
        else if (!srv_arg_is(&c->argv[3], "append")) {
            resp_error(c->w, "ERR Wrong restore policy given, value should "
                             "be either FLUSH, APPEND or REPLACE.");
            return;
        }
    } else if (c->argc != 3) {
        srv_reply_arity(x, "function|restore");
        return;
    }
    char err[640];
    srv_lib *libs;
    size_t n;
    int rc = dump_parse(x->w, &c->argv[2], &libs, &n, err, sizeof(err));
    srv_scripts *sc = x->srv->scripts;
    if (!rc) {
        pthread_mutex_lock(&sc->mu);
        /* All or nothing: the checks first, against what stays. */
        for (size_t i = 0; !rc && policy == 0 && i < n; i++)
            if (lib_find(sc, libs[i].name)) {
                snprintf(err, sizeof(err), "ERR Library %s already exists",
                         libs[i].name);
                rc = -1;
            }
        if (!rc && policy == 2)
            srv_fn_free_libs(sc);
        for (size_t i = 0; !rc && i < n; i++)
            rc = lib_put(sc, &libs[i], true, err, sizeof(err));
        atomic_fetch_add(&sc->fgen, 1);
        pthread_mutex_unlock(&sc->mu);
    }
    for (size_t i = 0; libs && i < n; i++)
        lib_free(&libs[i]);
    free(libs);
    if (rc)
        resp_error(c->w, err);
    else
        resp_ok(c->w);
}

static void fn_help(srv_exec *x)
{
    static const char *const lines[] = {
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "DELETE <LIBRARY NAME>",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "FLUSH [ASYNC|SYNC]",
        "STATS",
        "KILL",
        "DUMP",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "HELP",
    };
    size_t n = sizeof(lines) / sizeof(lines[0]);
    resp_array(x->c->w, n);
    for (size_t i = 0; i < n; i++)
        resp_simple(x->c->w, lines[i]);
}

void srv_fn_function(srv_exec *x)
{
    cmd_ctx *c = x->c;
    const resp_arg *sub = &c->argv[1];
    if (srv_arg_is(sub, "load"))
        fn_load(x);
    else if (srv_arg_is(sub, "list"))
        fn_list(x);
    else if (srv_arg_is(sub, "delete") && c->argc == 3)
        fn_delete(x);
    else if (srv_arg_is(sub, "flush"))
        fn_flush(x);
    else if (srv_arg_is(sub, "stats") && c->argc == 2)
        fn_stats(x);
    else if (srv_arg_is(sub, "kill") && c->argc == 2)
        srv_script_kill(x);
    else if (srv_arg_is(sub, "dump") && c->argc == 2)
        fn_dump(x);
    else if (srv_arg_is(sub, "restore"))
        fn_restore(x);
    else if (srv_arg_is(sub, "help") && c->argc == 2)
        fn_help(x);
    else
        srv_reply_unknown_sub(x, "FUNCTION");
}
