import PalisadeJSON
import PalisadeJWT
import Testing

/// Each algorithm against tokens minted by PyJWT with keys made by the openssl command.
@Suite struct AlgorithmTests {
    @Test(arguments: Fixtures.caseNames)
    func validTokenVerifiesWithItsKey(caseName: String) throws {
        let claims = try verify(
            Fixtures.token(caseName, "valid"), keys: [Fixtures.verifyingKey(caseName)],
            algorithms: [Fixtures.algorithm(caseName)]
        )
        #expect(claims["sub"] == .string("user-1"))
        #expect(claims["exp"] == JSONValue(Int(Fixtures.now) + 3600))
    }

    @Test(arguments: Fixtures.caseNames)
    func validTokenWithKidVerifiesThroughTheJWKS(caseName: String) throws {
        let claims = try verify(
            Fixtures.token(caseName, "valid_with_kid"), keys: Fixtures.jwks(), algorithms: [Fixtures.algorithm(caseName)]
        )
        #expect(claims["id"] == .string("user-1"))
    }

    @Test(arguments: Fixtures.caseNames)
    func tamperedPayloadIsRefused(caseName: String) throws {
        let key = try Fixtures.verifyingKey(caseName)
        #expect(throws: JWTError.signatureMismatch) {
            try verify(Fixtures.token(caseName, "tampered_payload"), keys: [key], algorithms: [Fixtures.algorithm(caseName)])
        }
    }

    @Test(arguments: Fixtures.caseNames)
    func tamperedSignatureIsRefused(caseName: String) throws {
        let key = try Fixtures.verifyingKey(caseName)
        #expect(throws: JWTError.signatureMismatch) {
            try verify(Fixtures.token(caseName, "tampered_signature"), keys: [key], algorithms: [Fixtures.algorithm(caseName)])
        }
    }

    @Test(arguments: Fixtures.caseNames)
    func tokenSignedWithAnotherKeyOfTheSameTypeIsRefused(caseName: String) throws {
        let key = try Fixtures.verifyingKey(caseName)
        #expect(throws: JWTError.signatureMismatch) {
            try verify(Fixtures.token(caseName, "wrong_key"), keys: [key], algorithms: [Fixtures.algorithm(caseName)])
        }
    }

    @Test(arguments: Fixtures.caseNames)
    func validTokenIsRefusedWhenItsAlgorithmIsNotAllowed(caseName: String) throws {
        let key = try Fixtures.verifyingKey(caseName)
        let others = JWTAlgorithm.allCases.map(\.rawValue).filter { $0 != Fixtures.algorithm(caseName) }
        #expect(throws: JWTError.algorithmNotAllowed(Fixtures.algorithm(caseName))) {
            try verify(Fixtures.token(caseName, "valid"), keys: [key], algorithms: others)
        }
    }

    @Test func rsaSignaturesVerifyWithTheCertificateAndPKCS1AndPrivateKeyPEMs() throws {
        let token = Fixtures.token("RS256", "valid")
        for name in ["rsa.cert.pem", "rsa.pkcs1.pub.pem", "rsa.pem"] {
            let claims = try verify(token, keys: [Fixtures.key(name)], algorithms: ["RS256"])
            #expect(claims["sub"] == .string("user-1"), "\(name)")
        }
    }

    @Test func ecdsaSignatureInDERFormIsRefused() throws {
        let key = try Fixtures.verifyingKey("ES256")
        #expect(throws: JWTError.signatureMismatch) {
            try verify(Fixtures.special("es256_der_signature"), keys: [key], algorithms: ["ES256"])
        }
    }

    @Test func es384TokenIsRefusedByAP256Key() throws {
        let p256 = try Fixtures.verifyingKey("ES256")
        #expect(throws: JWTError.keyCannotUseAlgorithm(key: "EC P-256 key", algorithm: "ES384")) {
            try verify(Fixtures.token("ES384", "valid"), keys: [p256], algorithms: ["ES256", "ES384"])
        }
    }
}
