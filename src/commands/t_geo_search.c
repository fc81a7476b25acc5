/*
 * t_geo_search.c — GEOSEARCH, GEOSEARCHSTORE and the older GEORADIUS,
 * GEORADIUSBYMEMBER (+ _RO) forms: one parser and one search, Redis 7.0's
 * georadiusGeneric, so that every form accepts and refuses the same
 * arguments, in the same order, with the same errors.
 *
 * The search: the shape's centre cell at the step its size calls for and
 * its 8 neighbours (geo_cells_for); each cell is a score range [min, max)
 * of the sorted set, walked in order, and every member in it is decoded
 * and kept when it lies within the radius or box. COUNT sorts by distance
 * and keeps the nearest; ANY stops the walk once COUNT members are kept.
 * Sorting all results is stable (as glibc's qsort, a merge sort, is for
 * Redis): equal distances keep the walk's order; sorting only the first
 * COUNT is Redis's partial quicksort, swap for swap (see partial_sort), so
 * ties come out in Redis's order there too.
 *
 * STORE / STOREDIST / GEOSEARCHSTORE build the result as a new sorted set
 * (scores: the geohash, or the distance in the query's unit) and set it
 * at the destination like ZRANGESTORE, which logs it as a whole value;
 * an empty result deletes the destination. The destination may be on
 * another worker: the router then runs the command exclusively (the
 * table's key positions; cmd_keys_georadius for the older forms).
 *
 * Threads: the worker owning the keys' shards (command.h).
 */
#include <stdlib.h>

#include "commands/cmd_fns.h"
#include "commands/t_geo_int.h"
#include "commands/t_zset_int.h"

enum {
    GF_COORDS = 1u << 0,  /* GEORADIUS: lon lat radius unit */
    GF_MEMBER = 1u << 1,  /* GEORADIUSBYMEMBER: member radius unit */
    GF_NOSTORE = 1u << 2, /* the _RO forms */
    GF_SEARCH = 1u << 3,  /* GEOSEARCH's FROM / BY options */
    GF_SSTORE = 1u << 4,  /* GEOSEARCHSTORE: destination at argv[1] */
};

enum { SORT_NONE, SORT_ASC, SORT_DESC };

typedef struct geo_point {
    double lon, lat, dist, score;
    const char *m; /* borrowed from the source until it changes */
    size_t n;
    size_t seq; /* walk order: ties in distance keep it */
} geo_point;

typedef struct geo_points {
    geo_point *p;
    size_t used, cap;
} geo_points;

typedef struct geo_req {
    geo_shape shape;
    bool withdist, withhash, withcoord, any, storedist;
    int sort;
    int64_t count;   /* 0: all */
    size_t storeidx; /* argv index of the destination; 0: none */
} geo_req;

#define ERR_MEMBER "ERR could not decode requested zset member"

static bool member_xy(const eng_obj *o, const resp_arg *m, double xy[2])
{
    double s;
    return zs_score(o, m->ptr, m->len, &s) && geo_decode_score(s, xy);
}

/* Redis's extractDistanceOrReply: radius, unit at argv[i], argv[i + 1]. */
static bool arg_radius(cmd_ctx *c, size_t i, geo_shape *s)
{
    double r;
    if (!zc_arg_double(c, i, &r, "ERR need numeric radius"))
        return false;
    if (r < 0) {
        resp_error(c->w, "ERR radius cannot be negative");
        return false;
    }
    s->radius = r;
    s->conversion = geo_arg_unit(c, i + 1);
    return s->conversion >= 0;
}

/* Redis's extractBoxOrReply: width, height, unit. */
static bool arg_box(cmd_ctx *c, size_t i, geo_shape *s)
{
    double w, h;
    if (!zc_arg_double(c, i, &w, "ERR need numeric width") ||
        !zc_arg_double(c, i + 1, &h, "ERR need numeric height"))
        return false;
    if (h < 0 || w < 0) {
        resp_error(c->w, "ERR height or width cannot be negative");
        return false;
    }
    s->width = w;
    s->height = h;
    s->conversion = geo_arg_unit(c, i + 2);
    return s->conversion >= 0;
}

/* The options from argv[base]; o is the source (NULL: missing). false:
 * an error was replied. */
static bool parse_options(cmd_ctx *c, size_t base, unsigned flags,
                          const eng_obj *o, geo_req *q)
{
    bool frommember = false, fromloc = false, byradius = false, bybox = false;
    size_t rem = c->argc > base ? c->argc - base : 0;
    for (size_t i = 0; i < rem; i++) {
        size_t at = base + i;
        const resp_arg *a = &c->argv[at];
        bool search = flags & GF_SEARCH;
        bool can_store = !(flags & (GF_NOSTORE | GF_SEARCH));
        if (cmd_arg_is(a, "withdist")) {
            q->withdist = true;
        } else if (cmd_arg_is(a, "withhash")) {
            q->withhash = true;
        } else if (cmd_arg_is(a, "withcoord")) {
            q->withcoord = true;
        } else if (cmd_arg_is(a, "any")) {
            q->any = true;
        } else if (cmd_arg_is(a, "asc")) {
            q->sort = SORT_ASC;
        } else if (cmd_arg_is(a, "desc")) {
            q->sort = SORT_DESC;
        } else if (cmd_arg_is(a, "count") && i + 1 < rem) {
            if (!cmd_arg_ll(c, at + 1, &q->count))
                return false;
            if (q->count <= 0) {
                resp_error(c->w, "ERR COUNT must be > 0");
                return false;
            }
            i++;
        } else if ((cmd_arg_is(a, "store") || cmd_arg_is(a, "storedist")) &&
                   i + 1 < rem && can_store) {
            q->storeidx = at + 1;
            q->storedist = a->len == 9;
            i++;
        } else if (cmd_arg_is(a, "storedist") && search &&
                   (flags & GF_SSTORE)) {
            q->storedist = true;
        } else if (cmd_arg_is(a, "frommember") && i + 1 < rem && search &&
                   !fromloc) {
            /* a missing source errs only after the whole parse */
            if (o && !member_xy(o, &c->argv[at + 1], q->shape.xy)) {
                resp_error(c->w, ERR_MEMBER);
                return false;
            }
            frommember = true;
            i++;
        } else if (cmd_arg_is(a, "fromlonlat") && i + 2 < rem && search &&
                   !frommember) {
            if (!geo_arg_lonlat(c, at + 1, q->shape.xy))
                return false;
            fromloc = true;
            i += 2;
        } else if (cmd_arg_is(a, "byradius") && i + 2 < rem && search &&
                   !bybox) {
            if (!arg_radius(c, at + 1, &q->shape))
                return false;
            q->shape.type = GEO_CIRCLE;
            byradius = true;
            i += 2;
        } else if (cmd_arg_is(a, "bybox") && i + 3 < rem && search &&
                   !byradius) {
            if (!arg_box(c, at + 1, &q->shape))
                return false;
            q->shape.type = GEO_BOX;
            bybox = true;
            i += 3;
        } else {
            resp_error(c->w, CMD_ERR_SYNTAX);
            return false;
        }
    }
    if (q->storeidx && (q->withdist || q->withhash || q->withcoord)) {
        resp_errorf(c->w,
                    "ERR %s is not compatible with WITHDIST, WITHHASH and "
                    "WITHCOORD options",
                    flags & GF_SSTORE ? "GEOSEARCHSTORE"
                                      : "STORE option in GEORADIUS");
        return false;
    }
    const resp_arg *name = &c->argv[0];
    if ((flags & GF_SEARCH) && !(frommember || fromloc)) {
        resp_errorf(c->w,
                    "ERR exactly one of FROMMEMBER or FROMLONLAT can be "
                    "specified for %.*s",
                    (int)name->len, name->ptr);
        return false;
    }
    if ((flags & GF_SEARCH) && !(byradius || bybox)) {
        resp_errorf(c->w,
                    "ERR exactly one of BYRADIUS and BYBOX can be specified "
                    "for %.*s",
                    (int)name->len, name->ptr);
        return false;
    }
    if (q->any && !q->count) {
        resp_error(c->w, "ERR the ANY argument requires COUNT argument");
        return false;
    }
    return true;
}

static bool points_push(geo_points *g, const geo_point *p)
{
    if (g->used == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 64;
        geo_point *np = realloc(g->p, cap * sizeof(*np));
        if (!np)
            return false;
        g->p = np;
        g->cap = cap;
    }
    g->p[g->used] = *p;
    g->p[g->used].seq = g->used;
    g->used++;
    return true;
}

/* The members with scores in [min, max) that lie within the shape, in
 * score order, until limit (0: none) are kept. false: out of memory. */
static bool points_in_range(const eng_obj *o, double min, double max,
                            const geo_shape *s, geo_points *g, size_t limit)
{
    zs_srange r = {.min = min, .max = max, .minex = false, .maxex = true};
    size_t first = zs_score_first(o, &r), end = zs_score_end(o, &r);
    if (first >= end)
        return true;
    zs_iter it;
    geo_point p;
    bool ok = true;
    zs_iter_init(&it, o, first, false);
    for (size_t i = first; i < end; i++) {
        double xy[2];
        if (!zs_iter_next(&it, &p.m, &p.n, &p.score))
            break;
        if (!geo_decode_score(p.score, xy) ||
            !geo_in_shape(s, xy[0], xy[1], &p.dist))
            continue;
        p.lon = xy[0];
        p.lat = xy[1];
        if (!(ok = points_push(g, &p)))
            break;
        if (limit && g->used >= limit)
            break;
    }
    zs_iter_done(&it);
    return ok;
}

/* Redis's membersOfAllNeighbors. */
static bool search(const eng_obj *o, const geo_shape *s, geo_points *g,
                   size_t limit)
{
    geo_cells cells;
    geo_cells_for(s, &cells);
    size_t last = 0;
    for (size_t i = 0; i < 9; i++) {
        geo_hash h = cells.cell[i];
        if (h.bits == 0 && h.step == 0)
            continue;
        /* a huge radius can make neighbours the same cell: scan it once
         * (never compared with the centre: Redis's index starts at 0) */
        if (last && h.bits == cells.cell[last].bits &&
            h.step == cells.cell[last].step)
            continue;
        if (g->used && limit && g->used >= limit)
            break;
        geo_hash next = h;
        next.bits++;
        if (!points_in_range(o, (double)geo_align52(h),
                             (double)geo_align52(next), s, g, limit))
            return false;
        last = i;
    }
    return true;
}

static int cmp_asc(const void *a, const void *b)
{
    const geo_point *x = a, *y = b;
    if (x->dist != y->dist)
        return x->dist > y->dist ? 1 : -1;
    return x->seq > y->seq ? 1 : -1;
}

static int cmp_desc(const void *a, const void *b)
{
    const geo_point *x = a, *y = b;
    if (x->dist != y->dist)
        return x->dist < y->dist ? 1 : -1;
    return x->seq > y->seq ? 1 : -1;
}

/* --- the partial sort of COUNT n < results ---
 *
 * Redis sorts only the first n there, with its pqsort: Bentley and
 * McIlroy's quicksort (median of three, of nine past 40 elements;
 * insertion sort below 7; elements equal to the pivot gathered at the
 * ends and swapped to the middle) that skips every partition holding none
 * of the ranks asked for. It is not stable: among equal distances, which
 * members come first (and which make the cut) follow from its swaps, so
 * they are reproduced swap for swap here. Comparisons by distance alone,
 * as Redis's sort_gp_asc / sort_gp_desc. */

typedef int (*gp_cmp)(const geo_point *, const geo_point *);

static int dist_asc(const geo_point *x, const geo_point *y)
{
    return x->dist > y->dist ? 1 : x->dist == y->dist ? 0 : -1;
}

static int dist_desc(const geo_point *x, const geo_point *y)
{
    return -dist_asc(x, y);
}

static void gp_swap(geo_point *a, geo_point *b)
{
    geo_point t = *a;
    *a = *b;
    *b = t;
}

static void gp_vecswap(geo_point *a, geo_point *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gp_swap(a + i, b + i);
}

static geo_point *med3(geo_point *a, geo_point *b, geo_point *c, gp_cmp cmp)
{
    return cmp(a, b) < 0 ? (cmp(b, c) < 0 ? b : (cmp(a, c) < 0 ? c : a))
                         : (cmp(b, c) > 0 ? b : (cmp(a, c) < 0 ? a : c));
}

/* Puts the elements of ranks [lo, hi] (pointers into the whole array) of
 * a[0..n) in their sorted places. */
static void partial_sort(geo_point *a, size_t n, gp_cmp cmp,
                         const geo_point *lo, const geo_point *hi)
{
    for (;;) {
        if (n < 7) {
            for (geo_point *pm = a + 1; pm < a + n; pm++)
                for (geo_point *pl = pm; pl > a && cmp(pl - 1, pl) > 0; pl--)
                    gp_swap(pl, pl - 1);
            return;
        }
        geo_point *pm = a + n / 2;
        if (n > 7) {
            geo_point *pl = a, *pn = a + n - 1;
            if (n > 40) {
                size_t d = n / 8;
                pl = med3(pl, pl + d, pl + 2 * d, cmp);
                pm = med3(pm - d, pm, pm + d, cmp);
                pn = med3(pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(pl, pm, pn, cmp);
        }
        gp_swap(a, pm);
        geo_point *pa = a + 1, *pb = a + 1, *pc = a + n - 1, *pd = pc;
        int r;
        for (;;) {
            while (pb <= pc && (r = cmp(pb, a)) <= 0) {
                if (r == 0)
                    gp_swap(pa++, pb);
                pb++;
            }
            while (pb <= pc && (r = cmp(pc, a)) >= 0) {
                if (r == 0)
                    gp_swap(pc, pd--);
                pc--;
            }
            if (pb > pc)
                break;
            gp_swap(pb++, pc--);
        }
        geo_point *pn = a + n;
        size_t k = (size_t)(pa - a) < (size_t)(pb - pa) ? (size_t)(pa - a)
                                                        : (size_t)(pb - pa);
        gp_vecswap(a, pb - k, k);
        size_t right = (size_t)(pd - pc), tail = (size_t)(pn - pd) - 1;
        gp_vecswap(pb, pn - (right < tail ? right : tail),
                   right < tail ? right : tail);
        /* the smaller side, then the greater one, each only when it
         * holds a rank asked for */
        size_t less = (size_t)(pb - pa);
        if (less > 1 &&
            !((lo < a && hi < a) || (lo >= a + less && hi >= a + less)))
            partial_sort(a, less, cmp, lo, hi);
        if (right <= 1)
            return;
        a = pn - right;
        n = right;
        if ((lo < a && hi < a) || (lo >= a + n && hi >= a + n))
            return;
    }
}

static void sort_points(geo_points *g, int sort, size_t n)
{
    if (n == g->used) /* all of them: glibc's qsort, a stable merge sort */
        qsort(g->p, g->used, sizeof(*g->p),
              sort == SORT_ASC ? cmp_asc : cmp_desc);
    else
        partial_sort(g->p, g->used, sort == SORT_ASC ? dist_asc : dist_desc,
                     g->p, g->p + n - 1);
}

static void reply_points(cmd_ctx *c, const geo_req *q, geo_points *g, size_t n)
{
    size_t opts = (size_t)q->withdist + q->withcoord + q->withhash;
    resp_array(c->w, n);
    for (size_t i = 0; i < n; i++) {
        const geo_point *p = &g->p[i];
        if (opts)
            resp_array(c->w, opts + 1);
        resp_bulk(c->w, p->m, p->n);
        if (q->withdist)
            geo_reply_dist(c, p->dist / q->shape.conversion);
        if (q->withhash)
            resp_int(c->w, (int64_t)p->score);
        if (q->withcoord) {
            resp_array(c->w, 2);
            geo_reply_coord(c, p->lon);
            geo_reply_coord(c, p->lat);
        }
    }
}

static void store_points(cmd_ctx *c, const geo_req *q, geo_points *g, size_t n)
{
    cmd_key dst = cmd_key_at(c, q->storeidx);
    if (n == 0) {
        zc_del_key(c, &dst);
        resp_int(c->w, 0);
        return;
    }
    eng_obj *res = zs_new_tree(); /* packed at the end when it fits */
    if (!res) {
        resp_error(c->w, CMD_ERR_OOM);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const geo_point *p = &g->p[i];
        double score = q->storedist ? p->dist / q->shape.conversion : p->score;
        unsigned out;
        double ns;
        if (zs_add(res, p->m, p->n, score, 0, &out, &ns) != FC_OK) {
            eng_obj_free(res);
            resp_error(c->w, CMD_ERR_OOM);
            return;
        }
    }
    zs_fit(res);
    if (zc_store(c, &dst, res))
        resp_int(c->w, (int64_t)n);
}

static void georadius_generic(cmd_ctx *c, size_t srcidx, unsigned flags)
{
    cmd_key k = cmd_key_at(c, srcidx);
    eng_obj *o = NULL;
    int rc = zc_get(c, &k, &o);
    if (rc == FC_EWRONGTYPE)
        return;
    if (rc != FC_OK)
        o = NULL;
    geo_req q = {.sort = SORT_NONE};
    size_t base;
    if (flags & GF_COORDS) {
        base = 6;
        q.shape.type = GEO_CIRCLE;
        if (!geo_arg_lonlat(c, 2, q.shape.xy) || !arg_radius(c, 4, &q.shape))
            return;
    } else if (flags & GF_MEMBER) {
        base = 5;
        if (o) { /* a missing source is answered after the parse */
            q.shape.type = GEO_CIRCLE;
            if (!member_xy(o, &c->argv[2], q.shape.xy)) {
                resp_error(c->w, ERR_MEMBER);
                return;
            }
            if (!arg_radius(c, 3, &q.shape))
                return;
        }
    } else {
        base = flags & GF_SSTORE ? 3 : 2;
        if (flags & GF_SSTORE)
            q.storeidx = 1;
    }
    if (!parse_options(c, base, flags, o, &q))
        return;
    if (!o) {
        if (q.storeidx) {
            cmd_key dst = cmd_key_at(c, q.storeidx);
            zc_del_key(c, &dst);
            resp_int(c->w, 0);
        } else {
            resp_array(c->w, 0);
        }
        return;
    }
    /* COUNT keeps the nearest: it sorts, unless ANY takes the first found */
    if (q.count && q.sort == SORT_NONE && !q.any)
        q.sort = SORT_ASC;
    geo_points g = {0};
    if (!search(o, &q.shape, &g, q.any ? (size_t)q.count : 0)) {
        free(g.p);
        resp_error(c->w, CMD_ERR_OOM);
        return;
    }
    size_t n =
        q.count == 0 || g.used < (uint64_t)q.count ? g.used : (size_t)q.count;
    if (q.sort != SORT_NONE && g.used > 1)
        sort_points(&g, q.sort, n);
    if (q.storeidx)
        store_points(c, &q, &g, n);
    else
        reply_points(c, &q, &g, n);
    free(g.p);
}

void cmd_geosearch(cmd_ctx *c)
{
    georadius_generic(c, 1, GF_SEARCH);
}

void cmd_geosearchstore(cmd_ctx *c)
{
    georadius_generic(c, 2, GF_SEARCH | GF_SSTORE);
}

void cmd_georadius(cmd_ctx *c)
{
    georadius_generic(c, 1, GF_COORDS);
}

void cmd_georadius_ro(cmd_ctx *c)
{
    georadius_generic(c, 1, GF_COORDS | GF_NOSTORE);
}

void cmd_georadiusbymember(cmd_ctx *c)
{
    georadius_generic(c, 1, GF_MEMBER);
}

void cmd_georadiusbymember_ro(cmd_ctx *c)
{
    georadius_generic(c, 1, GF_MEMBER | GF_NOSTORE);
}

/* The options from argv[base] as parse_options reads them for the older
 * forms: COUNT, STORE and STOREDIST take one argument, the rest none;
 * the last STORE/STOREDIST wins. */
static int keys_radius(const resp_arg *argv, size_t argc, size_t base,
                       size_t *pos, size_t max)
{
    if (max < 2 || argc <= 1)
        return -1;
    size_t store = 0;
    for (size_t i = base; i < argc; i++) {
        const resp_arg *a = &argv[i];
        bool has_arg = i + 1 < argc;
        if ((cmd_arg_is(a, "store") || cmd_arg_is(a, "storedist")) && has_arg) {
            store = i + 1;
            i++;
        } else if (cmd_arg_is(a, "count") && has_arg) {
            i++;
        }
    }
    pos[0] = 1;
    if (!store)
        return 1;
    pos[1] = store;
    return 2;
}

int cmd_keys_georadius(const resp_arg *argv, size_t argc, size_t *pos,
                       size_t max)
{
    return keys_radius(argv, argc, 6, pos, max);
}

int cmd_keys_georadiusbymember(const resp_arg *argv, size_t argc, size_t *pos,
                               size_t max)
{
    return keys_radius(argv, argc, 5, pos, max);
}
