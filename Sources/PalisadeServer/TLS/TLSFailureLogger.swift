import Logging
import NIOCore
import PalisadeTLS

/// Logs a connection's TLS failure (garbage, a refused protocol or cipher, a missed handshake
/// deadline) at debug with the peer's address; `OpenSSLHandler` has already closed that connection.
/// Debug, not warning: any scanner can cause these. OpenSSL's reasons carry no key material.
final class TLSFailureLogger: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let failure = error as? TLSError else { return context.fireErrorCaught(error) }
        logger.debug(
            "TLS connection closed",
            metadata: ["peer": "\(context.channel.remoteAddress?.description ?? "?")", "reason": "\(failure.message)"])
    }
}

@available(*, unavailable)
extension TLSFailureLogger: Sendable {}
