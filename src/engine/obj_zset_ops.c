/*
 * obj_zset_ops.c — the sorted set's type ops (obj.h): the serialized form
 * (docs/FORMATS.md "Sorted sets"), its validating loader, dup, and the
 * replay of op records through the same engine calls the commands make
 * (obj_zset.h).
 *
 * Serialized: varint count, then count x (varint member length, member,
 * 8-byte little-endian IEEE double score), in ascending order. The loader
 * insists on strictly ascending (score, member) order, which both rejects
 * duplicates and lets a loaded value be trusted as sorted.
 */
#include <math.h>
#include <string.h>

#include "engine/obj_zset.h"
#include "engine/pack.h"
#include "fastcache.h"

static void put_f64(fc_buf *b, double d)
{
    uint8_t tmp[8];
    uint64_t u;
    memcpy(&u, &d, 8);
    for (int i = 0; i < 8; i++)
        tmp[i] = (uint8_t)(u >> (8 * i));
    fc_buf_append(b, tmp, 8);
}

static double get_f64(const uint8_t *p)
{
    uint64_t u = 0;
    double d;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)p[i] << (8 * i);
    memcpy(&d, &u, 8);
    return d;
}

static void zset_serialize(const eng_obj *o, fc_buf *out)
{
    zs_iter it;
    const char *m;
    size_t n;
    double s;
    pk_varint_append(out, zs_len(o));
    zs_iter_init(&it, o, 0, false);
    while (zs_iter_next(&it, &m, &n, &s)) {
        pk_varint_append(out, n);
        fc_buf_append(out, m, n);
        put_f64(out, s);
    }
    zs_iter_done(&it);
}

static int zset_load(const uint8_t *p, size_t n, eng_obj **out)
{
    const uint8_t *end = p + n;
    size_t count;
    *out = NULL;
    if (!pk_varint_take(&p, end, &count) || count > n / 9)
        return FC_EINVAL; /* every element takes >= 9 bytes */
    eng_obj *o = zs_new();
    if (!o)
        return FC_ENOMEM;
    const uint8_t *pm = NULL;
    size_t pn = 0;
    double ps = 0;
    int rc = FC_OK;
    for (size_t i = 0; i < count; i++) {
        size_t len;
        if (!pk_varint_take(&p, end, &len) || len > (size_t)(end - p) ||
            (size_t)(end - p) - len < 8 || len > UINT32_MAX) {
            rc = FC_EINVAL;
            break;
        }
        const uint8_t *m = p;
        double s = get_f64(p + len);
        p += len + 8;
        if (isnan(s) || (i > 0 && zs_cmp_key(ps, pm, pn, s, m, len) >= 0)) {
            rc = FC_EINVAL;
            break;
        }
        unsigned res;
        double ns;
        if ((rc = zs_add(o, m, len, s, 0, &res, &ns)) != FC_OK)
            break;
        pm = m, pn = len, ps = s;
    }
    if (rc == FC_OK && p != end)
        rc = FC_EINVAL;
    if (rc != FC_OK) {
        zs_free(o);
        return rc;
    }
    *out = o;
    return FC_OK;
}

static eng_obj *zset_dup(const eng_obj *src)
{
    eng_obj *o = zs_new();
    zs_iter it;
    const char *m;
    size_t n;
    double s;
    if (!o)
        return NULL;
    zs_iter_init(&it, src, 0, false);
    while (zs_iter_next(&it, &m, &n, &s)) {
        unsigned res;
        double ns;
        if (zs_add(o, m, n, s, 0, &res, &ns) != FC_OK) {
            zs_iter_done(&it);
            zs_free(o);
            return NULL;
        }
    }
    zs_iter_done(&it);
    return o;
}

/* Checks a whole record before any of it is applied. */
static bool valid_args(eng_op_reader r, unsigned code)
{
    const uint8_t *p;
    size_t n;
    double s;
    if (r.left == 0 || (code == ZOP_ADD && r.left % 2))
        return false;
    while (r.left) {
        if (code == ZOP_ADD && !eng_op_next_f64(&r, &s))
            return false;
        if (!eng_op_next(&r, &p, &n) || n > UINT32_MAX)
            return false;
    }
    return r.p == r.end;
}

static int zset_apply(eng_obj *o, unsigned code, eng_op_reader *r)
{
    const uint8_t *p;
    size_t n;
    double s;
    if ((code != ZOP_ADD && code != ZOP_REM) || !valid_args(*r, code))
        return FC_EINVAL;
    while (r->left) {
        if (code == ZOP_ADD) {
            unsigned res;
            double ns;
            eng_op_next_f64(r, &s);
            eng_op_next(r, &p, &n);
            int rc = zs_add(o, p, n, s, 0, &res, &ns);
            if (rc != FC_OK)
                return rc;
        } else {
            eng_op_next(r, &p, &n);
            zs_del(o, p, n);
        }
    }
    return FC_OK;
}

const eng_type_ops eng_zset_ops = {
    .name = "zset",
    .create = zs_new,
    .free = zs_free,
    .len = zs_len,
    .encoding = zs_encoding,
    .serialize = zset_serialize,
    .load = zset_load,
    .dup = zset_dup,
    .apply = zset_apply,
};
