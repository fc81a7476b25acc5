/*
 * exec.c — a request on its connection's worker, on either side of
 * routing: the checks every request goes through and its hand-over to the
 * router (srv_request), running one command (srv_execute), and running a
 * request another worker sent (srv_msg_execute). See exec.h.
 */
#include "server/exec.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/blocking.h"
#include "server/config/log.h"
#include "server/durable.h"
#include "server/multi.h"
#include "server/pubstats.h"
#include "server/pubsub.h"
#include "server/replication.h"
#include "server/script.h"
#include "server/slowlog.h"
#include "util/tsc.h"

static inline void stat_add(_Atomic uint64_t *v, uint64_t n)
{
    /* Single writer (this worker): a plain load+store, no locked RMW. */
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* Commands are timed with the counter clock (util/tsc.h): 10 ns a read
 * against clock_gettime's 23 on this VM, per command. */
static inline uint64_t mono_ns(void)
{
    return fc_tsc_ns();
}

static bool is_null_reply(const fc_buf *b, size_t at)
{
    const char *p = b->data + at;
    size_t n = b->len - at;
    return (n >= 3 && p[0] == '_') ||
           (n >= 5 && (p[0] == '$' || p[0] == '*') && p[1] == '-');
}

/* SLOWLOG (slowlog.h), as Redis 7.0 keeps it: EXEC is not logged (its
 * commands are), a script's commands are, as the fake client "?:0". */
static void slow_log(srv_worker *w, const srv_cmdent *e, const resp_arg *argv,
                     size_t argc, const conn *c, uint64_t us)
{
    if (strcmp(e->def->name, "exec") == 0)
        return;
    if (w->lua && w->lua->running)
        srv_slowlog_add(w, argv, argc, "?:0", "", us);
    else
        srv_slowlog_add(w, argv, argc, c ? c->addr : "",
                        c && c->name ? c->name : "", us);
}

void srv_execute(srv_worker *w, const srv_cmdent *e, const resp_arg *argv,
                 size_t argc, resp_writer *wr, conn *c)
{
    srv_server *s = w->srv;
    cmd_ctx ctx = {
        .argv = argv,
        .argc = argc,
        .w = wr,
        .shards = s->shards,
        .shard_mask = s->nshards - 1,
        .now = w->now,
        .wall_offset_ms = w->wall_offset_ms,
        .rng = &w->rng,
        .hash_seed = s->hash_seed,
        .route_mode = s->route_mode,
        .scan_one_shard = s->nworkers > 1,
        .own_first = w->id,
        .own_stride = s->nworkers > 1 ? s->nworkers : 0,
        .replica = atomic_load(&s->replica_mode) != 0,
    };
    if (__builtin_expect(s->cfg.persistence.enabled, 0) &&
        !srv_dur_gate(w, e, wr))
        return;
    if (__builtin_expect(srv_repl_gated(s), 0) && !srv_repl_gate(w, e, wr))
        return;
    uint64_t mark = srv_dur_mark(w);
    size_t before = wr->out->len;
    /* Back to back, one clock read per command rather than two: a command
     * starts where the previous one ended, so its time also counts its own
     * parsing and routing (tens of ns). Callers clear the mark wherever
     * something else runs between commands (other connections, parking). */
    uint64_t t0 = w->exec_mark_ns ? w->exec_mark_ns : mono_ns();
    if (e->scmd) {
        srv_exec x = {.c = &ctx, .srv = s, .w = w, .conn = c};
        e->scmd->fn(&x);
    } else {
        e->def->fn(&ctx);
    }
    /* A script's commands each noted their records (srv_dur_after runs
     * for them): noting EVAL itself would point the client at the lane's
     * generation after the script's exclusive section handed it off,
     * which may never fill, and hold its reply for ever. */
    if (w->lane && !(e->scmd && (e->scmd->sflags & SRV_CMD_SCRIPT)))
        srv_dur_after(w, c, mark);
    srv_watch_touch(s, e->def, argv, argc);
    /* Not for a retry (blocking.c touches once it served) nor for a
     * request that just blocked (it changed nothing: touching would wake
     * itself). */
    if ((e->def->flags & CMD_WRITE) && !w->blk_retry && !w->blk_blocked &&
        atomic_load_explicit(&s->blk_waiting, memory_order_relaxed))
        srv_blk_touch_slow(w, e->def, argv, argc);
    w->blk_blocked = false;
    if (e->def->flags & CMD_ALLKEYS) /* FLUSHALL: CLEARs go out first */
        srv_repl_after_clear(w);
    srv_cmdstat *st = &w->cmdstats[e->index];
    /* Reads leave the published figures alone (a lazily expired key shows
     * up at the next write or sweep): a read-only workload pays nothing. */
    if (!(e->def->flags & CMD_READONLY))
        w->pub_dirty = true;
    uint64_t t1 = mono_ns();
    w->exec_mark_ns = t1;
    stat_add(&st->nsec, t1 - t0);
    stat_add(&st->lat[srv_lat_bucket(t1 - t0)], 1);
    int64_t slow_us =
        atomic_load_explicit(&s->slowlog_us, memory_order_relaxed);
    if (__builtin_expect(slow_us >= 0 && (t1 - t0) / 1000 >= (uint64_t)slow_us,
                         0))
        slow_log(w, e, argv, argc, c, (t1 - t0) / 1000);
    stat_add(&st->calls, 1);
    stat_add(&w->stat_cmds, 1);
    if (wr->out->len > before) {
        stat_add(&w->stat_net_out, wr->out->len - before);
        if (wr->out->data[before] == '-') {
            stat_add(&st->failed, 1);
            srv_errstat_count(w, wr->out->data + before, wr->out->len - before);
        } else if ((e->def->flags & CMD_READONLY) && e->def->first_key > 0 &&
                   e->def->first_key == e->def->last_key)
            stat_add(is_null_reply(wr->out, before) ? &w->stat_misses
                                                    : &w->stat_hits,
                     1);
    }
}

/* Redis 7: "unknown command 'x', with args beginning with: 'a' 'b' ", the
 * name cut at 128 bytes, the args while they fit in 128 bytes, CR/LF
 * turned into spaces. */
static void unknown_command(resp_writer *wr, const resp_arg *argv, size_t argc)
{
    char msg[512];
    int n = snprintf(msg, sizeof(msg),
                     "ERR unknown command '%.*s', with "
                     "args beginning with: ",
                     (int)(argv[0].len > 128 ? 128 : argv[0].len), argv[0].ptr);
    size_t args = 0, pos = (size_t)n;
    for (size_t i = 1; i < argc && args < 128; i++) {
        size_t room = 128 - args, len = argv[i].len < room ? argv[i].len : room;
        const char *nul = memchr(argv[i].ptr, '\0', len);
        if (nul)
            len = (size_t)(nul - argv[i].ptr);
        int k = snprintf(msg + pos, sizeof(msg) - pos, "'%.*s' ", (int)len,
                         argv[i].ptr);
        pos += (size_t)k;
        args += (size_t)k;
    }
    for (size_t i = 0; i < pos; i++)
        if (msg[i] == '\r' || msg[i] == '\n' || msg[i] == '\0')
            msg[i] = ' ';
    msg[pos] = '\0';
    resp_error(wr, msg);
}

/* Routing holds every other worker parked (route/route.h's hook). */
void srv_run_parked(const srv_req *r)
{
    srv_worker *w = r->rt->worker;
    w->exec_mark_ns = 0; /* the wait for the others is not the command's */
    r->wr->out = conn_out(r->conn);
    srv_execute(w, r->cmd, r->argv, r->argc, r->wr, r->conn);
    srv_pub_refresh_all(w->srv); /* it may have changed any shard */
}

/* A routing flag (SRV_CMD_EXCL, SRV_CMD_EVERY) on the command or its
 * subcommand. */
static bool route_flag(const srv_cmdent *e, const srv_subcmd *sub,
                       unsigned flag)
{
    if (!e->scmd)
        return false;
    if (e->scmd->sflags & flag)
        return true;
    return sub && (sub->sflags & flag);
}

static bool check_arity(int arity, size_t argc)
{
    return arity >= 0 ? argc == (size_t)arity : argc >= (size_t)-arity;
}

/* The checks before running, in Redis's order: known command, arity
 * (also a subcommand's), authentication. Returns false after replying. */
static bool admit(conn *c, const srv_cmdent *e, const srv_subcmd *sub,
                  size_t argc)
{
    srv_worker *w = c->w;
    const cmd_def *d = e->def;
    const char *err = NULL;
    if (!check_arity(d->arity, argc) || (sub && !check_arity(sub->arity, argc)))
        err = "arity";
    else if (w->srv->cfg.requirepass && !c->authed && !(d->flags & CMD_NOAUTH))
        err = "NOAUTH Authentication required.";
    if (!err)
        return true;
    stat_add(&w->cmdstats[e->index].rejected, 1);
    c->wr.out = conn_out(c);
    size_t at = c->wr.out->len;
    if (err[0] == 'N')
        resp_error(&c->wr, err);
    else if (sub && check_arity(d->arity, argc))
        resp_errorf(&c->wr, "ERR wrong number of arguments for '%s|%s' command",
                    d->name, sub->name);
    else
        resp_errorf(&c->wr, "ERR wrong number of arguments for '%s' command",
                    d->name);
    srv_errstat_count(w, c->wr.out->data + at, c->wr.out->len - at);
    return false;
}

/* Redis: a RESP2 client in subscribed mode may only run these. */
static bool ps_allowed(const cmd_def *d)
{
    static const char *const ok[] = {
        "subscribe",    "ssubscribe", "unsubscribe",
        "sunsubscribe", "psubscribe", "punsubscribe",
        "ping",         "quit",       "reset"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strcmp(d->name, ok[i]) == 0)
            return true;
    return false;
}

/* Redis's refusal of anything else, after the checks of admit(). true
 * after replying. */
static bool ps_refused(conn *c, const srv_cmdent *e, const srv_subcmd *sub)
{
    if (__builtin_expect(!c->ps, 1) || c->wr.proto != 2 || !srv_ps_active(c) ||
        ps_allowed(e->def))
        return false;
    srv_worker *w = c->w;
    stat_add(&w->cmdstats[e->index].rejected, 1);
    c->wr.out = conn_out(c);
    size_t at = c->wr.out->len;
    resp_errorf(&c->wr,
                "ERR Can't execute '%s%s%s': only (P|S)SUBSCRIBE / "
                "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
                "context",
                e->def->name, sub ? "|" : "", sub ? sub->name : "");
    srv_errstat_count(w, c->wr.out->data + at, c->wr.out->len - at);
    return true;
}

/* A script on another worker is past busy-reply-threshold (script.h):
 * Redis answers everything but SCRIPT KILL and SHUTDOWN NOSAVE with -BUSY.
 * true after replying. */
static bool busy_refused(conn *c, const srv_cmdent *e, const resp_arg *argv,
                         size_t argc)
{
    const char *n = e->def->name;
    if (argc == 2 && (strcmp(n, "script") == 0 || strcmp(n, "function") == 0) &&
        srv_arg_is(&argv[1], "kill"))
        return false;
    if (argc == 2 && strcmp(n, "function") == 0 &&
        srv_arg_is(&argv[1], "stats"))
        return false;
    if (argc == 2 && strcmp(n, "shutdown") == 0 &&
        srv_arg_is(&argv[1], "nosave"))
        return false;
    srv_worker *w = c->w;
    stat_add(&w->cmdstats[e->index].rejected, 1);
    c->wr.out = conn_out(c);
    size_t at = c->wr.out->len;
    resp_error(&c->wr, srv_busy_text(w->srv));
    srv_errstat_count(w, c->wr.out->data + at, c->wr.out->len - at);
    return true;
}

enum srv_route_res srv_request(conn *c, const resp_arg *argv, size_t argc)
{
    srv_worker *w = c->w;
    srv_server *s = w->srv;
    const srv_cmdent *e = srv_cmdtab_find(&s->cmds, argv[0].ptr, argv[0].len);
    if (!e) {
        c->wr.out = conn_out(c);
        size_t at = c->wr.out->len;
        unknown_command(&c->wr, argv, argc);
        srv_errstat_count(w, c->wr.out->data + at, c->wr.out->len - at);
        srv_tx_flag_error(c);
        return SRV_ROUTE_DONE;
    }
    const srv_subcmd *sub =
        e->scmd && e->scmd->subs && argc >= 2
            ? srv_subcmd_find(e->scmd, argv[1].ptr, argv[1].len)
            : NULL;
    if (!admit(c, e, sub, argc) || ps_refused(c, e, sub)) {
        srv_tx_flag_error(c);
        return SRV_ROUTE_DONE;
    }
    const cmd_def *d = e->def;
    c->last_cmd = d->name;
    c->last_sub = sub ? sub->name : NULL;
    c->atime_ms = w->now;
    int busy = atomic_load_explicit(&s->script_busy, memory_order_relaxed);
    if (__builtin_expect(busy != 0, 0) && busy_refused(c, e, argv, argc)) {
        srv_tx_flag_error(c);
        return SRV_ROUTE_DONE;
    }
    if (srv_tx_intercepts(c, e))
        return srv_tx_route(c, e, argv, argc);
    /* Here the connection hands the request to routing (route/route.h). */
    bool blocking = e->scmd && (e->scmd->sflags & SRV_CMD_BLOCK);
    conn_slot *tail = c->slot_tail;
    srv_req r = {
        .rt = &w->rt,
        .conn = c,
        .cmd = e,
        .def = d,
        .argv = argv,
        .argc = argc,
        .wr = &c->wr,
        .behind = c->slot_head != NULL,
        .published = e->scmd && (e->scmd->sflags & SRV_CMD_PUBLISHED),
        .exclusive = route_flag(e, sub, SRV_CMD_EXCL) ||
                     (blocking && w->srv->nworkers > 1 &&
                      srv_blk_owner(w, d, argv, argc) < 0),
        .every = route_flag(e, sub, SRV_CMD_EVERY),
        .notkey = e->scmd && (e->scmd->sflags & SRV_CMD_NOTKEY),
    };
    enum srv_route_res res = srv_route(&r);
    /* A blocking request whose reply is pending (it waits here, or runs
     * on its keys' owner and may wait there): nothing behind it runs
     * until that reply is in, as for a blocked Redis client. */
    if (blocking && res == SRV_ROUTE_DONE && c->slot_tail != tail &&
        c->slot_tail && c->slot_tail->pending)
        c->blk_slot = c->slot_tail;
    if (res == SRV_ROUTE_WAIT_ROOM) {
        /* Woken when replies come back and free room (worker.c drain). */
        conn_chan_wait(c);
        res = SRV_ROUTE_WAIT;
    }
    return res;
}

/* Owner side. The reply must go back whatever happens, or the origin's
 * slot would wait forever; it always can: the origin admits requests only
 * within SRV_CHAN_INFLIGHT, which the channel back holds without
 * allocating (route/mesh.h), and a reply whose bytes could not be allocated
 * goes back marked oom, which the origin answers with an error. */
void srv_msg_execute(srv_worker *w, srv_msg *m)
{
    resp_writer wr = {.out = &m->reply, .proto = m->proto};
    w->exec_wrote = false;
    w->exec_origin = m->origin;
    w->exec_blk = m->blk;
    srv_execute(w, m->cmd, m->argv, m->argc, &wr, NULL);
    w->exec_origin = UINT32_MAX;
    w->exec_blk = NULL;
    if (!(m->cmd->def->flags & CMD_READONLY))
        srv_pub_refresh(w); /* before the reply: see pubstats.h */
    if (srv_dur_hold_msg(w, m))
        return; /* sent once its WAL records are durable */
    if (srv_msg_send(&w->rt, m->origin, m)) {
        srv_warning("worker %u: reply channel to worker %u over its bound",
                    w->id, m->origin);
        abort(); /* the in-flight accounting is broken */
    }
}
