/*
 * geohash.h — the geo math behind GEOADD and friends (geohash.c): the
 * 52-bit interleaved geohash Redis stores as a sorted-set score, its
 * decoding to a cell centre, haversine distances, and the 9-cell search
 * area of a radius or box query. Pure functions: no engine, no RESP.
 *
 * The numbers are Redis 7.0's (geohash.c, geohash_helper.c): the same
 * limits, step estimate, neighbour moves and earth radius, so that scores,
 * coordinates and distances come out bit for bit as redis-server's. Bit
 * layout: latitude in the even bits, longitude in the odd ones (the top
 * bit of a 52-bit score is longitude's most significant).
 *
 * Threads: any (no state).
 */
#ifndef FC_CMD_GEOHASH_H
#define FC_CMD_GEOHASH_H

#include <stdbool.h>
#include <stdint.h>

#define GEO_STEP_MAX 26 /* 26 * 2 = 52 bits: exact in a double's mantissa */
#define GEO_LAT_MIN -85.05112878
#define GEO_LAT_MAX 85.05112878
#define GEO_LONG_MIN -180.0
#define GEO_LONG_MAX 180.0
/* Redis's EARTH_RADIUS_IN_METERS. */
#define GEO_EARTH_RADIUS 6372797.560856

typedef struct geo_hash {
    uint64_t bits;
    uint8_t step; /* 0 with bits 0: "no cell" (a neighbour left out) */
} geo_hash;

typedef struct geo_range {
    double min, max;
} geo_range;

typedef struct geo_area {
    geo_hash hash;
    geo_range lon, lat;
} geo_area;

/* The query shape: centre xy (lon, lat), radius or width/height in the
 * query's unit, conversion = metres per unit. */
enum { GEO_CIRCLE = 1, GEO_BOX = 2 };
typedef struct geo_shape {
    int type;
    double xy[2];
    double conversion;
    double radius;
    double width, height;
} geo_shape;

/* The centre cell and its 8 neighbours, in the order Redis scans them:
 * centre, N, S, E, W, NE, NW, SE, SW (a zeroed cell is skipped). */
typedef struct geo_cells {
    geo_hash cell[9];
} geo_cells;

/* Encodes (lon, lat) in the given ranges at step bits per axis: false
 * when outside the ranges or Redis's limits. */
bool geo_encode(const geo_range *lon_r, const geo_range *lat_r, double lon,
                double lat, uint8_t step, geo_hash *out);
/* With Redis's limits (WGS84: latitude +-85.05112878). */
bool geo_encode_wgs84(double lon, double lat, uint8_t step, geo_hash *out);
/* The cell a hash names, in the given ranges. */
bool geo_decode(const geo_range *lon_r, const geo_range *lat_r, geo_hash h,
                geo_area *a);
/* A stored score (a 52-bit hash) to its cell centre, clamped to the
 * limits: xy[0] longitude, xy[1] latitude. */
bool geo_decode_score(double score, double xy[2]);
/* The 52-bit score of a hash of fewer steps (its lowest corner). */
uint64_t geo_align52(geo_hash h);
/* GEOHASH's 11-character base32 text of a stored score (buf: 12 bytes,
 * NUL-terminated): the point re-encoded against latitude +-90. */
bool geo_hash_string(double score, char buf[12]);

/* Haversine distance in metres (lon, lat in degrees). */
double geo_distance(double lon1, double lat1, double lon2, double lat2);
/* Within the shape: true and *dist (metres) from its centre. */
bool geo_in_shape(const geo_shape *s, double lon, double lat, double *dist);
/* The cells covering the shape (Redis's
 * geohashCalculateAreasByShapeWGS84). */
void geo_cells_for(const geo_shape *s, geo_cells *out);
/* Redis's geohashEstimateStepsByRadius. */
uint8_t geo_steps_for_radius(double meters, double lat);

#endif /* FC_CMD_GEOHASH_H */
