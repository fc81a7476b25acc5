/*
 * bench_peers.c — the in-process maps a C programmer would use instead of
 * libfastcache, measured on fast-cache's own workload: GLib's GHashTable
 * behind a mutex per shard (64 shards, as a fc_store has), uthash, and
 * Concurrency Kit's ck_ht (single-writer / many-reader mode). Same keys
 * (bench_key: 16 B), same 64 B values, the same pre-drawn uniform sequence,
 * one thread; a get copies the value out, as fc_local_get does.
 *
 * What the peers do not do (and fast-cache does): TTL checks, eviction
 * bits, memory accounting, incremental resize. Each peer is sized for the
 * key count up front where its API allows it (ck_ht; GHashTable and uthash
 * cannot be pre-sized and grow by doubling during the load).
 *
 * Hashes: uthash and ck_ht use their own defaults (Jenkins, MurmurHash64A),
 * as a user would; GLib has none for binary keys, so it gets the same
 * splitmix64 fold of the key's two words bench_key uses.
 *
 * Threads: main thread only. Everything a peer allocates is freed before
 * the next one loads, so the RSS deltas are per peer.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

#include <ck_ht.h>
#include <glib.h>
#include <uthash.h>

#define PEER_SHARDS 64 /* glib_shard takes the top 6 hash bits */

/* Key and value in one block, as fast-cache's entries are. */
typedef struct peer_item {
    uint8_t key[BENCH_KEY_LEN];
    uint8_t val[BENCH_VAL_LEN];
} peer_item;

typedef struct uth_item {
    uint8_t key[BENCH_KEY_LEN];
    uint8_t val[BENCH_VAL_LEN];
    UT_hash_handle hh;
} uth_item;

typedef struct peer_state {
    /* glib */
    GHashTable *gt[PEER_SHARDS];
    GMutex gm[PEER_SHARDS];
    /* uthash */
    uth_item *uth;
    /* ck_ht */
    ck_ht_t ck;
    peer_item *ck_items;
} peer_state;

static uint64_t key_hash64(const uint8_t *k)
{
    uint64_t a, b;
    memcpy(&a, k, 8);
    memcpy(&b, k + 8, 8);
    /* Not a ^ mix64(b): bench_key's high half is mix64 of its low half. */
    return bench_mix64(a ^ (b * 0xff51afd7ed558ccdull));
}

/* The table gets the low 32 bits; the shard the top 6 (glib_shard), so the
 * bits a shard's table sees are not constant within the shard. */
static guint glib_hash(gconstpointer p)
{
    return (guint)key_hash64(p);
}

static unsigned glib_shard(const uint8_t *k)
{
    return (unsigned)(key_hash64(k) >> 58);
}

static gboolean glib_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, BENCH_KEY_LEN) == 0;
}

static void *ck_malloc_cb(size_t n)
{
    return malloc(n);
}

static void ck_free_cb(void *p, size_t n, bool defer)
{
    (void)n;
    (void)defer;
    free(p);
}

static struct ck_malloc ck_alloc = {.malloc = ck_malloc_cb, .free = ck_free_cb};

/* --- loads; each returns 0 or -1 (OOM) --- */

static int load_glib(peer_state *ps, size_t keys)
{
    for (unsigned s = 0; s < PEER_SHARDS; s++) {
        ps->gt[s] = g_hash_table_new_full(glib_hash, glib_equal, NULL, free);
        g_mutex_init(&ps->gm[s]);
    }
    for (size_t i = 0; i < keys; i++) {
        peer_item *it = malloc(sizeof(*it));
        if (!it)
            return -1;
        bench_key(it->key, (uint32_t)i);
        memset(it->val, 'v', sizeof(it->val));
        unsigned s = glib_shard(it->key);
        g_mutex_lock(&ps->gm[s]);
        g_hash_table_insert(ps->gt[s], it, it);
        g_mutex_unlock(&ps->gm[s]);
    }
    return 0;
}

static void free_glib(peer_state *ps)
{
    for (unsigned s = 0; s < PEER_SHARDS; s++) {
        g_hash_table_destroy(ps->gt[s]);
        g_mutex_clear(&ps->gm[s]);
    }
}

static int load_uthash(peer_state *ps, size_t keys)
{
    for (size_t i = 0; i < keys; i++) {
        uth_item *it = malloc(sizeof(*it));
        if (!it)
            return -1;
        bench_key(it->key, (uint32_t)i);
        memset(it->val, 'v', sizeof(it->val));
        HASH_ADD(hh, ps->uth, key, BENCH_KEY_LEN, it);
    }
    return 0;
}

static void free_uthash(peer_state *ps)
{
    uth_item *it, *tmp;
    HASH_ITER(hh, ps->uth, it, tmp)
    {
        HASH_DEL(ps->uth, it);
        free(it);
    }
}

static int load_ck(peer_state *ps, size_t keys)
{
    if (!ck_ht_init(&ps->ck, CK_HT_MODE_BYTESTRING, NULL, &ck_alloc, keys,
                    0x5eed))
        return -1;
    /* ck_ht stores pointers to the key; the items live in one array. */
    if (!(ps->ck_items = malloc(keys * sizeof(peer_item))))
        return -1;
    for (size_t i = 0; i < keys; i++) {
        peer_item *it = &ps->ck_items[i];
        ck_ht_hash_t h;
        ck_ht_entry_t e;
        bench_key(it->key, (uint32_t)i);
        memset(it->val, 'v', sizeof(it->val));
        ck_ht_hash(&h, &ps->ck, it->key, BENCH_KEY_LEN);
        ck_ht_entry_set(&e, h, it->key, BENCH_KEY_LEN, it);
        if (!ck_ht_put_spmc(&ps->ck, h, &e))
            return -1;
    }
    return 0;
}

static void free_ck(peer_state *ps)
{
    ck_ht_destroy(&ps->ck);
    free(ps->ck_items);
    ps->ck_items = NULL;
}

/* --- timed gets: copy the value out, sum it into the sink --- */

static uint64_t get_glib(peer_state *ps, const uint32_t *seq, size_t n,
                         uint64_t *misses)
{
    uint64_t sink = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t key[BENCH_KEY_LEN], buf[BENCH_VAL_LEN];
        bench_key(key, seq[i] & BENCH_SEQ_IDX);
        unsigned s = glib_shard(key);
        g_mutex_lock(&ps->gm[s]);
        peer_item *it = g_hash_table_lookup(ps->gt[s], key);
        if (it)
            memcpy(buf, it->val, sizeof(buf));
        g_mutex_unlock(&ps->gm[s]);
        if (it)
            sink += sizeof(buf) + buf[0];
        else
            (*misses)++;
    }
    return sink;
}

static uint64_t get_uthash(peer_state *ps, const uint32_t *seq, size_t n,
                           uint64_t *misses)
{
    uint64_t sink = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t key[BENCH_KEY_LEN], buf[BENCH_VAL_LEN];
        uth_item *it;
        bench_key(key, seq[i] & BENCH_SEQ_IDX);
        HASH_FIND(hh, ps->uth, key, BENCH_KEY_LEN, it);
        if (it) {
            memcpy(buf, it->val, sizeof(buf));
            sink += sizeof(buf) + buf[0];
        } else {
            (*misses)++;
        }
    }
    return sink;
}

static uint64_t get_ck(peer_state *ps, const uint32_t *seq, size_t n,
                       uint64_t *misses)
{
    uint64_t sink = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t key[BENCH_KEY_LEN], buf[BENCH_VAL_LEN];
        ck_ht_hash_t h;
        ck_ht_entry_t e;
        bench_key(key, seq[i] & BENCH_SEQ_IDX);
        ck_ht_hash(&h, &ps->ck, key, BENCH_KEY_LEN);
        ck_ht_entry_key_set(&e, key, BENCH_KEY_LEN);
        if (ck_ht_get_spmc(&ps->ck, h, &e)) {
            const peer_item *it = ck_ht_entry_value(&e);
            memcpy(buf, it->val, sizeof(buf));
            sink += sizeof(buf) + buf[0];
        } else {
            (*misses)++;
        }
    }
    return sink;
}

enum peer { PEER_GLIB, PEER_UTHASH, PEER_CK, PEER_COUNT };

static const char *const peer_names[PEER_COUNT] = {"glib", "uthash", "ck_ht"};

typedef uint64_t (*peer_get_fn)(peer_state *, const uint32_t *, size_t,
                                uint64_t *);

/* Loads one peer, times BENCH_REPS passes of gets (after a warm-up pass
 * over a tenth of the sequence, as bench_fc does), keeps the fastest,
 * frees it. */
static int run_peer(peer_state *ps, enum peer p, size_t keys,
                    const bench_seq *sq, double *ns, double *rss_pk)
{
    static int (*const load[PEER_COUNT])(peer_state *, size_t) = {
        load_glib, load_uthash, load_ck};
    static void (*const unload[PEER_COUNT])(peer_state *) = {
        free_glib, free_uthash, free_ck};
    static const peer_get_fn get[PEER_COUNT] = {get_glib, get_uthash, get_ck};
    uint64_t misses = 0, sink = 0, best = UINT64_MAX;

    bench_trim();
    size_t rss0 = bench_rss_bytes();
    int rc = load[p](ps, keys);
    size_t rss1 = bench_rss_bytes();
    if (rc == 0) {
        size_t warm = sq->n / 10 < 200000 ? sq->n / 10 : 200000;
        sink += get[p](ps, sq->seq[0], warm, &misses);
        for (unsigned r = 0; r < BENCH_REPS; r++) {
            uint64_t t0 = bench_now_ns();
            sink += get[p](ps, sq->seq[0], sq->n, &misses);
            uint64_t dt = bench_now_ns() - t0;
            best = dt < best ? dt : best;
        }
    }
    unload[p](ps);
    bench_sink += sink;
    if (rc < 0) {
        fprintf(stderr, "fast-cache-bench: %s: out of memory\n", peer_names[p]);
        return -1;
    }
    if (misses)
        fprintf(stderr, "WARNING: %s: %llu misses\n", peer_names[p],
                (unsigned long long)misses);
    *ns = (double)best / (double)sq->n;
    *rss_pk = rss1 > rss0 ? (double)(rss1 - rss0) / (double)keys : 0;
    return 0;
}

int bench_peers_run(const bench_opts *o)
{
    char kbuf[24];
    const char *k = bench_count_name(o->keys, kbuf, sizeof(kbuf));
    bench_seq sq;
    double ns[PEER_COUNT], rss[PEER_COUNT];
    peer_state *ps = calloc(1, sizeof(*ps));

    if (!ps || bench_seq_build(&sq, 1, o->ops, DIST_UNIFORM, o->keys, NULL,
                               BENCH_SEED_UNIFORM) < 0) {
        free(ps);
        fprintf(stderr, "fast-cache-bench: out of memory (peers)\n");
        return -1;
    }
    int rc = 0;
    for (int p = 0; p < PEER_COUNT && rc == 0; p++)
        rc = run_peer(ps, (enum peer)p, o->keys, &sq, &ns[p], &rss[p]);
    bench_seq_free(&sq);
    free(ps);
    if (rc < 0)
        return -1;

    const bench_result *l =
        bench_results_find(o->keys, DIST_UNIFORM, OP_GET, 1, HANDLE_LOCAL, 1);
    const bench_result *s =
        bench_results_find(o->keys, DIST_UNIFORM, OP_GET, 1, HANDLE_SHARED, 1);
    printf("peer get %s uniform: fast-cache local %.1f ns/op", k,
           l ? l->ns_per_op : 0.0);
    if (s)
        printf(" (shared %.1f)", s->ns_per_op);
    for (int p = 0; p < PEER_COUNT; p++)
        printf(", %s %.1f", peer_names[p], ns[p]);
    printf("\n");
    if (l) {
        printf("peer ratios (peer ns/op / fast-cache local ns/op; > 1: "
               "fast-cache is faster):");
        for (int p = 0; p < PEER_COUNT; p++)
            printf(" %s %.2fx", peer_names[p], ns[p] / l->ns_per_op);
        printf("\n");
    }
    printf("peer memory %s keys (RSS growth per key, %d B payload):", k,
           BENCH_PAYLOAD);
    double fc_rss, fc_acc;
    if (bench_mem_find(o->keys, HANDLE_LOCAL, &fc_rss, &fc_acc))
        printf(" fast-cache local %.1f B/key,", fc_rss);
    for (int p = 0; p < PEER_COUNT; p++)
        printf(" %s %.1f%s", peer_names[p], rss[p],
               p + 1 < PEER_COUNT ? "," : "\n");
    fflush(stdout);
    return 0;
}
