/*
 * shard.c — shard lifecycle and the point operations: get, set, del,
 * set_expire, clear; the mutation hook; lazy expiry.
 */
#include "engine/shard.h"
#include "engine/obj.h"

#include <assert.h>
#include <stdlib.h>

/* --- helpers shared with strings.c and iter.c --- */

void shard_notify_slow(eng_shard *sh, fc_mutation_kind kind, const eng_entry *e)
{
    fc_mutation m = {.kind = kind, .shard = sh->index, .seq = sh->seq};
    if (e) {
        struct ent_view v;
        ent_decode(e, &v);
        m.key = v.key;
        m.key_len = v.klen;
        if (kind == FC_MUT_SET && ent_type(e) != ENG_TYPE_STRING) {
            /* A whole typed value travels in its serialized form. */
            fc_buf *b = obj_scratch();
            b->len = 0;
            b->oom = false;
            if (eng_obj_serialize(eng_entry_obj(e), b) != FC_OK)
                return; /* cannot happen short of ENOMEM: nothing to log */
            m.value = b->data;
            m.value_len = b->len;
            m.value_type = ent_type(e);
        } else if (kind == FC_MUT_SET) {
            m.value = v.val;
            m.value_len = v.vlen;
        }
        if (kind == FC_MUT_SET || kind == FC_MUT_EXPIRE)
            m.expire_at_ms = eng_entry_expire_at(e);
    }
    sh->obs->fn(sh->obs->ctx, &m);
}

void shard_free_entry(eng_shard *sh, eng_entry *e)
{
    if (e && ent_type(e) != ENG_TYPE_STRING) {
        eng_obj *o = eng_entry_obj(e);
        if (o) {
            sh->obj_bytes -= o->accounted;
            eng_obj_free(o);
        }
    }
    ent_free(&sh->slab, e);
}

void eng_entry_free(eng_shard *sh, eng_entry *e)
{
    shard_free_entry(sh, e);
}

eng_entry *shard_erase(eng_shard *sh, const struct ht_ref *r)
{
    eng_entry *e = ht_erase(&sh->ht, r);
    if (ent_has_ttl(e))
        sh->expires--;
    sh->tier_len[ent_level(e)]--;
    return e;
}

eng_entry *shard_remove(eng_shard *sh, const struct ht_ref *r,
                        fc_mutation_kind kind)
{
    eng_entry *e = shard_erase(sh, r);
    if (kind == FC_MUT_EXPIRED && sh->budget && sh->budget->on_drop) {
        struct ent_view v;
        ent_decode(e, &v);
        sh->budget->on_drop(sh->budget->on_drop_ctx, sh->index, v.key, v.klen,
                            ENG_DROP_EXPIRED);
    }
    /* Out of the table but not yet freed: the observer reads its key. */
    shard_notify(sh, kind, e);
    return e;
}

bool shard_find_live(eng_shard *sh, uint64_t h, const void *key, size_t klen,
                     int64_t *now, struct ht_ref *r)
{
    if (!ht_find(&sh->ht, h, key, klen, r))
        return false;
    if (ent_expired(r->g->slot[r->i], now)) {
        shard_free_entry(sh, shard_remove(sh, r, FC_MUT_EXPIRED));
        return false;
    }
    return true;
}

void shard_replace(eng_shard *sh, const struct ht_ref *r, eng_entry *n)
{
    eng_entry *o = r->g->slot[r->i];
    if (o == n)
        return;
    sh->expires += (size_t)ent_has_ttl(n) - (size_t)ent_has_ttl(o);
    memcpy(n->meta, o->meta, sizeof(n->meta)); /* the key's history stays */
    ent_set_level(n, ent_level(o));
    r->g->slot[r->i] = n;
}

int shard_insert(eng_shard *sh, uint64_t h, eng_entry *n)
{
    ent_set_level(n, ENG_TIER_COLD);
    if (ht_insert(&sh->ht, h, n) != FC_OK)
        return FC_ENOMEM;
    if (ent_has_ttl(n))
        sh->expires++;
    sh->tier_len[ENG_TIER_COLD]++;
    return FC_OK;
}

/* --- time and hashing live in time_hash.c --- */

/* --- lifecycle --- */

eng_shard *eng_shard_new(uint32_t index, size_t capacity,
                         const eng_observer *observer)
{
    eng_shard *sh = calloc(1, sizeof(*sh));
    if (!sh)
        return NULL;
    if (ht_init(&sh->ht, capacity) != FC_OK) {
        free(sh);
        return NULL;
    }
    slab_init(&sh->slab);
    sh->index = index;
    sh->clock_s = (uint32_t)(eng_now_ms() / 1000);
    sh->rng = 0x9E3779B97F4A7C15ULL * (index + 1);
    sh->obs = observer;
    return sh;
}

void eng_shard_set_seed(eng_shard *sh, uint64_t seed)
{
    assert(sh->ht.cur.count == 0 && !sh->ht.old.g);
    sh->ht.seed = seed;
}

static void free_table_entries(eng_shard *sh, struct ht_table *t)
{
    for (size_t gi = 0; t->g && gi < t->n; gi++) {
        struct ht_group *g = &t->g[gi];
        for (uint64_t m = ctrl_full(g->ctrl); m; m &= m - 1)
            shard_free_entry(sh, g->slot[ctrl_first(m)]);
    }
}

void eng_shard_free(eng_shard *sh)
{
    if (!sh)
        return;
    if (sh->budget) /* the total forgets this shard */
        shard_account_slow(sh, -sh->flushed);
    free_table_entries(sh, &sh->ht.old);
    free_table_entries(sh, &sh->ht.cur);
    ht_destroy(&sh->ht);
    slab_destroy(&sh->slab);
    free(sh);
}

void eng_clear(eng_shard *sh)
{
    free_table_entries(sh, &sh->ht.old);
    free_table_entries(sh, &sh->ht.cur);
    ht_reset(&sh->ht);
    sh->expires = 0;
    sh->sweep_pos = 0;
    sh->hand = 0;
    memset(sh->tier_len, 0, sizeof(sh->tier_len));
    shard_account(sh);
    shard_notify(sh, FC_MUT_CLEAR, NULL);
}

/* --- lookups --- */

eng_entry *shard_get_slow(eng_shard *sh, uint64_t hash, const void *key,
                          size_t klen, int64_t *now)
{
    struct ht_ref r;
    eng_entry *e;

    ht_step(&sh->ht); /* no-op unless resizing */
    if (!ht_find(&sh->ht, hash, key, klen, &r))
        return NULL;
    e = r.g->slot[r.i];
    if (ent_expired(e, now)) {
        shard_free_entry(sh, shard_remove(sh, &r, FC_MUT_EXPIRED));
        return NULL;
    }
    shard_mark(sh, e);
    shard_touch(sh, e, now);
    return e;
}

eng_entry *eng_get(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                   int64_t now)
{
    return shard_get(sh, hash, key, klen, &now);
}

eng_entry *eng_peek(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                    int64_t now)
{
    struct ht_ref r;
    if (!shard_find_live(sh, hash, key, klen, &now, &r))
        return NULL;
    return r.g->slot[r.i];
}

/* --- mutations --- */

static void hand_over(eng_shard *sh, eng_entry *e, eng_entry **detached)
{
    if (detached)
        *detached = e;
    else
        shard_free_entry(sh, e);
}

/* eng_set with a TTL already in the past: the key ends up absent. */
static int set_expired(eng_shard *sh, struct ht_ref *r, bool found, bool stale,
                       eng_entry **detached_old)
{
    if (found) {
        eng_entry *o = shard_remove(sh, r, stale ? FC_MUT_EXPIRED : FC_MUT_DEL);
        if (stale)
            shard_free_entry(sh, o);
        else
            hand_over(sh, o, detached_old);
        ht_maybe_shrink(&sh->ht);
    }
    return FC_OK;
}

/* Overwrites the entry at r (key present) with a new value. */
static int set_existing(eng_shard *sh, struct ht_ref *r, bool stale,
                        const void *val, size_t vlen, int64_t exp,
                        eng_entry **detached_old, eng_entry **out)
{
    eng_entry *o = r->g->slot[r->i], *n;
    struct ent_view v;

    if (!detached_old && ent_type(o) == ENG_TYPE_STRING) {
        bool had_ttl = ent_has_ttl(o);
        if (ent_try_overwrite(o, val, vlen, exp)) {
            sh->expires += (size_t)ent_has_ttl(o) - (size_t)had_ttl;
            *out = o;
            return FC_OK;
        }
    }
    ent_decode(o, &v);
    n = ent_new(&sh->slab, v.key, v.klen, val, vlen, exp, ENG_TYPE_STRING, 0);
    if (!n)
        return FC_ENOMEM;
    shard_replace(sh, r, n);
    if (stale)
        shard_free_entry(sh, o);
    else
        hand_over(sh, o, detached_old);
    *out = n;
    return FC_OK;
}

int eng_set(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
            const void *val, size_t vlen, int64_t expire_at, unsigned flags,
            int64_t now, eng_entry **detached_old, eng_entry **out)
{
    struct ht_ref r;
    eng_entry *e = NULL;
    bool found, stale = false;
    int64_t exp = expire_at;
    int rc;

    if (detached_old)
        *detached_old = NULL;
    if (out)
        *out = NULL;
    if (klen > FC_MAX_KEY_LEN || vlen > FC_MAX_VALUE_LEN)
        return FC_ETOOBIG;
    if ((rc = shard_make_room(sh, &now)) != FC_OK)
        return rc;
    ht_step(&sh->ht);
    found = ht_find(&sh->ht, hash, key, klen, &r);
    if (found)
        stale = ent_expired(r.g->slot[r.i], &now);
    if ((flags & ENG_SET_NX) && found && !stale)
        return FC_EEXISTS;
    if ((flags & ENG_SET_XX) && (!found || stale))
        return FC_ENOTSET;
    if ((flags & ENG_SET_KEEPTTL) && found && !stale)
        exp = eng_entry_expire_at(r.g->slot[r.i]);
    else if (exp != 0 && exp <= shard_now(&now))
        return set_expired(sh, &r, found, stale, detached_old);

    if (found) {
        rc = set_existing(sh, &r, stale, val, vlen, exp, detached_old, &e);
    } else {
        e = ent_new(&sh->slab, key, klen, val, vlen, exp, ENG_TYPE_STRING, 0);
        rc = e ? shard_insert(sh, hash, e) : FC_ENOMEM;
        if (rc != FC_OK) {
            shard_free_entry(sh, e);
            e = NULL;
        }
    }
    if (rc != FC_OK)
        return rc;
    if (found && !stale)
        shard_touch(sh, e, &now);
    else
        shard_meta_init(sh, e, &now);
    shard_notify(sh, FC_MUT_SET, e);
    if (out)
        *out = e;
    return FC_OK;
}

int eng_del(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
            int64_t now, eng_entry **detached)
{
    struct ht_ref r;

    if (detached)
        *detached = NULL;
    ht_step(&sh->ht);
    if (!shard_find_live(sh, hash, key, klen, &now, &r)) {
        ht_maybe_shrink(&sh->ht);
        return FC_ENOTFOUND;
    }
    hand_over(sh, shard_remove(sh, &r, FC_MUT_DEL), detached);
    ht_maybe_shrink(&sh->ht);
    if (sh->budget)
        shard_account_freed(sh);
    return FC_OK;
}

int eng_set_expire(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                   int64_t expire_at, int64_t now)
{
    struct ht_ref r;
    eng_entry *e, *n;

    ht_step(&sh->ht);
    if (!shard_find_live(sh, hash, key, klen, &now, &r))
        return FC_ENOTFOUND;
    e = r.g->slot[r.i];
    if (expire_at == 0) {
        if (!ent_has_ttl(e))
            return FC_OK; /* nothing changes, nothing to report */
        ent_drop_ttl(e);
        sh->expires--;
    } else if (expire_at <= shard_now(&now)) {
        shard_free_entry(sh, shard_remove(sh, &r, FC_MUT_DEL));
        ht_maybe_shrink(&sh->ht);
        return FC_OK;
    } else {
        n = ent_with_ttl(&sh->slab, e, expire_at);
        if (!n)
            return FC_ENOMEM;
        shard_replace(sh, &r, n);
        if (n != e) /* the block only: a typed value moved with its pointer */
            ent_free(&sh->slab, e);
        e = n;
    }
    shard_notify(sh, FC_MUT_EXPIRE, e);
    return FC_OK;
}

/* --- whole shard --- */

size_t eng_len(const eng_shard *sh)
{
    return ht_len(&sh->ht);
}

size_t eng_longest_probe(const eng_shard *sh)
{
    return ht_longest_probe(&sh->ht.cur);
}

size_t eng_memory(const eng_shard *sh)
{
    return shard_used(sh);
}

size_t eng_memory_held(const eng_shard *sh)
{
    return slab_bytes(&sh->slab) + sh->ht.bytes + sh->obj_bytes + sizeof(*sh);
}

uint64_t eng_seq(const eng_shard *sh)
{
    return sh->seq;
}

void eng_set_seq(eng_shard *sh, uint64_t seq)
{
    sh->seq = seq;
}

size_t eng_expires_count(const eng_shard *sh)
{
    return sh->expires;
}
