import COpenSSL
import NIOCore

/// TLS in a NIO pipeline through OpenSSL memory BIOs: ciphertext from the socket is written into
/// one BIO and `SSL_read` yields plaintext; plaintext from above goes through `SSL_write` and the
/// other BIO's bytes go to the socket. Either side: `init(context:serverName:)` connects,
/// `init(serverContext:handshakeTimeout:)` accepts. Writes before the handshake completes wait for
/// it. A failure (garbage, a refused protocol, a missed deadline) is fired as a `TLSError` and closes
/// this channel only. Loop-confined, like every handler.
public final class OpenSSLHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private let ssl: OpaquePointer
    private let input: OpaquePointer
    private let output: OpaquePointer
    private let tlsContext: TLSContext
    private let handshakeTimeout: TimeAmount?
    private var handshakeTimer: Scheduled<Void>?
    private var handshakeDone = false
    private var failed = false
    private var waiting: [(ByteBuffer, EventLoopPromise<Void>?)] = []

    /// `serverName` is sent as SNI (unless it is an IP address) and, when the context verifies, must
    /// match the certificate (as a DNS name, or as an IP address).
    public convenience init(context: TLSContext, serverName: String?) throws(TLSError) {
        try self.init(context: context, handshakeTimeout: nil)
        SSL_set_connect_state(ssl)
        if let serverName {
            if Self.isIPAddress(serverName) {
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName)
            } else {
                _ = serverName.withCString { name in
                    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: name))
                }
                SSL_set1_host(ssl, serverName)
            }
        }
    }

    /// The accept side, with a context from `TLSContext.server`. A peer that has not completed its
    /// handshake `handshakeTimeout` after connecting is closed (it would hold a connection for free).
    public convenience init(serverContext: TLSContext, handshakeTimeout: TimeAmount) throws(TLSError) {
        try self.init(context: serverContext, handshakeTimeout: handshakeTimeout)
        SSL_set_accept_state(ssl)
    }

    private init(context: TLSContext, handshakeTimeout: TimeAmount?) throws(TLSError) {
        guard let ssl = SSL_new(context.context) else { throw TLSError.fromQueue("SSL_new failed") }
        guard let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError.fromQueue("BIO_new failed")
        }
        SSL_set_bio(ssl, input, output)  // the SSL owns both BIOs from here
        self.ssl = ssl
        self.input = input
        self.output = output
        tlsContext = context
        self.handshakeTimeout = handshakeTimeout
    }

    deinit { SSL_free(ssl) }

    /// The protocol the handshake settled on (`TLSv1.3`), nil before it completes.
    public var negotiatedVersion: String? {
        handshakeDone ? String(cString: SSL_get_version(ssl)) : nil
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        if let handshakeTimeout, handshakeTimer == nil, !handshakeDone {
            handshakeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: handshakeTimeout) {
                self.handshakeTimer = nil
                let seconds = Double(handshakeTimeout.nanoseconds) / 1e9
                self.fail(context, TLSError("handshake not completed within \(seconds) s"))
            }
        }
        handshake(context)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let cipher = unwrapInboundIn(data)
        cipher.withUnsafeReadableBytes { bytes in
            if let base = bytes.baseAddress, bytes.count > 0 { _ = BIO_write(input, base, Int32(bytes.count)) }
        }
        if !handshakeDone {
            handshake(context)
            guard handshakeDone else { return }
        }
        readPlaintext(context)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let plain = unwrapOutboundIn(data)
        guard handshakeDone else { return waiting.append((plain, promise)) }
        encrypt(plain, context: context, promise: promise)
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if handshakeDone, !failed, mode == .all {
            SSL_shutdown(ssl)  // close_notify, best effort
            sendCiphertext(context, promise: nil)
            context.flush()
        }
        failWaiting(ChannelError.ioOnClosedChannel)
        context.close(mode: mode, promise: promise)
    }

    private func handshake(_ context: ChannelHandlerContext) {
        guard !handshakeDone, !failed else { return }
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            handshakeDone = true
            cancelHandshakeTimer()
            sendCiphertext(context, promise: nil)
            let queued = waiting
            waiting.removeAll()
            for (plain, promise) in queued { encrypt(plain, context: context, promise: promise) }
            context.flush()
            if SSL_pending(ssl) > 0 || BIO_ctrl(input, BIO_CTRL_PENDING, 0, nil) > 0 { readPlaintext(context) }
            return
        }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            sendCiphertext(context, promise: nil)
            context.flush()
        default:
            sendCiphertext(context, promise: nil)  // the alert, if OpenSSL wrote one
            context.flush()
            let verify = SSL_get_verify_result(ssl)
            let reason = verify == X509_V_OK ? "" : " (\(String(cString: X509_verify_cert_error_string(Int(verify)))))"
            fail(context, TLSError.fromQueue("handshake failed\(reason)"))
        }
    }

    private func readPlaintext(_ context: ChannelHandlerContext) {
        while !failed {
            var plain = context.channel.allocator.buffer(capacity: 16_384)
            var status: Int32 = 0
            plain.writeWithUnsafeMutableBytes(minimumWritableBytes: 16_384) { bytes in
                status = SSL_read(ssl, bytes.baseAddress, Int32(min(bytes.count, Int(Int32.max))))
                return max(0, Int(status))
            }
            if status > 0 {
                context.fireChannelRead(wrapInboundOut(plain))
                continue
            }
            switch SSL_get_error(ssl, status) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: break
            case SSL_ERROR_ZERO_RETURN: context.close(promise: nil)
            default: fail(context, TLSError.fromQueue("read failed"))
            }
            break
        }
        sendCiphertext(context, promise: nil)
        context.flush()
    }

    private func encrypt(_ plain: ByteBuffer, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        guard !failed else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        let written = plain.withUnsafeReadableBytes { bytes -> Int32 in
            // A memory BIO grows as needed, so SSL_write takes everything at once.
            bytes.count == 0 ? 0 : SSL_write(ssl, bytes.baseAddress, Int32(bytes.count))
        }
        guard written == plain.readableBytes else {
            promise?.fail(TLSError.fromQueue("write failed"))
            return fail(context, TLSError.fromQueue("write failed"))
        }
        sendCiphertext(context, promise: promise)
    }

    public func flush(context: ChannelHandlerContext) {
        context.flush()
    }

    /// Moves whatever OpenSSL produced into one buffer and writes it (not flushed).
    private func sendCiphertext(_ context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        let pending = Int(BIO_ctrl(output, BIO_CTRL_PENDING, 0, nil))
        guard pending > 0 else {
            promise?.succeed()
            return
        }
        var cipher = context.channel.allocator.buffer(capacity: pending)
        cipher.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { bytes in
            max(0, Int(BIO_read(output, bytes.baseAddress, Int32(pending))))
        }
        context.write(wrapOutboundOut(cipher), promise: promise)
    }

    private func fail(_ context: ChannelHandlerContext, _ error: TLSError) {
        guard !failed else { return }
        failed = true
        failWaiting(error)
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    /// Writes queued behind a handshake that will never finish fail rather than leak.
    public func channelInactive(context: ChannelHandlerContext) {
        cancelHandshakeTimer()
        failWaiting(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        cancelHandshakeTimer()
        failWaiting(ChannelError.ioOnClosedChannel)
    }

    private func cancelHandshakeTimer() {
        handshakeTimer?.cancel()
        handshakeTimer = nil
    }

    private func failWaiting(_ error: any Error) {
        let queued = waiting
        waiting.removeAll()
        for (_, promise) in queued { promise?.fail(error) }
    }

    static func isIPAddress(_ text: String) -> Bool {
        text.contains(":") || text.split(separator: ".").count == 4 && text.allSatisfy { $0.isNumber || $0 == "." }
    }
}

@available(*, unavailable)
extension OpenSSLHandler: Sendable {}
