/*
 * cmd_conn.c — connection commands: PING, ECHO, QUIT, HELLO, AUTH, SELECT,
 * RESET. They only touch their own connection, so they run inline.
 * Error texts are Redis 7's.
 */
#include <stdlib.h>
#include <string.h>

#include "server/client.h"
#include "server/multi.h"
#include "server/pubsub.h"
#include "server/server.h"
#include "server/srvcmd.h"

#define WRONGPASS                                                              \
    "WRONGPASS invalid username-password pair or user is disabled."

static void cmd_ping(srv_exec *x)
{
    cmd_ctx *c = x->c;
    if (c->argc > 2) {
        srv_reply_arity(x, "ping");
        return;
    }
    if (x->conn && c->w->proto == 2 && srv_ps_active(x->conn)) {
        /* Redis: a RESP2 subscriber gets ["pong", arg or ""]. */
        resp_array(c->w, 2);
        resp_bulk_cstr(c->w, "pong");
        if (c->argc == 2)
            resp_bulk(c->w, c->argv[1].ptr, c->argv[1].len);
        else
            resp_bulk(c->w, "", 0);
        return;
    }
    if (c->argc == 2)
        resp_bulk(c->w, c->argv[1].ptr, c->argv[1].len);
    else
        resp_simple(c->w, "PONG");
}

static void cmd_echo(srv_exec *x)
{
    resp_bulk(x->c->w, x->c->argv[1].ptr, x->c->argv[1].len);
}

static void cmd_quit(srv_exec *x)
{
    resp_ok(x->c->w);
    if (x->conn)
        conn_close_after_reply(x->conn);
}

/* Time-independent comparison: a wrong password must not leak how much of
 * it matched. */
static bool pass_ok(const char *want, const resp_arg *got)
{
    size_t wl = strlen(want);
    unsigned diff = (unsigned)(wl ^ got->len);
    for (size_t i = 0; i < got->len; i++)
        diff |=
            (unsigned char)got->ptr[i] ^ (unsigned char)(i < wl ? want[i] : 0);
    return diff == 0;
}

/* Authenticates as `user` (NULL = default). 0 ok; -1 after replying. */
static int authenticate(srv_exec *x, const resp_arg *user, const resp_arg *pass)
{
    const char *req = x->srv->cfg.requirepass;
    if (user && !srv_arg_is(user, "default")) {
        resp_error(x->c->w, WRONGPASS);
        return -1;
    }
    if (!req) {
        if (!user) {
            resp_error(x->c->w,
                       "ERR AUTH <password> called without any password "
                       "configured for the default user. Are you sure your "
                       "configuration is correct?");
            return -1;
        }
        x->conn->authed = true; /* the default user has no password */
        return 0;
    }
    if (!pass_ok(req, pass)) {
        resp_error(x->c->w, WRONGPASS);
        return -1;
    }
    x->conn->authed = true;
    return 0;
}

static void cmd_auth(srv_exec *x)
{
    cmd_ctx *c = x->c;
    if (c->argc > 3) {
        resp_error(c->w, "ERR syntax error");
        return;
    }
    const resp_arg *user = c->argc == 3 ? &c->argv[1] : NULL;
    if (authenticate(x, user, &c->argv[c->argc - 1]) == 0)
        resp_ok(c->w);
}

/* Redis's validateClientName: no spaces, newlines or other odd bytes. */
int srv_client_name_ok(const resp_arg *name)
{
    for (size_t i = 0; i < name->len; i++)
        if (name->ptr[i] < '!' || name->ptr[i] > '~')
            return 0;
    return 1;
}

int srv_client_set_name(conn *cn, const resp_arg *name)
{
    char *n = NULL;
    if (name->len) {
        n = strndup(name->ptr, name->len);
        if (!n)
            return -1;
    }
    free(cn->name);
    cn->name = n;
    return 0;
}

static void hello_reply(srv_exec *x)
{
    resp_writer *w = x->c->w;
    resp_map(w, 7);
    resp_bulk_cstr(w, "server");
    resp_bulk_cstr(w, "redis");
    resp_bulk_cstr(w, "version");
    resp_bulk_cstr(w, SRV_VERSION);
    resp_bulk_cstr(w, "proto");
    resp_int(w, w->proto);
    resp_bulk_cstr(w, "id");
    resp_int(w, (int64_t)x->conn->id);
    resp_bulk_cstr(w, "mode");
    resp_bulk_cstr(w, "standalone");
    resp_bulk_cstr(w, "role");
    resp_bulk_cstr(w, atomic_load(&x->srv->replica_mode) ? "replica"
                                                         : "master");
    resp_bulk_cstr(w, "modules");
    resp_array(w, 0);
}

static void cmd_hello(srv_exec *x)
{
    cmd_ctx *c = x->c;
    long long ver = 0;
    size_t j = 1;
    const resp_arg *user = NULL, *pass = NULL, *name = NULL;
    if (c->argc >= 2) {
        if (srv_arg_ll(&c->argv[j++], &ver)) {
            resp_error(c->w, "ERR Protocol version is not an integer or out "
                             "of range");
            return;
        }
        if (ver < 2 || ver > 3) {
            resp_error(c->w, "NOPROTO unsupported protocol version");
            return;
        }
    }
    for (; j < c->argc; j++) {
        size_t more = c->argc - 1 - j;
        if (srv_arg_is(&c->argv[j], "auth") && more >= 2) {
            user = &c->argv[j + 1];
            pass = &c->argv[j + 2];
            j += 2;
        } else if (srv_arg_is(&c->argv[j], "setname") && more) {
            name = &c->argv[++j];
            if (!srv_client_name_ok(name)) {
                resp_error(c->w, "ERR Client names cannot contain spaces, "
                                 "newlines or special characters.");
                return;
            }
        } else {
            char opt[160];
            resp_errorf(c->w, "ERR Syntax error in HELLO option '%s'",
                        srv_arg_str(&c->argv[j], opt, sizeof(opt)));
            return;
        }
    }
    if (user && authenticate(x, user, pass))
        return;
    if (x->srv->cfg.requirepass && !x->conn->authed) {
        resp_error(c->w,
                   "NOAUTH HELLO must be called with the client already "
                   "authenticated, otherwise the HELLO <proto> AUTH <user> "
                   "<pass> option can be used to authenticate the client and "
                   "select the RESP protocol version at the same time");
        return;
    }
    if (name && srv_client_set_name(x->conn, name)) {
        resp_error(c->w, "ERR out of memory");
        return;
    }
    if (ver) {
        x->conn->wr.proto = (int)ver;
        c->w->proto = (int)ver;
    }
    hello_reply(x);
}

static void cmd_select(srv_exec *x)
{
    long long id;
    if (srv_arg_ll(&x->c->argv[1], &id) || id < INT32_MIN || id > INT32_MAX)
        resp_error(x->c->w, "ERR value is not an integer or out of range");
    else if (id != 0)
        resp_error(x->c->w, "ERR DB index is out of range");
    else
        resp_ok(x->c->w);
}

static void cmd_reset(srv_exec *x)
{
    conn *cn = x->conn;
    cn->wr.proto = 2;
    x->c->w->proto = 2;
    free(cn->name);
    cn->name = NULL;
    cn->authed = x->srv->cfg.requirepass == NULL;
    srv_tx_reset(cn);
    srv_ps_reset(cn);
    resp_simple(x->c->w, "RESET");
}

#define CONN_CMD(n, ar, fl, fn, sum, since)                                    \
    {                                                                          \
        {n, ar, fl, 0, 0, 0, CMD_SPLIT_NONE, NULL, "connection", sum, since},  \
            fn, 0, NULL                                                        \
    }

static const srv_cmd cmds[] = {
    CONN_CMD("ping", -1, CMD_FAST, cmd_ping,
             "Returns the server's liveliness "
             "response.",
             "1.0.0"),
    CONN_CMD("echo", 2, CMD_FAST, cmd_echo, "Returns the given string.",
             "1.0.0"),
    CONN_CMD("quit", -1, CMD_FAST | CMD_NOAUTH | CMD_NOSCRIPT, cmd_quit,
             "Closes the connection.", "1.0.0"),
    CONN_CMD("hello", -1, CMD_FAST | CMD_NOAUTH | CMD_NOSCRIPT, cmd_hello,
             "Handshakes with the Redis server.", "6.0.0"),
    CONN_CMD("auth", -2, CMD_FAST | CMD_NOAUTH | CMD_NOSCRIPT, cmd_auth,
             "Authenticates the connection.", "1.0.0"),
    CONN_CMD("select", 2, CMD_FAST, cmd_select,
             "Changes the selected database.", "1.0.0"),
    CONN_CMD("reset", 1, CMD_FAST | CMD_NOAUTH | CMD_NOSCRIPT, cmd_reset,
             "Resets the connection.", "6.2.0"),
};

const srv_cmd *srv_cmds_conn(size_t *n)
{
    *n = sizeof(cmds) / sizeof(cmds[0]);
    return cmds;
}
