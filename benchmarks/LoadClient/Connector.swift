import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import PalisadeProtocol

/// Opens Socket.IO connections over a direct WebSocket (`?EIO=4&transport=websocket`),
/// each on a chosen event loop, and hands back its channel once the role says it is ready.
final class Connector: Sendable {
    let target: BenchTarget
    let loops: [EventLoop]
    let stats: [NIOLoopBound<LoopStats>]
    /// Pre-encoded CONNECT frames, one per token, used round-robin.
    private let connectFrames: [ByteBuffer]
    /// Local addresses to connect from, round-robin (spreads ephemeral ports over several
    /// loopback addresses when one address's ~28 000 ports are not enough).
    private let sources: [SocketAddress]
    private let handshakeTimeout: TimeAmount

    init(target: BenchTarget, group: MultiThreadedEventLoopGroup, tokens: [String], sources: [SocketAddress],
         handshakeTimeout: TimeAmount = .seconds(30)) async throws {
        self.target = target
        self.loops = Array(group.makeIterator())
        var stats: [NIOLoopBound<LoopStats>] = []
        for loop in loops {
            stats.append(try await loop.submit { NIOLoopBound(LoopStats(), eventLoop: loop) }.get())
        }
        self.stats = stats
        self.connectFrames = tokens.isEmpty
            ? [ClientFrame.text("40")]
            : tokens.map { ClientFrame.text("40" + JSONWriter.string(.object(["token": .string($0)]))) }
        self.sources = sources
        self.handshakeTimeout = handshakeTimeout
    }

    /// Connects connection `index` on loop `loopIndex`; `makeRole` runs on that loop.
    func connect(index: Int, loopIndex: Int,
                 makeRole: @escaping @Sendable (EventLoop) -> any SessionRole) -> EventLoopFuture<Channel> {
        let loop = loops[loopIndex % loops.count]
        let ready = loop.makePromise(of: Channel.self)
        let statsBox = stats[loopIndex % loops.count]
        let connectFrame = connectFrames[index % connectFrames.count]
        let target = self.target
        let timeout = handshakeTimeout

        var bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.seconds(10))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = SocketIOConnection(
                        role: makeRole(channel.eventLoop), connectFrame: connectFrame,
                        stats: statsBox.value, ready: ready, loop: channel.eventLoop, handshakeTimeout: timeout)
                    // A connection that fails before it is ready (e.g. a timeout mid-upgrade) is closed.
                    ready.futureResult.whenFailure { _ in channel.close(promise: nil) }
                    let bound = NIOLoopBound(connection, eventLoop: channel.eventLoop)
                    let requestHandler = UpgradeRequestHandler(target: target, connection: connection)
                    let upgrader = NIOWebSocketClientUpgrader(
                        automaticErrorHandling: false
                    ) { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            // SocketIOConnection reads and writes raw frames itself, so it goes in
                            // front of NIO's frame encoder and decoder (which the upgrader adds and
                            // which cannot be removed synchronously): it never forwards a read, and
                            // its writes do not pass the encoder.
                            let pipeline = channel.pipeline.syncOperations
                            let encoder = try pipeline.handler(type: WebSocketFrameEncoder.self)
                            try pipeline.addHandler(bound.value, position: .before(encoder))
                        }
                    }
                    let upgrade: NIOHTTPClientUpgradeConfiguration = (
                        upgraders: [upgrader],
                        completionHandler: { context in
                            context.pipeline.syncOperations.removeHandler(name: UpgradeRequestHandler.name, promise: nil)
                        }
                    )
                    let pipeline = channel.pipeline.syncOperations
                    // The server may send its open packet in the same segment as the 101: keep those bytes.
                    try pipeline.addHTTPClientHandlers(leftOverBytesStrategy: .forwardBytes, withClientUpgrade: upgrade)
                    try pipeline.addHandler(requestHandler, name: UpgradeRequestHandler.name)
                }
            }
        if !sources.isEmpty {
            bootstrap = bootstrap.bind(to: sources[index % sources.count])
        }
        bootstrap.connect(to: target.address).whenFailure { error in
            ready.fail(SocketIOConnection.Failure(kind: Self.connectFailureKind(error)))
        }
        return ready.futureResult
    }

    static func connectFailureKind(_ error: Error) -> String {
        if let io = error as? IOError {
            switch io.errnoCode {
            case 111: return "refused"
            case 110: return "timeout"
            case 99: return "no_local_port"
            case 24, 23: return "fd_limit"
            default: return "errno_\(io.errnoCode)"
            }
        }
        if let connect = error as? NIOConnectionError {
            return connect.connectionErrors.first.map { connectFailureKind($0.error) } ?? "connect"
        }
        if case ChannelError.connectTimeout = error { return "timeout" }
        return "connect_" + SocketIOConnection.describe(error)
    }
}

/// Sends the WebSocket upgrade request once TCP is up; reports a refused upgrade.
final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart
    static let name = "bench-upgrade-request"

    private let target: BenchTarget
    private let connection: SocketIOConnection

    init(target: BenchTarget, connection: SocketIOConnection) {
        self.target = target
        self.connection = connection
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: target.hostHeader)
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target.upgradeURI, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Only a response that did not upgrade reaches this handler.
        if case .head(let head) = unwrapInboundIn(data) {
            connection.fail(.init(kind: "http_\(head.status.code)"))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        connection.fail(.init(kind: "upgrade_" + SocketIOConnection.describe(error)))
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.fail(.init(kind: "closed_during_upgrade"))
        context.fireChannelInactive()
    }
}

@available(*, unavailable) extension UpgradeRequestHandler: Sendable {}
