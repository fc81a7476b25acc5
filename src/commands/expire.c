/*
 * expire.c — TTL commands: EXPIRE PEXPIRE EXPIREAT PEXPIREAT (with NX XX
 * GT LT), TTL PTTL EXPIRETIME PEXPIRETIME, PERSIST.
 *
 * Redis reasons in Unix milliseconds; the engine in monotonic ones. The
 * conditions (GT, LT, already expired) are evaluated in Unix time, as
 * Redis does, and only the final time is converted (cmd_unix_to_mono).
 */
#include "commands/cmd_fns.h"
#include "commands/cmd_util.h"

enum { EXP_NX = 1, EXP_XX = 2, EXP_GT = 4, EXP_LT = 8 };

/* Redis's parseExtendedExpireArgumentsOrReply. */
static bool expire_flags(cmd_ctx *c, unsigned *flags)
{
    for (size_t i = 3; i < c->argc; i++) {
        const resp_arg *a = &c->argv[i];
        if (cmd_arg_is(a, "nx")) {
            *flags |= EXP_NX;
        } else if (cmd_arg_is(a, "xx")) {
            *flags |= EXP_XX;
        } else if (cmd_arg_is(a, "gt")) {
            *flags |= EXP_GT;
        } else if (cmd_arg_is(a, "lt")) {
            *flags |= EXP_LT;
        } else {
            resp_errorf(c->w, "ERR Unsupported option %.*s", (int)a->len,
                        a->ptr);
            return false;
        }
    }
    if ((*flags & EXP_NX) && (*flags & (EXP_XX | EXP_GT | EXP_LT))) {
        resp_error(c->w, "ERR NX and XX, GT or LT options at the same time "
                         "are not compatible");
        return false;
    }
    if ((*flags & EXP_GT) && (*flags & EXP_LT)) {
        resp_error(c->w,
                   "ERR GT and LT options at the same time are not compatible");
        return false;
    }
    return true;
}

/* Whether the NX/XX/GT/LT condition lets the new time `when` (Unix ms)
 * replace the current one (cur: Unix ms, or -1 for none). */
static bool expire_allowed(unsigned flags, int64_t cur, int64_t when)
{
    if ((flags & EXP_NX) && cur != -1)
        return false;
    if ((flags & EXP_XX) && cur == -1)
        return false;
    /* No TTL counts as an infinite one: never less than, never exceeded. */
    if ((flags & EXP_GT) && (cur == -1 || when <= cur))
        return false;
    if ((flags & EXP_LT) && cur != -1 && when >= cur)
        return false;
    return true;
}

/* Redis's expireGenericCommand. basetime: Unix ms added to the argument
 * (now for EXPIRE/PEXPIRE, 0 for the AT forms). */
static void expire_generic(cmd_ctx *c, bool relative, bool secs,
                           const char *name)
{
    unsigned flags = 0;
    int64_t when;
    if (!expire_flags(c, &flags) || !cmd_arg_ll(c, 2, &when))
        return;
    cmd_now(c);
    int64_t base = relative ? cmd_unix_now(c) : 0;
    if (secs && (when > INT64_MAX / 1000 || when < INT64_MIN / 1000)) {
        cmd_reply_bad_expire(c, name);
        return;
    }
    if (secs)
        when *= 1000;
    if (when > INT64_MAX - base) {
        cmd_reply_bad_expire(c, name);
        return;
    }
    when += base;
    cmd_key k = cmd_key_at(c, 1);
    eng_entry *e = cmd_key_get(c, &k);
    if (!e) {
        resp_int(c->w, 0);
        return;
    }
    int64_t at = eng_entry_expire_at(e);
    int64_t cur = at ? cmd_mono_to_unix(c, at) : -1;
    if (flags && !expire_allowed(flags, cur, when)) {
        resp_int(c->w, 0);
        return;
    }
    int rc = FC_OK;
    if (when <= cmd_unix_now(c))
        eng_del(k.sh, k.h, k.p, k.n, c->now, NULL);
    else
        rc = eng_set_expire(k.sh, k.h, k.p, k.n, cmd_unix_to_mono(c, when),
                            c->now);
    if (rc == FC_OK)
        resp_int(c->w, 1);
    else
        cmd_reply_fc_error(c, rc);
}

void cmd_expire(cmd_ctx *c)
{
    expire_generic(c, true, true, "expire");
}

void cmd_pexpire(cmd_ctx *c)
{
    expire_generic(c, true, false, "pexpire");
}

void cmd_expireat(cmd_ctx *c)
{
    expire_generic(c, false, true, "expireat");
}

void cmd_pexpireat(cmd_ctx *c)
{
    expire_generic(c, false, false, "pexpireat");
}

/* Redis's ttlGenericCommand: -2 no key, -1 no TTL; seconds are rounded
 * to the nearest ((ms + 500) / 1000). */
static void ttl_generic(cmd_ctx *c, bool ms, bool absolute)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_entry *e = cmd_key_get(c, &k);
    if (!e) {
        resp_int(c->w, -2);
        return;
    }
    int64_t at = eng_entry_expire_at(e);
    if (at == 0) {
        resp_int(c->w, -1);
        return;
    }
    int64_t t = absolute ? cmd_mono_to_unix(c, at) : at - cmd_now(c);
    if (t < 0)
        t = 0;
    /* (t + 500) / 1000 without overflowing near INT64_MAX. */
    resp_int(c->w, ms ? t : t / 1000 + (t % 1000 + 500) / 1000);
}

void cmd_ttl(cmd_ctx *c)
{
    ttl_generic(c, false, false);
}

void cmd_pttl(cmd_ctx *c)
{
    ttl_generic(c, true, false);
}

void cmd_expiretime(cmd_ctx *c)
{
    ttl_generic(c, false, true);
}

void cmd_pexpiretime(cmd_ctx *c)
{
    ttl_generic(c, true, true);
}

void cmd_persist(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_entry *e = cmd_key_get(c, &k);
    if (!e || eng_entry_expire_at(e) == 0) {
        resp_int(c->w, 0);
        return;
    }
    int rc = eng_set_expire(k.sh, k.h, k.p, k.n, 0, c->now);
    if (rc == FC_OK)
        resp_int(c->w, 1);
    else
        cmd_reply_fc_error(c, rc);
}
