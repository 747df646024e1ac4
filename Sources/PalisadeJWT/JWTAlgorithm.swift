import COpenSSL

/// The JWS algorithms this library implements (RFC 7518 §3, RFC 8037 for EdDSA).
/// `none` is deliberately absent: it can be neither allowed nor produced.
public enum JWTAlgorithm: String, Sendable, CaseIterable, CustomStringConvertible {
    case hs256 = "HS256"
    case hs384 = "HS384"
    case hs512 = "HS512"
    case rs256 = "RS256"
    case rs384 = "RS384"
    case rs512 = "RS512"
    case ps256 = "PS256"
    case ps384 = "PS384"
    case ps512 = "PS512"
    case es256 = "ES256"
    case es384 = "ES384"
    case edDSA = "EdDSA"

    enum Family: Sendable {
        case hmac, rsaPKCS1, rsaPSS, ecdsa, eddsa
    }

    var family: Family {
        switch self {
        case .hs256, .hs384, .hs512: .hmac
        case .rs256, .rs384, .rs512: .rsaPKCS1
        case .ps256, .ps384, .ps512: .rsaPSS
        case .es256, .es384: .ecdsa
        case .edDSA: .eddsa
        }
    }

    /// The OpenSSL digest; nil for EdDSA, which hashes internally.
    var digest: OpaquePointer? {
        switch self {
        case .hs256, .rs256, .ps256, .es256: EVP_sha256()
        case .hs384, .rs384, .ps384, .es384: EVP_sha384()
        case .hs512, .rs512, .ps512: EVP_sha512()
        case .edDSA: nil
        }
    }

    public var description: String { rawValue }

    /// Parses an allow-list. Names are case-sensitive, as in JWS; `none` in any spelling is refused.
    static func allowList(_ names: [String]) throws(JWTError) -> [JWTAlgorithm] {
        guard !names.isEmpty else { throw .emptyAllowList }
        var algorithms: [JWTAlgorithm] = []
        for name in names {
            guard name.lowercased() != "none" else { throw .algorithmNone }
            guard let algorithm = JWTAlgorithm(rawValue: name) else { throw .unsupportedAlgorithm(JWTError.echo(name)) }
            algorithms.append(algorithm)
        }
        return algorithms
    }
}
