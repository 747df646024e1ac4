import PalisadeJSON
import PalisadeJWT
import Testing

@Suite struct SignerTests {
    /// HMAC, RSA PKCS#1 v1.5 and Ed25519 signatures are deterministic, so the same header
    /// and claims must give PyJWT's token byte for byte.
    @Test(arguments: [
        ("HS256", "hmac.secret", nil as String?, "HS256"),
        ("HS512_with_kid", "hmac.secret", "hmac-1", "HS512"),
        ("RS256", "rsa.pem", nil, "RS256"),
        ("EdDSA", "ed25519.pem", nil, "EdDSA"),
    ])
    func signedTokenIsByteForByteWhatPyJWTMints(reference: String, keyName: String, kid: String?, algorithm: String) throws {
        let claims = try JSONParser.parse(Fixtures.reference("claims"))
        let token = try JWTSigner.sign(claims: claims, key: Fixtures.key(keyName, kid: kid), algorithm: algorithm)
        #expect(token == Fixtures.reference(reference))
    }

    @Test(arguments: Fixtures.caseNames)
    func signedTokenVerifiesWithThePublicKey(caseName: String) throws {
        let claims = JSONValue.object(["sub": .string("user-2"), "exp": JSONValue(Int(Fixtures.now) + 60)])
        let algorithm = Fixtures.algorithm(caseName)
        let token = try JWTSigner.sign(claims: claims, key: Fixtures.signingKey(caseName), algorithm: algorithm)
        #expect(try verify(token, keys: [Fixtures.verifyingKey(caseName)], algorithms: [algorithm]) == claims)
    }

    @Test func signingRefusesAlgNoneAndAlgorithmsTheKeyCannotDo() throws {
        let secret = try Fixtures.hmacSecret
        let claims = JSONValue.object(["sub": .string("x")])
        #expect(throws: JWTError.algorithmNone) { try JWTSigner.sign(claims: claims, key: secret, algorithm: "none") }
        #expect(throws: JWTError.keyCannotUseAlgorithm(key: "HMAC secret", algorithm: "RS256")) {
            try JWTSigner.sign(claims: claims, key: secret, algorithm: "RS256")
        }
        #expect(throws: JWTError.signingFailed("claims must be a JSON object")) {
            try JWTSigner.sign(claims: .array([]), key: secret, algorithm: "HS256")
        }
    }
}
