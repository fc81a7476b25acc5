/*
 * cmd_command.c — COMMAND [COUNT | INFO | DOCS | LIST | GETKEYS | HELP]:
 * introspection of the unified command table, in Redis 7's shapes (what
 * redis-cli's hints and cluster-aware clients read).
 *
 * Threads: the table is immutable; runs inline anywhere.
 */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "server/server.h"
#include "server/srvcmd.h"

#define MAX_CATS 6

/* Redis-like ACL categories derived from flags and group. */
static size_t categories(const cmd_def *d, unsigned sflags,
                         const char *out[MAX_CATS])
{
    size_t n = 0;
    if (d->flags & CMD_WRITE)
        out[n++] = "@write";
    if (d->flags & CMD_READONLY)
        out[n++] = "@read";
    if (d->flags & CMD_PUBSUB)
        out[n++] = "@pubsub";
    else if (d->group && !strcmp(d->group, "string"))
        out[n++] = "@string";
    else if (d->group && !strcmp(d->group, "generic"))
        out[n++] = "@keyspace";
    else if (d->group && !strcmp(d->group, "connection"))
        out[n++] = "@connection";
    else if (d->group && !strcmp(d->group, "hash"))
        out[n++] = "@hash";
    else if (d->group && !strcmp(d->group, "list"))
        out[n++] = "@list";
    else if (d->group && !strcmp(d->group, "set"))
        out[n++] = "@set";
    else if (d->group && !strcmp(d->group, "sorted-set"))
        out[n++] = "@sortedset";
    else if (d->group && !strcmp(d->group, "bitmap"))
        out[n++] = "@bitmap";
    else if (d->group && !strcmp(d->group, "hyperloglog"))
        out[n++] = "@hyperloglog";
    else if (d->group && !strcmp(d->group, "geo"))
        out[n++] = "@geo";
    out[n++] = (d->flags & CMD_FAST) ? "@fast" : "@slow";
    if (sflags & SRV_CMD_BLOCK)
        out[n++] = "@blocking";
    if ((d->flags & CMD_ALLKEYS) || (sflags & (SRV_CMD_EXCL | SRV_CMD_EVERY)))
        out[n++] = "@dangerous";
    return n;
}

static void write_flags(resp_writer *w, unsigned f, bool blocking,
                        bool movable)
{
    const char *names[12];
    size_t n = 0;
    if (f & CMD_WRITE)
        names[n++] = "write";
    if (f & CMD_READONLY)
        names[n++] = "readonly";
    if (f & CMD_PUBSUB)
        names[n++] = "pubsub";
    if (f & CMD_NOSCRIPT)
        names[n++] = "noscript";
    if (f & CMD_LOADING)
        names[n++] = "loading";
    if (f & CMD_STALE)
        names[n++] = "stale";
    if (f & CMD_NOAUTH)
        names[n++] = "no_auth";
    if (f & CMD_FAST)
        names[n++] = "fast";
    if (blocking)
        names[n++] = "blocking";
    if (movable)
        names[n++] = "movablekeys";
    resp_set(w, n);
    for (size_t i = 0; i < n; i++)
        resp_simple(w, names[i]);
}

static void write_key_specs(resp_writer *w, const cmd_def *d, unsigned sflags)
{
    if (d->first_key <= 0) {
        resp_array(w, 0);
        return;
    }
    resp_array(w, 1);
    resp_map(w, 3);
    resp_bulk_cstr(w, "flags");
    if (sflags & SRV_CMD_NOTKEY) { /* SSUBSCRIBE's shard channels */
        resp_set(w, 1);
        resp_simple(w, "not_key");
    } else {
        resp_set(w, 2);
        resp_simple(w, (d->flags & CMD_WRITE) ? "RW" : "RO");
        resp_simple(w, (d->flags & CMD_WRITE) ? "UPDATE" : "ACCESS");
    }
    resp_bulk_cstr(w, "begin_search");
    resp_map(w, 2);
    resp_bulk_cstr(w, "type");
    resp_bulk_cstr(w, "index");
    resp_bulk_cstr(w, "spec");
    resp_map(w, 1);
    resp_bulk_cstr(w, "index");
    resp_int(w, d->first_key);
    resp_bulk_cstr(w, "find_keys");
    resp_map(w, 2);
    resp_bulk_cstr(w, "type");
    resp_bulk_cstr(w, "range");
    resp_bulk_cstr(w, "spec");
    resp_map(w, 3);
    resp_bulk_cstr(w, "lastkey");
    resp_int(w, d->last_key < 0 ? d->last_key : d->last_key - d->first_key);
    resp_bulk_cstr(w, "keystep");
    resp_int(w, d->key_step);
    resp_bulk_cstr(w, "limit");
    resp_int(w, 0);
}

static void write_info_entry(resp_writer *w, const char *name, int arity,
                             const cmd_def *d, unsigned flags, unsigned sflags,
                             const srv_subcmd *subs, bool keys)
{
    const char *cats[MAX_CATS];
    cmd_def tmp = *d;
    tmp.flags = flags;
    size_t ncat = categories(&tmp, sflags, cats);
    resp_array(w, 10);
    resp_bulk_cstr(w, name);
    resp_int(w, arity);
    write_flags(w, flags, (sflags & SRV_CMD_BLOCK) != 0, keys && d->keys);
    resp_int(w, keys ? d->first_key : 0);
    resp_int(w, keys ? d->last_key : 0);
    resp_int(w, keys ? d->key_step : 0);
    resp_set(w, ncat);
    for (size_t i = 0; i < ncat; i++)
        resp_simple(w, cats[i]);
    resp_set(w, 0); /* tips */
    if (keys)
        write_key_specs(w, d, sflags);
    else
        resp_array(w, 0);
    size_t nsub = 0;
    for (const srv_subcmd *s = subs; s && s->name; s++)
        nsub++;
    resp_array(w, nsub);
    for (const srv_subcmd *s = subs; s && s->name; s++) {
        char full[96];
        snprintf(full, sizeof(full), "%s|%s", d->name, s->name);
        write_info_entry(w, full, s->arity, d, s->flags, s->sflags, NULL,
                         false);
    }
}

static void write_info(resp_writer *w, const srv_cmdent *e)
{
    write_info_entry(w, e->def->name, e->def->arity, e->def, e->def->flags,
                     e->scmd ? e->scmd->sflags : 0,
                     e->scmd ? e->scmd->subs : NULL, true);
}

static void write_doc(resp_writer *w, const cmd_def *d, const char *summary,
                      const srv_subcmd *subs)
{
    size_t nsub = 0;
    for (const srv_subcmd *s = subs; s && s->name; s++)
        nsub++;
    resp_map(w, 3 + (nsub > 0));
    resp_bulk_cstr(w, "summary");
    resp_bulk_cstr(w, summary ? summary : "");
    resp_bulk_cstr(w, "since");
    resp_bulk_cstr(w, d->since ? d->since : "1.0.0");
    resp_bulk_cstr(w, "group");
    resp_bulk_cstr(w, d->group ? d->group : "server");
    if (!nsub)
        return;
    resp_bulk_cstr(w, "subcommands");
    resp_map(w, nsub);
    for (const srv_subcmd *s = subs; s && s->name; s++) {
        char full[96];
        snprintf(full, sizeof(full), "%s|%s", d->name, s->name);
        resp_bulk_cstr(w, full);
        write_doc(w, d, s->summary, NULL);
    }
}

/* "name" or "name|sub" -> entry (and sub); NULL when unknown. */
static const srv_cmdent *find(srv_exec *x, const resp_arg *a,
                              const srv_subcmd **sub)
{
    const char *bar = memchr(a->ptr, '|', a->len);
    size_t n = bar ? (size_t)(bar - a->ptr) : a->len;
    const srv_cmdent *e = srv_cmdtab_find(&x->srv->cmds, a->ptr, n);
    *sub = NULL;
    if (!e || !bar)
        return e;
    if (!e->scmd)
        return NULL;
    *sub = srv_subcmd_find(e->scmd, bar + 1, a->len - n - 1);
    return *sub ? e : NULL;
}

static void command_info(srv_exec *x)
{
    cmd_ctx *c = x->c;
    const srv_cmdtab *t = &x->srv->cmds;
    if (c->argc <= 2) {
        resp_array(c->w, t->count);
        for (size_t i = 0; i < t->count; i++)
            write_info(c->w, &t->ents[i]);
        return;
    }
    resp_array(c->w, c->argc - 2);
    for (size_t i = 2; i < c->argc; i++) {
        const srv_subcmd *sub;
        const srv_cmdent *e = find(x, &c->argv[i], &sub);
        if (!e) {
            resp_null_array(c->w);
        } else if (sub) {
            char full[96];
            snprintf(full, sizeof(full), "%s|%s", e->def->name, sub->name);
            write_info_entry(c->w, full, sub->arity, e->def, sub->flags,
                             sub->sflags, NULL, false);
        } else {
            write_info(c->w, e);
        }
    }
}

static void command_docs(srv_exec *x)
{
    cmd_ctx *c = x->c;
    const srv_cmdtab *t = &x->srv->cmds;
    if (c->argc == 2) {
        resp_map(c->w, t->count);
        for (size_t i = 0; i < t->count; i++) {
            const srv_cmdent *e = &t->ents[i];
            resp_bulk_cstr(c->w, e->def->name);
            write_doc(c->w, e->def, e->def->summary,
                      e->scmd ? e->scmd->subs : NULL);
        }
        return;
    }
    size_t n = 0;
    const srv_subcmd *sub;
    for (size_t i = 2; i < c->argc; i++)
        n += find(x, &c->argv[i], &sub) != NULL;
    resp_map(c->w, n);
    for (size_t i = 2; i < c->argc; i++) {
        const srv_cmdent *e = find(x, &c->argv[i], &sub);
        if (!e)
            continue;
        resp_bulk(c->w, c->argv[i].ptr, c->argv[i].len);
        if (sub)
            write_doc(c->w, e->def, sub->summary, NULL);
        else
            write_doc(c->w, e->def, e->def->summary,
                      e->scmd ? e->scmd->subs : NULL);
    }
}

/* COMMAND LIST [FILTERBY MODULE m | ACLCAT cat | PATTERN p]. Calls emit
 * for each listed name; returns the count. */
static size_t list_names(srv_exec *x, int kind, const char *arg, resp_writer *w)
{
    const srv_cmdtab *t = &x->srv->cmds;
    size_t n = 0;
    for (size_t i = 0; i < t->count; i++) {
        const srv_cmdent *e = &t->ents[i];
        const srv_subcmd *s = e->scmd ? e->scmd->subs : NULL;
        for (int k = -1; k == -1 || (s && s[k].name); k++) {
            char name[96];
            if (k < 0)
                snprintf(name, sizeof(name), "%s", e->def->name);
            else
                snprintf(name, sizeof(name), "%s|%s", e->def->name, s[k].name);
            bool ok = kind == 0;
            if (kind == 2)
                ok = fnmatch(arg, name, FNM_CASEFOLD) == 0;
            if (kind == 1) {
                const char *cats[MAX_CATS];
                size_t nc =
                    categories(e->def, e->scmd ? e->scmd->sflags : 0, cats);
                for (size_t j = 0; j < nc; j++)
                    ok |= strcasecmp(cats[j] + 1, arg) == 0;
            }
            if (!ok)
                continue;
            n++;
            if (w)
                resp_bulk_cstr(w, name);
        }
    }
    return n;
}

static void command_list(srv_exec *x)
{
    cmd_ctx *c = x->c;
    int kind = 0; /* 0 all, 1 aclcat, 2 pattern, 3 module (none) */
    char arg[128] = "";
    if (c->argc == 5 && srv_arg_is(&c->argv[2], "filterby")) {
        if (srv_arg_is(&c->argv[3], "aclcat"))
            kind = 1;
        else if (srv_arg_is(&c->argv[3], "pattern"))
            kind = 2;
        else if (srv_arg_is(&c->argv[3], "module"))
            kind = 3;
        else
            kind = -1;
        srv_arg_str(&c->argv[4], arg, sizeof(arg));
    } else if (c->argc != 2) {
        kind = -1;
    }
    if (kind < 0) {
        resp_error(c->w, "ERR syntax error");
        return;
    }
    if (kind == 3) {
        resp_array(c->w, 0);
        return;
    }
    resp_array(c->w, list_names(x, kind, arg, NULL));
    list_names(x, kind, arg, c->w);
}

static void command_getkeys(srv_exec *x)
{
    cmd_ctx *c = x->c;
    const srv_cmdent *e =
        srv_cmdtab_find(&x->srv->cmds, c->argv[2].ptr, c->argv[2].len);
    size_t argc = c->argc - 2;
    const cmd_def *d = e ? e->def : NULL;
    if (!d) {
        resp_error(c->w, "ERR Invalid command specified");
        return;
    }
    if (d->arity >= 0 ? argc != (size_t)d->arity : argc < (size_t)-d->arity) {
        resp_error(c->w, "ERR Invalid number of arguments specified for "
                         "command");
        return;
    }
    if (d->keys) { /* keys after a count: EVAL, ZUNIONSTORE, LMPOP ... */
        size_t pos[256];
        int n = d->keys(c->argv + 2, argc, pos, 256);
        bool optional = e->scmd && (e->scmd->sflags & SRV_CMD_SCRIPT);
        if (n == 0 && optional) { /* Redis's no_mandatory_keys */
            resp_array(c->w, 0);
        } else if (n <= 0) {
            resp_error(c->w, "ERR Invalid arguments specified for command");
        } else {
            resp_array(c->w, (size_t)n);
            for (int i = 0; i < n; i++)
                resp_bulk(c->w, c->argv[pos[i] + 2].ptr,
                          c->argv[pos[i] + 2].len);
        }
        return;
    }
    if (d->first_key <= 0 || (size_t)d->first_key >= argc) {
        resp_error(c->w, "ERR The command has no key arguments");
        return;
    }
    size_t first = (size_t)d->first_key,
           step = d->key_step > 0 ? (size_t)d->key_step : 1;
    size_t last = d->last_key < 0 ? argc + (size_t)(long)d->last_key
                                  : (size_t)d->last_key;
    if (last >= argc)
        last = argc - 1;
    resp_array(c->w, (last - first) / step + 1);
    for (size_t k = first; k <= last; k += step)
        resp_bulk(c->w, c->argv[k + 2].ptr, c->argv[k + 2].len);
}

static void command_help(srv_exec *x)
{
    static const char *const lines[] = {
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all commands.",
        "COUNT",
        "    Return the total number of commands in this server.",
        "LIST",
        "    Return a list of all commands in this server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple commands.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple commands.",
        "GETKEYS <full-command>",
        "    Return the keys from a full command.",
        "HELP",
        "    Print this help.",
    };
    resp_array(x->c->w, sizeof(lines) / sizeof(lines[0]));
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        resp_simple(x->c->w, lines[i]);
}

static void cmd_command(srv_exec *x)
{
    cmd_ctx *c = x->c;
    if (c->argc == 1) {
        command_info(x);
        return;
    }
    const resp_arg *sub = &c->argv[1];
    if (srv_arg_is(sub, "count"))
        resp_int(c->w, (int64_t)x->srv->cmds.count);
    else if (srv_arg_is(sub, "info"))
        command_info(x);
    else if (srv_arg_is(sub, "docs"))
        command_docs(x);
    else if (srv_arg_is(sub, "list"))
        command_list(x);
    else if (srv_arg_is(sub, "getkeys"))
        command_getkeys(x);
    else if (srv_arg_is(sub, "help"))
        command_help(x);
    else
        srv_reply_unknown_sub(x, "COMMAND");
}

static const srv_subcmd subs[] = {
    {"count", 2, 0, 0, "Returns a count of commands."},
    {"info", -2, 0, 0,
     "Returns information about one, multiple or all "
     "commands."},
    {"docs", -2, 0, 0,
     "Returns documentary information about one, multiple "
     "or all commands."},
    {"list", -2, 0, 0, "Returns a list of command names."},
    {"getkeys", -3, 0, 0,
     "Extracts the key names from an arbitrary "
     "command."},
    {"help", 2, 0, 0,
     "Returns helpful text about the different "
     "subcommands."},
    {NULL, 0, 0, 0, NULL},
};

static const srv_cmd cmds[] = {
    {{"command", -1, 0, 0, 0, 0, CMD_SPLIT_NONE, NULL, "server",
      "Returns detailed information about all commands.", "2.8.13"},
     cmd_command,
     0,
     subs},
};

const srv_cmd *srv_cmds_command(size_t *n)
{
    *n = sizeof(cmds) / sizeof(cmds[0]);
    return cmds;
}
