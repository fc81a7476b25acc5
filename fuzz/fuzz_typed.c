/* fuzz_typed.c — libFuzzer target for the typed-value decoders
 * (src/engine/obj*.c): the serialized forms that snapshots and full syncs
 * carry, and the op records of the WAL and replication stream. Neither is
 * ever trusted.
 *
 * Input: u8 type selector, then items, each u16 length (little-endian) and
 * that many bytes: the first item is loaded as a serialized value of the
 * type (eng_obj_load), every later one replayed as an op record on it
 * (eng_obj_apply). After each step, the key's value must serialize, load
 * back into another shard and serialize again to as many bytes with as
 * many elements (element order in a hash table may differ, the content
 * may not), and the shard's memory count must come back to its empty
 * figure once the key is deleted. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/obj.h"
#include "util/buf.h"

static const char KEY[] = "k";

static void check_canonical(eng_shard *sh, unsigned type)
{
    static eng_shard *other;
    if (!other)
        other = eng_shard_new(0, 0, NULL);
    uint64_t h = eng_hash(KEY, 1);
    eng_obj *o;
    if (eng_obj_get(sh, h, KEY, 1, type, ENG_NOW_LAZY, &o) != FC_OK)
        return; /* emptied or never created */
    fc_buf a = {0}, b = {0};
    if (eng_obj_serialize(o, &a) != FC_OK)
        abort();
    if (eng_obj_load(other, h, KEY, 1, type, a.data, a.len, 0, 0,
                     ENG_NOW_LAZY) != FC_OK)
        abort(); /* what we wrote must load */
    eng_obj *o2;
    const eng_type_ops *t = eng_type_ops_of(type);
    if (eng_obj_get(other, h, KEY, 1, type, ENG_NOW_LAZY, &o2) != FC_OK ||
        eng_obj_serialize(o2, &b) != FC_OK || a.len != b.len ||
        t->len(o) != t->len(o2))
        abort();
    eng_del(other, h, KEY, 1, ENG_NOW_LAZY, NULL);
    fc_buf_free(&a);
    fc_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned type = 1 + data[0] % 4;
    if (!eng_type_ops_of(type))
        return 0; /* not built */
    eng_shard *sh = eng_shard_new(0, 0, NULL);
    size_t empty = eng_memory(sh);
    uint64_t h = eng_hash(KEY, 1);
    size_t off = 1;
    bool first = true;
    while (off + 2 <= size) {
        size_t n = (size_t)data[off] | (size_t)data[off + 1] << 8;
        off += 2;
        if (n > size - off)
            n = size - off;
        /* A copy of exactly n bytes: ASan sees any read past the item. */
        uint8_t *item = malloc(n ? n : 1);
        memcpy(item, data + off, n);
        off += n;
        int rc = first ? eng_obj_load(sh, h, KEY, 1, type, item, n, 0, 0,
                                      ENG_NOW_LAZY)
                       : eng_obj_apply(sh, h, KEY, 1, type, item, n, 0,
                                       ENG_NOW_LAZY);
        free(item);
        first = false;
        if (rc != FC_OK && rc != FC_EINVAL)
            abort(); /* no ENOMEM at these sizes */
        check_canonical(sh, type);
    }
    eng_del(sh, h, KEY, 1, ENG_NOW_LAZY, NULL);
    if (eng_len(sh) != 0 || eng_memory(sh) != empty)
        abort(); /* the objects' bytes were not all given back */
    eng_shard_free(sh);
    return 0;
}
