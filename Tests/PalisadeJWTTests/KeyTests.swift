import PalisadeJSON
import PalisadeJWT
import Testing

/// Keys from PEM, JWK and JWKS; what each key type may do; selection by kid.
@Suite struct KeyTests {
    @Test(arguments: [
        ("hmac.secret", JWTKey.KeyType.hmac),
        ("rsa.pub.pem", .rsa(bits: 2048)),
        ("rsa.pkcs1.pub.pem", .rsa(bits: 2048)),
        ("rsa.cert.pem", .rsa(bits: 2048)),
        ("rsa.pem", .rsa(bits: 2048)),
        ("ec256.pub.pem", .ecP256),
        ("ec384.pub.pem", .ecP384),
        ("ed25519.pub.pem", .ed25519),
        ("ed448.pub.pem", .ed448),
    ])
    func keyTypeIsReadFromTheKeyMaterial(name: String, type: JWTKey.KeyType) throws {
        #expect(try Fixtures.key(name).type == type)
    }

    @Test func keyTypeBindsItsAlgorithms() throws {
        #expect(try Fixtures.key("hmac.secret").type.algorithms == [.hs256, .hs384, .hs512])
        #expect(try Fixtures.key("rsa.pub.pem").type.algorithms == [.rs256, .rs384, .rs512, .ps256, .ps384, .ps512])
        #expect(try Fixtures.key("ec256.pub.pem").type.algorithms == [.es256])
        #expect(try Fixtures.key("ec384.pub.pem").type.algorithms == [.es384])
        #expect(try Fixtures.key("ed25519.pub.pem").type.algorithms == [.edDSA])
    }

    @Test func rsaKeyShorterThan2048BitsIsRefused() {
        #expect(throws: JWTError.invalidKey("RSA keys need at least 2048 bits, this one has 1024")) {
            try Fixtures.key("rsa1024.pub.pem")
        }
    }

    @Test func encryptedPrivateKeyIsRefusedWithoutPrompting() {
        let encrypted =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n"
        #expect(throws: JWTError.invalidKey("encrypted private keys are not supported")) { try JWTKey(pem: encrypted) }
    }

    @Test(arguments: ["", "not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"])
    func textThatIsNotAPEMKeyIsRefused(text: String) {
        #expect(throws: JWTError.self) { try JWTKey(pem: text) }
    }

    @Test func keyAgreementKeyIsNotASigningKey() {
        #expect(throws: JWTError.unsupportedKeyType("X25519")) { try Fixtures.key("x25519.pem") }
    }

    @Test func publicKeyCannotSign() throws {
        let key = try Fixtures.key("rsa.pub.pem")
        #expect(!key.hasPrivateKey)
        #expect(throws: JWTError.signingFailed("RSA-2048 key has no private part")) {
            try JWTSigner.sign(claims: .object(["sub": .string("x")]), key: key, algorithm: "RS256")
        }
    }

    // MARK: JWK and JWKS

    @Test func jwksLoadsEverySignatureKeyAndSkipsTheOthers() throws {
        let set = try Fixtures.jwks()
        #expect(set.keys.map(\.kid) == ["rsa-1", "ec256-1", "ec384-1", "ed25519-1", "ed448-1", "hmac-1"])
        #expect(set.keys.map(\.type) == [.rsa(bits: 2048), .ecP256, .ecP384, .ed25519, .ed448, .hmac])
        #expect(set.skippedCount == 2)  // the use=enc RSA key and the X25519 key
    }

    @Test func tokenWithUnknownKidIsRefused() throws {
        #expect(throws: JWTError.unknownKeyID("rotated-away")) {
            try verify(Fixtures.special("unknown_kid"), keys: Fixtures.jwks(), algorithms: ["RS256"])
        }
    }

    @Test func tokenWithKidUsesASingleKeyThatHasNoKid() throws {
        let claims = try verify(Fixtures.token("RS256", "valid_with_kid"), keys: [Fixtures.key("rsa.pub.pem")], algorithms: ["RS256"])
        #expect(claims["sub"] == .string("user-1"))
    }

    @Test func tokenWithoutKidUsesTheOnlyKeyOfTheSetThatFitsItsAlgorithm() throws {
        let claims = try verify(Fixtures.token("ES384", "valid"), keys: Fixtures.jwks(), algorithms: ["ES384"])
        #expect(claims["sub"] == .string("user-1"))
    }

    @Test func tokenWithoutKidIsRefusedWhenSeveralKeysFit() throws {
        let set = JWTKeySet(keys: [try Fixtures.key("rsa-other.pub.pem", kid: "a"), try Fixtures.key("rsa.pub.pem", kid: "b")])
        #expect(throws: JWTError.keyIDRequired) {
            try verify(Fixtures.token("RS256", "valid"), keys: set, algorithms: ["RS256"])
        }
    }

    @Test func emptyKeyListRefusesEveryToken() {
        #expect(throws: JWTError.noKeys) { try verify(Fixtures.token("HS256", "valid"), keys: [], algorithms: ["HS256"]) }
    }

    @Test func jwkWithAlgIsPinnedToThatAlgorithm() throws {
        let pinned = try JWTKey(jwk: withMember(jwk("rsa-1"), "alg", .string("PS256")))
        #expect(pinned.supports(.ps256))
        #expect(!pinned.supports(.rs256))
        #expect(throws: JWTError.keyCannotUseAlgorithm(key: "RSA-2048 key (kid rsa-1)", algorithm: "RS256")) {
            try verify(Fixtures.token("RS256", "valid_with_kid"), keys: [pinned], algorithms: ["RS256"])
        }
        _ = try verify(Fixtures.token("PS256", "valid_with_kid"), keys: [pinned], algorithms: ["PS256"])
    }

    @Test func jwkWhoseAlgDoesNotFitItsTypeIsRefused() throws {
        #expect(throws: JWTError.invalidKey("alg HS256 does not fit a EC P-256 key")) {
            try JWTKey(jwk: withMember(jwk("ec256-1"), "alg", .string("HS256")))
        }
    }

    @Test func jwkForEncryptionIsRefused() throws {
        #expect(throws: JWTError.invalidKey("JWK use is enc, not sig")) {
            try JWTKey(jwk: withMember(jwk("rsa-1"), "use", .string("enc")))
        }
    }

    @Test func ecJWKWhosePointIsNotOnTheCurveIsRefused() throws {
        var y = Array(jwk("ec256-1")["y"]!.stringValue!)
        y[10] = y[10] == "A" ? "B" : "A"
        #expect(throws: JWTError.invalidKey("OpenSSL refused the EC public key")) {
            try JWTKey(jwk: withMember(jwk("ec256-1"), "y", .string(String(y))))
        }
    }

    @Test func ecJWKWithShortCoordinatesIsRefused() throws {
        let x = jwk("ec256-1")["x"]!.stringValue!
        #expect(throws: JWTError.invalidKey("EC P-256 coordinates must be 32 bytes each")) {
            try JWTKey(jwk: withMember(jwk("ec256-1"), "x", .string(String(x.dropLast(3)))))
        }
    }

    @Test func jwkWithAnUnknownKeyTypeIsRefused() {
        #expect(throws: JWTError.unsupportedKeyType("EC P-521")) {
            try JWTKey(jwkJSON: #"{"kty":"EC","crv":"P-521","x":"AA","y":"AA"}"#)
        }
        #expect(throws: JWTError.unsupportedKeyType("DSA")) { try JWTKey(jwkJSON: #"{"kty":"DSA"}"#) }
    }

    @Test func jwkMatchesThePEMOfTheSameKey() throws {
        // The JWKS was written by PyJWT from the openssl-made PEMs: the same keys, so a token
        // signed with the PEM private key verifies with the JWK alone.
        for (caseName, kid) in [("RS256", "rsa-1"), ("ES256", "ec256-1"), ("ES384", "ec384-1"), ("EdDSA-Ed25519", "ed25519-1")] {
            let key = try JWTKey(jwk: jwk(kid))
            _ = try verify(Fixtures.token(caseName, "valid"), keys: [key], algorithms: [Fixtures.algorithm(caseName)])
        }
    }

    @Test func keyFileOfPEMTextLoadsAsOneKey() throws {
        let set = try JWTKeySet(contentsOfFile: Fixtures.path("keys/ec256.pub.pem"))
        #expect(set.keys.map(\.type) == [.ecP256])
    }

    @Test func missingKeyFileIsReported() {
        #expect(throws: JWTError.keyFileUnreadable(path: "/nonexistent/jwks.json", reason: "No such file or directory")) {
            try JWTKeySet(contentsOfFile: "/nonexistent/jwks.json")
        }
    }

    @Test func keyDescriptionNeverShowsTheSecret() throws {
        let text = Fixtures.keyText("hmac.secret")
        let key = try JWTKey(secret: text, kid: "hmac-1")
        #expect(key.description == "HMAC secret (kid hmac-1)")
        #expect(!"\(key)".contains(text))
    }

    // MARK: Helpers

    private func jwk(_ kid: String) -> JSONValue {
        let jwks = try! JSONParser.parse(Fixtures.text("jwks.json"))
        return jwks["keys"]!.arrayValue!.first { $0["kid"] == .string(kid) }!
    }

    private func withMember(_ object: JSONValue, _ name: String, _ value: JSONValue) -> JSONValue {
        guard case .object(var members) = object else { return object }
        if let index = members.firstIndex(where: { $0.key == name }) {
            members[index].value = value
        } else {
            members.append(JSONMember(name, value))
        }
        return .object(members)
    }
}
