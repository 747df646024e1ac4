#ifndef PALISADE_LUA_H
#define PALISADE_LUA_H

// Our own small C for the Lua bridge: wrappers for Lua's macros (they do not import
// into Swift), the trampoline that lets Swift host functions raise or yield without
// a longjmp crossing a Swift frame, the per-call budget hook, and the capped allocator.

#include <stddef.h>
#include <stdint.h>
#include <lua5.4/lua.h>
#include <lua5.4/lualib.h>
#include <lua5.4/lauxlib.h>

// MARK: Allocator with a memory cap (one per VM)

// Blocks of up to PX_POOL_MAX bytes are sized in classes of PX_POOL_GRAIN bytes, and a freed
// one waits on its class's free list for the next allocation of that class (up to
// PX_POOL_KEEP_BYTES per class; past that it goes back to malloc).
#define PX_POOL_GRAIN 16
#define PX_POOL_MAX 512
#define PX_POOL_CLASSES (PX_POOL_MAX / PX_POOL_GRAIN)
#define PX_POOL_KEEP_BYTES 32768

typedef struct px_memory {
    size_t used;                       // bytes Lua holds (as it asked for them)
    size_t cap;
    int refused;                       // set when an allocation was refused for the cap
    // The cap is enforced only while Lua code runs in protected mode (px_resume, px_pcall) and
    // not inside a host function: a refusal raises a Lua error, which anywhere else would
    // abort the process (no protected call to catch it) or longjmp across a Swift frame.
    // Swift code that pushes values bounds its own overshoot with px_over_cap.
    int enforcing;
    int over_after_collecting;         // px_over_cap collected and found the live data past the cap
    void *pool[PX_POOL_CLASSES];       // free blocks of each class, linked through their first word
    uint32_t pooled[PX_POOL_CLASSES];  // how many wait on each list
} px_memory;

/// A new state whose every allocation is counted against `memory->cap`.
lua_State *px_newstate(px_memory *memory);

/// Gives the blocks waiting on the free lists back to malloc (after `lua_close`).
void px_memory_release(px_memory *memory);

/// True when the VM of `L` (any of its coroutines) holds more than its cap even after a full
/// collection (run only when past it): Swift code that pushes a client's values checks it as
/// it goes, since the cap is not enforced there.
int px_over_cap(lua_State *L);
/// Lets the next px_over_cap collect again (a new hook call: the last one's data may be garbage now).
void px_recheck_cap(lua_State *L);

/// lua_resume and lua_pcall with the memory cap enforced while Lua runs (see px_memory).
int px_resume(lua_State *co, int nargs, int *nresults);
int px_pcall(lua_State *L, int nargs, int nresults, int msgh);

/// The allocator itself, for tests: lua_Alloc's contract, with `memory` as `ud`.
void *px_memory_alloc(px_memory *memory, void *ptr, size_t osize, size_t nsize);

// MARK: Budgets (one per hook call, i.e. per coroutine)

typedef struct px_budget {
    int64_t instructions_left;   // decremented by PX_HOOK_STEP on every count hook
    int64_t deadline_ns;         // CLOCK_MONOTONIC deadline, 0 = none
    int exceeded;                // 1 = instructions, 2 = deadline
    // A chain of modules run in one coroutine gives each module a budget of its own:
    int64_t module_instructions; // what `px_chain_step` resets instructions_left to
    int64_t module_span_ns;      // what `px_chain_step` sets the deadline to, from now (0 = none)
    int module;                  // the 1-based module running, 0 outside a chain
    void *call;                  // the host's object of the hook call (unretained), or NULL
} px_budget;

/// The budget attached to coroutine `L`, or NULL.
static inline px_budget *px_get_budget(lua_State *L) { return *(px_budget **)lua_getextraspace(L); }

/// Instructions between two budget checks.
#define PX_HOOK_STEP 1000

/// Attaches `budget` to coroutine `co` (stored in its extra space) and installs the count hook
/// (nil: detaches it and removes the hook).
void px_set_budget(lua_State *co, px_budget *budget);

/// Attaches `budget` to `co` without the count hook: a watched call (below). Lua's count hook
/// makes the interpreter stop at every instruction, which was half of the cost of running
/// the policies' Lua; almost every call ends long before a budget matters.
void px_attach_budget(lua_State *co, px_budget *budget);

/// Puts `coroutine.resume` and `coroutine.wrap` in front of Lua's so that coroutines a script
/// makes run under the budget of the hook call that resumes them. Returns 1 when done.
int px_guard_coroutines(lua_State *L);

/// Replaces the global `type` with one that answers with type names interned once, as
/// upvalues: Lua's own pushes the name as a C string on every call, which looks it up in
/// the string cache and compares it with strcmp. Policies ask `type` of every value they
/// check. Same results and errors. Returns 1 when done.
int px_install_fast_type(lua_State *L);

/// Pushes a C function returning the wall-clock time in Unix seconds (`px.now`).
void px_push_now(lua_State *L);

/// Pushes `px.json.size(value[, limit[, max_depth]])`: the bytes of `value` as JSON, or nil
/// past `limit` or `max_depth` nested tables (palisade_json_size.c). Policies bound every
/// payload with it; walking the table in C costs a fraction of doing it in Lua.
void px_push_json_size(lua_State *L);

// MARK: Watched calls

/// What `px_watch_begin` replaced on this thread, for `px_watch_end` to put back (a hook
/// call can start another one on the same thread, e.g. `conn:join` asking `authorize`).
typedef struct px_watch_state {
    lua_State *running;
    int64_t started_ns;
    int64_t arm_after_ns;
    int armed;
} px_watch_state;

/// Marks `co` as running on this thread from now. If it is still running after
/// `arm_after_ns`, a watchdog thread signals this thread, whose handler installs the count
/// hook on `co` (lua_sethook is made to be called from a signal handler): from then on the
/// budget's instructions and deadline are enforced as for `px_set_budget`.
px_watch_state px_watch_begin(lua_State *co, int64_t arm_after_ns);
/// `co` stopped running (returned, failed or yielded): removes the hook if it was armed.
void px_watch_end(lua_State *co, px_watch_state previous);
int64_t px_monotonic_ns(void);
/// Pushes `step(i)`, which a chain dispatcher calls before module i: it records i in
/// the coroutine's budget and gives the module a fresh instruction budget and deadline.
void px_push_chain_step(lua_State *L);
/// Unix time in seconds, with fractions (`px.now()`).
double px_wall_seconds(void);

// MARK: Host functions

/// What a Swift host function returns to the trampoline.
#define PX_RAISE (-1)   // error message on top of the stack: raise it
#define PX_YIELD (-2)   // yield the coroutine; the host resumes it with the results later

/// Swift's dispatcher: `vm` and `id` are the closure's upvalues.
typedef int (*px_dispatch_fn)(lua_State *L, void *vm, int id);
void px_set_dispatch(px_dispatch_fn fn);

/// Pushes a C closure that calls host function `id` of `vm` through the trampoline.
void px_push_host_function(lua_State *L, void *vm, int id);

// MARK: Macro wrappers

static inline void px_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void px_newtable(lua_State *L) { lua_newtable(L); }
static inline const char *px_tostring(lua_State *L, int idx) { return lua_tostring(L, idx); }
static inline int px_isnil(lua_State *L, int idx) { return lua_isnil(L, idx); }
static inline int px_isnoneornil(lua_State *L, int idx) { return lua_isnoneornil(L, idx); }
static inline int px_istable(lua_State *L, int idx) { return lua_istable(L, idx); }
static inline int px_isfunction(lua_State *L, int idx) { return lua_isfunction(L, idx); }
static inline int px_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline int px_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline void px_insert(lua_State *L, int idx) { lua_insert(L, idx); }
static inline void px_remove(lua_State *L, int idx) { lua_remove(L, idx); }
static inline void px_replace(lua_State *L, int idx) { lua_replace(L, idx); }
static inline lua_Number px_tonumber(lua_State *L, int idx) { return lua_tonumber(L, idx); }
static inline lua_Integer px_tointeger(lua_State *L, int idx) { return lua_tointeger(L, idx); }
static inline void px_pushliteral(lua_State *L, const char *s) { lua_pushstring(L, s); }
static inline int px_getglobal(lua_State *L, const char *name) { return lua_getglobal(L, name); }
static inline const char *px_typename(lua_State *L, int idx) { return luaL_typename(L, idx); }
static inline int px_getmetatable_named(lua_State *L, const char *name) { return luaL_getmetatable(L, name); }
static inline void *px_getextraspace(lua_State *L) { return lua_getextraspace(L); }

/// Loads a text chunk only (binary chunks are refused), with `env` (at index envIndex) as its _ENV.
int px_load_text(lua_State *L, const char *code, size_t size, const char *chunkname);

/// `traceback`-free message handler that adds file:line of the error's origin.
int px_error_position(lua_State *L);

#endif
