/*
 * cmd_client.c — CLIENT ID / SETNAME / GETNAME / SETINFO / INFO / LIST /
 * KILL / HELP.
 *
 * Threads: LIST and KILL run exclusively (they read, and mark for closing,
 * connections of every worker while those are parked); the others touch
 * only their own connection and run inline. A connection of another worker
 * is never closed from here: it gets kill_req, and its worker closes it at
 * its next iteration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/client.h"
#include "server/multi.h"
#include "server/server.h"
#include "server/srvcmd.h"
#include "server/worker.h"

static void client_line(const conn *c, int64_t now, fc_buf *b)
{
    char line[1024];
    int n = snprintf(
        line, sizeof(line),
        "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s "
        "db=0 sub=0 psub=0 ssub=0 multi=%lld qbuf=%zu qbuf-free=%zu "
        "argv-mem=0 multi-mem=0 rbs=%zu rbp=0 obl=0 oll=0 omem=%zu "
        "tot-mem=%zu events=r cmd=%s%s%s user=default redir=-1 resp=%d "
        "lib-name=%s lib-ver=%s worker=%u\n",
        (unsigned long long)c->id, c->addr, c->laddr, c->io.fd,
        c->name ? c->name : "", (long long)((now - c->ctime_ms) / 1000),
        (long long)((now - c->atime_ms) / 1000),
        srv_tx_active(c) ? "x" : "N", /* Redis's flag for "in MULTI" */
        srv_tx_active(c) ? (long long)c->tx->nqueued : -1LL,
        c->io.rbuf.len - c->rpos,
        c->io.rbuf.cap - c->io.rbuf.len, c->io.rbuf.cap, c->io.wbuf.len,
        sizeof(*c) + c->io.rbuf.cap + c->io.wbuf.cap, c->last_cmd,
        c->last_sub ? "|" : "", c->last_sub ? c->last_sub : "", c->wr.proto,
        c->lib_name ? c->lib_name : "", c->lib_ver ? c->lib_ver : "",
        c->w->id); /* ours: the worker thread serving the connection */
    if (n > 0)
        fc_buf_append(b, line,
                      (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void reply_text(srv_exec *x, fc_buf *b)
{
    if (b->oom)
        resp_error(x->c->w, "ERR out of memory");
    else
        resp_verbatim(x->c->w, "txt", b->data ? b->data : "", b->len);
    fc_buf_free(b);
}

static void client_list(srv_exec *x)
{
    cmd_ctx *c = x->c;
    srv_server *s = x->srv;
    long long only_id = -1;
    if (c->argc == 4 && srv_arg_is(&c->argv[2], "type")) {
        if (!srv_arg_is(&c->argv[3], "normal")) {
            resp_verbatim(c->w, "txt", "", 0); /* no replicas, no pubsub */
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
    fc_buf b = {0};
    for (uint32_t i = 0; i < s->nworkers; i++)
        for (conn *cn = s->workers[i].conns; cn; cn = cn->next)
            if (!cn->kill_req && !cn->io.closing &&
                (only_id < 0 || cn->id == (uint64_t)only_id))
                client_line(cn, x->w->now, &b);
    reply_text(x, &b);
}

typedef struct kill_filter {
    long long id;   /* -1 = any */
    resp_arg addr;  /* len 0 = any */
    resp_arg laddr; /* len 0 = any */
    bool skipme;
} kill_filter;

static bool arg_eq_str(const resp_arg *a, const char *s)
{
    return a->len == strlen(s) && memcmp(a->ptr, s, a->len) == 0;
}

static bool kill_match(const kill_filter *f, const conn *cn, const conn *me)
{
    if (cn->kill_req || cn->io.closing)
        return false;
    if (f->skipme && cn == me)
        return false;
    if (f->id >= 0 && cn->id != (uint64_t)f->id)
        return false;
    if (f->addr.len && !arg_eq_str(&f->addr, cn->addr))
        return false;
    if (f->laddr.len && !arg_eq_str(&f->laddr, cn->laddr))
        return false;
    return true;
}

/* Marks the matches; returns how many. */
static long long kill_apply(srv_exec *x, const kill_filter *f)
{
    srv_server *s = x->srv;
    long long n = 0;
    for (uint32_t i = 0; i < s->nworkers; i++) {
        srv_worker *w = &s->workers[i];
        for (conn *cn = w->conns; cn; cn = cn->next) {
            if (!kill_match(f, cn, x->conn))
                continue;
            n++;
            if (cn == x->conn) {
                conn_close_after_reply(cn); /* the reply goes out first */
            } else {
                cn->kill_req = true;
                w->kill_pending = true;
            }
        }
    }
    return n;
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
            f->addr = *v;
        } else if (srv_arg_is(k, "laddr")) {
            f->laddr = *v;
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
        f.addr = c->argv[2];
        f.skipme = false;
        if (kill_apply(x, &f) == 0)
            resp_error(c->w, "ERR No such client");
        else
            resp_ok(c->w);
        return;
    }
    int r = parse_kill(x, &f);
    if (r == -1)
        resp_error(c->w, "ERR syntax error");
    if (r)
        return;
    resp_int(c->w, kill_apply(x, &f));
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
        "LIST [TYPE normal] [ID <id>]",
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
        reply_text(x, &b);
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
    {"list", -2, CMD_NOSCRIPT, SRV_CMD_EXCL, "Lists open connections."},
    {"kill", -3, CMD_NOSCRIPT, SRV_CMD_EXCL, "Terminates open connections."},
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
