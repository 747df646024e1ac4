import COpenSSL

#if canImport(Glibc)
    import Glibc
#endif

/// HMAC through OpenSSL 3's `EVP_MAC`, with one context per digest per thread, made once and
/// re-keyed per call.
///
/// `HMAC()` fetches the MAC and the digest from the provider by name on every call, which
/// costs more than the MAC itself for a token. A context that already holds
/// its digest is re-keyed by `EVP_MAC_init` without a fetch. Contexts are per thread because
/// OpenSSL does not document a context as safe to use from two threads at once; each event
/// loop is one thread, so a loop reuses its own. They are freed when their thread exits.
enum ThreadHMAC {
    /// The MAC algorithm, fetched once (a fetched `EVP_MAC` may be shared by threads).
    private nonisolated(unsafe) static let mac: OpaquePointer? = EVP_MAC_fetch(nil, "HMAC", nil)

    /// One context per digest (SHA-256, -384, -512), made on the thread's first use.
    private final class Contexts {
        var byDigest: [OpaquePointer?] = [nil, nil, nil]
        deinit {
            for context in byDigest where context != nil { EVP_MAC_CTX_free(context) }
        }
    }

    private static let threadKey: pthread_key_t = {
        var key = pthread_key_t()
        let created = pthread_key_create(&key) { raw in
            guard let raw else { return }
            Unmanaged<AnyObject>.fromOpaque(raw).release()
        }
        precondition(created == 0, "pthread_key_create failed")
        return key
    }()

    private static var contexts: Contexts {
        if let raw = pthread_getspecific(threadKey) {
            return Unmanaged<Contexts>.fromOpaque(raw).takeUnretainedValue()
        }
        let contexts = Contexts()
        pthread_setspecific(threadKey, Unmanaged.passRetained(contexts as AnyObject).toOpaque())
        return contexts
    }

    /// The MAC of `message` under `secret` with the algorithm's digest; nil if OpenSSL fails.
    static func mac(_ algorithm: JWTAlgorithm, secret: [UInt8], message: [UInt8]) -> [UInt8]? {
        // `EVP_MAC_init` with no key keeps the previous caller's: an empty secret (which
        // `JWTKey` refuses anyway) must never get that far.
        guard !secret.isEmpty, let (slot, name) = digest(of: algorithm),
            let context = context(slot: slot, digestName: name)
        else { return nil }
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length = 0
        let ok = secret.withUnsafeBufferPointer { secret in
            message.withUnsafeBufferPointer { message in
                output.withUnsafeMutableBufferPointer { output in
                    EVP_MAC_init(context, secret.baseAddress, secret.count, nil) == 1
                        && EVP_MAC_update(context, message.baseAddress, message.count) == 1
                        && EVP_MAC_final(context, output.baseAddress, &length, output.count) == 1
                }
            }
        }
        guard ok else { return nil }
        return Array(output.prefix(length))
    }

    private static func digest(of algorithm: JWTAlgorithm) -> (slot: Int, name: String)? {
        switch algorithm {
        case .hs256: (0, "SHA256")
        case .hs384: (1, "SHA384")
        case .hs512: (2, "SHA512")
        default: nil
        }
    }

    private static func context(slot: Int, digestName: String) -> OpaquePointer? {
        let contexts = self.contexts
        if let context = contexts.byDigest[slot] { return context }
        guard let mac, let context = EVP_MAC_CTX_new(mac) else { return nil }
        let configured = digestName.withCString { name in
            withUnsafeTemporaryAllocation(of: OSSL_PARAM.self, capacity: 2) { params in
                params[0] = OSSL_PARAM_construct_utf8_string("digest", UnsafeMutablePointer(mutating: name), 0)
                params[1] = OSSL_PARAM_construct_end()
                return EVP_MAC_CTX_set_params(context, params.baseAddress) == 1
            }
        }
        guard configured else {
            EVP_MAC_CTX_free(context)
            return nil
        }
        contexts.byDigest[slot] = context
        return context
    }
}
