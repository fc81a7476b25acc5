/*
 * slab.h — private to the engine: the per-shard allocator of entries.
 *
 * Small blocks (1..SLAB_MAX bytes) come from 64 KiB pages cut into chunks
 * of one size class (every 8 bytes from 16 to SLAB_MAX): no per-chunk
 * header and at most 7 bytes of rounding, where malloc spends 8 bytes of
 * header and rounds to 16. Larger blocks go to malloc, still accounted
 * here. The caller remembers which path a block took (entries keep a flag
 * bit, entry.h) and frees it through the same path.
 *
 * Owns: its pages and the accounting of the big blocks it handed out.
 * Threads: one — the shard's thread (no locks, no atomics). Every block is
 * freed through the slab that allocated it; slab_destroy releases every
 * page, including any still holding live chunks.
 */
#ifndef FC_ENGINE_SLAB_H
#define FC_ENGINE_SLAB_H

#include <stdbool.h>
#include <stddef.h>

#define SLAB_PAGE_SIZE ((size_t)64 << 10)
#define SLAB_MIN 16u
#define SLAB_STEP 8u
#define SLAB_MAX 512u
#define SLAB_NCLASS ((SLAB_MAX - SLAB_MIN) / SLAB_STEP + 1)

struct slab_page;

struct slab {
    struct slab_page *avail[SLAB_NCLASS]; /* pages with a free chunk */
    struct slab_page *full;               /* pages with none */
    struct slab_page *spare;              /* one empty page kept as cache */
    size_t pages;                         /* in use, spare excluded */
    size_t big_bytes; /* malloc_usable_size of the live big blocks */
    size_t chunk_bytes; /* class sizes of the live chunks */
};

void slab_init(struct slab *s);

/* Releases every page (live chunks included) and the spare. Big blocks
 * must have been freed by the caller. */
void slab_destroy(struct slab *s);

/* A chunk of at least n bytes, 1 <= n <= SLAB_MAX; NULL when out of
 * memory. */
void *slab_alloc(struct slab *s, size_t n);

/* Returns a chunk from slab_alloc; the page goes back to the OS (or to the
 * spare slot) when it was its last live chunk. */
void slab_free(struct slab *s, void *p);

/* The usable size of a chunk from slab_alloc (its class size). */
size_t slab_usable(const void *p);

/* malloc and free with accounting, for blocks above SLAB_MAX. */
void *slab_big_alloc(struct slab *s, size_t n);
void slab_big_free(struct slab *s, void *p);

/* Bytes held: pages in use (slack included) plus big blocks. The spare
 * page is allocator cache, like malloc's free lists, and is not counted. */
size_t slab_bytes(const struct slab *s);

/* Bytes handed out and not freed: live chunks at their class size plus
 * big blocks. What the memory limit counts (evict.c): the allocator's
 * view, as Redis's used_memory; page slack shows in the RSS instead. */
size_t slab_used(const struct slab *s);

/* Pages in use (for tests). */
size_t slab_pages(const struct slab *s);

#endif /* FC_ENGINE_SLAB_H */
