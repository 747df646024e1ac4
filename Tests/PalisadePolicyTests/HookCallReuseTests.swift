import CPalisadeShims
import NIOCore
import Testing

@testable import PalisadePolicy

/// Hook calls reuse their coroutine, budget block and call object; nothing of one call may
/// leak into the next.
@Suite struct HookCallReuseTests {
    let harness = LuaHarness()

    /// The coroutine each call ran in, by the address of its thread.
    private static let module = """
        return { selftest = function(mode)
          if mode == "fail" then error("boom") end
          return tostring(coroutine.running())
        end }
        """

    @Test func callsThatReturnReuseOneCoroutine() throws {
        let runtime = try harness.runtime([("m", Self.module)])
        var threads: Set<String> = []
        for _ in 0..<50 { threads.insert(try harness.call(runtime, .selftest, [.string("ok")]).first?.stringValue ?? "") }
        #expect(threads.count == 1)
        #expect(try harness.loop.submit { runtime.value.idleCalls.count }.wait() == 1)
    }

    @Test func aFailedCallsCoroutineIsNotReused() throws {
        let runtime = try harness.runtime([("m", Self.module)])
        let first = try harness.call(runtime, .selftest, [.string("ok")])
        #expect(throws: HookError.self) { try harness.call(runtime, .selftest, [.string("fail")]) }
        // The failed call used the idle coroutine and dropped it; the next call gets a new one.
        let next = try harness.call(runtime, .selftest, [.string("ok")])
        #expect(first != next)
        #expect(try harness.call(runtime, .selftest, [.string("ok")]) == next)
    }

    @Test func aReplyThatComesAfterTheDeadlineDoesNotTouchLaterCalls() throws {
        let runtime = try harness.runtime(
            [
                (
                    "m",
                    """
                    local px = require "palisade"
                    return { selftest = function(mode)
                      if mode == "slow" then return px.store.get("x") end
                      return mode
                    end }
                    """
                )
            ], limits: HookLimits(instructions: 1_000_000, deadline: .milliseconds(30)), store: SlowStore(delay: .milliseconds(200)))
        #expect { try harness.call(runtime, .selftest, [.string("slow")]) } throws: { ($0 as? HookError)?.kind == .deadline }
        // Calls made while the late reply is still on its way, and after it arrived, answer for themselves.
        for index in 0..<30 {
            #expect(try harness.call(runtime, .selftest, [.string("call \(index)")]) == [.string("call \(index)")])
            try harness.loop.scheduleTask(in: .milliseconds(10)) {}.futureResult.wait()
        }
    }

    @Test func aHostFunctionFindsItsCallOnlyInTheHooksOwnCoroutine() throws {
        let runtime = try harness.runtime(
            [
                (
                    "m",
                    """
                    local px = require "palisade"
                    return { selftest = function()
                      local direct = px.store.set("k", "v")
                      local ok, err = coroutine.resume(coroutine.create(function() return px.store.get("k") end))
                      return direct, ok, err
                    end }
                    """
                )
            ], store: SlowStore(delay: .milliseconds(5)))
        let results = try harness.call(runtime, .selftest, [])
        #expect(results.first == .bool(true))
        #expect(results.dropFirst().first == .bool(false))
        #expect(results.last?.stringValue?.contains("can only run inside a hook") == true)
        #expect(try harness.loop.submit { px_get_budget(runtime.value.vm.L) == nil }.wait())
    }
}
