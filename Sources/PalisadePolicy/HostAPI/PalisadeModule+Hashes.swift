import CLua
import CPalisadeShims
import NIOCore
import PalisadeState

/// `px.store.hset/hget/hdel/hgetall`: hashes under the same `{prefix}:` keys as the other
/// `px.store` calls (so `px.store.hset("session_pool", sid, json)` writes Open WebUI's
/// `{prefix}:session_pool`). Each waits for its backend like the string calls.
extension PalisadeModule {
    /// The most fields `px.store.hgetall` returns; a larger hash gives `nil, err`, so one call
    /// cannot pull an unbounded hash into a hook's memory.
    static let maxHashFields = 10_000

    /// Adds the hash functions to the `px.store` table on top of the stack.
    static func installHashes(in runtime: LuaRuntime, host: PolicyHost) {
        let vm = runtime.vm
        vm.setFunction("hset", inTableAt: -1) { state in
            guard let key = LuaStack.optionalString(state, 1), let field = LuaStack.optionalString(state, 2),
                let value = storeValue(state, at: 3)
            else {
                return LuaStack.raise(state, "px.store.hset(key, field, value) needs a key, a field and a string value")
            }
            return suspend(runtime, state, host.store.hset(host.storeKey(key), field: field, to: value, on: runtime.loop)) { state, added in
                lua_pushboolean(state, added ? 1 : 0)
                return 1
            }
        }
        vm.setFunction("hget", inTableAt: -1) { state in
            guard let key = LuaStack.optionalString(state, 1), let field = LuaStack.optionalString(state, 2) else {
                return LuaStack.raise(state, "px.store.hget(key, field) needs a key and a field")
            }
            return suspend(runtime, state, host.store.hget(host.storeKey(key), field: field, on: runtime.loop)) { state, value in
                if let value { LuaBridge.pushString(value, state) } else { lua_pushnil(state) }
                return 1
            }
        }
        vm.setFunction("hdel", inTableAt: -1) { state in
            let count = lua_gettop(state)
            guard let key = LuaStack.optionalString(state, 1), count >= 2 else {
                return LuaStack.raise(state, "px.store.hdel(key, field, ...) needs a key and at least one field")
            }
            var fields: [String] = []
            for index in 2...count {
                guard let field = LuaStack.optionalString(state, index) else {
                    return LuaStack.raise(state, "px.store.hdel(key, field, ...): every field is a string")
                }
                fields.append(field)
            }
            return suspend(runtime, state, host.store.hdel(host.storeKey(key), fields: fields, on: runtime.loop)) { state, removed in
                lua_pushinteger(state, lua_Integer(removed))
                return 1
            }
        }
        vm.setFunction("hgetall", inTableAt: -1) { state in
            guard let key = LuaStack.optionalString(state, 1) else { return LuaStack.raise(state, "px.store.hgetall(key) needs a key") }
            let all = host.store.hgetall(host.storeKey(key), maxFields: maxHashFields, on: runtime.loop)
            return suspend(runtime, state, all) { state, fields in
                lua_createtable(state, 0, Int32(fields.count))
                for entry in fields {
                    LuaBridge.pushString(entry.field, state)
                    LuaBridge.pushString(entry.value, state)
                    lua_rawset(state, -3)
                }
                return 1
            }
        }
    }
}
