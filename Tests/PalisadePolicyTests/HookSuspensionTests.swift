import NIOCore
import PalisadeState
import Testing

@testable import PalisadePolicy

/// A store whose answers arrive later, as Redis's would: hooks must yield and be resumed.
struct SlowStore: StateStore {
    let delay: TimeAmount
    let inner = MemoryStateStore()

    private func later<Value: Sendable>(_ future: EventLoopFuture<Value>, on loop: any EventLoop) -> EventLoopFuture<Value> {
        loop.scheduleTask(in: delay) {}.futureResult.flatMap { future }
    }

    func get(_ key: String, on loop: any EventLoop) -> EventLoopFuture<String?> { later(inner.get(key, on: loop), on: loop) }
    func set(_ key: String, to value: String, ttl: Double?, on loop: any EventLoop) -> EventLoopFuture<Void> {
        later(inner.set(key, to: value, ttl: ttl, on: loop), on: loop)
    }
    func incr(_ key: String, by delta: Int64, ttl: Double?, on loop: any EventLoop) -> EventLoopFuture<Int64> {
        later(inner.incr(key, by: delta, ttl: ttl, on: loop), on: loop)
    }
    func del(_ key: String, on loop: any EventLoop) -> EventLoopFuture<Bool> { later(inner.del(key, on: loop), on: loop) }
    func hset(_ key: String, field: String, to value: String, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        later(inner.hset(key, field: field, to: value, on: loop), on: loop)
    }
    func hget(_ key: String, field: String, on loop: any EventLoop) -> EventLoopFuture<String?> {
        later(inner.hget(key, field: field, on: loop), on: loop)
    }
    func hdel(_ key: String, fields: [String], on loop: any EventLoop) -> EventLoopFuture<Int> {
        later(inner.hdel(key, fields: fields, on: loop), on: loop)
    }
    func hgetall(_ key: String, maxFields: Int, on loop: any EventLoop) -> EventLoopFuture<[HashField]> {
        later(inner.hgetall(key, maxFields: maxFields, on: loop), on: loop)
    }
    func hscan(_ key: String, cursor: String, count: Int, on loop: any EventLoop) -> EventLoopFuture<HashScanPage> {
        later(inner.hscan(key, cursor: cursor, count: count, on: loop), on: loop)
    }
    func setIfAbsent(_ key: String, to value: String, ttl: Double, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        later(inner.setIfAbsent(key, to: value, ttl: ttl, on: loop), on: loop)
    }
    func writeIfHeld(
        guardKey: String, expected: String, key: String, value: String?, ttl: Double?, on loop: any EventLoop
    ) -> EventLoopFuture<Bool> {
        later(inner.writeIfHeld(guardKey: guardKey, expected: expected, key: key, value: value, ttl: ttl, on: loop), on: loop)
    }
}

@Suite struct HookSuspensionTests {
    let harness = LuaHarness()

    @Test func hookWaitingForIOIsSuspendedAndResumedWithTheAnswer() throws {
        let runtime = try harness.runtime(
            [
                (
                    "m",
                    """
                    local px = require "palisade"
                    return { selftest = function(key)
                      px.store.set(key, "v1")
                      local n1 = px.store.incr(key .. ":n")
                      local n2 = px.store.incr(key .. ":n")
                      return px.store.get(key), n1, n2, px.store.get("missing")
                    end }
                    """
                )
            ], store: SlowStore(delay: .milliseconds(20)))
        let started = NIODeadline.now()
        let results = try harness.call(runtime, .selftest, [.string("k")])
        #expect(results == [.string("v1"), .number("1"), .number("2"), .null])
        #expect(NIODeadline.now() - started >= .milliseconds(80), "five store calls of 20 ms each ran one after another")
    }

    @Test func otherHooksRunWhileOneWaitsForIO() throws {
        let runtime = try harness.runtime(
            [
                (
                    "m",
                    """
                    local px = require "palisade"
                    return { selftest = function(mode)
                      if mode == "slow" then return px.store.get("x") end
                      return "fast"
                    end }
                    """
                )
            ], store: SlowStore(delay: .milliseconds(100)))
        let loop = harness.loop
        let slow = loop.flatSubmit {
            runtime.value.call(runtime.value.hooks[.selftest]![0].function) { state in
                LuaBridge.push(.string("slow"), state)
                return 1
            }
        }
        let fast = try harness.call(runtime, .selftest, [.string("fast")])
        #expect(fast == [.string("fast")])
        #expect(try slow.wait() == [.null])
    }

    @Test func deadlineCountsTimeSpentWaitingForIO() throws {
        let runtime = try harness.runtime(
            [
                (
                    "m",
                    """
                    local px = require "palisade"
                    return { selftest = function() return px.store.get("x") end }
                    """
                )
            ], limits: HookLimits(instructions: 1_000_000, deadline: .milliseconds(50)), store: SlowStore(delay: .milliseconds(500)))
        #expect { try harness.call(runtime, .selftest, []) } throws: { ($0 as? HookError)?.kind == .deadline }
    }
}
