import Testing

@testable import PalisadeServer

/// The token id the admin API matches revocations against, read from a token without
/// verifying it (the policy verified it at connect).
@Suite struct SocketInfoTests {
    @Test func theTokenIDIsReadFromTheUnpaddedURLSafePayload() {
        // payloads {"jti": "a>?b"} and {"jti": "x~~~"}: their base64url has "_" and "-", and no padding
        #expect(SocketInfo.unverifiedTokenID("h.eyJqdGkiOiAiYT4_YiJ9.s") == "a>?b")
        #expect(SocketInfo.unverifiedTokenID("h.eyJqdGkiOiAieH5-fiJ9.s") == "x~~~")
        #expect(SocketInfo.unverifiedTokenID("h.eyJqdGkiOiAidC0xPz8-In0.") == "t-1??>")
    }

    @Test func malformedTokensHaveNoID() {
        #expect(SocketInfo.unverifiedTokenID("") == nil)
        #expect(SocketInfo.unverifiedTokenID("eyJqdGkiOiAiYT4_YiJ9") == nil, "one part")
        #expect(SocketInfo.unverifiedTokenID("h.eyJqdGkiOiAiYT4_YiJ9.s.x") == nil, "four parts")
        #expect(SocketInfo.unverifiedTokenID("h.!!!!.s") == nil, "not base64")
        #expect(SocketInfo.unverifiedTokenID("h.bm90IGpzb24.s") == nil, "not JSON")
        #expect(SocketInfo.unverifiedTokenID("h.eyJpZCI6MX0.s") == nil, "no jti")
    }
}
