import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PalisadeTLS

/// The listener's TLS (`server.tls_cert`, `server.tls_key`): the context new connections are
/// accepted with, and its reload.
///
/// The files are read on `NIOThreadPool`, never on an event loop. A reload swaps the context for
/// new connections only: a live connection keeps the one it was accepted with (its `SSL` holds a
/// reference), so nothing drops. A reload that cannot use the files keeps the context in force.
public final class TLSTermination: Sendable {
    public let certificateFile: String
    public let keyFile: String
    /// How long a new connection has to complete its handshake before it is closed.
    public let handshakeTimeout: TimeAmount
    private let current: NIOLockedValueBox<TLSContext>
    private let logger: Logger

    private init(certificateFile: String, keyFile: String, handshakeTimeout: TimeAmount, context: TLSContext, logger: Logger) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.handshakeTimeout = handshakeTimeout
        current = NIOLockedValueBox(context)
        self.logger = logger
    }

    /// TLS as `configuration` asks: nil when `tlsCertificateFile` is unset.
    /// - Throws: `TLSError` naming the file that cannot be read or used.
    public static func load(_ configuration: ServerConfiguration, logger: Logger) async throws -> TLSTermination? {
        guard let certificateFile = configuration.tlsCertificateFile, let keyFile = configuration.tlsKeyFile else { return nil }
        return try await load(
            certificateFile: certificateFile, keyFile: keyFile,
            handshakeTimeout: .nanoseconds(Int64(configuration.tlsHandshakeTimeoutSeconds * 1e9)), logger: logger)
    }

    /// Reads the certificate chain and key.
    /// - Throws: `TLSError` naming the file that cannot be read or used.
    public static func load(certificateFile: String, keyFile: String, handshakeTimeout: TimeAmount, logger: Logger) async throws
        -> TLSTermination
    {
        let context = try await read(certificateFile: certificateFile, keyFile: keyFile)
        return TLSTermination(
            certificateFile: certificateFile, keyFile: keyFile, handshakeTimeout: handshakeTimeout, context: context, logger: logger)
    }

    /// Reads the files again and, if they make a context, accepts new connections with it.
    /// On failure the error is logged, the old context stays, and the error is thrown.
    /// - Throws: `TLSError` naming the file that cannot be read or used.
    public func reload() async throws {
        do {
            let context = try await Self.read(certificateFile: certificateFile, keyFile: keyFile)
            current.withLockedValue { $0 = context }
            logger.info("TLS certificate reloaded", metadata: ["file": "\(certificateFile)"])
        } catch {
            logger.error("TLS reload failed: keeping the certificate in force", metadata: ["error": "\(error)"])
            throw error
        }
    }

    /// The context new connections get now.
    public var context: TLSContext { current.withLockedValue { $0 } }

    /// A new connection's first handlers: TLS (accept side), then the logger of its failures.
    func makeHandlers() throws -> [any ChannelHandler] {
        [try OpenSSLHandler(serverContext: context, handshakeTimeout: handshakeTimeout), TLSFailureLogger(logger: logger)]
    }

    private static func read(certificateFile: String, keyFile: String) async throws -> TLSContext {
        try await NIOThreadPool.singleton.runIfActive {
            try TLSContext.server(certificateFile: certificateFile, keyFile: keyFile)
        }
    }
}
