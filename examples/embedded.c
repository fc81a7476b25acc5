/*
 * embedded.c — libfastcache in a few lines: the shared, thread-safe handle
 * (set/get, TTLs, counters, batches) and worker-local handles driven by one
 * thread each.
 *
 * Build: cc embedded.c $(pkg-config --cflags --libs fastcache)
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <fastcache.h>

#define CHECK(call)                                                            \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ < 0) {                                                         \
            fprintf(stderr, "%s: %s\n", #call, fc_strerror(rc_));              \
            return 1;                                                          \
        }                                                                      \
    } while (0)

static void print_value(void *ctx, size_t i, int status, const void *value,
                        size_t len)
{
    const fc_slice *keys = ctx;
    if (status == FC_OK)
        printf("  mget %.*s = %.*s\n", (int)keys[i].len,
               (const char *)keys[i].data, (int)len, (const char *)value);
    else
        printf("  mget %.*s: %s\n", (int)keys[i].len,
               (const char *)keys[i].data, fc_strerror(status));
}

static int shared_handle(void)
{
    fc_store *s;
    CHECK(fc_store_open(&s, NULL)); /* 64 shards, one lock each */

    CHECK(fc_set(s, "greeting", 8, "hello", 5, FC_TTL_NONE, 0));
    char buf[64];
    size_t len;
    CHECK(fc_get(s, "greeting", 8, buf, sizeof(buf), &len));
    printf("get greeting = %.*s\n", (int)len, buf);

    /* NX: only if absent. */
    int rc = fc_set(s, "greeting", 8, "bye", 3, FC_TTL_NONE, FC_SET_NX);
    printf("set greeting NX -> %s\n", fc_strerror(rc));

    /* TTLs are in milliseconds. */
    CHECK(fc_set(s, "session", 7, "alice", 5, 30 * 1000, 0));
    printf("ttl session = %lld s\n", (long long)fc_ttl(s, "session", 7));

    int64_t n;
    CHECK(fc_incrby(s, "visits", 6, 1, &n));
    CHECK(fc_incrby(s, "visits", 6, 41, &n));
    printf("incrby visits -> %lld\n", (long long)n);

    /* Batches take each shard's lock once; results come by input index. */
    fc_kv items[] = {
        {{"a", 1}, {"1", 1}, FC_TTL_NONE},
        {{"b", 1}, {"2", 1}, FC_TTL_NONE},
    };
    CHECK(fc_mset(s, items, 2, NULL));
    fc_slice keys[] = {{"a", 1}, {"b", 1}, {"zz", 2}};
    CHECK(fc_mget(s, keys, 3, print_value, keys));

    printf("len = %zu\n", fc_len(s));
    fc_store_close(s);
    return 0;
}

/* Worker-local: each thread owns some shards and touches only those, with
 * no locks. A key owned elsewhere answers FC_ENOTLOCAL and names its owner,
 * so a real program would pass the request to that worker. */
struct worker {
    fc_workers *w;
    unsigned id;
    int stored;
};

static void *worker_main(void *arg)
{
    struct worker *me = arg;
    fc_local *l = fc_workers_local(me->w, me->id);
    char key[16];
    for (int i = 0; i < 10; i++) {
        int kl = snprintf(key, sizeof(key), "item:%d", i);
        unsigned owner;
        int rc =
            fc_local_set(l, key, (size_t)kl, "x", 1, FC_TTL_NONE, 0, &owner);
        if (rc == FC_OK)
            me->stored++;
        else if (rc != FC_ENOTLOCAL || owner == me->id)
            return NULL; /* unexpected: stored stays short */
    }
    return NULL;
}

static int worker_handles(void)
{
    fc_workers *w;
    CHECK(fc_workers_open(&w, NULL, 2));
    pthread_t th[2];
    struct worker ws[2] = {{w, 0, 0}, {w, 1, 0}};
    for (int i = 0; i < 2; i++)
        if (pthread_create(&th[i], NULL, worker_main, &ws[i]) != 0)
            return 1;
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++)
        printf("worker %d stored %d of 10 keys (owns %zu)\n", i, ws[i].stored,
               fc_local_len(fc_workers_local(w, (unsigned)i)));
    int total = ws[0].stored + ws[1].stored;
    fc_workers_close(w);
    return total == 10 ? 0 : 1; /* each key has exactly one owner */
}

int main(void)
{
    printf("libfastcache %s\n", FC_VERSION_STRING);
    if (shared_handle() != 0 || worker_handles() != 0)
        return 1;
    return 0;
}
