import NIOCore
import NIOPosix
import PalisadeTLS

/// Real connections on loopback for the TLS tests: a server whose pipeline is the accept-side
/// `OpenSSLHandler` and an echo, and clients that are the connect-side handler and a collector.
struct LoopbackTLS {
    let group: MultiThreadedEventLoopGroup

    /// Serves `context` on a free port until the returned channel is closed.
    func echoServer(_ context: TLSContext, handshakeTimeout: TimeAmount = .seconds(10)) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = try OpenSSLHandler(serverContext: context, handshakeTimeout: handshakeTimeout)
                    try channel.pipeline.syncOperations.addHandlers([tls, Echo()])
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// Sends `text` through TLS to `server`, trusting only `caFile`; returns what came back and the
    /// protocol the handshake settled on. Throws when the handshake or the connection fails.
    func roundTrip(_ text: String, to server: any Channel, caFile: String) async throws -> (echo: String, version: String?) {
        let reply = group.next().makePromise(of: String.self)
        let expected = text.utf8.count
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = try OpenSSLHandler(context: try TLSContext.client(caFile: caFile), serverName: "127.0.0.1")
                    try channel.pipeline.syncOperations.addHandlers([tls, Collector(expected: expected, reply: reply)])
                }
            }
            .connect(to: server.localAddress!).get()
        defer { channel.close(promise: nil) }
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
        let echo = try await reply.futureResult.get()
        let version = try await channel.pipeline.handler(type: OpenSSLHandler.self).map { $0.negotiatedVersion }.get()
        return (echo, version)
    }

    /// Connects without TLS, sends `bytes`, and waits for the server to close; returns the seconds it took.
    func plainConnection(to server: any Channel, sending bytes: [UInt8]) async throws -> Double {
        let started = NIODeadline.now()
        let channel = try await ClientBootstrap(group: group).connect(to: server.localAddress!).get()
        if !bytes.isEmpty { try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get() }
        try await channel.closeFuture.get()
        return Double((NIODeadline.now() - started).nanoseconds) / 1e9
    }
}

/// Writes back every buffer it reads.
private final class Echo: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(data, promise: nil)
    }
}

/// Gathers `expected` bytes into `reply`; fails it if the connection ends or errs first.
private final class Collector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let expected: Int
    private let reply: EventLoopPromise<String>
    private var received = ByteBuffer()

    init(expected: Int, reply: EventLoopPromise<String>) {
        self.expected = expected
        self.reply = reply
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        received.writeBuffer(&bytes)
        if received.readableBytes >= expected { reply.succeed(String(buffer: received)) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        reply.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        reply.fail(ChannelError.eof)
    }
}

@available(*, unavailable)
extension Echo: Sendable {}

@available(*, unavailable)
extension Collector: Sendable {}
