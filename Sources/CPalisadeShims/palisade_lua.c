#include "palisade_lua.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

// MARK: Allocator

static void *px_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    px_memory *memory = (px_memory *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        memory->used -= old;
        return NULL;
    }
    if (nsize > old && memory->cap > 0 && memory->used - old + nsize > memory->cap) {
        memory->refused = 1;
        return NULL;
    }
    void *block = realloc(ptr, nsize);
    if (block != NULL) memory->used = memory->used - old + nsize;
    return block;
}

lua_State *px_newstate(px_memory *memory) {
    lua_State *L = lua_newstate(px_alloc, memory);
    if (L != NULL) *(void **)lua_getextraspace(L) = NULL;
    return L;
}

// MARK: Budgets

int64_t px_monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

double px_wall_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static void px_count_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    px_budget *budget = *(px_budget **)lua_getextraspace(L);
    if (budget == NULL) return;
    budget->instructions_left -= PX_HOOK_STEP;
    if (budget->instructions_left <= 0) {
        budget->exceeded = 1;
        luaL_error(L, "instruction budget exceeded");
    }
    if (budget->deadline_ns != 0 && px_monotonic_ns() > budget->deadline_ns) {
        budget->exceeded = 2;
        luaL_error(L, "deadline exceeded");
    }
}

void px_set_budget(lua_State *co, px_budget *budget) {
    *(px_budget **)lua_getextraspace(co) = budget;
    lua_sethook(co, budget ? px_count_hook : NULL, budget ? LUA_MASKCOUNT : 0, PX_HOOK_STEP);
}

static int px_chain_step(lua_State *L) {
    px_budget *budget = *(px_budget **)lua_getextraspace(L);
    lua_Integer module = luaL_checkinteger(L, 1);
    if (budget == NULL) return 0;
    budget->module = (int)module;
    budget->instructions_left = budget->module_instructions;
    if (budget->module_span_ns > 0) budget->deadline_ns = px_monotonic_ns() + budget->module_span_ns;
    return 0;
}

void px_push_chain_step(lua_State *L) { lua_pushcfunction(L, px_chain_step); }

// MARK: Host functions

static px_dispatch_fn px_dispatch = NULL;

void px_set_dispatch(px_dispatch_fn fn) { px_dispatch = fn; }

static int px_trampoline(lua_State *L) {
    void *vm = lua_touserdata(L, lua_upvalueindex(1));
    int id = (int)lua_tointeger(L, lua_upvalueindex(2));
    int results = px_dispatch(L, vm, id);
    // The Swift frame has returned: raising or yielding here longjmps through C only.
    if (results == PX_RAISE) return lua_error(L);
    if (results == PX_YIELD) return lua_yield(L, 0);
    return results;
}

void px_push_host_function(lua_State *L, void *vm, int id) {
    lua_pushlightuserdata(L, vm);
    lua_pushinteger(L, id);
    lua_pushcclosure(L, px_trampoline, 2);
}

// MARK: Loading

int px_load_text(lua_State *L, const char *code, size_t size, const char *chunkname) {
    return luaL_loadbufferx(L, code, size, chunkname, "t");
}

int px_error_position(lua_State *L) {
    // Errors raised with error("...") already carry "file:line:"; keep the message as is.
    if (!lua_isstring(L, 1)) {
        luaL_tolstring(L, 1, NULL);
    } else {
        lua_pushvalue(L, 1);
    }
    return 1;
}
