/*
 * srvcmd.c — the unified command table: server families first, then the
 * data commands of command.h, behind one case-insensitive hash (built once,
 * read-only afterwards).
 */
#include "server/srvcmd.h"

#include "server/blocking.h"
#include "util/fold.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef const srv_cmd *(*srv_family_fn)(size_t *n);

static const srv_family_fn families[] = {
    srv_cmds_conn,    srv_cmds_client, srv_cmds_info,  srv_cmds_config,
    srv_cmds_command, srv_cmds_server, srv_cmds_multi, srv_cmds_script,
    srv_cmds_persist, srv_cmds_pub,    srv_cmds_repl,  srv_cmds_block,
    srv_cmds_pubsub,  srv_cmds_latency, srv_cmds_slowlog,
};

static bool name_eq(const char *def, const char *p, size_t n)
{
    return strncasecmp(def, p, n) == 0 && def[n] == '\0';
}

const srv_cmdent *srv_cmdtab_find(const srv_cmdtab *t, const char *name,
                                  size_t len)
{
    uint64_t w[SRV_NAME_MAX / 8], h;
    if (!t->hash || len == 0 || len > SRV_NAME_MAX)
        return NULL;
    size_t nw = fc_fold_words(name, len, w, &h);
    for (size_t i = h & t->hash_mask;; i = (i + 1) & t->hash_mask) {
        uint32_t v = t->hash[i];
        if (!v)
            return NULL;
        if (t->lens[v - 1] != len)
            continue;
        const uint64_t *f = t->folded[v - 1];
        size_t k = 0;
        while (k < nw && f[k] == w[k])
            k++;
        if (k == nw)
            return &t->ents[v - 1];
    }
}

const srv_subcmd *srv_subcmd_find(const srv_cmd *cmd, const char *arg,
                                  size_t len)
{
    for (const srv_subcmd *s = cmd->subs; s && s->name; s++)
        if (name_eq(s->name, arg, len))
            return s;
    return NULL;
}

static int add(srv_cmdtab *t, const cmd_def *def, const srv_cmd *scmd)
{
    size_t len = strlen(def->name);
    if (len == 0 || len > SRV_NAME_MAX)
        return -1; /* a table bug: no such names */
    if (srv_cmdtab_find(t, def->name, len))
        return 0; /* a server command of that name came first */
    srv_cmdent *e = &t->ents[t->count];
    e->def = def;
    e->scmd = scmd;
    e->index = (uint32_t)t->count;
    uint64_t h;
    fc_fold_words(def->name, len, t->folded[t->count], &h);
    size_t i = h & t->hash_mask;
    t->lens[t->count] = (uint8_t)len;
    while (t->hash[i])
        i = (i + 1) & t->hash_mask;
    t->hash[i] = (uint32_t)++t->count;
    return 0;
}

int srv_cmdtab_build(srv_cmdtab *t)
{
    memset(t, 0, sizeof(*t));
    size_t ndata, total = 0, n;
    const cmd_def *data = cmd_table(&ndata);
    for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
        families[f](&n);
        total += n;
    }
    total += ndata;
    size_t hsize = 16;
    while (hsize < total * 2)
        hsize *= 2;
    t->ents = calloc(total, sizeof(*t->ents));
    t->hash = calloc(hsize, sizeof(*t->hash));
    t->folded = calloc(total, sizeof(*t->folded));
    t->lens = calloc(total, sizeof(*t->lens));
    if (!t->ents || !t->hash || !t->folded || !t->lens) {
        srv_cmdtab_free(t);
        return -1;
    }
    t->hash_mask = hsize - 1;
    for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
        const srv_cmd *cmds = families[f](&n);
        for (size_t i = 0; i < n; i++)
            if (add(t, &cmds[i].def, &cmds[i]) != 0)
                goto bad;
    }
    for (size_t i = 0; i < ndata; i++)
        if (add(t, &data[i], NULL) != 0)
            goto bad;
    return 0;
bad:
    srv_cmdtab_free(t);
    return -1;
}

void srv_cmdtab_free(srv_cmdtab *t)
{
    free(t->ents);
    free(t->hash);
    free(t->folded);
    free(t->lens);
    memset(t, 0, sizeof(*t));
}

bool srv_arg_is(const resp_arg *a, const char *s)
{
    return name_eq(s, a->ptr, a->len) && memchr(a->ptr, 0, a->len) == NULL;
}

int srv_arg_ll(const resp_arg *a, long long *out)
{
    char buf[32];
    if (a->len == 0 || a->len >= sizeof(buf))
        return -1;
    memcpy(buf, a->ptr, a->len);
    buf[a->len] = '\0';
    if (buf[0] == '+' || isspace((unsigned char)buf[0]))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

void srv_reply_arity(srv_exec *x, const char *name)
{
    resp_errorf(x->c->w, "ERR wrong number of arguments for '%s' command",
                name);
}

void srv_reply_unknown_sub(srv_exec *x, const char *cmd)
{
    const resp_arg *a = &x->c->argv[1];
    resp_errorf(x->c->w, "ERR unknown subcommand '%.*s'. Try %s HELP.",
                (int)(a->len > 128 ? 128 : a->len), a->ptr, cmd);
}

const char *srv_arg_str(const resp_arg *a, char *buf, size_t buflen)
{
    size_t n = a->len < buflen - 1 ? a->len : buflen - 1;
    memcpy(buf, a->ptr, n);
    buf[n] = '\0';
    return buf;
}
