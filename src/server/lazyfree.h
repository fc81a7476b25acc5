/*
 * lazyfree.h — one background thread that frees large typed values (more
 * than ENG_LAZY_FREE_MIN elements) for the workers, as Redis's lazyfree
 * does for UNLINK: a DEL, an overwrite or an eviction of a million-element
 * value costs the worker one queue push, not a million frees.
 *
 * Owns: the thread and the queue of objects handed to it (it frees them).
 * Threads: srv_lazyfree_start/stop from the main thread (before the workers
 *   start, after they stopped); the engine calls the hand-off from any
 *   worker; the counters are relaxed atomics anyone may read.
 * Memory: an object is no longer counted in any shard once handed over.
 */
#ifndef FC_SERVER_LAZYFREE_H
#define FC_SERVER_LAZYFREE_H

#include <stdint.h>

/* Starts the thread and installs the engine's lazy-free hook. 0 or -1 (the
 * hook is then not installed: frees stay inline). */
int srv_lazyfree_start(void);
/* Frees whatever is queued, stops the thread and removes the hook. */
void srv_lazyfree_stop(void);
/* INFO: objects waiting, and objects freed so far. */
uint64_t srv_lazyfree_pending(void);
uint64_t srv_lazyfree_done(void);

#endif /* FC_SERVER_LAZYFREE_H */
