import CLua
import CPalisadeShims
import PalisadeState

/// The rate-limit keys one runtime's policies hit, each made ready once (`RateLimitKey`: the
/// host's prefix in front, the bytes hashed). A Lua table maps the key string a policy passes
/// to its place here, so an event's hit finds its key with one table lookup on a string Lua
/// has already hashed, instead of making a Swift string and hashing its bytes. Each key also
/// keeps the limiter's window once found, so its later hits take no lock (`RateLimitKey`).
///
/// Bounded: past `capacity` keys both are emptied and filled again as keys come back, so a
/// stream of new users or addresses costs what it did before and holds no more memory.
final class RateLimitKeys {
    static let capacity = 4096

    private let prefix: [UInt8]
    private var keys: [RateLimitKey] = []
    /// Registry reference of the Lua table: key string → index in `keys` (1-based).
    private var table: Int32?

    init(prefix: [UInt8]) {
        self.prefix = prefix
    }

    /// Keys made ready now (at most `capacity`).
    var count: Int { keys.count }

    /// The key for the string at `index`, made ready on first use; nil when it is not a string.
    func key(_ L: OpaquePointer, at index: Int32) -> RateLimitKey? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        let index = lua_absindex(L, index)
        if let table {
            lua_rawgeti(L, px_registryindex(), lua_Integer(table))
            lua_pushvalue(L, index)
            lua_rawget(L, -2)
            let found = lua_isinteger(L, -1) != 0 ? Int(px_tointeger(L, -1)) : 0
            px_pop(L, 2)
            if found >= 1, found <= keys.count { return keys[found - 1] }
        }
        guard let string = LuaStack.optionalString(L, index, prefixedBy: prefix) else { return nil }
        remember(RateLimitKey(string), for: index, L)
        return keys.last
    }

    private func remember(_ key: RateLimitKey, for index: Int32, _ L: OpaquePointer) {
        if table == nil || keys.count >= Self.capacity {
            if let table { luaL_unref(L, px_registryindex(), table) }
            keys.removeAll(keepingCapacity: true)
            px_newtable(L)
            table = luaL_ref(L, px_registryindex())
        }
        keys.append(key)
        lua_rawgeti(L, px_registryindex(), lua_Integer(table!))
        lua_pushvalue(L, index)
        lua_pushinteger(L, lua_Integer(keys.count))
        lua_rawset(L, -3)
        px_pop(L, 1)
    }
}
