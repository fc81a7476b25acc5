/*
 * t_geo.c — GEOADD, GEOPOS, GEODIST, GEOHASH, and the argument and reply
 * helpers of the geo family (t_geo_int.h).
 *
 * A geo value is a sorted set whose scores are 52-bit geohashes
 * (geohash.h): GEOADD is ZADD with the coordinates turned into scores, so
 * it is run as ZADD itself, and logs what ZADD logs (ZOP_ADD records of
 * (score, member)); the WAL and replicas replay it as a sorted set change.
 * The readers decode a member's score to its cell centre.
 *
 * Threads: the worker owning the key's shard (command.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/cmd_fns.h"
#include "commands/t_geo_int.h"
#include "commands/t_zset_int.h"

bool geo_arg_lonlat(cmd_ctx *c, size_t i, double xy[2])
{
    for (int j = 0; j < 2; j++)
        if (!zc_arg_double(c, i + (size_t)j, &xy[j], NULL))
            return false;
    if (xy[0] < GEO_LONG_MIN || xy[0] > GEO_LONG_MAX || xy[1] < GEO_LAT_MIN ||
        xy[1] > GEO_LAT_MAX) {
        resp_errorf(c->w, "ERR invalid longitude,latitude pair %f,%f", xy[0],
                    xy[1]);
        return false;
    }
    return true;
}

double geo_arg_unit(cmd_ctx *c, size_t i)
{
    const resp_arg *a = &c->argv[i];
    if (cmd_arg_is(a, "m"))
        return 1;
    if (cmd_arg_is(a, "km"))
        return 1000;
    if (cmd_arg_is(a, "ft"))
        return 0.3048;
    if (cmd_arg_is(a, "mi"))
        return 1609.34;
    resp_error(c->w, "ERR unsupported unit provided. please use M, KM, FT, MI");
    return -1;
}

void geo_reply_coord(cmd_ctx *c, double v)
{
    char buf[128];
    /* long double, as Redis prints it: the 80-bit value of the double
     * gives the same 17 decimals as Redis's on x86-64 */
    int k = snprintf(buf, sizeof(buf), "%.17Lf", (long double)v);
    size_t n = k > 0 && (size_t)k < sizeof(buf) ? (size_t)k : 0;
    if (memchr(buf, '.', n)) {
        while (n > 0 && buf[n - 1] == '0')
            n--;
        if (n > 0 && buf[n - 1] == '.')
            n--;
    }
    if (n == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        n = 1;
    }
    resp_double_text(c->w, buf, n);
}

void geo_reply_dist(cmd_ctx *c, double d)
{
    char buf[128];
    int k = snprintf(buf, sizeof(buf), "%.4f", d);
    resp_bulk(c->w, buf, k > 0 && (size_t)k < sizeof(buf) ? (size_t)k : 0);
}

#define GEOADD_LOCAL 16
/* Room for one score as decimal text: 2^54 has 17 digits. */
#define SCORE_TXT 24

void cmd_geoadd(cmd_ctx *c)
{
    bool nx = false, xx = false;
    size_t j = 2;
    for (; j < c->argc; j++) {
        const resp_arg *a = &c->argv[j];
        if (cmd_arg_is(a, "nx"))
            nx = true;
        else if (cmd_arg_is(a, "xx"))
            xx = true;
        else if (!cmd_arg_is(a, "ch"))
            break;
    }
    if ((c->argc - j) % 3 || (xx && nx)) {
        resp_error(c->w, CMD_ERR_SYNTAX);
        return;
    }
    size_t elems = (c->argc - j) / 3;
    /* ZADD key [options] score member ...: the options as given */
    size_t zargc = j + 2 * elems;
    resp_arg zlocal[2 + 3 + 2 * GEOADD_LOCAL];
    char tlocal[GEOADD_LOCAL][SCORE_TXT];
    bool small = elems <= GEOADD_LOCAL;
    resp_arg *zargv = small ? zlocal : malloc(zargc * sizeof(resp_arg));
    char(*txt)[SCORE_TXT] = small ? tlocal : malloc(elems * SCORE_TXT);
    if (!zargv || !txt) {
        resp_error(c->w, CMD_ERR_OOM);
        goto out;
    }
    memcpy(zargv, c->argv, j * sizeof(resp_arg));
    for (size_t i = 0; i < elems; i++) {
        double xy[2];
        geo_hash h;
        if (!geo_arg_lonlat(c, j + 3 * i, xy))
            goto out;
        geo_encode_wgs84(xy[0], xy[1], GEO_STEP_MAX, &h);
        int k = snprintf(txt[i], SCORE_TXT, "%llu",
                         (unsigned long long)geo_align52(h));
        zargv[j + 2 * i].ptr = txt[i];
        zargv[j + 2 * i].len = (size_t)k;
        zargv[j + 2 * i + 1] = c->argv[j + 3 * i + 2];
    }
    cmd_ctx z = *c;
    z.argv = zargv;
    z.argc = zargc;
    cmd_zadd(&z);
    c->now = z.now; /* ZADD may have read the clock */
out:
    if (zargv != zlocal)
        free(zargv);
    if (txt != tlocal)
        free(txt);
}

void cmd_geopos(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc = zc_get(c, &k, &o);
    if (rc == FC_EWRONGTYPE)
        return;
    resp_array(c->w, c->argc - 2);
    for (size_t i = 2; i < c->argc; i++) {
        double s, xy[2];
        if (rc != FC_OK || !zs_score(o, c->argv[i].ptr, c->argv[i].len, &s) ||
            !geo_decode_score(s, xy)) {
            resp_null_array(c->w);
            continue;
        }
        resp_array(c->w, 2);
        geo_reply_coord(c, xy[0]);
        geo_reply_coord(c, xy[1]);
    }
}

void cmd_geodist(cmd_ctx *c)
{
    double to_meter = 1;
    if (c->argc == 5) {
        to_meter = geo_arg_unit(c, 4);
        if (to_meter < 0)
            return;
    } else if (c->argc > 5) {
        resp_error(c->w, CMD_ERR_SYNTAX);
        return;
    }
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc = zc_get(c, &k, &o);
    if (rc == FC_EWRONGTYPE)
        return;
    double s1, s2, a[2], b[2];
    if (rc != FC_OK || !zs_score(o, c->argv[2].ptr, c->argv[2].len, &s1) ||
        !zs_score(o, c->argv[3].ptr, c->argv[3].len, &s2) ||
        !geo_decode_score(s1, a) || !geo_decode_score(s2, b)) {
        resp_null(c->w);
        return;
    }
    geo_reply_dist(c, geo_distance(a[0], a[1], b[0], b[1]) / to_meter);
}

void cmd_geohash(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_obj *o;
    int rc = zc_get(c, &k, &o);
    if (rc == FC_EWRONGTYPE)
        return;
    resp_array(c->w, c->argc - 2);
    for (size_t i = 2; i < c->argc; i++) {
        double s;
        char buf[12];
        if (rc == FC_OK && zs_score(o, c->argv[i].ptr, c->argv[i].len, &s) &&
            geo_hash_string(s, buf))
            resp_bulk(c->w, buf, 11);
        else
            resp_null(c->w);
    }
}
