/*
 * errstats.c — counting error replies by prefix for INFO errorstats (the
 * table's rules are in worker.h, next to its fields).
 */
#include <string.h>

#include "server/worker.h"

void srv_errstat_count(srv_worker *w, const char *reply, size_t len)
{
    /* "-ERR msg" (simple error) or "!n\r\nERR msg" (RESP3 blob error). */
    const char *p = reply + 1, *end = reply + len;
    if (len && reply[0] == '!') {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    size_t n = 0;
    while (p + n < end && n < SRV_ERRSTAT_NAME - 1 && p[n] != ' ' &&
           p[n] != '\r' && p[n] != '\n')
        n++;
    /* Single writer: a plain load and store, no locked RMW. */
    atomic_store_explicit(
        &w->stat_errors,
        atomic_load_explicit(&w->stat_errors, memory_order_relaxed) + 1,
        memory_order_relaxed);
    if (!n)
        return;
    for (int i = 0; i < SRV_ERRSTAT_MAX; i++) {
        srv_errstat *e = &w->errstats[i];
        uint64_t c = atomic_load_explicit(&e->count, memory_order_relaxed);
        if (!c) { /* readers stop here: the name is ours to write */
            memcpy(e->name, p, n);
            e->name[n] = '\0';
            atomic_store_explicit(&e->count, 1, memory_order_release);
            return;
        }
        if (strncmp(e->name, p, n) == 0 && e->name[n] == '\0') {
            atomic_store_explicit(&e->count, c + 1, memory_order_relaxed);
            return;
        }
    }
}
