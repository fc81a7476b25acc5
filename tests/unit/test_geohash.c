/*
 * The geo math on its own (src/commands/geohash.c): scores, decoded
 * coordinates, GEOHASH strings and distances against known values, encode
 * / decode round trips over many seeded points, the step estimate, the
 * neighbour cells of a search, and the shape tests.
 *
 * Sources of the constants: the Palermo / Catania values are the examples
 * of Redis's own documentation (GEOADD, GEOPOS, GEODIST, GEOHASH,
 * GEORADIUS WITHHASH pages); every other expected score, string,
 * coordinate and distance was printed by redis-server 7.0.15 for the same
 * GEOADD input (GEOADD v <lon> <lat> m; ZSCORE / GEOHASH / GEOPOS /
 * GEODIST), and tests/integration/test_geo.py compares the same paths
 * with a live redis-server on thousands of random points.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "commands/geohash.h"

static uint64_t score_of(double lon, double lat)
{
    geo_hash h;
    assert_true(geo_encode_wgs84(lon, lat, GEO_STEP_MAX, &h));
    return geo_align52(h);
}

/* A coordinate as GEOPOS prints it (%.17Lf, trailing zeros trimmed). */
static void human(double v, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%.17Lf", (long double)v);
    while (n > 0 && buf[n - 1] == '0')
        buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '.')
        buf[--n] = '\0';
}

static const struct {
    double lon, lat;
    uint64_t score;
    const char *hash;
} vectors[] = {
    {13.361389, 38.115556, 3479099956230698ULL, "sqc8b49rny0"}, /* docs */
    {15.087269, 37.502669, 3479447370796909ULL, "sqdtr74hyu0"}, /* docs */
    {-0.1, -0.1, 1125898266565805ULL, "7zzzmtz1my0"},
    {-180, 0, 1125899906842624ULL, "80000000000"},
    {-74.0060, 40.7128, 1791873974549446ULL, "dr5regw3pp0"},
    {179.9999999, -85.05112878, 3002399751580330ULL, "pbzupuzvrb0"},
    {0, 0, 3377699720527872ULL, "s0000000000"},
    {139.6917, 35.6895, 4171231230197045ULL, "xn774c06kt0"},
};

static void test_known_scores_and_hashes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        uint64_t s = score_of(vectors[i].lon, vectors[i].lat);
        assert_int_equal(s, vectors[i].score);
        char buf[12];
        assert_true(geo_hash_string((double)s, buf));
        assert_string_equal(buf, vectors[i].hash);
    }
}

static void test_limits(void **state)
{
    (void)state;
    geo_hash h;
    /* Redis's uint32 conversion: an offset of exactly 1 is one past the
     * grid, so the top corner sets bits 52 and 53 (redis-server: 180
     * 85.05112878 scores 13510798882111488 = 2^53 + 2^52) */
    assert_int_equal(score_of(180, 85.05112878), 13510798882111488ULL);
    assert_int_equal(score_of(-180, -85.05112878), 0);
    assert_false(geo_encode_wgs84(180.0001, 0, GEO_STEP_MAX, &h));
    assert_false(geo_encode_wgs84(-180.0001, 0, GEO_STEP_MAX, &h));
    assert_false(geo_encode_wgs84(0, 85.06, GEO_STEP_MAX, &h));
    assert_false(geo_encode_wgs84(0, -85.06, GEO_STEP_MAX, &h));
    assert_false(geo_encode_wgs84(0, 0, 0, &h));
    assert_false(geo_encode_wgs84(0, 0, 33, &h));
    /* the corner decodes back clamped to the limits (GEOPOS: 180,
     * 85.0511287799999991) */
    double xy[2];
    char buf[64];
    assert_true(geo_decode_score(13510798882111488.0, xy));
    human(xy[0], buf, sizeof(buf));
    assert_string_equal(buf, "180");
    human(xy[1], buf, sizeof(buf));
    assert_string_equal(buf, "85.0511287799999991");
}

static void test_decoded_coordinates(void **state)
{
    (void)state;
    static const struct {
        uint64_t score;
        const char *lon, *lat;
    } want[] = {
        {3479099956230698ULL, "13.36138933897018433", "38.11555639549629859"},
        {3479447370796909ULL, "15.08726745843887329", "37.50266842333162032"},
        {3377699720527872ULL, "0.00000268220901489", "0.00000126736058093"},
        {4171231230197045ULL, "139.69170123338699341", "35.68950126697937009"},
        {1791873974549446ULL, "-74.0060010552406311", "40.71279898695150479"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        double xy[2];
        char buf[64];
        assert_true(geo_decode_score((double)want[i].score, xy));
        human(xy[0], buf, sizeof(buf));
        assert_string_equal(buf, want[i].lon);
        human(xy[1], buf, sizeof(buf));
        assert_string_equal(buf, want[i].lat);
    }
}

static double dist_of(uint64_t a, uint64_t b)
{
    double p[2], q[2];
    assert_true(geo_decode_score((double)a, p));
    assert_true(geo_decode_score((double)b, q));
    return geo_distance(p[0], p[1], q[0], q[1]);
}

static void test_distances(void **state)
{
    (void)state;
    char buf[64];
    /* docs: GEODIST Sicily Palermo Catania -> 166274.1516 */
    snprintf(buf, sizeof(buf), "%.4f",
             dist_of(3479099956230698ULL, 3479447370796909ULL));
    assert_string_equal(buf, "166274.1516");
    /* docs: ... km -> 166.2742, mi -> 103.3182 */
    snprintf(buf, sizeof(buf), "%.4f",
             dist_of(3479099956230698ULL, 3479447370796909ULL) / 1609.34);
    assert_string_equal(buf, "103.3182");
    /* redis-server: tokyo nyc -> 10851868.8453, zero sw -> 15730.2291 */
    snprintf(buf, sizeof(buf), "%.4f",
             dist_of(4171231230197045ULL, 1791873974549446ULL));
    assert_string_equal(buf, "10851868.8453");
    snprintf(buf, sizeof(buf), "%.4f",
             dist_of(3377699720527872ULL, 1125898266565805ULL));
    assert_string_equal(buf, "15730.2291");
    /* one meridian: the latitude's arc, both ways */
    double d = geo_distance(10, 0, 10, 1);
    assert_true(fabs(d - GEO_EARTH_RADIUS * M_PI / 180) < 1e-6);
    assert_true(geo_distance(10, 1, 10, 0) == d);
    assert_true(geo_distance(5, 5, 5, 5) == 0);
}

/* xorshift64: a fixed sequence, so failures reproduce */
static uint64_t rng = 88172645463325252ULL;
static double urand(double lo, double hi)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return lo + (hi - lo) * ((double)(rng >> 11) / 9007199254740992.0);
}

static void test_round_trips(void **state)
{
    (void)state;
    const double cell_lon = 360.0 / (1 << 26);
    const double cell_lat = (GEO_LAT_MAX - GEO_LAT_MIN) / (1 << 26);
    for (int i = 0; i < 200000; i++) {
        double lon = urand(-180, 180), lat = urand(GEO_LAT_MIN, GEO_LAT_MAX);
        uint64_t s = score_of(lon, lat);
        assert_true(s < (1ULL << 52));
        double xy[2];
        assert_true(geo_decode_score((double)s, xy));
        /* the centre of the point's cell */
        assert_true(fabs(xy[0] - lon) <= cell_lon / 2 + 1e-12);
        assert_true(fabs(xy[1] - lat) <= cell_lat / 2 + 1e-12);
        /* and the centre is in the same cell */
        assert_int_equal(score_of(xy[0], xy[1]), s);
        /* coarser steps are prefixes of the 52 bits */
        geo_hash h;
        uint8_t step = (uint8_t)(1 + i % 26);
        assert_true(geo_encode_wgs84(lon, lat, step, &h));
        assert_int_equal(h.bits, s >> (52 - 2 * step));
        geo_area a;
        geo_range lr = {GEO_LONG_MIN, GEO_LONG_MAX};
        geo_range ar = {GEO_LAT_MIN, GEO_LAT_MAX};
        assert_true(geo_decode(&lr, &ar, h, &a));
        assert_true(a.lon.min <= lon && lon <= a.lon.max);
        assert_true(a.lat.min <= lat && lat <= a.lat.max);
    }
}

static void test_steps(void **state)
{
    (void)state;
    assert_int_equal(geo_steps_for_radius(0, 0), 26);
    assert_int_equal(geo_steps_for_radius(1e7, 0), 1);
    /* 200 km: 2e5 * 2^7 first reaches 20037726.37, step 8 - 2 */
    assert_int_equal(geo_steps_for_radius(2e5, 10), 6);
    assert_int_equal(geo_steps_for_radius(2e5, 70), 5);
    assert_int_equal(geo_steps_for_radius(2e5, -81), 4);
    assert_int_equal(geo_steps_for_radius(0.001, 0), 26);
    assert_int_equal(geo_steps_for_radius(1e9, 85), 1);
}

static bool cell_zero(geo_hash h)
{
    return h.bits == 0 && h.step == 0;
}

static void test_cells(void **state)
{
    (void)state;
    geo_range lr = {GEO_LONG_MIN, GEO_LONG_MAX};
    geo_range ar = {GEO_LAT_MIN, GEO_LAT_MAX};
    for (int i = 0; i < 2000; i++) {
        geo_shape s = {.type = i % 2 ? GEO_CIRCLE : GEO_BOX,
                       .xy = {urand(-179, 179), urand(-80, 80)},
                       .conversion = 1000,
                       .radius = urand(0.1, 500),
                       .width = urand(0.1, 500),
                       .height = urand(0.1, 500)};
        geo_cells c;
        geo_cells_for(&s, &c);
        /* the centre cell holds the centre */
        geo_area a;
        assert_true(geo_decode(&lr, &ar, c.cell[0], &a));
        assert_true(a.lon.min <= s.xy[0] && s.xy[0] <= a.lon.max);
        assert_true(a.lat.min <= s.xy[1] && s.xy[1] <= a.lat.max);
        /* every cell kept is one step's neighbour: same step, distinct */
        for (int j = 1; j < 9; j++) {
            if (cell_zero(c.cell[j]))
                continue;
            assert_int_equal(c.cell[j].step, c.cell[0].step);
            assert_true(c.cell[j].bits != c.cell[0].bits);
        }
        /* a sample of points within the shape lie in a kept cell */
        for (int k = 0; k < 20; k++) {
            double lon = s.xy[0] + urand(-6, 6), lat = s.xy[1] + urand(-6, 6);
            double d;
            geo_hash p;
            if (!geo_encode_wgs84(lon, lat, c.cell[0].step, &p) ||
                !geo_in_shape(&s, lon, lat, &d))
                continue;
            bool found = false;
            for (int j = 0; j < 9; j++)
                found |= !cell_zero(c.cell[j]) && c.cell[j].bits == p.bits;
            assert_true(found);
        }
    }
}

static void test_shapes(void **state)
{
    (void)state;
    double d;
    geo_shape circle = {
        .type = GEO_CIRCLE, .xy = {0, 0}, .conversion = 1000, .radius = 112};
    assert_true(geo_in_shape(&circle, 1, 0, &d)); /* ~111.2 km */
    assert_true(fabs(d - geo_distance(0, 0, 1, 0)) == 0);
    assert_false(geo_in_shape(&circle, 0.72, 0.72, &d)); /* ~113 km */
    geo_shape box = {.type = GEO_BOX,
                     .xy = {0, 0},
                     .conversion = 1000,
                     .width = 224,
                     .height = 50};
    assert_true(geo_in_shape(&box, 1, 0, &d));
    assert_false(geo_in_shape(&box, 0, 0.3, &d)); /* 33 km north */
    assert_true(geo_in_shape(&box, 0.9, 0.2, &d));
    assert_true(fabs(d - geo_distance(0, 0, 0.9, 0.2)) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_scores_and_hashes),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_decoded_coordinates),
        cmocka_unit_test(test_distances),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_steps),
        cmocka_unit_test(test_cells),
        cmocka_unit_test(test_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
