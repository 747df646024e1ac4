import NIOCore
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
        let error = try failure(
            "return { selftest = function() while true do end end }", limits: HookLimits(instructions: 1_000_000, deadline: .seconds(10)))
        #expect(error.kind == .instructionBudget)
    }

    @Test func budgetsStartCountingAfterTheWatchDelayOrAtOnce() throws {
        // ~600 000 instructions: under a 500 000 budget counted from the start they fail;
        // watched (the default), the first 2 ms run uncounted and the call finishes.
        let busy = "return { selftest = function() local x = 0; for i = 1, 300000 do x = x + i end return x end }"
        let strict = try failure(busy, limits: HookLimits(instructions: 500_000, deadline: .seconds(10), watchAfter: .zero))
        #expect(strict.kind == .instructionBudget)
        let runtime = try harness.runtime(
            [("m", busy)],
            limits: HookLimits(
                instructions: 500_000, deadline: .seconds(10),
                watchAfter: .seconds(5)))
        #expect(try harness.call(runtime, .selftest, []) == [.number("45000150000")])
    }

    @Test func aLoopInsideAWatchedCallIsStoppedOnceArmed() throws {
        let started = NIODeadline.now()
        let error = try failure(
            "return { selftest = function() while true do end end }",
            limits: HookLimits(instructions: 1_000_000, deadline: .seconds(10), watchAfter: .milliseconds(20)))
        #expect(error.kind == .instructionBudget)
        #expect(NIODeadline.now() - started >= .milliseconds(20), "nothing counted before the watch delay")
    }

    @Test func aLoopInAScriptsOwnCoroutineIsStopped() throws {
        for resume in ["coroutine.resume(coroutine.create(spin))", "coroutine.wrap(spin)()"] {
            for watchAfter in [TimeAmount.zero, .milliseconds(2)] {
                let error = try failure(
                    """
                    local function spin() while true do end end
                    return { selftest = function()
                      local ok, why = pcall(function() return \(resume) end)
                      while true do end -- a swallowed budget error does not give the call more time
                    end }
                    """, limits: HookLimits(instructions: 1_000_000, deadline: .seconds(10), watchAfter: watchAfter))
                #expect(error.kind == .instructionBudget, "\(resume), watch after \(watchAfter)")
            }
        }
    }

    @Test func scriptCoroutinesStillWork() throws {
        let runtime = try harness.runtime([
            (
                "m",
                """
                return { selftest = function()
                  local gen = coroutine.wrap(function(a) local b = coroutine.yield(a + 1); return b * 2 end)
                  local co = coroutine.create(function() error("inner") end)
                  local ok, why = coroutine.resume(co)
                  local wrapped_ok, wrapped_why = pcall(coroutine.wrap(function() error("wrapped", 0) end))
                  return gen(1), gen(5), ok, why:find("inner") ~= nil, wrapped_ok, wrapped_why
                end }
                """
            )
        ])
        #expect(
            try harness.call(runtime, .selftest, []) == [
                .number("2"), .number("10"), .bool(false), .bool(true), .bool(false), .string("wrapped"),
            ])
    }

    @Test func infiniteLoopIsStoppedByTheDeadline() throws {
        let error = try failure(
            "return { selftest = function() while true do end end }", limits: HookLimits(instructions: .max, deadline: .milliseconds(100)))
        #expect(error.kind == .deadline)
    }

    @Test func memoryBombIsStoppedByTheCap() throws {
        let error = try failure(
            """
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
        let runtime = try harness.runtime([
            (
                "m",
                """
                return { selftest = function()
                  return io == nil, os.execute == nil, load == nil, dofile == nil, debug == nil, package == nil, type(os.time()) == "number"
                end }
                """
            )
        ])
        defer { harness.shutdown() }
        #expect(try harness.call(runtime, .selftest, []) == Array(repeating: .bool(true), count: 7))
    }

    /// `type` is the sandbox's own (interned names, `px_install_fast_type`): same answers and error as Lua's.
    @Test func typeAnswersAsLuasOwn() throws {
        let runtime = try harness.runtime([
            (
                "m",
                """
                local px = require "palisade"
                return { selftest = function()
                  local names = {}
                  for _, value in ipairs({ false, 1, 1.5, "s", {}, print, coroutine.create(print), px.null }) do
                    names[#names + 1] = type(value)
                  end
                  names[#names + 1] = type(nil)
                  local ok, err = pcall(type)
                  return table.concat(names, ","), ok, err
                end }
                """
            )
        ])
        let results = try harness.call(runtime, .selftest, [])
        #expect(results[0] == .string("boolean,number,number,string,table,function,thread,userdata,nil"))
        #expect(results[1] == .bool(false))
        #expect(results[2].stringValue?.contains("bad argument #1 to 'type' (value expected)") == true)
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
