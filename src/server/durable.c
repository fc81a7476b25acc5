/*
 * durable.c — gate, lanes, held replies and snapshot turns (durable.h).
 */
#include "server/durable.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "server/config/log.h"
#include "server/pubstats.h"

#define SNAP_BUDGET 4096          /* table slots per snapshot turn */
#define SNAP_CHECK_MS 1000        /* periodic trigger check */

/* While loading, what Redis allows with CMD_LOADING: connection and server
 * commands that touch no keys (INFO, PING, AUTH, HELLO, CONFIG, CLIENT,
 * SHUTDOWN, ...). */
bool srv_ok_while_loading(const srv_cmdent *e)
{
    return e->scmd && e->def->first_key == 0 &&
           !(e->def->flags & CMD_ALLKEYS);
}

bool srv_dur_gate(srv_worker *w, const srv_cmdent *e, resp_writer *wr)
{
    srv_server *s = w->srv;
    if (atomic_load_explicit(&s->loading, memory_order_acquire)) {
        if (srv_ok_while_loading(e))
            return true;
        resp_error(wr, "LOADING fast-cache is loading the dataset in memory");
        return false;
    }
    int err;
    if ((e->def->flags & CMD_WRITE) && s->ps && (err = ps_write_error(s->ps))) {
        char msg[320];
        snprintf(msg, sizeof(msg),
                 "MISCONF Errors writing to the WAL (%s): commands that may "
                 "modify the data set are disabled until the disk accepts "
                 "writes again. Please check the server log for details.",
                 strerror(err));
        resp_error(wr, msg);
        return false;
    }
    return true;
}

void srv_dur_after(srv_worker *w, conn *c, uint64_t mark)
{
    w->exec_wrote = w->lane && srv_dur_mark(w) != mark;
    if (w->exec_wrote && c && w->dur_always)
        c->dur_gen = w->lane->gen; /* the chunk its records are in */
}

bool srv_dur_hold_msg(srv_worker *w, srv_msg *m)
{
    if (!w->dur_always || !w->exec_wrote)
        return false;
    m->dur_gen = w->lane->gen;
    m->hnext = NULL;
    if (w->held_tail)
        w->held_tail->hnext = m;
    else
        w->held_head = m;
    w->held_tail = m;
    return true;
}

void srv_dur_handoff(srv_worker *w)
{
    if (w->lane)
        ps_lane_handoff(w->lane);
}

void srv_dur_conn_gone(conn *c)
{
    if (c->dur_held) {
        c->dur_held = false;
        c->w->nheld--;
    }
}

static void bind_lane(srv_worker *w, ps_persist *ps)
{
    ps_bind_lane(ps, w->id);
    w->lane = ps_lane_of(ps, w->id);
    ps_info in;
    ps_info_get(ps, &in);
    w->dur_always = in.fsync == PS_FSYNC_ALWAYS;
}

static void release(srv_worker *w, uint64_t durable)
{
    if (w->nheld) {
        for (conn *c = w->conns; c; c = c->next) {
            if (c->dur_held && c->dur_gen <= durable) {
                c->dur_held = false;
                w->nheld--;
                conn_want_write(c);
            }
        }
    }
    srv_msg *m;
    while ((m = w->held_head) && m->dur_gen <= durable) {
        w->held_head = m->hnext;
        if (!w->held_head)
            w->held_tail = NULL;
        if (srv_msg_send(&w->rt, m->origin, m)) { /* OOM: retry next turn */
            m->hnext = w->held_head;
            w->held_head = m;
            if (!w->held_tail)
                w->held_tail = m;
            break;
        }
    }
}

/* Takes connections whose output must wait off the write list. */
static void hold(srv_worker *w, uint64_t durable)
{
    ev_conn **pp = &w->loop->write_list;
    while (*pp) {
        conn *c = conn_of(*pp);
        if (c->dur_gen > durable && !c->io.closing) {
            *pp = c->io.write_next;
            c->io.in_write_list = false;
            if (!c->dur_held) {
                c->dur_held = true;
                w->nheld++;
            }
        } else {
            pp = &(*pp)->write_next;
        }
    }
}

void srv_dur_iteration(srv_worker *w)
{
    if (!w->lane) {
        ps_persist *ps = srv_ps(w->srv);
        if (!ps)
            return;
        bind_lane(w, ps);
        /* The main thread filled our shards while we were not looking:
         * publish what they hold now (INFO, DBSIZE read it). */
        srv_pub_refresh(w);
    }
    ps_lane_handoff(w->lane);
    if (!w->dur_always)
        return;
    uint64_t durable =
        atomic_load_explicit(&w->lane->durable_gen, memory_order_acquire);
    release(w, durable);
    hold(w, durable);
}

int srv_dur_bgsave(srv_server *s)
{
    ps_persist *ps = srv_ps(s);
    if (!ps)
        return EAGAIN;
    int e = ps_bgsave(ps);
    if (e == 0) /* idle workers sleep without a timer: their shards wait */
        for (uint32_t i = 0; i < s->nworkers; i++)
            srv_worker_wake(&s->workers[i]);
    return e;
}

int srv_dur_timers(srv_worker *w)
{
    srv_server *s = w->srv;
    ps_persist *ps = srv_ps(s);
    if (!ps)
        return -1;
    int t = -1;
    /* A held reply that is durable but could not be sent (full channel):
     * come back soon rather than sleep until some other event. */
    if (w->held_head && w->lane &&
        ps_lane_durable(w->lane, w->held_head->dur_gen))
        t = 1;
    if (w->id == 0) {
        if (w->now >= w->next_snap_check_ms) {
            w->next_snap_check_ms = w->now + SNAP_CHECK_MS;
            if (ps_snapshot_due(ps, w->now)) {
                int e = srv_dur_bgsave(s);
                if (e == 0)
                    srv_notice("Background snapshot started (periodic)");
                else if (e != EBUSY)
                    srv_warning("Cannot start the periodic snapshot: %s",
                                strerror(e));
            }
        }
        int64_t d = w->next_snap_check_ms - w->now;
        if (t < 0 || d < t)
            t = d < 0 ? 0 : (int)d;
    }
    if (ps_snapshot_running(ps)) {
        switch (ps_snapshot_work(ps, s->shards, w->id, s->nworkers,
                                 SNAP_BUDGET, w->now, w->wall_offset_ms)) {
        case PS_WORK_MORE:
            return 0;
        case PS_WORK_BUSY:
            return 1;
        default:
            break;
        }
    }
    return t;
}
