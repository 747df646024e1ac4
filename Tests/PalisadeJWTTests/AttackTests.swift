import PalisadeJWT
import PalisadeProtocol
import Testing

/// Known ways of getting a forged token accepted, each refused.
@Suite struct AttackTests {
    @Test func algNoneIsRefused() throws {
        let key = try Fixtures.hmacSecret
        #expect(throws: JWTError.algorithmNone) {
            try verify(Fixtures.special("alg_none"), keys: [key], algorithms: ["HS256"])
        }
    }

    @Test(arguments: ["none", "None", "NONE"])
    func noneCannotBeAllowListed(spelling: String) throws {
        let key = try Fixtures.hmacSecret
        #expect(throws: JWTError.algorithmNone) {
            try verify(Fixtures.special("alg_none"), keys: [key], algorithms: ["HS256", spelling])
        }
    }

    @Test func emptyAllowListIsRefused() throws {
        let key = try Fixtures.hmacSecret
        #expect(throws: JWTError.emptyAllowList) {
            try verify(Fixtures.token("HS256", "valid"), keys: [key], algorithms: [])
        }
    }

    @Test func unknownAlgorithmInTheAllowListIsRefused() throws {
        let key = try Fixtures.hmacSecret
        #expect(throws: JWTError.unsupportedAlgorithm("hs256")) {
            try verify(Fixtures.token("HS256", "valid"), keys: [key], algorithms: ["hs256"])
        }
    }

    /// The classic confusion: the attacker HMAC-signs with the server's RSA public key PEM.
    @Test func hs256TokenKeyedWithTheRSAPublicKeyPEMIsRefusedByThatRSAKey() throws {
        let rsa = try Fixtures.key("rsa.pub.pem")
        #expect(throws: JWTError.keyCannotUseAlgorithm(key: "RSA-2048 key", algorithm: "HS256")) {
            try verify(Fixtures.special("hs256_keyed_with_rsa_public_pem"), keys: [rsa], algorithms: ["RS256", "HS256"])
        }
    }

    @Test func hs256TokenKeyedWithTheRSAPublicKeyPEMIsRefusedThroughTheJWKS() throws {
        #expect(throws: JWTError.signatureMismatch) {
            try verify(Fixtures.special("hs256_keyed_with_rsa_public_pem"), keys: Fixtures.jwks(), algorithms: ["RS256", "HS256"])
        }
    }

    @Test(arguments: ["rsa.pub.pem", "rsa.cert.pem", "ec256.pub.pem"])
    func publicKeyPEMCannotBecomeAnHMACSecret(name: String) {
        #expect(throws: JWTError.invalidKey("a PEM or SSH key cannot be used as an HMAC secret")) {
            try JWTKey(secret: Fixtures.keyText(name))
        }
    }

    @Test func sshPublicKeyCannotBecomeAnHMACSecret() {
        #expect(throws: JWTError.self) { try JWTKey(secret: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA test@host") }
    }

    @Test func emptyHMACSecretIsRefused() {
        #expect(throws: JWTError.invalidKey("the HMAC secret is empty")) { try JWTKey(secret: "") }
    }

    @Test(arguments: ["RS256", "PS256", "ES256", "EdDSA-Ed25519"])
    func asymmetricTokenIsRefusedByAnHMACSecret(caseName: String) throws {
        let secret = try Fixtures.hmacSecret
        let algorithm = Fixtures.algorithm(caseName)
        #expect(throws: JWTError.keyCannotUseAlgorithm(key: "HMAC secret", algorithm: algorithm)) {
            try verify(Fixtures.token(caseName, "valid"), keys: [secret], algorithms: [algorithm, "HS256"])
        }
    }

    @Test func criticalHeaderIsRefused() throws {
        let key = try Fixtures.hmacSecret
        #expect(throws: JWTError.unsupportedCriticalHeader) {
            try verify(Fixtures.special("crit_header"), keys: [key], algorithms: ["HS256"])
        }
    }

    @Test func headerWithDuplicateAlgIsRefused() throws {
        let key = try Fixtures.hmacSecret
        #expect(throws: JWTError.malformedToken("the header has duplicate members")) {
            try verify(Fixtures.special("duplicate_alg_header"), keys: [key], algorithms: ["HS256"])
        }
    }

    @Test func payloadWithDuplicateClaimIsRefused() throws {
        #expect(throws: JWTError.malformedToken("the payload has duplicate members")) {
            try verifyHS256(Fixtures.special("payload_duplicate_claim"))
        }
    }

    @Test func payloadThatIsNotJSONIsRefused() throws {
        #expect(throws: JWTError.self) { try verifyHS256(Fixtures.special("payload_not_json")) }
    }

    @Test func payloadThatIsAnArrayIsRefused() throws {
        #expect(throws: JWTError.malformedToken("the payload is not a JSON object")) {
            try verifyHS256(Fixtures.special("payload_is_array"))
        }
    }

    @Test(arguments: [
        ("", 1),
        ("abc", 1),
        ("a.b", 2),
        ("a.b.c.d", 4),
    ])
    func tokenWithoutThreeSegmentsIsRefused(token: String, segments: Int) throws {
        let key = try Fixtures.hmacSecret
        #expect(throws: JWTError.malformedToken("expected three segments, found \(segments)")) {
            try verify(token, keys: [key], algorithms: ["HS256"])
        }
    }

    @Test func tokenWithEmptySignatureIsRefused() throws {
        let valid = Fixtures.token("HS256", "valid")
        let unsigned = String(valid[...valid.lastIndex(of: ".")!])
        #expect(throws: JWTError.signatureMismatch) { try verifyHS256(unsigned) }
    }

    @Test(arguments: [
        ("eyJhbGciOiJIUzI1NiJ9=.e30.AAAA", "the header is not base64url"),  // padding
        ("eyJhbGciOiJIUzI1NiJ9.e30+.AAAA", "the payload is not base64url"),  // standard alphabet
        ("eyJhbGciOiJIUzI1NiJ9.e31.AAAA", "the payload is not base64url"),  // non-canonical last character
        ("eyJhbGciOiJIUzI1NiJ9.e30.A", "the signature is not base64url"),  // impossible length
        ("eyJhbGciOiJIUzI1NiJ9 .e30.AAAA", "the header is not base64url"),  // whitespace
    ])
    func segmentThatIsNotStrictBase64URLIsRefused(token: String, reason: String) throws {
        let key = try Fixtures.hmacSecret
        #expect(throws: JWTError.malformedToken(reason)) { try verify(token, keys: [key], algorithms: ["HS256"]) }
    }

    @Test func headerWithoutAlgIsRefused() throws {
        let key = try Fixtures.hmacSecret
        // {"typ":"JWT"}
        #expect(throws: JWTError.malformedToken("the header has no alg string")) {
            try verify("eyJ0eXAiOiJKV1QifQ.e30.AAAA", keys: [key], algorithms: ["HS256"])
        }
    }

    @Test func tokenLongerThanTheLimitIsRefusedBeforeParsing() throws {
        let key = try Fixtures.hmacSecret
        let valid = Fixtures.token("HS256", "valid")
        let long = valid + String(repeating: "A", count: JWTVerifier.maximumTokenLength)
        #expect(throws: JWTError.tokenTooLarge(limit: JWTVerifier.maximumTokenLength)) {
            try verify(long, keys: [key], algorithms: ["HS256"])
        }
    }
}
