/*
 * obj.c — typed values in a shard: finding, creating, committing and
 * removing objects, the op record codec, and the dispatch to each type's
 * ops (obj.h).
 */
#include "engine/obj.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/pack.h"
#include "engine/shard.h"
#include "util/num.h"

/* One line per type, kept apart so that types landing on separate
 * branches merge cleanly. NULL: the type is not built yet. */
static const eng_type_ops *const type_table[] = {
    [ENG_TYPE_STRING] = NULL,
    /* hash: obj_hash.c */
    [ENG_TYPE_HASH] = &eng_hash_ops,
    /* list: obj_list.c */
    [ENG_TYPE_LIST] = &eng_list_ops,
    /* set: obj_set.c */
    [ENG_TYPE_SET] = &eng_set_ops,
    /* zset: obj_zset.c */
    [ENG_TYPE_ZSET] = &eng_zset_ops,
    /* end */
};

const eng_type_ops *eng_type_ops_of(unsigned type)
{
    if (type == ENG_TYPE_STRING ||
        type >= sizeof(type_table) / sizeof(type_table[0]))
        return NULL;
    return type_table[type];
}

eng_obj_limits eng_limits = {
    .hash_max_listpack_entries = 512,
    .hash_max_listpack_value = 64,
    .set_max_intset_entries = 512,
    .set_max_listpack_entries = 128,
    .set_max_listpack_value = 64,
    .zset_max_listpack_entries = 128,
    .zset_max_listpack_value = 64,
    .list_max_listpack_size = -2,
};

/* --- op records --- */

static _Thread_local eng_op tl_op;
static _Thread_local fc_buf tl_scratch;

/* The two scratch buffers are freed when their thread exits (a pthread
 * key's destructor runs while the thread's TLS is still there): a worker
 * that stops would otherwise leave them behind, which LeakSanitizer
 * reports at shutdown. */
static pthread_key_t tl_key;
static pthread_once_t tl_once = PTHREAD_ONCE_INIT;
static _Thread_local bool tl_registered;

static void tl_free(void *unused)
{
    (void)unused;
    fc_buf_free(&tl_op.b);
    fc_buf_free(&tl_scratch);
}

static void tl_key_make(void)
{
    (void)pthread_key_create(&tl_key, tl_free);
}

static void tl_register(void)
{
    if (tl_registered)
        return;
    tl_registered = true;
    pthread_once(&tl_once, tl_key_make);
    (void)pthread_setspecific(tl_key, &tl_op); /* non-NULL: run at exit */
}

fc_buf *obj_scratch(void)
{
    tl_register();
    return &tl_scratch;
}

#define OP_ARGC_ROOM 5 /* a varint of a 32-bit count */

eng_op *eng_op_begin(unsigned code)
{
    eng_op *op = &tl_op;
    tl_register();
    op->b.len = 0;
    op->b.oom = false;
    op->argc = 0;
    fc_buf_putc(&op->b, (char)code);
    op->argc_at = op->b.len;
    static const char zero[OP_ARGC_ROOM];
    fc_buf_append(&op->b, zero, OP_ARGC_ROOM);
    return op;
}

void eng_op_arg(eng_op *op, const void *p, size_t n)
{
    pk_varint_append(&op->b, n);
    fc_buf_append(&op->b, p, n);
    op->argc++;
}

void eng_op_arg_i64(eng_op *op, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
    eng_op_arg(op, tmp, (size_t)n);
}

void eng_op_arg_f64(eng_op *op, double v)
{
    uint8_t tmp[8];
    uint64_t u;
    memcpy(&u, &v, 8);
    for (int i = 0; i < 8; i++)
        tmp[i] = (uint8_t)(u >> (8 * i));
    eng_op_arg(op, tmp, 8);
}

/* The argc placeholder becomes a fixed five-byte varint (continuation bits
 * on the first four), so the record needs no second pass or move. */
static void op_seal(const eng_op *cop)
{
    eng_op *op = (eng_op *)cop;
    if (op->b.oom)
        return;
    uint8_t *p = (uint8_t *)op->b.data + op->argc_at;
    size_t v = op->argc;
    for (int i = 0; i < OP_ARGC_ROOM - 1; i++, v >>= 7)
        p[i] = (uint8_t)((v & 0x7f) | 0x80);
    p[OP_ARGC_ROOM - 1] = (uint8_t)(v & 0x7f);
}

const uint8_t *eng_op_record(const eng_op *op, size_t *len)
{
    op_seal(op);
    if (op->b.oom)
        return NULL;
    *len = op->b.len;
    return (const uint8_t *)op->b.data;
}

int eng_op_open(const void *rec, size_t n, unsigned *code, eng_op_reader *r)
{
    r->p = rec;
    r->end = r->p + n;
    if (n < 2)
        return FC_EINVAL;
    *code = *r->p++;
    size_t argc;
    /* each argument takes at least one byte */
    if (!pk_varint_take(&r->p, r->end, &argc) || argc > n)
        return FC_EINVAL;
    r->left = argc;
    return FC_OK;
}

bool eng_op_next(eng_op_reader *r, const uint8_t **p, size_t *n)
{
    size_t len;
    if (r->left == 0 || !pk_varint_take(&r->p, r->end, &len) ||
        len > (size_t)(r->end - r->p)) {
        r->left = 0;
        return false;
    }
    *p = r->p;
    *n = len;
    r->p += len;
    r->left--;
    return true;
}

bool eng_op_next_i64(eng_op_reader *r, int64_t *v)
{
    const uint8_t *p;
    size_t n;
    return eng_op_next(r, &p, &n) && fc_parse_i64(p, n, v);
}

bool eng_op_next_f64(eng_op_reader *r, double *v)
{
    const uint8_t *p;
    size_t n;
    if (!eng_op_next(r, &p, &n) || n != 8)
        return false;
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)p[i] << (8 * i);
    memcpy(v, &u, 8);
    return !isnan(*v);
}

/* --- objects in entries --- */

eng_obj *eng_entry_obj(const eng_entry *e)
{
    if (ent_type(e) == ENG_TYPE_STRING)
        return NULL;
    struct ent_view v;
    eng_obj *o;
    ent_decode(e, &v);
    memcpy(&o, v.val, sizeof(o));
    return o;
}

eng_obj *eng_entry_take_obj(eng_shard *sh, eng_entry *e)
{
    eng_obj *o = eng_entry_obj(e), *none = NULL;
    struct ent_view v;
    if (!o)
        return NULL;
    ent_decode(e, &v);
    memcpy(v.val, &none, sizeof(none));
    sh->obj_bytes -= o->accounted;
    o->accounted = 0;
    return o;
}

static eng_lazy_free_fn lazy_free;

void eng_set_lazy_free(eng_lazy_free_fn fn)
{
    lazy_free = fn;
}

void eng_obj_free_now(eng_obj *o)
{
    if (!o)
        return;
    const eng_type_ops *t = eng_type_ops_of(o->type);
    if (t)
        t->free(o);
}

void eng_obj_free(eng_obj *o)
{
    if (!o)
        return;
    const eng_type_ops *t = eng_type_ops_of(o->type);
    if (lazy_free && t && t->len(o) > ENG_LAZY_FREE_MIN) {
        lazy_free(o);
        return;
    }
    if (t)
        t->free(o);
}

int eng_obj_serialize(const eng_obj *o, fc_buf *out)
{
    const eng_type_ops *t = eng_type_ops_of(o->type);
    if (!t)
        return FC_EINVAL;
    t->serialize(o, out);
    return out->oom ? FC_ENOMEM : FC_OK;
}

bool eng_obj_logging(const eng_shard *sh)
{
    return shard_observed(sh);
}

int eng_obj_get(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                unsigned type, int64_t now, eng_obj **o)
{
    eng_entry *e = shard_get(sh, hash, key, klen, &now);
    *o = NULL;
    if (!e)
        return FC_ENOTFOUND;
    if (ent_type(e) != type)
        return FC_EWRONGTYPE;
    *o = eng_entry_obj(e);
    return FC_OK;
}

static void account(eng_shard *sh, eng_obj *o)
{
    sh->obj_bytes += o->bytes - o->accounted;
    o->accounted = o->bytes;
    shard_account(sh);
}

int eng_obj_open(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                 unsigned type, bool create, int64_t now, eng_obj **o)
{
    const eng_type_ops *t = eng_type_ops_of(type);
    struct ht_ref r;
    int rc;

    *o = NULL;
    if (!t)
        return FC_EINVAL;
    if (klen > FC_MAX_KEY_LEN)
        return FC_ETOOBIG;
    if (create && (rc = shard_make_room(sh, &now)) != FC_OK)
        return rc;
    ht_step(&sh->ht);
    if (shard_find_live(sh, hash, key, klen, &now, &r)) {
        eng_entry *e = r.g->slot[r.i];
        if (ent_type(e) != type)
            return FC_EWRONGTYPE;
        shard_touch(sh, e, &now);
        *o = eng_entry_obj(e);
        return FC_OK;
    }
    if (!create)
        return FC_ENOTFOUND;
    eng_obj *n = t->create();
    if (!n)
        return FC_ENOMEM;
    eng_entry *e = ent_new(&sh->slab, key, klen, &n, sizeof(n), 0, type, 0);
    if (!e || shard_insert(sh, hash, e) != FC_OK) {
        if (e)
            ent_free(&sh->slab, e);
        t->free(n);
        return FC_ENOMEM;
    }
    shard_meta_init(sh, e, &now);
    account(sh, n);
    *o = n;
    return FC_OK;
}

static void notify_op(eng_shard *sh, const void *key, size_t klen,
                      unsigned type, const void *rec, size_t n)
{
    fc_mutation m = {.kind = FC_MUT_OP,
                     .shard = sh->index,
                     .seq = sh->seq,
                     .key = key,
                     .key_len = klen,
                     .value = rec,
                     .value_len = n,
                     .value_type = type};
    sh->obs->fn(sh->obs->ctx, &m);
}

/* Removes key without a record (its last op empties it on replay too). */
static void remove_quietly(eng_shard *sh, uint64_t hash, const void *key,
                           size_t klen)
{
    struct ht_ref r;
    if (!ht_find(&sh->ht, hash, key, klen, &r))
        return;
    shard_free_entry(sh, shard_erase(sh, &r));
    ht_maybe_shrink(&sh->ht);
    if (sh->budget)
        shard_account_freed(sh);
}

static void commit_rec(eng_shard *sh, uint64_t hash, const void *key,
                       size_t klen, eng_obj *o, const void *rec, size_t n)
{
    const eng_type_ops *t = eng_type_ops_of(o->type);
    account(sh, o);
    if (rec) {
        sh->seq++;
        o->seq = sh->seq;
        o->flags &= (uint8_t)~ENG_OBJ_F_IMAGE;
        if (eng_obj_logging(sh))
            notify_op(sh, key, klen, o->type, rec, n);
    }
    if (t->len(o) == 0)
        remove_quietly(sh, hash, key, klen);
}

void eng_obj_commit(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                    eng_obj *o, const eng_op *op)
{
    static const uint8_t none[1];
    if (op) {
        size_t n;
        const uint8_t *rec = eng_op_record(op, &n);
        if (!rec) /* the change happened; its record could not be built:
                     the observer sees an empty record (refused on replay) */
            commit_rec(sh, hash, key, klen, o, none, 0);
        else
            commit_rec(sh, hash, key, klen, o, rec, n);
    } else {
        commit_rec(sh, hash, key, klen, o, NULL, 0);
    }
}

/* eng_set_obj; *placed says whether o went into the table (it may also
 * have been freed as already expired). */
static int set_obj(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                   eng_obj *o, int64_t expire_at, int64_t now, bool *placed)
{
    struct ht_ref r;
    int rc;

    *placed = false;
    if (klen > FC_MAX_KEY_LEN)
        return FC_ETOOBIG;
    if ((rc = shard_make_room(sh, &now)) != FC_OK)
        return rc;
    ht_step(&sh->ht);
    bool found = ht_find(&sh->ht, hash, key, klen, &r);
    if (expire_at != 0 && expire_at <= shard_now(&now)) {
        /* Already expired: as eng_set, the key ends up absent. */
        eng_obj_free(o);
        if (found)
            shard_free_entry(sh, shard_remove(sh, &r, FC_MUT_DEL));
        return FC_OK;
    }
    eng_entry *e =
        ent_new(&sh->slab, key, klen, &o, sizeof(o), expire_at, o->type, 0);
    if (!e)
        return FC_ENOMEM;
    if (found) {
        eng_entry *old = r.g->slot[r.i];
        shard_replace(sh, &r, e);
        shard_free_entry(sh, old);
    } else if (shard_insert(sh, hash, e) != FC_OK) {
        ent_free(&sh->slab, e);
        return FC_ENOMEM;
    }
    shard_meta_init(sh, e, &now);
    o->accounted = 0;
    account(sh, o);
    shard_notify(sh, FC_MUT_SET, e);
    o->seq = sh->seq;
    o->flags &= (uint8_t)~ENG_OBJ_F_IMAGE;
    *placed = true;
    return FC_OK;
}

int eng_set_obj(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                eng_obj *o, int64_t expire_at, int64_t now)
{
    bool placed;
    return set_obj(sh, hash, key, klen, o, expire_at, now, &placed);
}

int eng_obj_load(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                 unsigned type, const void *val, size_t vlen, int64_t expire_at,
                 uint64_t image_seq, int64_t now)
{
    const eng_type_ops *t = eng_type_ops_of(type);
    eng_obj *o;
    int rc;
    if (!t)
        return FC_EINVAL;
    if ((rc = t->load(val, vlen, &o)) != FC_OK)
        return rc;
    if (t->len(o) == 0) { /* Redis never stores an empty value */
        t->free(o);
        return FC_EINVAL;
    }
    o->accounted = 0;
    bool placed;
    rc = set_obj(sh, hash, key, klen, o, expire_at, now, &placed);
    if (rc != FC_OK)
        t->free(o);
    if (rc == FC_OK && placed && image_seq) {
        o->seq = image_seq;
        o->flags |= ENG_OBJ_F_IMAGE;
    }
    return rc;
}

int eng_obj_apply(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                  unsigned type, const void *rec, size_t n, uint64_t seq,
                  int64_t now)
{
    const eng_type_ops *t = eng_type_ops_of(type);
    eng_op_reader r;
    unsigned code;
    eng_obj *o;
    int rc;

    if (!t || eng_op_open(rec, n, &code, &r) != FC_OK)
        return FC_EINVAL;
    rc = eng_obj_open(sh, hash, key, klen, type, true, now, &o);
    if (rc == FC_EWRONGTYPE)
        return FC_OK; /* a later whole-key record sets this key right */
    if (rc != FC_OK)
        return rc;
    if ((o->flags & ENG_OBJ_F_IMAGE) && seq != 0 && seq <= o->seq) {
        commit_rec(sh, hash, key, klen, o, NULL, 0); /* already in the image */
        return FC_OK;
    }
    rc = t->apply(o, code, &r);
    commit_rec(sh, hash, key, klen, o, rc == FC_OK ? rec : NULL,
               rc == FC_OK ? n : 0);
    return rc;
}
