/*
 * keyspace.c — commands over whole keys: DEL/UNLINK, EXISTS, TOUCH, TYPE,
 * RENAME, RENAMENX, COPY.
 *
 * RENAME, RENAMENX and COPY may see their two keys on different shards;
 * the router then runs them exclusively (command.h), so both are ours.
 */
#include <stdlib.h>
#include <string.h>

#include "commands/cmd_fns.h"
#include "commands/cmd_util.h"
#include "engine/obj.h"

void cmd_del(cmd_ctx *c)
{
    int64_t n = 0;
    for (size_t i = 1; i < c->argc; i++) {
        cmd_key k = cmd_key_at(c, i);
        if (eng_del(k.sh, k.h, k.p, k.n, c->now, NULL) == FC_OK)
            n++;
    }
    resp_int(c->w, n);
}

/* EXISTS and TOUCH: a key named twice counts twice, as in Redis. */
static void count_present(cmd_ctx *c)
{
    int64_t n = 0;
    for (size_t i = 1; i < c->argc; i++) {
        cmd_key k = cmd_key_at(c, i);
        if (cmd_key_get(c, &k))
            n++;
    }
    resp_int(c->w, n);
}

void cmd_exists(cmd_ctx *c)
{
    count_present(c);
}

void cmd_touch(cmd_ctx *c)
{
    /* eng_get marks the entry accessed: that is all TOUCH does. */
    count_present(c);
}

void cmd_type(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_entry *e = cmd_key_get(c, &k);
    resp_simple(c->w, e ? cmd_type_name(eng_entry_type(e)) : "none");
}

static bool same_arg(const resp_arg *a, const resp_arg *b)
{
    return a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0;
}

/* dst = a copy of the typed value of entry e (its TTL too). A copy, not
 * a move, even for RENAME: writing dst first and removing src only after
 * keeps both keys intact when the write fails, as for strings; the cost is
 * O(elements) where Redis moves the pointer. */
static int set_obj_copy(cmd_ctx *c, const cmd_key *dst, const eng_entry *e)
{
    const eng_obj *o = eng_entry_obj(e);
    const eng_type_ops *t = o ? eng_type_ops_of(o->type) : NULL;
    if (!t)
        return FC_EINVAL;
    eng_obj *d = t->dup(o);
    if (!d)
        return FC_ENOMEM;
    return eng_set_obj(dst->sh, dst->h, dst->p, dst->n, d,
                       eng_entry_expire_at(e), c->now);
}

static void rename_generic(cmd_ctx *c, bool nx)
{
    cmd_key src = cmd_key_at(c, 1), dst = cmd_key_at(c, 2);
    if (!cmd_key_get(c, &src)) {
        resp_error(c->w, CMD_ERR_NOKEY);
        return;
    }
    if (same_arg(&c->argv[1], &c->argv[2])) {
        if (nx)
            resp_int(c->w, 0);
        else
            resp_ok(c->w);
        return;
    }
    if (nx && cmd_key_get(c, &dst)) {
        resp_int(c->w, 0);
        return;
    }
    /* Write dst first and remove src only once that worked, so a failed
     * write (out of memory) leaves both keys as they were: no rollback
     * that could itself fail and lose src. src's bytes are borrowed until
     * the next mutation of its shard; when dst lives on the same shard,
     * they are copied first. eng_del of a live key cannot fail. */
    eng_entry *e = cmd_key_get(c, &src);
    if (eng_entry_type(e) != ENG_TYPE_STRING) {
        int rc = set_obj_copy(c, &dst, e);
        if (rc != FC_OK) {
            cmd_reply_fc_error(c, rc);
            return;
        }
        eng_del(src.sh, src.h, src.p, src.n, c->now, NULL);
        if (nx)
            resp_int(c->w, 1);
        else
            resp_ok(c->w);
        return;
    }
    size_t vlen;
    const uint8_t *v = eng_entry_value(e, &vlen);
    int64_t exp = eng_entry_expire_at(e);
    uint8_t *copy = NULL;
    if (dst.sh == src.sh) {
        copy = malloc(vlen ? vlen : 1);
        if (!copy) {
            cmd_reply_fc_error(c, FC_ENOMEM);
            return;
        }
        memcpy(copy, v, vlen);
        v = copy;
    }
    int rc = eng_set(dst.sh, dst.h, dst.p, dst.n, v, vlen, exp, 0, c->now, NULL,
                     NULL);
    free(copy);
    if (rc != FC_OK) {
        cmd_reply_fc_error(c, rc);
        return;
    }
    eng_del(src.sh, src.h, src.p, src.n, c->now, NULL);
    if (nx)
        resp_int(c->w, 1);
    else
        resp_ok(c->w);
}

void cmd_rename(cmd_ctx *c)
{
    rename_generic(c, false);
}

void cmd_renamenx(cmd_ctx *c)
{
    rename_generic(c, true);
}

/* COPY's options from argv[3]: [DB n] [REPLACE]. Only db 0 exists. */
static bool copy_opts(cmd_ctx *c, bool *replace)
{
    for (size_t i = 3; i < c->argc; i++) {
        if (cmd_arg_is(&c->argv[i], "replace")) {
            *replace = true;
        } else if (cmd_arg_is(&c->argv[i], "db") && i + 1 < c->argc) {
            int64_t db;
            if (!cmd_arg_ll(c, ++i, &db))
                return false;
            if (db < INT32_MIN || db > INT32_MAX) {
                resp_error(c->w, "ERR value is out of range, value must "
                                 "between -2147483648 and 2147483647");
                return false;
            }
            if (db != 0) {
                resp_error(c->w, "ERR DB index is out of range");
                return false;
            }
        } else {
            resp_error(c->w, CMD_ERR_SYNTAX);
            return false;
        }
    }
    return true;
}

void cmd_copy(cmd_ctx *c)
{
    bool replace = false;
    if (!copy_opts(c, &replace))
        return;
    if (same_arg(&c->argv[1], &c->argv[2])) {
        resp_error(c->w, "ERR source and destination objects are the same");
        return;
    }
    cmd_key src = cmd_key_at(c, 1), dst = cmd_key_at(c, 2);
    /* dst first: its lookup may expire an entry, which would invalidate a
     * src pointer taken earlier on the same shard. */
    bool dst_exists = cmd_key_get(c, &dst) != NULL;
    eng_entry *e = cmd_key_get(c, &src);
    if (!e || (dst_exists && !replace)) {
        resp_int(c->w, 0);
        return;
    }
    if (eng_entry_type(e) != ENG_TYPE_STRING) {
        int rc = set_obj_copy(c, &dst, e);
        if (rc == FC_OK)
            resp_int(c->w, 1);
        else
            cmd_reply_fc_error(c, rc);
        return;
    }
    size_t vlen;
    const uint8_t *v = eng_entry_value(e, &vlen);
    int64_t exp = eng_entry_expire_at(e);
    /* Writing to the source's shard may move its entry: copy the bytes. */
    uint8_t *copy = NULL;
    if (src.sh == dst.sh) {
        copy = malloc(vlen ? vlen : 1);
        if (!copy) {
            resp_error(c->w, CMD_ERR_OOM);
            return;
        }
        memcpy(copy, v, vlen);
        v = copy;
    }
    int rc = eng_set(dst.sh, dst.h, dst.p, dst.n, v, vlen, exp, 0, c->now, NULL,
                     NULL);
    free(copy);
    if (rc == FC_OK)
        resp_int(c->w, 1);
    else
        cmd_reply_fc_error(c, rc);
}
