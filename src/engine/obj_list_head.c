/*
 * obj_list_head.c — free room before the head node's items, so that LPUSH
 * and LPOP on a long list do not move the node.
 *
 * Why: a node's items start at its block's start, so inserting before the
 * first item or removing it moves every byte of the node (up to 8 KiB at
 * list-max-listpack-size -2): at redis-benchmark's LPUSH that memmove was
 * a fifth of the server's instructions. Redis's listpacks move the same.
 *
 * Rules (the invariant every other list function relies on):
 * - Only a chunked list with at least two nodes has room (l->hgap > 0),
 *   and only in node 0: its data then points hgap bytes into its block.
 *   So the room is never in the last node, whose tail offsets (obj_list.c)
 *   are untouched here.
 * - Only lst_head_push and lst_head_pop use or make the room. Every other
 *   change closes it first (lst_head_close: the items move back to the
 *   block's start), so realloc, free and pk_heap (malloc_usable_size)
 *   never see an interior pointer. Readers (LRANGE, LINDEX, iterators,
 *   serializing) read items from data and never notice.
 * - The room counts as the node's heap bytes (l->nb): it is malloc'd.
 *   A push that finds no room moves the node into a new block with room
 *   of a quarter of its bytes (at least 64, at most what the node may
 *   still take): a geometric growth, so a node filled by pushes is copied
 *   about as many times as realloc's growth would, and the room wastes
 *   at most a quarter of one node per list. Pops give room back when it
 *   exceeds the items (then the node shrinks, as ln_erase would).
 *
 * Threads and memory: as obj_list.h.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "engine/obj_list_int.h"

#define GAP_MIN 64u

static inline uint8_t *block_of(const list_obj *l)
{
    return NODE(l, 0)->data - l->hgap;
}

void lst_head_close(list_obj *l)
{
    if (!l->hgap)
        return;
    eng_pack *pk = NODE(l, 0);
    uint8_t *b = block_of(l);
    memmove(b, pk->data, pk->used);
    pk->data = b;
    l->hgap = 0;
}

void lst_head_forget(list_obj *l)
{
    NODE(l, 0)->data = block_of(l);
    l->hgap = 0;
}

/* Moves node 0 into a new block with `gap` bytes of room before it. */
static int regap(list_obj *l, size_t gap)
{
    eng_pack *pk = NODE(l, 0);
    size_t size = gap + pk->used;
    uint8_t *b = malloc(size);
    if (!b)
        return FC_ENOMEM;
    uint8_t *old = block_of(l);
    size_t before = malloc_usable_size(old);
    memcpy(b + gap, pk->data, pk->used);
    free(old);
    pk->data = b + gap;
    l->hgap = (uint32_t)gap;
    l->nb = l->nb - before + malloc_usable_size(b);
    return FC_OK;
}

static inline bool applies(const list_obj *l)
{
    return l->o.enc == LENC_CHUNKED && l->nn >= 2 && NODE(l, 0)->count > 0;
}

bool lst_head_push(list_obj *l, const ln_enc *e, int *rc)
{
    size_t add = ln_size(e);
    if (!applies(l) || !lst_node_room(NODE(l, 0), add))
        return false;
    eng_pack *pk = NODE(l, 0);
    const uint8_t *b = block_of(l);
    if (e->tlen && e->tail >= b && e->tail < pk->data + pk->used)
        return false; /* an element of this node (regap would free it) */
    if (l->hgap < add) {
        size_t gap = pk->used / 4;
        if (gap < GAP_MIN)
            gap = GAP_MIN;
        if (gap < add)
            gap = add;
        if ((*rc = regap(l, gap)) != FC_OK)
            return true;
    }
    uint8_t *at = pk->data - add;
    memcpy(at, e->hdr, e->hlen);
    if (e->tlen)
        memmove(at + e->hlen, e->tail, e->tlen);
    pk->data = at;
    pk->used += (uint32_t)add;
    pk->count++;
    l->hgap -= (uint32_t)add;
    l->count++;
    *rc = FC_OK;
    return true;
}

bool lst_head_pop(list_obj *l, size_t n)
{
    if (!applies(l) || n >= NODE(l, 0)->count)
        return false;
    eng_pack *pk = NODE(l, 0);
    size_t off = 0;
    for (size_t i = 0; i < n; i++)
        off = ln_skip(pk, off);
    pk->data += off;
    pk->used -= (uint32_t)off;
    pk->count -= (uint32_t)n;
    l->hgap += (uint32_t)off;
    l->count -= n;
    if (l->hgap > pk->used && l->hgap > GAP_MIN) {
        /* Mostly room now: give it back (ln_shrink's rule, on the block). */
        size_t before = malloc_usable_size(block_of(l));
        lst_head_close(l);
        ln_shrink(pk);
        l->nb = l->nb - before + pk_heap(pk);
    }
    return true;
}
