/// A key to verify (or sign) tokens with: an HMAC secret, or an RSA, EC or EdDSA key from
/// a PEM or a JWK, with an optional `kid`.
///
/// The key's type binds the algorithms it accepts (`supports(_:)`), whatever the token's
/// header says: an HMAC secret does only HS*, an RSA key only RS*/PS*, a P-256 key only
/// ES256, and so on. This is what stops algorithm confusion (an RSA public key used as
/// an HMAC secret). `description` names the type and `kid`, never the material.
public struct JWTKey: Sendable, CustomStringConvertible {
    public enum KeyType: Sendable, Equatable, CustomStringConvertible {
        case hmac
        case rsa(bits: Int)
        case ecP256
        case ecP384
        case ed25519
        case ed448

        public var description: String {
            switch self {
            case .hmac: "HMAC secret"
            case .rsa(let bits): "RSA-\(bits) key"
            case .ecP256: "EC P-256 key"
            case .ecP384: "EC P-384 key"
            case .ed25519: "Ed25519 key"
            case .ed448: "Ed448 key"
            }
        }

        /// The algorithms a key of this type can do.
        public var algorithms: [JWTAlgorithm] {
            switch self {
            case .hmac: [.hs256, .hs384, .hs512]
            case .rsa: [.rs256, .rs384, .rs512, .ps256, .ps384, .ps512]
            case .ecP256: [.es256]
            case .ecP384: [.es384]
            case .ed25519, .ed448: [.edDSA]
            }
        }

        /// Bytes per coordinate (and per half of a raw ECDSA signature); 0 for other types.
        var coordinateSize: Int {
            switch self {
            case .ecP256: 32
            case .ecP384: 48
            default: 0
            }
        }
    }

    enum Material: Sendable {
        case secret([UInt8])
        case asymmetric(EVPKey)
    }

    /// RSA keys shorter than this are refused (RFC 7518 §3.3 requires 2048 bits).
    public static let minimumRSABits = 2048
    /// Longest HMAC secret accepted; far beyond any real one, and it keeps lengths in C's `int`.
    public static let maximumSecretLength = 64 * 1024

    public let kid: String?
    public let type: KeyType
    /// Set when a JWK names its `alg`: the key then does that algorithm only.
    public let pinnedAlgorithm: JWTAlgorithm?
    /// True for secrets and for keys read from a private-key PEM.
    public let hasPrivateKey: Bool
    let material: Material

    init(material: Material, type: KeyType, kid: String?, pinnedAlgorithm: JWTAlgorithm?, hasPrivateKey: Bool) throws(JWTError) {
        if case .rsa(let bits) = type, bits < Self.minimumRSABits {
            throw .invalidKey("RSA keys need at least \(Self.minimumRSABits) bits, this one has \(bits)")
        }
        if let pinnedAlgorithm, !type.algorithms.contains(pinnedAlgorithm) {
            throw .invalidKey("alg \(pinnedAlgorithm) does not fit a \(type)")
        }
        self.material = material
        self.type = type
        self.kid = kid
        self.pinnedAlgorithm = pinnedAlgorithm
        self.hasPrivateKey = hasPrivateKey
    }

    /// An HMAC secret (HS256/384/512).
    ///
    /// Refuses an empty secret, and a secret that is a PEM block or an OpenSSH public key:
    /// such text is a public key, and using it as an HMAC secret is exactly the HS/RS
    /// confusion attack (anyone holding the public key could sign tokens).
    public init(secret: [UInt8], kid: String? = nil) throws(JWTError) {
        guard !secret.isEmpty else { throw .invalidKey("the HMAC secret is empty") }
        guard secret.count <= Self.maximumSecretLength else {
            throw .invalidKey("the HMAC secret is longer than \(Self.maximumSecretLength) bytes")
        }
        if Self.looksLikePublicKey(secret) {
            throw .invalidKey("a PEM or SSH key cannot be used as an HMAC secret")
        }
        try self.init(material: .secret(secret), type: .hmac, kid: kid, pinnedAlgorithm: nil, hasPrivateKey: true)
    }

    /// An HMAC secret from its UTF-8 text, as `PALISADE_JWT_SECRET` and Open WebUI's `WEBUI_SECRET_KEY` are.
    public init(secret: String, kid: String? = nil) throws(JWTError) {
        try self.init(secret: Array(secret.utf8), kid: kid)
    }

    /// Whether this key can sign or verify with `algorithm`.
    public func supports(_ algorithm: JWTAlgorithm) -> Bool {
        type.algorithms.contains(algorithm) && (pinnedAlgorithm == nil || pinnedAlgorithm == algorithm)
    }

    public var description: String {
        guard let kid else { return type.description }
        return "\(type) (kid \(JWTError.echo(kid)))"
    }

    private static let publicKeyMarkers: [[UInt8]] = [
        "-----BEGIN ", "ssh-rsa ", "ssh-ed25519 ", "ssh-ed448 ", "ecdsa-sha2-",
    ].map { Array($0.utf8) }

    private static func looksLikePublicKey(_ secret: [UInt8]) -> Bool {
        let trimmed = secret.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        return publicKeyMarkers.contains { trimmed.starts(with: $0) } || contains(secret, Array("-----BEGIN ".utf8))
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start..<start + needle.count].elementsEqual(needle) {
            return true
        }
        return false
    }
}
