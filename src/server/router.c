/*
 * router.c — the checks every request goes through, key ownership, and the
 * choice between inline, remote, scattered and exclusive execution (see
 * router.h and docs/ARCHITECTURE.md). Scatter/gather is in gather.c.
 */
#include "server/router.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands/cmd_fns.h"
#include "server/durable.h"
#include "server/config/log.h"
#include "server/multi.h"
#include "server/pubstats.h"
#include "server/replication.h"

static inline void stat_add(_Atomic uint64_t *v, uint64_t n)
{
    /* Single writer (this worker): a plain load+store, no locked RMW. */
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool is_null_reply(const fc_buf *b, size_t at)
{
    const char *p = b->data + at;
    size_t n = b->len - at;
    return (n >= 3 && p[0] == '_') ||
           (n >= 5 && (p[0] == '$' || p[0] == '*') && p[1] == '-');
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
        .scan_one_shard = s->nworkers > 1,
        .own_first = w->id,
        .own_stride = s->nworkers > 1 ? s->nworkers : 0,
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
    if (w->lane)
        srv_dur_after(w, c, mark);
    srv_watch_touch(s, e->def, argv, argc);
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

srv_msg *srv_msg_alloc(const srv_cmdent *e, size_t argc, size_t bytes)
{
    srv_msg *m = malloc(sizeof(*m) + argc * sizeof(resp_arg) + bytes);
    if (!m)
        return NULL;
    memset(m, 0, sizeof(*m));
    m->cmd = e;
    m->bytes = bytes;
    m->argc = 0;
    return m;
}

char *srv_msg_push(srv_msg *m, char *dst, const resp_arg *a)
{
    memcpy(dst, a->ptr, a->len);
    m->argv[m->argc].ptr = dst;
    m->argv[m->argc].len = a->len;
    m->argc++;
    return dst + a->len;
}

void srv_reply_oom(resp_writer *wr)
{
    resp_error(wr, "ERR out of memory");
}

static void run_inline(conn *c, const srv_cmdent *e, const resp_arg *argv,
                       size_t argc)
{
    c->wr.out = conn_out(c);
    srv_execute(c->w, e, argv, argc, &c->wr, c);
}

static enum srv_route_res run_exclusive(conn *c, const srv_cmdent *e,
                                        const resp_arg *argv, size_t argc)
{
    /* Earlier requests of this client still run elsewhere: keep its order
     * (they must be visible to this command). */
    if (c->slot_head)
        return SRV_ROUTE_WAIT;
    srv_excl_begin(c->w);
    c->w->exec_mark_ns = 0; /* the wait for the others is not the command's */
    run_inline(c, e, argv, argc);
    srv_pub_refresh_all(c->w->srv); /* it may have changed any shard */
    srv_excl_end(c->w);
    return SRV_ROUTE_DONE;
}

/* SRV_CMD_PUBLISHED: inline, after this client's earlier requests are back
 * so that it sees its own writes (pubstats.h). */
static enum srv_route_res run_published(conn *c, const srv_cmdent *e,
                                        const resp_arg *argv, size_t argc)
{
    if (c->slot_head)
        return SRV_ROUTE_WAIT; /* resumed when the slots drain */
    run_inline(c, e, argv, argc);
    return SRV_ROUTE_DONE;
}

/* No room in flight to `owner` (or, owner UINT32_MAX, to some worker):
 * the request waits, held by the connection, until replies come back. */
static enum srv_route_res wait_room(conn *c)
{
    conn_chan_wait(c);
    return SRV_ROUTE_WAIT;
}

static bool room_everywhere(const srv_worker *w, size_t bytes)
{
    for (uint32_t d = 0; d < w->srv->nworkers; d++)
        if (d != w->id && !srv_worker_can_send(w, d, bytes))
            return false;
    return true;
}

static enum srv_route_res run_remote(conn *c, const srv_cmdent *e,
                                     uint32_t owner, const resp_arg *argv,
                                     size_t argc)
{
    size_t bytes = 0;
    for (size_t i = 0; i < argc; i++)
        bytes += argv[i].len;
    if (!srv_worker_can_send(c->w, owner, bytes))
        return wait_room(c);
    srv_msg *m = srv_msg_alloc(e, argc, bytes);
    conn_slot *slot = m ? conn_slot_open(c, SLOT_REMOTE, 1) : NULL;
    if (!slot) {
        free(m);
        c->wr.out = conn_out(c);
        srv_reply_oom(&c->wr);
        return SRV_ROUTE_DONE;
    }
    char *dst = (char *)(m->argv + argc);
    for (size_t i = 0; i < argc; i++)
        dst = srv_msg_push(m, dst, &argv[i]);
    m->slot = slot;
    m->origin = c->w->id;
    m->proto = (uint8_t)c->wr.proto;
    if (srv_worker_send(c->w, owner, m)) {
        resp_writer wr = {.out = &slot->out, .proto = c->wr.proto};
        srv_reply_oom(&wr);
        free(m);
        conn_slot_part_done(slot);
    }
    return SRV_ROUTE_DONE;
}

static uint32_t key_owner(const srv_server *s, const resp_arg *k)
{
    uint32_t shard = (uint32_t)(eng_hash_seeded(s->hash_seed, k->ptr, k->len) &
                                (s->nshards - 1));
    return srv_shard_owner(s, shard);
}

static bool needs_exclusive(const srv_cmdent *e, const srv_subcmd *sub)
{
    if (!e->scmd)
        return false;
    if (e->scmd->sflags & SRV_CMD_EXCL)
        return true;
    return sub && (sub->sflags & SRV_CMD_EXCL);
}

static bool check_arity(int arity, size_t argc)
{
    return arity >= 0 ? argc == (size_t)arity : argc >= (size_t)-arity;
}

/* SCAN touches only the shard in its cursor's low bits (cmd_ctx
 * scan_one_shard), so it runs on that shard's owner, parking nobody. A bad
 * cursor runs inline, where the command rejects it before touching any
 * shard. */
static enum srv_route_res route_scan(conn *c, const srv_cmdent *e,
                                     const resp_arg *argv, size_t argc)
{
    uint64_t cursor;
    srv_server *s = c->w->srv;
    uint32_t owner = c->w->id;
    if (cmd_scan_cursor(&argv[1], &cursor))
        owner = srv_shard_owner(s, (uint32_t)(cursor & (s->nshards - 1)));
    if (owner != c->w->id)
        return run_remote(c, e, owner, argv, argc);
    run_inline(c, e, argv, argc);
    return SRV_ROUTE_DONE;
}

/* RANDOMKEY: a worker picked with probability proportional to its
 * published key count (pubstats.h), which then picks among its own shards
 * (cmd_ctx own_first/own_stride): nobody is parked. */
static enum srv_route_res route_randomkey(conn *c, const srv_cmdent *e,
                                          const resp_arg *argv, size_t argc)
{
    srv_worker *w = c->w;
    srv_server *s = w->srv;
    uint64_t total = 0, pick;
    uint32_t owner = w->id;
    for (uint32_t i = 0; i < s->nworkers; i++)
        total += srv_pub_keys(w, i);
    if (total) {
        uint64_t x = w->rng ? w->rng : 0x9e3779b97f4a7c15ULL;
        x ^= x << 13; /* xorshift64, the worker's RANDOMKEY state */
        x ^= x >> 7;
        x ^= x << 17;
        w->rng = x;
        pick = x % total;
        for (owner = 0; owner + 1 < s->nworkers; owner++) {
            uint64_t k = srv_pub_keys(w, owner);
            if (pick < k)
                break;
            pick -= k;
        }
    }
    if (owner != w->id)
        return run_remote(c, e, owner, argv, argc);
    run_inline(c, e, argv, argc);
    return SRV_ROUTE_DONE;
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

/* A keyed command on several workers: inline, remote, scattered or
 * exclusive, depending on where its keys live. */
static enum srv_route_res route_keys(conn *c, const srv_cmdent *e,
                                     const resp_arg *argv, size_t argc)
{
    srv_server *s = c->w->srv;
    const cmd_def *d = e->def;
    size_t first = (size_t)d->first_key;
    size_t last = d->last_key < 0 ? (size_t)((long)argc + d->last_key)
                                  : (size_t)d->last_key;
    size_t step = d->key_step > 0 ? (size_t)d->key_step : 1;
    if (last >= argc)
        last = argc - 1;
    if (last < first)
        return run_exclusive(c, e, argv, argc); /* malformed: it errs */
    /* From here `last` is the start of the last key group (MSET's last
     * argument is a value), and a group cut short means bad arity, which
     * the command itself reports. */
    last = first + (last - first) / step * step;
    if (last + step > argc)
        return run_exclusive(c, e, argv, argc);
    uint32_t owner = key_owner(s, &argv[first]);
    for (size_t k = first + step; k <= last; k += step) {
        if (key_owner(s, &argv[k]) != owner) {
            if (d->split == CMD_SPLIT_NONE)
                return run_exclusive(c, e, argv, argc);
            size_t bytes = 0;
            for (size_t i = 0; i < argc; i++)
                bytes += argv[i].len;
            if (!room_everywhere(c->w, bytes))
                return wait_room(c);
            srv_scatter(c, e, argv, argc, first, last, step);
            return SRV_ROUTE_DONE;
        }
    }
    if (owner != c->w->id)
        return run_remote(c, e, owner, argv, argc);
    run_inline(c, e, argv, argc);
    return SRV_ROUTE_DONE;
}

enum srv_route_res srv_route(conn *c, const resp_arg *argv, size_t argc)
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
    if (!admit(c, e, sub, argc)) {
        srv_tx_flag_error(c);
        return SRV_ROUTE_DONE;
    }
    const cmd_def *d = e->def;
    c->last_cmd = d->name;
    c->last_sub = sub ? sub->name : NULL;
    c->atime_ms = w->now;
    if (srv_tx_intercepts(c, e))
        return srv_tx_route(c, e, argv, argc);
    if (s->nworkers == 1) {
        run_inline(c, e, argv, argc);
        return SRV_ROUTE_DONE;
    }
    if (e->scmd && (e->scmd->sflags & SRV_CMD_PUBLISHED))
        return run_published(c, e, argv, argc);
    if (d->fn == cmd_scan)
        return route_scan(c, e, argv, argc);
    if (d->fn == cmd_randomkey)
        return route_randomkey(c, e, argv, argc);
    if ((d->flags & CMD_ALLKEYS) || needs_exclusive(e, sub))
        return run_exclusive(c, e, argv, argc);
    if (d->first_key <= 0 || (size_t)d->first_key >= argc) {
        run_inline(c, e, argv, argc);
        return SRV_ROUTE_DONE;
    }
    return route_keys(c, e, argv, argc);
}

/* Owner side. The reply must go back whatever happens, or the origin's
 * slot would wait forever; it always can: the origin admits requests only
 * within SRV_CHAN_INFLIGHT, which the channel back holds without
 * allocating (server.h), and a reply whose bytes could not be allocated
 * goes back marked oom, which the origin answers with an error. */
void srv_msg_execute(srv_worker *w, srv_msg *m)
{
    resp_writer wr = {.out = &m->reply, .proto = m->proto};
    w->exec_wrote = false;
    srv_execute(w, m->cmd, m->argv, m->argc, &wr, NULL);
    if (!(m->cmd->def->flags & CMD_READONLY))
        srv_pub_refresh(w); /* before the reply: see pubstats.h */
    if (srv_dur_hold_msg(w, m))
        return; /* sent once its WAL records are durable */
    if (srv_worker_send(w, m->origin, m)) {
        srv_warning("worker %u: reply channel to worker %u over its bound",
                    w->id, m->origin);
        abort(); /* the in-flight accounting is broken */
    }
}

void srv_msg_returned(srv_worker *w, srv_msg *m)
{
    conn_slot *slot = m->slot;
    srv_worker_returned(w, m);
    if (m->reply.oom) {
        fc_buf_free(&m->reply);
        resp_writer wr = {.out = &m->reply, .proto = m->proto};
        srv_reply_oom(&wr);
    }
    if (slot->conn) {
        fc_buf *dst =
            slot->kind == SLOT_GATHER ? &slot->g->part[m->part] : &slot->out;
        fc_buf t = *dst;
        *dst = m->reply;
        m->reply = t;
    }
    fc_buf_free(&m->reply);
    free(m);
    conn_slot_part_done(slot);
}

void srv_msg_discard(srv_msg *m)
{
    conn_slot *slot = m->slot;
    fc_buf_free(&m->reply);
    free(m);
    conn_slot_part_done(slot);
}
