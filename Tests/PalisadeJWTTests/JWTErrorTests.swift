import Testing

@testable import PalisadeJWT

@Suite struct JWTErrorTests {
    @Test func untrustedTextIsShortenedAndReducedToPrintableASCII() {
        #expect(JWTError.echo("RS256") == "RS256")
        #expect(JWTError.echo("a\nb\u{1B}[31mé") == "a?b?[31m?")
        #expect(JWTError.echo(String(repeating: "k", count: 500)) == String(repeating: "k", count: 64) + "…")
    }

    @Test func refusalsNeverQuoteTheTokenOrTheSecret() throws {
        let secretText = Fixtures.keyText("hmac.secret")
        let tokens = [
            Fixtures.token("HS256", "tampered_signature"), Fixtures.special("expired"), Fixtures.special("payload_not_json"),
            Fixtures.special("alg_none"), Fixtures.special("unknown_kid"), "x.y",
        ]
        for token in tokens {
            do {
                _ = try verify(token, keys: [Fixtures.hmacSecret], algorithms: ["HS256", "RS256"])
                Issue.record("a bad token verified")
            } catch {
                let text = error.description
                #expect(!text.contains(secretText))
                for segment in token.split(separator: ".") where segment.count > 8 {
                    #expect(!text.contains(segment), "\(text)")
                }
            }
        }
    }

    @Test func everyErrorHasADescription() {
        let errors: [JWTError] = [
            .emptyAllowList, .unsupportedAlgorithm("X"), .invalidLeeway, .tokenTooLarge(limit: 1), .malformedToken("r"),
            .algorithmNone, .algorithmNotAllowed("X"), .unsupportedCriticalHeader, .noKeys, .unknownKeyID("k"),
            .keyIDRequired, .keyCannotUseAlgorithm(key: "k", algorithm: "a"), .invalidKey("r"), .unsupportedKeyType("t"),
            .keyFileUnreadable(path: "p", reason: "r"), .signatureMismatch, .expired, .notYetValid, .issuedInTheFuture,
            .invalidClaim("c"), .missingClaim("c"), .signingFailed("r"),
        ]
        #expect(Set(errors.map(\.description)).count == errors.count)
    }
}
