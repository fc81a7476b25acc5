/*
 * t_string_ops.c — commands that read or edit part of a string value:
 * APPEND STRLEN GETRANGE/SUBSTR SETRANGE and the counters INCR DECR INCRBY
 * DECRBY INCRBYFLOAT.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "commands/cmd_fns.h"
#include "commands/cmd_util.h"

/* Redis's MAX_LONG_DOUBLE_CHARS: room for any "%.17Lf" of a long double. */
#define LD_BUF (5 * 1024)

/* Redis's checkStringLength: false (error replied) when the string would
 * outgrow proto-max-bulk-len. */
static bool length_ok(cmd_ctx *c, int64_t cur, int64_t add)
{
    int64_t total;
    if (!__builtin_add_overflow(cur, add, &total) && total <= CMD_MAX_STRING)
        return true;
    resp_error(c->w, CMD_ERR_TOOBIG);
    return false;
}

void cmd_append(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    const resp_arg *v = &c->argv[2];
    eng_entry *e = cmd_key_get(c, &k);
    if (e) {
        size_t cur;
        if (!cmd_check_string(c, e))
            return;
        eng_entry_value(e, &cur);
        if (!length_ok(c, (int64_t)cur, (int64_t)v->len))
            return;
    }
    size_t len;
    int rc = eng_append(k.sh, k.h, k.p, k.n, v->ptr, v->len, c->now, &len);
    if (rc == FC_OK)
        resp_int(c->w, (int64_t)len);
    else
        cmd_reply_fc_error(c, rc);
}

void cmd_strlen(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_entry *e = cmd_key_get(c, &k);
    size_t len = 0;
    if (e && !cmd_check_string(c, e))
        return;
    if (e)
        eng_entry_value(e, &len);
    resp_int(c->w, (int64_t)len);
}

void cmd_getrange(cmd_ctx *c)
{
    int64_t start, end;
    if (!cmd_arg_ll(c, 2, &start) || !cmd_arg_ll(c, 3, &end))
        return;
    cmd_key k = cmd_key_at(c, 1);
    eng_entry *e = cmd_key_get(c, &k);
    if (!e) {
        resp_bulk(c->w, "", 0);
        return;
    }
    if (!cmd_check_string(c, e))
        return;
    size_t n;
    const uint8_t *s = eng_entry_value(e, &n);
    int64_t len = (int64_t)n;
    if (start < 0 && end < 0 && start > end) {
        resp_bulk(c->w, "", 0);
        return;
    }
    if (start < 0)
        start += len;
    if (end < 0)
        end += len;
    if (start < 0)
        start = 0;
    if (end < 0)
        end = 0;
    if (end >= len)
        end = len - 1;
    if (start > end || len == 0)
        resp_bulk(c->w, "", 0);
    else
        resp_bulk(c->w, s + start, (size_t)(end - start + 1));
}

void cmd_setrange(cmd_ctx *c)
{
    int64_t off;
    if (!cmd_arg_ll(c, 2, &off))
        return;
    if (off < 0) {
        resp_error(c->w, CMD_ERR_OFFSET);
        return;
    }
    cmd_key k = cmd_key_at(c, 1);
    const resp_arg *v = &c->argv[3];
    eng_entry *e = cmd_key_get(c, &k);
    size_t len = 0;
    if (e) {
        if (!cmd_check_string(c, e))
            return;
        eng_entry_value(e, &len);
    }
    /* Writing nothing changes nothing: reply the current length. */
    if (v->len == 0) {
        resp_int(c->w, (int64_t)len);
        return;
    }
    if (!length_ok(c, off, (int64_t)v->len))
        return;
    int rc = eng_setrange(k.sh, k.h, k.p, k.n, (size_t)off, v->ptr, v->len,
                          c->now, &len);
    if (rc == FC_OK)
        resp_int(c->w, (int64_t)len);
    else
        cmd_reply_fc_error(c, rc);
}

static void incr_by(cmd_ctx *c, int64_t delta)
{
    cmd_key k = cmd_key_at(c, 1);
    int64_t v;
    int rc = eng_incrby(k.sh, k.h, k.p, k.n, delta, c->now, &v);
    if (rc == FC_OK)
        resp_int(c->w, v);
    else
        cmd_reply_fc_error(c, rc);
}

void cmd_incr(cmd_ctx *c)
{
    incr_by(c, 1);
}

void cmd_decr(cmd_ctx *c)
{
    incr_by(c, -1);
}

void cmd_incrby(cmd_ctx *c)
{
    int64_t d;
    if (cmd_arg_ll(c, 2, &d))
        incr_by(c, d);
}

void cmd_decrby(cmd_ctx *c)
{
    int64_t d;
    if (!cmd_arg_ll(c, 2, &d))
        return;
    if (d == INT64_MIN) {
        resp_error(c->w, "ERR decrement would overflow");
        return;
    }
    incr_by(c, -d);
}

/* Redis's ld2string(LD_STR_HUMAN): "%.17Lf" without trailing zeros, and
 * "-0" written as "0". */
static size_t format_ld(char *buf, size_t cap, long double v)
{
    int l = snprintf(buf, cap, "%.17Lf", v);
    if (l < 0 || (size_t)l >= cap)
        return 0;
    if (memchr(buf, '.', (size_t)l)) {
        while (buf[l - 1] == '0')
            l--;
        if (buf[l - 1] == '.')
            l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        l = 1;
    }
    return (size_t)l;
}

void cmd_incrbyfloat(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_entry *e = cmd_key_get(c, &k);
    long double cur = 0, incr;
    if (e) {
        size_t n;
        if (!cmd_check_string(c, e))
            return;
        const uint8_t *s = eng_entry_value(e, &n);
        if (!cmd_parse_ld((const char *)s, n, &cur)) {
            resp_error(c->w, CMD_ERR_NOTFLOAT);
            return;
        }
    }
    if (!cmd_parse_ld(c->argv[2].ptr, c->argv[2].len, &incr)) {
        resp_error(c->w, CMD_ERR_NOTFLOAT);
        return;
    }
    cur += incr;
    if (isnan(cur) || isinf(cur)) {
        resp_error(c->w, "ERR increment would produce NaN or Infinity");
        return;
    }
    char buf[LD_BUF];
    size_t len = format_ld(buf, sizeof(buf), cur);
    if (len == 0) {
        resp_error(c->w, CMD_ERR_NOTFLOAT);
        return;
    }
    int rc = eng_set(k.sh, k.h, k.p, k.n, buf, len, 0, ENG_SET_KEEPTTL, c->now,
                     NULL, NULL);
    if (rc == FC_OK)
        resp_bulk(c->w, buf, len);
    else
        cmd_reply_fc_error(c, rc);
}
