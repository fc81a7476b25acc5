/*
 * script.h — Lua scripting (EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT) with
 * Redis 7.0 semantics: the process-wide script cache, one Lua 5.1 state per
 * worker, and how a script stays atomic across workers.
 *
 * Cache and states. The cache (sha1 -> body) is the process's: any worker
 * may EVALSHA what another loaded. Each worker has its own lua_State (Lua is
 * single-threaded; a worker runs one script at a time), created on its
 * first script, and compiles a cached body into it on first use there
 * (registry field "f_<sha>"). SCRIPT FLUSH empties the cache and bumps its
 * generation; a worker whose state is of an older generation closes it and
 * starts a fresh one before its next script (Redis also resets Lua then).
 *
 * Atomicity. Redis runs a script with nothing else interleaved. Here, a
 * worker that runs a script serves nothing else meanwhile (no event loop
 * turn, no message from other workers), so keys it owns cannot change
 * under the script. Keys of other workers can, unless every other worker
 * is parked (an exclusive section, srv_excl_begin). So:
 *  - the script first runs inline on its connection's worker when all its
 *    declared KEYS are that worker's (or there is one worker);
 *  - otherwise, or inside an EXEC that holds the token, it runs with every
 *    other worker parked;
 *  - an inline run that calls a command on a key of another worker (a key
 *    not declared, which standalone Redis allows), or a command that needs
 *    other workers (KEYS, FLUSHALL, ...), escalates:
 *     . if it has not called a write command yet, it is abandoned (the
 *       Lua error cannot be caught by the script's pcall: the count hook
 *       raises it again at every instruction) and rerun from the start
 *       inside an exclusive section. Abandoning is invisible: nothing was
 *       written, and its replies were only seen by Lua;
 *     . if it has written, it cannot start over. It takes the token
 *       without waiting (srv_excl_try_begin) and parks the others: since
 *       this worker never parked while the script ran, nobody else touched
 *       the keys it read or wrote, so the script is serializable at the
 *       moment the others parked. When another worker holds or is taking
 *       the token, waiting for it would mean parking (letting that worker
 *       touch our keys mid-script) and not parking could deadlock, so the
 *       command fails inside the script with "ERR Script accessed a key of
 *       another worker after writing ..." (the script's earlier writes
 *       stay, as after any script error in Redis). Declaring keys in KEYS
 *       avoids that case entirely.
 *  Before running, the connection's earlier pipelined requests must be
 *  back (as EXEC), so the script sees them.
 *
 * Effects. redis.call runs the command through srv_execute, as EXEC does:
 * the WAL and replicas see the script's writes as commands' effects, WATCH
 * versions are bumped, blocking commands do not block (blk_deny).
 *
 * Busy scripts. A count hook (every SRV_LUA_HOOK_COUNT instructions) looks
 * at the clock; past busy-reply-threshold the script is "busy": the
 * process-wide srv_server.script_busy is set, and requests on *other*
 * workers are answered -BUSY (exec.c) except SCRIPT KILL and SHUTDOWN
 * NOSAVE. Clients of the script's own worker are not read until the script
 * ends (that worker serves nothing else: a thread-per-core worker has no
 * nested event loop), so they wait rather than get -BUSY. SCRIPT KILL from
 * another worker sets the kill flag, which the hook turns into the
 * script's error; a script that wrote gets -UNKILLABLE. A script running
 * in an exclusive section has every other worker parked, so nobody can
 * send SCRIPT KILL to it: only a signal (SIGTERM) from outside. Once the
 * server is stopping (SHUTDOWN NOSAVE, a signal) the hook stops any script,
 * written or not, so that its worker can exit.
 *
 * Threads: srv_script_* run on the calling worker; the cache is under its
 *   mutex; script_busy/kill are atomics read by any worker.
 * Memory: the cache owns copies of bodies; a worker's srv_lua (and its
 *   lua_State) is the worker's, freed by srv_script_worker_free.
 */
#ifndef FC_SERVER_SCRIPT_H
#define FC_SERVER_SCRIPT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/srvcmd.h"

struct lua_State;
struct srv_server;
struct srv_worker;

/* Instructions between two looks at the clock (Redis uses 100000). */
#define SRV_LUA_HOOK_COUNT 100000

#define SRV_FN_NAME_MAX 127 /* function and library names */

/* A function of a library (FUNCTION LOAD), and a library. */
typedef struct srv_fn {
    char *name;
    char *desc; /* NULL: none */
    int flags;  /* SRV_SCRIPT_* */
} srv_fn;

typedef struct srv_lib {
    char *name;
    char *code;
    size_t len;
    srv_fn *fns;
    size_t nfns;
} srv_lib;

enum {
    SRV_SCRIPT_NO_WRITES = 1,
    SRV_SCRIPT_ALLOW_OOM = 2,
    SRV_SCRIPT_SHEBANG = 4,
    SRV_SCRIPT_ALLOW_STALE = 8,
    SRV_SCRIPT_NO_CLUSTER = 16,
    SRV_SCRIPT_CROSS_SLOT = 32,
};

/* One cached script. */
typedef struct srv_script_ent {
    char sha[41];
    char *body;
    size_t len;
} srv_script_ent;

/* Process-wide (srv_server.scripts). */
typedef struct srv_scripts {
    pthread_mutex_t mu;
    srv_script_ent *ents; /* open addressing, sha[0] == 0: empty */
    size_t cap, count;
    size_t bytes;         /* bodies' bytes (INFO used_memory_scripts) */
    _Atomic uint64_t gen; /* bumped by SCRIPT FLUSH */
    /* Function libraries (script_fn.c), under mu too; fgen is bumped by
     * every change, and workers rebuild their function state from it. */
    srv_lib *libs;
    size_t nlibs, libs_cap;
    _Atomic uint64_t fgen;
} srv_scripts;

enum srv_lua_abort {
    LUA_ABORT_NONE = 0,
    LUA_ABORT_RESTART, /* rerun in an exclusive section */
    LUA_ABORT_KILL,    /* SCRIPT KILL */
};

/* A worker's Lua state and the script it runs (one at a time). */
typedef struct srv_lua {
    struct lua_State *L;
    uint64_t gen; /* the cache generation L was built for */
    /* The running script. */
    srv_exec *x; /* the EVAL's command context */
    bool running;
    bool excl;      /* every other worker is parked */
    bool wrote;     /* a write command ran */
    bool ro;        /* EVAL_RO, EVALSHA_RO or flags=no-writes */
    bool allow_oom; /* flags=allow-oom (accepted) */
    bool busy;      /* past the threshold */
    bool own_excl;  /* this script began the exclusive section */
    /* 0; 1 once it wrote (SCRIPT KILL: -UNKILLABLE); 2 when SCRIPT KILL
     * asked to stop it (before any write): one CAS decides between a
     * killer on another worker and the script's first write. */
    _Atomic int kstate;
    int resp;         /* redis.setresp: 2 or 3 */
    int abort;        /* enum srv_lua_abort */
    int64_t start_ms; /* monotonic */
    char sha[41];
    /* Functions (script_fn.c): their own state, built from the library
     * registry of generation fgen; fn is the FCALL's function ("" for
     * EVAL), cur the state the running script uses (L or FL). */
    struct lua_State *FL;
    uint64_t fgen;
    char fn[SRV_FN_NAME_MAX + 1];
    struct lua_State *cur;
} srv_lua;

int srv_scripts_init(struct srv_server *s);
void srv_scripts_destroy(struct srv_server *s);
void srv_script_worker_free(struct srv_worker *w);

/* Cache: adds body (idempotent) and writes its sha. -1 on OOM. */
int srv_script_cache_add(srv_scripts *sc, const char *body, size_t len,
                         char sha[41]);
/* Copies the body of sha into a malloc'd buffer (*body, *len), or returns
 * false when it is not cached. sha is 40 hex digits, any case. */
bool srv_script_cache_get(srv_scripts *sc, const char *sha, size_t shalen,
                          char **body, size_t *len);
bool srv_script_cache_has(srv_scripts *sc, const char *sha, size_t shalen);
void srv_script_cache_flush(srv_scripts *sc);
/* Scripts cached and their bodies' bytes (INFO). */
void srv_script_cache_stats(srv_scripts *sc, size_t *count, size_t *bytes);

/* Runs the prepared script of sl (sha or fn, ro, cur set) with its keys
 * and arguments: inline or exclusively, with escalation (above). */
void srv_script_run(srv_exec *x, srv_lua *sl, const resp_arg *keys,
                    size_t nkeys, const resp_arg *args, size_t nargs);
/* The worker's state for EVAL (current with SCRIPT FLUSH), or NULL. */
srv_lua *srv_script_state(struct srv_worker *w);
/* script_fn.c: FCALL/FCALL_RO and the library registry (callers of the
 * srv_fn_lib_* hold srv_scripts.mu, except srv_fn_lib_check). */
void srv_fn_fcall(srv_exec *x, bool ro);
void srv_fn_free_libs(srv_scripts *sc);
void srv_fn_lib_free(srv_lib *l);
/* Checks code in a throw-away state; fills *out (the caller's). */
int srv_fn_lib_check(struct srv_worker *w, const char *code, size_t len,
                     srv_lib *out, char *err, size_t errlen);
srv_lib *srv_fn_lib_find(srv_scripts *sc, const char *name);
/* Adds lib (taken) or, with replace, replaces the one of its name. */
int srv_fn_lib_put(srv_scripts *sc, srv_lib *lib, bool replace, char *err,
                   size_t errlen);
struct srv_fn_flag {
    const char *name;
    int flag;
};
extern const struct srv_fn_flag srv_fn_flags[];
extern const size_t srv_fn_nflags;
/* script_fncmd.c: FUNCTION. */
void srv_fn_function(srv_exec *x);
/* The sandboxed state for functions: its globals an empty table whose
 * __index is the load API (loading) or every global (running). */
struct lua_State *srv_lua_new_fn_state(struct srv_worker *w);
void srv_lua_fn_env(struct lua_State *L, bool loading);
/* redis.register_function (script_fn.c), in the load API. */
int srv_lua_register_function(struct lua_State *L);

/* EVAL family: runs the script of x's argv (argv[1] is the body, or the
 * sha with `by_sha`) and writes its reply. */
void srv_script_eval(srv_exec *x, bool by_sha, bool ro);
/* SCRIPT LOAD body. */
void srv_script_load(srv_exec *x);
/* Every worker's Lua state bytes, as published after its last script. */
uint64_t srv_script_lua_memory(struct srv_server *s);
/* SCRIPT KILL, from any worker. */
void srv_script_kill(srv_exec *x, bool is_eval);
/* The -BUSY text for the busy script (an EVAL's or a function's). */
const char *srv_busy_text(struct srv_server *s);

/* script_lua.c: the state, the sandbox and the redis.* library. */
struct lua_State *srv_lua_new_state(struct srv_worker *w);
/* Compiles body as "f_<sha>" into the registry. NULL or the compile error
 * (static buffer of L's: valid until the next call). */
const char *srv_lua_compile(struct lua_State *L, const char *sha,
                            const char *body, size_t len);
bool srv_lua_has(struct lua_State *L, const char *sha);
/* Runs f_<sha> with KEYS/ARGV and writes its reply (or error). */
void srv_lua_run(struct srv_worker *w, srv_lua *sl, const resp_arg *keys,
                 size_t nkeys, const resp_arg *args, size_t nargs,
                 resp_writer *wr);
/* script_conv.c (script_conv.c's top comment has the rules). Pushes the
 * well-formed reply at p[*at] and advances *at. */
void srv_lua_push_reply(struct lua_State *L, const char *p, size_t n,
                        size_t *at, int depth);
/* Writes the value on top of L's stack (left there); lresp: setresp. */
void srv_lua_write_value(struct lua_State *L, resp_writer *wr, int depth,
                         int lresp);
/* A status or error line, CR and LF as spaces. */
void srv_lua_reply_line(resp_writer *wr, char kind, const char *s, size_t n);
/* The string field f of the table on top, or NULL (not popped: the table
 * keeps it alive). */
const char *srv_lua_table_str(struct lua_State *L, const char *f, size_t *n);
/* script_msgpack.c: the global `cmsgpack` table. */
void srv_lua_open_cmsgpack(struct lua_State *L);
/* Makes the hook fire at every instruction (an aborted run). */
void srv_lua_hook_arm(struct lua_State *L);
/* Bytes the state uses (INFO used_memory_lua); 0 for NULL. */
size_t srv_lua_memory(struct lua_State *L);
/* The count hook (script.c): busy, kill, restart. */
void srv_lua_hook_check(struct srv_worker *w, srv_lua *sl);
/* Before redis.call runs a command: may it run here now? NULL when yes;
 * else the error message for the call (the run may be marked aborted). */
const char *srv_script_may_call(struct srv_worker *w, srv_lua *sl,
                                const srv_cmdent *e, const resp_arg *argv,
                                size_t argc);

#endif /* FC_SERVER_SCRIPT_H */
