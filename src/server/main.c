/*
 * main.c — fast-cache-server's entry point: configuration (exit 2 on a bad
 * flag, key or value), then the server (server.h) until it is asked to stop.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fastcache.h"
#include "server/config/config.h"
#include "server/config/log.h"
#include "server/server.h"

/* Features that do not exist yet stop the server (exit 2) rather than
 * run without them: a replica that never follows its primary, or a tier
 * that never receives data, would serve diverging or missing data under
 * a configuration that says otherwise. */
static int refuse_missing(const srv_config *c, char *err, size_t errlen)
{
    if (c->tiers.enabled)
        snprintf(err, errlen,
                 "[tiers] enabled = true: the disk tier is not "
                 "implemented yet (set it to false)");
    else
        return 0;
    return -1;
}

int main(int argc, char **argv)
{
    srv_config cfg;
    char err[512];
    srv_config_defaults(&cfg);
    int r = srv_config_from_args(&cfg, argc, argv, stdout, err, sizeof(err));
    if (r == 0)
        r = srv_config_resolve(&cfg, sysconf(_SC_NPROCESSORS_ONLN), err,
                               sizeof(err));
    if (r == 0)
        r = refuse_missing(&cfg, err, sizeof(err));
    if (r == 0 && !ev_backend_select(cfg.io, err, sizeof(err)))
        r = -1;
    if (r != 0) {
        if (r < 0)
            fprintf(stderr, "fast-cache-server: %s\n", err);
        srv_config_free(&cfg);
        return r < 0 ? 2 : 0;
    }
    srv_log_set_level(cfg.loglevel);
    signal(SIGPIPE, SIG_IGN);
    srv_notice("fast-cache-server %s starting, pid=%d%s%s", FC_VERSION_STRING,
               (int)getpid(), cfg.config_file ? ", config=" : "",
               cfg.config_file ? cfg.config_file : "");
    srv_server s;
    if (srv_init(&s, &cfg, err, sizeof(err))) {
        srv_warning("%s", err);
        srv_destroy(&s);
        return 1;
    }
    int rc = srv_run(&s);
    srv_destroy(&s);
    return rc ? 1 : 0;
}
