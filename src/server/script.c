/*
 * script.c — the script cache, EVAL's run (inline, exclusive, escalation),
 * busy scripts and SCRIPT KILL. The design and its argument are in
 * script.h; the Lua side is script_lua.c.
 */
#include "server/script.h"

#include <lua.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/config/log.h"
#include "server/pubstats.h"
#include "server/server.h"
#include "server/worker.h"
#include "util/sha1.h"

#define SCRIPT_NO_WRITES SRV_SCRIPT_NO_WRITES
#define SCRIPT_ALLOW_OOM SRV_SCRIPT_ALLOW_OOM
#define SCRIPT_SHEBANG SRV_SCRIPT_SHEBANG

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- the cache ------------------------------------------------------ */

int srv_scripts_init(srv_server *s)
{
    srv_scripts *sc = calloc(1, sizeof(*sc));
    if (!sc)
        return -1;
    pthread_mutex_init(&sc->mu, NULL);
    s->scripts = sc;
    atomic_store(&s->busy_reply_ms, 5000);
    return 0;
}

static void clear_ents(srv_scripts *sc)
{
    for (size_t i = 0; i < sc->cap; i++)
        free(sc->ents[i].body);
    free(sc->ents);
    sc->ents = NULL;
    sc->cap = sc->count = sc->bytes = 0;
}

void srv_scripts_destroy(srv_server *s)
{
    if (!s->scripts)
        return;
    clear_ents(s->scripts);
    srv_fn_free_libs(s->scripts);
    pthread_mutex_destroy(&s->scripts->mu);
    free(s->scripts);
    s->scripts = NULL;
}

static size_t slot_of(const char *sha, size_t cap)
{
    uint64_t h = 0;
    for (int i = 0; i < 16; i++)
        h = h * 16 + (uint64_t)(isdigit((unsigned char)sha[i])
                                    ? sha[i] - '0'
                                    : (sha[i] | 0x20) - 'a' + 10);
    return (size_t)h & (cap - 1);
}

/* Under mu. The entry of sha (lower case), or the empty slot for it. */
static srv_script_ent *find(srv_scripts *sc, const char *sha)
{
    if (!sc->cap)
        return NULL;
    for (size_t i = slot_of(sha, sc->cap);; i = (i + 1) & (sc->cap - 1))
        if (!sc->ents[i].sha[0] || memcmp(sc->ents[i].sha, sha, 40) == 0)
            return &sc->ents[i];
}

static int grow(srv_scripts *sc)
{
    size_t cap = sc->cap ? sc->cap * 2 : 64;
    srv_script_ent *old = sc->ents, *ne = calloc(cap, sizeof(*ne));
    if (!ne)
        return -1;
    size_t ocap = sc->cap;
    sc->ents = ne;
    sc->cap = cap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].sha[0])
            *find(sc, old[i].sha) = old[i];
    free(old);
    return 0;
}

int srv_script_cache_add(srv_scripts *sc, const char *body, size_t len,
                         char sha[41])
{
    fc_sha1_hex(body, len, sha);
    pthread_mutex_lock(&sc->mu);
    int rc = 0;
    if ((sc->count + 1) * 2 > sc->cap && grow(sc))
        rc = -1;
    srv_script_ent *e = rc ? NULL : find(sc, sha);
    if (e && !e->sha[0]) {
        e->body = malloc(len + 1);
        if (!e->body) {
            rc = -1;
        } else {
            memcpy(e->body, body, len);
            e->body[len] = '\0';
            e->len = len;
            memcpy(e->sha, sha, 41);
            sc->count++;
            sc->bytes += len;
        }
    }
    pthread_mutex_unlock(&sc->mu);
    return rc;
}

static bool norm_sha(const char *in, size_t n, char out[41])
{
    if (n != 40)
        return false;
    for (size_t i = 0; i < 40; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[40] = '\0';
    return true;
}

bool srv_script_cache_get(srv_scripts *sc, const char *sha, size_t shalen,
                          char **body, size_t *len)
{
    char k[41];
    if (!norm_sha(sha, shalen, k))
        return false;
    pthread_mutex_lock(&sc->mu);
    srv_script_ent *e = find(sc, k);
    bool ok = e && e->sha[0];
    if (ok && body) {
        *body = malloc(e->len + 1);
        if (*body) {
            memcpy(*body, e->body, e->len + 1);
            *len = e->len;
        } else {
            ok = false;
        }
    }
    pthread_mutex_unlock(&sc->mu);
    return ok;
}

bool srv_script_cache_has(srv_scripts *sc, const char *sha, size_t shalen)
{
    return srv_script_cache_get(sc, sha, shalen, NULL, NULL);
}

void srv_script_cache_flush(srv_scripts *sc)
{
    pthread_mutex_lock(&sc->mu);
    clear_ents(sc);
    atomic_fetch_add(&sc->gen, 1);
    pthread_mutex_unlock(&sc->mu);
}

void srv_script_cache_stats(srv_scripts *sc, size_t *count, size_t *bytes)
{
    pthread_mutex_lock(&sc->mu);
    *count = sc->count;
    *bytes = sc->bytes;
    pthread_mutex_unlock(&sc->mu);
}

/* --- a worker's state ----------------------------------------------- */

void srv_script_worker_free(srv_worker *w)
{
    if (!w->lua)
        return;
    if (w->lua->L)
        lua_close(w->lua->L);
    if (w->lua->FL)
        lua_close(w->lua->FL);
    free(w->lua);
    w->lua = NULL;
}

/* The worker's state, current with the cache's generation. */
srv_lua *srv_script_state(srv_worker *w)
{
    if (!w->lua && !(w->lua = calloc(1, sizeof(*w->lua))))
        return NULL;
    srv_lua *sl = w->lua;
    uint64_t gen = atomic_load(&w->srv->scripts->gen);
    if (sl->L && sl->gen != gen) {
        lua_close(sl->L); /* SCRIPT FLUSH: start afresh, as Redis does */
        sl->L = NULL;
    }
    if (!sl->L) {
        sl->L = srv_lua_new_state(w);
        sl->gen = gen;
    }
    return sl->L ? sl : NULL;
}

/* --- shebang -------------------------------------------------------- */

/* "#!lua flags=a,b" on the first line (Redis 7.0). Returns the flags or
 * -1 with err set; *skip = bytes before the line's newline (the body is
 * compiled from there, so line numbers stay those of the source). */
static int shebang(const char *body, size_t len, size_t *skip, char *err,
                   size_t errlen)
{
    *skip = 0;
    if (len < 2 || body[0] != '#' || body[1] != '!')
        return 0;
    const char *nl = memchr(body, '\n', len);
    if (!nl) {
        snprintf(err, errlen, "ERR Invalid script shebang");
        return -1;
    }
    *skip = (size_t)(nl - body);
    char line[512];
    size_t n = *skip < sizeof(line) - 1 ? *skip : sizeof(line) - 1;
    memcpy(line, body, n);
    line[n] = '\0';
    char *save = NULL, *tok = strtok_r(line, " \t\r", &save);
    if (!tok || strcmp(tok, "#!lua") != 0) {
        snprintf(err, errlen, "ERR Unexpected engine in script shebang: %s",
                 tok ? tok : "");
        return -1;
    }
    int flags = SCRIPT_SHEBANG;
    while ((tok = strtok_r(NULL, " \t\r", &save))) {
        if (strncmp(tok, "flags=", 6) != 0) {
            snprintf(err, errlen, "ERR Unknown lua shebang option: %s", tok);
            return -1;
        }
        char *fs = NULL, *f = strtok_r(tok + 6, ",", &fs);
        for (; f; f = strtok_r(NULL, ",", &fs)) {
            if (strcmp(f, "no-writes") == 0)
                flags |= SCRIPT_NO_WRITES;
            else if (strcmp(f, "allow-oom") == 0)
                flags |= SCRIPT_ALLOW_OOM;
            else if (strcmp(f, "allow-stale") != 0 &&
                     strcmp(f, "no-cluster") != 0 &&
                     strcmp(f, "allow-cross-slot-keys") != 0) {
                snprintf(err, errlen,
                         "ERR Unexpected flag in script shebang: %s", f);
                return -1;
            }
        }
    }
    return flags;
}

/* --- where a command may run ---------------------------------------- */

static bool key_local(const srv_server *s, uint32_t me, const resp_arg *k)
{
    uint64_t h = eng_route_hash(s->hash_seed, s->route_mode, k->ptr, k->len);
    return srv_shard_owner(s, (uint32_t)(h & (s->nshards - 1))) == me;
}

#define KEYPOS_MAX 256

/* Whether e over argv touches only shards of worker `me` (it may then run
 * inline in the script); unknown key layouts count as foreign. */
static bool cmd_local(const srv_server *s, uint32_t me, const srv_cmdent *e,
                      const resp_arg *argv, size_t argc)
{
    const cmd_def *d = e->def;
    if (d->flags & CMD_ALLKEYS)
        return false;
    if (e->scmd) {
        unsigned all = SRV_CMD_EXCL | SRV_CMD_EVERY;
        const srv_subcmd *sub =
            e->scmd->subs && argc >= 2
                ? srv_subcmd_find(e->scmd, argv[1].ptr, argv[1].len)
                : NULL;
        if ((e->scmd->sflags & all) || (sub && (sub->sflags & all)))
            return false;
    }
    if (d->keys) {
        size_t pos[KEYPOS_MAX];
        int n = d->keys(argv, argc, pos, KEYPOS_MAX);
        if (n < 0)
            return true; /* malformed: the command errs by itself */
        if (n >= KEYPOS_MAX)
            return false;
        for (int i = 0; i < n; i++)
            if (!key_local(s, me, &argv[pos[i]]))
                return false;
        return true;
    }
    if (d->first_key <= 0 || (size_t)d->first_key >= argc)
        return true;
    size_t last = d->last_key < 0 ? (size_t)((long)argc + d->last_key)
                                  : (size_t)d->last_key;
    if (last >= argc)
        last = argc - 1;
    size_t step = d->key_step > 0 ? (size_t)d->key_step : 1;
    for (size_t k = (size_t)d->first_key; k <= last; k += step)
        if (!key_local(s, me, &argv[k]))
            return false;
    return true;
}

const char *srv_script_may_call(srv_worker *w, srv_lua *sl, const srv_cmdent *e,
                                const resp_arg *argv, size_t argc)
{
    const cmd_def *d = e->def;
    unsigned never =
        SRV_CMD_TX | SRV_CMD_BLOCK | SRV_CMD_SCRIPT | SRV_CMD_NO_MULTI;
    if ((d->flags & CMD_NOSCRIPT) || (e->scmd && (e->scmd->sflags & never)))
        return "ERR This Redis command is not allowed from script";
    if ((d->flags & CMD_WRITE) && sl->ro)
        return "ERR Write commands are not allowed from read-only scripts.";
    if (!sl->excl && !cmd_local(w->srv, w->id, e, argv, argc)) {
        if (!sl->wrote) {
            sl->abort = LUA_ABORT_RESTART;
            return "ERR script restarts in an exclusive section";
        }
        if (!srv_excl_try_begin(&w->rt))
            return "ERR Script accessed a key of another worker after "
                   "writing while another worker held exclusive execution "
                   "(declare the script's keys in KEYS)";
        w->exec_mark_ns = 0;
        sl->excl = sl->own_excl = true;
    }
    if ((d->flags & CMD_WRITE) && !sl->wrote) {
        int expect = 0;
        if (!atomic_compare_exchange_strong(&sl->kstate, &expect, 1) &&
            expect == 2) {
            sl->abort = LUA_ABORT_KILL; /* killed before its first write */
            return "ERR Script killed by user with SCRIPT KILL...";
        }
        sl->wrote = true;
    }
    return NULL;
}

/* --- busy scripts --------------------------------------------------- */

void srv_lua_hook_check(srv_worker *w, srv_lua *sl)
{
    srv_server *s = w->srv;
    if (atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        /* SHUTDOWN (NOSAVE) or a signal: the worker must get back to its
         * loop to exit, written or not. */
        sl->abort = LUA_ABORT_KILL;
        return;
    }
    if (!sl->busy) {
        int64_t limit =
            atomic_load_explicit(&s->busy_reply_ms, memory_order_relaxed);
        if (mono_ms() - sl->start_ms < limit)
            return;
        sl->busy = true;
        srv_warning("Slow script detected: still in execution after %lld "
                    "milliseconds. You can try killing the script using the "
                    "SCRIPT KILL command. Script name is: %s.",
                    (long long)(mono_ms() - sl->start_ms), sl->sha);
    }
    /* Registered as the process's busy script (the first of several);
     * whether it is a function picks the -BUSY text (exec.c). */
    if (atomic_load(&s->script_busy) == 0) {
        atomic_store(&s->script_busy_fn, sl->fn[0] != '\0');
        int none = 0;
        atomic_compare_exchange_strong(&s->script_busy, &none, (int)w->id + 1);
    }
    if (atomic_load(&sl->kstate) == 2)
        sl->abort = LUA_ABORT_KILL;
}

void srv_script_kill(srv_exec *x, bool is_eval)
{
    srv_server *s = x->srv;
    resp_writer *wr = x->c->w;
    int busy = atomic_load(&s->script_busy);
    srv_lua *sl = busy ? s->workers[busy - 1].lua : NULL;
    if (!sl) {
        resp_error(wr, "NOTBUSY No scripts in execution right now.");
        return;
    }
    if (atomic_load(&sl->kstate) == 1) {
        resp_error(wr, "UNKILLABLE Sorry the script already executed write "
                       "commands against the dataset. You can either wait "
                       "the script termination or kill the server in a hard "
                       "way using the SHUTDOWN NOSAVE command.");
        return;
    }
    /* SCRIPT KILL stops EVAL scripts, FUNCTION KILL functions (Redis). */
    bool fn = atomic_load(&s->script_busy_fn) != 0;
    if (fn == is_eval) {
        resp_error(wr, srv_busy_text(s));
        return;
    }
    int expect = 0;
    if (atomic_compare_exchange_strong(&sl->kstate, &expect, 2) ||
        expect == 2) {
        resp_ok(wr);
        return;
    }
    resp_error(wr, "UNKILLABLE Sorry the script already executed write "
                   "commands against the dataset. You can either wait the "
                   "script termination or kill the server in a hard way "
                   "using the SHUTDOWN NOSAVE command.");
}

const char *srv_busy_text(srv_server *s)
{
    return atomic_load(&s->script_busy_fn)
               ? "BUSY Redis is busy running a script. You can only call "
                 "FUNCTION KILL or SHUTDOWN NOSAVE."
               : "BUSY Redis is busy running a script. You can only call "
                 "SCRIPT KILL or SHUTDOWN NOSAVE.";
}

/* --- EVAL ----------------------------------------------------------- */

void srv_script_run(srv_exec *x, srv_lua *sl, const resp_arg *keys,
                    size_t nkeys, const resp_arg *args, size_t nargs)
{
    srv_worker *w = x->w;
    srv_server *s = x->srv;
    resp_writer *wr = x->c->w;
    sl->excl = s->nworkers == 1 || w->rt.holds_token;
    sl->own_excl = false;
    for (size_t i = 0; !sl->excl && i < nkeys; i++)
        if (!key_local(s, w->id, &keys[i])) {
            srv_excl_begin(&w->rt);
            sl->excl = sl->own_excl = true;
        }
    for (;;) {
        sl->x = x;
        sl->running = true;
        sl->wrote = sl->busy = false;
        sl->abort = LUA_ABORT_NONE;
        sl->resp = 2;
        atomic_store(&sl->kstate, 0);
        sl->start_ms = mono_ms();
        size_t mark = wr->out->len;
        srv_lua_run(w, sl, keys, nkeys, args, nargs, wr);
        if (sl->abort != LUA_ABORT_RESTART)
            break;
        /* Touched another worker's key before writing: nothing happened
         * that anyone saw; start over with every other worker parked. */
        wr->out->len = mark;
        srv_excl_begin(&w->rt);
        w->exec_mark_ns = 0;
        sl->excl = sl->own_excl = true;
    }
    sl->running = false;
    if (sl->busy) {
        int me = (int)w->id + 1;
        atomic_compare_exchange_strong(&s->script_busy, &me, 0);
    }
    atomic_store(&sl->kstate, 0);
    if (sl->own_excl) {
        srv_excl_end(&w->rt);
        srv_pub_refresh_all(s);
    }
    sl->excl = sl->own_excl = false;
    atomic_store_explicit(&w->pub_lua_mem,
                          srv_lua_memory(sl->L) + srv_lua_memory(sl->FL),
                          memory_order_relaxed);
}

void srv_script_eval(srv_exec *x, bool by_sha, bool ro)
{
    cmd_ctx *c = x->c;
    resp_writer *wr = c->w;
    long long nk;
    if (srv_arg_ll(&c->argv[2], &nk)) {
        resp_error(wr, "ERR value is not an integer or out of range");
        return;
    }
    if (nk < 0) {
        resp_error(wr, "ERR Number of keys can't be negative");
        return;
    }
    if ((size_t)nk > c->argc - 3) {
        resp_error(wr, "ERR Number of keys can't be greater than number of "
                       "args");
        return;
    }
    srv_lua *sl = srv_script_state(x->w);
    if (!sl) {
        resp_error(wr, "ERR out of memory");
        return;
    }
    srv_scripts *sc = x->srv->scripts;
    char *owned = NULL;
    const char *body = c->argv[1].ptr;
    size_t len = c->argv[1].len;
    char sha[41];
    if (by_sha) {
        if (!srv_script_cache_get(sc, body, len, &owned, &len)) {
            resp_error(wr, "NOSCRIPT No matching script. Please use EVAL.");
            return;
        }
        body = owned;
        norm_sha(c->argv[1].ptr, c->argv[1].len, sha);
    } else {
        fc_sha1_hex(body, len, sha);
    }
    char err[256];
    size_t skip;
    int flags = shebang(body, len, &skip, err, sizeof(err));
    if (flags < 0) {
        resp_error(wr, err);
        free(owned);
        return;
    }
    if (!srv_lua_has(sl->L, sha)) {
        const char *cerr = srv_lua_compile(sl->L, sha, body + skip, len - skip);
        if (cerr) {
            resp_error(wr, cerr);
            free(owned);
            return;
        }
        if (!by_sha && srv_script_cache_add(sc, body, len, sha)) {
            resp_error(wr, "ERR out of memory");
            return;
        }
    }
    free(owned);
    /* Redis 7.0: a script that declares its flags must declare no-writes
     * to run as EVAL_RO (one without a shebang is checked per call). */
    if (ro && (flags & SCRIPT_SHEBANG) && !(flags & SCRIPT_NO_WRITES)) {
        resp_error(wr, "ERR Can not execute a script with write flag using "
                       "*_ro command.");
        return;
    }
    memcpy(sl->sha, sha, 41);
    sl->ro = ro || (flags & SCRIPT_NO_WRITES);
    sl->allow_oom = flags & SCRIPT_ALLOW_OOM;
    sl->fn[0] = '\0';
    sl->cur = sl->L;
    srv_script_run(x, sl, c->argv + 3, (size_t)nk, c->argv + 3 + nk,
                   c->argc - 3 - (size_t)nk);
}

/* SCRIPT LOAD: compiled here (so a syntax error is the caller's reply),
 * cached for every worker. */
void srv_script_load(srv_exec *x)
{
    cmd_ctx *c = x->c;
    srv_lua *sl = srv_script_state(x->w);
    if (!sl) {
        resp_error(c->w, "ERR out of memory");
        return;
    }
    const resp_arg *b = &c->argv[2];
    char sha[41], err[256];
    size_t skip;
    fc_sha1_hex(b->ptr, b->len, sha);
    int flags = shebang(b->ptr, b->len, &skip, err, sizeof(err));
    if (flags < 0) {
        resp_error(c->w, err);
        return;
    }
    if (!srv_lua_has(sl->L, sha)) {
        const char *cerr =
            srv_lua_compile(sl->L, sha, b->ptr + skip, b->len - skip);
        if (cerr) {
            resp_error(c->w, cerr);
            return;
        }
    }
    if (srv_script_cache_add(x->srv->scripts, b->ptr, b->len, sha)) {
        resp_error(c->w, "ERR out of memory");
        return;
    }
    resp_bulk(c->w, sha, 40);
}

uint64_t srv_script_lua_memory(srv_server *s)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < s->nworkers; i++)
        n += atomic_load_explicit(&s->workers[i].pub_lua_mem,
                                  memory_order_relaxed);
    return n;
}
