/*
 * obj_list_io.c — what leaves a list: its serialized form, its copy, and
 * the replay of its op records (docs/FORMATS.md "Lists"), plus the type's
 * ops table.
 *
 * Serialized form: varint count, then count items, each a varint length
 * and the bytes (integers as their decimal text: the form does not depend
 * on how nodes store elements). Loading trusts nothing: every length is checked
 * against the end, the count against the items, trailing bytes refused.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "engine/obj_list.h"
#include "engine/obj_list_int.h"
#include "util/num.h"

static const char *lst_encoding(const eng_obj *o)
{
    return o->enc == LENC_CHUNKED ? "chunked" : "pack";
}

static void lst_serialize(const eng_obj *o, fc_buf *out)
{
    const list_obj *l = (const list_obj *)o;
    lst_iter it;
    const uint8_t *e;
    size_t n;
    pk_varint_append(out, l->count);
    lst_iter_at(o, 0, &it);
    while (lst_iter_next(&it, &e, &n)) {
        pk_varint_append(out, n);
        fc_buf_append(out, e, n);
    }
}

static int lst_load(const uint8_t *p, size_t n, eng_obj **out)
{
    const uint8_t *end = p + n;
    size_t count;
    *out = NULL;
    if (!pk_varint_take(&p, end, &count) || count > n)
        return FC_EINVAL;
    eng_obj *o = lst_create();
    if (!o)
        return FC_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        size_t len;
        int rc;
        if (!pk_varint_take(&p, end, &len) || len > (size_t)(end - p)) {
            lst_free(o);
            return FC_EINVAL;
        }
        if ((rc = lst_push(o, true, p, len)) != FC_OK) {
            lst_free(o);
            return rc;
        }
        p += len;
    }
    if (p != end) {
        lst_free(o);
        return FC_EINVAL;
    }
    *out = o;
    return FC_OK;
}

static eng_obj *lst_dup(const eng_obj *src)
{
    const list_obj *s = (const list_obj *)src;
    eng_obj *o = lst_create();
    if (!o)
        return NULL;
    lst_iter it;
    const uint8_t *e;
    size_t n;
    lst_iter_at(src, 0, &it);
    while (lst_iter_next(&it, &e, &n)) {
        if (lst_push(o, true, e, n) != FC_OK) {
            lst_free(o);
            return NULL;
        }
    }
    (void)s;
    return o;
}

static bool next_size(eng_op_reader *r, size_t *v)
{
    int64_t x;
    if (!eng_op_next_i64(r, &x) || x < 0)
        return false;
    *v = (size_t)x;
    return true;
}

static bool next_side(eng_op_reader *r, bool *tail)
{
    const uint8_t *p;
    size_t n;
    if (!eng_op_next(r, &p, &n) || n != 1 || (p[0] != '0' && p[0] != '1'))
        return false;
    *tail = p[0] == '1';
    return true;
}

/* LOP_PUSH: every element is checked before the first is pushed, so a
 * malformed record changes nothing. */
static int apply_push(eng_obj *o, eng_op_reader *r)
{
    bool tail;
    const uint8_t *p;
    size_t n;
    if (!next_side(r, &tail) || r->left == 0)
        return FC_EINVAL;
    eng_op_reader chk = *r;
    while (chk.left)
        if (!eng_op_next(&chk, &p, &n))
            return FC_EINVAL;
    while (eng_op_next(r, &p, &n)) {
        int rc = lst_push(o, tail, p, n);
        if (rc != FC_OK)
            return rc;
    }
    return FC_OK;
}

static int lst_apply(eng_obj *o, unsigned code, eng_op_reader *r)
{
    size_t a, b;
    int64_t cnt;
    bool tail;
    const uint8_t *p;
    size_t n;
    size_t len = lst_len(o);
    switch (code) {
    case LOP_PUSH:
        return apply_push(o, r);
    case LOP_POP:
        if (!next_side(r, &tail) || !next_size(r, &a) || r->left || a == 0 ||
            a > len)
            return FC_EINVAL;
        lst_del(o, tail ? len - a : 0, a);
        return FC_OK;
    case LOP_SET:
        if (!next_size(r, &a) || !eng_op_next(r, &p, &n) || r->left ||
            a >= len)
            return FC_EINVAL;
        return lst_set(o, a, p, n);
    case LOP_INSERT:
        if (!next_size(r, &a) || !eng_op_next(r, &p, &n) || r->left ||
            a > len)
            return FC_EINVAL;
        return lst_insert(o, a, p, n);
    case LOP_REM:
        if (!eng_op_next_i64(r, &cnt) || !eng_op_next(r, &p, &n) || r->left)
            return FC_EINVAL;
        lst_rem(o, cnt, p, n);
        return FC_OK;
    case LOP_TRIM:
        if (!next_size(r, &a) || !next_size(r, &b) || r->left || a > len ||
            b > len - a)
            return FC_EINVAL;
        lst_del(o, len - b, b);
        lst_del(o, 0, a);
        return FC_OK;
    default:
        return FC_EINVAL;
    }
}

const eng_type_ops eng_list_ops = {
    .name = "list",
    .create = lst_create,
    .free = lst_free,
    .len = lst_len,
    .encoding = lst_encoding,
    .serialize = lst_serialize,
    .load = lst_load,
    .dup = lst_dup,
    .apply = lst_apply,
};
