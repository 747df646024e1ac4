import CLua
import CPalisadeShims
import PalisadeJSON

/// Small helpers for host functions reading arguments and returning results.
enum LuaStack {
    /// Pushes an error message and returns the code that makes the trampoline raise it.
    static func raise(_ L: OpaquePointer, _ message: String) -> Int32 {
        LuaBridge.pushString(message, L)
        return PX_RAISE
    }

    /// The conventional `nil, err` return. Stack: +2.
    static func failure(_ L: OpaquePointer, _ message: String) -> Int32 {
        lua_pushnil(L)
        LuaBridge.pushString(message, L)
        return 2
    }

    static func optionalString(_ L: OpaquePointer, _ index: Int32) -> String? {
        lua_type(L, index) == LUA_TSTRING ? LuaVM.string(L, at: index) : nil
    }

    /// The string at `index` with `prefix` in front, made in one allocation (for keys
    /// built on every event); nil when the value is not a string.
    static func optionalString(_ L: OpaquePointer, _ index: Int32, prefixedBy prefix: [UInt8]) -> String? {
        var length = 0
        guard lua_type(L, index) == LUA_TSTRING, let bytes = lua_tolstring(L, index, &length) else { return nil }
        return String(unsafeUninitializedCapacity: prefix.count + length) { buffer in
            let base = buffer.baseAddress!
            prefix.withUnsafeBufferPointer { base.update(from: $0.baseAddress!, count: prefix.count) }
            UnsafeMutableRawPointer(base + prefix.count).copyMemory(from: bytes, byteCount: length)
            return prefix.count + length
        }
    }

    static func optionalNumber(_ L: OpaquePointer, _ index: Int32) -> Double? {
        lua_type(L, index) == LUA_TNUMBER ? px_tonumber(L, index) : nil
    }

    /// Arguments from `first` to the top, as JSON values.
    static func values(_ L: OpaquePointer, from first: Int32) throws(LuaBridge.ConversionError) -> [JSONValue] {
        let top = lua_gettop(L)
        guard top >= first else { return [] }
        var values: [JSONValue] = []
        for index in first...top { values.append(try LuaBridge.value(L, at: index)) }
        return values
    }
}
