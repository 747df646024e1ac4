import COpenSSL

/// Computes and checks JWS signatures with libcrypto. Callers have already checked that
/// the key's type fits the algorithm; this checks again and fails closed.
///
/// Every path ends with `ERR_clear_error()`, so a refused signature never leaves entries in
/// the thread's OpenSSL error queue for the TLS code running on the same event loop.
enum JWSSignature {
    static func verify(_ signature: [UInt8], of message: [UInt8], algorithm: JWTAlgorithm, key: JWTKey) -> Bool {
        guard key.supports(algorithm) else { return false }
        defer { ERR_clear_error() }
        switch (algorithm.family, key.material) {
        case (.hmac, .secret(let secret)):
            guard let expected = ThreadHMAC.mac(algorithm, secret: secret, message: message), expected.count == signature.count else {
                return false
            }
            // Constant time, so the comparison does not reveal how many leading bytes matched.
            return CRYPTO_memcmp(expected, signature, expected.count) == 0
        case (.ecdsa, .asymmetric(let pkey)):
            guard let der = ECDSASignature.der(fromRaw: signature, coordinateSize: key.type.coordinateSize) else {
                return false
            }
            return digestVerify(der, of: message, algorithm: algorithm, key: pkey)
        case (.rsaPKCS1, .asymmetric(let pkey)), (.rsaPSS, .asymmetric(let pkey)), (.eddsa, .asymmetric(let pkey)):
            return digestVerify(signature, of: message, algorithm: algorithm, key: pkey)
        default:
            return false
        }
    }

    static func sign(_ message: [UInt8], algorithm: JWTAlgorithm, key: JWTKey) throws(JWTError) -> [UInt8] {
        guard key.supports(algorithm) else {
            throw .keyCannotUseAlgorithm(key: key.description, algorithm: algorithm.rawValue)
        }
        defer { ERR_clear_error() }
        switch (algorithm.family, key.material) {
        case (.hmac, .secret(let secret)):
            guard let mac = ThreadHMAC.mac(algorithm, secret: secret, message: message) else { throw .signingFailed("HMAC failed") }
            return mac
        case (_, .asymmetric(let pkey)):
            guard key.hasPrivateKey else { throw .signingFailed("\(key.description) has no private part") }
            guard let signature = digestSign(message, algorithm: algorithm, key: pkey) else {
                throw .signingFailed("OpenSSL could not sign with \(algorithm.rawValue)")
            }
            guard algorithm.family == .ecdsa else { return signature }
            guard let raw = ECDSASignature.raw(fromDER: signature, coordinateSize: key.type.coordinateSize) else {
                throw .signingFailed("OpenSSL returned an unexpected ECDSA signature")
            }
            return raw
        default:
            throw .keyCannotUseAlgorithm(key: key.description, algorithm: algorithm.rawValue)
        }
    }

    /// PS* use PSS with MGF1 over the same digest and a salt as long as the digest (RFC 7518 §3.5).
    private static func configure(_ context: OpaquePointer?, for algorithm: JWTAlgorithm) -> Bool {
        guard algorithm.family == .rsaPSS else { return true }
        return EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PSS_PADDING) == 1
            && EVP_PKEY_CTX_set_rsa_pss_saltlen(context, RSA_PSS_SALTLEN_DIGEST) == 1
    }

    private static func digestVerify(_ signature: [UInt8], of message: [UInt8], algorithm: JWTAlgorithm, key: EVPKey) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer?
        guard EVP_DigestVerifyInit(context, &keyContext, algorithm.digest, nil, key.pointer) == 1,
            configure(keyContext, for: algorithm)
        else { return false }
        return signature.withUnsafeBufferPointer { signature in
            message.withUnsafeBufferPointer { message in
                EVP_DigestVerify(context, signature.baseAddress, signature.count, message.baseAddress, message.count) == 1
            }
        }
    }

    private static func digestSign(_ message: [UInt8], algorithm: JWTAlgorithm, key: EVPKey) -> [UInt8]? {
        guard let context = EVP_MD_CTX_new() else { return nil }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer?
        guard EVP_DigestSignInit(context, &keyContext, algorithm.digest, nil, key.pointer) == 1,
            configure(keyContext, for: algorithm)
        else { return nil }
        return message.withUnsafeBufferPointer { message -> [UInt8]? in
            var length = 0
            guard EVP_DigestSign(context, nil, &length, message.baseAddress, message.count) == 1 else { return nil }
            var signature = [UInt8](repeating: 0, count: length)
            guard EVP_DigestSign(context, &signature, &length, message.baseAddress, message.count) == 1 else { return nil }
            return Array(signature.prefix(length))
        }
    }
}
