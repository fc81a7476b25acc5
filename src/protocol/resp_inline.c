/*
 * resp_inline.c — the inline (telnet) request form: Redis 7's
 * processInlineBuffer plus sdssplitargs, without allocating.
 *
 * A line ends at '\n' (a '\r' before it is dropped). Words are split as
 * sdssplitargs does: blanks between words are isspace(); a bare word ends at
 * ' ', '\t', '\r' or '\n'; a quote anywhere in a word opens a quoted part;
 * "double quotes" know \n \r \t \b \a \xHH and \<any>, 'single quotes' only
 * \'; a closing quote must be followed by a blank or the end of the line.
 * Deviation: NUL bytes are ordinary bytes here (Redis's strchr/C-string
 * handling would stop at them and wait for more input).
 *
 * The line is split twice at most: a dry run that checks the quoting, counts
 * the words and points at them when each is one verbatim run of the line;
 * then, only when a word needs decoding, a second run that writes the
 * decoded words over their own source text (never longer than it).
 */
#include <stdbool.h>
#include <string.h>

#include "protocol/resp.h"
#include "protocol/resp_internal.h"

#define ERR_INLINE_BIG RESP_ERR_PROTO "too big inline request"
#define ERR_QUOTES RESP_ERR_PROTO "unbalanced quotes in request"
#define ERR_CONST                                                              \
    RESP_ERR_PROTO "escaped inline request needs a writable buffer"

/* One word being split. */
struct word {
    const char *src; /* the line */
    char *out;       /* decode target (the line itself), NULL on a dry run */
    size_t start;    /* out: where the word is written; dry: first byte */
    size_t len;      /* decoded length so far */
    bool copy;       /* dry: the word is not one verbatim run of the line */
};

static inline void put_src(struct word *w, size_t r)
{
    if (w->out)
        w->out[w->start + w->len] = w->src[r];
    else if (w->len == 0)
        w->start = r;
    else if (w->start + w->len != r)
        w->copy = true;
    w->len++;
}

static inline void put_byte(struct word *w, char c)
{
    if (w->out)
        w->out[w->start + w->len] = c;
    else
        w->copy = true;
    w->len++;
}

static inline bool is_blank(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline int hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static char unescape(char c)
{
    switch (c) {
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    case 'b':
        return '\b';
    case 'a':
        return '\a';
    default:
        return c;
    }
}

/* Inside "double quotes" at s[*ip]: consumes one element; 1 when the quote
 * closed the word, 0 to go on, -1 on unbalanced quotes. */
static int dquote_step(struct word *w, const char *s, size_t n, size_t *ip)
{
    size_t i = *ip;

    if (i == n)
        return -1;
    if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' &&
        hex_val(s[i + 2]) >= 0 && hex_val(s[i + 3]) >= 0) {
        put_byte(w, (char)(hex_val(s[i + 2]) * 16 + hex_val(s[i + 3])));
        *ip = i + 4;
        return 0;
    }
    if (s[i] == '\\' && i + 1 < n) {
        put_byte(w, unescape(s[i + 1]));
        *ip = i + 2;
        return 0;
    }
    *ip = i + 1;
    if (s[i] != '"') {
        put_src(w, i);
        return 0;
    }
    return i + 1 < n && !is_blank(s[i + 1]) ? -1 : 1;
}

/* Inside 'single quotes': as dquote_step. */
static int squote_step(struct word *w, const char *s, size_t n, size_t *ip)
{
    size_t i = *ip;

    if (i == n)
        return -1;
    if (s[i] == '\\' && i + 1 < n && s[i + 1] == '\'') {
        put_byte(w, '\'');
        *ip = i + 2;
        return 0;
    }
    *ip = i + 1;
    if (s[i] != '\'') {
        put_src(w, i);
        return 0;
    }
    return i + 1 < n && !is_blank(s[i + 1]) ? -1 : 1;
}

/* Splits one word starting at s[*ip] (not a blank); -1 on bad quoting. */
static int split_word(struct word *w, const char *s, size_t n, size_t *ip)
{
    size_t i = *ip;
    int r;

    for (;;) {
        if (i == n || s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
            s[i] == '\n')
            break;
        if (s[i] == '"' || s[i] == '\'') {
            bool dq = s[i] == '"';
            i++;
            do {
                r = dq ? dquote_step(w, s, n, &i) : squote_step(w, s, n, &i);
            } while (r == 0);
            if (r < 0)
                return -1;
            break;
        }
        put_src(w, i++);
    }
    *ip = i;
    return 0;
}

/* Splits s[0..n). out: NULL for the dry run, else s itself, made writable.
 * Fills args[0..min(count, cap)); *copy: some word needs the decoding run. */
static int split_line(const char *s, size_t n, char *out, resp_arg *args,
                      size_t cap, size_t *count, bool *copy)
{
    size_t i = 0, argc = 0;

    *copy = false;
    for (;;) {
        while (i < n && is_blank(s[i]))
            i++;
        if (i == n)
            break;
        struct word w = {.src = s, .out = out, .start = i};
        if (split_word(&w, s, n, &i) < 0)
            return -1;
        if (argc < cap) {
            args[argc].ptr = s + w.start;
            args[argc].len = w.len;
        }
        *copy |= w.copy;
        argc++;
    }
    *count = argc;
    return 0;
}

enum resp_status resp_parse_inline(char *wbuf, const char *buf, size_t len,
                                   const resp_limits *lim, resp_arg *args,
                                   size_t args_cap, size_t *argc,
                                   size_t *consumed, const char **err)
{
    const char *nl = memchr(buf, '\n', len);
    size_t line, count;
    bool copy;

    if (!nl) {
        if (len > lim->max_inline_len) {
            *err = ERR_INLINE_BIG;
            return RESP_ERROR;
        }
        return RESP_NEED_MORE;
    }
    line = (size_t)(nl - buf);
    if (line > 0 && buf[line - 1] == '\r')
        line--;
    if (split_line(buf, line, NULL, args, args_cap, &count, &copy) < 0) {
        *err = ERR_QUOTES;
        return RESP_ERROR;
    }
    if (count == 0) {
        *consumed = (size_t)(nl - buf) + 1;
        return RESP_EMPTY;
    }
    *argc = count;
    if (count > args_cap)
        return RESP_MORE_ARGS;
    if (copy) {
        if (!wbuf) {
            *argc = 0;
            *err = ERR_CONST;
            return RESP_ERROR;
        }
        split_line(wbuf, line, wbuf, args, args_cap, &count, &copy);
    }
    *consumed = (size_t)(nl - buf) + 1;
    return RESP_DONE;
}
