import CLua
import CPalisadeShims
import NIOCore
import PalisadeState

/// `px.store.get/set/incr/del` (hashes: `PalisadeModule+Hashes`) and `px.ratelimit.hit`: shared across connections and
/// loops, asynchronous (the hook's coroutine waits; the loop does not).
extension PalisadeModule {
    /// The option's name as static C memory (a Swift string literal passed as `const char *`
    /// can be copied into a temporary array on every call).
    private static let countRefusedName = LuaName("count_refused")

    static func installState(in runtime: LuaRuntime, host: PolicyHost) {
        let vm = runtime.vm
        let L = vm.L
        px_newtable(L)
        vm.setFunction("get", inTableAt: -1) { state in
            guard let key = LuaStack.optionalString(state, 1) else { return LuaStack.raise(state, "px.store.get(key) needs a key") }
            let push: (OpaquePointer, String?) -> Int32 = { state, value in
                if let value { LuaBridge.pushString(value, state) } else { lua_pushnil(state) }
                return 1
            }
            let storeKey = host.storeKey(key)
            if let value = host.store.getNow(storeKey) { return push(state, value) }
            return suspend(runtime, state, host.store.get(storeKey, on: runtime.loop), push: push)
        }
        vm.setFunction("set", inTableAt: -1) { state in
            guard let key = LuaStack.optionalString(state, 1), let value = storeValue(state, at: 2) else {
                return LuaStack.raise(state, "px.store.set(key, value[, ttl_s]) needs a key and a string value")
            }
            let ttl = LuaStack.optionalNumber(state, 3)
            return suspend(runtime, state, host.store.set(host.storeKey(key), to: value, ttl: ttl, on: runtime.loop)) { state, _ in
                lua_pushboolean(state, 1)
                return 1
            }
        }
        vm.setFunction("incr", inTableAt: -1) { state in
            guard let key = LuaStack.optionalString(state, 1) else {
                return LuaStack.raise(state, "px.store.incr(key[, ttl_s[, by]]) needs a key")
            }
            let ttl = LuaStack.optionalNumber(state, 2)
            var delta: Int64 = 1
            if let by = LuaStack.optionalNumber(state, 3) {
                guard by == by.rounded(), abs(by) < 9e15 else {
                    return LuaStack.raise(state, "px.store.incr: `by` is an integer")
                }
                delta = Int64(by)
            }
            return suspend(runtime, state, host.store.incr(host.storeKey(key), by: delta, ttl: ttl, on: runtime.loop)) { state, value in
                lua_pushinteger(state, value)
                return 1
            }
        }
        vm.setFunction("del", inTableAt: -1) { state in
            guard let key = LuaStack.optionalString(state, 1) else { return LuaStack.raise(state, "px.store.del(key) needs a key") }
            return suspend(runtime, state, host.store.del(host.storeKey(key), on: runtime.loop)) { state, existed in
                lua_pushboolean(state, existed ? 1 : 0)
                return 1
            }
        }
        installHashes(in: runtime, host: host)
        lua_setfield(L, -2, "store")

        px_newtable(L)
        let rateLimitKeys = RateLimitKeys(prefix: host.rateLimitKeyPrefix)
        // px.ratelimit.hit(key, limit, window_s[, bucket_s[, {count_refused = bool}]]) → allowed, remaining, retry_after
        vm.setFunction("hit", inTableAt: -1) { state in
            guard let key = rateLimitKeys.key(state, at: 1), let limit = LuaStack.optionalNumber(state, 2),
                let window = LuaStack.optionalNumber(state, 3)
            else {
                return LuaStack.raise(
                    state, "px.ratelimit.hit(key, limit, window_s[, bucket_s[, options]]) needs a key, a limit and a window")
            }
            let bucket = LuaStack.optionalNumber(state, 4)
            var countRefused = true
            if px_istable(state, 5) != 0 {
                lua_getfield(state, 5, Self.countRefusedName.cString)
                if lua_type(state, -1) == LUA_TBOOLEAN { countRefused = lua_toboolean(state, -1) != 0 }
                px_pop(state, 1)
            }
            let push: (OpaquePointer, RateLimitResult) -> Int32 = { state, result in
                lua_pushboolean(state, result.allowed ? 1 : 0)
                lua_pushinteger(state, lua_Integer(result.remaining))
                lua_pushnumber(state, result.retryAfter)
                return 3
            }
            do {
                if let result = try host.rateLimiter.hitNow(
                    key, limit: Int(limit), window: window, bucket: bucket,
                    countRefused: countRefused)
                {
                    return push(state, result)
                }
            } catch {
                return LuaStack.failure(state, "\(error)")
            }
            let hit = host.rateLimiter.hit(
                key.string, limit: Int(limit), window: window, bucket: bucket,
                countRefused: countRefused, on: runtime.loop)
            return suspend(runtime, state, hit, push: push)
        }
        lua_setfield(L, -2, "ratelimit")
    }

    /// A value `px.store` stores: a string, or a number as its text (`5` as `"5.0"`).
    static func storeValue(_ state: OpaquePointer, at index: Int32) -> String? {
        LuaStack.optionalString(state, index) ?? LuaStack.optionalNumber(state, index).map { "\($0)" }
    }

    /// Suspends the calling hook until `operation` completes; a failure raises in Lua.
    static func suspend<Value: Sendable>(
        _ runtime: LuaRuntime, _ state: OpaquePointer, _ operation: EventLoopFuture<Value>,
        push: @escaping (OpaquePointer, Value) -> Int32
    ) -> Int32 {
        guard let call = runtime.activeCall(state) else {
            return LuaStack.raise(state, "this function needs I/O and can only run inside a hook")
        }
        return call.suspend(on: operation) { state, result in
            switch result {
            case .success(let value): return push(state, value)
            case .failure(let error): return LuaStack.failure(state, "\(error)")
            }
        }
    }
}
