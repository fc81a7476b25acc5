/*
 * script_msgpack.c — the `cmsgpack` Lua library of Redis scripts (pack,
 * unpack, unpack_one, unpack_limit), as lua_cmsgpack behaves, over the
 * pure codec of src/protocol/msgpack.h. Debian has no lua-cmsgpack, hence
 * this file.
 *
 * Lua -> MessagePack: a number that is an integer (int64-equivalent) is
 * an integer, else a float; a table whose keys are exactly 1..n is an
 * array (the empty table too), any other a map; tables nested deeper than
 * 16 levels, functions and userdata are nil.
 * MessagePack -> Lua: the obvious values; nesting deeper than
 * MP_LUA_MAX_DEPTH is refused as bad format (lua_cmsgpack has no bound:
 * a C stack overflow there).
 *
 * Threads: the worker's own, inside its Lua state.
 */
#include <lauxlib.h>
#include <lua.h>

#include <math.h>
#include <stdint.h>

#include "protocol/msgpack.h"
#include "server/script.h"

#define MP_LUA_MAX_NESTING 16 /* encoding, as lua_cmsgpack */
#define MP_LUA_MAX_DEPTH 1000 /* decoding */

static bool int_equivalent(lua_Number n)
{
    return !isinf(n) && !isnan(n) && n >= -9223372036854775808.0 &&
           n < 9223372036854775808.0 && (lua_Number)(int64_t)n == n;
}

/* lua_cmsgpack's table_is_an_array: keys exactly 1..count. */
static bool is_array(lua_State *L, int idx)
{
    int top = lua_gettop(L);
    lua_Number max = 0, count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        lua_Number k;
        if (lua_type(L, -1) != LUA_TNUMBER || (k = lua_tonumber(L, -1)) <= 0 ||
            (lua_Number)(int64_t)k != k) {
            lua_settop(L, top);
            return false;
        }
        if (k > max)
            max = k;
        count++;
    }
    lua_settop(L, top);
    return max == count;
}

static void encode(lua_State *L, fc_buf *b, int level)
{
    int t = lua_type(L, -1);
    if (t == LUA_TTABLE && level == MP_LUA_MAX_NESTING)
        t = LUA_TNIL;
    lua_checkstack(L, 4);
    switch (t) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        mp_put_str(b, s, n);
        break;
    }
    case LUA_TBOOLEAN:
        mp_put_bool(b, lua_toboolean(L, -1));
        break;
    case LUA_TNUMBER: {
        lua_Number n = lua_tonumber(L, -1);
        if (int_equivalent(n))
            mp_put_int(b, (int64_t)n);
        else
            mp_put_double(b, (double)n);
        break;
    }
    case LUA_TTABLE: {
        int idx = lua_gettop(L);
        if (is_array(L, idx)) {
            size_t n = lua_objlen(L, idx);
            mp_put_array(b, n);
            for (size_t j = 1; j <= n; j++) {
                lua_rawgeti(L, idx, (int)j);
                encode(L, b, level + 1);
                lua_pop(L, 1);
            }
        } else {
            uint64_t n = 0;
            lua_pushnil(L);
            while (lua_next(L, idx)) {
                lua_pop(L, 1);
                n++;
            }
            mp_put_map(b, n);
            lua_pushnil(L);
            while (lua_next(L, idx)) {
                lua_pushvalue(L, -2);
                encode(L, b, level + 1); /* the key */
                lua_pop(L, 1);
                encode(L, b, level + 1); /* the value */
                lua_pop(L, 1);
            }
        }
        break;
    }
    default:
        mp_put_nil(b);
    }
}

static int l_pack(lua_State *L)
{
    int argc = lua_gettop(L);
    if (argc == 0)
        return luaL_argerror(L, 0, "MessagePack pack needs input.");
    fc_buf b = {0};
    for (int i = 1; i <= argc; i++) {
        lua_pushvalue(L, i);
        encode(L, &b, 0);
        lua_pop(L, 1);
    }
    lua_pushlstring(L, b.data ? b.data : "", b.len);
    fc_buf_free(&b);
    return 1;
}

/* Pushes the next object; MP_OK or the codec's error. */
static int decode(lua_State *L, const char *s, size_t len, size_t *at,
                  int depth)
{
    mp_item it;
    int rc = mp_next(s, len, at, &it);
    if (rc)
        return rc;
    if (depth > MP_LUA_MAX_DEPTH || !lua_checkstack(L, 4))
        return MP_EBADFMT;
    switch (it.kind) {
    case MP_NIL:
        lua_pushnil(L);
        return MP_OK;
    case MP_BOOL:
        lua_pushboolean(L, it.b);
        return MP_OK;
    case MP_INT:
        lua_pushnumber(L, (lua_Number)it.i);
        return MP_OK;
    case MP_UINT:
        lua_pushnumber(L, (lua_Number)it.u);
        return MP_OK;
    case MP_FLOAT:
        lua_pushnumber(L, (lua_Number)it.d);
        return MP_OK;
    case MP_STR:
        lua_pushlstring(L, it.s, it.len);
        return MP_OK;
    case MP_ARRAY:
    case MP_MAP:
        lua_newtable(L);
        for (uint64_t i = 0; i < it.n; i++) {
            if (it.kind == MP_ARRAY) {
                lua_pushnumber(L, (lua_Number)(i + 1));
                if ((rc = decode(L, s, len, at, depth + 1)))
                    return rc;
            } else {
                if ((rc = decode(L, s, len, at, depth + 1)) ||
                    (rc = decode(L, s, len, at, depth + 1)))
                    return rc;
                if (lua_isnil(L, -2)) { /* a nil key: dropped */
                    lua_pop(L, 2);
                    continue;
                }
            }
            lua_settable(L, -3);
        }
        return MP_OK;
    }
    return MP_EBADFMT;
}

/* lua_cmsgpack's mp_unpack_full: limit 0 and offset 0 decode everything;
 * otherwise the next offset (-1 at the end) comes first. */
static int unpack_full(lua_State *L, int limit, int offset)
{
    size_t len; /* a number reads as its string, as in lua_cmsgpack */
    const char *s = luaL_checklstring(L, 1, &len);
    if (offset < 0 || limit < 0)
        return luaL_error(L,
                          "Invalid request to unpack with offset of %d and "
                          "limit of %d.",
                          offset, limit);
    if ((size_t)offset > len)
        return luaL_error(L, "Start offset %d greater than input length %d.",
                          offset, (int)len);
    bool all = !limit && !offset;
    size_t at = (size_t)offset;
    int cnt = 0;
    for (; at < len && (all || cnt < limit); cnt++) {
        int rc = decode(L, s, len, &at, 0);
        if (rc == MP_EMISSING)
            return luaL_error(L, "Missing bytes in input.");
        if (rc)
            return luaL_error(L, "Bad data format in input.");
    }
    if (!all) {
        lua_checkstack(L, 1);
        lua_pushnumber(L, at == len ? -1 : (lua_Number)at);
        lua_insert(L, 2);
        cnt++;
    }
    return cnt;
}

static int l_unpack(lua_State *L)
{
    return unpack_full(L, 0, 0);
}

static int l_unpack_one(lua_State *L)
{
    int offset = (int)luaL_optinteger(L, 2, 0);
    lua_pop(L, lua_gettop(L) - 1);
    return unpack_full(L, 1, offset);
}

static int l_unpack_limit(lua_State *L)
{
    int limit = (int)luaL_checkinteger(L, 2);
    int offset = (int)luaL_optinteger(L, 3, 0);
    lua_pop(L, lua_gettop(L) - 1);
    return unpack_full(L, limit, offset);
}

void srv_lua_open_cmsgpack(lua_State *L)
{
    lua_newtable(L);
    lua_pushcfunction(L, l_pack);
    lua_setfield(L, -2, "pack");
    lua_pushcfunction(L, l_unpack);
    lua_setfield(L, -2, "unpack");
    lua_pushcfunction(L, l_unpack_one);
    lua_setfield(L, -2, "unpack_one");
    lua_pushcfunction(L, l_unpack_limit);
    lua_setfield(L, -2, "unpack_limit");
    lua_pushliteral(L, "lua-cmsgpack");
    lua_setfield(L, -2, "_NAME");
    lua_pushliteral(L, "lua-cmsgpack 0.4.0");
    lua_setfield(L, -2, "_VERSION");
    lua_setglobal(L, "cmsgpack");
}
