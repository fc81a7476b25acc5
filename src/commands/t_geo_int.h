/*
 * t_geo_int.h — what the geo command files (t_geo.c, t_geo_search.c)
 * share: Redis's argument parsing for coordinates, units and distances,
 * and its reply formats for coordinates and distances. Private to
 * src/commands. Threads and memory: as command.h.
 */
#ifndef FC_CMD_T_GEO_INT_H
#define FC_CMD_T_GEO_INT_H

#include <stdbool.h>

#include "commands/cmd_util.h"
#include "commands/geohash.h"

/* argv[i], argv[i + 1] as longitude, latitude within Redis's limits, or
 * the error replied (Redis's extractLongLatOrReply). */
bool geo_arg_lonlat(cmd_ctx *c, size_t i, double xy[2]);
/* A unit (m, km, ft, mi) as metres per unit, or the error replied
 * (returns a negative value). */
double geo_arg_unit(cmd_ctx *c, size_t i);
/* A coordinate as Redis's addReplyHumanLongDouble writes it: %.17Lf
 * without trailing zeros, bulk in RESP2, a double in RESP3. */
void geo_reply_coord(cmd_ctx *c, double v);
/* A distance: bulk "%.4f" in both protocols. */
void geo_reply_dist(cmd_ctx *c, double d);

#endif /* FC_CMD_T_GEO_INT_H */
