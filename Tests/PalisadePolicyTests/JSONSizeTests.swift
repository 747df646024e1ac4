import NIOCore
import PalisadeJSON
import Testing

@testable import PalisadePolicy

/// `px.json.size(value[, limit[, max_depth]])`, checked against `px.json.encode` in the same state.
@Suite struct JSONSizeTests {
    let harness = LuaHarness()

    /// `selftest(v, limit, depth)` answers the size, the encoded length and the count of
    /// non-empty tables in `v` (each adds one comma to the size).
    private static let probe = """
        local px = require "palisade"
        local function tables(v)
          if type(v) ~= "table" then return 0 end
          local n = next(v) ~= nil and 1 or 0
          for _, item in pairs(v) do n = n + tables(item) end
          return n
        end
        return { selftest = function(v, limit, depth)
          if limit == px.null then limit = nil end -- JSON null arrives as px.null
          if depth == px.null then depth = nil end
          return px.json.size(v, limit, depth), #px.json.encode(v), tables(v)
        end }
        """

    private func size(_ value: JSONValue, limit: JSONValue = .null, depth: JSONValue = .null) throws -> [JSONValue] {
        let runtime = try harness.runtime([("m", Self.probe)])
        return try harness.call(runtime, .selftest, [value, limit, depth])
    }

    /// Without floats the size is the encoded length plus one comma per non-empty table.
    @Test func matchesTheEncoderButForOneCommaPerTable() throws {
        let values: [JSONValue] = [
            .string(""), .string("plain"), .string("quote \" and \\ backslash"), .string("\n\r\t\u{8}\u{C} controls \u{1} \u{1F}"),
            .string("é ünïcode ✓"), .number("0"), .number("-7"), .number("1234567890"), .number("-9223372036854775808"),
            .bool(true), .bool(false), .null, .array([]), .object([]),
            .array([.string("x"), .number("12"), .null, .bool(true)]),
            .object(["a": .string("x"), "key \"quoted\"": .array([.object(["deep": .string("\t")])]), "n": .number("-42")]),
        ]
        for value in values {
            let answer = try size(value)
            guard case .number(let measured)? = answer.first, case .number(let encoded) = answer[1],
                case .number(let tables) = answer[2]
            else {
                Issue.record("no size for \(value): \(answer)")
                continue
            }
            #expect(Int(measured)! == Int(encoded)! + Int(tables)!, "\(value)")
        }
    }

    @Test func floatsCountTheLongestTheyCanBe() throws {
        #expect(try size(.number("0.1")).first == .number("24"))
        #expect(try size(.number("-2.2250738585072014e-308")).first == .number("24"))
    }

    @Test func bytesCountTheirLength() throws {
        #expect(try size(.binary(ByteBuffer(bytes: [1, 2, 3, 4, 5]))).first == .number("7"))
    }

    @Test func nilPastTheLimit() throws {
        let value = JSONValue.object(["a": .string(String(repeating: "x", count: 100))])
        let exact = try size(value).first
        #expect(exact == .number("109"))
        #expect(try size(value, limit: .number("109")).first == .number("109"))
        #expect(try size(value, limit: .number("108")).first == .null)
        #expect(try size(.string("ab"), limit: .number("-1")).first == .null)
    }

    @Test func nilPastTheDepth() throws {
        var value = JSONValue.string("leaf")
        for _ in 0..<16 { value = .array([value]) }
        #expect(try size(value).first != .null, "16 nested tables are the default limit")
        #expect(try size(.array([value])).first == .null)
        #expect(try size(value, depth: .number("15")).first == .null)
        #expect(try size(.string("no table"), depth: .number("0")).first == .number("10"))
    }

    @Test func aTableThatHoldsItselfEndsAtTheDepth() throws {
        let runtime = try harness.runtime([
            (
                "m",
                """
                local px = require "palisade"
                return { selftest = function() local t = {}; t.self = t; return px.json.size(t) == nil end }
                """
            )
        ])
        #expect(try harness.call(runtime, .selftest, []) == [.bool(true)])
    }

    @Test func badDepthIsAnError() throws {
        let runtime = try harness.runtime([
            (
                "m",
                """
                local px = require "palisade"
                return { selftest = function() return pcall(px.json.size, {}, 10, 33) end }
                """
            )
        ])
        let answer = try harness.call(runtime, .selftest, [])
        #expect(answer.first == .bool(false))
        guard case .string(let message)? = answer.last else { return #expect(Bool(false), "no error message") }
        #expect(message.contains("max_depth must be 0 to 32"))
    }
}
