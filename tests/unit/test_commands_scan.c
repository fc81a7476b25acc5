/*
 * KEYS (Redis's glob rules, recorded from redis-server 7.0), SCAN (full
 * iterations over several shards, MATCH, TYPE, COUNT, errors), RANDOMKEY,
 * DBSIZE, FLUSHDB, FLUSHALL.
 */
#include <stdio.h>

#include "commands/cmd_util.h"
#include "test_commands.h"

static int setup(void **state)
{
    *state = th_new(8);
    return 0;
}

static int teardown(void **state)
{
    th_free(*state);
    return 0;
}

/* --- a reader for arrays of bulk strings ---------------------------- */

typedef struct strlist {
    char **v;
    size_t n;
} strlist;

static size_t read_num(const char **p)
{
    char *end;
    size_t v = (size_t)strtoull(*p, &end, 10);
    assert_memory_equal(end, "\r\n", 2);
    *p = end + 2;
    return v;
}

/* Parses "*N" then N bulk strings at *p, appending them to l. */
static void read_bulks(const char **p, strlist *l)
{
    assert_int_equal(**p, '*');
    (*p)++;
    size_t n = read_num(p);
    l->v = realloc(l->v, (l->n + n + 1) * sizeof(char *));
    assert_non_null(l->v);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(**p, '$');
        (*p)++;
        size_t len = read_num(p);
        char *s = malloc(len + 1);
        assert_non_null(s);
        memcpy(s, *p, len);
        s[len] = '\0';
        l->v[l->n++] = s;
        *p += len;
        assert_memory_equal(*p, "\r\n", 2);
        *p += 2;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Asserts the sorted list equals want (NULL-terminated, sorted). */
static void assert_list(strlist *l, const char *const *want)
{
    size_t n = 0;
    qsort(l->v, l->n, sizeof(char *), cmp_str);
    while (want[n])
        n++;
    assert_int_equal(l->n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(l->v[i], want[i]);
}

/* --- KEYS ------------------------------------------------------------ */

static const char *const glob_keys[] = {
    "hello", "hallo", "hxllo", "hllo", "heeeello", "foo", "fao",
    "f*o",   "f\\o",  "a-b",   "]x",   "x]",       "[x",  "Hello",
    "abc",   "a",     "ab*c",  "b^",   "-",        "\\",  NULL};

typedef struct glob_case {
    const char *pat;
    const char *const *want;
} glob_case;

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE ((const char *const[]){NULL})

static const glob_case glob_cases[] = {
    {"h?llo", L("hallo", "hello", "hxllo")},
    {"h*llo", L("hallo", "heeeello", "hello", "hllo", "hxllo")},
    {"h[ae]llo", L("hallo", "hello")},
    {"h[^e]llo", L("hallo", "hxllo")},
    {"h[a-b]llo", L("hallo")},
    {"h[b-a]llo", L("hallo")},
    {"[^h]*", L("-", "Hello", "[x", "\\", "]x", "a", "a-b", "ab*c", "abc", "b^",
                "f*o", "f\\o", "fao", "foo", "x]")},
    {"f\\*o", L("f*o")},
    {"f*o", L("f*o", "f\\o", "fao", "foo")},
    {"f\\\\o", L("f\\o")},
    {"*\\*", NONE},
    {"[]x]*", NONE},
    {"[x]]", L("x]")},
    {"[\\]]x", L("]x")},
    {"[a-]*", L("a")},
    {"[-a]", L("-", "a")},
    {"[[]x", L("[x")},
    {"[abc", L("a")},
    {"ab[", NONE},
    {"\\", L("\\")},
    {"*\\", L("\\")},
    {"\\\\", L("\\")},
    {"?", L("-", "\\", "a")},
    {"??", L("[x", "]x", "b^", "x]")},
    {"[!a]*", L("a", "a-b", "ab*c", "abc")},
    {"[^a-z]*", L("-", "Hello", "[x", "\\", "]x")},
    {"H*", L("Hello")},
    {"*l*o", L("Hello", "hallo", "heeeello", "hello", "hllo", "hxllo")},
    {"a*b*c", L("ab*c", "abc")},
    {"b^", L("b^")},
    {"[a\\-c]*", L("-", "a", "a-b", "ab*c", "abc")},
    {"[^]]*", L("x]")},
    {"", NONE},
};

static void test_keys_glob(void **state)
{
    th *t = *state;
    strlist l = {0};
    for (size_t i = 0; glob_keys[i]; i++)
        EXPECT(t, "+OK\r\n", "SET", glob_keys[i], "1");
    for (size_t i = 0; i < sizeof(glob_cases) / sizeof(glob_cases[0]); i++) {
        const char *p = RUN(t, "KEYS", glob_cases[i].pat);
        read_bulks(&p, &l);
        assert_list(&l, glob_cases[i].want);
        list_free(&l);
    }
    for (const char *pat = "*"; pat; pat = strcmp(pat, "*") ? NULL : "**") {
        const char *p = RUN(t, "KEYS", pat);
        read_bulks(&p, &l);
        assert_int_equal(l.n, 20);
        list_free(&l);
    }
}

static void test_glob_direct(void **state)
{
    (void)state;
    assert_true(cmd_glob_match("h*o", 3, "hello", 5, false));
    assert_false(cmd_glob_match("H*O", 3, "hello", 5, false));
    assert_true(cmd_glob_match("H*O", 3, "hello", 5, true));
    assert_true(cmd_glob_match("[A-C]x", 6, "bx", 2, true));
    assert_true(cmd_glob_match("a\0b", 3, "a\0b", 3, false));
    assert_false(cmd_glob_match("a\0b", 3, "a\0c", 3, false));
    /* As in Redis, a pattern never matches the empty key (only the "*"
     * shortcut of KEYS and SCAN does). */
    assert_false(cmd_glob_match("*", 1, "", 0, false));
    assert_true(cmd_glob_match("", 0, "", 0, false));
    assert_false(cmd_glob_match("?", 1, "", 0, false));
    /* Patterns that would backtrack exponentially end quickly. */
    char s[200], pat[120];
    memset(s, 'a', sizeof(s));
    for (size_t i = 0; i < sizeof(pat); i += 2) {
        pat[i] = 'a';
        pat[i + 1] = '*';
    }
    pat[sizeof(pat) - 1] = 'b';
    assert_false(cmd_glob_match(pat, sizeof(pat), s, sizeof(s), false));
}

static void test_keys_skips_expired(void **state)
{
    th *t = *state;
    EXPECT(t, "*0\r\n", "KEYS", "*");
    EXPECT(t, "+OK\r\n", "SET", "live", "1");
    EXPECT(t, "+OK\r\n", "SET", "dead", "1", "PX", "10");
    t->c.now += 10;
    EXPECT(t, "*1\r\n$4\r\nlive\r\n", "KEYS", "*");
    t->w.proto = 3;
    EXPECT(t, "*0\r\n", "KEYS", "nomatch*");
}

static void test_keys_empty_key(void **state)
{
    th *t = *state;
    EXPECT(t, "+OK\r\n", "SET", "", "1");
    EXPECT(t, "*1\r\n$0\r\n\r\n", "KEYS", "*");
    EXPECT(t, "*0\r\n", "KEYS", "**");
    EXPECT(t, "*0\r\n", "KEYS", "?*");
    EXPECT(t, "*2\r\n$1\r\n0\r\n*1\r\n$0\r\n\r\n", "SCAN", "0", "MATCH", "*",
           "COUNT", "100");
    EXPECT(t, "*2\r\n$1\r\n0\r\n*0\r\n", "SCAN", "0", "MATCH", "**", "COUNT",
           "100");
}

/* --- SCAN ------------------------------------------------------------ */

/* One SCAN call; appends keys to l and returns the next cursor. */
static unsigned long long scan_once(th *t, unsigned long long cursor,
                                    const char *o1, const char *o2,
                                    const char *o3, const char *o4, strlist *l)
{
    char cur[32];
    snprintf(cur, sizeof(cur), "%llu", cursor);
    const char *p = RUN(t, "SCAN", cur, o1, o2, o3, o4);
    assert_memory_equal(p, "*2\r\n$", 5);
    p += 5;
    size_t len = read_num(&p);
    char num[32];
    assert_true(len < sizeof(num));
    memcpy(num, p, len);
    num[len] = '\0';
    p += len + 2;
    read_bulks(&p, l);
    assert_int_equal(*p, '\0');
    return strtoull(num, NULL, 10);
}

static void add_keys(th *t, const char *prefix, int n)
{
    char k[32];
    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof(k), "%s%d", prefix, i);
        EXPECT(t, "+OK\r\n", "SET", k, "v");
    }
}

static void full_scan_exactly_once(th *t, const char *count, int nkeys)
{
    strlist l = {0};
    unsigned long long cur = 0;
    int calls = 0;
    do {
        cur = scan_once(t, cur, "COUNT", count, NULL, NULL, &l);
        assert_true(++calls < 100000);
    } while (cur != 0);
    qsort(l.v, l.n, sizeof(char *), cmp_str);
    assert_int_equal(l.n, (size_t)nkeys);
    for (size_t i = 1; i < l.n; i++)
        assert_true(strcmp(l.v[i - 1], l.v[i]) < 0); /* no repeats */
    list_free(&l);
}

static void test_scan_full_iteration(void **state)
{
    th *t = *state;
    add_keys(t, "key:", 2000);
    full_scan_exactly_once(t, "1", 2000);
    full_scan_exactly_once(t, "10", 2000);
    full_scan_exactly_once(t, "1000", 2000);
    EXPECT(t, ":2000\r\n", "DBSIZE");
}

static void test_scan_one_shard(void **state)
{
    th *t = th_new(1);
    add_keys(t, "k", 300);
    full_scan_exactly_once(t, "7", 300);
    th_free(t);
    t = th_new(16);
    add_keys(t, "k", 300);
    full_scan_exactly_once(t, "3", 300);
    th_free(t);
    (void)state;
}

static void test_scan_match_type(void **state)
{
    th *t = *state;
    strlist l = {0};
    add_keys(t, "user:", 50);
    add_keys(t, "item:", 30);
    unsigned long long cur = 0;
    do
        cur = scan_once(t, cur, "MATCH", "user:*", "COUNT", "5", &l);
    while (cur);
    assert_int_equal(l.n, 50);
    for (size_t i = 0; i < l.n; i++)
        assert_memory_equal(l.v[i], "user:", 5);
    list_free(&l);
    do
        cur = scan_once(t, cur, "type", "STRING", "match", "item:1*", &l);
    while (cur);
    assert_int_equal(l.n, 11); /* item:1, item:10..19 */
    list_free(&l);
    do
        cur = scan_once(t, cur, "TYPE", "list", NULL, NULL, &l);
    while (cur);
    assert_int_equal(l.n, 0);
    list_free(&l);
    do
        cur = scan_once(t, cur, "TYPE", "nosuchtype", "COUNT", "1000", &l);
    while (cur);
    assert_int_equal(l.n, 0);
    list_free(&l);
}

static void test_scan_replies(void **state)
{
    th *t = *state;
    EXPECT(t, "*2\r\n$1\r\n0\r\n*0\r\n", "SCAN", "0");
    EXPECT(t, "*2\r\n$1\r\n0\r\n*0\r\n", "SCAN", "");
    EXPECT(t, "*2\r\n$1\r\n0\r\n*0\r\n", "SCAN", "+0", "COUNT", "5");
    EXPECT(t, "+OK\r\n", "SET", "only", "1");
    EXPECT(t, "*2\r\n$1\r\n0\r\n*1\r\n$4\r\nonly\r\n", "SCAN", "0", "COUNT",
           "100");
    /* A cursor may be any u64, even one that never was returned. */
    RUN(t, "SCAN", "18446744073709551615");
    RUN(t, "SCAN", "-1");
}

static void test_scan_errors(void **state)
{
    th *t = *state;
    const char *cur = "-ERR invalid cursor\r\n";
    const char *syn = "-ERR syntax error\r\n";
    EXPECT(t, cur, "SCAN", "abc");
    EXPECT(t, cur, "SCAN", "1x");
    EXPECT(t, cur, "SCAN", " 1");
    EXPECT(t, cur, "SCAN", "-");
    EXPECT(t, cur, "SCAN", "18446744073709551616");
    EXPECT(t, cur, "SCAN", "abc", "COUNT", "0");
    EXPECT(t, syn, "SCAN", "0", "COUNT", "0");
    EXPECT(t, syn, "SCAN", "0", "COUNT", "-1");
    EXPECT(t, "-ERR value is not an integer or out of range\r\n", "SCAN", "0",
           "COUNT", "x");
    EXPECT(t, syn, "SCAN", "0", "MATCH");
    EXPECT(t, syn, "SCAN", "0", "FOO", "bar");
    EXPECT(t, syn, "SCAN", "0", "COUNT", "10", "TYPE");
}

/* --- RANDOMKEY, DBSIZE, FLUSH* --------------------------------------- */

static void test_randomkey(void **state)
{
    th *t = *state;
    EXPECT(t, "$-1\r\n", "RANDOMKEY");
    t->w.proto = 3;
    EXPECT(t, "_\r\n", "RANDOMKEY");
    t->w.proto = 2;
    EXPECT(t, "+OK\r\n", "SET", "solo", "1");
    EXPECT(t, "$4\r\nsolo\r\n", "RANDOMKEY");
    add_keys(t, "r", 40);
    bool seen[40] = {false};
    int distinct = 0;
    for (int i = 0; i < 400; i++) {
        const char *p = RUN(t, "RANDOMKEY");
        strlist l = {0};
        char arr[64];
        snprintf(arr, sizeof(arr), "*1\r\n%s", p);
        const char *q = arr;
        read_bulks(&q, &l);
        assert_int_equal(l.n, 1);
        if (strcmp(l.v[0], "solo") != 0) {
            assert_int_equal(l.v[0][0], 'r');
            int k = atoi(l.v[0] + 1);
            assert_true(k >= 0 && k < 40);
            distinct += !seen[k];
            seen[k] = true;
        }
        list_free(&l);
    }
    /* A fixed seed: deterministic, and it must not stick to few keys. */
    assert_true(distinct >= 20);
}

static void test_randomkey_all_expired(void **state)
{
    th *t = *state;
    char k[16];
    for (int i = 0; i < 30; i++) {
        snprintf(k, sizeof(k), "e%d", i);
        EXPECT(t, "+OK\r\n", "SET", k, "v", "PX", "5");
    }
    t->c.now += 5;
    EXPECT(t, "$-1\r\n", "RANDOMKEY");
    EXPECT(t, "*0\r\n", "KEYS", "*");
}

static void test_dbsize_flush(void **state)
{
    th *t = *state;
    EXPECT(t, ":0\r\n", "DBSIZE");
    add_keys(t, "d", 100);
    EXPECT(t, ":100\r\n", "DBSIZE");
    EXPECT(t, "-ERR syntax error\r\n", "FLUSHDB", "FOO");
    EXPECT(t, "-ERR syntax error\r\n", "FLUSHDB", "ASYNC", "SYNC");
    EXPECT(t, "-ERR syntax error\r\n", "FLUSHALL", "now");
    EXPECT(t, ":100\r\n", "DBSIZE");
    EXPECT(t, "+OK\r\n", "FLUSHDB");
    EXPECT(t, ":0\r\n", "DBSIZE");
    add_keys(t, "d", 10);
    EXPECT(t, "+OK\r\n", "flushdb", "async");
    EXPECT(t, ":0\r\n", "DBSIZE");
    add_keys(t, "d", 10);
    EXPECT(t, "+OK\r\n", "FLUSHALL", "SYNC");
    EXPECT(t, "*0\r\n", "KEYS", "*");
    add_keys(t, "d", 10);
    EXPECT(t, "+OK\r\n", "FLUSHALL");
    EXPECT(t, ":0\r\n", "DBSIZE");
    EXPECT(t, "$-1\r\n", "GET", "d1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_keys_glob),
        T(test_glob_direct),
        T(test_keys_skips_expired),
        T(test_keys_empty_key),
        T(test_scan_full_iteration),
        T(test_scan_one_shard),
        T(test_scan_match_type),
        T(test_scan_replies),
        T(test_scan_errors),
        T(test_randomkey),
        T(test_randomkey_all_expired),
        T(test_dbsize_flush),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
