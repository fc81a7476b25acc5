/*
 * obj_list.c — lists (obj_list.h): the object, its two encodings, and the
 * edits every list command and op record goes through. Serialization, dup
 * and replay are in obj_list_io.c.
 *
 * Layout. The object holds `nodes`, a window [head, head + nn) of an array
 * of eng_pack: in the "pack" encoding the array is the object's own `one`
 * (nn 0 or 1, nothing else allocated); in "chunked" it is a malloc'd array
 * with free slots at both ends, so a node is added at either end without
 * moving the others (amortised O(1): the array is recentred when an end
 * runs out). Each node is a pack block of items, each a varint header and
 * the element's bytes, or for a canonical integer its binary form
 * (obj_list_node.c), no per-element pointer. A node is closed (shrunk to its
 * exact size) when the next node is started past it, so only the two end nodes
 * carry growth room; that is what keeps the bytes per element at or below
 * Redis's quicklist, which pays a one-byte back-length per element.
 *
 * A position is found by walking the node counts from the nearer end, so
 * end operations touch one node; inside a node, the walk is forward (a
 * pack has no back-links), bounded by the node size limit.
 */
#include "engine/obj_list.h"

#include <assert.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "engine/obj_list_int.h"
#include "engine/pack.h"

/* Redis's SIZE_SAFETY_LIMIT: with a count limit (fill > 0) a node still
 * stops at this many bytes. */
#define SIZE_SAFETY 8192u

static long fill(void)
{
    return eng_limit(&eng_limits.list_max_listpack_size);
}

static size_t fill_bytes(long f)
{
    if (f > 0)
        return SIZE_SAFETY;
    long i = -f - 1;
    if (i < 0)
        i = 0;
    if (i > 4)
        i = 4;
    return (size_t)4096 << i;
}

/* One more element of `add` bytes. An empty node takes any element,
 * however large. */
bool lst_node_room(const eng_pack *pk, size_t add)
{
    long f = fill();
    if (pk->count == 0)
        return true;
    if (f > 0 && pk->count >= (unsigned long)f)
        return false;
    return (size_t)pk->used + add <= fill_bytes(f);
}

/* Below half the limits: a lone node goes back to the pack encoding. */
static bool node_small(const eng_pack *pk)
{
    long f = fill();
    if (f > 0 && pk->count > (unsigned long)f / 2)
        return false;
    return pk->used <= fill_bytes(f) / 2;
}

size_t lst_arr_cap(const list_obj *l)
{
    return l->o.enc == LENC_CHUNKED
               ? malloc_usable_size(l->nodes) / sizeof(eng_pack)
               : 1;
}

void lst_fix_bytes(list_obj *l)
{
    size_t b = malloc_usable_size(l) + l->nb;
    if (l->toff)
        b += malloc_usable_size(l->toff);
    if (l->o.enc == LENC_CHUNKED)
        b += malloc_usable_size(l->nodes);
    l->o.bytes = b;
}

eng_obj *lst_create(void)
{
    list_obj *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->o.type = ENG_TYPE_LIST;
    l->o.enc = LENC_PACK;
    l->nodes = &l->one;
    lst_fix_bytes(l);
    return &l->o;
}

void lst_free(eng_obj *o)
{
    list_obj *l = (list_obj *)o;
    if (l->nn)
        lst_head_forget(l);
    for (uint32_t i = 0; i < l->nn; i++)
        pk_free(NODE(l, i));
    if (l->o.enc == LENC_CHUNKED)
        free(l->nodes);
    free(l->toff);
    free(l);
}

/* --- tail offsets ---
 * A node walks forwards only, so its last item is found by walking the
 * node: RPOP or BRPOP on a long list would walk ~1000 items per pop (a
 * queue fed with LPUSH and drained from the tail, Redis's classic). So
 * once a tail read needs them and the last node is large, the offsets of
 * its items are kept (4 bytes per item of ONE node: for a long list a
 * fraction of a byte per element; never for small lists). Invariant:
 * when set, toff describes the current last node exactly; every change
 * keeps it (a push or pop at the tail) or drops it (anything else). */
#define TAIL_MIN 128 /* items: a shorter node is walked, not cached */

static void tail_drop(list_obj *l)
{
    free(l->toff);
    l->toff = NULL;
}

/* The offsets of the last node, building them when worth it; NULL when
 * the node is small (or on ENOMEM: the caller walks). */
static uint32_t *tail_get(list_obj *l)
{
    if (l->toff || l->nn == 0) {
        assert(!l->toff || (l->nn && l->toff[0] == NODE(l, l->nn - 1)->count));
        return l->toff;
    }
    const eng_pack *pk = NODE(l, l->nn - 1);
    if (pk->count < TAIL_MIN)
        return NULL;
    uint32_t cap = pk->count + pk->count / 4;
    uint32_t *a = malloc((2 + (size_t)cap) * sizeof(uint32_t));
    if (!a)
        return NULL;
    size_t off = 0;
    for (uint32_t j = 0; j < pk->count; j++) {
        a[2 + j] = (uint32_t)off;
        off = ln_skip(pk, off);
    }
    a[0] = pk->count;
    a[1] = cap;
    l->toff = a;
    return a;
}

/* The last node as it was before a change: if it is the same block with
 * the same items after, its offsets still hold (a push or pop at the head
 * of a long list leaves the last node alone). */
typedef struct tail_mark {
    const uint8_t *data;
    uint32_t count, used;
} tail_mark;

static tail_mark tail_mark_of(const list_obj *l)
{
    tail_mark m = {0};
    if (l->toff && l->nn) {
        const eng_pack *pk = NODE(l, l->nn - 1);
        m.data = pk->data;
        m.count = pk->count;
        m.used = pk->used;
    }
    return m;
}

static void tail_check(list_obj *l, const tail_mark *m)
{
    if (!l->toff)
        return;
    const eng_pack *pk = l->nn ? NODE(l, l->nn - 1) : NULL;
    if (!pk || pk->data != m->data || pk->count != m->count ||
        pk->used != m->used)
        tail_drop(l);
}

/* Offset of item idx of node i (the tail offsets when they apply). */
static size_t node_off(list_obj *l, uint32_t i, size_t idx)
{
    const eng_pack *pk = NODE(l, i);
    if (idx >= pk->count)
        return pk->used;
    if (i + 1 == l->nn && idx > 0) {
        const uint32_t *a = tail_get(l);
        if (a)
            return a[2 + idx];
    }
    return ln_offset(pk, idx);
}

size_t lst_len(const eng_obj *o)
{
    return ((const list_obj *)o)->count;
}

/* Shrinks a node to its exact size (it will not grow again soon). */
static void node_fit(list_obj *l, eng_pack *pk)
{
    if (!pk->data || pk_heap(pk) <= (size_t)pk->used + 16)
        return;
    size_t b0 = pk_heap(pk);
    uint8_t *d = realloc(pk->data, pk->used);
    if (d)
        pk->data = d;
    l->nb = l->nb - b0 + pk_heap(pk);
}

/* To chunked: the lone pack becomes node 0 of a new array. */
static int to_chunked(list_obj *l)
{
    if (l->o.enc == LENC_CHUNKED)
        return FC_OK;
    eng_pack *a = malloc(4 * sizeof(*a));
    if (!a)
        return FC_ENOMEM;
    memset(a, 0, 4 * sizeof(*a));
    a[1] = l->one;
    memset(&l->one, 0, sizeof(l->one));
    l->nodes = a;
    l->head = 1;
    if (l->nn == 0)
        l->nn = 1; /* an empty node to push into */
    l->o.enc = LENC_CHUNKED;
    return FC_OK;
}

/* Back to pack when one small node is left (or none). */
static void maybe_compact(list_obj *l)
{
    if (l->o.enc != LENC_CHUNKED || l->nn > 1 ||
        (l->nn == 1 && !node_small(NODE(l, 0))))
        return;
    if (l->nn == 1)
        l->one = *NODE(l, 0);
    else
        memset(&l->one, 0, sizeof(l->one));
    free(l->nodes);
    l->nodes = &l->one;
    l->head = 0;
    l->o.enc = LENC_PACK;
}

/* Opens an empty node at index i (0..nn), shifting the later ones. NULL on
 * ENOMEM. Chunked only. */
static eng_pack *node_add(list_obj *l, uint32_t i)
{
    if (i == 0 && l->head > 0) {
        l->head--;
    } else if (l->head + l->nn < lst_arr_cap(l) && (i > 0 || l->head == 0)) {
        memmove(&l->nodes[l->head + i + 1], &l->nodes[l->head + i],
                (l->nn - i) * sizeof(eng_pack));
    } else if (l->head > 0) {
        memmove(&l->nodes[l->head - 1], &l->nodes[l->head],
                i * sizeof(eng_pack));
        l->head--;
    } else {
        uint32_t cap = (l->nn + 1) * 2 < 4 ? 4 : (l->nn + 1) * 2;
        eng_pack *a = malloc((size_t)cap * sizeof(*a));
        if (!a)
            return NULL;
        uint32_t h = (cap - (l->nn + 1)) / 2;
        memcpy(&a[h], &l->nodes[l->head], i * sizeof(eng_pack));
        memcpy(&a[h + i + 1], &l->nodes[l->head + i],
               (l->nn - i) * sizeof(eng_pack));
        free(l->nodes);
        l->nodes = a;
        l->head = h;
    }
    l->nn++;
    eng_pack *pk = NODE(l, i);
    memset(pk, 0, sizeof(*pk));
    return pk;
}

/* Frees node i and closes the gap (from the shorter side). */
static void node_remove(list_obj *l, uint32_t i)
{
    eng_pack *pk = NODE(l, i);
    l->nb -= pk_heap(pk);
    pk_free(pk);
    if (l->o.enc != LENC_CHUNKED) {
        l->nn = 0;
        return;
    }
    if (i < l->nn / 2) {
        memmove(&l->nodes[l->head + 1], &l->nodes[l->head],
                i * sizeof(eng_pack));
        l->head++;
    } else {
        memmove(&l->nodes[l->head + i], &l->nodes[l->head + i + 1],
                (l->nn - i - 1) * sizeof(eng_pack));
    }
    l->nn--;
    /* A long-emptied array gives its room back. */
    if (lst_arr_cap(l) > 16 && l->nn < lst_arr_cap(l) / 4) {
        uint32_t cap = l->nn * 2 < 4 ? 4 : l->nn * 2;
        eng_pack *a = malloc((size_t)cap * sizeof(*a));
        if (a) {
            uint32_t h = (cap - l->nn) / 2;
            memcpy(&a[h], &l->nodes[l->head], l->nn * sizeof(eng_pack));
            free(l->nodes);
            l->nodes = a;
            l->head = h;
        }
    }
}

void lst_locate(const list_obj *l, size_t pos, uint32_t *node, size_t *idx)
{
    if (pos <= l->count / 2) {
        uint32_t i = 0;
        while (i + 1 < l->nn && pos >= NODE(l, i)->count)
            pos -= NODE(l, i++)->count;
        *node = i;
        *idx = pos;
        return;
    }
    size_t after = l->count - pos; /* elements from pos to the end */
    uint32_t i = l->nn - 1;
    while (i > 0 && after > NODE(l, i)->count)
        after -= NODE(l, i--)->count;
    *node = i;
    *idx = NODE(l, i)->count - after;
}

/* Inserts into node i at byte offset off, accounting the growth. */
static int node_insert(list_obj *l, eng_pack *pk, size_t off, const ln_enc *e)
{
    size_t b0 = pk_heap(pk);
    int rc = ln_insert(pk, off, e);
    if (rc == FC_OK) {
        l->nb = l->nb - b0 + pk_heap(pk);
        l->count++;
    }
    return rc;
}

/* Splits node i before its element idx (0 < idx < count): the tail goes
 * to a new node i + 1. */
static int node_split(list_obj *l, uint32_t i, size_t idx)
{
    eng_pack *pk = NODE(l, i);
    size_t off = ln_offset(pk, idx);
    eng_pack tail = {0};
    tail.data = malloc(pk->used - off);
    if (!tail.data)
        return FC_ENOMEM;
    memcpy(tail.data, pk->data + off, pk->used - off);
    tail.used = pk->used - (uint32_t)off;
    tail.count = pk->count - (uint32_t)idx;
    eng_pack *slot = node_add(l, i + 1);
    if (!slot) {
        free(tail.data);
        return FC_ENOMEM;
    }
    *slot = tail;
    l->nb += pk_heap(slot);
    pk = NODE(l, i);
    pk->used = (uint32_t)off;
    pk->count = (uint32_t)idx;
    node_fit(l, pk);
    return FC_OK;
}

int lst_insert(eng_obj *o, size_t pos, const void *p, size_t n)
{
    list_obj *l = (list_obj *)o;
    ln_enc e;
    int rc;
    if (n > UINT32_MAX / 4)
        return FC_ETOOBIG;
    ln_encode(p, n, &e);
    size_t add = ln_size(&e);
    if (pos > l->count)
        pos = l->count;
    if (pos == 0 && lst_head_push(l, &e, &rc)) {
        lst_fix_bytes(l);
        return rc;
    }
    lst_head_close(l);
    /* A push at the tail into the last node keeps the tail offsets (see
     * `out`); anything else drops them first. */
    uint32_t old_nn = l->nn;
    size_t old_used = l->nn ? NODE(l, l->nn - 1)->used : 0;
    bool at_tail = pos == l->count;
    tail_mark mark = tail_mark_of(l);
    if (l->nn == 0)
        l->nn = 1; /* the (empty) pack, or the array's first node */
    uint32_t i;
    size_t idx;
    lst_locate(l, pos, &i, &idx);
    eng_pack *pk = NODE(l, i);
    /* At a node boundary, the node before may have room. */
    if (idx == 0 && i > 0 && !lst_node_room(pk, add) &&
        lst_node_room(NODE(l, i - 1), add)) {
        pk = NODE(l, --i);
        idx = pk->count;
    }
    if (lst_node_room(pk, add)) {
        rc = node_insert(l, pk,
                         idx == pk->count ? pk->used : ln_offset(pk, idx), &e);
        goto out;
    }
    if ((rc = to_chunked(l)) != FC_OK)
        goto out;
    pk = NODE(l, i);
    if (idx > 0 && idx < pk->count) {
        if ((rc = node_split(l, i, idx)) != FC_OK)
            goto out;
        pk = NODE(l, i);
        if (lst_node_room(pk, add)) {
            rc = node_insert(l, pk, pk->used, &e);
            goto out;
        }
        idx = pk->count; /* into the new node's front, below */
    }
    if (idx == 0) { /* before node i: a new node there, or i - 1's end */
        eng_pack *nw = node_add(l, i);
        if (!nw) {
            rc = FC_ENOMEM;
            goto out;
        }
        if (i + 1 < l->nn)
            node_fit(l, NODE(l, i + 1));
        rc = node_insert(l, nw, 0, &e);
        if (rc != FC_OK)
            node_remove(l, i);
        goto out;
    }
    /* After node i: the next node's front if it has room, else a new one. */
    if (i + 1 < l->nn && lst_node_room(NODE(l, i + 1), add)) {
        rc = node_insert(l, NODE(l, i + 1), 0, &e);
        goto out;
    }
    eng_pack *nw = node_add(l, i + 1);
    if (!nw) {
        rc = FC_ENOMEM;
        goto out;
    }
    node_fit(l, NODE(l, i));
    rc = node_insert(l, NODE(l, i + 1), 0, &e);
    if (rc != FC_OK)
        node_remove(l, i + 1);
out:
    if (l->toff && !l->nn) {
        tail_drop(l);
    } else if (l->toff) {
        uint32_t *a = l->toff;
        const eng_pack *last = NODE(l, l->nn - 1);
        if (at_tail && rc == FC_OK && l->nn == old_nn &&
            last->count == a[0] + 1 && last->used == old_used + add) {
            if (a[0] == a[1]) {
                uint32_t cap = a[1] * 2;
                a = realloc(a, (2 + (size_t)cap) * sizeof(uint32_t));
                if (a)
                    a[1] = cap;
                else
                    tail_drop(l);
                if (a)
                    l->toff = a;
            }
            if (l->toff)
                a[2 + a[0]++] = (uint32_t)old_used;
        } else {
            tail_check(l, &mark);
        }
    }
    if (l->count == 0) { /* failed on an empty list: no empty node kept */
        while (l->nn)
            node_remove(l, 0);
        maybe_compact(l);
    }
    lst_fix_bytes(l);
    return rc;
}

int lst_push(eng_obj *o, bool tail, const void *p, size_t n)
{
    return lst_insert(o, tail ? lst_len(o) : 0, p, n);
}

bool lst_index(const eng_obj *o, size_t pos, const uint8_t **p, size_t *n)
{
    const list_obj *l = (const list_obj *)o;
    if (pos >= l->count)
        return false;
    uint32_t i;
    size_t idx;
    lst_locate(l, pos, &i, &idx);
    static _Thread_local char num[LN_NUM_MAX];
    /* The tail offsets are a memo: building them is no change of the
     * list (o->bytes is accounted at the next commit). */
    size_t off = node_off((list_obj *)l, i, idx);
    ln_read(NODE(l, i), off, num, p, n);
    return true;
}

int lst_set(eng_obj *o, size_t pos, const void *p, size_t n)
{
    list_obj *l = (list_obj *)o;
    if (pos >= l->count)
        return FC_EINVAL;
    lst_head_close(l);
    if (pos >= l->count - (l->nn ? NODE(l, l->nn - 1)->count : 0))
        tail_drop(l); /* in the last node */
    if (n > UINT32_MAX / 4)
        return FC_ETOOBIG;
    uint32_t i;
    size_t idx;
    lst_locate(l, pos, &i, &idx);
    eng_pack *pk = NODE(l, i);
    size_t off = ln_offset(pk, idx), old = ln_skip(pk, off) - off;
    ln_enc e;
    ln_encode(p, n, &e);
    size_t grow = ln_size(&e) > old ? ln_size(&e) - old : 0;
    if (pk->count == 1 || grow == 0 || lst_node_room(pk, grow)) {
        size_t b0 = pk_heap(pk);
        int rc = ln_replace(pk, off, &e);
        if (rc == FC_OK)
            l->nb = l->nb - b0 + pk_heap(pk);
        lst_fix_bytes(l);
        return rc;
    }
    /* The node cannot hold it: insert after, then remove the old one (an
     * error leaves the list as it was). */
    int rc = lst_insert(o, pos + 1, p, n);
    if (rc == FC_OK)
        lst_del(o, pos, 1);
    return rc;
}

/* Removes the items of node i at the sorted offsets offs[0..k), in one
 * pass over the node. */
static void node_drop(list_obj *l, uint32_t i, const size_t *offs, size_t k)
{
    eng_pack *pk = NODE(l, i);
    if (k == pk->count) {
        l->count -= k;
        node_remove(l, i);
        return;
    }
    size_t b0 = pk_heap(pk), w = offs[0];
    for (size_t j = 0; j < k; j++) {
        size_t end = ln_skip(pk, offs[j]);
        size_t next = j + 1 < k ? offs[j + 1] : pk->used;
        memmove(pk->data + w, pk->data + end, next - end);
        w += next - end;
    }
    pk->used = (uint32_t)w;
    pk->count -= (uint32_t)k;
    l->count -= k;
    ln_shrink(pk);
    l->nb = l->nb - b0 + pk_heap(pk);
}

/* Merges node i + 1 into node i when both fit in one. */
static void maybe_merge(list_obj *l, uint32_t i)
{
    if (l->o.enc != LENC_CHUNKED || i + 1 >= l->nn)
        return;
    eng_pack *a = NODE(l, i), *b = NODE(l, i + 1);
    long f = fill();
    if ((f > 0 && a->count + b->count > (unsigned long)f) ||
        (size_t)a->used + b->used > fill_bytes(f))
        return;
    size_t b0 = pk_heap(a);
    uint8_t *d = realloc(a->data, (size_t)a->used + b->used);
    if (!d)
        return;
    memcpy(d + a->used, b->data, b->used);
    a->data = d;
    a->used += b->used;
    a->count += b->count;
    l->nb = l->nb - b0 + pk_heap(a);
    node_remove(l, i + 1);
}

void lst_del(eng_obj *o, size_t start, size_t n)
{
    list_obj *l = (list_obj *)o;
    if (start >= l->count || n == 0)
        return;
    if (n > l->count - start)
        n = l->count - start;
    if (start == 0 && lst_head_pop(l, n)) {
        lst_fix_bytes(l);
        return;
    }
    lst_head_close(l);
    uint32_t i;
    size_t idx;
    lst_locate(l, start, &i, &idx);
    if (start + n == l->count && i + 1 == l->nn && idx > 0) {
        /* Within the last node, at its end: cut it at idx's offset. */
        eng_pack *pk = NODE(l, i);
        uint32_t *a = tail_get(l);
        size_t b0 = pk_heap(pk);
        pk->used = (uint32_t)(a ? a[2 + idx] : ln_offset(pk, idx));
        pk->count = (uint32_t)idx;
        if (a)
            a[0] = (uint32_t)idx;
        ln_shrink(pk);
        l->count -= n;
        l->nb = l->nb - b0 + pk_heap(pk);
        maybe_compact(l);
        lst_fix_bytes(l);
        return;
    }
    tail_mark mark = tail_mark_of(l);
    while (n > 0 && i < l->nn) {
        eng_pack *pk = NODE(l, i);
        size_t k = pk->count - idx < n ? pk->count - idx : n;
        if (idx == 0 && k == pk->count) {
            l->count -= k;
            node_remove(l, i);
        } else {
            size_t b0 = pk_heap(pk);
            ln_erase(pk, ln_offset(pk, idx), k);
            l->count -= k;
            l->nb = l->nb - b0 + pk_heap(pk);
            i++;
        }
        n -= k;
        idx = 0;
    }
    if (i > 0)
        maybe_merge(l, i - 1);
    if (l->count == 0)
        while (l->nn)
            node_remove(l, 0);
    tail_check(l, &mark);
    maybe_compact(l);
    lst_fix_bytes(l);
}

/* Offsets of node pk's items equal to e, in order; *k of them. */
static size_t *node_matches(const eng_pack *pk, const ln_enc *e, size_t *k,
                            size_t **buf, size_t *cap)
{
    *k = 0;
    for (size_t off = 0; off < pk->used;) {
        size_t next = ln_skip(pk, off);
        if (ln_equal(pk, off, next, e)) {
            if (*k == *cap) {
                size_t nc = *cap ? *cap * 2 : 64;
                size_t *b = realloc(*buf, nc * sizeof(size_t));
                if (!b)
                    return NULL;
                *buf = b;
                *cap = nc;
            }
            (*buf)[(*k)++] = off;
        }
        off = next;
    }
    return *buf;
}

size_t lst_rem(eng_obj *o, int64_t count, const void *p, size_t n)
{
    list_obj *l = (list_obj *)o;
    lst_head_close(l);
    size_t want = count == 0  ? SIZE_MAX
                  : count > 0 ? (size_t)count
                              : (size_t)(-(count + 1)) + 1;
    size_t removed = 0, *buf = NULL, cap = 0, k;
    bool rev = count < 0;
    ln_enc e;
    ln_encode(p, n, &e);
    tail_drop(l);
    for (uint32_t step = 0, nn = l->nn; step < nn && removed < want; step++) {
        uint32_t i = rev ? nn - 1 - step : step - (nn - l->nn);
        if (!node_matches(NODE(l, i), &e, &k, &buf, &cap) || k == 0)
            continue;
        size_t take = want - removed < k ? want - removed : k;
        node_drop(l, i, rev ? buf + (k - take) : buf, take);
        removed += take;
    }
    free(buf);
    for (uint32_t i = 0; i + 1 < l->nn;) { /* merge what the drops thinned */
        uint32_t before = l->nn;
        maybe_merge(l, i);
        if (l->nn == before)
            i++;
    }
    maybe_compact(l);
    lst_fix_bytes(l);
    return removed;
}

size_t lst_find(const eng_obj *o, size_t from, const void *p, size_t n)
{
    const list_obj *l = (const list_obj *)o;
    lst_iter it;
    ln_enc e;
    ln_encode(p, n, &e);
    lst_iter_at(o, from, &it);
    for (size_t pos = from; it.node < l->nn;) {
        const eng_pack *pk = NODE(l, it.node);
        if (it.off >= pk->used) {
            it.node++;
            it.off = 0;
            continue;
        }
        size_t next = ln_skip(pk, it.off);
        if (ln_equal(pk, it.off, next, &e))
            return pos;
        it.off = next;
        pos++;
    }
    return SIZE_MAX;
}

void lst_iter_at(const eng_obj *o, size_t pos, lst_iter *it)
{
    const list_obj *l = (const list_obj *)o;
    it->o = o;
    if (pos >= l->count) {
        it->node = l->nn;
        it->off = 0;
        return;
    }
    uint32_t i;
    size_t idx;
    lst_locate(l, pos, &i, &idx);
    it->node = i;
    it->off = ln_offset(NODE(l, i), idx);
}

bool lst_iter_next(lst_iter *it, const uint8_t **p, size_t *n)
{
    const list_obj *l = (const list_obj *)it->o;
    while (it->node < l->nn) {
        const eng_pack *pk = NODE(l, it->node);
        if (it->off < pk->used) {
            it->off = ln_read(pk, it->off, it->num, p, n);
            return true;
        }
        it->node++;
        it->off = 0;
    }
    return false;
}

int lst_walk_back(const eng_obj *o, size_t end, size_t n,
                  void (*fn)(void *ctx, const uint8_t *p, size_t len),
                  void *ctx)
{
    const list_obj *l = (const list_obj *)o;
    if (end > l->count)
        end = l->count;
    if (n > end)
        n = end;
    if (n == 0)
        return FC_OK;
    uint32_t i;
    size_t idx; /* of the last element wanted, in node i */
    lst_locate(l, end - 1, &i, &idx);
    size_t cap = 0, *offs = NULL;
    char num[LN_NUM_MAX];
    for (;;) {
        const eng_pack *pk = NODE(l, i);
        if (pk->count > cap) {
            size_t *b = realloc(offs, pk->count * sizeof(size_t));
            if (!b) {
                free(offs);
                return FC_ENOMEM;
            }
            offs = b;
            cap = pk->count;
        }
        size_t off = 0;
        for (size_t j = 0; j <= idx; j++) {
            offs[j] = off;
            off = ln_skip(pk, off);
        }
        for (size_t j = idx + 1; j-- > 0 && n > 0; n--) {
            const uint8_t *p;
            size_t len;
            ln_read(pk, offs[j], num, &p, &len);
            fn(ctx, p, len);
        }
        if (n == 0 || i == 0)
            break;
        i--;
        idx = NODE(l, i)->count - 1;
    }
    free(offs);
    return FC_OK;
}
