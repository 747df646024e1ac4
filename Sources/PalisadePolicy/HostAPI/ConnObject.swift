import CLua
import CPalisadeShims
import NIOCore
import PalisadeGateway
import PalisadeJSON

/// The `conn` table a hook receives for a socket: `id`, `user`, `ip`, `transport`,
/// `data` (survives reloads), and the methods `join`, `leave`, `rooms`, `emit`,
/// `disconnect`, `set_user`. One table per socket per runtime, made on first use.
/// `id`, `ip`, `user` and `data` are fields; `transport` (it changes on an upgrade) is
/// looked up when read, which also keeps the table at four slots (96 bytes, not 192).
///
/// The entry holds its socket strongly until `releaseConn` (after the disconnect hooks, or
/// when the socket is abandoned before it connected). A weak reference would give every
/// socket a side table, which makes each retain and release of it slower.
final class ConnEntry {
    /// The serial of the runtime that made it (`LuaRuntime.serial`).
    let owner: Int
    let table: Int32
    let socket: any GatewaySocket

    init(owner: Int, table: Int32, socket: any GatewaySocket) {
        self.owner = owner
        self.table = table
        self.socket = socket
    }
}

extension LuaRuntime {
    static let connMetatable = LuaName("palisade.conn")

    /// The conn metatable's `__index`: methods first, then `transport`, read from the socket.
    private static let connIndexSource = """
        local methods, transport_of = ...
        return function(conn, key)
          local method = methods[key]
          if method ~= nil then return method end
          if key == "transport" then return transport_of(conn) end
          return nil
        end
        """

    /// Installs the methods shared by every conn table.
    func installConnMethods() throws {
        let L = vm.L
        luaL_newmetatable(L, Self.connMetatable.cString)
        px_newtable(L)
        vm.setFunction("join", inTableAt: -1) { [unowned self] state in
            let socket: any GatewaySocket
            switch self.target(state) {
            case .invalid: return LuaStack.raise(state, "conn:join(room) must be called on a conn")
            case .closed:
                lua_pushboolean(state, 0)
                return 1
            case .open(let open): socket = open
            }
            guard let room = LuaStack.optionalString(state, 2) else {
                return LuaStack.raise(state, "conn:join(room) needs a room")
            }
            guard let call = self.activeCall(state) else {
                socket.join(room)
                return 0
            }
            return call.suspend(on: socket.join(room)) { state, result in
                lua_pushboolean(state, (try? result.get()) == true ? 1 : 0)
                return 1
            }
        }
        vm.setFunction("leave", inTableAt: -1) { [unowned self] state in
            let socket: any GatewaySocket
            switch self.target(state) {
            case .invalid: return LuaStack.raise(state, "conn:leave(room) must be called on a conn")
            case .closed: return 0
            case .open(let open): socket = open
            }
            guard let room = LuaStack.optionalString(state, 2) else {
                return LuaStack.raise(state, "conn:leave(room) needs a room")
            }
            socket.leave(room)
            return 0
        }
        vm.setFunction("rooms", inTableAt: -1) { [unowned self] state in
            let rooms = self.socket(state)?.rooms.sorted() ?? []
            LuaBridge.push(.array(rooms.map { .string($0) }), state)
            return 1
        }
        vm.setFunction("emit", inTableAt: -1) { [unowned self] state in
            let socket: any GatewaySocket
            switch self.target(state) {
            case .invalid: return LuaStack.raise(state, "conn:emit(event, ...) must be called on a conn")
            case .closed: return 0  // the client has gone: nothing to tell it, nothing went wrong
            case .open(let open): socket = open
            }
            guard let event = LuaStack.optionalString(state, 2) else {
                return LuaStack.raise(state, "conn:emit(event, ...) needs an event name")
            }
            do {
                socket.emit(event, try LuaStack.values(state, from: 3))
            } catch {
                return LuaStack.raise(state, "conn:emit: \(error)")
            }
            return 0
        }
        vm.setFunction("disconnect", inTableAt: -1) { [unowned self] state in
            self.socket(state)?.disconnect()
            return 0
        }
        // conn:expire_if_anonymous(seconds): a core timer closes the transport if the socket
        // still has no identity by then (the client reconnects and may authenticate).
        vm.setFunction("expire_if_anonymous", inTableAt: -1) { [unowned self] state in
            let socket: any GatewaySocket
            switch self.target(state) {
            case .invalid: return LuaStack.raise(state, "conn:expire_if_anonymous(seconds) must be called on a conn")
            case .closed: return 0
            case .open(let open): socket = open
            }
            guard let seconds = LuaStack.optionalNumber(state, 2), seconds > 0 else {
                return LuaStack.raise(state, "conn:expire_if_anonymous(seconds) needs a positive number")
            }
            socket.closeIfAnonymous(after: .milliseconds(Int64(seconds * 1000)))
            return 0
        }
        vm.setFunction("set_user", inTableAt: -1) { [unowned self] state in
            let socket: any GatewaySocket
            switch self.target(state) {
            case .invalid: return LuaStack.raise(state, "conn:set_user(identity) must be called on a conn")
            case .closed: return 0
            case .open(let open): socket = open
            }
            guard px_istable(state, 2) != 0, let identity = try? LuaBridge.value(state, at: 2) else {
                return LuaStack.raise(state, "conn:set_user(identity) needs a table")
            }
            socket.identity = identity
            lua_pushvalue(state, 2)
            lua_setfield(state, 1, "user")
            return 0
        }
        try vm.load(code: Self.connIndexSource, chunkName: "=palisade.conn")
        lua_pushvalue(L, -2)
        vm.pushHostFunction { [unowned self] state in
            guard let socket = self.socket(state) else { return 0 }
            LuaBridge.pushString(socket.transport, state)
            return 1
        }
        try vm.protectedCall(arguments: 2, results: 1)
        lua_setfield(L, -3, "__index")
        px_pop(L, 2)
    }

    /// What a conn method was called on.
    private enum ConnTarget {
        case open(any GatewaySocket)
        /// A conn table whose socket has gone (released after its disconnect hooks): its methods
        /// are quiet no-ops, since a handler may still run when its client has just closed.
        case closed
        /// Not a conn table at all: a script's mistake, raised.
        case invalid
    }

    /// The socket of the conn table at index 1 (the method's `self`).
    private func target(_ state: OpaquePointer) -> ConnTarget {
        if let socket = socket(state) { return .open(socket) }
        guard lua_getmetatable(state, 1) != 0 else { return .invalid }
        px_getmetatable_named(state, Self.connMetatable.cString)
        let isConn = lua_rawequal(state, -1, -2) != 0
        px_pop(state, 2)
        return isConn ? .closed : .invalid
    }

    /// The socket of the conn table at index 1 (the method's `self`).
    private func socket(_ state: OpaquePointer) -> (any GatewaySocket)? {
        guard px_istable(state, 1) != 0 else { return nil }
        lua_getfield(state, 1, "id")
        defer { px_pop(state, 1) }
        guard let id = LuaVM.string(state, at: -1) else { return nil }
        return connections[id]?.socket
    }

    /// Pushes the conn table of `socket` on `state`. Stack: +1.
    func pushConn(_ socket: any GatewaySocket, on state: OpaquePointer) {
        // The socket's policy state is this runtime's entry, found without hashing its id.
        if let entry = socket.policyState as? ConnEntry, entry.owner == serial {
            lua_rawgeti(state, px_registryindex(), lua_Integer(entry.table))
            return
        }
        if let entry = connections[socket.id] {
            socket.policyState = entry
            lua_rawgeti(state, px_registryindex(), lua_Integer(entry.table))
            return
        }
        lua_createtable(state, 0, 4)
        LuaBridge.pushString(socket.id, state)
        lua_setfield(state, -2, "id")
        LuaBridge.pushString(socket.ip, state)
        lua_setfield(state, -2, "ip")
        if let identity = socket.identity {
            LuaBridge.push(identity, state)
            lua_setfield(state, -2, "user")
        }
        if let data = migratedData.removeValue(forKey: socket.id) {
            LuaBridge.push(data, state)
        } else {
            px_newtable(state)
        }
        lua_setfield(state, -2, "data")
        luaL_setmetatable(state, Self.connMetatable.cString)
        // A call that comes after the socket's tear-down (a reply to I/O it started) gets a table
        // of its own that nothing keeps: one kept here would never be released. Its methods find
        // no socket and do nothing.
        guard !socket.hasEnded else { return }
        lua_pushvalue(state, -1)
        let reference = luaL_ref(state, px_registryindex())
        let entry = ConnEntry(owner: serial, table: reference, socket: socket)
        connections[socket.id] = entry
        socket.policyState = entry
        heldSockets?.add(1)
    }

    /// Sets `conn.user` of a socket's conn table (after `authenticate` accepted it).
    func setUser(_ identity: JSONValue, of socketID: String) {
        guard let entry = connections[socketID] else { return }
        lua_rawgeti(vm.L, px_registryindex(), lua_Integer(entry.table))
        LuaBridge.push(identity, vm.L)
        lua_setfield(vm.L, -2, "user")
        px_pop(vm.L, 1)
    }

    /// Forgets a socket's conn table (after its disconnect hooks ran).
    func releaseConn(_ socketID: String) {
        guard let entry = connections.removeValue(forKey: socketID) else { return }
        if entry.socket.policyState === entry { entry.socket.policyState = nil }  // a cycle until now
        luaL_unref(vm.L, px_registryindex(), entry.table)
        heldSockets?.add(-1)
    }

    /// This runtime is replaced by the next generation's on its loop: its conn tables stop
    /// counting (calls still in progress may finish in it).
    func retire() {
        heldSockets?.add(-connections.count)
        heldSockets = nil
    }

    /// Every live conn's `data`, for the next generation.
    func exportConnData() -> [String: JSONValue] {
        var exported: [String: JSONValue] = [:]
        for (id, entry) in connections where entry.socket.isConnected {
            lua_rawgeti(vm.L, px_registryindex(), lua_Integer(entry.table))
            lua_getfield(vm.L, -1, "data")
            exported[id] = (try? LuaBridge.value(vm.L, at: -1)) ?? .object([])
            px_pop(vm.L, 2)
        }
        return exported
    }
}
