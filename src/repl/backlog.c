/*
 * backlog.c — the FIFO ring of backlog.h. Entries are a circular array
 * (head .. head + count), doubled when full; ids are consecutive, so the
 * entry with id x sits at (head + x - ring[head].id) % cap.
 */
#include "repl/backlog.h"

#include <assert.h>
#include <fastcache.h>
#include <stdlib.h>
#include <string.h>

int repl_backlog_init(repl_backlog *bl, uint32_t nshards, size_t budget,
                      const uint64_t *base)
{
    memset(bl, 0, sizeof *bl);
    if (!nshards)
        return FC_EINVAL;
    bl->hi = calloc(nshards, sizeof *bl->hi);
    bl->floor = calloc(nshards, sizeof *bl->floor);
    if (!bl->hi || !bl->floor) {
        repl_backlog_free(bl);
        return FC_ENOMEM;
    }
    for (uint32_t s = 0; base && s < nshards; s++)
        bl->hi[s] = bl->floor[s] = base[s];
    bl->nshards = nshards;
    bl->budget = budget ? budget : 1;
    return FC_OK;
}

static repl_bl_entry *at(const repl_backlog *bl, size_t i)
{
    return &bl->ring[(bl->head + i) % bl->cap];
}

void repl_backlog_free(repl_backlog *bl)
{
    for (size_t i = 0; i < bl->count; i++)
        repl_frame_free(&at(bl, i)->f);
    free(bl->ring);
    free(bl->hi);
    free(bl->floor);
    memset(bl, 0, sizeof *bl);
}

static int grow(repl_backlog *bl)
{
    size_t cap = bl->cap ? bl->cap * 2 : 16;
    repl_bl_entry *r = malloc(cap * sizeof *r);
    if (!r)
        return FC_ENOMEM;
    for (size_t i = 0; i < bl->count; i++)
        r[i] = *at(bl, i);
    free(bl->ring);
    bl->ring = r;
    bl->cap = cap;
    bl->head = 0;
    return FC_OK;
}

static void evict_oldest(repl_backlog *bl)
{
    repl_bl_entry *e = at(bl, 0);
    uint32_t s = e->f.shard;
    if (e->f.max_seq > bl->floor[s])
        bl->floor[s] = e->f.max_seq;
    bl->bytes -= e->f.len;
    repl_frame_free(&e->f);
    bl->head = (bl->head + 1) % bl->cap;
    bl->count--;
    bl->evicted++;
}

int repl_backlog_push(repl_backlog *bl, repl_frame *f)
{
    /* seqs start at 1; a frame overlapping what we hold is a producer bug */
    if (f->shard >= bl->nshards || f->min_seq == 0 || f->min_seq > f->max_seq ||
        f->min_seq <= bl->hi[f->shard])
        return FC_EINVAL;
    if (bl->count == bl->cap && grow(bl) != FC_OK)
        return FC_ENOMEM;
    uint32_t s = f->shard;
    /* A frame that does not follow on: the records in between were lost,
     * so a replica below it cannot be served from here. */
    if (f->min_seq != bl->hi[s] + 1)
        bl->floor[s] = f->min_seq - 1;
    bl->hi[s] = f->max_seq;
    repl_bl_entry *e = &bl->ring[(bl->head + bl->count) % bl->cap];
    e->f = *f;
    e->id = bl->next_id++;
    bl->count++;
    bl->bytes += f->len;
    memset(f, 0, sizeof *f);
    while (bl->count && bl->bytes > bl->budget)
        evict_oldest(bl);
    assert(bl->bytes <= bl->budget && bl->floor[s] <= bl->hi[s]);
    return FC_OK;
}

static uint64_t wget(const uint64_t *w, uint32_t n, uint32_t s)
{
    return s < n ? w[s] : 0;
}

int repl_backlog_check(const repl_backlog *bl, const uint64_t *w, uint32_t n)
{
    for (uint32_t s = bl->nshards; s < n; s++)
        if (w[s])
            return REPL_CATCHUP_SNAPSHOT;
    for (uint32_t s = 0; s < bl->nshards; s++) {
        uint64_t ws = wget(w, n, s);
        if (ws > bl->hi[s])
            return REPL_CATCHUP_SNAPSHOT;
        if (ws < bl->hi[s] && ws < bl->floor[s])
            return REPL_CATCHUP_SNAPSHOT;
    }
    return REPL_CATCHUP_OK;
}

const repl_frame *repl_backlog_next(const repl_backlog *bl, const uint64_t *w,
                                    uint32_t n, uint64_t *cursor)
{
    if (!bl->count)
        return NULL;
    uint64_t first = at(bl, 0)->id;
    size_t i = *cursor > first ? (size_t)(*cursor - first) : 0;
    for (; i < bl->count; i++) {
        const repl_bl_entry *e = at(bl, i);
        if (e->f.max_seq > wget(w, n, e->f.shard)) {
            *cursor = e->id + 1;
            return &e->f;
        }
    }
    *cursor = first + bl->count;
    return NULL;
}

uint64_t repl_backlog_first_id(const repl_backlog *bl)
{
    return bl->count ? at(bl, 0)->id : bl->next_id;
}

const repl_frame *repl_backlog_at(const repl_backlog *bl, uint64_t id)
{
    if (!bl->count || id < at(bl, 0)->id || id >= bl->next_id)
        return NULL;
    return &at(bl, (size_t)(id - at(bl, 0)->id))->f;
}

void repl_backlog_advance(repl_backlog *bl, uint32_t shard, uint64_t seq)
{
    if (shard < bl->nshards && seq > bl->hi[shard])
        bl->hi[shard] = bl->floor[shard] = seq;
}
