// px.json.size(value[, limit[, max_depth]]): how many bytes `value` takes as JSON, found
// without encoding it, for policies that bound payloads (40-validate measures every event).
//
// Never less than the size of px.json.encode's text, and equal to it but for one comma per
// non-empty table when the value holds no floats: strings count their bytes, quotes and
// escapes as Palisade's encoder writes them, integers their digits, floats 24 (the longest
// a double is written), booleans and px.null their words; a table counts its braces and,
// per member, its key (quoted, with colon and comma) or, for an integer key, a comma.
// A px.bytes value counts its length plus 2, anything else 8. The walk stops as soon as
// the size passes `limit`, and tables nested deeper than `max_depth` (default 16, at most
// 32) make it fail, which also ends cycles: the answer is then nil.
#include "palisade_lua.h"
#include <stdint.h>

#define PX_SIZE_DEFAULT_DEPTH 16
#define PX_SIZE_MAX_DEPTH 32
#define PX_SIZE_OVER (-1)

// Bytes of the string as a JSON string body (no quotes): control characters and the
// two characters JSON reserves are escaped.
static lua_Integer px_escaped_length(const unsigned char *text, size_t length) {
    lua_Integer size = (lua_Integer)length;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = text[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        switch (c) {
        case '"': case '\\': case '\n': case '\r': case '\t': case '\b': case '\f': size += 1; break;
        default: size += 5; // \u00XX
        }
    }
    return size;
}

static lua_Integer px_number_size(lua_State *L, int index) {
    if (!lua_isinteger(L, index)) return 24;
    lua_Integer value = lua_tointeger(L, index);
    lua_Integer size = value < 0 ? 2 : 1;
    // Digits of |value|, counted on the negative side so LUA_MININTEGER needs no special case.
    for (lua_Integer rest = value < 0 ? value : -value; rest <= -10; rest /= 10) size++;
    return size;
}

static lua_Integer px_string_size(lua_State *L, int index) {
    size_t length = 0;
    const char *text = lua_tolstring(L, index, &length);
    return px_escaped_length((const unsigned char *)text, length) + 2;
}

// The size of the value at `index` (absolute), or PX_SIZE_OVER once it passes `budget`
// or nests deeper than `depth_left` tables.
static lua_Integer px_value_size(lua_State *L, int index, lua_Integer budget, int depth_left) {
    lua_Integer size = 8;
    switch (lua_type(L, index)) {
    case LUA_TSTRING:
        size = px_string_size(L, index);
        break;
    case LUA_TNUMBER:
        size = px_number_size(L, index);
        break;
    case LUA_TBOOLEAN:
        size = lua_toboolean(L, index) ? 4 : 5;
        break;
    case LUA_TNIL:
    case LUA_TLIGHTUSERDATA:
        size = 4;
        break;
    case LUA_TUSERDATA: {
        // A px.bytes block (LuaBridge.bytesMetatable) starts with its length.
        void *block = luaL_testudata(L, index, "px.bytes");
        if (block != NULL) size = (lua_Integer)(*(intptr_t *)block) + 2;
        break;
    }
    case LUA_TTABLE:
        if (depth_left <= 0 || !lua_checkstack(L, 3)) return PX_SIZE_OVER;
        size = 2;
        lua_pushnil(L);
        while (lua_next(L, index) != 0) {
            size += lua_type(L, -2) == LUA_TSTRING ? px_string_size(L, -2) + 2 : 1;
            lua_Integer item = size > budget ? PX_SIZE_OVER : px_value_size(L, lua_gettop(L), budget - size, depth_left - 1);
            if (item == PX_SIZE_OVER) {
                lua_pop(L, 2);
                return PX_SIZE_OVER;
            }
            size += item;
            lua_pop(L, 1);
        }
        break;
    default:
        break;
    }
    return size > budget ? PX_SIZE_OVER : size;
}

static int px_json_size(lua_State *L) {
    luaL_checkany(L, 1);
    lua_Integer limit = luaL_optinteger(L, 2, LUA_MAXINTEGER);
    lua_Integer depth = luaL_optinteger(L, 3, PX_SIZE_DEFAULT_DEPTH);
    luaL_argcheck(L, depth >= 0 && depth <= PX_SIZE_MAX_DEPTH, 3, "max_depth must be 0 to 32");
    lua_settop(L, 1);
    lua_Integer size = limit < 0 ? PX_SIZE_OVER : px_value_size(L, 1, limit, (int)depth);
    if (size == PX_SIZE_OVER) {
        lua_pushnil(L);
    } else {
        lua_pushinteger(L, size);
    }
    return 1;
}

void px_push_json_size(lua_State *L) { lua_pushcfunction(L, px_json_size); }
