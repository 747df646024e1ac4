import NIOCore
import PalisadeJSON
import PalisadeState
import Testing

@testable import PalisadePolicy

/// `px.store.hset/hget/hdel/hgetall` from Lua: prefixed keys, waiting on a slow backend, the
/// bounded `hgetall`, and argument errors.
@Suite struct StoreHashTests {
    let harness = LuaHarness()

    @Test func hashCallsWaitForTheStoreAndUseThePrefixedKey() throws {
        let store = SlowStore(delay: .milliseconds(10))
        let runtime = try harness.runtime(
            [
                (
                    "m",
                    """
                    local px = require "palisade"
                    return { selftest = function()
                      local new = px.store.hset("pool", "s1", '{"id":"u1"}')
                      local again = px.store.hset("pool", "s1", '{"id":"u2"}')
                      px.store.hset("pool", "s2", 5)
                      px.store.hset("pool", "s3", "x")
                      local all = px.store.hgetall("pool")
                      local removed = px.store.hdel("pool", "s3", "missing")
                      return new, again, px.store.hget("pool", "s1"), all.s2, all.s3, removed,
                        px.store.hget("pool", "s3"), px.store.hget("nothing", "f"), next(px.store.hgetall("nothing")) == nil
                    end }
                    """
                )
            ], store: store)
        let started = NIODeadline.now()
        let results = try harness.call(runtime, .selftest, [])
        #expect(
            results == [
                .bool(true), .bool(false), .string(#"{"id":"u2"}"#), .string("5.0"), .string("x"), .number("1"), .null, .null, .bool(true),
            ])
        #expect(NIODeadline.now() - started >= .milliseconds(90), "each of the ten calls waited for the store")
        let stored = try store.inner.hgetall("palisade:pool", maxFields: 10, on: harness.loop).wait()
        #expect(Set(stored) == [HashField("s1", #"{"id":"u2"}"#), HashField("s2", "5.0")], "keys carry the prefix")
    }

    @Test func hgetallOfAHashPastTheBoundIsAnError() throws {
        let store = MemoryStateStore()
        for index in 0...PalisadeModule.maxHashFields {
            _ = try store.hset("palisade:big", field: "f\(index)", to: "v", on: harness.loop).wait()
        }
        let runtime = try harness.runtime(
            [
                (
                    "m",
                    """
                    local px = require "palisade"
                    return { selftest = function()
                      local all, err = px.store.hgetall("big")
                      px.store.hdel("big", "f0")
                      local count = 0
                      for _ in pairs(px.store.hgetall("big")) do count = count + 1 end
                      return all, err, count
                    end }
                    """
                )
            ], store: store)
        let results = try harness.call(runtime, .selftest, [])
        #expect(results.count == 3)
        #expect(results.first == .null)
        guard case .string(let message) = results[1] else {
            Issue.record("no error message: \(results)")
            return
        }
        #expect(message.contains("tooLarge") && message.contains("10000"))
        #expect(results[2] == .number("10000"), "at the bound the hash is returned whole")
    }

    @Test func hashCallsOnAStringKeyFailAndBadArgumentsRaise() throws {
        let runtime = try harness.runtime(
            [
                (
                    "m",
                    """
                    local px = require "palisade"
                    return { selftest = function()
                      px.store.set("plain", "1")
                      local ok, err = px.store.hset("plain", "f", "v")
                      local raised = not pcall(px.store.hdel, "pool")
                      local raised_set = not pcall(px.store.hset, "pool", "f")
                      return ok, err, raised, raised_set
                    end }
                    """
                )
            ])
        let results = try harness.call(runtime, .selftest, [])
        #expect(results.first == .null)
        #expect(results.count == 4 && results[2] == .bool(true) && results[3] == .bool(true))
        if case .string(let message) = results[1] { #expect(message.contains("wrongType")) } else { Issue.record("\(results)") }
    }
}
