/*
 * keys_scan.c — whole-keyspace commands: KEYS, SCAN, RANDOMKEY, DBSIZE,
 * FLUSHDB/FLUSHALL. All are CMD_ALLKEYS: the router runs them with every
 * other worker parked, so every shard in ctx->shards is ours.
 *
 * SCAN's cursor is one decimal u64: the low log2(shards) bits name the
 * shard, the rest is that shard's eng_scan cursor (which stays far below
 * 2^48: it indexes the shard's table). 0 starts and ends an iteration.
 */
#include <stdio.h>
#include <string.h>

#include "commands/cmd_fns.h"
#include "commands/cmd_util.h"

/* Slots per eng_scan call when a command walks whole shards. */
#define WALK_STEP 1024

/* Gathers matching keys into a side buffer: the array length is only
 * known at the end. */
typedef struct collect {
    resp_writer w;
    fc_buf buf;
    size_t n;    /* keys written */
    size_t seen; /* entries visited, before filtering (SCAN's COUNT) */
    const resp_arg *pat;
    const resp_arg *type;
} collect;

static void collect_init(collect *col, const cmd_ctx *c)
{
    memset(col, 0, sizeof(*col));
    col->w.out = &col->buf;
    col->w.proto = c->w->proto;
}

static void collect_cb(void *ctx, const eng_entry *e)
{
    collect *col = ctx;
    size_t kl;
    const uint8_t *k = eng_entry_key(e, &kl);
    col->seen++;
    if (col->pat && !cmd_glob_match(col->pat->ptr, col->pat->len,
                                    (const char *)k, kl, false))
        return;
    if (col->type && !cmd_arg_is(col->type, cmd_type_name(eng_entry_type(e))))
        return;
    resp_bulk(&col->w, k, kl);
    col->n++;
}

/* Appends the gathered keys as one array to the reply and frees them. */
static void collect_flush(cmd_ctx *c, collect *col)
{
    resp_array(c->w, col->n);
    fc_buf_append(c->w->out, col->buf.data, col->buf.len);
    if (col->buf.oom)
        c->w->out->oom = true;
    fc_buf_free(&col->buf);
}

static uint32_t shard_count(const cmd_ctx *c)
{
    return c->shard_mask + 1;
}

static const resp_arg *pattern_or_null(const resp_arg *p)
{
    /* "*" matches everything: skip the matcher. */
    return p->len == 1 && p->ptr[0] == '*' ? NULL : p;
}

void cmd_keys(cmd_ctx *c)
{
    collect col;
    collect_init(&col, c);
    col.pat = pattern_or_null(&c->argv[1]);
    cmd_now(c);
    for (uint32_t s = 0; s < shard_count(c); s++) {
        uint64_t cur = 0;
        do {
            cur = eng_scan(c->shards[s], cur, WALK_STEP, c->now, collect_cb,
                           &col);
        } while (cur != 0);
    }
    collect_flush(c, &col);
}

/* Redis's parseScanCursorOrReply (strtoul semantics: an optional sign, a
 * negative value wraps; "" reads as 0). */
bool cmd_scan_cursor(const resp_arg *a, uint64_t *out)
{
    const char *p = a->ptr, *end = a->ptr + a->len;
    bool neg = false;
    uint64_t v = 0;
    if (p == end) {
        *out = 0;
        return true;
    }
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (p == end)
        return false;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? 0 - v : v;
    return true;
}

/* SCAN's options from argv[2]; false (error replied) when bad. */
static bool scan_opts(cmd_ctx *c, collect *col, int64_t *count)
{
    for (size_t i = 2; i < c->argc; i += 2) {
        const resp_arg *o = &c->argv[i];
        bool has_arg = i + 1 < c->argc;
        if (has_arg && cmd_arg_is(o, "count")) {
            if (!cmd_arg_ll(c, i + 1, count))
                return false;
            if (*count < 1) {
                resp_error(c->w, CMD_ERR_SYNTAX);
                return false;
            }
        } else if (has_arg && cmd_arg_is(o, "match")) {
            col->pat = pattern_or_null(&c->argv[i + 1]);
        } else if (has_arg && cmd_arg_is(o, "type")) {
            col->type = &c->argv[i + 1];
        } else {
            resp_error(c->w, CMD_ERR_SYNTAX);
            return false;
        }
    }
    return true;
}

void cmd_scan(cmd_ctx *c)
{
    uint64_t cursor;
    int64_t count = 10;
    collect col;
    if (!cmd_scan_cursor(&c->argv[1], &cursor)) {
        resp_error(c->w, "ERR invalid cursor");
        return;
    }
    collect_init(&col, c);
    if (!scan_opts(c, &col, &count))
        return;
    cmd_now(c);
    unsigned bits = (unsigned)__builtin_popcount(c->shard_mask);
    uint32_t s = (uint32_t)(cursor & c->shard_mask);
    uint64_t cur = cursor >> bits;
    /* As Redis: stop once COUNT entries were seen, or after 10*COUNT
     * steps through empty stretches. */
    uint64_t steps =
        (uint64_t)count > UINT64_MAX / 10 ? UINT64_MAX : (uint64_t)count * 10;
    bool done = false;
    while (col.seen < (uint64_t)count && steps-- > 0) {
        cur = eng_scan(c->shards[s], cur, (size_t)count, c->now, collect_cb,
                       &col);
        if (cur == 0 && ++s == shard_count(c)) {
            done = true;
            break;
        }
        if (cur == 0 && c->scan_one_shard)
            break; /* the next shard may be another worker's */
    }
    uint64_t next = done ? 0 : (cur << bits) | s;
    char num[24];
    int len = snprintf(num, sizeof(num), "%llu", (unsigned long long)next);
    resp_array(c->w, 2);
    resp_bulk(c->w, num, (size_t)len);
    collect_flush(c, &col);
}

/* xorshift64 over the worker's state (seeded from the clock when 0). */
static uint64_t next_rand(uint64_t *st, int64_t now)
{
    uint64_t x = *st ? *st : 0x9E3779B97F4A7C15ull ^ (uint64_t)now;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *st = x;
    return x;
}

static bool reply_key(cmd_ctx *c, const eng_entry *e)
{
    size_t kl;
    if (!e)
        return false;
    const uint8_t *k = eng_entry_key(e, &kl);
    resp_bulk(c->w, k, kl);
    return true;
}

/* Picks a shard weighted by its key count, then a key in it. A pick can
 * miss when the counted keys were all expired (eng_random removes them),
 * so a few tries are made before falling back to a walk over shards. */
void cmd_randomkey(cmd_ctx *c)
{
    uint64_t local = 0;
    uint64_t *rng = c->rng ? c->rng : &local;
    uint32_t first = c->own_stride ? c->own_first : 0;
    uint32_t step = c->own_stride ? c->own_stride : 1;
    cmd_now(c);
    for (int tries = 0; tries < 16; tries++) {
        size_t total = 0;
        for (uint32_t s = first; s < shard_count(c); s += step)
            total += eng_len(c->shards[s]);
        if (total == 0)
            break;
        uint64_t r = next_rand(rng, c->now) % total;
        uint32_t s = first;
        while (r >= eng_len(c->shards[s])) {
            r -= eng_len(c->shards[s]);
            s += step;
        }
        if (reply_key(c, eng_random(c->shards[s], rng, c->now)))
            return;
    }
    for (uint32_t s = first; s < shard_count(c); s += step) {
        if (reply_key(c, eng_random(c->shards[s], rng, c->now)))
            return;
    }
    resp_null(c->w);
}

void cmd_dbsize(cmd_ctx *c)
{
    size_t n = 0;
    for (uint32_t s = 0; s < shard_count(c); s++)
        n += eng_len(c->shards[s]);
    resp_int(c->w, (int64_t)n);
}

/* FLUSHDB and FLUSHALL [ASYNC|SYNC]: one database, so the same thing. */
void cmd_flushdb(cmd_ctx *c)
{
    if (c->argc > 2 || (c->argc == 2 && !cmd_arg_is(&c->argv[1], "sync") &&
                        !cmd_arg_is(&c->argv[1], "async"))) {
        resp_error(c->w, CMD_ERR_SYNTAX);
        return;
    }
    for (uint32_t s = 0; s < shard_count(c); s++)
        eng_clear(c->shards[s]);
    resp_ok(c->w);
}
