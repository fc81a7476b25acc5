/*
 * geohash.c — Redis's geohash arithmetic (geohash.h), written from its
 * definitions: every formula and every order of operations is Redis 7.0's,
 * because GEOPOS and GEODIST replies are compared byte for byte with
 * redis-server's, and a different rounding anywhere shows in the 17th
 * digit of a coordinate.
 *
 * Quirks kept on purpose (they decide which members a search finds):
 * - an offset of exactly 1.0 (longitude 180, latitude at its limit)
 *   encodes to 2^step, one bit past the cell grid, as Redis's uint32
 *   conversion does;
 * - the neighbour scan skips a cell equal to the last one scanned, but
 *   never compares with the centre (Redis's last_processed starts at 0);
 * - the search area's step is the radius estimate, lowered once when a
 *   neighbour cell does not reach the bounding box.
 *
 * Threads: any; no state.
 */
#include <math.h>
#include <stddef.h>

#include "commands/geohash.h"

#define D_R (M_PI / 180.0)
/* Redis's MERCATOR_MAX (geohash_helper.c). */
#define MERCATOR_MAX 20037726.37

static inline double deg_rad(double a)
{
    return a * D_R;
}

static inline double rad_deg(double a)
{
    return a / D_R;
}

/* x's bits to the even positions, y's to the odd ones. */
static uint64_t interleave64(uint32_t xlo, uint32_t ylo)
{
    static const uint64_t B[] = {0x5555555555555555ULL, 0x3333333333333333ULL,
                                 0x0F0F0F0F0F0F0F0FULL, 0x00FF00FF00FF00FFULL,
                                 0x0000FFFF0000FFFFULL};
    static const unsigned S[] = {1, 2, 4, 8, 16};
    uint64_t x = xlo, y = ylo;
    for (int i = 4; i >= 0; i--) {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    return x | (y << 1);
}

/* The inverse: even bits to the low word, odd bits to the high word. */
static uint64_t deinterleave64(uint64_t v)
{
    static const uint64_t B[] = {0x5555555555555555ULL, 0x3333333333333333ULL,
                                 0x0F0F0F0F0F0F0F0FULL, 0x00FF00FF00FF00FFULL,
                                 0x0000FFFF0000FFFFULL, 0x00000000FFFFFFFFULL};
    static const unsigned S[] = {0, 1, 2, 4, 8, 16};
    uint64_t x = v, y = v >> 1;
    for (int i = 0; i < 6; i++) {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    return x | (y << 32);
}

bool geo_encode(const geo_range *lon_r, const geo_range *lat_r, double lon,
                double lat, uint8_t step, geo_hash *out)
{
    if (step > 32 || step == 0 || lat_r->max - lat_r->min == 0 ||
        lon_r->max - lon_r->min == 0)
        return false;
    if (lon > GEO_LONG_MAX || lon < GEO_LONG_MIN || lat > GEO_LAT_MAX ||
        lat < GEO_LAT_MIN)
        return false;
    out->bits = 0;
    out->step = step;
    if (lat < lat_r->min || lat > lat_r->max || lon < lon_r->min ||
        lon > lon_r->max)
        return false;
    double lat_off = (lat - lat_r->min) / (lat_r->max - lat_r->min);
    double lon_off = (lon - lon_r->min) / (lon_r->max - lon_r->min);
    lat_off *= (double)(1ULL << step);
    lon_off *= (double)(1ULL << step);
    out->bits = interleave64((uint32_t)lat_off, (uint32_t)lon_off);
    return true;
}

static const geo_range wgs_lon = {GEO_LONG_MIN, GEO_LONG_MAX};
static const geo_range wgs_lat = {GEO_LAT_MIN, GEO_LAT_MAX};

bool geo_encode_wgs84(double lon, double lat, uint8_t step, geo_hash *out)
{
    return geo_encode(&wgs_lon, &wgs_lat, lon, lat, step, out);
}

bool geo_decode(const geo_range *lon_r, const geo_range *lat_r, geo_hash h,
                geo_area *a)
{
    if ((h.bits == 0 && h.step == 0) || lat_r->max - lat_r->min == 0 ||
        lon_r->max - lon_r->min == 0)
        return false;
    a->hash = h;
    uint64_t sep = deinterleave64(h.bits);
    double lat_scale = lat_r->max - lat_r->min;
    double lon_scale = lon_r->max - lon_r->min;
    uint32_t ilat = (uint32_t)sep, ilon = (uint32_t)(sep >> 32);
    double cells = (double)(1ULL << h.step);
    /* uint32 sums, as Redis's: they wrap at the top of the word */
    a->lat.min = lat_r->min + (ilat * 1.0 / cells) * lat_scale;
    a->lat.max = lat_r->min + ((uint32_t)(ilat + 1) * 1.0 / cells) * lat_scale;
    a->lon.min = lon_r->min + (ilon * 1.0 / cells) * lon_scale;
    a->lon.max = lon_r->min + ((uint32_t)(ilon + 1) * 1.0 / cells) * lon_scale;
    return true;
}

/* Redis casts the score with (uint64_t); that conversion is undefined
 * outside [0, 2^64) in C, so those cases are spelled out as gcc's x86-64
 * code does them (redis-server 7.0.15 here: 1e20 and 2^64 decode as 0,
 * -1 as all ones, -1e30 as the top bit alone). Only scores no geo command
 * wrote, on a plain sorted set, get there. */
static uint64_t score_bits(double s)
{
    if (s >= 0 && s < 18446744073709551616.0)
        return (uint64_t)s;
    if (s >= 18446744073709551616.0)
        return 0;
    if (s > -9223372036854775808.0)
        return (uint64_t)(int64_t)s;
    return 0x8000000000000000ULL;
}

bool geo_decode_score(double score, double xy[2])
{
    geo_hash h = {score_bits(score), GEO_STEP_MAX};
    geo_area a;
    if (!geo_decode(&wgs_lon, &wgs_lat, h, &a))
        return false;
    xy[0] = (a.lon.min + a.lon.max) / 2;
    if (xy[0] > GEO_LONG_MAX)
        xy[0] = GEO_LONG_MAX;
    if (xy[0] < GEO_LONG_MIN)
        xy[0] = GEO_LONG_MIN;
    xy[1] = (a.lat.min + a.lat.max) / 2;
    if (xy[1] > GEO_LAT_MAX)
        xy[1] = GEO_LAT_MAX;
    if (xy[1] < GEO_LAT_MIN)
        xy[1] = GEO_LAT_MIN;
    return true;
}

uint64_t geo_align52(geo_hash h)
{
    return h.bits << (52 - h.step * 2);
}

bool geo_hash_string(double score, char buf[12])
{
    static const char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    /* The standard geohash spans latitude +-90, not Redis's storage
     * limits: re-encode the cell centre against it. */
    static const geo_range lon_r = {-180, 180}, lat_r = {-90, 90};
    double xy[2];
    geo_hash h;
    if (!geo_decode_score(score, xy))
        return false;
    geo_encode(&lon_r, &lat_r, xy[0], xy[1], GEO_STEP_MAX, &h);
    for (int i = 0; i < 11; i++) {
        /* 52 bits give 10 full characters; the 11th is Redis's 0 */
        unsigned idx =
            i == 10 ? 0 : (unsigned)(h.bits >> (52 - (i + 1) * 5)) & 0x1f;
        buf[i] = alphabet[idx];
    }
    buf[11] = '\0';
    return true;
}

static double lat_distance(double lat1, double lat2)
{
    return GEO_EARTH_RADIUS * fabs(deg_rad(lat2) - deg_rad(lat1));
}

double geo_distance(double lon1, double lat1, double lon2, double lat2)
{
    double lon1r = deg_rad(lon1), lon2r = deg_rad(lon2);
    double v = sin((lon2r - lon1r) / 2);
    /* Redis's shortcut: on one meridian the distance is the latitude's */
    if (v == 0.0)
        return lat_distance(lat1, lat2);
    double lat1r = deg_rad(lat1), lat2r = deg_rad(lat2);
    double u = sin((lat2r - lat1r) / 2);
    double a = u * u + cos(lat1r) * cos(lat2r) * v * v;
    return 2.0 * GEO_EARTH_RADIUS * asin(sqrt(a));
}

bool geo_in_shape(const geo_shape *s, double lon, double lat, double *dist)
{
    if (s->type == GEO_CIRCLE) {
        *dist = geo_distance(s->xy[0], s->xy[1], lon, lat);
        return *dist <= s->radius * s->conversion;
    }
    /* the box: latitude first, it is the cheaper test */
    double w = s->width * s->conversion, h = s->height * s->conversion;
    if (lat_distance(lat, s->xy[1]) > h / 2)
        return false;
    if (geo_distance(lon, lat, s->xy[0], lat) > w / 2)
        return false;
    *dist = geo_distance(s->xy[0], s->xy[1], lon, lat);
    return true;
}

uint8_t geo_steps_for_radius(double meters, double lat)
{
    if (meters == 0)
        return 26;
    int step = 1;
    while (meters < MERCATOR_MAX) {
        meters *= 2;
        step++;
    }
    step -= 2; /* the range within the cell in most cases */
    /* cells narrow towards the poles */
    if (lat > 66 || lat < -66) {
        step--;
        if (lat > 80 || lat < -80)
            step--;
    }
    if (step < 1)
        step = 1;
    if (step > 26)
        step = 26;
    return (uint8_t)step;
}

/* Bounding box of the shape: lon min, lat min, lon max, lat max. */
static void bounding_box(const geo_shape *s, double b[4])
{
    double lon = s->xy[0], lat = s->xy[1];
    double height =
        s->conversion * (s->type == GEO_CIRCLE ? s->radius : s->height / 2);
    double width =
        s->conversion * (s->type == GEO_CIRCLE ? s->radius : s->width / 2);
    double lat_delta = rad_deg(height / GEO_EARTH_RADIUS);
    double lon_top =
        rad_deg(width / GEO_EARTH_RADIUS / cos(deg_rad(lat + lat_delta)));
    double lon_bottom =
        rad_deg(width / GEO_EARTH_RADIUS / cos(deg_rad(lat - lat_delta)));
    /* the wider edge is the one nearer the pole */
    bool south = lat < 0;
    b[0] = south ? lon - lon_bottom : lon - lon_top;
    b[2] = south ? lon + lon_bottom : lon + lon_top;
    b[1] = lat - lat_delta;
    b[3] = lat + lat_delta;
}

static void move_x(geo_hash *h, int d)
{
    uint64_t x = h->bits & 0xaaaaaaaaaaaaaaaaULL;
    uint64_t y = h->bits & 0x5555555555555555ULL;
    uint64_t zz = 0x5555555555555555ULL >> (64 - h->step * 2);
    if (d > 0) {
        x = x + (zz + 1);
    } else {
        x = x | zz;
        x = x - (zz + 1);
    }
    x &= (0xaaaaaaaaaaaaaaaaULL >> (64 - h->step * 2));
    h->bits = x | y;
}

static void move_y(geo_hash *h, int d)
{
    uint64_t x = h->bits & 0xaaaaaaaaaaaaaaaaULL;
    uint64_t y = h->bits & 0x5555555555555555ULL;
    uint64_t zz = 0xaaaaaaaaaaaaaaaaULL >> (64 - h->step * 2);
    if (d > 0) {
        y = y + (zz + 1);
    } else {
        y = y | zz;
        y = y - (zz + 1);
    }
    y &= (0x5555555555555555ULL >> (64 - h->step * 2));
    h->bits = x | y;
}

enum { C_CENTRE, C_N, C_S, C_E, C_W, C_NE, C_NW, C_SE, C_SW };

/* The cell moved by (dx, dy): x is longitude (east +), y latitude. */
static geo_hash moved(geo_hash h, int dx, int dy)
{
    if (dx)
        move_x(&h, dx);
    if (dy)
        move_y(&h, dy);
    return h;
}

static void neighbours(geo_hash h, geo_cells *c)
{
    c->cell[C_CENTRE] = h;
    c->cell[C_N] = moved(h, 0, 1);
    c->cell[C_S] = moved(h, 0, -1);
    c->cell[C_E] = moved(h, 1, 0);
    c->cell[C_W] = moved(h, -1, 0);
    c->cell[C_NE] = moved(h, 1, 1);
    c->cell[C_NW] = moved(h, -1, 1);
    c->cell[C_SE] = moved(h, 1, -1);
    c->cell[C_SW] = moved(h, -1, -1);
}

static void zero3(geo_cells *c, int a, int b, int d)
{
    geo_hash z = {0, 0};
    c->cell[a] = c->cell[b] = c->cell[d] = z;
}

void geo_cells_for(const geo_shape *s, geo_cells *out)
{
    double b[4];
    bounding_box(s, b);
    double min_lon = b[0], min_lat = b[1], max_lon = b[2], max_lat = b[3];
    double lon = s->xy[0], lat = s->xy[1];
    /* a box is searched as the circle through its corners */
    double radius = s->type == GEO_CIRCLE
                        ? s->radius
                        : sqrt((s->width / 2) * (s->width / 2) +
                               (s->height / 2) * (s->height / 2));
    radius *= s->conversion;
    uint8_t steps = geo_steps_for_radius(radius, lat);
    geo_hash h;
    geo_area area, n, so, e, w;
    geo_encode_wgs84(lon, lat, steps, &h);
    neighbours(h, out);
    geo_decode(&wgs_lon, &wgs_lat, h, &area);
    geo_decode(&wgs_lon, &wgs_lat, out->cell[C_N], &n);
    geo_decode(&wgs_lon, &wgs_lat, out->cell[C_S], &so);
    geo_decode(&wgs_lon, &wgs_lat, out->cell[C_E], &e);
    geo_decode(&wgs_lon, &wgs_lat, out->cell[C_W], &w);
    /* a neighbour that does not reach the box's edge: one step coarser */
    bool decrease = n.lat.max < max_lat || so.lat.min > min_lat ||
                    e.lon.max < max_lon || w.lon.min > min_lon;
    if (steps > 1 && decrease) {
        steps--;
        geo_encode_wgs84(lon, lat, steps, &h);
        neighbours(h, out);
        geo_decode(&wgs_lon, &wgs_lat, h, &area);
    }
    /* leave out the neighbours on a side the centre cell already covers */
    if (steps >= 2) {
        if (area.lat.min < min_lat)
            zero3(out, C_S, C_SW, C_SE);
        if (area.lat.max > max_lat)
            zero3(out, C_N, C_NE, C_NW);
        if (area.lon.min < min_lon)
            zero3(out, C_W, C_SW, C_NW);
        if (area.lon.max > max_lon)
            zero3(out, C_E, C_SE, C_NE);
    }
}
