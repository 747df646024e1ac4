import CLua
import CPalisadeShims
import NIOCore
import PalisadeJSON

@testable import PalisadePolicy

/// The Lua value bridge: a JSON value (the input after its first byte; an odd first byte makes
/// its strings binary) into Lua and back. The first trip may normalise (floats
/// that are whole become integers, member order is sorted, duplicate names collapse); from
/// then on a value must come back exactly as it went in. Values too deep or too large for
/// the bridge are refused with an error, and the Lua stack is left as it was either way.
enum LuaBridgeTarget {
    /// One VM for the whole run, as a policy engine keeps one per loop; the cap is the engine's default.
    /// Safe: libFuzzer calls the target on one thread.
    nonisolated(unsafe) static let vm: LuaVM = {
        let vm = try! LuaVM(memoryCap: 64 << 20)
        LuaBridge.install(vm.L)
        return vm
    }()

    static func run(_ bytes: [UInt8]) {
        guard let first = bytes.first, var value = try? JSONParser.parse(bytes.dropFirst()) else { return }
        if first & 1 == 1 { value = withBinaryStrings(value) }
        guard let once = roundTrip(value) else { return }
        let twice = roundTrip(once)
        check(twice == once, "\(once) comes back from Lua as \(String(describing: twice))")
    }

    /// `value` with every string that is not a member name made binary (a `px.bytes` in Lua), as
    /// Socket.IO attachments reach policies.
    static func withBinaryStrings(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text): .binary(ByteBuffer(string: text))
        case .array(let items): .array(items.map(withBinaryStrings))
        case .object(let members): .object(members.map { JSONMember($0.key, withBinaryStrings($0.value)) })
        default: value
        }
    }

    /// `value` pushed into Lua and read back; nil when the bridge refuses it.
    static func roundTrip(_ value: JSONValue) -> JSONValue? {
        let L = vm.L
        let top = lua_gettop(L)
        LuaBridge.push(value, L)
        check(lua_gettop(L) == top + 1, "a push left the stack at \(lua_gettop(L)), not \(top + 1)")
        defer { lua_settop(L, top) }
        return try? LuaBridge.value(L, at: -1)
    }
}
