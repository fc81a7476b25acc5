/*
 * script_conv.c — Lua values <-> RESP for scripts, as Redis 7.0 converts
 * them (script.h): a command's reply (RESP2 or RESP3, per redis.setresp)
 * becomes Lua values for redis.call; a script's result becomes the
 * client's reply.
 *
 * RESP -> Lua: integer -> number, bulk -> string, null bulk/array -> false
 * (RESP3 null -> nil), array -> table, status -> {ok=}, error -> {err=};
 * RESP3: map -> {map={}}, set -> {set={k=true}}, double -> {double=},
 * boolean, big number -> {big_number=}, verbatim -> {verbatim_string=}.
 * Lua -> RESP: string -> bulk, number -> integer (truncated), boolean ->
 * :1 / null (setresp 2) or #t/#f (setresp 3), {err=}/{ok=} -> error/status
 * (CR/LF as spaces), {double=}, {map=}, {set=}, {big_number=}; other
 * tables -> arrays up to the first nil; anything else -> null.
 *
 * Threads: the worker's own. Memory: the reply is the caller's buffer.
 */
#include <lua.h>

#include <stdlib.h>
#include <string.h>

#include "server/script.h"

#define LUA_MAX_DEPTH 200 /* nested tables in a reply, either way */

/* --- RESP -> Lua ---------------------------------------------------- */

static size_t line_end(const char *p, size_t n, size_t at)
{
    while (at + 1 < n && !(p[at] == '\r' && p[at + 1] == '\n'))
        at++;
    return at;
}

/* Pushes the reply at p[*at] and advances *at. The reply is well formed
 * (a command wrote it); depth bounds Lua's stack. */
void srv_lua_push_reply(lua_State *L, const char *p, size_t n, size_t *at,
                        int depth)
{
    lua_checkstack(L, 8);
    char t = p[*at];
    size_t s = *at + 1, e = line_end(p, n, s);
    *at = e + 2;
    switch (t) {
    case '+':
    case '-': {
        lua_newtable(L);
        lua_pushlstring(L, p + s, e - s);
        lua_setfield(L, -2, t == '+' ? "ok" : "err");
        return;
    }
    case ':':
        lua_pushnumber(L, (lua_Number)strtoll(p + s, NULL, 10));
        return;
    case ',': {
        lua_newtable(L);
        lua_pushnumber(L, strtod(p + s, NULL));
        lua_setfield(L, -2, "double");
        return;
    }
    case '(':
        lua_newtable(L);
        lua_pushlstring(L, p + s, e - s);
        lua_setfield(L, -2, "big_number");
        return;
    case '#':
        lua_pushboolean(L, p[s] == 't');
        return;
    case '_':
        lua_pushnil(L);
        return;
    case '$':
    case '=': {
        long long len = strtoll(p + s, NULL, 10);
        if (len < 0) {
            lua_pushboolean(L, 0);
            return;
        }
        const char *b = p + *at;
        *at += (size_t)len + 2;
        if (t == '$') {
            lua_pushlstring(L, b, (size_t)len);
            return;
        }
        lua_newtable(L); /* verbatim: "fmt:text" */
        lua_newtable(L);
        lua_pushlstring(L, b, len >= 3 ? 3 : (size_t)len);
        lua_setfield(L, -2, "format");
        lua_pushlstring(L, len >= 4 ? b + 4 : b,
                        len >= 4 ? (size_t)len - 4 : 0);
        lua_setfield(L, -2, "string");
        lua_setfield(L, -2, "verbatim_string");
        return;
    }
    case '*':
    case '>':
    case '~':
    case '%': {
        long long cnt = strtoll(p + s, NULL, 10);
        if (cnt < 0) {
            lua_pushboolean(L, 0);
            return;
        }
        lua_newtable(L);
        for (long long i = 0; i < cnt; i++) {
            if (t == '%') {
                srv_lua_push_reply(L, p, n, at, depth + 1);
                srv_lua_push_reply(L, p, n, at, depth + 1);
                lua_settable(L, -3);
            } else if (t == '~') {
                srv_lua_push_reply(L, p, n, at, depth + 1);
                lua_pushboolean(L, 1);
                lua_settable(L, -3);
            } else {
                srv_lua_push_reply(L, p, n, at, depth + 1);
                lua_rawseti(L, -2, (int)i + 1);
            }
        }
        if (t == '%' || t == '~') {
            lua_newtable(L);
            lua_insert(L, -2);
            lua_setfield(L, -2, t == '%' ? "map" : "set");
        }
        return;
    }
    default:
        lua_pushnil(L);
    }
}

/* --- Lua -> RESP ---------------------------------------------------- */

/* Redis replaces CR and LF of status and error strings by spaces. */
void srv_lua_reply_line(resp_writer *wr, char kind, const char *s, size_t n)
{
    fc_buf_putc(wr->out, kind);
    for (size_t i = 0; i < n; i++)
        fc_buf_putc(wr->out, s[i] == '\r' || s[i] == '\n' ? ' ' : s[i]);
    fc_buf_append(wr->out, "\r\n", 2);
}

/* The string field `f` of the table at the top, or NULL. */
const char *srv_lua_table_str(lua_State *L, const char *f, size_t *n)
{
    lua_pushstring(L, f);
    lua_rawget(L, -2);
    const char *s =
        lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, n) : NULL;
    lua_pop(L, 1); /* the string stays alive: the table holds it */
    return s;
}

static void table_to_resp(lua_State *L, resp_writer *wr, int depth, int lresp)
{
    size_t n;
    const char *s;
    if ((s = srv_lua_table_str(L, "err", &n))) {
        srv_lua_reply_line(wr, '-', s, n);
        return;
    }
    if ((s = srv_lua_table_str(L, "ok", &n))) {
        srv_lua_reply_line(wr, '+', s, n);
        return;
    }
    lua_pushstring(L, "double");
    lua_rawget(L, -2);
    if (lua_type(L, -1) == LUA_TNUMBER) {
        resp_double(wr, lua_tonumber(L, -1));
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    if ((s = srv_lua_table_str(L, "big_number", &n))) {
        if (wr->proto == 3)
            srv_lua_reply_line(wr, '(', s, n);
        else
            resp_bulk(wr, s, n);
        return;
    }
    const char *kinds[2] = {"map", "set"};
    for (int k = 0; k < 2; k++) {
        lua_pushstring(L, kinds[k]);
        lua_rawget(L, -2);
        if (lua_type(L, -1) != LUA_TTABLE) {
            lua_pop(L, 1);
            continue;
        }
        size_t cnt = 0;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            cnt++;
            lua_pop(L, 1);
        }
        if (k == 0)
            resp_map(wr, cnt);
        else
            resp_set(wr, cnt);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pushvalue(L, -2); /* the key, converted without touching
                                     the one lua_next needs */
            srv_lua_write_value(L, wr, depth + 1, lresp);
            lua_pop(L, 1);
            if (k == 0)
                srv_lua_write_value(L, wr, depth + 1, lresp);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        return;
    }
    /* An array: up to the first nil, as Redis. */
    size_t cnt = 0;
    for (;;) {
        lua_rawgeti(L, -1, (int)cnt + 1);
        bool nil = lua_isnil(L, -1);
        lua_pop(L, 1);
        if (nil)
            break;
        cnt++;
    }
    resp_array(wr, cnt);
    for (size_t i = 0; i < cnt; i++) {
        lua_rawgeti(L, -1, (int)i + 1);
        srv_lua_write_value(L, wr, depth + 1, lresp);
        lua_pop(L, 1);
    }
}

/* Writes the value at the top (left there). lresp is the script's
 * redis.setresp: Redis picks the booleans' form by it, the rest by the
 * client's protocol. */
void srv_lua_write_value(lua_State *L, resp_writer *wr, int depth, int lresp)
{
    if (depth > LUA_MAX_DEPTH || !lua_checkstack(L, 8)) {
        resp_error(wr, "ERR reached lua stack limit");
        return;
    }
    switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        resp_bulk(wr, s, n);
        return;
    }
    case LUA_TBOOLEAN:
        if (lresp == 3)
            resp_bool(wr, lua_toboolean(L, -1));
        else if (lua_toboolean(L, -1))
            resp_int(wr, 1);
        else
            resp_null(wr);
        return;
    case LUA_TNUMBER:
        resp_int(wr, (int64_t)lua_tonumber(L, -1));
        return;
    case LUA_TTABLE:
        table_to_resp(L, wr, depth, lresp);
        return;
    default:
        resp_null(wr);
    }
}
