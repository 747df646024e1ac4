import Foundation  // Tests only: reading the fixture files.
import PalisadeJSON
import PalisadeJWT

/// The files under Fixtures/, made by `Fixtures/make_fixtures.py` (keys by the `openssl`
/// command, tokens by PyJWT). Every token's times are fixed around `now`.
enum Fixtures {
    static let directory: String = {
        let file = #filePath
        return String(file[..<file.lastIndex(of: "/")!]) + "/Fixtures"
    }()

    static func path(_ relative: String) -> String { directory + "/" + relative }

    static func text(_ relative: String) -> String {
        // A missing fixture is a broken checkout: stop loudly.
        try! String(contentsOfFile: path(relative), encoding: .utf8)
    }

    static func keyText(_ name: String) -> String { text("keys/" + name) }

    static let tokens: JSONValue = try! JSONParser.parse(text("tokens.json"))

    static let now = Int64(tokens["now"]!.intValue!)

    /// One entry per algorithm and key type under test, as named in tokens.json.
    static let caseNames = [
        "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
        "ES256", "ES384", "EdDSA-Ed25519", "EdDSA-Ed448",
    ]

    static func algorithm(_ caseName: String) -> String { tokens["cases"]![caseName]!["alg"]!.stringValue! }

    static func token(_ caseName: String, _ kind: String) -> String {
        tokens["cases"]![caseName]!["tokens"]![kind]!.stringValue!
    }

    static func special(_ name: String) -> String { tokens["special"]![name]!.stringValue! }

    static func reference(_ name: String) -> String { tokens["reference"]![name]!.stringValue! }

    /// A secret or PEM file as a key.
    static func key(_ name: String, kid: String? = nil) throws(JWTError) -> JWTKey {
        name.hasSuffix(".secret") ? try JWTKey(secret: keyText(name), kid: kid) : try JWTKey(pem: keyText(name), kid: kid)
    }

    static func verifyingKey(_ caseName: String) throws(JWTError) -> JWTKey {
        try key(tokens["cases"]![caseName]!["public_key"]!.stringValue!)
    }

    static func signingKey(_ caseName: String) throws(JWTError) -> JWTKey {
        try key(tokens["cases"]![caseName]!["private_key"]!.stringValue!)
    }

    static func jwks() throws(JWTError) -> JWTKeySet {
        try JWTKeySet(contentsOfFile: path("jwks.json"))
    }

    static var hmacSecret: JWTKey { get throws(JWTError) { try key("hmac.secret") } }
}

/// `JWTVerifier.verify` at the fixtures' fixed time.
func verify(_ token: String, keys: [JWTKey], algorithms: [String], leeway: Int64 = 0) throws(JWTError) -> JSONValue {
    try JWTVerifier.verify(token: token, keys: keys, algorithms: algorithms, leeway: leeway, now: Fixtures.now)
}

func verify(_ token: String, keys: JWTKeySet, algorithms: [String], leeway: Int64 = 0) throws(JWTError) -> JSONValue {
    try JWTVerifier.verify(token: token, keys: keys, algorithms: algorithms, leeway: leeway, now: Fixtures.now)
}

/// The HS256 fixture secret with an HS256-only allow-list, the setting of most claim tests.
func verifyHS256(_ token: String, leeway: Int64 = 0) throws(JWTError) -> JSONValue {
    try verify(token, keys: [Fixtures.hmacSecret], algorithms: ["HS256"], leeway: leeway)
}
