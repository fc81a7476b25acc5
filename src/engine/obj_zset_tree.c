/*
 * obj_zset_tree.c — the order-statistics B+tree and the member index of a
 * large sorted set (obj_zset_tree.h).
 *
 * Tree: leaves hold sorted element pointers; an inner node holds, per
 * child, the child's element count (rank arithmetic) and the child's
 * largest element (descent: the first child whose max is >= the key).
 * Keeping the max rather than a separator means no key ever needs copying:
 * every key in the tree is an element pointer. Inserts split full nodes
 * (every node the split needs is allocated before anything changes, so an
 * ENOMEM leaves the tree as it was); removals merge a node under half full
 * into a neighbour when both fit in one, so every adjacent pair holds at
 * least half a node and leaves stay > ~50% full on average.
 *
 * Index: linear probing over a power-of-two array of element pointers, at
 * most 3/4 full, backward-shift deletion (no tombstones), so an element's
 * probe run from its home slot is contiguous: what zi_scan relies on.
 */
#include "engine/obj_zset_tree.h"

#include <malloc.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "fastcache.h"

typedef struct zt_leaf {
    zt_node h;
    zs_elem *e[ZT_LEAF_MAX];
} zt_leaf;

typedef struct zt_inner {
    zt_node h;
    size_t cnt[ZT_INNER_MAX];
    zs_elem *max[ZT_INNER_MAX];
    zt_node *c[ZT_INNER_MAX];
} zt_inner;

#define LEAF(nd) ((zt_leaf *)(nd))
#define INNER(nd) ((zt_inner *)(nd))

static zt_node *node_new(zs_tree *t, bool leaf)
{
    zt_node *nd = malloc(leaf ? sizeof(zt_leaf) : sizeof(zt_inner));
    if (!nd)
        return NULL;
    nd->n = 0;
    nd->leaf = leaf;
    t->bytes += malloc_usable_size(nd);
    return nd;
}

static void node_free(zs_tree *t, zt_node *nd)
{
    t->bytes -= malloc_usable_size(nd);
    free(nd);
}

static zs_elem *node_max(const zt_node *nd)
{
    return nd->leaf ? LEAF(nd)->e[nd->n - 1] : INNER(nd)->max[nd->n - 1];
}

static size_t node_count(const zt_node *nd)
{
    if (nd->leaf)
        return nd->n;
    size_t s = 0;
    for (unsigned i = 0; i < nd->n; i++)
        s += INNER(nd)->cnt[i];
    return s;
}

/* First child whose max is >= key (the last child when none is). */
static unsigned inner_pick(const zt_inner *in, const zs_elem *key)
{
    unsigned lo = 0, hi = in->h.n - 1u;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (zs_cmp_elem(in->max[mid], key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First position in the leaf whose element is >= key. */
static unsigned leaf_pos(const zt_leaf *lf, const zs_elem *key)
{
    unsigned lo = 0, hi = lf->h.n;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (zs_cmp_elem(lf->e[mid], key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static unsigned node_cap(const zt_node *nd)
{
    return nd->leaf ? ZT_LEAF_MAX : ZT_INNER_MAX;
}

/* Child slot i of in now holds nd: its count and max. */
static void inner_set(zt_inner *in, unsigned i, zt_node *nd)
{
    in->c[i] = nd;
    in->cnt[i] = node_count(nd);
    in->max[i] = node_max(nd);
}

static void inner_insert_at(zt_inner *in, unsigned i, zt_node *nd)
{
    unsigned n = in->h.n;
    memmove(&in->c[i + 1], &in->c[i], (n - i) * sizeof(in->c[0]));
    memmove(&in->cnt[i + 1], &in->cnt[i], (n - i) * sizeof(in->cnt[0]));
    memmove(&in->max[i + 1], &in->max[i], (n - i) * sizeof(in->max[0]));
    in->h.n++;
    inner_set(in, i, nd);
}

static void inner_remove_at(zt_inner *in, unsigned i)
{
    unsigned n = in->h.n;
    memmove(&in->c[i], &in->c[i + 1], (n - i - 1) * sizeof(in->c[0]));
    memmove(&in->cnt[i], &in->cnt[i + 1], (n - i - 1) * sizeof(in->cnt[0]));
    memmove(&in->max[i], &in->max[i + 1], (n - i - 1) * sizeof(in->max[0]));
    in->h.n--;
}

/* Splits full node nd into nd and fresh right sibling r, leaving room for
 * an insert at position pos (which side it lands on is returned through
 * *pos and *into_right). At the ends (append or prepend order, the common
 * bulk-load case) the split is lopsided so that nodes stay full. */
static void split(zt_node *nd, zt_node *r, unsigned *pos, bool *into_right)
{
    unsigned n = nd->n, keep;
    if (*pos == n)
        keep = n; /* right starts empty: the new item goes there */
    else if (*pos == 0)
        keep = 0; /* everything moves right: the new item stays left */
    else
        keep = n / 2;
    if (nd->leaf) {
        memcpy(LEAF(r)->e, LEAF(nd)->e + keep, (n - keep) * sizeof(void *));
    } else {
        zt_inner *a = INNER(nd), *b = INNER(r);
        memcpy(b->c, a->c + keep, (n - keep) * sizeof(a->c[0]));
        memcpy(b->cnt, a->cnt + keep, (n - keep) * sizeof(a->cnt[0]));
        memcpy(b->max, a->max + keep, (n - keep) * sizeof(a->max[0]));
    }
    r->n = (uint16_t)(n - keep);
    nd->n = (uint16_t)keep;
    *into_right = *pos > keep || (*pos == keep && keep == n);
    if (*into_right)
        *pos -= keep;
}

int zt_insert(zs_tree *t, zs_elem *x)
{
    zt_node *path[ZT_MAX_DEPTH], *spare[ZT_MAX_DEPTH + 1];
    unsigned ix[ZT_MAX_DEPTH];
    int d = 0, need = 0;

    if (!t->root) {
        zt_node *lf = node_new(t, true);
        if (!lf)
            return FC_ENOMEM;
        LEAF(lf)->e[0] = x;
        lf->n = 1;
        t->root = lf;
        t->depth = 1;
        t->count = 1;
        return FC_OK;
    }
    for (zt_node *nd = t->root;; d++) {
        path[d] = nd;
        if (nd->leaf) {
            ix[d] = leaf_pos(LEAF(nd), x);
            break;
        }
        ix[d] = inner_pick(INNER(nd), x);
        nd = INNER(nd)->c[ix[d]];
    }
    /* Nodes to allocate: every full node from the leaf up, and a new root
     * when the root splits too. */
    for (int l = d; l >= 0 && path[l]->n == node_cap(path[l]); l--)
        need++;
    int total = need + (need == d + 1);
    for (int i = 0; i < total; i++) {
        spare[i] = node_new(t, i == 0);
        if (!spare[i]) {
            while (i-- > 0)
                node_free(t, spare[i]);
            return FC_ENOMEM;
        }
    }
    if (need == d + 1) /* the new root is the last spare: an inner node */
        spare[total - 1]->leaf = 0;

    /* Leaf level. */
    zt_node *nd = path[d], *right = NULL;
    unsigned pos = ix[d];
    int used = 0;
    if (nd->n == ZT_LEAF_MAX) {
        bool into_right;
        right = spare[used++];
        split(nd, right, &pos, &into_right);
        nd = into_right ? right : nd;
    }
    zt_leaf *lf = LEAF(nd);
    memmove(&lf->e[pos + 1], &lf->e[pos], (lf->h.n - pos) * sizeof(void *));
    lf->e[pos] = x;
    lf->h.n++;

    /* Up the path: refresh the child's slot, insert the split sibling. */
    for (int l = d - 1; l >= 0; l--) {
        zt_inner *in = INNER(path[l]);
        unsigned i = ix[l];
        inner_set(in, i, path[l + 1]);
        if (!right)
            continue;
        zt_node *sib = right;
        right = NULL;
        unsigned at = i + 1;
        zt_inner *dst = in;
        if (in->h.n == ZT_INNER_MAX) {
            bool into_right;
            right = spare[used++];
            split(&in->h, right, &at, &into_right);
            dst = into_right ? INNER(right) : in;
        }
        inner_insert_at(dst, at, sib);
    }
    if (right) { /* the root split */
        zt_inner *root = INNER(spare[used++]);
        root->h.n = 0;
        inner_insert_at(root, 0, t->root);
        inner_insert_at(root, 1, right);
        t->root = &root->h;
        t->depth++;
    }
    t->count++;
    return FC_OK;
}

/* Child i of in is under half full: merges it with a neighbour when the
 * two fit in one node. */
static void maybe_merge(zs_tree *t, zt_inner *in, unsigned i)
{
    zt_node *a = in->c[i];
    if (a->n >= node_cap(a) / 2 || in->h.n < 2)
        return;
    unsigned l = i > 0 ? i - 1 : i; /* merge (l, l+1) */
    if (i > 0 && i + 1 < in->h.n && in->c[i + 1]->n < in->c[i - 1]->n)
        l = i;
    zt_node *x = in->c[l], *y = in->c[l + 1];
    if (x->n + y->n > node_cap(x))
        return;
    if (x->leaf) {
        memcpy(LEAF(x)->e + x->n, LEAF(y)->e, y->n * sizeof(void *));
    } else {
        zt_inner *a2 = INNER(x), *b2 = INNER(y);
        memcpy(a2->c + x->n, b2->c, y->n * sizeof(a2->c[0]));
        memcpy(a2->cnt + x->n, b2->cnt, y->n * sizeof(a2->cnt[0]));
        memcpy(a2->max + x->n, b2->max, y->n * sizeof(a2->max[0]));
    }
    x->n = (uint16_t)(x->n + y->n);
    node_free(t, y);
    inner_remove_at(in, l + 1);
    inner_set(in, l, x);
}

void zt_remove(zs_tree *t, const zs_elem *key)
{
    zt_node *path[ZT_MAX_DEPTH];
    unsigned ix[ZT_MAX_DEPTH];
    int d = 0;
    for (zt_node *nd = t->root;; d++) {
        path[d] = nd;
        if (nd->leaf) {
            ix[d] = leaf_pos(LEAF(nd), key);
            break;
        }
        ix[d] = inner_pick(INNER(nd), key);
        nd = INNER(nd)->c[ix[d]];
    }
    zt_leaf *lf = LEAF(path[d]);
    unsigned pos = ix[d];
    memmove(&lf->e[pos], &lf->e[pos + 1], (lf->h.n - pos - 1) * sizeof(void *));
    lf->h.n--;
    t->count--;
    for (int l = d - 1; l >= 0; l--) {
        zt_inner *in = INNER(path[l]);
        unsigned i = ix[l];
        zt_node *ch = in->c[i];
        if (ch->n == 0) {
            node_free(t, ch);
            inner_remove_at(in, i);
        } else {
            in->cnt[i]--;
            in->max[i] = node_max(ch);
            maybe_merge(t, in, i);
        }
    }
    zt_node *root = t->root;
    if (root->n == 0) {
        node_free(t, root);
        t->root = NULL;
        t->depth = 0;
        return;
    }
    while (!root->leaf && root->n == 1) {
        t->root = INNER(root)->c[0];
        node_free(t, root);
        t->depth--;
        root = t->root;
    }
}

size_t zt_rank(const zs_tree *t, const zs_elem *key)
{
    size_t r = 0;
    const zt_node *nd = t->root;
    while (!nd->leaf) {
        const zt_inner *in = INNER(nd);
        unsigned i = inner_pick(in, key);
        for (unsigned j = 0; j < i; j++)
            r += in->cnt[j];
        nd = in->c[i];
    }
    return r + leaf_pos(LEAF(nd), key);
}

size_t zt_lower(const zs_tree *t, zt_before_fn before, const void *ctx)
{
    size_t r = 0;
    const zt_node *nd = t->root;
    if (!nd)
        return 0;
    while (!nd->leaf) {
        const zt_inner *in = INNER(nd);
        unsigned i = 0;
        while (i < in->h.n &&
               before(in->max[i]->score, in->max[i]->m, in->max[i]->len, ctx))
            r += in->cnt[i++];
        if (i == in->h.n)
            return r;
        nd = in->c[i];
    }
    const zt_leaf *lf = LEAF(nd);
    unsigned lo = 0, hi = lf->h.n;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (before(lf->e[mid]->score, lf->e[mid]->m, lf->e[mid]->len, ctx))
            lo = mid + 1;
        else
            hi = mid;
    }
    return r + lo;
}

static void free_rec(zs_tree *t, zt_node *nd, bool free_elems)
{
    if (nd->leaf) {
        if (free_elems)
            for (unsigned i = 0; i < nd->n; i++)
                free(LEAF(nd)->e[i]);
    } else {
        for (unsigned i = 0; i < nd->n; i++)
            free_rec(t, INNER(nd)->c[i], free_elems);
    }
    node_free(t, nd);
}

void zt_free_all(zs_tree *t, bool free_elems)
{
    if (t->root)
        free_rec(t, t->root, free_elems);
    t->root = NULL;
    t->count = 0;
    t->depth = 0;
}

/* --- iteration --- */

void zt_iter_at(const zs_tree *t, size_t r, zt_iter *it)
{
    it->valid = r < t->count;
    it->depth = t->depth;
    if (!it->valid)
        return;
    zt_node *nd = t->root;
    for (int l = 0;; l++) {
        it->nd[l] = nd;
        if (nd->leaf) {
            it->ix[l] = (uint16_t)r;
            return;
        }
        zt_inner *in = INNER(nd);
        unsigned i = 0;
        while (r >= in->cnt[i])
            r -= in->cnt[i++];
        it->ix[l] = (uint16_t)i;
        nd = in->c[i];
    }
}

zs_elem *zt_iter_get(const zt_iter *it)
{
    int d = it->depth - 1;
    return LEAF(it->nd[d])->e[it->ix[d]];
}

void zt_iter_next(zt_iter *it)
{
    int l = it->depth - 1;
    if (++it->ix[l] < it->nd[l]->n)
        return;
    while (--l >= 0 && it->ix[l] + 1u >= it->nd[l]->n)
        ;
    if (l < 0) {
        it->valid = false;
        return;
    }
    it->ix[l]++;
    for (; l < it->depth - 1; l++) {
        it->nd[l + 1] = INNER(it->nd[l])->c[it->ix[l]];
        it->ix[l + 1] = 0;
    }
}

void zt_iter_prev(zt_iter *it)
{
    int l = it->depth - 1;
    if (it->ix[l] > 0) {
        it->ix[l]--;
        return;
    }
    while (--l >= 0 && it->ix[l] == 0)
        ;
    if (l < 0) {
        it->valid = false;
        return;
    }
    it->ix[l]--;
    for (; l < it->depth - 1; l++) {
        zt_node *ch = INNER(it->nd[l])->c[it->ix[l]];
        it->nd[l + 1] = ch;
        it->ix[l + 1] = (uint16_t)(ch->n - 1);
    }
}

/* --- member index --- */

static size_t home(const zs_index *ix, const void *m, size_t n)
{
    return (size_t)eng_hash(m, n) & ix->mask;
}

zs_elem *zi_find(const zs_index *ix, const void *m, size_t n)
{
    if (!ix->slot)
        return NULL;
    for (size_t s = home(ix, m, n);; s = (s + 1) & ix->mask) {
        zs_elem *e = ix->slot[s];
        if (!e)
            return NULL;
        if (e->len == n && memcmp(e->m, m, n) == 0)
            return e;
    }
}

static void put(zs_index *ix, zs_elem *e)
{
    size_t s = home(ix, e->m, e->len);
    while (ix->slot[s])
        s = (s + 1) & ix->mask;
    ix->slot[s] = e;
}

static int resize(zs_index *ix, size_t slots)
{
    zs_elem **n = calloc(slots, sizeof(*n));
    if (!n)
        return FC_ENOMEM;
    zs_elem **old = ix->slot;
    size_t oldn = old ? ix->mask + 1 : 0;
    ix->slot = n;
    ix->mask = slots - 1;
    for (size_t i = 0; i < oldn; i++)
        if (old[i])
            put(ix, old[i]);
    if (old)
        ix->bytes -= malloc_usable_size(old);
    ix->bytes += malloc_usable_size(n);
    free(old);
    return FC_OK;
}

int zi_reserve(zs_index *ix, size_t more)
{
    size_t slots = ix->slot ? ix->mask + 1 : 0, want = ix->used + more;
    if (want * 4 <= slots * 3)
        return FC_OK;
    size_t n = slots ? slots : 16;
    while (want * 4 > n * 3)
        n *= 2;
    return resize(ix, n);
}

void zi_add(zs_index *ix, zs_elem *e)
{
    put(ix, e);
    ix->used++;
}

void zi_remove(zs_index *ix, const zs_elem *e)
{
    size_t s = home(ix, e->m, e->len);
    while (ix->slot[s] != e)
        s = (s + 1) & ix->mask;
    /* Backward shift: pull later members of the run into the hole when
     * their home is not between the hole and their slot. */
    for (size_t j = s;;) {
        ix->slot[s] = NULL;
        for (;;) {
            j = (j + 1) & ix->mask;
            zs_elem *x = ix->slot[j];
            if (!x)
                goto done;
            size_t h = home(ix, x->m, x->len);
            bool stays = s <= j ? (s < h && h <= j) : (s < h || h <= j);
            if (!stays) {
                ix->slot[s] = x;
                s = j;
                break;
            }
        }
    }
done:
    ix->used--;
    size_t slots = ix->mask + 1;
    if (slots > 16 && ix->used * 8 < slots)
        (void)resize(ix, slots / 2); /* a failed shrink is harmless */
}

void zi_free(zs_index *ix)
{
    if (ix->slot)
        ix->bytes -= malloc_usable_size(ix->slot);
    free(ix->slot);
    ix->slot = NULL;
    ix->mask = 0;
    ix->used = 0;
}

static size_t rev_bits(size_t v)
{
    size_t r = 0;
    for (unsigned i = 0; i < sizeof(v) * 8; i++, v >>= 1)
        r = (r << 1) | (v & 1);
    return r;
}

size_t zi_scan(const zs_index *ix, size_t cursor,
               void (*fn)(void *ctx, const zs_elem *e), void *ctx)
{
    if (!ix->slot)
        return 0;
    size_t m = ix->mask, h = cursor & m;
    for (size_t s = h; ix->slot[s]; s = (s + 1) & m) {
        const zs_elem *e = ix->slot[s];
        if (home(ix, e->m, e->len) == h)
            fn(ctx, e);
    }
    cursor |= ~m;
    cursor = rev_bits(cursor);
    cursor++;
    return rev_bits(cursor);
}
