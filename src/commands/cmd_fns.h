/*
 * cmd_fns.h — the command functions the table (table.c) points at, one per
 * command (aliases share one). Private to src/commands: everyone else calls
 * them through cmd_lookup()/cmd_table().
 *
 * Threads and memory: as command.h.
 */
#ifndef FC_CMD_FNS_H
#define FC_CMD_FNS_H

#include "commands/command.h"

/* t_string.c */
void cmd_get(cmd_ctx *c);
void cmd_set(cmd_ctx *c);
void cmd_setnx(cmd_ctx *c);
void cmd_setex(cmd_ctx *c);
void cmd_psetex(cmd_ctx *c);
void cmd_getex(cmd_ctx *c);
void cmd_getdel(cmd_ctx *c);
void cmd_getset(cmd_ctx *c);
void cmd_mget(cmd_ctx *c);
void cmd_mset(cmd_ctx *c);
void cmd_msetnx(cmd_ctx *c);

/* t_string_ops.c */
void cmd_append(cmd_ctx *c);
void cmd_strlen(cmd_ctx *c);
void cmd_getrange(cmd_ctx *c); /* also SUBSTR */
void cmd_setrange(cmd_ctx *c);
void cmd_incr(cmd_ctx *c);
void cmd_decr(cmd_ctx *c);
void cmd_incrby(cmd_ctx *c);
void cmd_decrby(cmd_ctx *c);
void cmd_incrbyfloat(cmd_ctx *c);

/* t_bitmap.c, t_bitfield.c */
void cmd_setbit(cmd_ctx *c);
void cmd_getbit(cmd_ctx *c);
void cmd_bitcount(cmd_ctx *c);
void cmd_bitpos(cmd_ctx *c);
void cmd_bitop(cmd_ctx *c);
void cmd_bitfield(cmd_ctx *c);
void cmd_bitfield_ro(cmd_ctx *c);

/* t_hll.c */
void cmd_pfadd(cmd_ctx *c);
void cmd_pfcount(cmd_ctx *c);
void cmd_pfmerge(cmd_ctx *c);

/* t_lcs.c */
void cmd_lcs(cmd_ctx *c);

/* keyspace.c */
void cmd_del(cmd_ctx *c); /* also UNLINK */
void cmd_exists(cmd_ctx *c);
void cmd_touch(cmd_ctx *c);
void cmd_type(cmd_ctx *c);
void cmd_rename(cmd_ctx *c);
void cmd_renamenx(cmd_ctx *c);
void cmd_copy(cmd_ctx *c);

/* expire.c */
void cmd_expire(cmd_ctx *c);
void cmd_pexpire(cmd_ctx *c);
void cmd_expireat(cmd_ctx *c);
void cmd_pexpireat(cmd_ctx *c);
void cmd_ttl(cmd_ctx *c);
void cmd_pttl(cmd_ctx *c);
void cmd_expiretime(cmd_ctx *c);
void cmd_pexpiretime(cmd_ctx *c);
void cmd_persist(cmd_ctx *c);

/* keys_scan.c */
void cmd_keys(cmd_ctx *c);
void cmd_scan(cmd_ctx *c);
/* SCAN's cursor argument, parsed as cmd_scan does (for routing by the
 * shard in its low bits: cursor & shard_mask). false when invalid. */
bool cmd_scan_cursor(const resp_arg *a, uint64_t *out);
void cmd_randomkey(cmd_ctx *c);
void cmd_dbsize(cmd_ctx *c);
void cmd_flushdb(cmd_ctx *c); /* also FLUSHALL */

/* The typed families: one header of prototypes each, beside its file. */
#include "commands/t_hash.h"
#include "commands/t_list.h"
#include "commands/t_set.h"
#include "commands/t_zset.h"
#include "commands/t_geo.h"

#endif /* FC_CMD_FNS_H */
