/*
 * replica.c — an embedded replica of a fast-cache server: waits until the
 * local copy is complete, then reads keys from it.
 *
 * Build: cc replica.c $(pkg-config --cflags --libs fastcache)
 * Run:   ./replica 127.0.0.1:7631 [token] key...
 */
#include <stdio.h>
#include <string.h>

#include <fastcache.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s HOST:PORT [--token T] KEY...\n", argv[0]);
        return 2;
    }
    fc_replica_options o = {.primary = argv[1]};
    int first = 2;
    if (argc > 3 && strcmp(argv[2], "--token") == 0) {
        o.token = argv[3];
        first = 4;
    }
    fc_replica *r;
    int rc = fc_replica_open(&r, &o);
    if (rc != FC_OK) {
        fprintf(stderr, "fc_replica_open: %s\n", fc_strerror(rc));
        return 1;
    }
    fc_replica_info info;
    if (fc_replica_wait_synced(r, 10000) != FC_OK) {
        fc_replica_status(r, &info);
        fprintf(stderr, "not in sync after 10 s (%s): %s\n", info.state_name,
                info.last_error[0] ? info.last_error : "no error");
        fc_replica_close(r);
        return 1;
    }
    fc_store *s = fc_replica_store(r);
    fc_replica_status(r, &info);
    printf("in sync: %zu keys, offset %llu\n", fc_len(s),
           (unsigned long long)info.offset);
    for (int i = first; i < argc; i++) {
        char buf[256];
        size_t len;
        rc = fc_get(s, argv[i], strlen(argv[i]), buf, sizeof buf, &len);
        if (rc == FC_OK)
            printf("%s = %.*s\n", argv[i], (int)len, buf);
        else
            printf("%s: %s\n", argv[i], fc_strerror(rc));
    }
    fc_replica_close(r);
    return 0;
}
