/*
 * defrag.c — incremental defragmentation of a shard's slab and the memory
 * figures INFO reports (contract in engine.h, the policy in slab.c).
 *
 * The slab decides which chunks move and where to; this file does the
 * part only the shard can: finding the table slot that holds the entry
 * being moved and repointing it at the copy. The slot is found by the
 * entry's own key hash (the table's bits of a routed hash come from the
 * key's hash, as the resize's rehash assumes) and by pointer identity, in
 * both tables while a resize migrates: so a detached entry, which no slot
 * holds, is reported unmovable and stays where it is. A class the shard
 * holds too little of to deserve a page is spilled instead: each entry is
 * copied to a malloc'd block (ENT_F_HEAP), the same way.
 *
 * Why moving is safe here: a typed value's bytes are one pointer to its
 * object (obj.h), which nothing points back from, so the copy carries it;
 * no entry pointer survives a mutating call by the engine's contract; scan
 * cursors, the sweep cursor and the CLOCK hand are table positions, which
 * a move leaves alone; batched lookups' hints carry the slab's move count
 * and are ignored once it changed.
 */
#include "engine/shard.h"

static bool relocate(void *ctx, void *from, void *to, size_t size)
{
    eng_shard *sh = ctx;
    struct ent_view v;
    struct ht_ref r;

    ent_decode(from, &v);
    if (!ht_find_ptr(&sh->ht, eng_hash_seeded(sh->ht.seed, v.key, v.klen), from,
                     &r))
        return false;
    memcpy(to, from, size);
    r.g->slot[r.i] = to;
    return true;
}

/* A rare class's entry to malloc: the copy is exactly the entry (any
 * growth slack is dropped) and carries ENT_F_HEAP, so it is freed there. */
static bool spill(void *ctx, void *from, size_t size)
{
    eng_shard *sh = ctx;
    struct ent_view v;
    struct ht_ref r;
    eng_entry *e;
    size_t n;

    (void)size;
    ent_decode(from, &v);
    if (!ht_find_ptr(&sh->ht, eng_hash_seeded(sh->ht.seed, v.key, v.klen), from,
                     &r))
        return false;
    n = v.hdr + v.klen + v.vlen;
    if (!(e = slab_big_alloc(&sh->slab, n)))
        return false;
    memcpy(e, from, n);
    e->flags |= ENT_F_HEAP;
    r.g->slot[r.i] = e;
    return true;
}

bool eng_defrag_wanted(const eng_shard *sh)
{
    return slab_defrag_wanted(&sh->slab);
}

size_t eng_defrag(eng_shard *sh, size_t budget)
{
    return slab_defrag(&sh->slab, budget, relocate, spill, sh);
}

void eng_mem_stats_add(const eng_shard *sh, eng_mem_stats *sum)
{
    const struct slab *s = &sh->slab;
    sum->slab_pages_bytes += s->pages * SLAB_PAGE_SIZE;
    sum->slab_resident_bytes += s->touched;
    sum->slab_live_bytes += s->chunk_bytes;
    sum->heap_bytes += s->big_bytes;
    sum->defrag_moved += s->moved;
    sum->defrag_pages_freed += s->pages_freed;
    sum->defrag_trimmed_bytes += s->trimmed;
}
