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
 *
 * Defragmentation. Freeing releases a page only when its last chunk goes,
 * so after churn (deletes, evictions, values changing size) a class can
 * hold many sparse pages, and a page's memory below its bump stays
 * resident however few chunks live there. slab_defrag gives that back in
 * bounded steps, one class at a time (a cursor rotates over the classes):
 *  - evacuation: when a class holds more pages than its live chunks need
 *    (pages > ceil(live / per page)), its sparsest page (of the first
 *    DEFRAG_SCAN on the avail list) is taken off the list, so that no
 *    allocation lands there, and its live chunks are moved into the other
 *    pages' free chunks through the owner's `move` callback; the emptied
 *    page is released like any other (munmap, or the spare slot);
 *  - closing: when the class holds so little here (live chunks under
 *    SLAB_CLOSE_BYTES) that a page for it costs more than it saves, and
 *    its band's malloc'd blocks would stay under SLAB_OPEN_BYTES with its
 *    chunks added, its chunks go to malloc through the owner's `spill`
 *    callback and the page is released; slab_class_open then keeps new
 *    ones on malloc until the band has that demand;
 *  - trimming: when the pages are as few as the data allows but one has
 *    holes below its bump worth an OS page (DEFRAG_TRIM_MIN), its topmost
 *    live chunks are moved down into its lowest holes, the bump comes down
 *    to just above the highest live chunk, the free list is rebuilt in
 *    address order (so new chunks fill the bottom first) and the whole OS
 *    pages above the bump go back with madvise(MADV_DONTNEED).
 * A chunk the owner cannot move (a detached entry) stays; its page is
 * simply not freed this time. The work is wanted only when the resident
 * bytes of the pages (`touched`) exceed the live chunks by more than
 * 1/DEFRAG_RATIO_DIV of them and DEFRAG_MIN bytes; a pass over every class
 * that finds nothing to do records the excess as a floor, and no step runs
 * until the excess grows DEFRAG_MIN past it (or falls below it), so an
 * unreclaimable remainder (a page per class) costs nothing per tick.
 * The empty spare page keeps only its first OS page resident.
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
/* The granularity of residency and of madvise. A kernel with larger pages
 * (arm64's 64 KiB) makes the unaligned madvise calls fail, harmlessly: the
 * tails then stay resident and the figures undercount. */
#define OS_PAGE 4096u
#define MAX_CHUNKS ((SLAB_PAGE_SIZE - PAGE_HDR) / SLAB_MIN)
#define DEFRAG_SCAN 64          /* avail pages looked at for the sparsest */
#define DEFRAG_TRIM_MIN OS_PAGE /* a trim must give back an OS page */
#define DEFRAG_MIN ((size_t)64 << 10)
#define DEFRAG_RATIO_DIV 20 /* wanted above 5% excess: room under 10% */

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

static inline uint32_t class_size(unsigned cls)
{
    return SLAB_MIN + cls * SLAB_STEP;
}

static inline uint32_t per_page(uint32_t csize)
{
    return (uint32_t)((SLAB_PAGE_SIZE - PAGE_HDR) / csize);
}

/* What a page below bump b holds resident: whole OS pages. */
static inline size_t os_round(size_t b)
{
    return (b + OS_PAGE - 1) & ~(size_t)(OS_PAGE - 1);
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
    pg->csize = class_size(cls);
    pg->cls = cls;
    POISON((uint8_t *)pg + PAGE_HDR, SLAB_PAGE_SIZE - PAGE_HDR);
    list_push(&s->avail[cls], pg);
    s->pages++;
    s->cls_pages[cls]++;
    s->touched += os_round(PAGE_HDR);
    return pg;
}

/* Gives back the whole OS pages of [off, end) of pg (their content is
 * lost: the next touch maps zeroes). */
static void page_trim(struct slab_page *pg, size_t off, size_t end)
{
    off = (off + OS_PAGE - 1) & ~(size_t)(OS_PAGE - 1);
    end = (end + OS_PAGE - 1) & ~(size_t)(OS_PAGE - 1);
    if (end > SLAB_PAGE_SIZE)
        end = SLAB_PAGE_SIZE;
    if (off < end)
        (void)madvise((uint8_t *)pg + off, end - off, MADV_DONTNEED);
}

static void page_release(struct slab *s, struct slab_page *pg)
{
    list_unlink(list_of(s, pg), pg);
    s->pages--;
    s->cls_pages[pg->cls]--;
    s->touched -= os_round(pg->bump);
    if (!s->spare) {
        /* Kept mapped for the next page_new, but not resident: after
         * churn an emptied page is a hole the RSS should not keep. */
        page_trim(pg, OS_PAGE, pg->bump);
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
        s->touched -= os_round(pg->bump);
        pg->bump += pg->csize;
        s->touched += os_round(pg->bump);
    }
    pg->live++;
    s->cls_live[cls]++;
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
    s->cls_live[pg->cls]--;
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

size_t slab_class_size(size_t n)
{
    assert(n >= 1 && n <= SLAB_MAX);
    return class_size(class_of(n));
}

size_t slab_usable(const void *p)
{
    return page_of(p)->csize;
}

/* The band a size counts in (slab.h); a malloc'd block by its usable
 * size, which stays the same from malloc to free. */
static inline unsigned band_of(size_t n)
{
    return (unsigned)(((n < SLAB_MAX ? n : SLAB_MAX) - 1) / SLAB_BAND);
}

/* Whether a malloc'd block counts as demand: a request of SLAB_MAX bytes
 * gets up to 15 more (glibc's rounding); bigger blocks are no class's. */
static inline bool heap_counted(size_t usable)
{
    return usable <= SLAB_MAX + 15;
}

bool slab_class_open(const struct slab *s, size_t n)
{
    return s->cls_pages[class_of(n)] ||
           s->band_heap[band_of(n)] >= SLAB_OPEN_BYTES;
}

void *slab_big_alloc(struct slab *s, size_t n)
{
    void *p = malloc(n);
    if (p) {
        size_t u = malloc_usable_size(p);
        s->big_bytes += u;
        if (heap_counted(u))
            s->band_heap[band_of(u)] += u;
    }
    return p;
}

void slab_big_free(struct slab *s, void *p)
{
    if (!p)
        return;
    size_t u = malloc_usable_size(p);
    s->big_bytes -= u;
    if (heap_counted(u))
        s->band_heap[band_of(u)] -= u;
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

/* --- defragmentation (the top comment explains the policy) --- */

static inline uint8_t *chunk_at(struct slab_page *pg, uint32_t i)
{
    return (uint8_t *)pg + PAGE_HDR + (size_t)i * pg->csize;
}

/* The next link of a free chunk, read through its poison. */
static inline void *link_get(void *c)
{
    void *n;
    UNPOISON(c, sizeof(n));
    memcpy(&n, c, sizeof(n));
    POISON(c, sizeof(n));
    return n;
}

#define MAP_WORDS ((MAX_CHUNKS + 63) / 64)
#define IS_FREE(map, i) (((map)[(i) / 64] >> ((i) % 64)) & 1)
#define SET_FREE(map, i) ((map)[(i) / 64] |= 1ULL << ((i) % 64))
#define CLR_FREE(map, i) ((map)[(i) / 64] &= ~(1ULL << ((i) % 64)))

/* Marks pg's free chunks in map; returns the chunks below its bump. */
static uint32_t map_free(struct slab_page *pg, uint64_t *map)
{
    uint32_t n = (pg->bump - PAGE_HDR) / pg->csize;
    memset(map, 0, MAP_WORDS * sizeof(*map));
    for (uint8_t *c = pg->free; c; c = link_get(c)) {
        uint32_t i = (uint32_t)((size_t)(c - chunk_at(pg, 0)) / pg->csize);
        SET_FREE(map, i);
    }
    return n;
}

static size_t excess(const struct slab *s)
{
    return s->touched > s->chunk_bytes ? s->touched - s->chunk_bytes : 0;
}

bool slab_defrag_wanted(const struct slab *s)
{
    size_t x = excess(s);
    return x > DEFRAG_MIN && x > s->chunk_bytes / DEFRAG_RATIO_DIV &&
           x >= s->defrag_floor;
}

/* Moves src's live chunks into the class's other pages (or, with spill,
 * out to malloc); src is off the avail list meanwhile, so slab_alloc never
 * hands out its own chunks, and a step stops rather than map a page when
 * the others are full. */
static size_t evacuate(struct slab *s, struct slab_page *src, size_t budget,
                       slab_move_fn move, slab_spill_fn spill, void *ctx)
{
    uint64_t map[MAP_WORDS];
    unsigned c = src->cls;
    uint32_t n = map_free(src, map);
    size_t done = 0;

    list_unlink(&s->avail[c], src);
    src->on_full = true;
    list_push(&s->full, src);
    for (uint32_t i = 0; i < n && done < budget && (spill || s->avail[c]);
         i++) {
        uint8_t *from = chunk_at(src, i), *to;
        if (IS_FREE(map, i))
            continue;
        if (spill) {
            if (!spill(ctx, from, src->csize))
                continue;
        } else {
            to = slab_alloc(s, src->csize); /* another page: avail[c] set */
            if (!move(ctx, from, to, src->csize)) {
                slab_free(s, to);
                continue;
            }
        }
        done += src->csize;
        s->moved++;
        /* slab_free without the relink to avail. */
        s->chunk_bytes -= src->csize;
        s->cls_live[c]--;
        if (--src->live == 0) {
            page_release(s, src);
            s->pages_freed++;
            return done;
        }
        memcpy(from, &src->free, sizeof(src->free));
        src->free = from;
        POISON(from, src->csize);
    }
    list_unlink(&s->full, src);
    src->on_full = false;
    list_push(&s->avail[c], src);
    return done;
}

/* Moves pg's topmost live chunks into its lowest holes, then lowers the
 * bump to just above the highest live chunk and gives back the OS pages
 * above it. The free list is rebuilt lowest address first. */
static size_t trim_page(struct slab *s, struct slab_page *pg, size_t budget,
                        slab_move_fn move, void *ctx)
{
    uint64_t map[MAP_WORDS];
    uint32_t n = map_free(pg, map), lo = 0, top = n, old;
    size_t done = 0;

    for (;;) {
        while (top > 0 && IS_FREE(map, top - 1))
            top--;
        while (lo < top && !IS_FREE(map, lo))
            lo++;
        if (lo >= top || done >= budget)
            break;
        uint8_t *from = chunk_at(pg, top - 1), *to = chunk_at(pg, lo);
        UNPOISON(to, pg->csize);
        if (!move(ctx, from, to, pg->csize)) {
            POISON(to, pg->csize);
            break; /* pinned: the bump cannot pass below it anyway */
        }
        POISON(from, pg->csize);
        CLR_FREE(map, lo);
        SET_FREE(map, top - 1);
        done += pg->csize;
        s->moved++;
    }
    while (top > 0 && IS_FREE(map, top - 1))
        top--;
    pg->free = NULL;
    for (uint32_t i = top; i-- > 0;) {
        uint8_t *c = chunk_at(pg, i);
        if (!IS_FREE(map, i))
            continue;
        UNPOISON(c, sizeof(pg->free));
        memcpy(c, &pg->free, sizeof(pg->free));
        POISON(c, sizeof(pg->free));
        pg->free = c;
    }
    old = pg->bump;
    pg->bump = PAGE_HDR + top * pg->csize;
    if (pg->bump < old) {
        s->touched -= os_round(old) - os_round(pg->bump);
        s->trimmed += os_round(old) - os_round(pg->bump);
        POISON((uint8_t *)pg + pg->bump, old - pg->bump);
        page_trim(pg, pg->bump, old);
    }
    return done;
}

/* The class's sparsest page among the first DEFRAG_SCAN with room. */
static struct slab_page *sparsest(struct slab *s, unsigned c)
{
    struct slab_page *best = s->avail[c];
    int k = 0;
    for (struct slab_page *pg = best; pg && k < DEFRAG_SCAN; pg = pg->next, k++)
        if (pg->live < best->live)
            best = pg;
    return best;
}

/* The page whose trim would give back the most OS pages (with its live
 * chunks packed at the bottom), if that is at least DEFRAG_TRIM_MIN. */
static struct slab_page *holiest(struct slab *s, unsigned c)
{
    struct slab_page *best = NULL;
    size_t most = DEFRAG_TRIM_MIN - 1;
    int k = 0;
    for (struct slab_page *pg = s->avail[c]; pg && k < DEFRAG_SCAN;
         pg = pg->next, k++) {
        size_t gain = os_round(pg->bump) -
                      os_round(PAGE_HDR + (size_t)pg->live * pg->csize);
        if (gain > most) {
            most = gain;
            best = pg;
        }
    }
    return best;
}

static size_t defrag_class(struct slab *s, unsigned c, size_t budget,
                           slab_move_fn move, slab_spill_fn spill, void *ctx)
{
    uint32_t per = per_page(class_size(c));
    size_t bytes = (size_t)s->cls_live[c] * class_size(c);
    struct slab_page *pg;

    if (!s->avail[c])
        return 0; /* every page full: nothing to give back */
    /* So rare here that malloc holds it better (slab.h): out it goes, and
     * its pages with it, provided slab_class_open is false after (its
     * band's malloc'd bytes then stay under SLAB_OPEN_BYTES). */
    if (bytes < SLAB_CLOSE_BYTES &&
        bytes + s->band_heap[band_of(class_size(c))] < SLAB_OPEN_BYTES)
        return evacuate(s, sparsest(s, c), budget, move, spill, ctx);
    /* More pages than the live chunks need: the room elsewhere is at least
     * a page's worth minus the sparsest page's free chunks, so its live
     * chunks fit in the others. */
    if (s->cls_pages[c] > (s->cls_live[c] + per - 1) / per)
        return evacuate(s, sparsest(s, c), budget, move, NULL, ctx);
    pg = holiest(s, c);
    return pg ? trim_page(s, pg, budget, move, ctx) : 0;
}

size_t slab_defrag(struct slab *s, size_t budget, slab_move_fn move,
                   slab_spill_fn spill, void *ctx)
{
    size_t done = 0, x = excess(s);

    if (x + DEFRAG_MIN < s->defrag_floor)
        s->defrag_floor = x + DEFRAG_MIN; /* follow the excess down */
    if (!slab_defrag_wanted(s))
        return 0;
    for (unsigned k = 0; k < SLAB_NCLASS && done < budget; k++) {
        uint64_t moved = s->moved, trimmed = s->trimmed;
        unsigned c = s->defrag_cls;
        done += defrag_class(s, c, budget - done, move, spill, ctx);
        if (s->moved != moved || s->trimmed != trimmed) {
            s->defrag_idle = 0;
        } else if (++s->defrag_idle >= SLAB_NCLASS) {
            /* A whole pass found nothing: what is left is the floor. */
            s->defrag_floor = excess(s) + DEFRAG_MIN;
            s->defrag_idle = 0;
            s->defrag_cls = (c + 1) % SLAB_NCLASS;
            break;
        }
        if (done < budget) /* else the same class continues next time */
            s->defrag_cls = (c + 1) % SLAB_NCLASS;
    }
    return done;
}
