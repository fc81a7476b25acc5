/*
 * cmd_pubsub.c — SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH,
 * SSUBSCRIBE SUNSUBSCRIBE SPUBLISH, PUBSUB CHANNELS / NUMSUB / NUMPAT /
 * SHARDCHANNELS / SHARDNUMSUB / HELP. Replies and error texts are Redis
 * 7.0's; shard channels act as one shard, as Redis standalone does.
 *
 * Threads: every one runs inline on its connection's worker (the S*
 * commands' channels are Redis's not_key positions: SRV_CMD_NOTKEY);
 * the registry and the crossing between workers are pubsub.c's.
 */
#include <string.h>

#include "server/client.h"
#include "server/pubsub.h"
#include "server/server.h"
#include "server/srvcmd.h"
#include "server/worker.h"

static void subscribe_kind(srv_exec *x, enum srv_ps_kind k)
{
    cmd_ctx *c = x->c;
    srv_ps_subscribe(x->conn, k, c->argv + 1, c->argc - 1, c->w);
}

static void unsubscribe_kind(srv_exec *x, enum srv_ps_kind k)
{
    cmd_ctx *c = x->c;
    srv_ps_unsubscribe(x->conn, k, c->argv + 1, c->argc - 1, c->w);
}

static void cmd_subscribe(srv_exec *x)
{
    subscribe_kind(x, SRV_PS_CHAN);
}

static void cmd_psubscribe(srv_exec *x)
{
    subscribe_kind(x, SRV_PS_PAT);
}

static void cmd_ssubscribe(srv_exec *x)
{
    subscribe_kind(x, SRV_PS_SHARD);
}

static void cmd_unsubscribe(srv_exec *x)
{
    unsubscribe_kind(x, SRV_PS_CHAN);
}

static void cmd_punsubscribe(srv_exec *x)
{
    unsubscribe_kind(x, SRV_PS_PAT);
}

static void cmd_sunsubscribe(srv_exec *x)
{
    unsubscribe_kind(x, SRV_PS_SHARD);
}

static void cmd_publish(srv_exec *x)
{
    cmd_ctx *c = x->c;
    resp_int(c->w, srv_ps_publish(x->w, false, &c->argv[1], &c->argv[2]));
}

static void cmd_spublish(srv_exec *x)
{
    cmd_ctx *c = x->c;
    resp_int(c->w, srv_ps_publish(x->w, true, &c->argv[1], &c->argv[2]));
}

static void pubsub_help(srv_exec *x)
{
    static const char *const lines[] = {
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> "
        "(default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, "
        "excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a "
        "<pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level "
        "channel(s)",
        "HELP",
        "    Prints this help.",
    };
    resp_array(x->c->w, sizeof(lines) / sizeof(lines[0]));
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        resp_simple(x->c->w, lines[i]);
}

/* Redis's addReplySubcommandSyntaxError: the subcommand as typed. */
static void syntax_error(srv_exec *x)
{
    const resp_arg *s = &x->c->argv[1];
    resp_errorf(x->c->w,
                "ERR unknown subcommand or wrong number of arguments for "
                "'%.*s'. Try PUBSUB HELP.",
                (int)(s->len > 128 ? 128 : s->len), s->ptr);
}

static void cmd_pubsub(srv_exec *x)
{
    cmd_ctx *c = x->c;
    const resp_arg *sub = &c->argv[1];
    bool shard = false;
    if (srv_arg_is(sub, "channels") ||
        (shard = srv_arg_is(sub, "shardchannels"))) {
        if (c->argc > 3) {
            syntax_error(x);
            return;
        }
        srv_ps_reply_channels(x->srv, shard, c->argc == 3 ? &c->argv[2] : NULL,
                              c->w);
    } else if (srv_arg_is(sub, "numsub") ||
               (shard = srv_arg_is(sub, "shardnumsub"))) {
        srv_ps_reply_numsub(x->srv, shard, c->argv + 2, c->argc - 2, c->w);
    } else if (srv_arg_is(sub, "numpat")) {
        resp_int(c->w, (int64_t)srv_ps_total(x->srv, SRV_PS_PAT));
    } else if (srv_arg_is(sub, "help")) {
        pubsub_help(x);
    } else {
        srv_reply_unknown_sub(x, "PUBSUB");
    }
}

#define PS_FLAGS (CMD_PUBSUB | CMD_LOADING | CMD_STALE)
#define PS_CMD(n, ar, fl, fk, lk, ks, fn, sfl, sum, since)                     \
    {                                                                          \
        {n, ar, fl, fk, lk, ks, CMD_SPLIT_NONE, NULL, "pubsub", sum, since},   \
            fn, sfl, NULL                                                      \
    }

static const srv_subcmd subs[] = {
    {"channels", -2, PS_FLAGS, 0, "Returns the active channels."},
    {"numpat", 2, PS_FLAGS, 0,
     "Returns a count of unique pattern "
     "subscriptions."},
    {"numsub", -2, PS_FLAGS, 0,
     "Returns a count of subscribers to "
     "channels."},
    {"shardchannels", -2, PS_FLAGS, 0, "Returns the active shard channels."},
    {"shardnumsub", -2, PS_FLAGS, 0,
     "Returns the count of subscribers of "
     "shard channels."},
    {"help", 2, CMD_LOADING | CMD_STALE, 0,
     "Returns helpful text about the different subcommands."},
    {NULL, 0, 0, 0, NULL},
};

static const srv_cmd cmds[] = {
    PS_CMD("subscribe", -2, PS_FLAGS | CMD_NOSCRIPT, 0, 0, 0, cmd_subscribe, 0,
           "Listens for messages published to channels.", "2.0.0"),
    PS_CMD("unsubscribe", -1, PS_FLAGS | CMD_NOSCRIPT, 0, 0, 0, cmd_unsubscribe,
           0,
           "Stops listening to messages posted to "
           "channels.",
           "2.0.0"),
    PS_CMD("psubscribe", -2, PS_FLAGS | CMD_NOSCRIPT, 0, 0, 0, cmd_psubscribe,
           0,
           "Listens for messages published to channels that match one "
           "or more patterns.",
           "2.0.0"),
    PS_CMD("punsubscribe", -1, PS_FLAGS | CMD_NOSCRIPT, 0, 0, 0,
           cmd_punsubscribe, 0,
           "Stops listening to messages published to "
           "channels that match one or more "
           "patterns.",
           "2.0.0"),
    PS_CMD("publish", 3, PS_FLAGS | CMD_FAST, 0, 0, 0, cmd_publish, 0,
           "Posts a message to a channel.", "2.0.0"),
    PS_CMD("ssubscribe", -2, PS_FLAGS | CMD_NOSCRIPT, 1, -1, 1, cmd_ssubscribe,
           SRV_CMD_NOTKEY, "Listens for messages published to shard channels.",
           "7.0.0"),
    PS_CMD("sunsubscribe", -1, PS_FLAGS | CMD_NOSCRIPT, 1, -1, 1,
           cmd_sunsubscribe, SRV_CMD_NOTKEY,
           "Stops listening to messages posted to shard channels.", "7.0.0"),
    PS_CMD("spublish", 3, PS_FLAGS | CMD_FAST, 1, 1, 1, cmd_spublish,
           SRV_CMD_NOTKEY, "Post a message to a shard channel", "7.0.0"),
    {{"pubsub", -2, 0, 0, 0, 0, CMD_SPLIT_NONE, NULL, "pubsub",
      "A container for Pub/Sub commands.", "2.8.0"},
     cmd_pubsub,
     0,
     subs},
};

const srv_cmd *srv_cmds_pubsub(size_t *n)
{
    *n = sizeof(cmds) / sizeof(cmds[0]);
    return cmds;
}
