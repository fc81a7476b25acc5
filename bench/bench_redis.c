/*
 * bench_redis.c — the same get/set workload through hiredis against a
 * redis-server this process starts on a private unix socket, printed next to
 * the fast-cache figures already measured.
 *
 * Owns: the redis-server child (pid and socket path below). It is stopped
 *   by bench_redis_run on every path, by bench_redis_cleanup from exit and
 *   signal paths, and by the kernel (PR_SET_PDEATHSIG) if this process dies.
 * Threads: main thread only.
 */
#include "bench.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define REDIS_LOAD_PIPELINE 1000
#define REDIS_START_WAIT_MS 10000

static volatile pid_t redis_pid;
static char redis_sock[64];

/* Async-signal-safe: kill, waitpid, nanosleep and unlink only. */
void bench_redis_cleanup(void)
{
    pid_t pid = redis_pid;
    if (pid <= 0)
        return;
    redis_pid = 0;
    kill(pid, SIGTERM);
    for (int i = 0; i < 200; i++) { /* up to 2 s, then force */
        if (waitpid(pid, NULL, WNOHANG) == pid)
            goto reaped;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
reaped:
    unlink(redis_sock);
}

static bool in_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[4096];
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        if (n > 0 && n + strlen(prog) + 2 < sizeof(buf)) {
            snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
            if (access(buf, X_OK) == 0)
                return true;
        }
        path += n + (path[n] == ':');
    }
    return false;
}

static void child_exec(pid_t parent)
{
    /* Dies with the bench, even if the bench crashes. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
    }
    execlp("redis-server", "redis-server", "--port", "0", "--unixsocket",
           redis_sock, "--save", "", "--appendonly", "no", "--daemonize", "no",
           (char *)NULL);
    _exit(127);
}

/* Starts the server and returns a connected context, or NULL. */
static redisContext *redis_start(void)
{
    snprintf(redis_sock, sizeof(redis_sock), "/tmp/fc-bench-%d.sock",
             (int)getpid());
    unlink(redis_sock);
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return NULL;
    }
    if (pid == 0)
        child_exec(parent);
    redis_pid = pid;
    struct timeval tv = {1, 0};
    for (int waited = 0; waited < REDIS_START_WAIT_MS; waited += 20) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            redis_pid = 0;
            fprintf(stderr, "redis-server exited during start-up\n");
            return NULL;
        }
        redisContext *c = redisConnectUnixWithTimeout(redis_sock, tv);
        if (c && !c->err) {
            redisReply *r = redisCommand(c, "PING");
            bool ok = r && r->type == REDIS_REPLY_STATUS &&
                      strcmp(r->str, "PONG") == 0;
            if (r)
                freeReplyObject(r);
            if (ok)
                return c;
        }
        if (c)
            redisFree(c);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "redis-server did not answer on %s\n", redis_sock);
    return NULL;
}

/* A field of INFO memory, or -1. */
static long long redis_info_mem(redisContext *c, const char *field)
{
    redisReply *r = redisCommand(c, "INFO memory");
    long long v = -1;
    if (r && r->type == REDIS_REPLY_STRING) {
        size_t fl = strlen(field);
        for (const char *p = r->str; (p = strstr(p, field)) != NULL; p++) {
            bool line_start = p == r->str || p[-1] == '\n';
            if (line_start && p[fl] == ':') {
                v = strtoll(p + fl + 1, NULL, 10);
                break;
            }
        }
    }
    if (r)
        freeReplyObject(r);
    return v;
}

static int redis_load(redisContext *c, size_t keys)
{
    uint8_t key[BENCH_KEY_LEN], val[BENCH_VAL_LEN];
    memset(val, 'v', sizeof(val));
    size_t pending = 0;
    for (size_t i = 0; i < keys || pending > 0;) {
        if (i < keys && pending < REDIS_LOAD_PIPELINE) {
            bench_key(key, (uint32_t)i++);
            if (redisAppendCommand(c, "SET %b %b", key, sizeof(key), val,
                                   sizeof(val)) != REDIS_OK)
                return -1;
            pending++;
            continue;
        }
        redisReply *r;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || !r)
            return -1;
        bool ok = r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
        if (!ok)
            return -1;
        pending--;
    }
    return 0;
}

/* Counters for one Redis case. */
typedef struct redis_run {
    uint64_t sink, misses, errors;
} redis_run;

static void check_value(redis_run *rr, const redisReply *r)
{
    if (r->type == REDIS_REPLY_STRING)
        rr->sink += r->len + (uint8_t)r->str[0];
    else if (r->type == REDIS_REPLY_NIL)
        rr->misses++;
    else
        rr->errors++;
}

/* One command per key. Returns -1 when the connection failed. */
static int redis_single(redisContext *c, enum bench_op op, const uint32_t *seq,
                        size_t n, redis_run *rr)
{
    uint8_t key[BENCH_KEY_LEN], val[BENCH_VAL_LEN];
    memset(val, 'v', sizeof(val));
    for (size_t i = 0; i < n; i++) {
        uint32_t idx = seq[i] & BENCH_SEQ_IDX;
        bench_key(key, idx);
        redisReply *r;
        if (op == OP_GET) {
            r = redisCommand(c, "GET %b", key, sizeof(key));
        } else {
            memcpy(val, &idx, sizeof(idx));
            r = redisCommand(c, "SET %b %b", key, sizeof(key), val,
                             sizeof(val));
        }
        if (!r)
            return -1;
        if (op == OP_GET)
            check_value(rr, r);
        else if (r->type != REDIS_REPLY_STATUS)
            rr->errors++;
        freeReplyObject(r);
    }
    return 0;
}

/* One MGET / MSET of BENCH_BATCH keys per round trip. */
static int redis_batch(redisContext *c, enum bench_op op, const uint32_t *seq,
                       size_t n, redis_run *rr)
{
    uint8_t keys[BENCH_BATCH][BENCH_KEY_LEN], val[BENCH_VAL_LEN];
    const char *argv[1 + 2 * BENCH_BATCH];
    size_t argvlen[1 + 2 * BENCH_BATCH];
    int argc = 1;
    memset(val, 'v', sizeof(val));
    argv[0] = op == OP_GET ? "MGET" : "MSET";
    argvlen[0] = 4;
    for (unsigned k = 0; k < BENCH_BATCH; k++) {
        argv[argc] = (const char *)keys[k];
        argvlen[argc++] = BENCH_KEY_LEN;
        if (op == OP_SET) {
            argv[argc] = (const char *)val;
            argvlen[argc++] = BENCH_VAL_LEN;
        }
    }
    for (size_t i = 0; i + BENCH_BATCH <= n; i += BENCH_BATCH) {
        for (unsigned k = 0; k < BENCH_BATCH; k++)
            bench_key(keys[k], seq[i + k] & BENCH_SEQ_IDX);
        memcpy(val, &seq[i], sizeof(seq[i]));
        redisReply *r = redisCommandArgv(c, argc, argv, argvlen);
        if (!r)
            return -1;
        if (op == OP_SET && r->type != REDIS_REPLY_STATUS)
            rr->errors++;
        if (op == OP_GET && r->type != REDIS_REPLY_ARRAY)
            rr->errors++;
        if (op == OP_GET && r->type == REDIS_REPLY_ARRAY)
            for (size_t k = 0; k < r->elements; k++)
                check_value(rr, r->element[k]);
        freeReplyObject(r);
    }
    return 0;
}

/* Prints the Redis figure and its ratio to each fast-cache handle. */
static void print_compare(size_t keys, enum bench_op op, unsigned batch,
                          double redis_ns, const redis_run *rr)
{
    char kbuf[24];
    printf("redis %s %s uniform batch %2u: %8.1f ns/op", bench_op_name(op),
           bench_count_name(keys, kbuf, sizeof(kbuf)), batch, redis_ns);
    for (int h = 0; h < HANDLE_COUNT; h++) {
        const bench_result *f = bench_results_find(
            keys, DIST_UNIFORM, op, batch, (enum bench_handle)h, 1);
        if (f)
            printf("; fast-cache %s: %.1f ns/op, speedup %.0fx",
                   bench_handle_name((enum bench_handle)h), f->ns_per_op,
                   redis_ns / f->ns_per_op);
    }
    if (rr->misses || rr->errors)
        printf("  [WARNING: %llu misses, %llu errors]",
               (unsigned long long)rr->misses, (unsigned long long)rr->errors);
    printf("\n");
    fflush(stdout);
}

static int redis_cases(redisContext *c, const bench_opts *o,
                       const uint32_t *seq)
{
    static const unsigned batches[] = {1, BENCH_BATCH};
    for (int op = OP_GET; op <= OP_SET; op++) {
        for (unsigned bi = 0; bi < 2; bi++) {
            unsigned b = batches[bi];
            size_t n = b == 1 ? o->redis_ops : o->redis_batch_ops;
            redis_run rr = {0, 0, 0};
            size_t warm = n / 10 / BENCH_BATCH * BENCH_BATCH;
            int (*fn)(redisContext *, enum bench_op, const uint32_t *, size_t,
                      redis_run *) = b == 1 ? redis_single : redis_batch;
            if (fn(c, (enum bench_op)op, seq, warm, &rr) < 0)
                return -1;
            rr = (redis_run){0, 0, 0};
            uint64_t t0 = bench_now_ns();
            if (fn(c, (enum bench_op)op, seq, n, &rr) < 0)
                return -1;
            double ns = (double)(bench_now_ns() - t0) / (double)(n - n % b);
            bench_sink += rr.sink;
            print_compare(o->keys, (enum bench_op)op, b, ns, &rr);
        }
    }
    return 0;
}

static void print_redis_memory(size_t keys, long long rss0, long long rss1,
                               long long used0, long long used1)
{
    char kbuf[24];
    double k = (double)keys;
    printf("redis memory %s keys: used_memory_rss %.1f B/key (growth "
           "%.1f B/key), used_memory growth %.1f B/key",
           bench_count_name(keys, kbuf, sizeof(kbuf)), (double)rss1 / k,
           (double)(rss1 - rss0) / k, (double)(used1 - used0) / k);
    double rss_pk, acc_pk;
    if (bench_mem_find(keys, HANDLE_SHARED, &rss_pk, &acc_pk))
        printf("; fast-cache shared: RSS growth %.1f B/key, "
               "fc_store_memory %.1f B/key",
               rss_pk, acc_pk);
    printf("\n");
    fflush(stdout);
}

int bench_redis_run(const bench_opts *o)
{
    if (!in_path("redis-server")) {
        printf("redis: SKIPPED: redis-server is not installed (not in PATH); "
               "install redis-server to compare\n");
        return 0;
    }
    size_t n =
        o->redis_ops > o->redis_batch_ops ? o->redis_ops : o->redis_batch_ops;
    bench_seq sq;
    if (bench_seq_build(&sq, 1, n, DIST_UNIFORM, o->keys, NULL,
                        BENCH_SEED_UNIFORM) < 0) {
        fprintf(stderr, "fast-cache-bench: out of memory (redis sequence)\n");
        return -1;
    }
    redisContext *c = redis_start();
    int rc = c ? 0 : -1;
    if (c)
        printf("redis: redis-server on %s, one hiredis client, one round "
               "trip per command (batch 16 = one MGET/MSET of 16 keys)\n",
               redis_sock);
    if (rc == 0) {
        long long rss0 = redis_info_mem(c, "used_memory_rss");
        long long used0 = redis_info_mem(c, "used_memory");
        rc = redis_load(c, o->keys);
        if (rc == 0)
            print_redis_memory(o->keys, rss0,
                               redis_info_mem(c, "used_memory_rss"), used0,
                               redis_info_mem(c, "used_memory"));
        else
            fprintf(stderr, "redis: loading keys failed: %s\n",
                    c->err ? c->errstr : "unexpected reply");
    }
    if (rc == 0 && redis_cases(c, o, sq.seq[0]) < 0) {
        fprintf(stderr, "redis: connection failed: %s\n",
                c->err ? c->errstr : "?");
        rc = -1;
    }
    if (c)
        redisFree(c);
    bench_redis_cleanup();
    bench_seq_free(&sq);
    return rc;
}
