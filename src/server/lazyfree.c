/*
 * lazyfree.c — the background free thread (lazyfree.h).
 *
 * The queue is a mutex-protected singly linked list of small nodes; a
 * node's allocation failing frees the object inline instead (correct,
 * just not lazy).
 */
#include "server/lazyfree.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "engine/obj.h"

typedef struct lf_node {
    struct lf_node *next;
    eng_obj *o;
} lf_node;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static lf_node *head;
static bool stopping, running;
static pthread_t thread;
static _Atomic uint64_t pending, done;

static void hand_off(eng_obj *o)
{
    lf_node *n = malloc(sizeof(*n));
    if (!n) {
        eng_obj_free_now(o);
        return;
    }
    n->o = o;
    atomic_fetch_add_explicit(&pending, 1, memory_order_relaxed);
    pthread_mutex_lock(&mu);
    n->next = head;
    head = n;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

static void free_list(lf_node *l)
{
    while (l) {
        lf_node *n = l->next;
        eng_obj_free_now(l->o);
        free(l);
        l = n;
        atomic_fetch_sub_explicit(&pending, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&done, 1, memory_order_relaxed);
    }
}

static void *lazyfree_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        while (!head && !stopping)
            pthread_cond_wait(&cv, &mu);
        lf_node *l = head;
        head = NULL;
        bool stop = stopping;
        pthread_mutex_unlock(&mu);
        free_list(l);
        pthread_mutex_lock(&mu);
        if (stop && !head)
            break;
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

int srv_lazyfree_start(void)
{
    stopping = false;
    if (pthread_create(&thread, NULL, lazyfree_main, NULL) != 0)
        return -1;
    running = true;
    eng_set_lazy_free(hand_off);
    return 0;
}

void srv_lazyfree_stop(void)
{
    if (!running)
        return;
    eng_set_lazy_free(NULL);
    pthread_mutex_lock(&mu);
    stopping = true;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(thread, NULL);
    running = false;
}

uint64_t srv_lazyfree_pending(void)
{
    return atomic_load_explicit(&pending, memory_order_relaxed);
}

uint64_t srv_lazyfree_done(void)
{
    return atomic_load_explicit(&done, memory_order_relaxed);
}
