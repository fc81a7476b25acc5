#include "commands/cmd_util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Redis's MAX_LONG_DOUBLE_CHARS: longer float arguments are rejected. */
#define LD_MAX_CHARS (5 * 1024)

int64_t cmd_unix_to_mono(const cmd_ctx *c, int64_t unix_ms)
{
    int64_t mono;
    if (__builtin_sub_overflow(unix_ms, c->wall_offset_ms, &mono))
        mono = unix_ms < 0 ? 1 : INT64_MAX;
    return mono < 1 ? 1 : mono;
}

int64_t cmd_mono_to_unix(const cmd_ctx *c, int64_t mono_ms)
{
    int64_t unix_ms;
    if (__builtin_add_overflow(mono_ms, c->wall_offset_ms, &unix_ms))
        unix_ms = c->wall_offset_ms < 0 ? INT64_MIN : INT64_MAX;
    return unix_ms;
}

bool cmd_arg_is_n(const resp_arg *a, const char *lower, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)a->ptr[i]) != lower[i])
            return false;
    return true;
}

bool cmd_parse_ld(const char *p, size_t n, long double *out)
{
    char buf[LD_MAX_CHARS];
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, p, n);
    buf[n] = '\0';
    if (isspace((unsigned char)buf[0]))
        return false;
    char *end;
    errno = 0;
    long double v = strtold(buf, &end);
    /* Stricter than Redis only for embedded NULs, which it would accept up
     * to the NUL. */
    if (end != buf + n || isnan(v))
        return false;
    if (errno == ERANGE &&
        (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO))
        return false;
    if (errno == EINVAL)
        return false;
    *out = v;
    return true;
}

bool cmd_arg_ll(cmd_ctx *c, size_t i, int64_t *out)
{
    if (cmd_parse_ll(c->argv[i].ptr, c->argv[i].len, out))
        return true;
    resp_error(c->w, CMD_ERR_NOTINT);
    return false;
}

bool cmd_check_string(cmd_ctx *c, const eng_entry *e)
{
    if (eng_entry_type(e) == ENG_TYPE_STRING)
        return true;
    resp_error(c->w, CMD_ERR_WRONGTYPE);
    return false;
}

void cmd_reply_value(cmd_ctx *c, const eng_entry *e)
{
    size_t n;
    const uint8_t *v = eng_entry_value(e, &n);
    resp_bulk(c->w, v, n);
}

void cmd_reply_fc_error(cmd_ctx *c, int rc)
{
    switch (rc) {
    case FC_EWRONGTYPE:
        resp_error(c->w, CMD_ERR_WRONGTYPE);
        break;
    case FC_ETOOBIG:
        resp_error(c->w, CMD_ERR_TOOBIG);
        break;
    case FC_ENOTINT:
        resp_error(c->w, CMD_ERR_NOTINT);
        break;
    case FC_EOVERFLOW:
        resp_error(c->w, CMD_ERR_OVERFLOW);
        break;
    case FC_ENOMEM:
        resp_error(c->w, CMD_ERR_OOM);
        break;
    default:
        resp_errorf(c->w, "ERR %s", fc_strerror(rc));
        break;
    }
}

void cmd_reply_arity(cmd_ctx *c, const char *name)
{
    resp_errorf(c->w, "ERR wrong number of arguments for '%s' command", name);
}

void cmd_reply_bad_expire(cmd_ctx *c, const char *name)
{
    resp_errorf(c->w, "ERR invalid expire time in '%s' command", name);
}

const char *cmd_type_name(enum eng_type t)
{
    switch (t) {
    case ENG_TYPE_STRING:
        return "string";
    case ENG_TYPE_HASH:
        return "hash";
    case ENG_TYPE_LIST:
        return "list";
    case ENG_TYPE_SET:
        return "set";
    case ENG_TYPE_ZSET:
        return "zset";
    }
    return "none";
}

/* Redis's getTimeoutFromObjectOrReply in seconds: ms from now, 0 =
 * forever. */
bool cmd_arg_timeout(cmd_ctx *c, size_t i, int64_t *ms)
{
    long double v;
    if (!cmd_parse_ld(c->argv[i].ptr, c->argv[i].len, &v)) {
        resp_error(c->w, "ERR timeout is not a float or out of range");
        return false;
    }
    long double t = v * 1000.0L;
    if (t < 0 || isnan((double)t)) {
        if (t <= -1.0L || isnan((double)t) || isinf((double)t)) {
            resp_error(c->w, "ERR timeout is negative");
            return false;
        }
        t = 0; /* (long long) of (-1, 0) is 0: forever, as Redis */
    }
    if (t >= 9.2e18L) {
        resp_error(c->w, "ERR timeout is out of range");
        return false;
    }
    *ms = (int64_t)t;
    return true;
}
