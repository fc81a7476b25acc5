/*
 * sock.h — the few socket helpers replication needs: "host:port" parsing,
 * a listening socket, a connect with a timeout, and blocking-free writes.
 * IPv4 and IPv6 literals and names (getaddrinfo).
 *
 * Owns: nothing (returned fds are the caller's). Threads: any.
 */
#ifndef FC_REPL_SOCK_H
#define FC_REPL_SOCK_H

#include <stddef.h>
#include <stdint.h>

/* "host:port", "[v6]:port". 0, or -1 with err ("expected HOST:PORT"...). */
int repl_parse_addr(const char *s, char *host, size_t hostlen, uint16_t *port,
                    char *err, size_t errlen);
/* Non-blocking listening socket (SO_REUSEADDR), or -1 with err. */
int repl_listen(const char *host, uint16_t port, char *err, size_t errlen);
/* Blocking-mode socket connected within timeout_ms (TCP_NODELAY set), or
 * -1 with err. A stop_fd that becomes readable aborts the wait (-1, err
 * "stopped"); -1 for none. */
int repl_connect(const char *host, uint16_t port, int timeout_ms, int stop_fd,
                 char *err, size_t errlen);
/* "ip:port" of a connected socket's peer. */
void repl_peer_name(int fd, char *out, size_t outlen);

#endif /* FC_REPL_SOCK_H */
