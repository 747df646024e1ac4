import NIOCore
import PalisadeJSON
import Testing

@testable import PalisadePolicy

/// The VM's memory cap is enforced only while Lua runs: what Swift pushes (a hook's arguments,
/// a host function's results) is checked afterwards, so a refusal never raises outside a
/// protected call (which would abort the process) or across a Swift frame.
@Suite struct MemoryCapTests {
    let harness = LuaHarness()
    private let cap = 8 * 1024 * 1024
    private let limits = HookLimits(instructions: .max, deadline: .seconds(10))

    @Test func argumentsPastTheCapFailTheCallAndTheVMGoesOn() throws {
        let runtime = try harness.runtime(
            [("m", "return { selftest = function(...) return select('#', ...) end }")],
            limits: limits, memoryCap: cap)
        // 40 MiB of attachments: each its own buffer, as a decoded packet's are.
        let big = (0..<40).map { _ in JSONValue.binary(ByteBuffer(repeating: 0, count: 1024 * 1024)) }
        #expect {
            _ = try harness.call(runtime, .selftest, [.array(big)])
        } throws: { error in
            (error as? HookError)?.kind == .memory
        }
        #expect(try harness.call(runtime, .selftest, [.string("small")]) == [.number("1")])
    }

    @Test func manySmallValuesPastTheCapFailTheCall() throws {
        let runtime = try harness.runtime([("m", "return { selftest = function(t) return #t end }")], limits: limits, memoryCap: cap)
        let tables = JSONValue.array(Array(repeating: .array([.object([])]), count: 300_000))
        #expect {
            _ = try harness.call(runtime, .selftest, [tables])
        } throws: { error in
            (error as? HookError)?.kind == .memory
        }
        #expect(try harness.call(runtime, .selftest, [.array([.null, .null])]) == [.number("2")])
    }

    @Test func aHostFunctionResultPastTheCapIsAMemoryError() throws {
        let runtime = try harness.runtime(
            [
                (
                    "m",
                    """
                    local px = require "palisade"
                    return { selftest = function(n)
                      local text = "[" .. string.rep("[[]],", n) .. "[]]"
                      local ok, err = pcall(px.json.decode, text)
                      return ok, tostring(err)
                    end }
                    """
                )
            ], limits: limits, memoryCap: cap)
        let results = try harness.call(runtime, .selftest, [.number("200000")])
        #expect(results.first == .bool(false))
        #expect(results.last?.stringValue?.contains("not enough memory") == true)
        let after = try harness.call(runtime, .selftest, [.number("2")])
        #expect(after.first == .bool(true), "\(after)")
    }

    @Test func oneBytesValueHeldManyTimesLeavesLuaAsOneBuffer() throws {
        let runtime = try harness.runtime(
            [
                (
                    "m",
                    """
                    return { selftest = function(b)
                      local t = {}
                      for i = 1, 1000 do t[i] = b end
                      return t
                    end }
                    """
                )
            ], limits: limits, memoryCap: cap)
        let results = try harness.call(runtime, .selftest, [.binary(ByteBuffer(repeating: 7, count: 4096))])
        guard case .array(let items)? = results.first, items.count == 1000 else {
            Issue.record("expected 1000 items, got \(results)")
            return
        }
        var addresses = Set<UInt>()
        for case .binary(let bytes) in items {
            _ = bytes.withUnsafeReadableBytes { addresses.insert(UInt(bitPattern: $0.baseAddress)) }
        }
        #expect(addresses.count == 1)
    }
}
