import PalisadeJSON

extension JWTVerifier {
    /// `exp`, `nbf` and `iat` (RFC 7519 §4.1.4–4.1.6), each optional but numeric when present.
    /// A token is expired from the second `exp` names (the time "MUST be before" `exp`),
    /// as PyJWT also counts it.
    static func checkTimes(_ claims: JSONValue, now: Int64, leeway: Int64) throws(JWTError) {
        let now = Double(now)
        let leeway = Double(leeway)
        if let exp = try numericDate(claims, "exp"), now >= exp + leeway { throw .expired }
        if let nbf = try numericDate(claims, "nbf"), now + leeway < nbf { throw .notYetValid }
        if let iat = try numericDate(claims, "iat"), iat > now + leeway { throw .issuedInTheFuture }
    }

    static func checkRequired(_ claims: JSONValue, requiredClaims: [String], issuer: String?, audience: String?) throws(JWTError) {
        for name in requiredClaims where claims[name] == nil {
            throw .missingClaim(JWTError.echo(name))
        }
        if let issuer {
            guard let iss = claims["iss"] else { throw .missingClaim("iss") }
            guard iss.stringValue == issuer else { throw .invalidClaim("iss") }
        }
        if let audience {
            switch claims["aud"] {
            case nil: throw .missingClaim("aud")
            case .string(let single)?: guard single == audience else { throw .invalidClaim("aud") }
            case .array(let items)?: guard items.contains(.string(audience)) else { throw .invalidClaim("aud") }
            default: throw .invalidClaim("aud")
            }
        }
    }

    /// A NumericDate: a JSON number, possibly fractional; strings, booleans and
    /// non-finite values (`1e999`) are refused.
    private static func numericDate(_ claims: JSONValue, _ name: String) throws(JWTError) -> Double? {
        guard let value = claims[name] else { return nil }
        guard case .number(let text) = value, let number = Double(text), number.isFinite else { throw .invalidClaim(name) }
        return number
    }
}
