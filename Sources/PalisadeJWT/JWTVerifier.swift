import PalisadeJSON

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Verifies compact JWS tokens (JWTs) and returns their claims.
///
/// A token passes only if, in this order: it is at most `maximumTokenLength` bytes; it has
/// three base64url segments and a JSON-object header without `crit`; its `alg` is not
/// `none` and is in the caller's allow-list; a key is selected by `kid` (see `JWTKeySet`)
/// whose type can do that `alg`; the signature verifies; the payload is a JSON object;
/// and `exp`, `nbf`, `iat` (when present, and numeric) hold at `now` with `leeway`.
/// Header parameters that point at keys (`jwk`, `jku`, `x5u`, `x5c`) are ignored: keys
/// come only from the caller.
public enum JWTVerifier {
    /// Longest token accepted, checked before any parsing. Real JWTs are well under 2 KiB;
    /// 16 KiB leaves room for large claim sets while bounding the work a hostile token causes.
    public static let maximumTokenLength = 16 * 1024

    /// - Parameters:
    ///   - algorithms: the allow-list, mandatory and non-empty (`"HS256"`, `"RS256"`, …).
    ///   - leeway: seconds of clock skew tolerated for `exp`, `nbf` and `iat`.
    ///   - requiredClaims: claim names that must be present (e.g. `["exp"]`).
    ///   - issuer: when given, `iss` must equal it.
    ///   - audience: when given, `aud` (a string or an array of strings) must contain it.
    ///   - now: the current time in seconds since the epoch (injected by tests).
    /// - Returns: the claims, a JSON object.
    public static func verify(
        token: String, keys: JWTKeySet, algorithms: [String], leeway: Int64 = 0, requiredClaims: [String] = [],
        issuer: String? = nil, audience: String? = nil, now: Int64 = currentTime()
    ) throws(JWTError) -> JSONValue {
        let allowed = try JWTAlgorithm.allowList(algorithms)
        guard leeway >= 0 else { throw .invalidLeeway }
        guard token.utf8.count <= maximumTokenLength else { throw .tokenTooLarge(limit: maximumTokenLength) }
        let jws = try CompactJWS(parsing: token)
        guard let algorithm = JWTAlgorithm(rawValue: jws.algorithm), allowed.contains(algorithm) else {
            throw .algorithmNotAllowed(JWTError.echo(jws.algorithm))
        }
        let candidates = try keys.candidates(for: algorithm, kid: jws.kid)
        guard candidates.contains(where: { JWSSignature.verify(jws.signature, of: jws.signingInput, algorithm: algorithm, key: $0) })
        else { throw .signatureMismatch }
        let claims = try jws.claims()
        try checkTimes(claims, now: now, leeway: leeway)
        try checkRequired(claims, requiredClaims: requiredClaims, issuer: issuer, audience: audience)
        return claims
    }

    /// `verify` with a plain list of keys.
    public static func verify(
        token: String, keys: [JWTKey], algorithms: [String], leeway: Int64 = 0, requiredClaims: [String] = [],
        issuer: String? = nil, audience: String? = nil, now: Int64 = currentTime()
    ) throws(JWTError) -> JSONValue {
        try verify(
            token: token, keys: JWTKeySet(keys: keys), algorithms: algorithms, leeway: leeway,
            requiredClaims: requiredClaims, issuer: issuer, audience: audience, now: now
        )
    }

    /// Seconds since the epoch, from the system clock.
    public static func currentTime() -> Int64 {
        Int64(time(nil))
    }
}
