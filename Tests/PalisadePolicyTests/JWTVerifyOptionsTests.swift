import Foundation
import PalisadeJSON
import PalisadeJWT
import Testing

@testable import PalisadePolicy

/// `px.jwt.verify(token, options)`: each option read from the table does what it says.
@Suite struct JWTVerifyOptionsTests {
    let harness = LuaHarness()

    /// A module whose `authenticate(token, options)` answers `{ok, claims or err}`.
    private func verify(_ token: String, options lua: String) throws -> [JSONValue] {
        let runtime = try harness.runtime([
            (
                "m",
                """
                local px = require "palisade"
                return { authenticate = function(token)
                  local ok, result = pcall(px.jwt.verify, token, \(lua))
                  if not ok then return { raised = tostring(result) } end
                  local claims, err = result, select(2, px.jwt.verify(token, \(lua)))
                  if claims then return { sub = claims.sub } end
                  return { err = err }
                end }
                """
            )
        ])
        return try harness.call(runtime, .authenticate, [.string(token)])
    }

    private func token(secret: String, algorithm: String = "HS256", expiresIn: Int = 3600) throws -> String {
        let now = Int(Date().timeIntervalSince1970)
        let claims = JSONValue.object([JSONMember("sub", .string("u1")), JSONMember("exp", .number("\(now + expiresIn)"))])
        return try JWTSigner.sign(claims: claims, key: try JWTKey(secret: secret), algorithm: algorithm)
    }

    private func field(_ answer: [JSONValue], _ name: String) -> JSONValue? {
        guard case .object(let members)? = answer.first else { return nil }
        return members.first { $0.key == name }?.value
    }

    @Test func theKeyOptionVerifiesAndAWrongKeyRefuses() throws {
        let signed = try token(secret: "a-secret-for-the-test")
        #expect(field(try verify(signed, options: #"{algorithms = {"HS256"}, key = "a-secret-for-the-test"}"#), "sub") == .string("u1"))
        #expect(field(try verify(signed, options: #"{algorithms = {"HS256"}, key = "another-secret"}"#), "err") != nil)
    }

    @Test func onlyListedAlgorithmsAreAccepted() throws {
        let signed = try token(secret: "a-secret-for-the-test", algorithm: "HS384")
        #expect(field(try verify(signed, options: #"{algorithms = {"HS256"}, key = "a-secret-for-the-test"}"#), "err") != nil)
        #expect(
            field(try verify(signed, options: #"{algorithms = {"HS256", "HS384"}, key = "a-secret-for-the-test"}"#), "sub") == .string("u1")
        )
    }

    @Test func leewayAcceptsARecentlyExpiredToken() throws {
        let expired = try token(secret: "a-secret-for-the-test", expiresIn: -20)
        #expect(field(try verify(expired, options: #"{algorithms = {"HS256"}, key = "a-secret-for-the-test"}"#), "err") != nil)
        #expect(
            field(try verify(expired, options: #"{algorithms = {"HS256"}, key = "a-secret-for-the-test", leeway = 60}"#), "sub")
                == .string("u1"))
        #expect(
            field(try verify(expired, options: #"{algorithms = {"HS256"}, key = "a-secret-for-the-test", leeway = "60"}"#), "err") != nil,
            "a leeway that is not a number counts as none")
    }

    @Test func optionsWithoutAlgorithmsRaise() throws {
        let signed = try token(secret: "a-secret-for-the-test")
        #expect(field(try verify(signed, options: #"{key = "a-secret-for-the-test"}"#), "raised") != nil)
        #expect(field(try verify(signed, options: #"{"HS256"}"#), "raised") != nil)
        #expect(
            field(try verify(signed, options: #"setmetatable({}, {__index = function() error("no") end})"#), "raised") != nil,
            "a metatable runs no code")
    }
}
