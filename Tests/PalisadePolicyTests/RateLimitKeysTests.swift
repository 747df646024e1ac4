import PalisadeProtocol
import Testing

@testable import PalisadePolicy

/// `px.ratelimit.hit` finds its keys through `RateLimitKeys`; the counts must not depend on it.
@Suite struct RateLimitKeysTests {
    let harness = LuaHarness()

    /// Runs `body` (Lua statements ending in a return) as a hook and answers its results.
    private func run(_ body: String) throws -> [JSONValue] {
        let runtime = try harness.runtime([("m", """
            local px = require "palisade"
            local function allowed(key, limit) return (px.ratelimit.hit(key, limit, 60)) end
            return { selftest = function() \(body) end }
            """)])
        return try harness.call(runtime, .selftest, [])
    }

    @Test func oneKeyStringIsOneCounter() throws {
        let answers = try run("""
            local key = "rl:user:" .. "u1" -- made at run time: a string of its own, equal to the literal
            return allowed("rl:user:u1", 2), allowed(key, 2), allowed("rl:user:u1", 2), allowed("rl:user:u2", 2)
            """)
        #expect(answers == [.bool(true), .bool(true), .bool(false), .bool(true)])
    }

    @Test func longKeysAreCountedTogetherToo() throws {
        // Lua interns strings up to 40 bytes only; a longer key is a new object each time it is made.
        let answers = try run("""
            local function key() return "rl:" .. string.rep("x", 60) end
            return allowed(key(), 2), allowed(key(), 2), allowed(key(), 2)
            """)
        #expect(answers == [.bool(true), .bool(true), .bool(false)])
    }

    @Test func countsSurviveTheKeysBeingForgotten() throws {
        let answers = try run("""
            local first = allowed("rl:kept", 1)
            for n = 1, \(RateLimitKeys.capacity + 10) do allowed("rl:other:" .. n, 1) end
            return first, allowed("rl:kept", 1), allowed("rl:other:1", 1)
            """)
        #expect(answers == [.bool(true), .bool(false), .bool(false)], "the limiter keeps the counts; the keys are made again")
    }

    @Test func aKeyThatIsNotAStringIsAnError() throws {
        let answers = try run("""
            return pcall(px.ratelimit.hit, 42, 1, 60)
            """)
        #expect(answers.first == .bool(false))
        guard case .string(let message)? = answers.last else { return #expect(Bool(false), "no error message") }
        #expect(message.contains("needs a key"))
    }
}
