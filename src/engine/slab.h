/*
 * slab.h — private to the engine: the per-shard allocator of entries.
 *
 * Small blocks (1..SLAB_MAX bytes) come from 64 KiB pages cut into chunks
 * of one size class (every 8 bytes from 16 to SLAB_MAX): no per-chunk
 * header and at most 7 bytes of rounding, where malloc spends 8 bytes of
 * header and rounds to 16 — and, unlike malloc's, these blocks can be
 * moved: slab_defrag empties sparse pages into fuller ones and trims the
 * never-needed tail of a page, so that what the pages keep resident follows
 * the live bytes down after churn (slab.c's top comment). Larger blocks go
 * to malloc, still accounted here. So do small blocks of a class this slab
 * has no page for while the class holds little (under SLAB_OPEN_BYTES on
 * malloc, slab_class_open): a page per class in use is a fixed cost per
 * shard (its first OS page and its holes), which at many shards and a
 * small dataset outweighs what chunks save — malloc's arenas are shared by
 * the shards of a thread. The caller remembers which path a block took
 * (entries keep a flag bit, entry.h) and frees it through the same path.
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
#include <stdint.h>

#define SLAB_PAGE_SIZE ((size_t)64 << 10)
#define SLAB_MIN 16u
#define SLAB_STEP 8u
/* Why not more (say classes every 64 B up to 2 KiB, so that those entries
 * could be moved too): measured under bench/churn_vs_redis.py, at the
 * server's default 64 shards per thread and a 64 MiB limit, the extra
 * classes' pages (one partial page per class per shard) cost more than
 * malloc's fragmentation of those sizes: RSS 114 MiB against 77 MiB. */
#define SLAB_MAX 512u
#define SLAB_NCLASS ((SLAB_MAX - SLAB_MIN) / SLAB_STEP + 1)

#define SLAB_BAND 64u
#define SLAB_NBAND (SLAB_MAX / SLAB_BAND)

struct slab_page;

struct slab {
    struct slab_page *avail[SLAB_NCLASS]; /* pages with a free chunk */
    struct slab_page *full;               /* pages with none */
    struct slab_page *spare;              /* one empty page kept as cache */
    size_t pages;                         /* in use, spare excluded */
    size_t big_bytes; /* malloc_usable_size of the live big blocks */
    size_t chunk_bytes; /* class sizes of the live chunks */
    /* Bytes of the pages in use below their bump offset (header included),
     * rounded up to whole 4 KiB OS pages: what they may hold resident;
     * above it a page was never written or was given back (madvise). */
    size_t touched;
    uint32_t cls_pages[SLAB_NCLASS]; /* pages in use per class */
    uint32_t cls_live[SLAB_NCLASS];  /* live chunks per class */
    /* malloc_usable_size of the malloc'd blocks, by that size in bands of
     * SLAB_BAND bytes (blocks over SLAB_MAX not counted): the demand that
     * opens a class's first page. Bands, not classes, because malloc
     * rounds a request up by up to 15 bytes, which moves it across 8-byte
     * classes but rarely across a band. */
    size_t band_heap[SLAB_NBAND];
    /* Defragmentation (slab_defrag). */
    unsigned defrag_cls;  /* the class the next step starts from */
    unsigned defrag_idle; /* classes visited since a step last moved */
    size_t defrag_floor;  /* excess a fruitless pass left (see slab.c) */
    uint64_t moved;       /* chunks moved, ever */
    uint64_t pages_freed; /* pages emptied by moves */
    uint64_t trimmed;     /* bytes of page tails given back */
};

void slab_init(struct slab *s);

/* Releases every page (live chunks included) and the spare. Big blocks
 * must have been freed by the caller. */
void slab_destroy(struct slab *s);

/* Bytes of a class's band on malloc before the class gets a page (half a
 * page), and the live bytes of a class under which defragmentation moves
 * its chunks to malloc and frees its pages: half as many, and only when
 * the band stays under SLAB_OPEN_BYTES after, so that a class does not
 * flip between the two. */
#define SLAB_OPEN_BYTES (SLAB_PAGE_SIZE / 2)
#define SLAB_CLOSE_BYTES (SLAB_OPEN_BYTES / 2)

/* Whether a block of n bytes (1..SLAB_MAX) should come from slab_alloc:
 * its class has a page, or enough of it lives on malloc to fill half of
 * one. Else slab_big_alloc is the better home for it. */
bool slab_class_open(const struct slab *s, size_t n);

/* A chunk of at least n bytes, 1 <= n <= SLAB_MAX; NULL when out of
 * memory. */
void *slab_alloc(struct slab *s, size_t n);

/* Returns a chunk from slab_alloc; the page goes back to the OS (or to the
 * spare slot) when it was its last live chunk. */
void slab_free(struct slab *s, void *p);

/* The usable size of a chunk from slab_alloc (its class size). */
size_t slab_usable(const void *p);

/* malloc and free with accounting, for blocks above SLAB_MAX (and small
 * ones of classes not open, see slab_class_open). */
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

/* The class size a request of n bytes (1..SLAB_MAX) gets. */
size_t slab_class_size(size_t n);

/* --- defragmentation ---
 *
 * Moving a chunk is the owner's business: `move` must copy the chunk's
 * `size` bytes from `from` to `to` and repoint every reference to it (the
 * shard's table slot), then return true; or return false, changing
 * nothing, for a chunk it cannot move (one nobody can find: a detached
 * entry). It must not call into the slab. */
typedef bool (*slab_move_fn)(void *ctx, void *from, void *to, size_t size);
/* The same, but the owner finds the new home itself: a block from
 * slab_big_alloc (the one slab call allowed), for a class too rare in the
 * shard to keep a page (SLAB_CLOSE_BYTES). */
typedef bool (*slab_spill_fn)(void *ctx, void *from, size_t size);

/* True when the pages hold noticeably more than the live chunks (see
 * slab.c for the threshold) and a step may give some of it back. */
bool slab_defrag_wanted(const struct slab *s);

/* One bounded step: moves chunks out of sparse pages (freeing them) or
 * down inside a page (trimming its tail), about `budget` bytes of copying
 * at most, nothing when slab_defrag_wanted is false. Returns the bytes
 * copied. Every chunk moved (and only those) changes address. */
size_t slab_defrag(struct slab *s, size_t budget, slab_move_fn move,
                   slab_spill_fn spill, void *ctx);

#endif /* FC_ENGINE_SLAB_H */
