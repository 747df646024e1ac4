import NIOCore
import PalisadeProtocol
import Testing

@testable import PalisadePolicy

/// Budgets and failures: every way a hook can go wrong ends in an error (a deny), never a hang or crash.
@Suite struct HookBudgetTests {
    let harness = LuaHarness()

    private func failure(_ code: String, limits: HookLimits = HookLimits(), memoryCap: Int = 16 * 1024 * 1024) throws -> HookError {
        let runtime = try harness.runtime([("bad", code)], limits: limits, memoryCap: memoryCap)
        defer { harness.shutdown() }
        do {
            _ = try harness.call(runtime, .selftest, [])
        } catch let error as HookError {
            return error
        }
        Issue.record("the hook did not fail")
        return HookError(kind: .error, message: "")
    }

    @Test func infiniteLoopIsStoppedByTheInstructionBudget() throws {
        let error = try failure("return { selftest = function() while true do end end }", limits: HookLimits(instructions: 1_000_000, deadline: .seconds(10)))
        #expect(error.kind == .instructionBudget)
    }

    @Test func infiniteLoopIsStoppedByTheDeadline() throws {
        let error = try failure("return { selftest = function() while true do end end }", limits: HookLimits(instructions: .max, deadline: .milliseconds(100)))
        #expect(error.kind == .deadline)
    }

    @Test func memoryBombIsStoppedByTheCap() throws {
        let error = try failure("""
            return { selftest = function()
              local t = {}
              for i = 1, 1e9 do t[i] = string.rep("x", 1024) .. i end
            end }
            """, limits: HookLimits(instructions: .max, deadline: .seconds(10)), memoryCap: 8 * 1024 * 1024)
        #expect(error.kind == .memory)
    }

    @Test func runtimeErrorCarriesFileAndLine() throws {
        let error = try failure("return {\n  selftest = function()\n    error('boom')\n  end\n}")
        #expect(error.kind == .error)
        #expect(error.message.contains("test/bad.lua:3:"))
        #expect(error.message.contains("boom"))
    }

    @Test func bareYieldInAHookIsAnError() throws {
        let error = try failure("return { selftest = function() coroutine.yield(1) end }")
        #expect(error.message.contains("may not yield"))
    }

    @Test func sandboxHasNoIoNorOsExecuteNorLoad() throws {
        let runtime = try harness.runtime([("m", """
            return { selftest = function()
              return io == nil, os.execute == nil, load == nil, dofile == nil, debug == nil, package == nil, type(os.time()) == "number"
            end }
            """)])
        defer { harness.shutdown() }
        #expect(try harness.call(runtime, .selftest, []) == Array(repeating: .bool(true), count: 7))
    }

    @Test func syntaxErrorFailsTheLoadWithFileAndLine() throws {
        #expect {
            _ = try harness.runtime([("broken", "return {\n selftest = function( end\n}")])
        } throws: { error in
            "\(error)".contains("test/broken.lua:2:")
        }
        harness.shutdown()
    }

    @Test func requireIsLimitedToTheLoadedModules() throws {
        let runtime = try harness.runtime([
            ("helper", "return { value = 7 }"),
            ("main", "local h = require 'helper'\nreturn { selftest = function() return h.value, pcall(require, 'os') end }"),
        ])
        defer { harness.shutdown() }
        let results = try harness.call(runtime, .selftest, [])
        #expect(results[0] == .number("7"))
        #expect(results[1] == .bool(false))
    }
}
