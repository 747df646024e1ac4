import CLua
import CPalisadeShims
import PalisadeGateway

/// The `ack` argument of a plugin's event handler: a callable table whose call sends
/// the client's ack (`ack(value, …)`), once.
extension LuaRuntime {
    static let ackMetatable = LuaName("palisade.ack")

    func installAckMetatable() {
        let L = vm.L
        luaL_newmetatable(L, Self.ackMetatable.cString)
        vm.pushHostFunction { [unowned self] state in
            lua_getfield(state, 1, "__ack")
            let id = Int(px_tointeger(state, -1))
            px_pop(state, 1)
            guard let ack = self.pendingAcks[id] else { return 0 }
            do {
                ack(try LuaStack.values(state, from: 2))
            } catch {
                return LuaStack.raise(state, "ack: \(error)")
            }
            return 0
        }
        lua_setfield(L, -2, "__call")
        px_pop(L, 1)
    }

    func registerAck(_ ack: Ack) -> Int {
        pendingAcks.add(ack)
    }

    func releaseAck(_ id: Int) {
        pendingAcks.remove(id)
    }

    /// Stack: +1.
    func pushAck(_ id: Int, on state: OpaquePointer) {
        px_newtable(state)
        lua_pushinteger(state, lua_Integer(id))
        lua_setfield(state, -2, "__ack")
        luaL_setmetatable(state, Self.ackMetatable.cString)
    }
}
