/* fuzz_session.c — libFuzzer target for session prefixes and route hashes
 * (src/engine/session.c through the public API): the input is a key.
 * Checks, for any bytes: the prefix obeys the grammar (an `s:` key's is a
 * prefix of it ending before the last ":c:", an LMCache one starts with
 * "lmcache-session:"); in session_prefix mode the route keeps the key's
 * own hash in bits 16..63 and takes the prefix's shard; a key set in a
 * session_prefix store is found again, by plain and routed gets. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fastcache.h"

static fc_store *store;

static const uint8_t *last_cc(const uint8_t *k, size_t n)
{
    for (size_t i = n >= 3 ? n - 3 + 1 : 0; i-- > 0;)
        if (k[i] == ':' && k[i + 1] == 'c' && k[i + 2] == ':')
            return k + i;
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store) {
        fc_options o = {.shards = 256, .route_mode = FC_ROUTE_SESSION_PREFIX,
                        .hash_seed = 99};
        if (fc_store_open(&store, &o) != FC_OK)
            abort();
    }
    size_t cap = size + 32, plen = 0;
    uint8_t *pfx = malloc(cap);
    int rc = fc_session_prefix(data, size, pfx, cap, &plen);
    if (rc < 0)
        abort();
    bool is_s = size >= 2 && data[0] == 's' && data[1] == ':';
    if (is_s) {
        if (rc != 1 || plen > size || memcmp(pfx, data, plen) != 0)
            abort();
        const uint8_t *cc = last_cc(data, size);
        if (cc ? plen != (size_t)(cc - data) : plen != size)
            abort();
    } else if (rc == 1) {
        if (plen < 16 || memcmp(pfx, "lmcache-session:", 16) != 0 ||
            !memchr(data, '@', size))
            abort();
    }
    fc_route kr, pr;
    if (fc_store_route(store, data, size, &kr) != FC_OK)
        abort();
    if (rc == 1) {
        if (fc_store_route_session(store, pfx, plen, &pr) != FC_OK ||
            pr.shard != kr.shard)
            abort();
    }
    fc_options plain_o = {.shards = 256, .hash_seed = 99};
    static fc_store *plain;
    if (!plain && fc_store_open(&plain, &plain_o) != FC_OK)
        abort();
    uint64_t ph = fc_store_hash(plain, data, size);
    if ((ph >> 16) != (kr.hash >> 16) || (rc != 1 && ph != kr.hash))
        abort();
    if (fc_set(store, data, size, "v", 1, FC_TTL_NONE, 0) != FC_OK)
        abort();
    char buf[2];
    size_t len;
    if (fc_get(store, data, size, buf, sizeof buf, &len) != FC_OK ||
        fc_get_routed(store, &kr, data, size, buf, sizeof buf, &len) !=
            FC_OK ||
        len != 1)
        abort();
    if (fc_len(store) > 100000)
        fc_clear(store);
    free(pfx);
    return 0;
}
