/*
 * strings.c — in-place edits of string values: APPEND, SETRANGE, INCRBY
 * (Redis semantics) and eng_edit, the caller-driven edit SETBIT and
 * BITFIELD use. Each keeps the key's TTL and is one FC_MUT_SET mutation
 * carrying the resulting value.
 */
#include "engine/shard.h"

#include <limits.h>

#include "util/num.h"

#define GROW_SLACK_MAX ((size_t)1 << 20)

/* Redis's greedy growth for values that are being extended: double up to
 * 1 MiB of slack, so that repeated APPENDs cost amortized O(1) copies. */
static size_t grow_slack(size_t len)
{
    size_t s = len < GROW_SLACK_MAX ? len : GROW_SLACK_MAX;
    return s > FC_MAX_VALUE_LEN - len ? FC_MAX_VALUE_LEN - len : s;
}

/* Makes the value at r new_len bytes long, zero-fills [old length, off),
 * copies data (which may point into the entry) to off, then lets fn (if
 * any) edit the whole value before the mutation is reported. */
static int edit_value_fn(eng_shard *sh, const struct ht_ref *r, size_t new_len,
                         size_t off, const void *data, size_t dlen,
                         eng_edit_fn fn, void *arg)
{
    eng_entry *o = r->g->slot[r->i], *n;
    struct ent_view v;
    size_t old_len;

    ent_decode(o, &v);
    old_len = v.vlen;
    n = ent_resize_value(&sh->slab, o, new_len,
                         new_len > old_len ? grow_slack(new_len) : 0);
    if (!n)
        return FC_ENOMEM;
    ent_decode(n, &v);
    if (off > old_len)
        memset(v.val + old_len, 0, off - old_len);
    if (dlen)
        memmove(v.val + off, data, dlen);
    if (fn)
        fn(arg, v.val, new_len);
    if (n != o) {
        shard_replace(sh, r, n);
        shard_free_entry(sh, o);
    }
    shard_notify(sh, FC_MUT_SET, n);
    return FC_OK;
}

static int edit_value(eng_shard *sh, const struct ht_ref *r, size_t new_len,
                      size_t off, const void *data, size_t dlen)
{
    return edit_value_fn(sh, r, new_len, off, data, dlen, NULL, NULL);
}

/* Creates key with a value of off zero bytes followed by data, which fn
 * (if any) may then edit. */
static int create_value_fn(eng_shard *sh, uint64_t h, const void *key,
                           size_t klen, size_t off, const void *data,
                           size_t dlen, eng_edit_fn fn, void *arg)
{
    eng_entry *n =
        ent_new(&sh->slab, key, klen, NULL, off + dlen, 0, ENG_TYPE_STRING, 0);
    struct ent_view v;

    if (!n)
        return FC_ENOMEM;
    ent_decode(n, &v);
    memset(v.val, 0, off);
    if (dlen)
        memcpy(v.val + off, data, dlen);
    if (fn)
        fn(arg, v.val, off + dlen);
    if (shard_insert(sh, h, n) != FC_OK) {
        shard_free_entry(sh, n);
        return FC_ENOMEM;
    }
    int64_t lazy = ENG_NOW_LAZY;
    shard_meta_init(sh, n, &lazy);
    shard_notify(sh, FC_MUT_SET, n);
    return FC_OK;
}

static int create_value(eng_shard *sh, uint64_t h, const void *key, size_t klen,
                        size_t off, const void *data, size_t dlen)
{
    return create_value_fn(sh, h, key, klen, off, data, dlen, NULL, NULL);
}

/* Finds key for a string edit: 1 found (r set), 0 absent, or an error. */
static int find_string(eng_shard *sh, uint64_t h, const void *key, size_t klen,
                       int64_t *now, struct ht_ref *r)
{
    int rc;
    if (klen > FC_MAX_KEY_LEN)
        return FC_ETOOBIG;
    if ((rc = shard_make_room(sh, now)) != FC_OK)
        return rc;
    ht_step(&sh->ht);
    if (!shard_find_live(sh, h, key, klen, now, r))
        return 0;
    shard_touch(sh, r->g->slot[r->i], now);
    if (ent_type(r->g->slot[r->i]) != ENG_TYPE_STRING)
        return FC_EWRONGTYPE;
    return 1;
}

static size_t value_len(const struct ht_ref *r)
{
    struct ent_view v;
    ent_decode(r->g->slot[r->i], &v);
    return v.vlen;
}

int eng_append(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
               const void *data, size_t dlen, int64_t now, size_t *new_len)
{
    struct ht_ref r;
    size_t old_len;
    int rc = find_string(sh, hash, key, klen, &now, &r);

    if (rc < 0)
        return rc;
    old_len = rc ? value_len(&r) : 0;
    if (dlen > FC_MAX_VALUE_LEN - old_len)
        return FC_ETOOBIG;
    if (rc)
        rc = edit_value(sh, &r, old_len + dlen, old_len, data, dlen);
    else
        rc = create_value(sh, hash, key, klen, 0, data, dlen);
    if (rc == FC_OK && new_len)
        *new_len = old_len + dlen;
    return rc;
}

int eng_setrange(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                 size_t offset, const void *data, size_t dlen, int64_t now,
                 size_t *new_len)
{
    struct ht_ref r;
    size_t old_len, len;
    int rc = find_string(sh, hash, key, klen, &now, &r);

    if (rc < 0)
        return rc;
    old_len = rc ? value_len(&r) : 0;
    if (dlen == 0) { /* Redis: no change, not even a creation */
        if (new_len)
            *new_len = old_len;
        return FC_OK;
    }
    if (offset > FC_MAX_VALUE_LEN || dlen > FC_MAX_VALUE_LEN - offset)
        return FC_ETOOBIG;
    len = offset + dlen > old_len ? offset + dlen : old_len;
    if (rc)
        rc = edit_value(sh, &r, len, offset, data, dlen);
    else
        rc = create_value(sh, hash, key, klen, offset, data, dlen);
    if (rc == FC_OK && new_len)
        *new_len = len;
    return rc;
}

int eng_edit(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
             size_t min_len, eng_edit_fn fn, void *arg, int64_t now,
             size_t *new_len)
{
    struct ht_ref r;
    size_t old_len, len;
    int rc = find_string(sh, hash, key, klen, &now, &r);

    if (rc < 0)
        return rc;
    if (min_len > FC_MAX_VALUE_LEN)
        return FC_ETOOBIG;
    old_len = rc ? value_len(&r) : 0;
    len = min_len > old_len ? min_len : old_len;
    if (rc)
        rc = edit_value_fn(sh, &r, len, len, NULL, 0, fn, arg);
    else
        rc = create_value_fn(sh, hash, key, klen, len, NULL, 0, fn, arg);
    if (rc == FC_OK && new_len)
        *new_len = len;
    return rc;
}

static size_t format_i64(int64_t x, char *buf)
{
    char tmp[24];
    size_t n = 0, len = 0;
    uint64_t u = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;

    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (x < 0)
        buf[len++] = '-';
    while (n)
        buf[len++] = tmp[--n];
    return len;
}

int eng_incrby(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
               int64_t delta, int64_t now, int64_t *result)
{
    struct ht_ref r;
    int64_t cur = 0, sum;
    char buf[24];
    size_t len;
    int rc = find_string(sh, hash, key, klen, &now, &r);

    if (rc < 0)
        return rc;
    if (rc) {
        struct ent_view v;
        ent_decode(r.g->slot[r.i], &v);
        if (!fc_parse_i64(v.val, v.vlen, &cur))
            return FC_ENOTINT;
    }
    if (__builtin_add_overflow(cur, delta, &sum))
        return FC_EOVERFLOW;
    len = format_i64(sum, buf);
    if (rc)
        rc = edit_value(sh, &r, len, 0, buf, len);
    else
        rc = create_value(sh, hash, key, klen, 0, buf, len);
    if (rc == FC_OK && result)
        *result = sum;
    return rc;
}
