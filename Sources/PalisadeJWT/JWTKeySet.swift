import PalisadeJSON

/// The keys a token may be verified with, selected by the token's `kid`.
///
/// Selection (`candidates(for:kid:)`):
/// - a token with a `kid` uses the keys with that `kid`; if none has it, the token is
///   refused (`unknownKeyID`), except when the set is one key without a `kid` (a plain
///   secret or PEM), which is then used;
/// - a token without a `kid` uses the only key that can do its algorithm; if several
///   can, the token must name one (`keyIDRequired`).
/// Either way the chosen key must support the token's algorithm (`JWTKey.supports`).
public struct JWTKeySet: Sendable {
    public let keys: [JWTKey]
    /// JWKS entries left out because they are not for signatures (`use` other than `sig`,
    /// an `alg` that is not a JWS signature algorithm) or of a type or curve this library
    /// does not verify with. Identity providers publish such keys next to their signing keys.
    public let skippedCount: Int

    public init(keys: [JWTKey]) {
        self.keys = keys
        self.skippedCount = 0
    }

    public init(_ key: JWTKey) {
        self.init(keys: [key])
    }

    /// A set from a JWKS object (`{"keys": [...]}`, RFC 7517 §5).
    public init(jwks: JSONValue) throws(JWTError) {
        guard case .object(let members) = jwks, JWTKey.hasUniqueNames(members), let entries = jwks["keys"]?.arrayValue else {
            throw .invalidKey("a JWKS must be an object with a keys array")
        }
        var keys: [JWTKey] = []
        var skipped = 0
        for (index, entry) in entries.enumerated() {
            if Self.isForOtherUses(entry) {
                skipped += 1
                continue
            }
            do throws(JWTError) {
                keys.append(try JWTKey(jwk: entry))
            } catch .unsupportedKeyType {
                skipped += 1
            } catch {
                throw .invalidKey("keys[\(index)]: \(Self.reason(error))")
            }
        }
        guard !keys.isEmpty else { throw .noKeys }
        self.keys = keys
        self.skippedCount = skipped
    }

    /// A set from a JWKS's JSON text.
    public init(jwksJSON: String) throws(JWTError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(jwksJSON)
        } catch {
            throw .invalidKey("the JWKS is not valid JSON (\(error))")
        }
        try self.init(jwks: value)
    }

    /// The keys to try for a token with `algorithm` and `kid`, in set order (see the type's comment).
    func candidates(for algorithm: JWTAlgorithm, kid: String?) throws(JWTError) -> [JWTKey] {
        guard !keys.isEmpty else { throw .noKeys }
        let named: [JWTKey]
        if let kid {
            let matching = keys.filter { $0.kid == kid }
            if !matching.isEmpty {
                named = matching
            } else if keys.count == 1, keys[0].kid == nil {
                named = keys
            } else {
                throw .unknownKeyID(JWTError.echo(kid))
            }
        } else if keys.count == 1 {
            named = keys
        } else {
            let usable = keys.filter { $0.supports(algorithm) }
            guard usable.count <= 1 else { throw .keyIDRequired }
            named = usable.isEmpty ? keys : usable
        }
        let usable = named.filter { $0.supports(algorithm) }
        guard !usable.isEmpty else {
            throw .keyCannotUseAlgorithm(key: named.count == 1 ? named[0].description : "the key set", algorithm: algorithm.rawValue)
        }
        return usable
    }

    private static func isForOtherUses(_ entry: JSONValue) -> Bool {
        if let use = entry["use"]?.stringValue, use != "sig" { return true }
        if let alg = entry["alg"]?.stringValue, JWTAlgorithm(rawValue: alg) == nil { return true }
        return false
    }

    private static func reason(_ error: JWTError) -> String {
        if case .invalidKey(let reason) = error { return reason }
        return error.description
    }
}
