import COpenSSL

extension JWTKey {
    /// Longest PEM text accepted; a certificate chain is a few KiB.
    public static let maximumPEMLength = 64 * 1024

    /// A key from PEM text: `PUBLIC KEY` (SubjectPublicKeyInfo), `RSA PUBLIC KEY` (PKCS#1),
    /// `CERTIFICATE` (its public key; the certificate itself is not validated), or an
    /// unencrypted private key (`PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`), which
    /// can also sign. Only the first PEM block is read. Encrypted keys are refused: nothing
    /// here ever prompts for a passphrase.
    public init(pem: String, kid: String? = nil) throws(JWTError) {
        let bytes = Array(pem.utf8)
        guard bytes.count <= Self.maximumPEMLength else {
            throw .invalidKey("PEM text longer than \(Self.maximumPEMLength) bytes")
        }
        guard let label = Self.firstPEMLabel(in: pem) else { throw .invalidKey("no PEM block found") }
        defer { ERR_clear_error() }
        let pkey: EVPKey
        if label == "CERTIFICATE" || label == "X509 CERTIFICATE" {
            pkey = try Self.publicKey(fromCertificatePEM: bytes)
        } else if label.contains("ENCRYPTED") || pem.contains("Proc-Type: 4,ENCRYPTED") {
            throw .invalidKey("encrypted private keys are not supported")
        } else {
            pkey = try Self.decodeKey(fromPEM: bytes)
        }
        try self.init(
            material: .asymmetric(pkey), type: try pkey.keyType(), kid: kid, pinnedAlgorithm: nil,
            hasPrivateKey: label.hasSuffix("PRIVATE KEY")
        )
    }

    /// The label of the first `-----BEGIN <label>-----` line.
    static func firstPEMLabel(in pem: String) -> String? {
        guard let begin = pem.firstRange(of: "-----BEGIN ") else { return nil }
        let rest = pem[begin.upperBound...]
        guard let end = rest.firstRange(of: "-----") else { return nil }
        return String(rest[..<end.lowerBound])
    }

    /// Decodes any PEM key OpenSSL's decoders know, with a passphrase callback that always refuses.
    private static func decodeKey(fromPEM bytes: [UInt8]) throws(JWTError) -> EVPKey {
        var pkey: OpaquePointer?
        guard let decoder = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", nil, nil, 0, nil, nil) else {
            throw .invalidKey("OpenSSL has no PEM decoder")
        }
        defer { OSSL_DECODER_CTX_free(decoder) }
        OSSL_DECODER_CTX_set_passphrase_cb(decoder, { _, _, _, _, _ in 0 }, nil)
        let decoded = bytes.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            var remaining = buffer.count
            return OSSL_DECODER_from_data(decoder, &cursor, &remaining) == 1
        }
        guard decoded, let pkey else { throw .invalidKey("the PEM block is not a key OpenSSL can read") }
        return EVPKey(taking: pkey)
    }

    private static func publicKey(fromCertificatePEM bytes: [UInt8]) throws(JWTError) -> EVPKey {
        let certificate: OpaquePointer? = bytes.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_X509(bio, nil, { _, _, _, _ in 0 }, nil)
        }
        guard let certificate else { throw .invalidKey("the certificate cannot be read") }
        defer { X509_free(certificate) }
        guard let pkey = X509_get_pubkey(certificate) else { throw .invalidKey("the certificate's public key cannot be read") }
        return EVPKey(taking: pkey)
    }
}
