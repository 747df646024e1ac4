import CLua
import CPalisadeShims

/// The `event` hooks of every module, run as one Lua function in one coroutine.
///
/// Events are the hot path: resuming a coroutine, bridging the answer and settling a
/// future per module cost more than the stock policies' own work. The chain function
/// calls the modules in order and stops at the first `deny` or `drop`, as `chain` does
/// for the other hook points. Before each module it calls `step(i)`, which gives the
/// module a fresh instruction budget and deadline (each hook call keeps its own budget)
/// and records `i`, so a failure is reported against the module that failed.
extension LuaRuntime {
    private static let eventChainSource = """
        local step, hooks, type, rawget = ...
        local count = #hooks
        return function(...)
          for i = 1, count do
            step(i)
            local answer = hooks[i](...)
            -- Most hooks answer nil: they skip the call to `type`.
            if answer ~= nil and type(answer) == "table" then
              local verdict = rawget(answer, "__px")
              if verdict == "deny" or verdict == "drop" then return answer end
            end
          end
          return nil
        end
        """

    /// Builds the chain function of the `event` hooks; nil when no module has one.
    func makeEventChain() throws -> Int32? {
        guard let functions = hooks[.event], !functions.isEmpty else { return nil }
        let L = vm.L
        try vm.load(code: Self.eventChainSource, chunkName: "=palisade.event_chain")
        px_push_chain_step(L)
        lua_createtable(L, Int32(functions.count), 0)
        for (index, hook) in functions.enumerated() {
            vm.push(reference: hook.function)
            lua_rawseti(L, -2, lua_Integer(index + 1))
        }
        lua_getglobal(L, "type")
        lua_getglobal(L, "rawget")
        try vm.protectedCall(arguments: 4, results: 1)
        return vm.reference()
    }

    /// The module whose hook failed in the event chain, for the report.
    func eventChainModule(of error: HookError) -> String {
        guard let functions = hooks[.event], error.module >= 1, error.module <= functions.count else { return "event_chain" }
        return functions[error.module - 1].module
    }
}
