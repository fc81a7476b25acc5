/*
 * ev.c — backend selection. The io_uring backend is referenced weakly so
 * that it joins the build by its file alone (ev_uring.c defines
 * ev_uring_backend); until then `--io uring` says it is unavailable.
 */
#include "server/net/ev.h"

#include <stdio.h>
#include <string.h>

static const ev_backend *uring_backend(void)
{
    return &ev_uring_backend; /* NULL when ev_uring.c is not linked */
}

bool ev_default_fallback_reason(char *why, size_t whylen)
{
    const ev_backend *u = uring_backend();
    if (!u) {
        snprintf(why, whylen, "this build has no io_uring event loop");
        return true;
    }
    return !u->probe(why, whylen);
}

const ev_backend *ev_backend_select(const char *name, char *err, size_t errlen)
{
    char why[160] = "";
    const ev_backend *u = uring_backend();
    if (!name) {
        if (u && u->probe(why, sizeof(why)))
            return u;
        return &ev_epoll_backend;
    }
    if (!strcmp(name, "epoll"))
        return &ev_epoll_backend;
    if (!strcmp(name, "uring")) {
        if (!u) {
            snprintf(err, errlen,
                     "io backend 'uring' is unavailable: this build has no "
                     "io_uring event loop yet (use --io epoll)");
            return NULL;
        }
        if (!u->probe(why, sizeof(why))) {
            snprintf(err, errlen, "io backend 'uring' is unavailable: %s", why);
            return NULL;
        }
        return u;
    }
    snprintf(err, errlen, "unknown io backend '%s' (epoll or uring)", name);
    return NULL;
}
