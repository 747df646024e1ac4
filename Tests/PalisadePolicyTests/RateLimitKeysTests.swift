import CPalisadeShims
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

    /// The bound itself, on `RateLimitKeys` directly: past `capacity` distinct keys it starts
    /// again, and a key made again is the same prefixed key.
    @Test func keysStayWithinTheirCapacity() throws {
        let vm = try LuaVM(memoryCap: 16 << 20)
        let keys = RateLimitKeys(prefix: Array("p:".utf8))
        for n in 0..<(RateLimitKeys.capacity * 2 + 5) {
            LuaBridge.pushString("k\(n)", vm.L)
            #expect(keys.key(vm.L, at: -1)?.string == "p:k\(n)")
            px_pop(vm.L, 1)
            #expect(keys.count <= RateLimitKeys.capacity)
        }
        #expect(keys.count == 5, "emptied twice, then five more")
        LuaBridge.pushString("k0", vm.L)
        #expect(keys.key(vm.L, at: -1)?.string == "p:k0")
        px_pop(vm.L, 1)
    }

    /// A key string found again gives the same `RateLimitKey`, which holds the limiter's window:
    /// a new one per hit would send every hit through the limiter's table and its lock.
    @Test func aKeyFoundAgainIsTheSameObject() throws {
        let vm = try LuaVM(memoryCap: 16 << 20)
        let keys = RateLimitKeys(prefix: Array("p:".utf8))
        LuaBridge.pushString("k", vm.L)
        let first = try #require(keys.key(vm.L, at: -1))
        LuaBridge.pushString("k", vm.L)
        #expect(keys.key(vm.L, at: -1) === first)
        px_pop(vm.L, 2)
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
