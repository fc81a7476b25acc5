/*
 * obuf_limit.c — client-output-buffer-limit parsing, formatting and the
 * disconnect rule (see obuf_limit.h).
 */
#define _GNU_SOURCE
#include "server/config/obuf_limit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const class_names[SRV_OBUF_NCLASS] = {"normal", "slave",
                                                         "pubsub"};

void srv_obuf_defaults(srv_obuf_class lim[SRV_OBUF_NCLASS])
{
    lim[SRV_OBUF_NORMAL] = (srv_obuf_class){0, 0, 0};
    lim[SRV_OBUF_REPLICA] = (srv_obuf_class){256u << 20, 64u << 20, 60};
    lim[SRV_OBUF_PUBSUB] = (srv_obuf_class){32u << 20, 8u << 20, 60};
}

static int class_of(const char *name)
{
    if (!strcasecmp(name, "normal"))
        return SRV_OBUF_NORMAL;
    if (!strcasecmp(name, "slave") || !strcasecmp(name, "replica"))
        return SRV_OBUF_REPLICA;
    if (!strcasecmp(name, "pubsub"))
        return SRV_OBUF_PUBSUB;
    return -1;
}

#define MAX_WORDS 24 /* more groups than classes is still Redis-legal */

const char *srv_obuf_parse(const char *v, srv_obuf_class lim[SRV_OBUF_NCLASS])
{
    char tmp[512];
    if (strlen(v) >= sizeof(tmp))
        return "Wrong number of arguments in buffer limit configuration.";
    memcpy(tmp, v, strlen(v) + 1);
    char *words[MAX_WORDS], *save = NULL;
    size_t n = 0;
    for (char *t = strtok_r(tmp, " \t", &save); t;
         t = strtok_r(NULL, " \t", &save)) {
        if (n == MAX_WORDS)
            return "Wrong number of arguments in buffer limit configuration.";
        words[n++] = t;
    }
    if (n == 0 || n % 4)
        return "Wrong number of arguments in buffer limit configuration.";
    srv_obuf_class next[SRV_OBUF_NCLASS];
    memcpy(next, lim, sizeof(next));
    for (size_t i = 0; i < n; i += 4) {
        int cls = class_of(words[i]);
        if (cls < 0)
            return "Invalid client class specified in buffer limit "
                   "configuration.";
        size_t hard, soft;
        int64_t secs;
        if (srv_parse_memory(words[i + 1], &hard) ||
            srv_parse_memory(words[i + 2], &soft) ||
            srv_parse_i64(words[i + 3], 0, INT32_MAX, &secs))
            return "Error in hard, soft or soft_seconds setting in buffer "
                   "limit configuration.";
        next[cls] = (srv_obuf_class){hard, soft, secs};
    }
    memcpy(lim, next, sizeof(next));
    return NULL;
}

void srv_obuf_format(const srv_obuf_class lim[SRV_OBUF_NCLASS], char *out,
                     size_t outlen)
{
    size_t pos = 0;
    out[0] = '\0';
    for (int i = 0; i < SRV_OBUF_NCLASS && pos < outlen; i++) {
        int k = snprintf(out + pos, outlen - pos, "%s%s %zu %zu %lld",
                         i ? " " : "", class_names[i], lim[i].hard,
                         lim[i].soft, (long long)lim[i].soft_secs);
        if (k < 0)
            break;
        pos += (size_t)k;
    }
}

bool srv_obuf_exceeded(const srv_obuf_class *l, size_t pending, int64_t now_ms,
                       int64_t *soft_since)
{
    if (l->hard && pending >= l->hard)
        return true;
    if (!l->soft || pending < l->soft) {
        *soft_since = 0;
        return false;
    }
    if (*soft_since == 0) {
        *soft_since = now_ms ? now_ms : 1;
        return false;
    }
    return now_ms - *soft_since > l->soft_secs * 1000;
}
