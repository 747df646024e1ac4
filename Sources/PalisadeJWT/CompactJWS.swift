import PalisadeJSON

/// A compact-serialised JWS (RFC 7515 §7.1) split into its parts, with its header read.
/// Nothing here is trusted yet: the signature has not been checked and the payload is
/// still bytes, parsed only once the signature holds.
struct CompactJWS {
    /// The header's `alg`, as written.
    let algorithm: String
    let kid: String?
    /// `BASE64URL(header) '.' BASE64URL(payload)`, the bytes the signature covers.
    let signingInput: [UInt8]
    let payload: [UInt8]
    let signature: [UInt8]

    /// Headers are small; a few levels cover any real one.
    static let headerMaxDepth = 8

    /// Splits `token`; the caller has already bounded its length.
    init(parsing token: String) throws(JWTError) {
        let bytes = Array(token.utf8)
        let dots = bytes.indices.filter { bytes[$0] == UInt8(ascii: ".") }
        guard dots.count == 2 else { throw .malformedToken("expected three segments, found \(dots.count + 1)") }
        guard let headerBytes = Base64URL.decode(bytes[..<dots[0]]) else {
            throw .malformedToken("the header is not base64url")
        }
        guard let payload = Base64URL.decode(bytes[(dots[0] + 1)..<dots[1]]) else {
            throw .malformedToken("the payload is not base64url")
        }
        guard let signature = Base64URL.decode(bytes[(dots[1] + 1)...]) else {
            throw .malformedToken("the signature is not base64url")
        }
        let header = try Self.object(headerBytes, maxDepth: Self.headerMaxDepth, part: "header")
        guard let algorithm = header["alg"]?.stringValue else { throw .malformedToken("the header has no alg string") }
        let kid: String?
        switch header["kid"] {
        case nil: kid = nil
        case .string(let text)?: kid = text
        default: throw .malformedToken("the header's kid is not a string")
        }
        guard algorithm.lowercased() != "none" else { throw .algorithmNone }
        guard header["crit"] == nil else { throw .unsupportedCriticalHeader }
        self.algorithm = algorithm
        self.kid = kid
        self.signingInput = Array(bytes[..<dots[1]])
        self.payload = payload
        self.signature = signature
    }

    /// The payload as a claims object; call only after the signature is verified.
    func claims() throws(JWTError) -> JSONValue {
        try Self.object(payload, maxDepth: JSONParser.defaultMaxDepth, part: "payload")
    }

    /// Parses `bytes` as a JSON object whose member names are unique. Duplicates are
    /// refused rather than resolved (RFC 7515 §5.2), since parsers disagree on which wins.
    private static func object(_ bytes: [UInt8], maxDepth: Int, part: String) throws(JWTError) -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes, maxDepth: maxDepth)
        } catch {
            throw .malformedToken("the \(part) is not JSON (\(error))")
        }
        guard case .object(let members) = value else { throw .malformedToken("the \(part) is not a JSON object") }
        guard JWTKey.hasUniqueNames(members) else { throw .malformedToken("the \(part) has duplicate members") }
        return value
    }
}
