/*
 * router.c — where an admitted request runs: inline, on its keys' owner,
 * scattered over several owners, exclusively, from published figures or
 * over every worker's part (route.h and docs/ARCHITECTURE.md), and the
 * return of replies from other workers. Scatter/gather is in gather.c,
 * parking in park.c; the checks before routing (command, arity, auth) and
 * execution itself are the core's (exec.c).
 */
#include "server/route/route.h"

#include <stdlib.h>
#include <string.h>

#include "commands/cmd_fns.h"

void srv_reply_oom(resp_writer *wr)
{
    resp_error(wr, "ERR out of memory");
}

static void run_inline(const srv_req *r)
{
    r->wr->out = conn_out(r->conn);
    srv_execute(r->rt->worker, r->cmd, r->argv, r->argc, r->wr, r->conn);
}

/* Also where a keyed request for other workers comes while this worker
 * still holds the token from an earlier section of its turn (mesh.h):
 * the owners are parked, so it runs here, as a section of its own would,
 * rather than waiting in their queues (and making the client's next
 * exclusive request wait behind it for the turn to end). */
static enum srv_route_res run_exclusive(const srv_req *r)
{
    /* Earlier requests of this client still run elsewhere: keep its order
     * (they must be visible to this command). */
    if (r->behind)
        return SRV_ROUTE_WAIT;
    srv_excl_begin(r->rt);
    srv_run_parked(r);
    srv_excl_end(r->rt);
    return SRV_ROUTE_DONE;
}

/* SRV_CMD_PUBLISHED: inline, after this client's earlier requests are back
 * so that it sees its own writes (pubstats.h). */
static enum srv_route_res run_published(const srv_req *r)
{
    if (r->behind)
        return SRV_ROUTE_WAIT; /* resumed when the slots drain */
    run_inline(r);
    return SRV_ROUTE_DONE;
}

static size_t arg_bytes(const srv_req *r)
{
    size_t bytes = 0;
    for (size_t i = 0; i < r->argc; i++)
        bytes += r->argv[i].len;
    return bytes;
}

static enum srv_route_res run_remote(const srv_req *r, uint32_t owner)
{
    size_t bytes = arg_bytes(r);
    if (!srv_msg_can_send(r->rt, owner, bytes))
        return SRV_ROUTE_WAIT_ROOM;
    srv_msg *m = srv_msg_alloc(r->cmd, r->argc, bytes);
    conn_slot *slot = m ? conn_slot_open(r->conn, SLOT_REMOTE, 1) : NULL;
    if (!slot) {
        free(m);
        r->wr->out = conn_out(r->conn);
        srv_reply_oom(r->wr);
        return SRV_ROUTE_DONE;
    }
    char *dst = (char *)(m->argv + r->argc);
    for (size_t i = 0; i < r->argc; i++)
        dst = srv_msg_push(m, dst, &r->argv[i]);
    m->slot = slot;
    m->origin = r->rt->id;
    m->proto = (uint8_t)r->wr->proto;
    if (srv_msg_send(r->rt, owner, m)) {
        resp_writer wr = {.out = &slot->out, .proto = r->wr->proto};
        srv_reply_oom(&wr);
        free(m);
        conn_slot_part_done(slot);
    }
    return SRV_ROUTE_DONE;
}

/* SRV_CMD_EVERY: inline, where the command sends one visit to every
 * other worker (srv_every); it cannot wait for room by then, so the room
 * is made sure of here. */
static enum srv_route_res run_every(const srv_req *r)
{
    if (!srv_msg_can_send_all(r->rt, arg_bytes(r) + SRV_EVERY_ARG_MAX))
        return SRV_ROUTE_WAIT_ROOM;
    run_inline(r);
    return SRV_ROUTE_DONE;
}

/* SCAN touches only the shard in its cursor's low bits (cmd_ctx
 * scan_one_shard), so it runs on that shard's owner, parking nobody. A bad
 * cursor runs inline, where the command rejects it before touching any
 * shard. */
static enum srv_route_res route_scan(const srv_req *r)
{
    uint64_t cursor;
    const srv_mesh *m = r->rt->mesh;
    uint32_t owner = r->rt->id;
    if (cmd_scan_cursor(&r->argv[1], &cursor))
        owner = srv_mesh_owner(m, (uint32_t)(cursor & (m->nshards - 1)));
    if (owner != r->rt->id)
        return run_remote(r, owner);
    run_inline(r);
    return SRV_ROUTE_DONE;
}

/* RANDOMKEY: a worker picked with probability proportional to its
 * published key count (srv_pub_pick), which then picks among its own
 * shards (cmd_ctx own_first/own_stride): nobody is parked. */
static enum srv_route_res route_randomkey(const srv_req *r)
{
    uint32_t owner = srv_pub_pick(r->rt->worker);
    if (owner != r->rt->id)
        return run_remote(r, owner);
    run_inline(r);
    return SRV_ROUTE_DONE;
}

/* A keyed command on several workers: inline, remote, scattered or
 * exclusive, depending on where its keys live. */
static enum srv_route_res route_keys(const srv_req *r)
{
    const srv_mesh *m = r->rt->mesh;
    const cmd_def *d = r->def;
    size_t argc = r->argc;
    size_t first = (size_t)d->first_key;
    size_t last = d->last_key < 0 ? (size_t)((long)argc + d->last_key)
                                  : (size_t)d->last_key;
    size_t step = d->key_step > 0 ? (size_t)d->key_step : 1;
    if (last >= argc)
        last = argc - 1;
    if (last < first)
        return run_exclusive(r); /* malformed: it errs */
    /* From here `last` is the start of the last key group (MSET's last
     * argument is a value), and a group cut short means bad arity, which
     * the command itself reports. */
    last = first + (last - first) / step * step;
    if (last + step > argc)
        return run_exclusive(r);
    uint32_t owner = srv_key_owner(m, &r->argv[first]);
    for (size_t k = first + step; k <= last; k += step) {
        if (srv_key_owner(m, &r->argv[k]) != owner) {
            if (d->split == CMD_SPLIT_NONE || r->rt->holds_token)
                return run_exclusive(r);
            if (!srv_msg_can_send_all(r->rt, arg_bytes(r)))
                return SRV_ROUTE_WAIT_ROOM;
            srv_scatter(r, first, last, step);
            return SRV_ROUTE_DONE;
        }
    }
    if (owner != r->rt->id)
        return r->rt->holds_token ? run_exclusive(r) : run_remote(r, owner);
    run_inline(r);
    return SRV_ROUTE_DONE;
}

/* A command whose keys follow a count: one owner runs it there, several
 * run it exclusively (atomic across workers, as in Redis). */
#define MOVABLE_MAX_KEYS 256
static enum srv_route_res route_movable(const srv_req *r)
{
    const srv_mesh *m = r->rt->mesh;
    size_t pos[MOVABLE_MAX_KEYS];
    int n = r->def->keys(r->argv, r->argc, pos, MOVABLE_MAX_KEYS);
    if (n <= 0)
        return run_exclusive(r); /* malformed, or too many keys to list */
    uint32_t owner = srv_key_owner(m, &r->argv[pos[0]]);
    for (int i = 1; i < n; i++)
        if (srv_key_owner(m, &r->argv[pos[i]]) != owner)
            return run_exclusive(r);
    if (owner != r->rt->id)
        return r->rt->holds_token ? run_exclusive(r) : run_remote(r, owner);
    run_inline(r);
    return SRV_ROUTE_DONE;
}

enum srv_route_res srv_route(const srv_req *r)
{
    const cmd_def *d = r->def;
    if (r->rt->mesh->nworkers == 1) {
        run_inline(r);
        return SRV_ROUTE_DONE;
    }
    if (r->published)
        return run_published(r);
    if (r->every)
        return run_every(r);
    if (d->fn == cmd_scan)
        return route_scan(r);
    if (d->fn == cmd_randomkey)
        return route_randomkey(r);
    if ((d->flags & CMD_ALLKEYS) || r->exclusive)
        return run_exclusive(r);
    if (d->keys)
        return route_movable(r);
    if (r->notkey || d->first_key <= 0 || (size_t)d->first_key >= r->argc) {
        run_inline(r);
        return SRV_ROUTE_DONE;
    }
    return route_keys(r);
}

void srv_msg_returned(srv_router *rt, srv_msg *m)
{
    conn_slot *slot = m->slot;
    srv_msg_back(rt, m);
    if ((m->blk && srv_blk_returned(rt->worker, slot, m)) ||
        (!m->blk && !m->visit && !m->reply.oom && m->reply.len &&
         m->reply.data[0] == SRV_BLK_MARK)) { /* no RESP reply starts so */
        if (!m->blk)
            srv_blk_adopt(rt->worker, slot, m->reply.data, m->reply.len);
        fc_buf_free(&m->reply);
        free(m);
        return;
    }
    if (m->reply.oom && !m->visit) { /* a visit's merge sees the flag */
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

/* Like srv_msg_execute's reply, the visit always goes back: it holds room
 * the origin counted (mesh.h). */
void srv_msg_visit(srv_router *rt, srv_msg *m)
{
    m->visit(rt->worker, (const void *)m->argv, &m->reply);
    if (srv_msg_send(rt, m->origin, m))
        abort(); /* the in-flight accounting is broken */
}

void srv_msg_discard(srv_msg *m)
{
    conn_slot *slot = m->slot;
    fc_buf_free(&m->reply);
    free(m);
    conn_slot_part_done(slot);
}
