/*
 * script_fncmd.c — FUNCTION's subcommands (LOAD, LIST, DELETE, FLUSH,
 * STATS, KILL, DUMP, RESTORE, HELP) over the library registry of
 * script_fn.c, whose top comment has the design.
 *
 * FUNCTION DUMP's payload (docs/FORMATS.md) is our own: "FCFN", version 1,
 * the libraries' codes, an XXH3 checksum; RESTORE checks every library as
 * LOAD does before changing anything.
 *
 * Threads: the calling worker, inline; the registry under srv_scripts.mu.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "commands/cmd_util.h"
#include "server/script.h"
#include "server/server.h"
#include "server/worker.h"

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
    if (srv_fn_lib_check(x->w, c->argv[ci].ptr, c->argv[ci].len, &lib, err,
                         sizeof(err))) {
        resp_error(c->w, err);
        return;
    }
    srv_scripts *sc = x->srv->scripts;
    char name[SRV_FN_NAME_MAX + 1];
    snprintf(name, sizeof(name), "%s", lib.name);
    pthread_mutex_lock(&sc->mu);
    int rc = srv_fn_lib_put(sc, &lib, replace, err, sizeof(err));
    pthread_mutex_unlock(&sc->mu);
    if (rc) {
        srv_fn_lib_free(&lib);
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
        for (size_t k = 0; k < srv_fn_nflags; k++)
            nf += (f->flags & srv_fn_flags[k].flag) != 0;
        resp_set(wr, nf);
        for (size_t k = 0; k < srv_fn_nflags; k++)
            if (f->flags & srv_fn_flags[k].flag)
                resp_bulk_cstr(wr, srv_fn_flags[k].name);
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
    srv_lib *l = srv_fn_lib_find(sc, name);
    if (l) {
        srv_fn_lib_free(l);
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
    if (c->argc > 3 || (c->argc == 3 && !srv_arg_is(&c->argv[2], "async") &&
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
            snprintf(err, errlen,
                     "ERR DUMP payload version or checksum are wrong");
            return -1;
        }
        if (srv_fn_lib_check(w, (const char *)p + at + 4, l, &(*libs)[i], err,
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
            if (srv_fn_lib_find(sc, libs[i].name)) {
                snprintf(err, sizeof(err), "ERR Library %s already exists",
                         libs[i].name);
                rc = -1;
            }
        if (!rc && policy == 2)
            srv_fn_free_libs(sc);
        for (size_t i = 0; !rc && i < n; i++)
            rc = srv_fn_lib_put(sc, &libs[i], true, err, sizeof(err));
        atomic_fetch_add(&sc->fgen, 1);
        pthread_mutex_unlock(&sc->mu);
    }
    for (size_t i = 0; libs && i < n; i++)
        srv_fn_lib_free(&libs[i]);
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
        srv_script_kill(x, false);
    else if (srv_arg_is(sub, "dump") && c->argc == 2)
        fn_dump(x);
    else if (srv_arg_is(sub, "restore"))
        fn_restore(x);
    else if (srv_arg_is(sub, "help") && c->argc == 2)
        fn_help(x);
    else
        srv_reply_unknown_sub(x, "FUNCTION");
}
