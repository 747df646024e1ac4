import CLua
import CPalisadeShims
import PalisadeJSON
import PalisadeJWT

/// `px.jwt.verify(token, {algorithms = {...}, leeway = s[, key = secret or PEM][, jwks_file = path]})`
/// → claims | nil, err. The algorithms allow-list is mandatory; a JWKS file selects the key by `kid`;
/// without `key` or `jwks_file` the server's JWT secret is used.
extension PalisadeModule {
    static func installJWT(in runtime: LuaRuntime, host: PolicyHost) {
        let vm = runtime.vm
        px_newtable(vm.L)
        vm.setFunction("verify", inTableAt: -1) { state in
            guard let token = LuaStack.optionalString(state, 1) else { return LuaStack.failure(state, "no token") }
            guard px_istable(state, 2) != 0 else {
                return LuaStack.raise(state, "px.jwt.verify(token, options): options with an algorithms list are required")
            }
            let options = JWTOptions(state, at: 2)
            let algorithms = options.algorithms
            guard !algorithms.isEmpty else {
                return LuaStack.raise(state, "px.jwt.verify: options.algorithms must list the accepted algorithms")
            }
            let leeway = options.leeway
            if let path = options.jwksFile {
                guard let call = runtime.activeCall(state) else {
                    return LuaStack.raise(state, "px.jwt.verify with a jwks_file can only run inside a hook")
                }
                return call.suspend(on: host.keySet(path: path, on: runtime.loop)) { state, result in
                    do {
                        let claims = try JWTVerifier.verify(token: token, keys: try result.get(), algorithms: algorithms, leeway: leeway)
                        LuaBridge.push(claims, state)
                        return 1
                    } catch {
                        return LuaStack.failure(state, "\(error)")
                    }
                }
            }
            let key: JWTKey
            if let material = options.key {
                do {
                    key = material.contains("-----BEGIN") ? try JWTKey(pem: material) : try JWTKey(secret: material)
                } catch {
                    return LuaStack.failure(state, "unusable key: \(error)")
                }
            } else if let configured = host.defaultJWTKey {
                key = configured
            } else {
                return LuaStack.failure(state, "no JWT key is configured")
            }
            do {
                let claims = try JWTVerifier.verify(token: token, keys: [key], algorithms: algorithms, leeway: leeway)
                LuaBridge.push(claims, state)
                return 1
            } catch {
                return LuaStack.failure(state, "\(error)")
            }
        }
        lua_setfield(vm.L, -2, "jwt")
    }
}

/// The options table of `px.jwt.verify`, read field by field from the stack (converting the
/// whole table to a `JSONValue` would be a visible part of a connect).
private struct JWTOptions {
    private static let algorithmsName = LuaName("algorithms")
    private static let leewayName = LuaName("leeway")
    private static let jwksFileName = LuaName("jwks_file")
    private static let keyName = LuaName("key")

    var algorithms: [String] = []
    /// Seconds; an integer (a number with a fraction, or anything else, counts as 0).
    var leeway: Int64 = 0
    var jwksFile: String?
    var key: String?

    /// Raw reads only: a metatable on the options runs no code here (an error raised from a
    /// metamethod would unwind through Swift frames).
    init(_ L: OpaquePointer, at index: Int32) {
        let index = lua_absindex(L, index)
        if Self.field(L, index, Self.algorithmsName) == LUA_TTABLE {
            let count = lua_Integer(lua_rawlen(L, -1))
            if count > 0 {
                for position in 1...count {
                    lua_rawgeti(L, -1, position)
                    if let name = LuaStack.optionalString(L, -1) { algorithms.append(name) }
                    px_pop(L, 1)
                }
            }
        }
        px_pop(L, 1)
        if Self.field(L, index, Self.leewayName) == LUA_TNUMBER {
            var isInteger: Int32 = 0
            let seconds = lua_tointegerx(L, -1, &isInteger)
            if isInteger != 0 { leeway = Int64(seconds) }
        }
        px_pop(L, 1)
        Self.field(L, index, Self.jwksFileName)
        jwksFile = LuaStack.optionalString(L, -1)
        px_pop(L, 1)
        Self.field(L, index, Self.keyName)
        key = LuaStack.optionalString(L, -1)
        px_pop(L, 1)
    }

    /// Pushes `table[name]` without metamethods; returns its type. Stack: +1.
    @discardableResult
    private static func field(_ L: OpaquePointer, _ table: Int32, _ name: LuaName) -> Int32 {
        lua_pushstring(L, name.cString)
        return lua_rawget(L, table)
    }
}
