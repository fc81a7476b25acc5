/*
 * t_geo.h — the geo commands (t_geo.c, t_geo_search.c), for the command
 * table only. Geo values are sorted sets whose scores are 52-bit geohashes
 * (geohash.h). Threads and memory: as command.h.
 */
#ifndef FC_CMD_T_GEO_H
#define FC_CMD_T_GEO_H

#include "commands/command.h"

/* t_geo.c */
void cmd_geoadd(cmd_ctx *c);
void cmd_geopos(cmd_ctx *c);
void cmd_geodist(cmd_ctx *c);
void cmd_geohash(cmd_ctx *c);

/* t_geo_search.c */
void cmd_geosearch(cmd_ctx *c);
void cmd_geosearchstore(cmd_ctx *c);
void cmd_georadius(cmd_ctx *c);
void cmd_georadius_ro(cmd_ctx *c);
void cmd_georadiusbymember(cmd_ctx *c);
void cmd_georadiusbymember_ro(cmd_ctx *c);
/* GEORADIUS[BYMEMBER]'s keys: the source, and the STORE/STOREDIST
 * destination when one is given (parsed as the command parses it). */
int cmd_keys_georadius(const resp_arg *argv, size_t argc, size_t *pos,
                       size_t max);
int cmd_keys_georadiusbymember(const resp_arg *argv, size_t argc, size_t *pos,
                               size_t max);

#endif /* FC_CMD_T_GEO_H */
