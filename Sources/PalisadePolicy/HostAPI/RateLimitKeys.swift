import CLua
import CPalisadeShims
import PalisadeState

/// The rate-limit keys one runtime's policies hit, each made ready once (`RateLimitKey`: the
/// host's prefix in front, the bytes hashed). A Lua table maps the key string a policy passes
/// to its place here, so an event's hit finds its key with one table lookup on a string Lua
/// has already hashed, instead of making a Swift string and hashing its bytes. Each key also
/// keeps the limiter's window once found, so its later hits take no lock (`RateLimitKey`).
///
/// In front of that table, `recent` remembers the last keys found by the address of their
/// Lua string (direct-mapped, `recentCount` entries): a hit then reads no table at all. An
/// address only means its string while the string lives. The string the table holds as the
/// key lives as long as the table (its address is kept with the key, `Entry.tableAddress`); any other
/// string with the same bytes is held in a Lua table of its own (`anchors`), slot for slot,
/// until another replaces it. Policies that keep their key strings (30-ratelimit memoizes
/// them) pass the table's own string, so a miss costs the table lookup and no more.
///
/// Bounded: past `capacity` keys both are emptied and filled again as keys come back, so a
/// stream of new users or addresses costs what it did before and holds no more memory.
final class RateLimitKeys {
    static let capacity = 4096
    static let recentCount = 256

    private let prefix: [UInt8]
    private var keys: [Entry] = []
    /// Registry reference of the Lua table: key string → index in `keys` (1-based).
    private var table: Int32?
    /// Address of a key string's bytes → index in `keys` (0-based), by the address's bits.
    private var recent = [Recent](repeating: Recent(), count: recentCount)
    /// Registry reference of the Lua table holding `recent`'s strings (slot + 1 → string).
    private var anchors: Int32?

    /// A key and the address of the string the table holds for it.
    private struct Entry {
        let key: RateLimitKey
        let tableAddress: UnsafePointer<CChar>?
    }

    /// A struct, not a tuple: reading an array of tuples looks up the tuple's type metadata
    /// at run time, on every hit.
    private struct Recent {
        var address: UnsafePointer<CChar>?
        var index = 0
    }

    init(prefix: [UInt8]) {
        self.prefix = prefix
    }

    /// Keys made ready now (at most `capacity`).
    var count: Int { keys.count }

    /// The key for the string at `index`, made ready on first use; nil when it is not a string.
    func key(_ L: OpaquePointer, at index: Int32) -> RateLimitKey? {
        guard lua_type(L, index) == LUA_TSTRING, let address = lua_tolstring(L, index, nil) else { return nil }
        let slot = Int(truncatingIfNeeded: UInt(bitPattern: address) >> 4) & (Self.recentCount - 1)
        if recent[slot].address == address { return keys[recent[slot].index].key }
        let index = lua_absindex(L, index)
        var found = 0
        if let table {
            lua_rawgeti(L, px_registryindex(), lua_Integer(table))
            lua_pushvalue(L, index)
            lua_rawget(L, -2)
            found = lua_isinteger(L, -1) != 0 ? Int(px_tointeger(L, -1)) : 0
            px_pop(L, 2)
        }
        if found < 1 || found > keys.count {
            guard let string = LuaStack.optionalString(L, index, prefixedBy: prefix) else { return nil }
            remember(RateLimitKey(string), for: index, L)
            found = keys.count
        }
        if keys[found - 1].tableAddress == address {
            recent[slot] = Recent(address: address, index: found - 1)
        } else {
            recall(address, slot: slot, index: found - 1, string: index, L)
        }
        return keys[found - 1].key
    }

    /// Puts a found key in `recent`, its string (not the table's) anchored so that the address
    /// stays its own.
    private func recall(_ address: UnsafePointer<CChar>, slot: Int, index: Int, string: Int32, _ L: OpaquePointer) {
        if anchors == nil {
            lua_createtable(L, Int32(Self.recentCount), 0)
            anchors = luaL_ref(L, px_registryindex())
        }
        lua_rawgeti(L, px_registryindex(), lua_Integer(anchors!))
        lua_pushvalue(L, string)
        lua_rawseti(L, -2, lua_Integer(slot + 1))
        px_pop(L, 1)
        recent[slot] = Recent(address: address, index: index)
    }

    private func remember(_ key: RateLimitKey, for index: Int32, _ L: OpaquePointer) {
        if table == nil || keys.count >= Self.capacity {
            if let table { luaL_unref(L, px_registryindex(), table) }
            keys.removeAll(keepingCapacity: true)
            for slot in recent.indices { recent[slot] = Recent() }
            px_newtable(L)
            table = luaL_ref(L, px_registryindex())
        }
        keys.append(Entry(key: key, tableAddress: lua_tolstring(L, index, nil)))
        lua_rawgeti(L, px_registryindex(), lua_Integer(table!))
        lua_pushvalue(L, index)
        lua_pushinteger(L, lua_Integer(keys.count))
        lua_rawset(L, -3)
        px_pop(L, 1)
    }
}
