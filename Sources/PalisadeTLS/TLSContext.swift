import COpenSSL

/// An OpenSSL `SSL_CTX`: settings shared by many connections. Made once, then only read.
/// `client` here; `server` (a certificate and its key) in `TLSContext+Server.swift`.
public final class TLSContext: @unchecked Sendable {
    // @unchecked: an SSL_CTX is not changed after `init`, and OpenSSL allows concurrent SSL_new on it.
    let context: OpaquePointer

    init(_ context: OpaquePointer) { self.context = context }

    deinit { SSL_CTX_free(context) }

    /// TLS 1.2 or later. With `verifyPeer`, the server's chain must lead to `caFile` (PEM) or, without
    /// one, to the system's roots, and the handler checks its name or IP.
    public static func client(verifyPeer: Bool = true, caFile: String? = nil) throws(TLSError) -> TLSContext {
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw TLSError.fromQueue("SSL_CTX_new failed") }
        let made = TLSContext(context)
        guard SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil) == 1 else {
            throw TLSError.fromQueue("cannot require TLS 1.2")
        }
        if verifyPeer {
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            let loaded =
                caFile.map { SSL_CTX_load_verify_locations(context, $0, nil) }
                ?? SSL_CTX_set_default_verify_paths(context)
            guard loaded == 1 else { throw TLSError.fromQueue("cannot load CA certificates \(caFile ?? "(system)")") }
        } else {
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }
        return made
    }
}
