/*
 * config_file.h — private to src/server/config: the state of one config
 * file's parse and the value setters its sections share (config.c; the
 * [replication] section is config_repl.c).
 *
 * Setters return 1 (set) or 0 (bad value: the message is in f->err);
 * section handlers also return -1 for an unknown key. Strings they set are
 * malloc'd and owned by the config (srv_config_free).
 * Threads: start-up only.
 */
#ifndef FC_SERVER_CONFIG_FILE_H
#define FC_SERVER_CONFIG_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/config/config.h"

typedef struct file_ctx {
    srv_config *c;
    char err[256]; /* first error, without FILE:LINE */
} file_ctx;

/* TOML strings: "basic" (with \" and \\ escapes) or 'literal'; bare words
 * are taken as they are. NULL on OOM or an unterminated quote. */
char *cfg_unquote(const char *v);
int cfg_set_str(file_ctx *f, char **dst, const char *name, const char *v);
int cfg_set_bool(file_ctx *f, bool *dst, const char *name, const char *v);
int cfg_set_int(file_ctx *f, int64_t *dst, const char *name, const char *v,
                int64_t min, int64_t max);
/* A size as srv_parse_memory reads it; `zero` is what the error message
 * says 0 means ("" for nothing). */
int cfg_parse_size(file_ctx *f, size_t *dst, const char *k, const char *v,
                   const char *zero);

/* One key of [replication]. */
int cfg_replication_key(file_ctx *f, const char *k, const char *v);

#endif /* FC_SERVER_CONFIG_FILE_H */
