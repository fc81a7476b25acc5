/*
 * cmd_client.c — CLIENT ID / SETNAME / GETNAME / SETINFO / INFO / LIST /
 * KILL / HELP.
 *
 * Threads: only a connection's own worker touches it. LIST and KILL
 * (SRV_CMD_EVERY) check their arguments on the client's worker, then
 * gather each worker's part by message (srv_every, route/route.h): every
 * worker lists, or marks for closing, its own connections, and the
 * client's worker merges the parts into the reply. Nobody is parked; a
 * listing is therefore no single instant across workers, but the parts of
 * one client's requests run in order on each worker (KILL then LIST never
 * lists the victim). Inside EXEC, which holds every other worker parked
 * when it queues LIST or KILL (multi.c), and with one worker, they walk
 * every worker's connections themselves instead. A connection of another
 * worker is never closed from here, even by its own worker's part: it gets
 * kill_req, and its worker closes it at the end of its iteration. The
 * other subcommands touch only their own connection.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/client.h"
#include "server/multi.h"
#include "server/pubsub.h"
#include "server/route/route.h"
#include "server/server.h"
#include "server/srvcmd.h"
#include "server/worker.h"

static void client_line(const conn *c, int64_t now, fc_buf *b)
{
    char line[1024], flags[4], *f = flags;
    /* Redis's order: P (pubsub) before x (MULTI); N when neither. */
    if (srv_ps_active(c))
        *f++ = 'P';
    if (srv_tx_active(c))
        *f++ = 'x';
    if (f == flags)
        *f++ = 'N';
    *f = '\0';
    int n = snprintf(
        line, sizeof(line),
        "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s "
        "db=0 sub=%zu psub=%zu ssub=%zu multi=%lld qbuf=%zu qbuf-free=%zu "
        "argv-mem=0 multi-mem=0 rbs=%zu rbp=0 obl=0 oll=0 omem=%zu "
        "tot-mem=%zu events=r cmd=%s%s%s user=default redir=-1 resp=%d "
        "lib-name=%s lib-ver=%s worker=%u\n",
        (unsigned long long)c->id, c->addr, c->laddr, c->io.fd,
        c->name ? c->name : "", (long long)((now - c->ctime_ms) / 1000),
        (long long)((now - c->atime_ms) / 1000), flags,
        srv_ps_count(c, SRV_PS_CHAN), srv_ps_count(c, SRV_PS_PAT),
        srv_ps_count(c, SRV_PS_SHARD),
        srv_tx_active(c) ? (long long)c->tx->nqueued : -1LL,
        c->io.rbuf.len - c->rpos, c->io.rbuf.cap - c->io.rbuf.len,
        c->io.rbuf.cap, c->io.wbuf.len,
        sizeof(*c) + c->io.rbuf.cap + c->io.wbuf.cap, c->last_cmd,
        c->last_sub ? "|" : "", c->last_sub ? c->last_sub : "", c->wr.proto,
        c->lib_name ? c->lib_name : "", c->lib_ver ? c->lib_ver : "",
        c->w->id); /* ours: the worker thread serving the connection */
    if (n > 0)
        fc_buf_append(b, line,
                      (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void reply_text(resp_writer *wr, fc_buf *b)
{
    if (b->oom)
        resp_error(wr, "ERR out of memory");
    else
        resp_verbatim(wr, "txt", b->data ? b->data : "", b->len);
    fc_buf_free(b);
}

/* Whether the command must read every worker itself: with one worker, or
 * inside EXEC with the others parked (srv_every is for the rest). */
static bool walks_all(const srv_exec *x)
{
    assert(x->conn); /* no keys: never run for another worker's client */
    return x->srv->nworkers == 1 || x->w->rt.holds_token;
}

static void stat_add(_Atomic uint64_t *v, uint64_t n)
{
    /* Single writer (this worker), as srv_execute's counters. */
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* A reply a merge writes (out from at), long after srv_execute timed the
 * call and found no output: counted as srv_execute counts output and
 * errors. */
static void count_reply(srv_worker *w, const fc_buf *out, size_t at)
{
    if (out->len <= at)
        return;
    stat_add(&w->stat_net_out, out->len - at);
    if (out->data[at] != '-')
        return;
    const srv_cmdent *e = srv_cmdtab_find(&w->srv->cmds, "client", 6);
    stat_add(&w->cmdstats[e->index].failed, 1);
    srv_errstat_count(w, out->data + at, out->len - at);
}

/* --- LIST ------------------------------------------------------------- */

typedef struct list_arg {
    long long only_id; /* -1 = all */
    int type;          /* -1 = all, 0 = normal, 1 = pubsub (TYPE) */
} list_arg;

static void list_own(srv_worker *w, const list_arg *a, int64_t now, fc_buf *b)
{
    for (conn *cn = w->conns; cn; cn = cn->next)
        if (!cn->kill_req && !cn->io.closing &&
            (a->only_id < 0 || cn->id == (uint64_t)a->only_id) &&
            (a->type < 0 || a->type == (int)srv_ps_active(cn)))
            client_line(cn, now, b);
}

/* A worker's part: its lines. */
static void list_part(srv_worker *w, const void *arg, fc_buf *out)
{
    list_own(w, arg, w->now, out);
}

/* Every worker's lines, in worker order: the order the listing had when
 * it walked every worker's list itself. */
static void list_merge(srv_worker *w, const void *arg, const fc_buf *part,
                       uint32_t nparts, resp_writer *wr)
{
    fc_buf b = {0};
    size_t at = wr->out->len;
    for (uint32_t i = 0; i < nparts; i++)
        if (part[i].len)
            fc_buf_append(&b, part[i].data, part[i].len);
    reply_text(wr, &b);
    count_reply(w, wr->out, at);
}

static void client_list(srv_exec *x)
{
    cmd_ctx *c = x->c;
    srv_server *s = x->srv;
    long long only_id = -1;
    int type = -1;
    if (c->argc == 4 && srv_arg_is(&c->argv[2], "type")) {
        if (srv_arg_is(&c->argv[3], "pubsub")) {
            type = 1;
        } else if (srv_arg_is(&c->argv[3], "normal")) {
            type = 0;
        } else {
            resp_verbatim(c->w, "txt", "", 0); /* no replica clients */
            return;
        }
    } else if (c->argc == 4 && srv_arg_is(&c->argv[2], "id")) {
        if (srv_arg_ll(&c->argv[3], &only_id) || only_id < 1) {
            resp_error(c->w, "ERR Invalid client ID");
            return;
        }
    } else if (c->argc != 2) {
        resp_error(c->w, "ERR syntax error");
        return;
    }
    list_arg a = {.only_id = only_id, .type = type};
    if (walks_all(x)) {
        fc_buf b = {0};
        for (uint32_t i = 0; i < s->nworkers; i++)
            list_own(&s->workers[i], &a, x->w->now, &b);
        reply_text(c->w, &b);
    } else if (srv_every(&x->w->rt, x->conn, c->w->proto, list_part, list_merge,
                         &a, sizeof(a))) {
        resp_error(c->w, "ERR out of memory");
    }
}

/* --- KILL ------------------------------------------------------------- */

/* The filter, copied into every worker's message: addresses by value. */
typedef struct kill_filter {
    long long id; /* -1 = any */
    uint64_t me;  /* the caller's client id */
    bool skipme;
    bool old_style; /* CLIENT KILL ip:port: +OK, or an error when none */
    /* 0 = any; CONN_ADDR_LEN = longer than any address: matches none */
    uint8_t addr_len, laddr_len;
    char addr[CONN_ADDR_LEN];
    char laddr[CONN_ADDR_LEN];
} kill_filter;

static bool addr_eq(const char *want, size_t len, const char *addr)
{
    return len < CONN_ADDR_LEN && len == strlen(addr) &&
           memcmp(want, addr, len) == 0;
}

static bool kill_match(const kill_filter *f, const conn *cn)
{
    if (cn->kill_req || cn->io.closing)
        return false;
    if (f->skipme && cn->id == f->me)
        return false;
    if (f->id >= 0 && cn->id != (uint64_t)f->id)
        return false;
    if (f->addr_len && !addr_eq(f->addr, f->addr_len, cn->addr))
        return false;
    if (f->laddr_len && !addr_eq(f->laddr, f->laddr_len, cn->laddr))
        return false;
    return true;
}

/* Marks w's matches; returns how many. Only the caller's own worker ever
 * finds the caller, whose reply goes out before it closes. */
static long long kill_own(srv_worker *w, const kill_filter *f)
{
    long long n = 0;
    for (conn *cn = w->conns; cn; cn = cn->next) {
        if (!kill_match(f, cn))
            continue;
        n++;
        if (cn->id == f->me) {
            conn_close_after_reply(cn); /* the reply goes out first */
        } else {
            cn->kill_req = true;
            w->kill_pending = true;
        }
    }
    return n;
}

static void kill_reply(const kill_filter *f, long long n, resp_writer *wr)
{
    if (!f->old_style)
        resp_int(wr, n);
    else if (n)
        resp_ok(wr);
    else
        resp_error(wr, "ERR No such client");
}

/* A worker's part: how many it marked, as a long long. */
static void kill_part(srv_worker *w, const void *arg, fc_buf *out)
{
    long long n = kill_own(w, arg);
    fc_buf_append(out, &n, sizeof(n));
}

static void kill_merge(srv_worker *w, const void *arg, const fc_buf *part,
                       uint32_t nparts, resp_writer *wr)
{
    long long n = 0;
    for (uint32_t i = 0; i < nparts; i++) {
        long long k;
        assert(part[i].len == sizeof(k));
        memcpy(&k, part[i].data, sizeof(k));
        n += k;
    }
    size_t at = wr->out->len;
    kill_reply(arg, n, wr);
    count_reply(w, wr->out, at);
}

static void kill_run(srv_exec *x, kill_filter *f)
{
    srv_server *s = x->srv;
    f->me = x->conn->id;
    if (walks_all(x)) {
        long long n = 0;
        for (uint32_t i = 0; i < s->nworkers; i++)
            n += kill_own(&s->workers[i], f);
        kill_reply(f, n, x->c->w);
    } else if (srv_every(&x->w->rt, x->conn, x->c->w->proto, kill_part,
                         kill_merge, f, sizeof(*f))) {
        resp_error(x->c->w, "ERR out of memory");
    }
}

/* An address filter, by value: one longer than any address (ours fit in
 * CONN_ADDR_LEN - 1) keeps only its length, and matches nothing. */
static void set_addr(const resp_arg *v, char *dst, uint8_t *len)
{
    if (v->len >= CONN_ADDR_LEN) {
        *len = CONN_ADDR_LEN;
        return;
    }
    memcpy(dst, v->ptr, v->len);
    *len = (uint8_t)v->len;
}

static int parse_kill(srv_exec *x, kill_filter *f)
{
    cmd_ctx *c = x->c;
    for (size_t i = 2; i < c->argc; i += 2) {
        if (i + 1 >= c->argc)
            return -1;
        const resp_arg *k = &c->argv[i], *v = &c->argv[i + 1];
        if (srv_arg_is(k, "id")) {
            if (srv_arg_ll(v, &f->id) || f->id < 1) {
                resp_error(c->w, "ERR client-id should be greater than 0");
                return -2;
            }
        } else if (srv_arg_is(k, "addr")) {
            set_addr(v, f->addr, &f->addr_len);
        } else if (srv_arg_is(k, "laddr")) {
            set_addr(v, f->laddr, &f->laddr_len);
        } else if (srv_arg_is(k, "skipme")) {
            if (srv_arg_is(v, "yes"))
                f->skipme = true;
            else if (srv_arg_is(v, "no"))
                f->skipme = false;
            else
                return -1;
        } else if (srv_arg_is(k, "type")) {
            if (!srv_arg_is(v, "normal")) {
                resp_errorf(c->w, "ERR Unknown client type '%.*s'", (int)v->len,
                            v->ptr);
                return -2;
            }
        } else if (srv_arg_is(k, "user")) {
            if (!srv_arg_is(v, "default")) {
                resp_errorf(c->w, "ERR No such user '%.*s'", (int)v->len,
                            v->ptr);
                return -2;
            }
        } else {
            return -1;
        }
    }
    return 0;
}

static void client_kill(srv_exec *x)
{
    cmd_ctx *c = x->c;
    kill_filter f = {.id = -1, .skipme = true};
    if (c->argc == 3) { /* old style: CLIENT KILL ip:port */
        set_addr(&c->argv[2], f.addr, &f.addr_len);
        f.skipme = false;
        f.old_style = true;
        kill_run(x, &f);
        return;
    }
    int r = parse_kill(x, &f);
    if (r == -1)
        resp_error(c->w, "ERR syntax error");
    if (r)
        return;
    kill_run(x, &f);
}

static void client_setinfo(srv_exec *x)
{
    cmd_ctx *c = x->c;
    const resp_arg *attr = &c->argv[2], *v = &c->argv[3];
    char **dst;
    if (srv_arg_is(attr, "lib-name"))
        dst = &x->conn->lib_name;
    else if (srv_arg_is(attr, "lib-ver"))
        dst = &x->conn->lib_ver;
    else {
        resp_errorf(c->w, "ERR Unrecognized option '%.*s'",
                    (int)(attr->len > 128 ? 128 : attr->len), attr->ptr);
        return;
    }
    if (!srv_client_name_ok(v)) {
        resp_errorf(c->w,
                    "ERR %s cannot contain spaces, newlines or special "
                    "characters.",
                    dst == &x->conn->lib_name ? "lib-name" : "lib-ver");
        return;
    }
    char *s = v->len ? strndup(v->ptr, v->len) : NULL;
    if (v->len && !s) {
        resp_error(c->w, "ERR out of memory");
        return;
    }
    free(*dst);
    *dst = s;
    resp_ok(c->w);
}

static void client_help(srv_exec *x)
{
    static const char *const lines[] = {
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        ("    Kill connections. Options are: ID, ADDR, LADDR, SKIPME, "
         "TYPE, USER."),
        "LIST [TYPE (NORMAL|PUBSUB)] [ID <id>]",
        "    Return information about client connections.",
        "SETINFO <LIB-NAME|LIB-VER> <value>",
        "    Set client library name or version.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "HELP",
        "    Print this help.",
    };
    resp_array(x->c->w, sizeof(lines) / sizeof(lines[0]));
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        resp_simple(x->c->w, lines[i]);
}

static void cmd_client(srv_exec *x)
{
    cmd_ctx *c = x->c;
    const resp_arg *sub = &c->argv[1];
    if (srv_arg_is(sub, "id")) {
        resp_int(c->w, (int64_t)x->conn->id);
    } else if (srv_arg_is(sub, "setname")) {
        if (!srv_client_name_ok(&c->argv[2]))
            resp_error(c->w, "ERR Client names cannot contain spaces, "
                             "newlines or special characters.");
        else if (srv_client_set_name(x->conn, &c->argv[2]))
            resp_error(c->w, "ERR out of memory");
        else
            resp_ok(c->w);
    } else if (srv_arg_is(sub, "getname")) {
        if (x->conn->name)
            resp_bulk_cstr(c->w, x->conn->name);
        else
            resp_null(c->w);
    } else if (srv_arg_is(sub, "setinfo")) {
        client_setinfo(x);
    } else if (srv_arg_is(sub, "info")) {
        fc_buf b = {0};
        client_line(x->conn, x->w->now, &b);
        reply_text(c->w, &b);
    } else if (srv_arg_is(sub, "list")) {
        client_list(x);
    } else if (srv_arg_is(sub, "kill")) {
        client_kill(x);
    } else if (srv_arg_is(sub, "help")) {
        client_help(x);
    } else {
        srv_reply_unknown_sub(x, "CLIENT");
    }
}

static const srv_subcmd subs[] = {
    {"id", 2, CMD_NOSCRIPT, 0,
     "Returns the unique client ID of the "
     "connection."},
    {"setname", 3, CMD_NOSCRIPT, 0, "Sets the connection name."},
    {"getname", 2, CMD_NOSCRIPT, 0, "Returns the name of the connection."},
    {"setinfo", 4, CMD_NOSCRIPT, 0,
     "Sets information specific to the "
     "client or connection."},
    {"info", 2, CMD_NOSCRIPT, 0,
     "Returns information about the "
     "connection."},
    {"list", -2, CMD_NOSCRIPT, SRV_CMD_EVERY, "Lists open connections."},
    {"kill", -3, CMD_NOSCRIPT, SRV_CMD_EVERY, "Terminates open connections."},
    {"help", 2, 0, 0,
     "Returns helpful text about the different "
     "subcommands."},
    {NULL, 0, 0, 0, NULL},
};

static const srv_cmd cmds[] = {
    {{"client", -2, CMD_NOSCRIPT, 0, 0, 0, CMD_SPLIT_NONE, NULL, "connection",
      "A container for client connection commands.", "2.4.0"},
     cmd_client,
     0,
     subs},
};

const srv_cmd *srv_cmds_client(size_t *n)
{
    *n = sizeof(cmds) / sizeof(cmds[0]);
    return cmds;
}
