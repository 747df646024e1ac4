import PalisadeJSON

/// Signs claims into a compact JWS, for `palisade token` and for tests.
public enum JWTSigner {
    /// The header is `{"alg":…,"kid":…,"typ":"JWT"}` (kid only when the key has one), keys
    /// sorted as PyJWT writes them; the claims are written compactly in their own order.
    public static func sign(claims: JSONValue, key: JWTKey, algorithm: String) throws(JWTError) -> String {
        guard algorithm.lowercased() != "none" else { throw .algorithmNone }
        guard let algorithm = JWTAlgorithm(rawValue: algorithm) else { throw .unsupportedAlgorithm(JWTError.echo(algorithm)) }
        guard claims.isObject, !claims.containsBinary else { throw .signingFailed("claims must be a JSON object") }
        var header: [JSONMember] = [JSONMember("alg", .string(algorithm.rawValue))]
        if let kid = key.kid { header.append(JSONMember("kid", .string(kid))) }
        header.append(JSONMember("typ", .string("JWT")))
        let signingInput =
            Base64URL.encode(JSONWriter.string(.object(header)).utf8) + "."
            + Base64URL.encode(JSONWriter.string(claims).utf8)
        let signature = try JWSSignature.sign(Array(signingInput.utf8), algorithm: algorithm, key: key)
        return signingInput + "." + Base64URL.encode(signature)
    }
}
