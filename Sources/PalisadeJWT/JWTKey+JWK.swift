import COpenSSL
import PalisadeJSON

extension JWTKey {
    /// A key from a JWK (RFC 7517) object: `kty` `RSA` (`n`, `e`), `EC` (`crv` P-256 or
    /// P-384, `x`, `y`), `OKP` (`crv` Ed25519 or Ed448, `x`) or `oct` (`k`, an HMAC secret).
    ///
    /// Asymmetric JWKs are read as public keys (private members are ignored). `kid` is kept;
    /// an `alg` member pins the key to that algorithm; `use` other than `sig` is refused.
    public init(jwk: JSONValue) throws(JWTError) {
        guard case .object(let members) = jwk else { throw .invalidKey("a JWK must be a JSON object") }
        guard Self.hasUniqueNames(members) else { throw .invalidKey("the JWK has duplicate members") }
        let kty = try Self.string(jwk, "kty")
        let kid = try Self.optionalString(jwk, "kid")
        if let use = try Self.optionalString(jwk, "use"), use != "sig" {
            throw .invalidKey("JWK use is \(JWTError.echo(use)), not sig")
        }
        var pinned: JWTAlgorithm?
        if let alg = try Self.optionalString(jwk, "alg") {
            guard let algorithm = JWTAlgorithm(rawValue: alg) else { throw .unsupportedAlgorithm(JWTError.echo(alg)) }
            pinned = algorithm
        }
        switch kty {
        case "oct":
            let secret = try JWTKey(secret: try Self.bytes(jwk, "k"), kid: kid)
            try self.init(material: secret.material, type: .hmac, kid: kid, pinnedAlgorithm: pinned, hasPrivateKey: true)
        case "RSA":
            let pkey = try Self.rsaKey(modulus: try Self.bytes(jwk, "n"), exponent: try Self.bytes(jwk, "e"))
            try self.init(material: .asymmetric(pkey), type: try pkey.keyType(), kid: kid, pinnedAlgorithm: pinned, hasPrivateKey: false)
        case "EC":
            let crv = try Self.string(jwk, "crv")
            let type: KeyType
            let group: String
            switch crv {
            case "P-256": (type, group) = (.ecP256, "prime256v1")
            case "P-384": (type, group) = (.ecP384, "secp384r1")
            default: throw .unsupportedKeyType("EC \(JWTError.echo(crv))")
            }
            let x = try Self.bytes(jwk, "x")
            let y = try Self.bytes(jwk, "y")
            guard x.count == type.coordinateSize, y.count == type.coordinateSize else {
                throw .invalidKey("EC \(crv) coordinates must be \(type.coordinateSize) bytes each")
            }
            // Uncompressed SEC 1 point: 0x04 || x || y. OpenSSL checks that it lies on the curve.
            let pkey = try Self.ecKey(group: group, point: [0x04] + x + y)
            try self.init(material: .asymmetric(pkey), type: type, kid: kid, pinnedAlgorithm: pinned, hasPrivateKey: false)
        case "OKP":
            let crv = try Self.string(jwk, "crv")
            let type: KeyType
            let length: Int
            switch crv {
            case "Ed25519": (type, length) = (.ed25519, 32)
            case "Ed448": (type, length) = (.ed448, 57)
            default: throw .unsupportedKeyType("OKP \(JWTError.echo(crv))")
            }
            let x = try Self.bytes(jwk, "x")
            guard x.count == length else { throw .invalidKey("\(crv) public keys are \(length) bytes") }
            let pointer = x.withUnsafeBufferPointer { buffer in
                EVP_PKEY_new_raw_public_key_ex(nil, crv == "Ed25519" ? "ED25519" : "ED448", nil, buffer.baseAddress, buffer.count)
            }
            guard let pointer else {
                ERR_clear_error()
                throw .invalidKey("OpenSSL refused the \(crv) public key")
            }
            try self.init(
                material: .asymmetric(EVPKey(taking: pointer)), type: type, kid: kid, pinnedAlgorithm: pinned, hasPrivateKey: false)
        default:
            throw .unsupportedKeyType(JWTError.echo(kty))
        }
    }

    /// A key from a JWK's JSON text.
    public init(jwkJSON: String) throws(JWTError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(jwkJSON)
        } catch {
            throw .invalidKey("the JWK is not valid JSON (\(error))")
        }
        try self.init(jwk: value)
    }

    // MARK: Members

    static func hasUniqueNames(_ members: [JSONMember]) -> Bool {
        // A token's header and claims have a handful of members: comparing pairs costs less
        // than the set this made on every verification.
        guard members.count > 16 else {
            for (index, member) in members.enumerated() where members[(index + 1)...].contains(where: { $0.key == member.key }) {
                return false
            }
            return true
        }
        var seen = Set<String>()
        return members.allSatisfy { seen.insert($0.key).inserted }
    }

    private static func optionalString(_ jwk: JSONValue, _ name: String) throws(JWTError) -> String? {
        guard let value = jwk[name] else { return nil }
        guard let text = value.stringValue else { throw .invalidKey("JWK member \(name) must be a string") }
        return text
    }

    private static func string(_ jwk: JSONValue, _ name: String) throws(JWTError) -> String {
        guard let text = try optionalString(jwk, name) else { throw .invalidKey("JWK member \(name) is missing") }
        return text
    }

    private static func bytes(_ jwk: JSONValue, _ name: String) throws(JWTError) -> [UInt8] {
        guard let decoded = Base64URL.decode(try string(jwk, name).utf8), !decoded.isEmpty else {
            throw .invalidKey("JWK member \(name) is not base64url")
        }
        return decoded
    }

    // MARK: OpenSSL key construction

    private static func rsaKey(modulus: [UInt8], exponent: [UInt8]) throws(JWTError) -> EVPKey {
        let n = modulus.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
        let e = exponent.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
        defer {
            BN_free(n)
            BN_free(e)
        }
        guard let n, let e else { throw .invalidKey("RSA numbers cannot be read") }
        return try fromData(type: "RSA") { builder in
            OSSL_PARAM_BLD_push_BN(builder, palisade_param_rsa_n(), n) == 1
                && OSSL_PARAM_BLD_push_BN(builder, palisade_param_rsa_e(), e) == 1
        }
    }

    private static func ecKey(group: String, point: [UInt8]) throws(JWTError) -> EVPKey {
        // The builder keeps these pointers until it makes the parameters, inside `fromData`.
        try group.withCString { group in
            point.withUnsafeBufferPointer { point in
                Result { () throws(JWTError) -> EVPKey in
                    try fromData(type: "EC") { builder in
                        OSSL_PARAM_BLD_push_utf8_string(builder, palisade_param_group_name(), group, 0) == 1
                            && OSSL_PARAM_BLD_push_octet_string(builder, palisade_param_public_key(), point.baseAddress, point.count) == 1
                    }
                }
            }
        }.get()
    }

    /// `EVP_PKEY_fromdata` for a public key whose parameters `build` pushes. Every pointer
    /// pushed in `build` (names and values) must stay valid until this returns.
    private static func fromData(type: String, build: (OpaquePointer) -> Bool) throws(JWTError) -> EVPKey {
        defer { ERR_clear_error() }
        guard let builder = OSSL_PARAM_BLD_new() else { throw .invalidKey("out of memory") }
        defer { OSSL_PARAM_BLD_free(builder) }
        guard build(builder), let params = OSSL_PARAM_BLD_to_param(builder) else {
            throw .invalidKey("\(type) parameters cannot be built")
        }
        defer { OSSL_PARAM_free(params) }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, type, nil) else { throw .invalidKey("OpenSSL has no \(type)") }
        defer { EVP_PKEY_CTX_free(context) }
        var pkey: OpaquePointer?
        guard EVP_PKEY_fromdata_init(context) == 1,
            EVP_PKEY_fromdata(context, &pkey, palisade_evp_pkey_public_key_selection(), params) == 1,
            let pkey
        else { throw .invalidKey("OpenSSL refused the \(type) public key") }
        return EVPKey(taking: pkey)
    }
}
