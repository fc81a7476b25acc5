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
    size_t count;     /* elements */
    size_t nb;        /* heap bytes of the nodes' data */
    eng_pack *nodes;  /* &one (pack) or the array (chunked) */
    uint32_t head;    /* first live node in the array */
    uint32_t nn;      /* live nodes */
    uint32_t cap;     /* array slots */
    eng_pack one;     /* the pack encoding's only node */
} list_obj;

#define NODE(l, i) (&(l)->nodes[(l)->head + (i)])

eng_obj *lst_create(void);
void lst_free(eng_obj *o);
void lst_fix_bytes(list_obj *l);
/* Bytes an element of n bytes takes in a node. */
size_t lst_item_size(size_t n);
/* Node and index inside it of position pos (< count, or count: the end). */
void lst_locate(const list_obj *l, size_t pos, uint32_t *node, size_t *idx);

#endif /* FC_ENGINE_OBJ_LIST_INT_H */
