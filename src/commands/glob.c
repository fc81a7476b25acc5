/*
 * glob.c — KEYS/SCAN MATCH patterns, as Redis's stringmatchlen (7.0.9+,
 * with the CVE-2022-36021 guard against exponential backtracking).
 *
 * Redis relies on the NUL after an sds; our arguments are plain views, so
 * every look-ahead here is bounded by the remaining length instead, which
 * yields the same result (a NUL never equals a pattern metacharacter).
 */
#include <ctype.h>

#include "commands/cmd_util.h"

/* Redis's bound on recursion through '*'. */
#define GLOB_MAX_NESTING 1000

static bool eq(char a, char b, bool nocase)
{
    if (nocase)
        return tolower((unsigned char)a) == tolower((unsigned char)b);
    return a == b;
}

/* Matches one [...] class against ch; advances *pp and *pl past it (leaving
 * the pattern on the closing ']', or on its last byte when unterminated,
 * as Redis does). */
static bool match_class(const char **pp, size_t *pl, char ch, bool nocase)
{
    const char *p = *pp + 1;
    size_t l = *pl - 1;
    bool negate = l > 0 && p[0] == '^';
    if (negate) {
        p++;
        l--;
    }
    bool match = false;
    for (;;) {
        if (l == 0) {
            p--;
            l++;
            break;
        }
        if (p[0] == '\\' && l >= 2) {
            p++;
            l--;
            if (p[0] == ch)
                match = true;
        } else if (p[0] == ']') {
            break;
        } else if (l >= 3 && p[1] == '-') {
            int start = p[0], end = p[2], cc = ch;
            if (start > end) {
                int t = start;
                start = end;
                end = t;
            }
            if (nocase) {
                start = tolower(start);
                end = tolower(end);
                cc = tolower(cc);
            }
            p += 2;
            l -= 2;
            if (cc >= start && cc <= end)
                match = true;
        } else if (eq(p[0], ch, nocase)) {
            match = true;
        }
        p++;
        l--;
    }
    *pp = p;
    *pl = l;
    return negate ? !match : match;
}

static bool glob_impl(const char *p, size_t pl, const char *s, size_t sl,
                      bool nocase, bool *skip_longer, int nesting)
{
    if (nesting > GLOB_MAX_NESTING)
        return false;
    while (pl && sl) {
        switch (p[0]) {
        case '*':
            while (pl > 1 && p[1] == '*') {
                p++;
                pl--;
            }
            if (pl == 1)
                return true;
            while (sl) {
                if (glob_impl(p + 1, pl - 1, s, sl, nocase, skip_longer,
                              nesting + 1))
                    return true;
                if (*skip_longer)
                    return false;
                s++;
                sl--;
            }
            /* The rest matched nowhere in the string: a longer match of an
             * earlier '*' cannot help either. */
            *skip_longer = true;
            return false;
        case '?':
            s++;
            sl--;
            break;
        case '[':
            if (!match_class(&p, &pl, s[0], nocase))
                return false;
            s++;
            sl--;
            break;
        case '\\':
            if (pl >= 2) {
                p++;
                pl--;
            }
            /* fall through */
        default:
            if (!eq(p[0], s[0], nocase))
                return false;
            s++;
            sl--;
            break;
        }
        p++;
        pl--;
        if (sl == 0) {
            while (pl && p[0] == '*') {
                p++;
                pl--;
            }
            break;
        }
    }
    return pl == 0 && sl == 0;
}

bool cmd_glob_match(const char *pat, size_t plen, const char *str, size_t slen,
                    bool nocase)
{
    bool skip_longer = false;
    return glob_impl(pat, plen, str, slen, nocase, &skip_longer, 0);
}
