/*
 * cmd_server.c — TIME, SHUTDOWN, MEMORY, OBJECT.
 *
 * Threads: MEMORY USAGE and OBJECT are keyed (key at argv[2]) and run on the
 * key's owner, possibly for another worker's client (x->conn NULL, unused
 * here). MEMORY STATS sums every shard and runs exclusively.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "engine/obj.h"
#include "server/client.h"
#include "server/server.h"
#include "server/srvcmd.h"

/* MEMORY USAGE: the entry's block as allocated (key, value and header in
 * one) plus its table slot: an 8-byte pointer and a 1-byte tag. Free slots
 * of the table are not charged to any key. */
#define SLOT_BYTES 9

static void cmd_time(srv_exec *x)
{
    struct timeval tv;
    char buf[32];
    gettimeofday(&tv, NULL);
    resp_array(x->c->w, 2);
    snprintf(buf, sizeof(buf), "%lld", (long long)tv.tv_sec);
    resp_bulk_cstr(x->c->w, buf);
    snprintf(buf, sizeof(buf), "%ld", (long)tv.tv_usec);
    resp_bulk_cstr(x->c->w, buf);
}

static void cmd_shutdown(srv_exec *x)
{
    cmd_ctx *c = x->c;
    bool abort_req = false, save = false, nosave = false;
    for (size_t i = 1; i < c->argc; i++) {
        const resp_arg *a = &c->argv[i];
        if (srv_arg_is(a, "nosave"))
            nosave = true;
        else if (srv_arg_is(a, "save"))
            save = true;
        else if (srv_arg_is(a, "abort"))
            abort_req = true;
        else if (!srv_arg_is(a, "now") && !srv_arg_is(a, "force")) {
            resp_error(c->w, "ERR syntax error");
            return;
        }
    }
    if ((save && nosave) || (abort_req && c->argc > 2)) {
        resp_error(c->w, "ERR syntax error");
        return;
    }
    if (abort_req) {
        resp_error(c->w, "ERR No shutdown in progress.");
        return;
    }
    /* The final snapshot (or, NOSAVE, only the WAL fsync) runs on the main
     * thread once the workers stopped. Like Redis, no reply: the
     * connection closes with the server. */
    atomic_store(&x->srv->shutdown_save,
                 nosave ? SRV_SAVE_NO : save ? SRV_SAVE_YES : SRV_SAVE_DEFAULT);
    srv_request_shutdown(x->srv);
}

/* Introspection does not count as an access (Redis's LOOKUP_NOTOUCH):
 * OBJECT IDLETIME would always answer 0 otherwise. *sh gets the shard. */
static eng_entry *lookup_in(srv_exec *x, const resp_arg *k, eng_shard **sh)
{
    uint64_t h = eng_route_hash(x->c->hash_seed, x->c->route_mode, k->ptr,
                                k->len);
    *sh = cmd_shard(x->c, h);
    return eng_peek(*sh, h, k->ptr, k->len, x->c->now);
}

static eng_entry *lookup(srv_exec *x, const resp_arg *k)
{
    eng_shard *sh;
    return lookup_in(x, k, &sh);
}

static void memory_usage(srv_exec *x)
{
    cmd_ctx *c = x->c;
    if (c->argc != 3 && !(c->argc == 5 && srv_arg_is(&c->argv[3], "samples"))) {
        resp_error(c->w, "ERR syntax error");
        return;
    }
    long long samples;
    if (c->argc == 5 && (srv_arg_ll(&c->argv[4], &samples) || samples < 0)) {
        resp_error(c->w, "ERR value is not an integer or out of range");
        return;
    }
    eng_entry *e = lookup(x, &c->argv[2]);
    if (!e) {
        resp_null(c->w);
        return;
    }
    resp_int(c->w, (int64_t)(eng_entry_memory(e) + SLOT_BYTES));
}

static void memory_stats(srv_exec *x)
{
    srv_server *s = x->srv;
    uint64_t mem = 0, keys = 0;
    for (uint32_t i = 0; i < s->nshards; i++) {
        mem += eng_memory(s->shards[i]);
        keys += eng_len(s->shards[i]);
    }
    resp_writer *w = x->c->w;
    resp_map(w, 4);
    resp_bulk_cstr(w, "total.allocated");
    resp_int(w, (int64_t)mem);
    resp_bulk_cstr(w, "keys.count");
    resp_int(w, (int64_t)keys);
    resp_bulk_cstr(w, "keys.bytes-per-key");
    resp_int(w, keys ? (int64_t)(mem / keys) : 0);
    resp_bulk_cstr(w, "dataset.bytes");
    resp_int(w, (int64_t)mem);
}

static void help(srv_exec *x, const char *const *lines, size_t n)
{
    resp_array(x->c->w, n);
    for (size_t i = 0; i < n; i++)
        resp_simple(x->c->w, lines[i]);
}

static void cmd_memory(srv_exec *x)
{
    static const char *const lines[] = {
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "STATS",
        ("    Return information about the memory usage of the "
         "server."),
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value.",
        "HELP",
        "    Print this help.",
    };
    const resp_arg *sub = &x->c->argv[1];
    if (srv_arg_is(sub, "usage"))
        memory_usage(x);
    else if (srv_arg_is(sub, "stats"))
        memory_stats(x);
    else if (srv_arg_is(sub, "help"))
        help(x, lines, sizeof(lines) / sizeof(lines[0]));
    else
        srv_reply_unknown_sub(x, "MEMORY");
}

static void cmd_object(srv_exec *x)
{
    static const char *const lines[] = {
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        ("    Return the kind of internal representation used in order to "
         "store the value associated with a <key>."),
        "FREQ <key>",
        "    Return the access frequency index of the <key>.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>.",
        "REFCOUNT <key>",
        ("    Return the reference count of the object stored at "
         "<key>."),
        "HELP",
        "    Print this help.",
    };
    cmd_ctx *c = x->c;
    const resp_arg *sub = &c->argv[1];
    if (srv_arg_is(sub, "help")) {
        help(x, lines, sizeof(lines) / sizeof(lines[0]));
        return;
    }
    bool enc = srv_arg_is(sub, "encoding"), freq = srv_arg_is(sub, "freq"),
         idle = srv_arg_is(sub, "idletime"), ref = srv_arg_is(sub, "refcount");
    if (!(enc || freq || idle || ref) || c->argc != 3) {
        srv_reply_unknown_sub(x, "OBJECT");
        return;
    }
    eng_shard *sh;
    eng_entry *e = lookup_in(x, &c->argv[2], &sh);
    int pol = atomic_load(&x->srv->budget.policy);
    bool lfu = pol == ENG_POL_ALLKEYS_LFU || pol == ENG_POL_VOLATILE_LFU;
    if (!e) {
        resp_null(c->w);
    } else if (enc && eng_entry_obj(e)) { /* a typed value: its type says */
        const eng_obj *o = eng_entry_obj(e);
        resp_bulk_cstr(c->w, eng_type_ops_of(o->type)->encoding(o));
    } else if (enc) {
        /* Every value is stored as its bytes (no int or embedded-object
         * forms as in Redis): "raw" says what is there. */
        resp_bulk_cstr(c->w, "raw");
    } else if (freq && lfu) {
        resp_int(c->w, (int64_t)eng_entry_freq(sh, e, x->c->now));
    } else if (freq) {
        resp_error(c->w, "ERR An LFU maxmemory policy is not selected, access "
                         "frequency not tracked. Please note that when "
                         "switching between policies at runtime LRU and LFU "
                         "data will take some time to adjust.");
    } else if (idle && !lfu) {
        resp_int(c->w, (int64_t)eng_entry_idle_s(sh, e, x->c->now));
    } else if (idle) {
        resp_error(c->w, "ERR An LFU maxmemory policy is selected, idle time "
                         "not tracked. Please note that when switching "
                         "between policies at runtime LRU and LFU data will "
                         "take some time to adjust.");
    } else {
        resp_int(c->w, 1); /* values are never shared between keys */
    }
}

static const srv_subcmd memory_subs[] = {
    {"usage", -3, CMD_READONLY, 0, "Estimates the memory usage of a key."},
    {"stats", 2, 0, SRV_CMD_EXCL, "Returns details about memory usage."},
    {"help", 2, 0, 0,
     "Returns helpful text about the different "
     "subcommands."},
    {NULL, 0, 0, 0, NULL},
};

static const srv_subcmd object_subs[] = {
    {"encoding", 3, CMD_READONLY, 0,
     "Returns the internal encoding of a "
     "Redis object."},
    {"freq", 3, CMD_READONLY, 0,
     "Returns the logarithmic access frequency "
     "counter of a Redis object."},
    {"idletime", 3, CMD_READONLY, 0,
     "Returns the time since the last access "
     "to a Redis object."},
    {"refcount", 3, CMD_READONLY, 0,
     "Returns the reference count of a value "
     "of a key."},
    {"help", 2, 0, 0,
     "Returns helpful text about the different "
     "subcommands."},
    {NULL, 0, 0, 0, NULL},
};

static const srv_cmd cmds[] = {
    {{"time", 1, CMD_FAST, 0, 0, 0, CMD_SPLIT_NONE, NULL, "server",
      "Returns the server time.", "2.6.0"},
     cmd_time,
     0,
     NULL},
    {{"shutdown", -1, CMD_NOSCRIPT, 0, 0, 0, CMD_SPLIT_NONE, NULL, "server",
      "Synchronously saves the database(s) to disk and shuts down the Redis "
      "server.",
      "1.0.0"},
     cmd_shutdown,
     SRV_CMD_NO_MULTI,
     NULL},
    {{"memory", -2, CMD_READONLY, 2, 2, 1, CMD_SPLIT_NONE, NULL, "server",
      "A container for memory diagnostics commands.", "4.0.0"},
     cmd_memory,
     0,
     memory_subs},
    {{"object", -2, CMD_READONLY, 2, 2, 1, CMD_SPLIT_NONE, NULL, "generic",
      "A container for object introspection commands.", "2.2.3"},
     cmd_object,
     0,
     object_subs},
};

const srv_cmd *srv_cmds_server(size_t *n)
{
    *n = sizeof(cmds) / sizeof(cmds[0]);
    return cmds;
}
