/*
 * getstr.c — the string reads (eng_get_str, eng_get_str_copy): eng_get
 * for a string value, in one pass.
 *
 * Why its own probe. At a key count past the caches a get is two misses,
 * the key's group and then its entry, and nothing inside one get can
 * overlap them. What overlaps is a caller's next gets: the core runs
 * ahead into them while the misses are outstanding, as far as its reorder
 * window reaches, so every instruction a get costs pushes the next get's
 * misses later. Measured (docs/ARCHITECTURE.md "The get path"): 150
 * instructions added to a get cost ~30 ns at 1M keys. So the common hit
 * (a plain string, one-byte lengths, no TTL) is done here with the probe
 * that found the key also yielding the value, no call into libc (keys
 * compare and values copy inline up to their usual sizes), and no call
 * that returns here (the rare ones are tail calls), which also spares the
 * register saves a call would force on every lookup. Everything else (a
 * resize under way, a TTL, which needs the clock, long keys or values, a
 * typed value) takes eng_get's general path.
 *
 * Threads: the shard's owner (or its lock holder), as eng_get.
 */
#include "engine/shard.h"

/* The general path, out of line: eng_get from scratch (e == NULL), or the
 * hit of a found entry e (its expiry, mark and touch); a string's value
 * then goes to *val / *vlen, or is copied into buf (cap bytes) when buf's
 * length pointer len is given. Returns what eng_get_str(_copy) returns. */
static __attribute__((noinline)) int
get_str_slow(eng_shard *sh, eng_entry *e, uint64_t hash, const void *key,
             size_t klen, int64_t now, const void **val, size_t *vlen,
             void *buf, size_t cap, size_t *len)
{
    e = e ? shard_hit(sh, e, hash, key, klen, &now)
          : shard_get(sh, hash, key, klen, &now);
    if (!e)
        return FC_ENOTFOUND;
    if (ent_type(e) != ENG_TYPE_STRING)
        return FC_EWRONGTYPE;
    struct ent_view d;
    ent_decode(e, &d);
    if (!len) {
        *val = d.val;
        *vlen = d.vlen;
        return FC_OK;
    }
    *len = d.vlen;
    if (d.vlen > cap)
        return FC_ETRUNC;
    ent_copy_value(buf, d.val, d.vlen);
    return FC_OK;
}

static __attribute__((noinline)) int lfu_touch_rc(eng_shard *sh, eng_entry *e,
                                                  int64_t now, int rc)
{
    shard_lfu_touch(sh, e, &now);
    return rc;
}

/* shard_mark and shard_touch, then rc, with LFU's call in tail position. */
static inline int touch_rc(eng_shard *sh, eng_entry *e, int64_t now, int rc)
{
    shard_mark(sh, e);
    if (!sh->budget)
        return rc;
    int pol = atomic_load_explicit(&sh->budget->policy, memory_order_relaxed);
    if (__builtin_expect(shard_pol_lfu(pol), 0))
        return lfu_touch_rc(sh, e, now, rc);
    uint32_t c = shard_clock(sh, &now);
    if (ent_meta(e) != c) /* once a second at most: the line stays clean */
        ent_set_meta(e, c);
    return rc;
}

enum probe { PROBE_MISS, PROBE_HIT, PROBE_SLOW };

/* The probe. PROBE_HIT: *ep is key's entry, a plain string with one-byte
 * lengths and no TTL, its value at *val (not yet marked or touched).
 * PROBE_MISS: absent. PROBE_SLOW: the general path decides (*ep: the
 * entry when found, NULL to look up from scratch). */
static inline __attribute__((always_inline)) enum probe
str_probe(const eng_shard *sh, uint64_t hash, const void *key, size_t klen,
          eng_entry **ep, const uint8_t **val, size_t *vlen)
{
    *ep = NULL;
    if (__builtin_expect(sh->ht.old.g != NULL || klen >= 0x80, 0))
        return PROBE_SLOW;
    const struct ht_group *base = sh->ht.cur.g;
    size_t n = sh->ht.cur.n;
    const struct ht_group *g = base + ht_home(hash, n), *end = base + n;
    unsigned tag = ht_tag(hash);
    for (size_t probes = n; probes; probes--) {
        uint64_t c = g->ctrl;
        for (uint64_t m = ctrl_match(c, tag); m; m &= m - 1) {
            eng_entry *e = g->slot[ctrl_first(m)];
            const uint8_t *p = e->rest;
            /* The value usually runs into the entry's next line. */
            __builtin_prefetch((const char *)e + 64);
            if (p[0] != klen) /* a two-byte klen never equals klen < 0x80 */
                continue;
            /* A value of 128 B or more moves the key by a byte. */
            if (__builtin_expect(p[1] & 0x80, 0))
                return PROBE_SLOW;
            const uint8_t *k = p + 2 + (e->flags & ENT_F_TTL) * 8;
            if (!eng_bytes_eq(k, key, klen))
                continue;
            *ep = e;
            if (__builtin_expect(e->flags & (ENT_F_TTL | ENT_TYPE_MASK), 0))
                return PROBE_SLOW;
            *val = k + klen;
            *vlen = p[1];
            return PROBE_HIT;
        }
        if (ctrl_stops(c))
            return PROBE_MISS;
        if (++g == end)
            g = base;
    }
    return PROBE_MISS;
}

int eng_get_str(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                int64_t now, const void **val, size_t *vlen)
{
    eng_entry *e;
    const uint8_t *v;
    size_t vl;
    enum probe r = str_probe(sh, hash, key, klen, &e, &v, &vl);
    if (__builtin_expect(r == PROBE_HIT, 1)) {
        *val = v;
        *vlen = vl;
        return touch_rc(sh, e, now, FC_OK);
    }
    if (r == PROBE_MISS)
        return FC_ENOTFOUND;
    return get_str_slow(sh, e, hash, key, klen, now, val, vlen, NULL, 0, NULL);
}

int eng_get_str_copy(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                     void *buf, size_t cap, size_t *len)
{
    int64_t now = ENG_NOW_LAZY;
    eng_entry *e;
    const uint8_t *v;
    size_t vl;
    enum probe r = str_probe(sh, hash, key, klen, &e, &v, &vl);
    if (__builtin_expect(r == PROBE_HIT, 1)) {
        *len = vl;
        if (vl > cap)
            return touch_rc(sh, e, now, FC_ETRUNC);
        ent_copy_value(buf, v, vl);
        return touch_rc(sh, e, now, FC_OK);
    }
    if (r == PROBE_MISS)
        return FC_ENOTFOUND;
    return get_str_slow(sh, e, hash, key, klen, now, NULL, NULL, buf, cap, len);
}
