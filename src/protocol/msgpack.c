/*
 * msgpack.c — the MessagePack subset of msgpack.h: big-endian fields, the
 * type byte's ranges as the spec lists them.
 */
#include "protocol/msgpack.h"

#include <string.h>

static uint64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static void put_be(fc_buf *b, unsigned char type, uint64_t v, int n)
{
    unsigned char tmp[9];
    tmp[0] = type;
    for (int i = 0; i < n; i++)
        tmp[1 + i] = (unsigned char)(v >> (8 * (n - 1 - i)));
    fc_buf_append(b, tmp, (size_t)n + 1);
}

/* The field of n bytes after the type byte, or MP_EMISSING. */
static int field(const unsigned char *p, size_t left, int n, uint64_t *v)
{
    if (left < (size_t)n + 1)
        return MP_EMISSING;
    *v = be(p + 1, n);
    return MP_OK;
}

static int str_of(const unsigned char *p, size_t left, int hdr, uint64_t n,
                  size_t *at, mp_item *out)
{
    if (left - (size_t)hdr < n)
        return MP_EMISSING;
    out->kind = MP_STR;
    out->s = (const char *)p + hdr;
    out->len = (size_t)n;
    *at += (size_t)hdr + (size_t)n;
    return MP_OK;
}

int mp_next(const void *buf, size_t len, size_t *at, mp_item *out)
{
    if (*at >= len)
        return MP_EMISSING;
    const unsigned char *p = (const unsigned char *)buf + *at;
    size_t left = len - *at;
    unsigned char t = p[0];
    uint64_t v = 0;
    int rc;
    memset(out, 0, sizeof(*out));
    if (t <= 0x7f || t >= 0xe0) {
        out->kind = MP_INT;
        out->i = t <= 0x7f ? t : (int64_t)(signed char)t;
        *at += 1;
        return MP_OK;
    }
    if ((t & 0xe0) == 0xa0)
        return str_of(p, left, 1, t & 0x1f, at, out);
    if ((t & 0xf0) == 0x90 || (t & 0xf0) == 0x80) {
        out->kind = (t & 0xf0) == 0x90 ? MP_ARRAY : MP_MAP;
        out->n = t & 0x0f;
        *at += 1;
        return MP_OK;
    }
    switch (t) {
    case 0xc0:
    case 0xc2:
    case 0xc3:
        out->kind = t == 0xc0 ? MP_NIL : MP_BOOL;
        out->b = t == 0xc3;
        *at += 1;
        return MP_OK;
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf: {
        int n = 1 << (t - 0xcc);
        if ((rc = field(p, left, n, &v)))
            return rc;
        if (v > INT64_MAX) {
            out->kind = MP_UINT;
            out->u = v;
        } else {
            out->kind = MP_INT;
            out->i = (int64_t)v;
        }
        *at += (size_t)n + 1;
        return MP_OK;
    }
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
        int n = 1 << (t - 0xd0);
        if ((rc = field(p, left, n, &v)))
            return rc;
        out->kind = MP_INT;
        /* Sign-extend the n-byte field. */
        out->i = n == 8 ? (int64_t)v
                        : (int64_t)(v ^ (1ull << (8 * n - 1))) -
                              (int64_t)(1ull << (8 * n - 1));
        *at += (size_t)n + 1;
        return MP_OK;
    }
    case 0xca:
    case 0xcb: {
        int n = t == 0xca ? 4 : 8;
        if ((rc = field(p, left, n, &v)))
            return rc;
        out->kind = MP_FLOAT;
        if (n == 4) {
            uint32_t u32 = (uint32_t)v;
            float f;
            memcpy(&f, &u32, 4);
            out->d = f;
        } else {
            memcpy(&out->d, &v, 8);
        }
        *at += (size_t)n + 1;
        return MP_OK;
    }
    case 0xd9:
    case 0xda:
    case 0xdb:
    case 0xc4:
    case 0xc5:
    case 0xc6: {
        int n = t >= 0xd9 ? 1 << (t - 0xd9) : 1 << (t - 0xc4);
        if ((rc = field(p, left, n, &v)))
            return rc;
        return str_of(p, left, n + 1, v, at, out);
    }
    case 0xdc:
    case 0xdd:
    case 0xde:
    case 0xdf: {
        int n = (t == 0xdc || t == 0xde) ? 2 : 4;
        if ((rc = field(p, left, n, &v)))
            return rc;
        out->kind = t <= 0xdd ? MP_ARRAY : MP_MAP;
        out->n = v;
        *at += (size_t)n + 1;
        return MP_OK;
    }
    default:
        return MP_EBADFMT;
    }
}

void mp_put_nil(fc_buf *b)
{
    fc_buf_putc(b, (char)0xc0);
}

void mp_put_bool(fc_buf *b, int v)
{
    fc_buf_putc(b, (char)(v ? 0xc3 : 0xc2));
}

void mp_put_int(fc_buf *b, int64_t v)
{
    if (v >= 0) {
        if (v <= 127)
            fc_buf_putc(b, (char)v);
        else if (v <= 0xff)
            put_be(b, 0xcc, (uint64_t)v, 1);
        else if (v <= 0xffff)
            put_be(b, 0xcd, (uint64_t)v, 2);
        else if (v <= 0xffffffffLL)
            put_be(b, 0xce, (uint64_t)v, 4);
        else
            put_be(b, 0xcf, (uint64_t)v, 8);
    } else {
        if (v >= -32)
            fc_buf_putc(b, (char)(signed char)v);
        else if (v >= -128)
            put_be(b, 0xd0, (uint64_t)v & 0xff, 1);
        else if (v >= -32768)
            put_be(b, 0xd1, (uint64_t)v & 0xffff, 2);
        else if (v >= -2147483648LL)
            put_be(b, 0xd2, (uint64_t)v & 0xffffffff, 4);
        else
            put_be(b, 0xd3, (uint64_t)v, 8);
    }
}

void mp_put_double(fc_buf *b, double v)
{
    float f = (float)v;
    if ((double)f == v) {
        uint32_t u;
        memcpy(&u, &f, 4);
        put_be(b, 0xca, u, 4);
    } else {
        uint64_t u;
        memcpy(&u, &v, 8);
        put_be(b, 0xcb, u, 8);
    }
}

void mp_put_str(fc_buf *b, const void *s, size_t len)
{
    if (len < 32)
        fc_buf_putc(b, (char)(0xa0 | len));
    else if (len <= 0xff)
        put_be(b, 0xd9, len, 1);
    else if (len <= 0xffff)
        put_be(b, 0xda, len, 2);
    else
        put_be(b, 0xdb, len, 4);
    fc_buf_append(b, s, len);
}

void mp_put_array(fc_buf *b, uint64_t n)
{
    if (n <= 15)
        fc_buf_putc(b, (char)(0x90 | n));
    else if (n <= 0xffff)
        put_be(b, 0xdc, n, 2);
    else
        put_be(b, 0xdd, n, 4);
}

void mp_put_map(fc_buf *b, uint64_t n)
{
    if (n <= 15)
        fc_buf_putc(b, (char)(0x80 | n));
    else if (n <= 0xffff)
        put_be(b, 0xde, n, 2);
    else
        put_be(b, 0xdf, n, 4);
}
