/*
 * resp.h — RESP2/RESP3 request parsing and reply encoding.
 *
 * Owns: nothing. The parser is a pure function over a caller's buffer (in the
 *   picohttpparser style): no allocation, no I/O. Arguments are views into
 *   the caller's buffer, valid while that buffer is.
 * Threads: any; no shared state.
 * Memory: the writer appends to a caller-owned fc_buf (util/buf.h), growing
 *   it with realloc; on allocation failure the writer sets buf->oom and drops
 *   output (the connection is then closed by its owner).
 *
 * Request forms: multibulk (`*<n>\r\n$<len>\r\n<bytes>\r\n...`) and inline
 * commands (a line of space-separated words with Redis's quoting rules,
 * telnet style). Error texts are Redis 7's, since clients match on them.
 */
#ifndef FC_RESP_H
#define FC_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

typedef struct resp_arg {
    const char *ptr;
    size_t len;
} resp_arg;

typedef struct resp_limits {
    size_t max_bulk_len;   /* Redis proto-max-bulk-len: 512 MiB */
    size_t max_multibulk;  /* elements per request: Redis allows 1024*1024 */
    size_t max_inline_len; /* 64 KiB, Redis's PROTO_INLINE_MAX_SIZE */
    /* Tighter limits for a client that has not authenticated (Redis 7: 10
     * elements, 16384-byte bulks), checked after the ones above and with
     * their own error texts; 0 = none. */
    size_t unauth_multibulk;
    size_t unauth_bulk_len;
} resp_limits;

void resp_limits_default(resp_limits *lim);

enum resp_status {
    RESP_DONE = 0,      /* one request parsed: *consumed bytes, *argc args */
    RESP_NEED_MORE = 1, /* incomplete; *need = total bytes needed if known
                           (from buf start), else 0 */
    RESP_ERROR = 2,     /* protocol error; *err is the Redis error text
                           without the leading '-' (e.g. "ERR Protocol error:
                           invalid bulk length"); the connection must close */
    RESP_MORE_ARGS = 3, /* args array too small: *argc = elements needed */
    RESP_EMPTY = 4,     /* an empty inline line or `*0`/`*-1`: skip *consumed
                           bytes, nothing to execute */
};

/* Parses one request at the start of buf[0..len). On RESP_DONE, args[0..*argc)
 * are the words (args[0] the command name, as sent) and *consumed the bytes
 * used. On RESP_MORE_ARGS the caller grows args to *argc and calls again. */
enum resp_status resp_parse(const char *buf, size_t len,
                            const resp_limits *lim, resp_arg *args,
                            size_t args_cap, size_t *argc, size_t *consumed,
                            size_t *need, const char **err);

/* Added: resp_parse over a writable buffer. Identical, except that an inline
 * request whose words hold escapes ("a\x41", 'it\'s') is decoded in place
 * (the decoded word is never longer than its source text, so it is written
 * over it). resp_parse never writes to buf and answers such a request with
 * RESP_ERROR ("ERR Protocol error: escaped inline request needs a writable
 * buffer"); a server parsing its own read buffer wants resp_parse_mut.
 * Bytes of buf are only written on RESP_DONE, and only inside the consumed
 * line, so a RESP_NEED_MORE / RESP_MORE_ARGS / RESP_ERROR call changes
 * nothing. *need is a lower bound on the bytes needed (> len), not exact. */
enum resp_status resp_parse_mut(char *buf, size_t len, const resp_limits *lim,
                                resp_arg *args, size_t args_cap, size_t *argc,
                                size_t *consumed, size_t *need,
                                const char **err);

/* Length in bytes of the one complete reply value (RESP2 or RESP3, nested
 * aggregates included) at the start of p[0..n); 0 when incomplete or
 * malformed. The router uses it to split sub-replies of scattered commands
 * into their elements. */
size_t resp_reply_len(const char *p, size_t n);

/* Reply writer: one per connection (proto 2 or 3, set by HELLO). */
typedef struct resp_writer {
    fc_buf *out;
    int proto; /* 2 or 3 */
} resp_writer;

void resp_simple(resp_writer *w, const char *s);         /* +s */
void resp_error(resp_writer *w, const char *msg);        /* -msg (msg holds
                                                             its ERR prefix) */
void resp_errorf(resp_writer *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void resp_int(resp_writer *w, int64_t v);                /* :v */
void resp_bulk(resp_writer *w, const void *p, size_t n); /* $n p */
void resp_bulk_cstr(resp_writer *w, const char *s);
void resp_null(resp_writer *w);              /* $-1 (2) or _ (3) */
void resp_null_array(resp_writer *w);        /* *-1 (2) or _ (3) */
void resp_array(resp_writer *w, size_t n);   /* *n */
void resp_map(resp_writer *w, size_t pairs); /* %n (3) or *2n (2) */
void resp_set(resp_writer *w, size_t n);     /* ~n (3) or *n (2) */
void resp_push(resp_writer *w, size_t n);    /* >n (3) or *n (2): out-of-band
                                                data (pub/sub messages) */
void resp_double(resp_writer *w, double d);  /* ,d (3) or bulk (2) */
/* A double the caller formatted (Redis's "human" long doubles, GEOPOS's
 * coordinates): ,s (3) or bulk s (2). */
void resp_double_text(resp_writer *w, const char *s, size_t n);
void resp_bool(resp_writer *w, int b);       /* #t/#f (3) or :1/:0 (2) */
void resp_verbatim(resp_writer *w, const char *fmt3, const void *p,
                   size_t n); /* =n fmt:p (3) or bulk (2) */
void resp_ok(resp_writer *w);                /* +OK */

#endif /* FC_RESP_H */
