import PalisadeJSON

@testable import PalisadeJWT

/// JWT parsing. The first byte picks what the rest is: a token (verified with an HMAC key, and
/// split and read as the verifier does before the signature), a JWK set (keys made through
/// OpenSSL), or a claims object, signed and verified, which may then fail only on its claims.
enum JWTTarget {
    static let key = try! JWTKey(secret: "fuzz-secret-of-32-bytes-at-least!!")
    static let algorithms = ["HS256", "HS512", "RS256", "ES256", "EdDSA"]

    static func run(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        switch first % 3 {
        case 0: token(text)
        case 1: keySet(text)
        default: claims(Array(bytes.dropFirst()))
        }
    }

    static func token(_ text: String) {
        _ = try? JWTVerifier.verify(token: text, keys: [key], algorithms: algorithms, now: 1_700_000_000)
        guard let jws = try? CompactJWS(parsing: text), let claims = try? jws.claims() else { return }
        _ = try? JWTVerifier.checkTimes(claims, now: 1_700_000_000, leeway: 60)
        _ = try? JWTVerifier.checkRequired(claims, requiredClaims: ["exp"], issuer: "i", audience: "a")
    }

    static func keySet(_ text: String) {
        _ = try? JWTKey(jwkJSON: text)
        guard let set = try? JWTKeySet(jwksJSON: text) else { return }
        for algorithm in [JWTAlgorithm.hs256, .rs256, .es256, .edDSA] {
            _ = try? set.candidates(for: algorithm, kid: nil)
        }
    }

    static func claims(_ bytes: [UInt8]) {
        guard let claims = try? JSONParser.parse(bytes), case .object(let members) = claims, JWTKey.hasUniqueNames(members) else {
            return
        }
        let token: String
        do {
            token = try JWTSigner.sign(claims: claims, key: key, algorithm: "HS256")
        } catch {
            return check(false, "signing \(claims) failed: \(error)")
        }
        do {
            _ = try JWTVerifier.verify(token: token, keys: [key], algorithms: ["HS256"], now: 1_700_000_000)
        } catch {
            switch error {
            case .expired, .notYetValid, .issuedInTheFuture, .invalidClaim, .tokenTooLarge: break
            default: check(false, "a token signed from \(claims) fails with \(error)")
            }
        }
    }
}
