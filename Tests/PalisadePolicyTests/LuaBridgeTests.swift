import NIOCore
import PalisadeJSON
import Testing

@testable import PalisadePolicy

/// Values cross the bridge both ways unchanged: a hook that returns its argument.
@Suite struct LuaBridgeTests {
    let harness = LuaHarness()

    private func roundTrip(_ value: JSONValue) throws -> JSONValue {
        let runtime = try harness.runtime([("echo", "return { selftest = function(v) return v end }")])
        defer { harness.shutdown() }
        return try harness.call(runtime, .selftest, [value]).first ?? .null
    }

    @Test func integersStayIntegersAndFloatsStayFloats() throws {
        #expect(try roundTrip(.number("42")) == .number("42"))
        #expect(try roundTrip(.number("-9007199254740993")) == .number("-9007199254740993"))
        #expect(try roundTrip(.number("1.5")) == .number("1.5"))
    }

    @Test func emptyArrayAndEmptyObjectStayDistinct() throws {
        #expect(try roundTrip(.array([])) == .array([]))
        #expect(try roundTrip(.object([])) == .object([]))
        #expect(try roundTrip(.array([.number("1"), .string("a")])) == .array([.number("1"), .string("a")]))
    }

    @Test func nullBoolAndNestedValuesSurvive() throws {
        let value = JSONValue.object(["a": .null, "b": .bool(false), "c": .array([.object(["d": .string("é")])])])
        #expect(try roundTrip(value) == value)
    }

    @Test func binaryStaysBytes() throws {
        let bytes = ByteBuffer(bytes: [0, 1, 2, 255])
        #expect(try roundTrip(.binary(bytes)) == .binary(bytes))
    }

    @Test func bytesHaveALengthInLua() throws {
        let runtime = try harness.runtime([("m", "return { selftest = function(b) return #b end }")])
        defer { harness.shutdown() }
        #expect(try harness.call(runtime, .selftest, [.binary(ByteBuffer(bytes: [1, 2, 3]))]) == [.number("3")])
    }

    @Test func luaSequencesBecomeArraysAndTablesBecomeObjects() throws {
        let runtime = try harness.runtime([
            ("m", "return { selftest = function() return {1, 2, 3}, {x = 1, [2] = true}, 'text', 2.25 end }")
        ])
        defer { harness.shutdown() }
        let results = try harness.call(runtime, .selftest, [])
        #expect(results[0] == .array([.number("1"), .number("2"), .number("3")]))
        #expect(results[1] == .object([JSONMember("2", .bool(true)), JSONMember("x", .number("1"))]))
        #expect(results[2] == .string("text"))
        #expect(results[3] == .number("2.25"))
    }

    @Test func tooDeepAValueIsRefused() throws {
        let runtime = try harness.runtime([
            (
                "m",
                """
                return { selftest = function()
                  local t = {}
                  local cur = t
                  for i = 1, 100 do cur.x = {} cur = cur.x end
                  return t
                end }
                """
            )
        ])
        defer { harness.shutdown() }
        #expect(throws: HookError.self) { try harness.call(runtime, .selftest, []) }
    }

    @Test func jsonHelpersRoundTripInLua() throws {
        let runtime = try harness.runtime([
            (
                "m",
                """
                local px = require "palisade"
                return { selftest = function(text) local v = px.json.decode(text); return px.json.encode(v), v.b[2] end }
                """
            )
        ])
        defer { harness.shutdown() }
        let results = try harness.call(runtime, .selftest, [.string(#"{"a":[],"b":[1,2.5],"c":null}"#)])
        #expect(results == [.string(#"{"a":[],"b":[1,2.5],"c":null}"#), .number("2.5")])
    }
}
