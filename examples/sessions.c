/* sessions.c — session routing, packed batch reads and a transfer with the
 * host backend (README, "Sessions, packed batches and transfers").
 *
 * A "session" is a set of chunks keyed "s:<id>:c:<n>". With route_mode
 * FC_ROUTE_SESSION_PREFIX all of them live in one shard, so writing or
 * reading a session takes one shard lock. Build: part of the CMake build
 * (sessions-example), or
 *   cc examples/sessions.c $(pkg-config --cflags --libs fastcache)
 */
#include <stdio.h>
#include <string.h>

#include <fastcache.h>

#define CHUNKS 4

static int check(int rc, const char *what)
{
    if (rc != FC_OK)
        fprintf(stderr, "%s: %s\n", what, fc_strerror(rc));
    return rc;
}

int main(void)
{
    fc_options o = {.shards = 16, .route_mode = FC_ROUTE_SESSION_PREFIX};
    fc_store *s;
    if (check(fc_store_open(&s, &o), "open"))
        return 1;

    /* A packed session write: four chunks, values back to back. */
    char key[CHUNKS][16];
    fc_slice keys[CHUNKS];
    const char data[] = "layer0-layer1-layer2-layer3-";
    size_t off[CHUNKS], len[CHUNKS];
    for (int i = 0; i < CHUNKS; i++) {
        snprintf(key[i], sizeof(key[i]), "s:42:c:%d", i);
        keys[i] = (fc_slice){key[i], strlen(key[i])};
        off[i] = (size_t)i * 7;
        len[i] = 7;
    }
    fc_session_write w = {{"s:42", 4}, keys, CHUNKS,     data,
                          off,         len,  FC_TTL_NONE};
    if (check(fc_mset_session(s, &w, NULL), "session write"))
        return 1;

    /* Where the session lives: every chunk routes to its shard. */
    fc_route sr, r;
    fc_store_route_session(s, "s:42", 4, &sr);
    fc_store_route(s, keys[3].data, keys[3].len, &r);
    printf("session s:42 -> shard %u, chunk 3 -> shard %u\n", sr.shard,
           r.shard);

    /* A precomputed route, reused. */
    char buf[16];
    size_t n;
    for (int i = 0; i < 2; i++)
        if (fc_get_routed(s, &r, keys[3].data, keys[3].len, buf, sizeof(buf),
                          &n) == FC_OK)
            printf("routed get: %.*s\n", (int)n, buf);

    /* A packed read: every hit in one buffer, a miss marked. */
    fc_slice batch[3] = {keys[2], {"s:42:c:9", 8}, keys[0]};
    fc_packed p;
    fc_packed_init(&p, NULL, 0); /* the library owns and reuses the buffer */
    if (check(fc_mget_packed(s, batch, 3, &p), "packed read"))
        return 1;
    printf("packed: %zu of %zu hit, %zu bytes\n", p.hits, p.n, p.size);
    for (size_t i = 0; i < p.n; i++) {
        if (p.offset[i] == FC_PACKED_MISS)
            printf("  [%zu] miss\n", i);
        else
            printf("  [%zu] %.*s\n", i, (int)p.length[i],
                   (const char *)p.data + p.offset[i]);
    }
    fc_packed_free(&p);

    /* A transfer: chunks to their offsets in a destination buffer (host
     * memory here; the CUDA backend copies into device memory). */
    fc_chunk_desc d[3] = {
        {keys[1], 1, 0, 7},
        {keys[0], 0, 7, 7},
        {{"s:42:c:7", 8}, 7, 14, 7}, /* absent */
    };
    fc_transfer_req t = {{"s:42", 4}, d, 3};
    char dst[21];
    memset(dst, '.', sizeof(dst));
    int status[3];
    fc_transfer_stats st;
    fc_backend *b;
    fc_backend_host(&b);
    if (check(fc_transfer(s, &t, b, dst, sizeof(dst), status, &st), "transfer"))
        return 1;
    printf("transfer: %.*s (requested %llu, hit %llu, missed %llu, %llu "
           "bytes)\n",
           (int)sizeof(dst), dst, (unsigned long long)st.requested,
           (unsigned long long)st.hit, (unsigned long long)st.missed,
           (unsigned long long)st.bytes);
    int ok = st.hit == 2 && st.missed == 1 && status[2] == FC_CHUNK_MISS &&
             memcmp(dst, "layer1-layer0-.......", sizeof(dst)) == 0;
    fc_backend_close(b);
    fc_store_close(s);
    return ok ? 0 : 1;
}
