/*
 * t_string.c — GET, SET and its variants (SETNX SETEX PSETEX GETEX GETDEL
 * GETSET), MGET, MSET, MSETNX.
 *
 * GET and plain SET are the hot path: one hash, one engine call, no
 * allocation; options are only parsed when there are any.
 */
#include "commands/cmd_fns.h"
#include "commands/cmd_util.h"

/* SET/GETEX option bits (Redis's OBJ_SET_* / OBJ_EX ... flags). */
enum {
    O_NX = 1u << 0,
    O_XX = 1u << 1,
    O_GET = 1u << 2,
    O_KEEPTTL = 1u << 3,
    O_PERSIST = 1u << 4,
    O_EX = 1u << 5,
    O_PX = 1u << 6,
    O_EXAT = 1u << 7,
    O_PXAT = 1u << 8,
};
#define O_ANY_EXPIRE (O_EX | O_PX | O_EXAT | O_PXAT)

typedef struct opt_rule {
    const char *name;
    unsigned bit;
    unsigned conflicts; /* options that make this one a syntax error */
    bool for_set, for_getex, takes_arg;
} opt_rule;

/* Redis's parseExtendedStringArgumentsOrReply, as a table: an option that
 * conflicts with one already seen is a syntax error; repeating one is not. */
static const opt_rule opt_rules[] = {
    {"nx", O_NX, O_XX, true, false, false},
    {"xx", O_XX, O_NX, true, false, false},
    {"get", O_GET, 0, true, false, false},
    {"keepttl", O_KEEPTTL, O_PERSIST | O_ANY_EXPIRE, true, false, false},
    {"persist", O_PERSIST, O_KEEPTTL | O_ANY_EXPIRE, false, true, false},
    {"ex", O_EX, O_KEEPTTL | O_PERSIST | (O_ANY_EXPIRE & ~O_EX), true, true,
     true},
    {"px", O_PX, O_KEEPTTL | O_PERSIST | (O_ANY_EXPIRE & ~O_PX), true, true,
     true},
    {"exat", O_EXAT, O_KEEPTTL | O_PERSIST | (O_ANY_EXPIRE & ~O_EXAT), true,
     true, true},
    {"pxat", O_PXAT, O_KEEPTTL | O_PERSIST | (O_ANY_EXPIRE & ~O_PXAT), true,
     true, true},
};

/* Parses options from argv[j]; *exp_arg gets the index of the expire
 * argument. Replies a syntax error and returns false on a bad option. */
static bool parse_opts(cmd_ctx *c, size_t j, bool is_set, unsigned *flags,
                       size_t *exp_arg)
{
    for (; j < c->argc; j++) {
        const opt_rule *r = NULL;
        for (size_t i = 0; i < sizeof(opt_rules) / sizeof(opt_rules[0]); i++) {
            if (cmd_arg_is(&c->argv[j], opt_rules[i].name)) {
                r = &opt_rules[i];
                break;
            }
        }
        bool ok = r && (is_set ? r->for_set : r->for_getex) &&
                  !(*flags & r->conflicts) &&
                  (!r->takes_arg || j + 1 < c->argc);
        if (!ok) {
            resp_error(c->w, CMD_ERR_SYNTAX);
            return false;
        }
        *flags |= r->bit;
        if (r->takes_arg)
            *exp_arg = ++j;
    }
    return true;
}

/* Redis's getExpireMillisecondsOrReply, ending in an engine expiry time
 * (absolute monotonic ms, never 0). */
static bool expire_or_reply(cmd_ctx *c, const char *name, unsigned flags,
                            size_t arg, int64_t *expire_at)
{
    int64_t ms;
    if (!cmd_arg_ll(c, arg, &ms))
        return false;
    bool secs = flags & (O_EX | O_EXAT);
    if (ms <= 0 || (secs && ms > INT64_MAX / 1000))
        goto bad;
    if (secs)
        ms *= 1000;
    if ((flags & (O_EX | O_PX)) &&
        __builtin_add_overflow(ms, cmd_unix_now(c), &ms))
        goto bad;
    cmd_now(c);
    *expire_at = cmd_unix_to_mono(c, ms);
    return true;
bad:
    cmd_reply_bad_expire(c, name);
    return false;
}

void cmd_get(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_entry *e = cmd_key_get(c, &k);
    if (!e)
        resp_null(c->w);
    else if (cmd_check_string(c, e))
        cmd_reply_value(c, e);
}

static unsigned eng_flags(unsigned o)
{
    return (o & O_NX ? ENG_SET_NX : 0) | (o & O_XX ? ENG_SET_XX : 0) |
           (o & O_KEEPTTL ? ENG_SET_KEEPTTL : 0);
}

/* SET with GET, or with an absolute expiry already past (Redis stores the
 * key and it is gone at once: we delete instead). The NX/XX condition is
 * checked here, on the lookup the GET needs anyway. */
static void set_slow(cmd_ctx *c, const cmd_key *k, const resp_arg *v,
                     unsigned fl, int64_t expire_at)
{
    bool get = fl & O_GET;
    eng_entry *e = cmd_key_get(c, k);
    if (e && get && !cmd_check_string(c, e))
        return;
    if ((fl & O_NX && e) || (fl & O_XX && !e)) {
        if (get && e)
            cmd_reply_value(c, e);
        else
            resp_null(c->w);
        return;
    }
    if (expire_at && expire_at <= cmd_now(c)) {
        if (!get)
            resp_ok(c->w);
        else if (e)
            cmd_reply_value(c, e);
        else
            resp_null(c->w);
        if (e)
            eng_del(k->sh, k->h, k->p, k->n, c->now, NULL);
        return;
    }
    eng_entry *old = NULL;
    int rc = eng_set(k->sh, k->h, k->p, k->n, v->ptr, v->len, expire_at,
                     fl & O_KEEPTTL ? ENG_SET_KEEPTTL : 0, c->now,
                     get ? &old : NULL, NULL);
    if (rc != FC_OK)
        cmd_reply_fc_error(c, rc);
    else if (!get)
        resp_ok(c->w);
    else if (old)
        cmd_reply_value(c, old);
    else
        resp_null(c->w);
    if (old)
        eng_entry_free(k->sh, old);
}

static void set_generic(cmd_ctx *c, const resp_arg *v, unsigned fl,
                        int64_t expire_at)
{
    cmd_key k = cmd_key_at(c, 1);
    if ((fl & O_GET) || (expire_at && expire_at <= c->now)) {
        set_slow(c, &k, v, fl, expire_at);
        return;
    }
    int rc = eng_set(k.sh, k.h, k.p, k.n, v->ptr, v->len, expire_at,
                     eng_flags(fl), c->now, NULL, NULL);
    if (rc == FC_OK)
        resp_ok(c->w);
    else if (rc == FC_EEXISTS || rc == FC_ENOTSET)
        resp_null(c->w);
    else
        cmd_reply_fc_error(c, rc);
}

void cmd_set(cmd_ctx *c)
{
    unsigned fl = 0;
    size_t exp_arg = 0;
    int64_t expire_at = 0;
    if (c->argc > 3) {
        if (!parse_opts(c, 3, true, &fl, &exp_arg))
            return;
        if ((fl & O_ANY_EXPIRE) &&
            !expire_or_reply(c, "set", fl, exp_arg, &expire_at))
            return;
    }
    set_generic(c, &c->argv[2], fl, expire_at);
}

void cmd_setnx(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    const resp_arg *v = &c->argv[2];
    int rc = eng_set(k.sh, k.h, k.p, k.n, v->ptr, v->len, 0, ENG_SET_NX, c->now,
                     NULL, NULL);
    if (rc == FC_OK)
        resp_int(c->w, 1);
    else if (rc == FC_EEXISTS)
        resp_int(c->w, 0);
    else
        cmd_reply_fc_error(c, rc);
}

static void setex_generic(cmd_ctx *c, unsigned unit, const char *name)
{
    int64_t expire_at;
    if (expire_or_reply(c, name, unit, 2, &expire_at))
        set_generic(c, &c->argv[3], 0, expire_at);
}

void cmd_setex(cmd_ctx *c)
{
    setex_generic(c, O_EX, "setex");
}

void cmd_psetex(cmd_ctx *c)
{
    setex_generic(c, O_PX, "psetex");
}

void cmd_getex(cmd_ctx *c)
{
    unsigned fl = 0;
    size_t exp_arg = 0;
    int64_t expire_at = 0;
    if (!parse_opts(c, 2, false, &fl, &exp_arg))
        return;
    cmd_key k = cmd_key_at(c, 1);
    eng_entry *e = cmd_key_get(c, &k);
    if (!e) {
        resp_null(c->w);
        return;
    }
    /* Redis validates the time only once the key is known to exist. */
    if (!cmd_check_string(c, e) ||
        ((fl & O_ANY_EXPIRE) &&
         !expire_or_reply(c, "getex", fl, exp_arg, &expire_at)))
        return;
    if (expire_at && expire_at <= c->now) {
        /* A past EXAT/PXAT: answer the value, then the key goes. */
        cmd_reply_value(c, e);
        eng_del(k.sh, k.h, k.p, k.n, c->now, NULL);
        return;
    }
    if (expire_at || ((fl & O_PERSIST) && eng_entry_expire_at(e) != 0)) {
        /* Changing the TTL may fail (OOM) or move the entry: change it
         * first, then answer from a fresh lookup. */
        int rc = eng_set_expire(k.sh, k.h, k.p, k.n, expire_at, c->now);
        if (rc != FC_OK || !(e = cmd_key_get(c, &k))) {
            cmd_reply_fc_error(c, rc != FC_OK ? rc : FC_ENOTFOUND);
            return;
        }
    }
    cmd_reply_value(c, e);
}

void cmd_getdel(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_entry *e = cmd_key_get(c, &k);
    if (!e) {
        resp_null(c->w);
        return;
    }
    if (!cmd_check_string(c, e))
        return;
    cmd_reply_value(c, e);
    eng_del(k.sh, k.h, k.p, k.n, c->now, NULL);
}

void cmd_getset(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    set_slow(c, &k, &c->argv[2], O_GET, 0);
}

void cmd_mget(cmd_ctx *c)
{
    resp_array(c->w, c->argc - 1);
    for (size_t i = 1; i < c->argc; i++) {
        cmd_key k = cmd_key_at(c, i);
        eng_entry *e = cmd_key_get(c, &k);
        /* MGET answers nil for a key of another type, never an error. */
        if (e && eng_entry_type(e) == ENG_TYPE_STRING)
            cmd_reply_value(c, e);
        else
            resp_null(c->w);
    }
}

/* Sets every pair from argv[1]; false (error replied) on failure. */
static bool mset_all(cmd_ctx *c)
{
    for (size_t i = 1; i + 1 < c->argc; i += 2) {
        cmd_key k = cmd_key_at(c, i);
        const resp_arg *v = &c->argv[i + 1];
        int rc = eng_set(k.sh, k.h, k.p, k.n, v->ptr, v->len, 0, 0, c->now,
                         NULL, NULL);
        if (rc != FC_OK) {
            cmd_reply_fc_error(c, rc);
            return false;
        }
    }
    return true;
}

void cmd_mset(cmd_ctx *c)
{
    if (c->argc % 2 == 0) {
        cmd_reply_arity(c, "mset");
        return;
    }
    if (mset_all(c))
        resp_ok(c->w);
}

void cmd_msetnx(cmd_ctx *c)
{
    if (c->argc % 2 == 0) {
        cmd_reply_arity(c, "msetnx");
        return;
    }
    for (size_t i = 1; i < c->argc; i += 2) {
        cmd_key k = cmd_key_at(c, i);
        if (cmd_key_get(c, &k)) {
            resp_int(c->w, 0);
            return;
        }
    }
    if (mset_all(c))
        resp_int(c->w, 1);
}
