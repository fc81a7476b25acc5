/*
 * slowlog.c — the slow log's rings and SLOWLOG's replies (slowlog.h).
 */
#include "server/slowlog.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/client.h"
#include "server/server.h"
#include "server/worker.h"

/* Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING. */
#define MAX_ARGC 32
#define MAX_STRING 128

typedef struct slow_entry {
    uint64_t id, us;
    int64_t unix_s;
    size_t argc;
    char **argv; /* NUL-free copies, lengths in lens */
    size_t *lens;
    char addr[CONN_ADDR_LEN];
    char *name; /* "" when none */
} slow_entry;

struct srv_slowlog {
    pthread_mutex_t mu;
    slow_entry *e; /* a ring of cap entries: head is the oldest */
    size_t cap, head, n;
};

srv_slowlog *srv_slowlog_new(void)
{
    srv_slowlog *l = calloc(1, sizeof *l);
    if (l)
        pthread_mutex_init(&l->mu, NULL);
    return l;
}

static void entry_free(slow_entry *e)
{
    for (size_t i = 0; i < e->argc; i++)
        free(e->argv[i]);
    free(e->argv);
    free(e->lens);
    free(e->name);
    memset(e, 0, sizeof *e);
}

static void drop_oldest(srv_slowlog *l)
{
    entry_free(&l->e[l->head]);
    l->head = (l->head + 1) % l->cap;
    l->n--;
}

void srv_slowlog_free(srv_slowlog *l)
{
    if (!l)
        return;
    while (l->n)
        drop_oldest(l);
    free(l->e);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* Copies an argument as Redis does: past 128 bytes, the first 128 and
 * "... (N more bytes)". */
static char *copy_arg(const resp_arg *a, size_t *len)
{
    size_t keep = a->len > MAX_STRING ? MAX_STRING : a->len;
    char tail[64] = "";
    if (a->len > MAX_STRING)
        snprintf(tail, sizeof tail, "... (%zu more bytes)", a->len - keep);
    size_t tl = strlen(tail);
    char *p = malloc(keep + tl + 1);
    if (!p)
        return NULL;
    memcpy(p, a->ptr, keep);
    memcpy(p + keep, tail, tl + 1);
    *len = keep + tl;
    return p;
}

static bool arg_is(const resp_arg *a, const char *lower)
{
    size_t n = strlen(lower);
    if (a->len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = a->ptr[i];
        if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != lower[i])
            return false;
    }
    return true;
}

/* Whether argument i is a secret Redis 7.0 redacts in the slow log. */
static bool secret(const resp_arg *argv, size_t argc, size_t i)
{
    if (arg_is(&argv[0], "auth"))
        return i >= 1;
    if (arg_is(&argv[0], "hello")) {
        for (size_t j = 2; j + 2 < argc && j < i; j++)
            if (arg_is(&argv[j], "auth") && (i == j + 1 || i == j + 2))
                return true;
        return false;
    }
    if (arg_is(&argv[0], "config") && argc > 1 && arg_is(&argv[1], "set") &&
        i >= 3 && (i - 3) % 2 == 0)
        return arg_is(&argv[i - 1], "requirepass") ||
               arg_is(&argv[i - 1], "masterauth");
    return false;
}

static bool fill(slow_entry *e, const resp_arg *argv, size_t argc,
                 const char *addr, const char *name, uint64_t us, uint64_t id)
{
    size_t n = argc > MAX_ARGC ? MAX_ARGC : argc;
    e->argv = calloc(n, sizeof *e->argv);
    e->lens = calloc(n, sizeof *e->lens);
    if (!e->argv || !e->lens)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (argc > MAX_ARGC && i == MAX_ARGC - 1) {
            char more[64];
            int k = snprintf(more, sizeof more, "... (%zu more arguments)",
                             argc - MAX_ARGC + 1);
            e->argv[i] = strdup(more);
            e->lens[i] = (size_t)k;
        } else if (secret(argv, argc, i)) {
            e->argv[i] = strdup("(redacted)");
            e->lens[i] = 10;
        } else {
            e->argv[i] = copy_arg(&argv[i], &e->lens[i]);
        }
        e->argc = i + 1;
        if (!e->argv[i])
            return false;
    }
    e->name = strdup(name);
    if (!e->name)
        return false;
    snprintf(e->addr, sizeof e->addr, "%s", addr);
    e->id = id;
    e->us = us;
    e->unix_s = (int64_t)time(NULL);
    return true;
}

void srv_slowlog_add(srv_worker *w, const resp_arg *argv, size_t argc,
                     const char *addr, const char *name, uint64_t us)
{
    srv_server *s = w->srv;
    srv_slowlog *l = w->slow;
    int64_t max = atomic_load_explicit(&s->slowlog_max, memory_order_relaxed);
    if (!l)
        return;
    /* The id is taken even when the log keeps nothing, as Redis does. */
    uint64_t id = atomic_fetch_add(&s->slowlog_ids, 1);
    pthread_mutex_lock(&l->mu);
    while (l->n && (int64_t)l->n >= max)
        drop_oldest(l);
    if (max > 0 && l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        slow_entry *e = calloc(cap, sizeof *e);
        if (e) {
            for (size_t i = 0; i < l->n; i++)
                e[i] = l->e[(l->head + i) % l->cap];
            free(l->e);
            l->e = e;
            l->cap = cap;
            l->head = 0;
        }
    }
    if (max > 0 && l->n < l->cap) {
        slow_entry *e = &l->e[(l->head + l->n) % l->cap];
        if (fill(e, argv, argc, addr, name, us, id))
            l->n++;
        else
            entry_free(e); /* out of memory: this one is not logged */
    }
    pthread_mutex_unlock(&l->mu);
}

static void lock_all(srv_server *s, bool lock)
{
    for (uint32_t i = 0; i < s->nworkers; i++)
        if (s->workers[i].slow) {
            if (lock)
                pthread_mutex_lock(&s->workers[i].slow->mu);
            else
                pthread_mutex_unlock(&s->workers[i].slow->mu);
        }
}

static int newest_first(const void *a, const void *b)
{
    const slow_entry *x = *(const slow_entry *const *)a;
    const slow_entry *y = *(const slow_entry *const *)b;
    return x->id < y->id ? 1 : x->id > y->id ? -1 : 0;
}

void srv_slowlog_get(srv_server *s, resp_writer *wr, long count)
{
    /* Every ring locked in worker order (an add locks only its own ring,
     * so this cannot deadlock), merged newest first by id. */
    lock_all(s, true);
    size_t total = 0;
    for (uint32_t i = 0; i < s->nworkers; i++)
        total += s->workers[i].slow ? s->workers[i].slow->n : 0;
    slow_entry **all = malloc((total ? total : 1) * sizeof *all);
    if (!all) {
        lock_all(s, false);
        resp_error(wr, "ERR out of memory");
        return;
    }
    size_t k = 0;
    for (uint32_t i = 0; i < s->nworkers; i++) {
        srv_slowlog *l = s->workers[i].slow;
        for (size_t j = 0; l && j < l->n; j++)
            all[k++] = &l->e[(l->head + j) % l->cap];
    }
    qsort(all, k, sizeof *all, newest_first);
    size_t n = count < 0 || (size_t)count > k ? k : (size_t)count;
    resp_array(wr, n);
    for (size_t j = 0; j < n; j++) {
        const slow_entry *e = all[j];
        resp_array(wr, 6);
        resp_int(wr, (int64_t)e->id);
        resp_int(wr, e->unix_s);
        resp_int(wr, (int64_t)e->us);
        resp_array(wr, e->argc);
        for (size_t a = 0; a < e->argc; a++)
            resp_bulk(wr, e->argv[a], e->lens[a]);
        resp_bulk(wr, e->addr, strlen(e->addr));
        resp_bulk(wr, e->name, strlen(e->name));
    }
    lock_all(s, false);
    free(all);
}

size_t srv_slowlog_len(srv_server *s)
{
    size_t n = 0;
    lock_all(s, true);
    for (uint32_t i = 0; i < s->nworkers; i++)
        n += s->workers[i].slow ? s->workers[i].slow->n : 0;
    lock_all(s, false);
    return n;
}

void srv_slowlog_reset(srv_server *s)
{
    lock_all(s, true);
    for (uint32_t i = 0; i < s->nworkers; i++)
        while (s->workers[i].slow && s->workers[i].slow->n)
            drop_oldest(s->workers[i].slow);
    lock_all(s, false);
}
