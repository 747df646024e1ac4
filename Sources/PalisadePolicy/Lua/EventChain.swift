import CLua
import CPalisadeShims

/// The `event` hooks of every module, and then the plugin's handler of an allowed event,
/// run as one Lua function in one coroutine.
///
/// Events are the hot path: resuming a coroutine, bridging the answer and settling a
/// future per module cost more than the stock policies' own work, and so did a second
/// call with a second conversion of the arguments for the handler. The chain function
/// calls the modules in order and stops at the first `deny` or `drop`, as `chain` does
/// for the other hook points. Before each module it calls `step(i)`, which gives the
/// module a fresh instruction budget and deadline (each hook call keeps its own budget)
/// and records `i`, so a failure is reported against the module that failed.
///
/// Called as `(conn, name, args, handler, ack)`: when every module let the event through
/// and `handler` is given, it runs as module `count + 1` with the arguments the hooks saw
/// (the same tables), unless the socket closed meanwhile (`is_open()`: a hook may have
/// closed it, or the client while a hook waited for I/O).
/// `ack` (nil unless the client asked for one) comes last, after the arguments, as
/// DESIGN.md's `function(conn, args…, ack)` says. With `named` (the catch-all handler
/// `events["*"]`), the event's name comes first: `function(conn, name, args…, ack)`.
extension LuaRuntime {
    private static let eventChainSource = """
        local step, hooks, type, rawget, is_open, unpack, move = ...
        local count = #hooks
        return function(conn, name, args, handler, ack, named)
          for i = 1, count do
            step(i)
            local answer = hooks[i](conn, name, args)
            -- Most hooks answer nil: they skip the call to `type`.
            if answer ~= nil and type(answer) == "table" then
              local verdict = rawget(answer, "__px")
              if verdict == "deny" or verdict == "drop" then return answer, i end
            end
          end
          if handler == nil or not is_open() then return nil end
          step(count + 1)
          local n = #args
          if named then
            local packed = move(args, 1, n, 2, { name })
            if ack ~= nil then n = n + 1; packed[n + 1] = ack end
            handler(conn, unpack(packed, 1, n + 1))
          elseif ack == nil then
            handler(conn, unpack(args, 1, n))
          elseif n == 1 then
            handler(conn, args[1], ack)
          else
            local packed = move(args, 1, n, 1, {})
            packed[n + 1] = ack
            handler(conn, unpack(packed, 1, n + 1))
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
        vm.pushHostFunction { [unowned self] state in
            lua_pushboolean(state, self.activeCall(state)?.eventSocket?.isConnected == true ? 1 : 0)
            return 1
        }
        lua_getglobal(L, "table")
        lua_getfield(L, -1, "unpack")
        lua_getfield(L, -2, "move")
        lua_rotate(L, -3, -1)
        px_pop(L, 1)
        try vm.protectedCall(arguments: 7, results: 1)
        return vm.reference()
    }

    /// Where an event chain's failure happened, for the report: a module's `event` hook,
    /// or the handler that ran after them.
    enum EventChainFailure: Equatable {
        case hook(module: String)
        case handler
    }

    func eventChainFailure(of error: HookError) -> EventChainFailure {
        guard let functions = hooks[.event], error.module >= 1 else { return .hook(module: "event_chain") }
        guard error.module <= functions.count else { return .handler }
        return .hook(module: functions[error.module - 1].module)
    }
}
