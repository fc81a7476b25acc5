/*
 * test_hiredis.c — the server as seen by hiredis, the reference C client.
 *
 * Owns: one server process for the whole group, started from
 *   getenv("FC_SERVER") via fork/exec on a free loopback port (redis-server
 *   flags when that is the binary, so the test also runs against the
 *   reference), stopped with SIGTERM; a graceful shutdown must exit 0.
 * Threads: single-threaded; cmocka runs the tests in order.
 * Memory: every redisReply is freed by the test that got it; each test owns
 *   its redisContext.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 10000

static pid_t server_pid = -1;
/* cmocka 1.1 reports a failed group teardown but still exits 0. */
static int shutdown_failed;
static int server_port;
static char server_log[] = "/tmp/fc-hiredis-XXXXXX";

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void dump_log(void)
{
    FILE *f = fopen(server_log, "r");
    char line[512];
    if (!f)
        return;
    fprintf(stderr, "--- server output ---\n");
    while (fgets(line, sizeof(line), f))
        fputs(line, stderr);
    fclose(f);
}

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = -1;
    if (fd < 0)
        return -1;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void exec_server(const char *path, int log_fd)
{
    char port[16];
    char *copy = strdup(path);
    const char *base = copy ? basename(copy) : path;
    snprintf(port, sizeof(port), "%d", server_port);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    if (strncmp(base, "redis-server", 12) == 0)
        execl(path, path, "--port", port, "--bind", "127.0.0.1", "--save", "",
              "--appendonly", "no", "--daemonize", "no", (char *)NULL);
    else
        execl(path, path, "--bind", "127.0.0.1", "--port", port, (char *)NULL);
    fprintf(stderr, "exec %s: %s\n", path, strerror(errno));
    _exit(127);
}

static redisContext *connect_server(void)
{
    struct timeval tv = {10, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", server_port, tv);
    if (c && !c->err)
        redisSetTimeout(c, tv);
    return c;
}

static int ping_ok(void)
{
    redisContext *c = connect_server();
    redisReply *r;
    int ok = 0;
    if (!c || c->err) {
        redisFree(c);
        return 0;
    }
    r = redisCommand(c, "PING");
    ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
    freeReplyObject(r);
    redisFree(c);
    return ok;
}

static int start_server(void **state)
{
    const char *path = getenv("FC_SERVER");
    int64_t deadline;
    int log_fd, status;
    (void)state;
    if (!path || !*path) {
        fprintf(stderr, "FC_SERVER is not set\n");
        return -1;
    }
    log_fd = mkstemp(server_log);
    server_port = free_port();
    if (log_fd < 0 || server_port < 0)
        return -1;
    server_pid = fork();
    if (server_pid < 0)
        return -1;
    if (server_pid == 0)
        exec_server(path, log_fd);
    close(log_fd);
    deadline = now_ms() + START_TIMEOUT_MS;
    while (now_ms() < deadline) {
        if (waitpid(server_pid, &status, WNOHANG) == server_pid) {
            fprintf(stderr, "server exited at start (status %d)\n", status);
            server_pid = -1;
            dump_log();
            return -1;
        }
        if (ping_ok())
            return 0;
        sleep_ms(50);
    }
    fprintf(stderr, "server did not answer PING within %d ms\n",
            START_TIMEOUT_MS);
    dump_log();
    kill(server_pid, SIGKILL);
    waitpid(server_pid, &status, 0);
    server_pid = -1;
    return -1;
}

static int stop_server(void **state)
{
    int64_t deadline = now_ms() + STOP_TIMEOUT_MS;
    int status = 0, rc = -1;
    (void)state;
    if (server_pid <= 0) {
        shutdown_failed = 1;
        return -1;
    }
    kill(server_pid, SIGTERM);
    while (now_ms() < deadline) {
        pid_t p = waitpid(server_pid, &status, WNOHANG);
        if (p == server_pid) {
            rc = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
            break;
        }
        sleep_ms(20);
    }
    if (now_ms() >= deadline) {
        fprintf(stderr, "server ignored SIGTERM\n");
        kill(server_pid, SIGKILL);
        waitpid(server_pid, &status, 0);
    }
    if (rc != 0) {
        fprintf(stderr, "graceful shutdown expected exit 0, got status %d\n",
                status);
        dump_log();
    }
    unlink(server_log);
    server_pid = -1;
    shutdown_failed = rc != 0;
    return rc;
}

/* Per test: a fresh connection and an empty keyspace. */
static int test_setup(void **state)
{
    redisContext *c = connect_server();
    redisReply *r;
    if (!c || c->err) {
        redisFree(c);
        return -1;
    }
    r = redisCommand(c, "FLUSHALL");
    if (!r || r->type != REDIS_REPLY_STATUS) {
        freeReplyObject(r);
        redisFree(c);
        return -1;
    }
    freeReplyObject(r);
    *state = c;
    return 0;
}

static int test_teardown(void **state)
{
    redisFree(*state);
    return 0;
}

static redisReply *cmd(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    redisReply *r;
    va_start(ap, fmt);
    r = redisvCommand(c, fmt, ap);
    va_end(ap);
    assert_non_null(r);
    return r;
}

static void expect_status(redisContext *c, const char *want, const char *fmt,
                          ...)
{
    va_list ap;
    redisReply *r;
    va_start(ap, fmt);
    r = redisvCommand(c, fmt, ap);
    va_end(ap);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    assert_string_equal(r->str, want);
    freeReplyObject(r);
}

static void expect_int(redisContext *c, long long want, const char *fmt, ...)
{
    va_list ap;
    redisReply *r;
    va_start(ap, fmt);
    r = redisvCommand(c, fmt, ap);
    va_end(ap);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    assert_int_equal(r->integer, want);
    freeReplyObject(r);
}

static void test_set_get(void **state)
{
    redisContext *c = *state;
    redisReply *r;
    expect_status(c, "OK", "SET %s %s", "greeting", "hello world");
    r = cmd(c, "GET %s", "greeting");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_int_equal(r->len, 11);
    assert_memory_equal(r->str, "hello world", 11);
    freeReplyObject(r);
    r = cmd(c, "GET %s", "missing");
    assert_int_equal(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    r = cmd(c, "GET");
    assert_int_equal(r->type, REDIS_REPLY_ERROR);
    assert_string_equal(r->str,
                        "ERR wrong number of arguments for 'get' command");
    freeReplyObject(r);
}

static void test_incr(void **state)
{
    redisContext *c = *state;
    redisReply *r;
    expect_int(c, 1, "INCR counter");
    expect_int(c, 11, "INCRBY counter 10");
    expect_int(c, 10, "DECR counter");
    expect_status(c, "OK", "SET counter %s", "9223372036854775807");
    r = cmd(c, "INCR counter");
    assert_int_equal(r->type, REDIS_REPLY_ERROR);
    assert_string_equal(r->str, "ERR increment or decrement would overflow");
    freeReplyObject(r);
}

static void test_mget(void **state)
{
    redisContext *c = *state;
    redisReply *r;
    expect_status(c, "OK", "MSET a 1 b 2 c 3");
    r = cmd(c, "MGET a missing c b");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 4);
    assert_string_equal(r->element[0]->str, "1");
    assert_int_equal(r->element[1]->type, REDIS_REPLY_NIL);
    assert_string_equal(r->element[2]->str, "3");
    assert_string_equal(r->element[3]->str, "2");
    freeReplyObject(r);
}

static void test_pipelined_appends(void **state)
{
    enum { N = 2000 };
    redisContext *c = *state;
    redisReply *r;
    char piece[8];
    size_t total = 0;
    for (int i = 0; i < N; i++) {
        snprintf(piece, sizeof(piece), "%d,", i % 10);
        assert_int_equal(redisAppendCommand(c, "APPEND log %s", piece),
                         REDIS_OK);
    }
    assert_int_equal(redisAppendCommand(c, "STRLEN log"), REDIS_OK);
    for (int i = 0; i < N; i++) {
        void *reply = NULL;
        assert_int_equal(redisGetReply(c, &reply), REDIS_OK);
        r = reply;
        total += 2;
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        assert_int_equal(r->integer, (long long)total);
        freeReplyObject(r);
    }
    {
        void *reply = NULL;
        assert_int_equal(redisGetReply(c, &reply), REDIS_OK);
        r = reply;
        assert_int_equal(r->integer, 2 * N);
        freeReplyObject(r);
    }
    r = cmd(c, "GETRANGE log 0 9");
    assert_int_equal(r->len, 10);
    assert_memory_equal(r->str, "0,1,2,3,4,", 10);
    freeReplyObject(r);
}

static void test_binary_values(void **state)
{
    redisContext *c = *state;
    redisReply *r;
    const char key[] = {'k', '\0', '\r', '\n', (char)0xff};
    size_t vlen = 256 * 1024;
    unsigned char *val = malloc(vlen);
    assert_non_null(val);
    for (size_t i = 0; i < vlen; i++)
        val[i] = (unsigned char)(i * 31 + (i >> 9));
    expect_status(c, "OK", "SET %b %b", key, sizeof(key), val, vlen);
    r = cmd(c, "GET %b", key, sizeof(key));
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_int_equal(r->len, vlen);
    assert_memory_equal(r->str, val, vlen);
    freeReplyObject(r);
    expect_int(c, (long long)vlen, "STRLEN %b", key, sizeof(key));
    r = cmd(c, "GET %b", key, sizeof(key) - 1); /* a different key */
    assert_int_equal(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    free(val);
}

static void test_expire_and_ttl(void **state)
{
    redisContext *c = *state;
    redisReply *r;
    expect_status(c, "OK", "SET t v PX 100");
    for (int i = 0; i < 250; i++) { /* bounded: 5 s */
        r = cmd(c, "EXISTS t");
        long long n = r->integer;
        freeReplyObject(r);
        if (n == 0)
            break;
        sleep_ms(20);
    }
    expect_int(c, 0, "EXISTS t");
    expect_int(c, -2, "TTL t");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_set_get, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_incr, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_mget, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_pipelined_appends, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_binary_values, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_expire_and_ttl, test_setup,
                                        test_teardown),
    };
    int failed;
    signal(SIGPIPE, SIG_IGN);
    failed = cmocka_run_group_tests(tests, start_server, stop_server);
    return failed || shutdown_failed ? 1 : 0;
}
