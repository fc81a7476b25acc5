/*
 * http.c — the Prometheus endpoint: GET (or HEAD) /metrics answers
 * srv_metrics_render's text, any other path 404, any other method 405.
 * HTTP is libmicrohttpd's (Debian's libmicrohttpd-dev): we parse none of it.
 *
 * One daemon thread polls every scrape connection (MHD's internal poll
 * mode), so a slow or malformed client holds a connection slot and
 * nothing else: the workers never see the endpoint, the connections are
 * few (CONN_LIMIT: a scraper needs one or two) and each is closed after
 * CONN_TIMEOUT_S idle seconds, and a request's headers must fit in
 * CONN_MEMORY bytes (MHD answers 431 or closes beyond). The listening
 * socket is ours (bound in srv_init, so that "address in use" stops the
 * start with a clear message); MHD takes it over and closes it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "repl/sock.h"
#include "server/config/log.h"
#include "server/metrics/metrics.h"
#include "server/server.h"

#define CONN_LIMIT 16
#define CONN_TIMEOUT_S 10
#define CONN_MEMORY (64 * 1024)

typedef struct srv_metrics {
    int fd;                /* ours until the daemon starts; then MHD's */
    struct MHD_Daemon *d;
    struct srv_statslog *log;
} srv_metrics;

static int bind_endpoint(const char *addr, char *err, size_t errlen)
{
    char host[256], why[300];
    uint16_t port = 0;
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof(ss));
    if (repl_parse_addr(addr, host, sizeof(host), &port, why, sizeof(why))) {
        snprintf(err, errlen, "metrics endpoint %s: %s", addr, why);
        return -1;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        len = sizeof(*a4);
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        len = sizeof(*a6);
    } else {
        snprintf(err, errlen, "metrics endpoint %s: not a numeric address",
                 addr);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
        bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16)) {
        snprintf(err, errlen, "metrics endpoint %s: %s", addr,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int srv_metrics_open(srv_server *s, char *err, size_t errlen)
{
    if (!s->cfg.metrics_bind && s->cfg.stats_log_interval_ms <= 0)
        return 0;
    srv_metrics *m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(err, errlen, "metrics: out of memory");
        return -1;
    }
    m->fd = -1;
    s->metrics = m;
    if (s->cfg.metrics_bind) {
        m->fd = bind_endpoint(s->cfg.metrics_bind, err, errlen);
        if (m->fd < 0)
            return -1;
    }
    return 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
                             char *body, size_t len, bool owned,
                             const char *ctype)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (owned)
            free(body);
        return MHD_NO; /* MHD closes the connection */
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    srv_server *s = cls;
    static char not_found[] = "not found: the metrics are at /metrics\n";
    static char not_allowed[] = "method not allowed: use GET\n";
    static char no_memory[] = "out of memory\n";
    const char *text = "text/plain; charset=utf-8";
    /* Answered at once, whatever the method: a body a client sends with
     * a refused method is never read (MHD discards it, or closes). */
    if (strcmp(method, MHD_HTTP_METHOD_GET) &&
        strcmp(method, MHD_HTTP_METHOD_HEAD))
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed,
                     sizeof(not_allowed) - 1, false, text);
    if (strcmp(url, "/metrics"))
        return reply(c, MHD_HTTP_NOT_FOUND, not_found, sizeof(not_found) - 1,
                     false, text);
    fc_buf b = {0};
    srv_metrics_render(s, &b);
    if (b.oom) {
        fc_buf_free(&b);
        return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, no_memory,
                     sizeof(no_memory) - 1, false, text);
    }
    return reply(c, MHD_HTTP_OK, b.data ? b.data : strdup(""), b.len, true,
                 "text/plain; version=0.0.4; charset=utf-8");
}

int srv_metrics_start(srv_server *s, char *err, size_t errlen)
{
    srv_metrics *m = s->metrics;
    if (!m)
        return 0;
    if (m->fd >= 0) {
        m->d = MHD_start_daemon(
            MHD_USE_POLL_INTERNAL_THREAD, 0, NULL, NULL, on_request, s,
            MHD_OPTION_LISTEN_SOCKET, (MHD_socket)m->fd,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
            MHD_OPTION_END);
        if (!m->d) {
            snprintf(err, errlen, "metrics endpoint %s: cannot start the "
                     "HTTP daemon", s->cfg.metrics_bind);
            return -1;
        }
        m->fd = -1; /* the daemon's now */
        srv_notice("Metrics endpoint on http://%s/metrics",
                   s->cfg.metrics_bind);
    }
    if (s->cfg.stats_log_interval_ms > 0 &&
        srv_statslog_start(s, &m->log, err, errlen)) {
        srv_metrics_stop(s);
        return -1;
    }
    return 0;
}

void srv_metrics_stop(srv_server *s)
{
    srv_metrics *m = s->metrics;
    if (!m)
        return;
    if (m->d) {
        MHD_stop_daemon(m->d); /* joins its thread, closes the socket */
        m->d = NULL;
    }
    if (m->log) {
        srv_statslog_stop(m->log);
        m->log = NULL;
    }
}

void srv_metrics_free(srv_server *s)
{
    srv_metrics *m = s->metrics;
    if (!m)
        return;
    srv_metrics_stop(s);
    if (m->fd >= 0)
        close(m->fd);
    free(m);
    s->metrics = NULL;
}
