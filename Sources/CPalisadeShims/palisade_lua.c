#define _GNU_SOURCE // pthread_setname_np
#include "palisade_lua.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// MARK: Allocator
//
// Lua allocates and frees small blocks all the time (an event's argument tables, strings,
// the collector freeing them in bursts), and tells the allocator every block's size when
// it frees or resizes it. So small blocks need no header: a class's free list is enough,
// and a block comes back from it in a few instructions. glibc's per-thread cache keeps
// only 7 blocks of a size; past that (a sweep frees hundreds) its slow paths take hundreds of
// instructions per allocation.

/// The class of a block of `size` bytes; -1 for blocks malloc keeps (and for 0).
static inline int px_class(size_t size) {
    return size - 1 < PX_POOL_MAX ? (int)((size - 1) / PX_POOL_GRAIN) : -1;
}

static inline size_t px_class_size(int class) { return (size_t)(class + 1) * PX_POOL_GRAIN; }

static void *px_block_take(px_memory *memory, size_t size) {
    int class = px_class(size);
    if (class < 0) return malloc(size);
    void *block = memory->pool[class];
    if (block == NULL) return malloc(px_class_size(class));
    memory->pool[class] = *(void **)block;
    memory->pooled[class] -= 1;
    return block;
}

static void px_block_give(px_memory *memory, void *block, size_t size) {
    int class = px_class(size);
    if (class < 0 || memory->pooled[class] >= PX_POOL_KEEP_BYTES / px_class_size(class)) {
        free(block);
        return;
    }
    *(void **)block = memory->pool[class];
    memory->pool[class] = block;
    memory->pooled[class] += 1;
}

void *px_memory_alloc(px_memory *memory, void *ptr, size_t osize, size_t nsize) {
    size_t old = ptr ? osize : 0;  // without a block, osize names the kind of object
    if (nsize == 0) {
        if (ptr != NULL) px_block_give(memory, ptr, old);
        memory->used -= old;
        return NULL;
    }
    if (nsize > old && memory->cap > 0 && memory->enforcing > 0 && memory->used - old + nsize > memory->cap) {
        memory->refused = 1;
        return NULL;
    }
    void *block;
    if (ptr == NULL) {
        block = px_block_take(memory, nsize);
    } else if (px_class(old) >= 0 && px_class(old) == px_class(nsize)) {
        block = ptr;  // the block already has room for its class
    } else if (px_class(old) < 0 && px_class(nsize) < 0) {
        block = realloc(ptr, nsize);
    } else {
        block = px_block_take(memory, nsize);
        if (block == NULL) return NULL;  // Lua keeps the old block
        memcpy(block, ptr, old < nsize ? old : nsize);
        px_block_give(memory, ptr, old);
    }
    if (block != NULL) memory->used = memory->used - old + nsize;
    return block;
}

static void *px_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    return px_memory_alloc((px_memory *)ud, ptr, osize, nsize);
}

void px_memory_release(px_memory *memory) {
    for (int class = 0; class < PX_POOL_CLASSES; class++) {
        void *block = memory->pool[class];
        while (block != NULL) {
            void *next = *(void **)block;
            free(block);
            block = next;
        }
        memory->pool[class] = NULL;
        memory->pooled[class] = 0;
    }
}

static px_memory *px_memory_of(lua_State *L) {
    void *memory = NULL;
    lua_getallocf(L, &memory);
    return (px_memory *)memory;
}

int px_over_cap(lua_State *L) {
    px_memory *memory = px_memory_of(L);
    if (memory->cap == 0 || memory->used <= memory->cap) {
        memory->over_after_collecting = 0;
        return 0;
    }
    // Garbage of earlier calls counts until a collection: Lua collects at once when it is
    // refused an allocation, but what Swift pushes is never refused, so collect here, once
    // for as long as what is live stays past the cap (a push checks at every container).
    if (!memory->over_after_collecting) {
        lua_gc(L, LUA_GCCOLLECT);
        memory->over_after_collecting = memory->used > memory->cap;
    }
    return memory->used > memory->cap;
}

void px_recheck_cap(lua_State *L) { px_memory_of(L)->over_after_collecting = 0; }

int px_resume(lua_State *co, int nargs, int *nresults) {
    px_memory *memory = px_memory_of(co);
    memory->enforcing += 1;
    int status = lua_resume(co, NULL, nargs, nresults);
    memory->enforcing -= 1;
    return status;
}

int px_pcall(lua_State *L, int nargs, int nresults, int msgh) {
    px_memory *memory = px_memory_of(L);
    memory->enforcing += 1;
    int status = lua_pcall(L, nargs, nresults, msgh);
    memory->enforcing -= 1;
    return status;
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

void px_attach_budget(lua_State *co, px_budget *budget) {
    *(px_budget **)lua_getextraspace(co) = budget;
    if (lua_gethook(co) != NULL) lua_sethook(co, NULL, 0, 0);
}

// MARK: Watched calls
//
// Each thread that runs watched calls has a px_watch, on a list the watchdog thread walks
// every PX_WATCH_TICK_NS (PX_WATCH_IDLE_NS while nothing runs). A call running longer than
// its arm_after_ns gets PX_WATCH_SIGNAL sent to its thread; the handler, on that thread,
// sets the count hook on the coroutine
// being resumed there. Only that thread ever touches its Lua states, and a signal that
// comes late (the call ended, another began) at worst arms a call early.

#define PX_WATCH_SIGNAL SIGURG
#define PX_WATCH_TICK_NS 1000000
#define PX_WATCH_IDLE_NS 20000000

typedef struct px_watch {
    _Atomic(lua_State *) running;
    _Atomic int64_t started_ns;
    _Atomic int64_t arm_after_ns;
    _Atomic int armed;
    int alive;                 // under px_watch_lock
    pthread_t thread;
    struct px_watch *next;     // under px_watch_lock
} px_watch;

static __thread px_watch *px_this_watch;
static px_watch *px_watches;   // under px_watch_lock
static pthread_mutex_t px_watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t px_watch_once = PTHREAD_ONCE_INIT;
static pthread_key_t px_watch_key;

static void px_on_watch_signal(int signal_number) {
    (void)signal_number;
    px_watch *watch = px_this_watch;
    if (watch == NULL) return;
    lua_State *co = atomic_load(&watch->running);
    if (co == NULL || atomic_load(&watch->armed)) return;
    lua_sethook(co, px_count_hook, LUA_MASKCOUNT, PX_HOOK_STEP);
    atomic_store(&watch->armed, 1);
}

static void *px_watchdog(void *unused) {
    (void)unused;
    pthread_setname_np(pthread_self(), "palisade-watch");
    int busy = 0;
    for (;;) {
        // Every PX_WATCH_TICK_NS while calls are seen running, every PX_WATCH_IDLE_NS when
        // none was at the last look (an idle server wakes this thread 50 times a second).
        struct timespec tick = { 0, busy ? PX_WATCH_TICK_NS : PX_WATCH_IDLE_NS };
        nanosleep(&tick, NULL);
        int64_t now = px_monotonic_ns();
        busy = 0;
        pthread_mutex_lock(&px_watch_lock);
        for (px_watch *watch = px_watches; watch != NULL; watch = watch->next) {
            if (!watch->alive || atomic_load(&watch->running) == NULL) continue;
            busy = 1;
            if (atomic_load(&watch->armed)) continue;
            if (now - atomic_load(&watch->started_ns) < atomic_load(&watch->arm_after_ns)) continue;
            pthread_kill(watch->thread, PX_WATCH_SIGNAL);
        }
        pthread_mutex_unlock(&px_watch_lock);
    }
    return NULL;
}

/// A thread that ends is skipped from then on (its px_watch stays on the list, unused).
static void px_watch_thread_ended(void *value) {
    px_watch *watch = value;
    pthread_mutex_lock(&px_watch_lock);
    watch->alive = 0;
    atomic_store(&watch->running, NULL);
    pthread_mutex_unlock(&px_watch_lock);
}

static void px_watch_start(void) {
    pthread_key_create(&px_watch_key, px_watch_thread_ended);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = px_on_watch_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(PX_WATCH_SIGNAL, &action, NULL);
    pthread_t watchdog;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_create(&watchdog, &attributes, px_watchdog, NULL);
    pthread_attr_destroy(&attributes);
}

static px_watch *px_watch_of_this_thread(void) {
    if (px_this_watch != NULL) return px_this_watch;
    pthread_once(&px_watch_once, px_watch_start);
    px_watch *watch = calloc(1, sizeof *watch);
    if (watch == NULL) abort();
    watch->thread = pthread_self();
    watch->alive = 1;
    pthread_mutex_lock(&px_watch_lock);
    watch->next = px_watches;
    px_watches = watch;
    pthread_mutex_unlock(&px_watch_lock);
    pthread_setspecific(px_watch_key, watch);
    // Threads made from a dispatch or Swift concurrency thread inherit a mask that blocks
    // most signals; this one must reach us.
    sigset_t watch_signal;
    sigemptyset(&watch_signal);
    sigaddset(&watch_signal, PX_WATCH_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &watch_signal, NULL);
    px_this_watch = watch;
    return watch;
}

px_watch_state px_watch_begin(lua_State *co, int64_t arm_after_ns) {
    px_watch *watch = px_watch_of_this_thread();
    px_watch_state previous = { atomic_load(&watch->running), atomic_load(&watch->started_ns),
                                atomic_load(&watch->arm_after_ns), atomic_load(&watch->armed) };
    atomic_store(&watch->running, NULL);
    atomic_store(&watch->armed, 0);
    atomic_store(&watch->arm_after_ns, arm_after_ns);
    atomic_store(&watch->started_ns, px_monotonic_ns());
    atomic_store(&watch->running, co);
    return previous;
}

void px_watch_end(lua_State *co, px_watch_state previous) {
    px_watch *watch = px_this_watch;
    atomic_store(&watch->running, NULL);
    if (atomic_load(&watch->armed)) lua_sethook(co, NULL, 0, 0);
    atomic_store(&watch->armed, previous.armed);
    atomic_store(&watch->arm_after_ns, previous.arm_after_ns);
    atomic_store(&watch->started_ns, previous.started_ns);
    atomic_store(&watch->running, previous.running);
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

// MARK: Fast built-ins

// Upvalue i + 1 holds the name of type i (LUA_TNIL = 0 … LUA_TTHREAD = 8).
static int px_fast_type(lua_State *L) {
    int t = lua_type(L, 1);
    luaL_argcheck(L, t != LUA_TNONE, 1, "value expected");
    lua_pushvalue(L, lua_upvalueindex(t + 1));
    return 1;
}

int px_install_fast_type(lua_State *L) {
    for (int t = LUA_TNIL; t < LUA_NUMTYPES; t++) lua_pushstring(L, lua_typename(L, t));
    lua_pushcclosure(L, px_fast_type, LUA_NUMTYPES);
    lua_setglobal(L, "type");
    return 1;
}

static int px_now(lua_State *L) {
    lua_pushnumber(L, px_wall_seconds());
    return 1;
}

void px_push_now(lua_State *L) { lua_pushcfunction(L, px_now); }

// MARK: Coroutines made by scripts

// coroutine.resume, in front of Lua's: the resumed coroutine gets the caller's budget and
// count hook, and the watch follows it while it runs, so a loop inside a script's own
// coroutine is stopped like one in the hook itself.
static int px_coroutine_resume(lua_State *L) {
    lua_State *co = lua_tothread(L, 1);
    if (co == NULL) return luaL_typeerror(L, 1, "coroutine");
    *(px_budget **)lua_getextraspace(co) = *(px_budget **)lua_getextraspace(L);
    lua_sethook(co, lua_gethook(L), lua_gethookmask(L), lua_gethookcount(L));
    px_watch *watch = px_this_watch;
    int watched = watch != NULL && atomic_load(&watch->running) == L;
    px_watch_state previous = { NULL, 0, 0, 0 };
    if (watched) previous = px_watch_begin(co, atomic_load(&watch->arm_after_ns));
    int arguments = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1)); // Lua's resume: it catches the coroutine's errors
    lua_insert(L, 1);
    lua_call(L, arguments, LUA_MULTRET);
    if (watched) px_watch_end(co, previous);
    return lua_gettop(L);
}

// coroutine.wrap on top of the guarded resume (Lua's own wrap resumes directly).
static const char px_coroutine_wrap[] =
    "local create, resume = ...\n"
    "local function results(ok, ...)\n"
    "  if ok then return ... end\n"
    "  error((...), 0)\n"
    "end\n"
    "return function(f)\n"
    "  local co = create(f)\n"
    "  return function(...) return results(resume(co, ...)) end\n"
    "end\n";

int px_guard_coroutines(lua_State *L) {
    lua_getglobal(L, "coroutine");
    if (!lua_istable(L, -1)) { lua_pop(L, 1); return 0; }
    lua_getfield(L, -1, "resume");
    lua_pushcclosure(L, px_coroutine_resume, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "resume");
    // stack: coroutine, guarded resume
    if (luaL_loadbufferx(L, px_coroutine_wrap, sizeof px_coroutine_wrap - 1, "=palisade.coroutine", "t") != LUA_OK) {
        lua_pop(L, 3);
        return 0;
    }
    lua_getfield(L, -3, "create");
    lua_pushvalue(L, -3);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) { lua_pop(L, 3); return 0; }
    lua_setfield(L, -3, "wrap");
    lua_pop(L, 2);
    return 1;
}

// MARK: Host functions

static px_dispatch_fn px_dispatch = NULL;

void px_set_dispatch(px_dispatch_fn fn) { px_dispatch = fn; }

static int px_trampoline(lua_State *L) {
    void *vm = lua_touserdata(L, lua_upvalueindex(1));
    int id = (int)lua_tointeger(L, lua_upvalueindex(2));
    // A refused allocation inside the Swift function would longjmp across its frame: the cap
    // waits until it returns, and a function that went past it fails then.
    px_memory *memory = px_memory_of(L);
    int enforcing = memory->enforcing;
    memory->enforcing = 0;
    int results = px_dispatch(L, vm, id);
    memory->enforcing = enforcing;
    // The Swift frame has returned: raising or yielding here longjmps through C only.
    if (enforcing > 0 && px_over_cap(L)) {
        memory->refused = 1;
        lua_settop(L, 0);  // the results: room for the message
        return luaL_error(L, "not enough memory (a host function's result passed the VM's memory cap)");
    }
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
