import PalisadeJWT
import Testing

/// exp, nbf, iat, leeway and the optional iss/aud/required checks, at the fixtures' fixed `now`.
@Suite struct ClaimsTests {
    @Test func expiredTokenIsRefused() {
        #expect(throws: JWTError.expired) { try verifyHS256(Fixtures.special("expired")) }
    }

    @Test func expiredTokenIsRefusedEvenWithLeewayShorterThanItsAge() {
        #expect(throws: JWTError.expired) { try verifyHS256(Fixtures.special("expired"), leeway: 60) }
    }

    @Test func tokenExpiredWithinTheLeewayVerifies() throws {
        #expect(throws: JWTError.expired) { try verifyHS256(Fixtures.special("expired_30s_ago")) }
        let claims = try verifyHS256(Fixtures.special("expired_30s_ago"), leeway: 60)
        #expect(claims["sub"] == .string("user-1"))
    }

    @Test func tokenIsExpiredAtTheSecondItsExpNames() {
        #expect(throws: JWTError.expired) { try verifyHS256(Fixtures.special("expires_now")) }
    }

    @Test func notYetValidTokenIsRefused() {
        #expect(throws: JWTError.notYetValid) { try verifyHS256(Fixtures.special("not_yet_valid")) }
        #expect(throws: JWTError.notYetValid) { try verifyHS256(Fixtures.special("not_yet_valid"), leeway: 60) }
    }

    @Test func tokenValidWithinTheLeewayVerifies() throws {
        #expect(throws: JWTError.notYetValid) { try verifyHS256(Fixtures.special("valid_in_30s")) }
        _ = try verifyHS256(Fixtures.special("valid_in_30s"), leeway: 30)
    }

    @Test func tokenIssuedInTheFutureIsRefused() {
        #expect(throws: JWTError.issuedInTheFuture) { try verifyHS256(Fixtures.special("issued_in_future")) }
        #expect(throws: JWTError.issuedInTheFuture) { try verifyHS256(Fixtures.special("issued_in_future"), leeway: 60) }
    }

    @Test func tokenWithoutTimeClaimsVerifies() throws {
        let claims = try verifyHS256(Fixtures.special("no_times"))
        #expect(claims["exp"] == nil)
    }

    @Test func fractionalTimesAreNumericDates() throws {
        _ = try verifyHS256(Fixtures.special("fractional_times"))
        // exp = now + 0.5: expired one second later.
        let key = try Fixtures.hmacSecret
        #expect(throws: JWTError.expired) {
            try JWTVerifier.verify(token: Fixtures.special("fractional_times"), keys: [key], algorithms: ["HS256"], now: Fixtures.now + 1)
        }
    }

    @Test(arguments: [("exp_is_string", "exp"), ("nbf_is_bool", "nbf"), ("exp_is_huge", "exp")])
    func nonNumericTimeClaimIsRefused(fixture: String, claim: String) {
        #expect(throws: JWTError.invalidClaim(claim)) { try verifyHS256(Fixtures.special(fixture)) }
    }

    @Test func negativeLeewayIsRefused() {
        #expect(throws: JWTError.invalidLeeway) { try verifyHS256(Fixtures.token("HS256", "valid"), leeway: -1) }
    }

    @Test func timeChecksFollowTheInjectedClock() throws {
        let token = Fixtures.token("HS256", "valid")
        let key = try Fixtures.hmacSecret
        // iat = now - 60, exp = now + 3600.
        _ = try JWTVerifier.verify(token: token, keys: [key], algorithms: ["HS256"], now: Fixtures.now + 3599)
        #expect(throws: JWTError.expired) {
            try JWTVerifier.verify(token: token, keys: [key], algorithms: ["HS256"], now: Fixtures.now + 3600)
        }
        #expect(throws: JWTError.issuedInTheFuture) {
            try JWTVerifier.verify(token: token, keys: [key], algorithms: ["HS256"], now: Fixtures.now - 61)
        }
    }

    @Test func requiredClaimMustBePresent() throws {
        let key = try Fixtures.hmacSecret
        #expect(throws: JWTError.missingClaim("exp")) {
            try JWTVerifier.verify(
                token: Fixtures.special("no_times"), keys: [key], algorithms: ["HS256"], requiredClaims: ["exp"], now: Fixtures.now
            )
        }
        _ = try JWTVerifier.verify(
            token: Fixtures.token("HS256", "valid"), keys: [key], algorithms: ["HS256"], requiredClaims: ["exp", "jti"],
            now: Fixtures.now
        )
    }

    @Test func issuerAndAudienceAreCheckedWhenAsked() throws {
        let key = try Fixtures.hmacSecret
        let token = Fixtures.special("with_audience")
        func check(issuer: String?, audience: String?) throws(JWTError) {
            _ = try JWTVerifier.verify(
                token: token, keys: [key], algorithms: ["HS256"], issuer: issuer, audience: audience, now: Fixtures.now
            )
        }
        try check(issuer: "https://issuer.example", audience: "palisade")
        try check(issuer: nil, audience: "other")
        #expect(throws: JWTError.invalidClaim("aud")) { try check(issuer: nil, audience: "someone-else") }
        #expect(throws: JWTError.invalidClaim("iss")) { try check(issuer: "https://evil.example", audience: nil) }
        #expect(throws: JWTError.missingClaim("aud")) {
            try JWTVerifier.verify(
                token: Fixtures.token("HS256", "valid"), keys: [key], algorithms: ["HS256"], audience: "palisade", now: Fixtures.now
            )
        }
    }
}
