import CLua
import CPalisadeShims
import PalisadeJWT
import PalisadeProtocol

/// `px.jwt.verify(token, {algorithms = {...}, leeway = s[, key = secret or PEM][, jwks_file = path]})`
/// → claims | nil, err. The algorithms allow-list is mandatory; a JWKS file selects the key by `kid`;
/// without `key` or `jwks_file` the server's JWT secret is used.
extension PalisadeModule {
    static func installJWT(in runtime: LuaRuntime, host: PolicyHost) {
        let vm = runtime.vm
        px_newtable(vm.L)
        vm.setFunction("verify", inTableAt: -1) { state in
            guard let token = LuaStack.optionalString(state, 1) else { return LuaStack.failure(state, "no token") }
            guard px_istable(state, 2) != 0, case .object? = try? LuaBridge.value(state, at: 2),
                  let options = try? LuaBridge.value(state, at: 2) else {
                return LuaStack.raise(state, "px.jwt.verify(token, options): options with an algorithms list are required")
            }
            let algorithms = (options["algorithms"]?.arrayValue ?? []).compactMap(\.stringValue)
            guard !algorithms.isEmpty else { return LuaStack.raise(state, "px.jwt.verify: options.algorithms must list the accepted algorithms") }
            let leeway = Int64(options["leeway"]?.intValue ?? 0)
            if let path = options["jwks_file"]?.stringValue {
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
            if let material = options["key"]?.stringValue {
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
