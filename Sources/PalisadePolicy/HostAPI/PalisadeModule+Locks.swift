import CLua
import CPalisadeShims
import NIOCore
import PalisadeState

/// `px.lock.acquire/release/write`: locks shared by every loop and, with Redis, every process,
/// in redis-py's `Lock` form (`{prefix}:{name}` holds the holder's random token, with a TTL), so
/// Palisade and Open WebUI's backend take turns on the same names
/// (`chat:{id}:presence:lock`, `encryption:{…}:lock`).
extension PalisadeModule {
    /// How often a waiting `acquire` tries again (redis-py's default `sleep` is 0.1 s).
    static let lockRetryInterval = TimeAmount.milliseconds(50)

    static func installLocks(in runtime: LuaRuntime, host: PolicyHost) {
        let vm = runtime.vm
        px_newtable(vm.L)
        // px.lock.acquire(name[, ttl_s[, wait_s]]) → token, or nil, "busy"
        vm.setFunction("acquire", inTableAt: -1) { state in
            guard let name = LuaStack.optionalString(state, 1) else {
                return LuaStack.raise(state, "px.lock.acquire(name[, ttl_s[, wait_s]]) needs a name")
            }
            let ttl = LuaStack.optionalNumber(state, 2) ?? 10
            let wait = LuaStack.optionalNumber(state, 3) ?? 0
            guard let call = runtime.activeCall(state) else { return LuaStack.raise(state, "px.lock can only run inside a hook") }
            // Gives up a tenth before the hook's deadline, so the script sees the refusal.
            let left = call.remainingTime
            let waitFor = min(seconds(max(0, wait)), left - .nanoseconds(left.nanoseconds / 10))
            let token = RandomToken.hex(bytes: 16)
            let taken = acquire(
                host.store, key: host.storeKey(name), token: token, ttl: ttl, until: .now() + waitFor, on: runtime.loop)
            return suspend(runtime, state, taken) { state, taken in
                guard taken else { return LuaStack.failure(state, "busy") }
                LuaBridge.pushString(token, state)
                return 1
            }
        }
        // px.lock.release(name, token) → true when this token held it
        vm.setFunction("release", inTableAt: -1) { state in
            guard let name = LuaStack.optionalString(state, 1), let token = LuaStack.optionalString(state, 2) else {
                return LuaStack.raise(state, "px.lock.release(name, token) needs a name and a token")
            }
            let key = host.storeKey(name)
            let released = host.store.writeIfHeld(guardKey: key, expected: token, key: key, value: nil, ttl: nil, on: runtime.loop)
            return suspend(runtime, state, released, push: pushBoolean)
        }
        // px.lock.write(name, token, key, value[, ttl_s]) → true when written while the lock was held
        vm.setFunction("write", inTableAt: -1) { state in
            guard let name = LuaStack.optionalString(state, 1), let token = LuaStack.optionalString(state, 2),
                let key = LuaStack.optionalString(state, 3)
            else {
                return LuaStack.raise(state, "px.lock.write(name, token, key, value[, ttl_s]) needs a name, a token and a key")
            }
            let value = storeValue(state, at: 4)
            guard value != nil || px_isnoneornil(state, 4) != 0 else {
                return LuaStack.raise(state, "px.lock.write: the value is a string, a number or nil (nil deletes the key)")
            }
            let written = host.store.writeIfHeld(
                guardKey: host.storeKey(name), expected: token, key: host.storeKey(key), value: value,
                ttl: LuaStack.optionalNumber(state, 5), on: runtime.loop)
            return suspend(runtime, state, written, push: pushBoolean)
        }
        lua_setfield(vm.L, -2, "lock")
    }

    /// Tries to take `key` until it is taken or `deadline` passes.
    private static func acquire(
        _ store: any StateStore, key: String, token: String, ttl: Double, until deadline: NIODeadline, on loop: any EventLoop
    ) -> EventLoopFuture<Bool> {
        store.setIfAbsent(key, to: token, ttl: ttl, on: loop).flatMap { taken in
            guard !taken, NIODeadline.now() + lockRetryInterval < deadline else { return loop.makeSucceededFuture(taken) }
            return loop.scheduleTask(in: lockRetryInterval) {}.futureResult.flatMap {
                acquire(store, key: key, token: token, ttl: ttl, until: deadline, on: loop)
            }
        }
    }

    private static func pushBoolean(_ state: OpaquePointer, _ value: Bool) -> Int32 {
        lua_pushboolean(state, value ? 1 : 0)
        return 1
    }
}
