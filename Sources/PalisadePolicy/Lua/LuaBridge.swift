import CLua
import CPalisadeShims
import NIOCore
import PalisadeJSON

/// Moves values between Swift (`JSONValue`) and Lua faithfully:
/// integers stay integers, floats stay floats, JSON null is `px.null` (a NULL light
/// userdata), arrays carry the `px.array` metatable (so `[]` and `{}` stay distinct),
/// binary is a `px.bytes` userdata, and a Lua string that is not UTF-8 comes back as bytes.
package enum LuaBridge {
    /// Deeper values are refused: policies never need them, and recursion must stay bounded.
    static let maxDepth = 32
    /// Most elements (array items plus object members, all levels) one conversion may carry.
    static let maxElements = 100_000

    /// A push checks the memory cap every this many + 1 elements of a container.
    private static let checkInterval = 255

    static let arrayMetatable = LuaName("px.array")
    static let bytesMetatable = LuaName("px.bytes")

    struct ConversionError: Error, CustomStringConvertible {
        var description: String
    }

    /// Creates the metatables; called once per state.
    static func install(_ L: OpaquePointer) {
        luaL_newmetatable(L, arrayMetatable.cString)
        px_pop(L, 1)
        luaL_newmetatable(L, bytesMetatable.cString)
        lua_pushcclosure(
            L,
            { state in
                guard let state, let bytes = LuaBridge.bytes(state, at: 1) else { return 0 }
                lua_pushinteger(state, lua_Integer(bytes.readableBytes))
                return 1
            }, 0)
        lua_setfield(L, -2, "__len")
        lua_pushcclosure(
            L,
            { state in
                guard let state, let bytes = LuaBridge.bytes(state, at: 1) else { return 0 }
                bytes.withUnsafeReadableBytes { raw in
                    _ = lua_pushlstring(state, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
                }
                return 1
            }, 0)
        lua_setfield(L, -2, "__tostring")
        px_pop(L, 1)
    }

    // MARK: Swift → Lua

    /// Pushes `value`. Stack: +1.
    ///
    /// The VM's memory cap is not enforced while Swift pushes (px_memory): past it, containers
    /// are left short and what is left is pushed as nil, so the overshoot stays within one
    /// leaf and a few hundred small values. Callers that push a client's values check
    /// `px_over_cap` afterwards (the hook call and the host-function trampoline do).
    package static func push(_ value: JSONValue, _ L: OpaquePointer) {
        // Each nesting level holds a table and a value on the stack; Lua only guarantees 20 slots.
        guard lua_checkstack(L, 4) != 0 else { return lua_pushnil(L) }
        switch value {
        case .null:
            lua_pushlightuserdata(L, nil)
        case .bool(let flag):
            lua_pushboolean(L, flag ? 1 : 0)
        case .number(let text):
            if let integer = Int64(text) {
                lua_pushinteger(L, integer)
            } else {
                lua_pushnumber(L, Double(text) ?? 0)
            }
        case .string(let text):
            pushString(text, L)
        case .array(let items):
            guard px_over_cap(L) == 0 else { return lua_pushnil(L) }
            lua_createtable(L, Int32(min(items.count, 1 << 20)), 0)
            for (index, item) in items.enumerated() {
                if index & checkInterval == checkInterval, px_over_cap(L) != 0 { break }
                push(item, L)
                lua_rawseti(L, -2, lua_Integer(index + 1))
            }
            luaL_setmetatable(L, arrayMetatable.cString)
        case .object(let members):
            guard px_over_cap(L) == 0 else { return lua_pushnil(L) }
            lua_createtable(L, 0, Int32(min(members.count, 1 << 20)))
            for (index, member) in members.enumerated() {
                if index & checkInterval == checkInterval, px_over_cap(L) != 0 { break }
                pushString(member.key, L)
                push(member.value, L)
                lua_rawset(L, -3)
            }
        case .binary(let bytes):
            guard px_over_cap(L) == 0 else { return lua_pushnil(L) }
            pushBytes(bytes, L)
        }
    }

    static func pushString(_ text: String, _ L: OpaquePointer) {
        var text = text
        text.withUTF8 { utf8 in
            _ = lua_pushlstring(L, UnsafeRawPointer(utf8.baseAddress)?.assumingMemoryBound(to: CChar.self), utf8.count)
        }
    }

    /// A `px.bytes` userdata holding a copy of `bytes`. Stack: +1.
    static func pushBytes(_ bytes: ByteBuffer, _ L: OpaquePointer) {
        let count = bytes.readableBytes
        let block = lua_newuserdatauv(L, MemoryLayout<Int>.size + count, 0)!
        block.storeBytes(of: count, as: Int.self)
        bytes.withUnsafeReadableBytes { raw in
            if let base = raw.baseAddress { (block + MemoryLayout<Int>.size).copyMemory(from: base, byteCount: count) }
        }
        luaL_setmetatable(L, bytesMetatable.cString)
    }

    static func bytes(_ L: OpaquePointer, at index: Int32) -> ByteBuffer? {
        guard let block = luaL_testudata(L, index, bytesMetatable.cString) else { return nil }
        let count = block.load(as: Int.self)
        return ByteBuffer(bytes: UnsafeRawBufferPointer(start: block + MemoryLayout<Int>.size, count: count))
    }

    // MARK: Lua → Swift

    /// What one conversion has left and has seen.
    private struct Reading {
        /// Elements it may still read.
        var budget = maxElements
        /// The bytes of each `px.bytes` userdata read so far: one that a table holds many times
        /// becomes one buffer shared by every place, not a copy for each.
        var bytes: [UnsafeMutableRawPointer: ByteBuffer] = [:]
    }

    /// Reads the value at `index` (not popped).
    static func value(_ L: OpaquePointer, at index: Int32) throws(ConversionError) -> JSONValue {
        var reading = Reading()
        return try value(L, at: lua_absindex(L, index), depth: 0, reading: &reading)
    }

    private static func value(_ L: OpaquePointer, at index: Int32, depth: Int, reading: inout Reading) throws(ConversionError) -> JSONValue
    {
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE:
            return .null
        case LUA_TBOOLEAN:
            return .bool(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            if lua_isinteger(L, index) != 0 { return .number(String(px_tointeger(L, index))) }
            let number = px_tonumber(L, index)
            guard number.isFinite else { return .null }
            if number == number.rounded(), abs(number) < 1e15 { return .number(String(Int64(number))) }
            return .number("\(number)")
        case LUA_TSTRING:
            var length = 0
            let pointer = lua_tolstring(L, index, &length)!
            let raw = UnsafeRawBufferPointer(start: pointer, count: length)
            if let text = String(utf8Validating: raw) { return .string(text) }
            return .binary(ByteBuffer(bytes: raw))
        case LUA_TLIGHTUSERDATA:
            return .null
        case LUA_TUSERDATA:
            if let block = luaL_testudata(L, index, bytesMetatable.cString) {
                if let seen = reading.bytes[block] { return .binary(seen) }
                let copy = bytes(L, at: index)!
                reading.bytes[block] = copy
                return .binary(copy)
            }
            throw ConversionError(description: "a userdata cannot leave Lua")
        case LUA_TTABLE:
            guard depth < maxDepth else { throw ConversionError(description: "value nested deeper than \(maxDepth)") }
            // Each level holds a key and a value on the stack; Lua only guarantees 20 free slots.
            guard lua_checkstack(L, 4) != 0 else { throw ConversionError(description: "Lua stack exhausted") }
            return try table(L, at: index, depth: depth + 1, reading: &reading)
        default:
            throw ConversionError(description: "a \(String(cString: px_typename(L, index))) cannot leave Lua")
        }
    }

    private static func table(_ L: OpaquePointer, at index: Int32, depth: Int, reading: inout Reading) throws(ConversionError) -> JSONValue
    {
        let length = Int(lua_rawlen(L, index))
        var isArray = false
        if lua_getmetatable(L, index) != 0 {
            px_getmetatable_named(L, arrayMetatable.cString)
            isArray = lua_rawequal(L, -1, -2) != 0
            px_pop(L, 2)
        }
        if !isArray, length > 0, countKeys(L, at: index) == length { isArray = true }
        if isArray {
            var items: [JSONValue] = []
            items.reserveCapacity(length)
            for position in 1...max(length, 1) where position <= length {
                reading.budget -= 1
                guard reading.budget >= 0 else { throw ConversionError(description: "value has more than \(maxElements) elements") }
                lua_rawgeti(L, index, lua_Integer(position))
                defer { px_pop(L, 1) }
                items.append(try value(L, at: lua_gettop(L), depth: depth, reading: &reading))
            }
            return .array(items)
        }
        // Sized exactly: an identity kept per socket would otherwise carry the spare slots of
        // doubling growth (a 352-byte block for seven members).
        var members: [JSONMember] = []
        members.reserveCapacity(countKeys(L, at: index))
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            reading.budget -= 1
            guard reading.budget >= 0 else {
                px_pop(L, 2)
                throw ConversionError(description: "value has more than \(maxElements) elements")
            }
            let key: String
            switch lua_type(L, -2) {
            case LUA_TSTRING: key = LuaVM.string(L, at: -2) ?? ""
            case LUA_TNUMBER: key = lua_isinteger(L, -2) != 0 ? String(px_tointeger(L, -2)) : "\(px_tonumber(L, -2))"
            default:
                px_pop(L, 2)
                throw ConversionError(description: "object keys must be strings or numbers")
            }
            do {
                members.append(JSONMember(key, try value(L, at: lua_gettop(L), depth: depth, reading: &reading)))
            } catch {
                px_pop(L, 2)
                throw error
            }
            px_pop(L, 1)
        }
        // lua_next order is unspecified: sort keys so output is stable.
        members.sort { $0.key < $1.key }
        return .object(members)
    }

    private static func countKeys(_ L: OpaquePointer, at index: Int32) -> Int {
        var count = 0
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            count += 1
            px_pop(L, 1)
        }
        return count
    }
}
