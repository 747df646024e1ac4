import COpenSSL

extension TLSContext {
    /// TLS 1.2 suites: ECDHE key exchange (forward secrecy) with an AEAD cipher only, no CBC, no RSA
    /// key transport; ECDSA and RSA certificates both work.
    static let serverCiphersTLS12 =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
    /// TLS 1.3's suites, all AEAD, named so that a changed OpenSSL default cannot widen them.
    static let serverCiphersTLS13 = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

    /// A server's context from a PEM certificate chain (leaf first) and the leaf's PEM private key:
    /// TLS 1.2 and 1.3 only, the suites above, no compression, no renegotiation, ALPN `http/1.1`.
    ///
    /// Reads both files, so it blocks: call it off the event loops. The key must not be encrypted
    /// (OpenSSL would ask for a passphrase on the terminal; here it fails to load instead).
    public static func server(certificateFile: String, keyFile: String) throws(TLSError) -> TLSContext {
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw TLSError.fromQueue("SSL_CTX_new failed") }
        let made = TLSContext(context)
        guard SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil) == 1,
            SSL_CTX_set_cipher_list(context, serverCiphersTLS12) == 1,
            SSL_CTX_set_ciphersuites(context, serverCiphersTLS13) == 1
        else { throw TLSError.fromQueue("cannot restrict protocols and cipher suites") }
        _ = SSL_CTX_set_options(context, palisade_ssl_server_options())
        SSL_CTX_set_default_passwd_cb(context, refusePassphrase)
        guard SSL_CTX_use_certificate_chain_file(context, certificateFile) == 1 else {
            throw TLSError.fromQueue("cannot load the certificate chain file \(certificateFile)")
        }
        guard SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1 else {
            throw TLSError.fromQueue("cannot load the private key file \(keyFile)")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw TLSError.fromQueue("the private key file \(keyFile) does not match the certificate file \(certificateFile)")
        }
        SSL_CTX_set_alpn_select_cb(context, selectHTTP1, nil)
        return made
    }

    /// Where `http/1.1` is in an ALPN protocol list (each name preceded by its length byte), or nil.
    static func http1Range(inALPNList list: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        var index = 0
        while index < list.count {
            let name = (index + 1)..<(index + 1 + Int(list[index]))
            guard name.upperBound <= list.count else { return nil }
            if list[name].elementsEqual(http1) { return name }
            index = name.upperBound
        }
        return nil
    }

    private static let http1 = Array("http/1.1".utf8)
}

/// No passphrase: an encrypted key fails to load instead of OpenSSL prompting on the terminal.
private func refusePassphrase(_: UnsafeMutablePointer<CChar>?, _: Int32, _: Int32, _: UnsafeMutableRawPointer?) -> Int32 { 0 }

/// ALPN on the accept side: `http/1.1` when the client offers it. A client that offers only other
/// protocols gets no_application_protocol (we speak nothing else); OpenSSL does not call this for a
/// client that sends no ALPN, which goes on without.
private func selectHTTP1(
    _: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, _ outLength: UnsafeMutablePointer<UInt8>?,
    _ offered: UnsafePointer<UInt8>?, _ offeredLength: UInt32, _: UnsafeMutableRawPointer?
) -> Int32 {
    guard let out, let outLength, let offered,
        let name = TLSContext.http1Range(inALPNList: UnsafeBufferPointer(start: offered, count: Int(offeredLength)))
    else { return SSL_TLSEXT_ERR_ALERT_FATAL }
    // OpenSSL allows pointing into the client's list, which outlives this call.
    out.pointee = offered + name.lowerBound
    outLength.pointee = UInt8(name.count)
    return SSL_TLSEXT_ERR_OK
}
