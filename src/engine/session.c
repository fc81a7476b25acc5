/*
 * session.c — session prefixes and route hashes (spec storage.md §1.1).
 *
 * A key's session prefix:
 *  - a key starting with "s:" : everything before the LAST ":c:" (the whole
 *    key when there is none): "s:42:c:7" -> "s:42";
 *  - otherwise, when the key is valid UTF-8 and contains '@': the first
 *    '@'-separated part that starts with "session%" gives
 *    "lmcache-session:<the rest of that part>" (LMCache's key naming);
 *  - otherwise none: the key routes as itself.
 *
 * Route hash. The store's shard is the low bits of a key's hash (at most 16:
 * FC_MAX_SHARDS is 2^16) and the shard's table uses bits 16..63 only (tag
 * and home group, table.c). In session_prefix mode the route hash is
 *     (key_hash & ~0xffff) | (prefix_hash & 0xffff)
 * so the shard comes from the prefix and the table bits from the key: a
 * table resize, which rehashes keys alone (eng_hash_seeded), finds the same
 * bits 16..63, and keys of one session still spread over the shard's table.
 * A key that is its own prefix gets exactly its plain hash.
 */
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "engine/engine.h"

#define LMC_PREFIX "lmcache-session:"
#define LMC_PREFIX_LEN (sizeof(LMC_PREFIX) - 1)
#define LMC_MARK "session%"
#define LMC_MARK_LEN (sizeof(LMC_MARK) - 1)

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
static bool utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

int eng_session_prefix(const void *key, size_t klen, eng_prefix *out)
{
    const uint8_t *k = key;
    out->head = NULL;
    out->head_len = 0;
    out->p = k;
    out->n = klen;
    if (klen >= 2 && k[0] == 's' && k[1] == ':') {
        if (klen >= 3)
            for (size_t i = klen - 2; i-- > 0;) /* i = klen-3 .. 0 */
                if (k[i] == ':' && k[i + 1] == 'c' && k[i + 2] == ':') {
                    out->n = i;
                    break;
                }
        return 1;
    }
    if (!memchr(k, '@', klen) || !utf8_valid(k, klen))
        return 0;
    for (size_t start = 0; start <= klen;) {
        const uint8_t *at = memchr(k + start, '@', klen - start);
        size_t end = at ? (size_t)(at - k) : klen;
        if (end - start >= LMC_MARK_LEN &&
            memcmp(k + start, LMC_MARK, LMC_MARK_LEN) == 0) {
            out->head = LMC_PREFIX;
            out->head_len = LMC_PREFIX_LEN;
            out->p = k + start + LMC_MARK_LEN;
            out->n = end - start - LMC_MARK_LEN;
            return 1;
        }
        if (!at)
            break;
        start = end + 1;
    }
    return 0;
}

uint64_t eng_prefix_hash(uint64_t seed, const eng_prefix *pf)
{
    if (!pf->head_len)
        return eng_hash_seeded(seed, pf->p, pf->n);
    /* "lmcache-session:" + rest, without building the string: short ones
     * on the stack, long ones through the streaming state. Both give the
     * hash of the concatenation. */
    uint8_t tmp[256];
    if (pf->head_len + pf->n <= sizeof(tmp)) {
        memcpy(tmp, pf->head, pf->head_len);
        if (pf->n)
            memcpy(tmp + pf->head_len, pf->p, pf->n);
        return eng_hash_seeded(seed, tmp, pf->head_len + pf->n);
    }
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    if (seed)
        XXH3_64bits_reset_withSeed(&st, seed);
    else
        XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, pf->head, pf->head_len);
    XXH3_64bits_update(&st, pf->p, pf->n);
    return XXH3_64bits_digest(&st);
}

uint64_t eng_route_hash(uint64_t seed, int mode, const void *key, size_t klen)
{
    uint64_t h = eng_hash_seeded(seed, key, klen);
    if (mode != FC_ROUTE_SESSION_PREFIX)
        return h;
    eng_prefix pf;
    if (!eng_session_prefix(key, klen, &pf) || (!pf.head_len && pf.n == klen))
        return h; /* no prefix, or the key is its own: the plain hash */
    return eng_route_combine(h, eng_prefix_hash(seed, &pf));
}
