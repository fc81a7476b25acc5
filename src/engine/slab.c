/*
 * slab.c — the per-shard slab allocator of entries (contract in slab.h).
 *
 * Layout. A page is SLAB_PAGE_SIZE bytes, mapped with mmap at an address
 * aligned to its size, so the page of a chunk is the chunk's address with
 * the low bits cleared: no per-chunk header, no lookup. The page starts
 * with its header (struct slab_page, padded to PAGE_HDR bytes); chunks of
 * the page's one class follow back to back until the end.
 *
 * A page hands out chunks first from its free list (chunks freed before,
 * linked through their first 8 bytes), then by bumping `bump` into memory
 * never used, so a young page touches (and makes resident) only what it
 * has handed out.
 *
 * Invariants:
 *  - every page in use is on exactly one list: avail[its class] while it
 *    has a free or never-used chunk, `full` otherwise;
 *  - live counts the chunks handed out and not freed; a page whose live
 *    count drops to 0 leaves its list at once and is unmapped, or kept as
 *    the one spare (any class may take it), so memory follows deletes down;
 *  - `pages` counts the pages on the lists (the spare excluded).
 *
 * Why mmap and not aligned_alloc: glibc serves a 64 KiB, 64 KiB-aligned
 * request by over-allocating 128 KiB and trimming, which costs an extra
 * resident page each and moves malloc's mmap threshold; a direct mapping
 * costs exactly the page and goes back to the OS on release.
 *
 * Under AddressSanitizer, free chunks and never-used memory are poisoned
 * and a chunk is unpoisoned while handed out, so use-after-free and
 * overflows into neighbouring chunks are still reported.
 */
#include "engine/slab.h"

#include <assert.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_ASAN 1
#endif
#endif

#ifdef SLAB_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define PAGE_HDR 64u

struct slab_page {
    struct slab_page *next, *prev; /* on avail[cls] or full */
    void *free;                    /* freed chunks, linked */
    uint32_t bump;                 /* offset of the first never-used chunk */
    uint32_t live;
    uint32_t csize;
    uint32_t cls;
    bool on_full;
};

_Static_assert(sizeof(struct slab_page) <= PAGE_HDR, "page header too big");
_Static_assert((SLAB_PAGE_SIZE & (SLAB_PAGE_SIZE - 1)) == 0, "page size");

static inline struct slab_page *page_of(const void *p)
{
    return (struct slab_page *)((uintptr_t)p &
                                ~(uintptr_t)(SLAB_PAGE_SIZE - 1));
}

static inline unsigned class_of(size_t n)
{
    return n <= SLAB_MIN
               ? 0
               : (unsigned)((n - SLAB_MIN + SLAB_STEP - 1) / SLAB_STEP);
}

static inline bool page_has_room(const struct slab_page *pg)
{
    return pg->free || pg->bump + pg->csize <= SLAB_PAGE_SIZE;
}

/* --- lists --- */

static void list_push(struct slab_page **head, struct slab_page *pg)
{
    pg->prev = NULL;
    pg->next = *head;
    if (*head)
        (*head)->prev = pg;
    *head = pg;
}

static void list_unlink(struct slab_page **head, struct slab_page *pg)
{
    if (pg->prev)
        pg->prev->next = pg->next;
    else
        *head = pg->next;
    if (pg->next)
        pg->next->prev = pg->prev;
}

static struct slab_page **list_of(struct slab *s, struct slab_page *pg)
{
    return pg->on_full ? &s->full : &s->avail[pg->cls];
}

/* --- pages from the OS --- */

static void *map_page(void)
{
    size_t sz = SLAB_PAGE_SIZE;
    uint8_t *p = mmap(NULL, sz, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uintptr_t a;

    if (p == MAP_FAILED)
        return NULL;
    if (((uintptr_t)p & (sz - 1)) == 0)
        return p; /* the common case once one aligned page exists */
    munmap(p, sz);
    p = mmap(NULL, 2 * sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
             -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    a = ((uintptr_t)p + sz - 1) & ~(uintptr_t)(sz - 1);
    if (a > (uintptr_t)p)
        munmap(p, a - (uintptr_t)p);
    if ((uintptr_t)p + 2 * sz > a + sz)
        munmap((uint8_t *)a + sz, (uintptr_t)p + 2 * sz - (a + sz));
    return (void *)a;
}

static void unmap_page(struct slab_page *pg)
{
    /* The address may be mapped again by anyone: leave no poison. */
    UNPOISON(pg, SLAB_PAGE_SIZE);
    munmap(pg, SLAB_PAGE_SIZE);
}

static struct slab_page *page_new(struct slab *s, unsigned cls)
{
    struct slab_page *pg = s->spare;

    if (pg)
        s->spare = NULL;
    else if (!(pg = map_page()))
        return NULL;
    memset(pg, 0, sizeof(*pg));
    pg->bump = PAGE_HDR;
    pg->csize = SLAB_MIN + cls * SLAB_STEP;
    pg->cls = cls;
    POISON((uint8_t *)pg + PAGE_HDR, SLAB_PAGE_SIZE - PAGE_HDR);
    list_push(&s->avail[cls], pg);
    s->pages++;
    return pg;
}

static void page_release(struct slab *s, struct slab_page *pg)
{
    list_unlink(list_of(s, pg), pg);
    s->pages--;
    if (!s->spare) {
        s->spare = pg;
        POISON((uint8_t *)pg + PAGE_HDR, SLAB_PAGE_SIZE - PAGE_HDR);
    } else
        unmap_page(pg);
}

/* --- public --- */

void slab_init(struct slab *s)
{
    memset(s, 0, sizeof(*s));
}

static void unmap_list(struct slab_page *pg)
{
    while (pg) {
        struct slab_page *next = pg->next;
        unmap_page(pg);
        pg = next;
    }
}

void slab_destroy(struct slab *s)
{
    for (unsigned c = 0; c < SLAB_NCLASS; c++)
        unmap_list(s->avail[c]);
    unmap_list(s->full);
    if (s->spare)
        unmap_page(s->spare);
    slab_init(s);
}

void *slab_alloc(struct slab *s, size_t n)
{
    unsigned cls = class_of(n);
    struct slab_page *pg;
    uint8_t *c;

    assert(n >= 1 && n <= SLAB_MAX);
    pg = s->avail[cls];
    if (__builtin_expect(!pg, 0) && !(pg = page_new(s, cls)))
        return NULL;
    if (pg->free) {
        c = pg->free;
        UNPOISON(c, pg->csize);
        memcpy(&pg->free, c, sizeof(pg->free)); /* next link, kept in the chunk */
    } else {
        c = (uint8_t *)pg + pg->bump;
        UNPOISON(c, pg->csize);
        pg->bump += pg->csize;
    }
    pg->live++;
    s->chunk_bytes += pg->csize;
    if (!page_has_room(pg)) {
        list_unlink(&s->avail[cls], pg);
        pg->on_full = true;
        list_push(&s->full, pg);
    }
    return c;
}

void slab_free(struct slab *s, void *p)
{
    struct slab_page *pg = page_of(p);

    assert((uintptr_t)p - (uintptr_t)pg >= PAGE_HDR);
    assert(((uintptr_t)p - (uintptr_t)pg - PAGE_HDR) % pg->csize == 0);
    assert(pg->live > 0);
    s->chunk_bytes -= pg->csize;
    if (--pg->live == 0) {
        page_release(s, pg);
        return;
    }
    memcpy(p, &pg->free, sizeof(pg->free));
    pg->free = p;
    POISON(p, pg->csize);
    if (pg->on_full) {
        list_unlink(&s->full, pg);
        pg->on_full = false;
        list_push(&s->avail[pg->cls], pg);
    }
}

size_t slab_usable(const void *p)
{
    return page_of(p)->csize;
}

void *slab_big_alloc(struct slab *s, size_t n)
{
    void *p = malloc(n);
    if (p)
        s->big_bytes += malloc_usable_size(p);
    return p;
}

void slab_big_free(struct slab *s, void *p)
{
    if (!p)
        return;
    s->big_bytes -= malloc_usable_size(p);
    free(p);
}

size_t slab_bytes(const struct slab *s)
{
    return s->pages * SLAB_PAGE_SIZE + s->big_bytes;
}

size_t slab_used(const struct slab *s)
{
    return s->chunk_bytes + s->big_bytes;
}

size_t slab_pages(const struct slab *s)
{
    return s->pages;
}
