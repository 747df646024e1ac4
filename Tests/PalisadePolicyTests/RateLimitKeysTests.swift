import CPalisadeShims
import PalisadeJSON
import Testing

@testable import PalisadePolicy

/// `px.ratelimit.hit` finds its keys through `RateLimitKeys`; the counts must not depend on it.
@Suite struct RateLimitKeysTests {
    let harness = LuaHarness()

    /// Runs `body` (Lua statements ending in a return) as a hook and answers its results.
    private func run(_ body: String) throws -> [JSONValue] {
        let runtime = try harness.runtime([
            (
                "m",
                """
                local px = require "palisade"
                local function allowed(key, limit) return (px.ratelimit.hit(key, limit, 60)) end
                return { selftest = function() \(body) end }
                """
            )
        ])
        return try harness.call(runtime, .selftest, [])
    }

    @Test func oneKeyStringIsOneCounter() throws {
        let answers = try run(
            """
            local key = "rl:user:" .. "u1" -- made at run time: a string of its own, equal to the literal
            return allowed("rl:user:u1", 2), allowed(key, 2), allowed("rl:user:u1", 2), allowed("rl:user:u2", 2)
            """)
        #expect(answers == [.bool(true), .bool(true), .bool(false), .bool(true)])
    }

    @Test func longKeysAreCountedTogetherToo() throws {
        // Lua interns strings up to 40 bytes only; a longer key is a new object each time it is made.
        let answers = try run(
            """
            local function key() return "rl:" .. string.rep("x", 60) end
            return allowed(key(), 2), allowed(key(), 2), allowed(key(), 2)
            """)
        #expect(answers == [.bool(true), .bool(true), .bool(false)])
    }

    /// Keys are remembered by their string's address. A string equal to a known key but made
    /// anew is found by its content; once it is collected, its address may come back as another
    /// key's string, which must not find the first key's counter.
    @Test func aReusedStringAddressIsNotTakenForAnotherKey() throws {
        let answers = try run(
            """
            local base = string.rep("y", 50) -- long keys: each made string is an object of its own
            for n = 1, 400 do
              if not allowed("rl:" .. base .. n, 2) then return n end -- the first hit of a new key
              local again = "rl:" .. base .. n -- equal, another object, soon garbage
              allowed(again, 2)
              again = nil
              for _ = 1, 200 do local garbage = {} end -- the collector runs as garbage is made
            end
            return 0
            """)
        #expect(answers == [.number("0")])
    }

    @Test func countsSurviveTheKeysBeingForgotten() throws {
        let answers = try run(
            """
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
        let answers = try run(
            """
            return pcall(px.ratelimit.hit, 42, 1, 60)
            """)
        #expect(answers.first == .bool(false))
        guard case .string(let message)? = answers.last else { return #expect(Bool(false), "no error message") }
        #expect(message.contains("needs a key"))
    }
}
