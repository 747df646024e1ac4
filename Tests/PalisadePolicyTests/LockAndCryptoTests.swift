import NIOCore
import PalisadeJSON
import PalisadeState
import Testing

@testable import PalisadePolicy

/// `px.lock.acquire/release/write` from Lua (prefixed names, waiting, the fence), and the small
/// helpers `px.sha256`, `px.base64` and `px.uuid` against known answers.
@Suite struct LockAndCryptoTests {
    let harness = LuaHarness()

    @Test func aLockIsTakenOnceWrittenUnderAndReleased() throws {
        let store = MemoryStateStore()
        let runtime = try harness.runtime(
            [
                (
                    "m",
                    """
                    local px = require "palisade"
                    return { selftest = function()
                      local token = px.lock.acquire("doc:lock", 10)
                      local other, busy = px.lock.acquire("doc:lock", 10)
                      local wrote = px.lock.write("doc:lock", token, "doc", "v1", 60)
                      local refused = px.lock.write("doc:lock", "not-the-token", "doc", "v2")
                      local released = px.lock.release("doc:lock", token)
                      local again = px.lock.release("doc:lock", token)
                      local late = px.lock.write("doc:lock", token, "doc", nil)
                      return #token, other, busy, wrote, refused, px.store.get("doc"), released, again, late,
                        px.lock.acquire("doc:lock") ~= nil
                    end }
                    """
                )
            ], store: store)
        let results = try harness.call(runtime, .selftest, [])
        #expect(
            results == [
                .number("32"), .null, .string("busy"), .bool(true), .bool(false), .string("v1"), .bool(true), .bool(false),
                .bool(false), .bool(true),
            ])
        #expect(try store.get("palisade:doc", on: harness.loop).wait() == "v1", "names and keys carry the prefix")
    }

    @Test func acquireWaitsForARelease() throws {
        let store = MemoryStateStore()
        let runtime = try harness.runtime(
            [
                (
                    "m",
                    """
                    local px = require "palisade"
                    return { selftest = function()
                      local none, err = px.lock.acquire("busy", 10, 0)
                      local token = px.lock.acquire("busy", 10, 1)
                      return none, err, token ~= nil
                    end }
                    """
                )
            ], limits: HookLimits(instructions: 1_000_000, deadline: .seconds(5)), store: store)
        _ = try store.setIfAbsent("palisade:busy", to: "someone", ttl: 0.3, on: harness.loop).wait()
        let started = NIODeadline.now()
        #expect(try harness.call(runtime, .selftest, []) == [.null, .string("busy"), .bool(true)])
        #expect(NIODeadline.now() - started >= .milliseconds(250), "it waited for the other holder's TTL")
    }

    @Test func digestsEncodingsAndIds() throws {
        let runtime = try harness.runtime(
            [
                (
                    "m",
                    """
                    local px = require "palisade"
                    return { selftest = function()
                      local raw = px.base64.decode("AP8Q")
                      local id = px.uuid()
                      return px.sha256(""), px.sha256("abc"), px.base64.encode("hello"), #raw, raw:byte(2),
                        px.base64.decode("aGVsbG8"), px.base64.decode("aGVs bG8="), px.base64.encode(raw),
                        id:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") ~= nil,
                        id ~= px.uuid()
                    end }
                    """
                )
            ])
        #expect(
            try harness.call(runtime, .selftest, []) == [
                .string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                .string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
                .string("aGVsbG8="), .number("3"), .number("255"), .null, .null, .string("AP8Q"), .bool(true), .bool(true),
            ])
    }
}
