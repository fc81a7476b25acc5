/*
 * t_coll.c — HSCAN/SSCAN argument rules and long-double formatting shared
 * by the hash and set commands (t_coll.h).
 */
#include "commands/t_coll.h"

#include <stdio.h>
#include <string.h>

#include "commands/cmd_fns.h"
#include "commands/cmd_util.h"

bool coll_scan_cursor(cmd_ctx *c, coll_scan *s)
{
    s->count = 10;
    s->match = NULL;
    if (!cmd_scan_cursor(&c->argv[2], &s->cursor)) {
        resp_error(c->w, "ERR invalid cursor");
        return false;
    }
    return true;
}

/* Redis's scanGenericCommand: COUNT below 1 is a syntax error, and a
 * key's scan takes no TYPE. */
bool coll_scan_opts(cmd_ctx *c, coll_scan *s)
{
    for (size_t i = 3; i < c->argc; i += 2) {
        if (i + 1 >= c->argc) {
            resp_error(c->w, CMD_ERR_SYNTAX);
            return false;
        }
        if (cmd_arg_is(&c->argv[i], "count")) {
            int64_t n;
            if (!cmd_arg_ll(c, i + 1, &n))
                return false;
            if (n < 1) {
                resp_error(c->w, CMD_ERR_SYNTAX);
                return false;
            }
            s->count = (size_t)n;
        } else if (cmd_arg_is(&c->argv[i], "match")) {
            s->match = &c->argv[i + 1];
        } else {
            resp_error(c->w, CMD_ERR_SYNTAX);
            return false;
        }
    }
    return true;
}

bool coll_scan_match(const coll_scan *s, const void *p, size_t n)
{
    if (!s->match)
        return true;
    /* Redis skips the matcher for the pattern "*". */
    if (s->match->len == 1 && s->match->ptr[0] == '*')
        return true;
    return cmd_glob_match(s->match->ptr, s->match->len, p, n, false);
}

void coll_reply_empty_scan(cmd_ctx *c)
{
    resp_array(c->w, 2);
    resp_bulk(c->w, "0", 1);
    resp_array(c->w, 0);
}

/* "%.17Lf" without trailing zeros, "-0" written as "0". */
size_t coll_format_ld(char *buf, size_t cap, long double v)
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
