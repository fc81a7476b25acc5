/*
 * obj_list_int.h — the list object's layout, shared by obj_list.c (edits)
 * and obj_list_io.c (serialize, load, dup, replay). Private to the engine.
 * Threads and memory: as obj_list.h.
 */
#ifndef FC_ENGINE_OBJ_LIST_INT_H
#define FC_ENGINE_OBJ_LIST_INT_H

#include "engine/obj.h"
#include "engine/pack.h"

enum { LENC_PACK = 0, LENC_CHUNKED = 1 };

typedef struct list_obj {
    eng_obj o;
    size_t count;    /* elements */
    size_t nb;       /* heap bytes of the nodes' data */
    eng_pack *nodes; /* &one (pack) or the array (chunked) */
    uint32_t head;   /* first live node in the array */
    uint32_t nn;     /* live nodes */
    uint32_t hgap;   /* free bytes before node 0's items (obj_list_head.c) */
    eng_pack one;    /* the pack encoding's only node */
    /* Offsets of the last node's items, or NULL (obj_list.c "tail
     * offsets"): [0] items, [1] capacity, then one per item. */
    uint32_t *toff;
} list_obj;

#define NODE(l, i) (&(l)->nodes[(l)->head + (i)])

/* Array slots: malloc's usable size says (no field: it keeps the object
 * in the 88-byte class, which the pack encoding's memory per element
 * notices on small lists). */
size_t lst_arr_cap(const list_obj *l);

eng_obj *lst_create(void);
void lst_free(eng_obj *o);
void lst_fix_bytes(list_obj *l);
/* Whether node pk may take `add` more bytes (list-max-listpack-size). */
bool lst_node_room(const eng_pack *pk, size_t add);

/* --- node items (obj_list_node.c: the format is explained there) --- */

#define LN_NUM_MAX 24 /* decimal text of an int64, with room */

/* An element as a node item: hdr[0..hlen) then tail[0..tlen) (a string's
 * bytes, borrowed from the caller; none for an integer). */
typedef struct ln_enc {
    uint8_t hdr[24];
    size_t hlen;
    const uint8_t *tail;
    size_t tlen;
} ln_enc;

void ln_encode(const void *p, size_t n, ln_enc *e);
static inline size_t ln_size(const ln_enc *e)
{
    return e->hlen + e->tlen;
}
/* Decimal text of v into buf (LN_NUM_MAX): its length. */
size_t ln_format(int64_t v, char *buf);
/* Offset after the item at off. */
size_t ln_skip(const eng_pack *pk, size_t off);
/* The element at off (an integer decoded into num[LN_NUM_MAX], which the
 * view then points to); returns the next offset. */
size_t ln_read(const eng_pack *pk, size_t off, char *num, const uint8_t **p,
               size_t *n);
/* Whether the item at [off, end) is e. */
bool ln_equal(const eng_pack *pk, size_t off, size_t end, const ln_enc *e);
/* Offset of item idx (used when idx == count). */
size_t ln_offset(const eng_pack *pk, size_t idx);
/* Insert before / replace the item at off: FC_OK, FC_ENOMEM, FC_ETOOBIG
 * (unchanged on error). */
int ln_insert(eng_pack *pk, size_t off, const ln_enc *e);
int ln_replace(eng_pack *pk, size_t off, const ln_enc *e);
/* Removes n items from off; shrinks a block much larger than its use. */
void ln_erase(eng_pack *pk, size_t off, size_t n);
void ln_shrink(eng_pack *pk);
/* Node and index inside it of position pos (< count, or count: the end). */
void lst_locate(const list_obj *l, size_t pos, uint32_t *node, size_t *idx);

/* --- the head node's front room (obj_list_head.c: why and the rules) ---
 * lst_head_close: every change but the two below calls it first, so
 * nothing else ever sees a node whose data is not its block's start.
 * lst_head_push / lst_head_pop: an element pushed before, or n removed
 * from, the front of the list without moving the node; false when the
 * fast way does not apply (the caller then takes the general path). */
void lst_head_close(list_obj *l);
/* Points node 0 back at its block's start without moving the items: for
 * freeing the list, where lst_head_close's move would be wasted. */
void lst_head_forget(list_obj *l);
bool lst_head_push(list_obj *l, const ln_enc *e, int *rc);
bool lst_head_pop(list_obj *l, size_t n);

#endif /* FC_ENGINE_OBJ_LIST_INT_H */
