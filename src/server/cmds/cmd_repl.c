/*
 * cmd_repl.c — REPLICAOF / SLAVEOF, ROLE, WAIT and INFO's Replication
 * section (replication itself: src/repl; the server side:
 * repl_primary.c, repl_replica.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "repl/hub.h"
#include "repl/link.h"
#include "server/replication.h"
#include "server/server.h"
#include "server/srvcmd.h"
#include "server/worker.h"

#define MAX_PEERS 64

static bool arg_is(const resp_arg *a, const char *s)
{
    return srv_arg_is(a, s);
}

static bool arg_ll(const resp_arg *a, long long *out)
{
    return srv_arg_ll(a, out) == 0;
}

static void cmd_replicaof(srv_exec *x)
{
    resp_writer *w = x->c->w;
    const resp_arg *a = x->c->argv;
    char err[300];
    if (arg_is(&a[1], "no") && arg_is(&a[2], "one")) {
        srv_repl_replicaof(x->srv, NULL, 0, err, sizeof err);
        resp_simple(w, "OK");
        return;
    }
    long long port;
    if (!arg_ll(&a[2], &port) || port < 0 || port > 65535) {
        resp_error(w, "ERR Invalid master port");
        return;
    }
    char host[256];
    if (a[1].len == 0 || a[1].len >= sizeof host) {
        resp_error(w, "ERR Invalid master host");
        return;
    }
    memcpy(host, a[1].ptr, a[1].len);
    host[a[1].len] = 0;
    int rc = srv_repl_replicaof(x->srv, host, (uint16_t)port, err, sizeof err);
    if (rc < 0) {
        resp_errorf(w, "ERR %s", err);
        return;
    }
    resp_simple(w, rc == 1 ? "OK Already connected to specified master"
                           : "OK");
}

static void cmd_role(srv_exec *x)
{
    srv_repl_role(x->srv, x->c->w);
}

static void cmd_wait(srv_exec *x)
{
    long long n, t;
    const resp_arg *a = x->c->argv;
    if (!arg_ll(&a[1], &n) || !arg_ll(&a[2], &t)) {
        resp_error(x->c->w, "ERR value is not an integer or out of range");
        return;
    }
    if (t < 0) {
        resp_error(x->c->w, "ERR timeout is negative");
        return;
    }
    srv_repl_wait(x->w, x->conn, n, t, x->c->w);
}

/* --- INFO replication and ROLE ----------------------------------------- */


static const char *link_state(int st)
{
    switch (st) {
    case REPL_LINK_CONNECTING: return "connecting";
    case REPL_LINK_SYNC: return "sync";
    case REPL_LINK_CATCHUP: return "catchup";
    case REPL_LINK_ONLINE: return "online";
    case REPL_LINK_STOPPED: return "stopped";
    default: return "down";
    }
}

static int64_t unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "ip:port" -> ip (in out) and the port's text. */
static const char *split_addr(const char *addr, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", addr);
    char *colon = strrchr(out, ':');
    if (!colon)
        return "0";
    *colon = 0;
    return colon + 1;
}

static void info_peers(srv_server *s, fc_buf *b, repl_hub *h)
{
    repl_peer_info *p = calloc(MAX_PEERS, sizeof *p);
    uint32_t n = p && h ? repl_hub_peers(h, p, MAX_PEERS) : 0;
    uint32_t replicas = 0;
    for (uint32_t i = 0; i < n; i++)
        replicas += p[i].role == FCRP_ROLE_REPLICA;
    srv_info_line(b, "connected_slaves:%u", replicas);
    for (uint32_t i = 0, k = 0; i < n; i++) {
        if (p[i].role != FCRP_ROLE_REPLICA)
            continue;
        char ip[64];
        const char *port = split_addr(p[i].addr, ip, sizeof ip);
        srv_info_line(b, "slave%u:ip=%s,port=%s,state=%s,offset=%llu,lag=%lld",
                      k++, ip, port, p[i].state,
                      (unsigned long long)p[i].offset,
                      p[i].lag_ms < 0 ? -1LL : (long long)(p[i].lag_ms / 1000));
    }
    srv_info_line(b, "fc_repl_subscribers:%u", n - replicas);
    free(p);
    (void)s;
}

void srv_repl_info(srv_server *s, fc_buf *b)
{
    repl_hub *h = atomic_load(&s->hub);
    repl_link_stats ls;
    char host[256];
    uint16_t port = 0;
    bool replica = srv_replica_stats(s, &ls, host, sizeof host, &port);
    srv_info_line(b, "# Replication");
    srv_info_line(b, "role:%s", replica ? "slave" : "master");
    if (replica) {
        /* As Redis: the link is "up" once the snapshot is in. */
        bool up = ls.state == REPL_LINK_CATCHUP || ls.state == REPL_LINK_ONLINE;
        int64_t now = unix_ms();
        srv_info_line(b, "master_host:%s", host);
        srv_info_line(b, "master_port:%u", port);
        srv_info_line(b, "master_link_status:%s", up ? "up" : "down");
        srv_info_line(b, "master_last_io_seconds_ago:%lld",
                      ls.last_io_unix_ms
                          ? (long long)((now - ls.last_io_unix_ms) / 1000)
                          : -1LL);
        bool syncing = atomic_load(&s->repl_loading) != 0;
        srv_info_line(b, "master_sync_in_progress:%d", syncing);
        srv_info_line(b, "slave_read_repl_offset:%llu",
                      (unsigned long long)ls.offset);
        srv_info_line(b, "slave_repl_offset:%llu",
                      (unsigned long long)ls.offset);
        if (syncing)
            srv_info_line(b, "master_sync_read_bytes:%llu",
                          (unsigned long long)ls.sync_bytes);
        if (!up && ls.link_down_since_unix_ms)
            srv_info_line(b, "master_link_down_since_seconds:%lld",
                          (long long)((now - ls.link_down_since_unix_ms) /
                                      1000));
        /* No slave_priority / replica_announced: there is no Sentinel
         * here to read them, and a constant would only pretend. */
        srv_info_line(b, "slave_read_only:1");
    }
    info_peers(s, b, h);
    srv_info_line(b, "master_failover_state:no-failover");
    srv_info_line(b, "master_replid:%s", s->run_id);
    srv_info_line(b, "master_replid2:0000000000000000000000000000000000000000");
    repl_hub_stats hs;
    if (h)
        repl_hub_stats_get(h, &hs);
    else
        memset(&hs, 0, sizeof hs);
    srv_info_line(b, "master_repl_offset:%llu",
                  (unsigned long long)(replica ? ls.offset : hs.offset));
    srv_info_line(b, "second_repl_offset:-1");
    srv_info_line(b, "repl_backlog_active:%d", h != NULL);
    srv_info_line(b, "repl_backlog_size:%zu",
                  h ? s->cfg.replication.backlog_bytes : 0);
    srv_info_line(b, "repl_backlog_histlen:%llu",
                  (unsigned long long)hs.backlog_bytes);
    if (h) {
        srv_info_line(b, "fc_repl_listening:%s", s->cfg.replication.bind_addr);
        srv_info_line(b, "fc_repl_frames_published:%llu",
                      (unsigned long long)hs.frames_published);
        srv_info_line(b, "fc_repl_records_published:%llu",
                      (unsigned long long)hs.records_published);
        srv_info_line(b, "fc_repl_frames_sent:%llu",
                      (unsigned long long)hs.frames_sent);
        srv_info_line(b, "fc_repl_bytes_sent:%llu",
                      (unsigned long long)hs.bytes_sent);
        srv_info_line(b, "fc_repl_snapshots_served:%llu",
                      (unsigned long long)hs.snapshots_served);
        srv_info_line(b, "fc_repl_snapshot_bytes_sent:%llu",
                      (unsigned long long)hs.snapshot_bytes_sent);
        srv_info_line(b, "fc_repl_catchups:%llu",
                      (unsigned long long)hs.catchups);
        srv_info_line(b, "fc_repl_dropped_slow:%llu",
                      (unsigned long long)hs.dropped_slow);
        srv_info_line(b, "fc_repl_rejected_auth:%llu",
                      (unsigned long long)hs.rejected_auth);
        srv_info_line(b, "fc_repl_rejected_version:%llu",
                      (unsigned long long)hs.rejected_version);
        srv_info_line(b, "fc_repl_rejected_proto:%llu",
                      (unsigned long long)hs.rejected_proto);
        srv_info_line(b, "fc_repl_rejected_full:%llu",
                      (unsigned long long)hs.rejected_full);
        srv_info_line(b, "fc_repl_backlog_frames:%llu",
                      (unsigned long long)hs.backlog_frames);
        srv_info_line(b, "fc_repl_backlog_evicted:%llu",
                      (unsigned long long)hs.backlog_evicted);
    }
    if (replica) {
        srv_info_line(b, "fc_repl_state:%s", link_state(ls.state));
        srv_info_line(b, "fc_repl_snapshots:%llu",
                      (unsigned long long)ls.snapshots);
        srv_info_line(b, "fc_repl_catchups:%llu",
                      (unsigned long long)ls.catchups);
        srv_info_line(b, "fc_repl_gaps:%llu", (unsigned long long)ls.gaps);
        srv_info_line(b, "fc_repl_reconnects:%llu",
                      (unsigned long long)ls.reconnects);
        srv_info_line(b, "fc_repl_records_applied:%llu",
                      (unsigned long long)ls.records_applied);
        srv_info_line(b, "fc_repl_records_skipped:%llu",
                      (unsigned long long)ls.records_skipped);
        srv_info_line(b, "fc_repl_entries_loaded:%llu",
                      (unsigned long long)ls.entries_loaded);
        srv_info_line(b, "fc_repl_bytes_received:%llu",
                      (unsigned long long)ls.bytes_in);
        srv_info_line(b, "fc_repl_acks_sent:%llu",
                      (unsigned long long)ls.acks_sent);
        srv_info_line(b, "fc_repl_last_error:%s", ls.last_error);
    }
}

void srv_repl_role(srv_server *s, resp_writer *w)
{
    repl_link_stats ls;
    char host[256];
    uint16_t port = 0;
    if (srv_replica_stats(s, &ls, host, sizeof host, &port)) {
        const char *st = ls.state == REPL_LINK_ONLINE ||
                                 ls.state == REPL_LINK_CATCHUP
                             ? "connected"
                         : ls.state == REPL_LINK_SYNC ? "sync"
                         : ls.state == REPL_LINK_CONNECTING ? "connecting"
                                                            : "connect";
        resp_array(w, 5);
        resp_bulk_cstr(w, "slave");
        resp_bulk_cstr(w, host);
        resp_int(w, port);
        resp_bulk_cstr(w, st);
        resp_int(w, (int64_t)ls.offset);
        return;
    }
    repl_hub *h = atomic_load(&s->hub);
    repl_hub_stats hs = {0};
    repl_peer_info *p = calloc(MAX_PEERS, sizeof *p);
    uint32_t n = 0;
    if (h) {
        repl_hub_stats_get(h, &hs);
        n = p ? repl_hub_peers(h, p, MAX_PEERS) : 0;
    }
    uint32_t replicas = 0;
    for (uint32_t i = 0; i < n; i++)
        replicas += p[i].role == FCRP_ROLE_REPLICA;
    resp_array(w, 3);
    resp_bulk_cstr(w, "master");
    resp_int(w, (int64_t)hs.offset);
    resp_array(w, replicas);
    for (uint32_t i = 0; i < n; i++) {
        if (p[i].role != FCRP_ROLE_REPLICA)
            continue;
        char ip[64], off[24];
        const char *pt = split_addr(p[i].addr, ip, sizeof ip);
        snprintf(off, sizeof off, "%llu", (unsigned long long)p[i].offset);
        resp_array(w, 3);
        resp_bulk_cstr(w, ip);
        resp_bulk_cstr(w, pt);
        resp_bulk_cstr(w, off);
    }
    free(p);
}

static const srv_cmd cmds[] = {
    {{"replicaof", 3, CMD_NOSCRIPT, 0, 0, 0, CMD_SPLIT_NONE, NULL,
      "server",
      "Configures a server as replica of another, or promotes it to a "
      "master. The port is the primary's replication (FCRP) port.",
      "5.0.0"},
     cmd_replicaof,
     SRV_CMD_NO_MULTI,
     NULL},
    {{"slaveof", 3, CMD_NOSCRIPT, 0, 0, 0, CMD_SPLIT_NONE, NULL,
      "server",
      "Sets a Redis server as a replica of another, or promotes it to "
      "being a master.",
      "1.0.0"},
     cmd_replicaof,
     SRV_CMD_NO_MULTI,
     NULL},
    {{"role", 1, CMD_NOSCRIPT | CMD_FAST, 0, 0, 0, CMD_SPLIT_NONE,
      NULL, "server",
      "Returns the replication role.", "2.8.12"},
     cmd_role,
     0,
     NULL},
    {{"wait", 3, CMD_NOSCRIPT, 0, 0, 0, CMD_SPLIT_NONE, NULL, "generic",
      "Blocks until the asynchronous replication of all preceding write "
      "commands sent by the connection is completed.",
      "3.0.0"},
     cmd_wait,
     SRV_CMD_PUBLISHED,
     NULL},
};

const srv_cmd *srv_cmds_repl(size_t *n)
{
    *n = sizeof(cmds) / sizeof(cmds[0]);
    return cmds;
}
