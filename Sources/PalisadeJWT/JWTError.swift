/// Why a token was refused, a key could not be made, or a token could not be signed.
///
/// Descriptions are safe to log: they never hold the token, a signature or key material.
/// Strings that come from a token (an `alg` or `kid` value) are cut short and reduced to
/// printable ASCII first, so a hostile header cannot forge log lines.
public enum JWTError: Error, Sendable, Equatable, CustomStringConvertible {
    // The caller's settings.
    /// The algorithms allow-list is mandatory and must name at least one algorithm.
    case emptyAllowList
    /// A name that is not one of the JWS algorithms this library implements.
    case unsupportedAlgorithm(String)
    /// Leeway must be zero or more seconds.
    case invalidLeeway

    // The token's shape.
    /// Tokens longer than the limit are refused before any parsing.
    case tokenTooLarge(limit: Int)
    /// Not three base64url segments, or a header or payload that is not a JSON object.
    case malformedToken(String)

    // The header.
    /// `alg: none` (unsecured JWS) is never accepted, whatever the allow-list says.
    case algorithmNone
    /// The token's `alg` is not in the allow-list.
    case algorithmNotAllowed(String)
    /// The header has `crit`: no JWS extension is implemented, so RFC 7515 §4.1.11 says refuse.
    case unsupportedCriticalHeader

    // Keys.
    /// The key set is empty.
    case noKeys
    /// The token's `kid` names no key of the set.
    case unknownKeyID(String)
    /// The token has no `kid` and more than one key of the set could verify it.
    case keyIDRequired
    /// The selected key's type cannot do the token's algorithm (e.g. HS256 with an RSA key).
    case keyCannotUseAlgorithm(key: String, algorithm: String)
    /// Key material that could not be read, or that is too weak to use.
    case invalidKey(String)
    /// A well-formed key of a type or curve this library does not verify with.
    case unsupportedKeyType(String)
    /// A key file that could not be read (the path is the caller's, never a secret).
    case keyFileUnreadable(path: String, reason: String)

    // Verification.
    case signatureMismatch
    /// `exp` has passed (allowing for leeway).
    case expired
    /// `nbf` is still in the future (allowing for leeway).
    case notYetValid
    /// `iat` is in the future (allowing for leeway).
    case issuedInTheFuture
    /// A registered claim with the wrong type (e.g. a non-numeric `exp`) or a value that does not match.
    case invalidClaim(String)
    /// A claim the caller requires is absent.
    case missingClaim(String)

    // Signing.
    case signingFailed(String)

    public var description: String {
        switch self {
        case .emptyAllowList: "the algorithms allow-list is empty"
        case .unsupportedAlgorithm(let name): "unsupported algorithm \(name)"
        case .invalidLeeway: "leeway must not be negative"
        case .tokenTooLarge(let limit): "token longer than \(limit) bytes"
        case .malformedToken(let reason): "malformed token: \(reason)"
        case .algorithmNone: "unsigned tokens (alg none) are never accepted"
        case .algorithmNotAllowed(let name): "algorithm \(name) is not allowed"
        case .unsupportedCriticalHeader: "token has critical header parameters (crit), which are not supported"
        case .noKeys: "no keys to verify with"
        case .unknownKeyID(let kid): "no key with kid \(kid)"
        case .keyIDRequired: "token has no kid and several keys could verify it"
        case .keyCannotUseAlgorithm(let key, let algorithm): "\(key) cannot be used with \(algorithm)"
        case .invalidKey(let reason): "invalid key: \(reason)"
        case .unsupportedKeyType(let type): "unsupported key type \(type)"
        case .keyFileUnreadable(let path, let reason): "cannot read key file \(path): \(reason)"
        case .signatureMismatch: "signature does not match"
        case .expired: "token has expired"
        case .notYetValid: "token is not valid yet (nbf)"
        case .issuedInTheFuture: "token is issued in the future (iat)"
        case .invalidClaim(let name): "invalid claim \(name)"
        case .missingClaim(let name): "missing claim \(name)"
        case .signingFailed(let reason): "signing failed: \(reason)"
        }
    }

    /// Longest untrusted string kept in an error.
    static let maxEchoedLength = 64

    /// `text` from a token, made safe to log: printable ASCII only, at most `maxEchoedLength` characters.
    static func echo(_ text: String) -> String {
        var output = ""
        for scalar in text.unicodeScalars.prefix(maxEchoedLength) {
            output.unicodeScalars.append((0x20...0x7E).contains(scalar.value) ? scalar : "?")
        }
        if text.unicodeScalars.count > maxEchoedLength { output += "…" }
        return output
    }
}
