import CLua
import CPalisadeShims
import NIOCore
import PalisadeJSON
import Testing

@testable import PalisadePolicy

/// The `event` hooks of all modules run as one call (EventChain.swift): in module order,
/// stopping at the first deny or drop, each module with a budget of its own.
@Suite struct EventChainTests {
    let harness = LuaHarness()

    /// Runs the event chain with (conn, name, args); returns its results or throws its HookError.
    private func runChain(
        _ modules: [(String, String)], limits: HookLimits = HookLimits(),
        store: SlowStore? = nil
    ) throws -> (results: [JSONValue], runtime: NIOLoopBound<LuaRuntime>) {
        let runtime = try harness.runtime(modules, limits: limits, store: store)
        let results = try harness.loop.flatSubmit {
            let chain = runtime.value.eventChain!
            return runtime.value.call(chain) { state in
                LuaBridge.push(.object(["id": .string("s1")]), state)
                LuaBridge.push(.string("chat"), state)
                LuaBridge.push(.array([.array([])]), state)
                return 3
            }
        }.wait()
        return (results, runtime)
    }

    /// A module that appends its name to the event's first argument (a list).
    private func recorder(_ name: String) -> (String, String) {
        (name, "return { event = function(conn, name, args) table.insert(args[1], '\(name)') end }")
    }

    @Test func modulesRunInOrderAndTheFirstDenyStopsTheChain() throws {
        let (results, _) = try runChain([
            recorder("a"),
            ("plain", "return { authorize = function() end }"),
            recorder("b"),
            (
                "deny",
                """
                local px = require "palisade"
                return { event = function(conn, name, args) return px.deny(table.concat(args[1], ",")) end }
                """
            ),
            ("after", "return { event = function() error('ran after a deny') end }"),
        ])
        #expect(HookAnswer(results) == .deny(reason: "a,b", status: nil))
    }

    @Test func dropStopsTheChainAndAllowGoesOn() throws {
        let (allowed, _) = try runChain([
            ("allow", "local px = require 'palisade'; return { event = function() return px.allow() end }"),
            ("data", "return { event = function() return { note = 1 } end }"),
        ])
        #expect(HookAnswer(allowed) == .none)
        let (dropped, _) = try runChain([
            ("drop", "local px = require 'palisade'; return { event = function() return px.drop() end }"),
            ("after", "return { event = function() error('ran after a drop') end }"),
        ])
        #expect(HookAnswer(dropped) == .drop)
    }

    @Test func eachModuleHasAnInstructionBudgetOfItsOwn() throws {
        // Each module spends about 60 % of the budget: together they exceed it, alone none does.
        let busy = "return { event = function() local x = 0; for i = 1, 300000 do x = x + i end end }"
        // Counted from the first instruction (no watch delay), so each module's count is exact.
        let limits = HookLimits(instructions: 1_000_000, deadline: .seconds(10), watchAfter: .zero)
        let (results, _) = try runChain([("a", busy), ("b", busy), ("c", busy)], limits: limits)
        #expect(results == [.null])
        let spin = "return { event = function() while true do end end }"
        #expect { try runChain([("a", busy), ("b", spin)], limits: limits) } throws: { error in
            let error = error as? HookError
            return error?.kind == .instructionBudget && error?.module == 2
        }
    }

    @Test func aFailingModuleIsNamedInTheError() throws {
        var failure: HookError?
        var runtime: NIOLoopBound<LuaRuntime>?
        do {
            (_, runtime) = try runChain([recorder("first"), ("broken", "return { event = function() error('boom') end }")])
        } catch let error as HookError {
            failure = error
        }
        let error = try #require(failure)
        #expect(runtime == nil)
        #expect(error.module == 2)
        #expect(error.message.contains("test/broken.lua:1:"))
        let named = try harness.runtime([recorder("first"), ("broken", "return { event = function() error('boom') end }")])
        #expect(try harness.loop.submit { named.value.eventChainFailure(of: error) }.wait() == .hook(module: "broken"))
        // A module past the hooks is the handler the chain ran after them.
        let handlerError = HookError(kind: .error, message: "handler", module: 3)
        #expect(try harness.loop.submit { named.value.eventChainFailure(of: handlerError) }.wait() == .handler)
    }

    @Test func aModuleWaitingForIOResumesTheChainWhereItWas() throws {
        let (results, _) = try runChain(
            [
                (
                    "store",
                    """
                    local px = require "palisade"
                    return { event = function(conn, name, args)
                      px.store.set("k", "waited")
                      table.insert(args[1], px.store.get("k"))
                    end }
                    """
                ),
                recorder("next"),
                (
                    "deny",
                    "local px = require 'palisade'; return { event = function(c, n, args) return px.deny(table.concat(args[1], ',')) end }"
                ),
            ], store: SlowStore(delay: .milliseconds(10)))
        #expect(HookAnswer(results) == .deny(reason: "waited,next", status: nil))
    }

    @Test func theHandlerRunsOnlyForALiveSocket() throws {
        // The conn of `runChain` belongs to no socket of the runtime, as one closed by a hook
        // would not: the handler given after the arguments is skipped.
        let runtime = try harness.runtime([recorder("a")])
        let results = try harness.loop.flatSubmit {
            let L = runtime.value.vm.L
            lua_pushboolean(L, 0)
            lua_setglobal(L, "handler_ran")
            try! runtime.value.vm.load(code: "return function() handler_ran = true end", chunkName: "=handler")
            try! runtime.value.vm.protectedCall(arguments: 0, results: 1)
            let handler = runtime.value.vm.reference()
            return runtime.value.call(runtime.value.eventChain!) { state in
                LuaBridge.push(.object(["id": .string("s1")]), state)
                LuaBridge.push(.string("chat"), state)
                LuaBridge.push(.array([.array([])]), state)
                lua_rawgeti(state, px_registryindex(), lua_Integer(handler))
                lua_pushnil(state)
                return 5
            }
        }.wait()
        #expect(results == [.null])
        let ran = try harness.loop.submit { () -> Bool in
            lua_getglobal(runtime.value.vm.L, "handler_ran")
            defer { px_pop(runtime.value.vm.L, 1) }
            return lua_toboolean(runtime.value.vm.L, -1) != 0
        }.wait()
        #expect(!ran)
    }

    @Test func noEventHookMeansNoChain() throws {
        let runtime = try harness.runtime([("m", "return { authorize = function() end }")])
        #expect(try harness.loop.submit { runtime.value.eventChain == nil }.wait())
    }
}
