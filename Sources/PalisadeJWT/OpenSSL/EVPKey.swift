import COpenSSL

/// Owns one OpenSSL `EVP_PKEY` (public, or public and private).
///
/// `@unchecked Sendable` is safe: the key is never changed after `init`, and OpenSSL 3
/// allows one `EVP_PKEY` to be used for signing and verification from several threads at
/// once (openssl-threads(7)); its internal provider-key cache is locked by OpenSSL.
final class EVPKey: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Takes over one reference to `pointer`.
    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        EVP_PKEY_free(pointer)
    }

    /// What the key is, as far as JWS algorithms care.
    func keyType() throws(JWTError) -> JWTKey.KeyType {
        if EVP_PKEY_is_a(pointer, "RSA") == 1 {
            return .rsa(bits: Int(EVP_PKEY_get_bits(pointer)))
        }
        if EVP_PKEY_is_a(pointer, "EC") == 1 {
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            guard EVP_PKEY_get_group_name(pointer, &name, name.count, &length) == 1 else {
                ERR_clear_error()
                throw .unsupportedKeyType("EC key without a named curve")
            }
            let curve = String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            switch curve {
            case "prime256v1", "P-256": return .ecP256
            case "secp384r1", "P-384": return .ecP384
            default: throw .unsupportedKeyType("EC \(JWTError.echo(curve))")
            }
        }
        if EVP_PKEY_is_a(pointer, "ED25519") == 1 { return .ed25519 }
        if EVP_PKEY_is_a(pointer, "ED448") == 1 { return .ed448 }
        let name = EVP_PKEY_get0_type_name(pointer).map { String(cString: $0) } ?? "unknown"
        throw .unsupportedKeyType(JWTError.echo(name))
    }
}
