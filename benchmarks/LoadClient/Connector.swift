import NIOCore
import NIOPosix
import PalisadeJSON

/// Opens Socket.IO connections over a direct WebSocket (`?EIO=4&transport=websocket`),
/// each on a chosen event loop and to one of the targets (servers), and hands back its
/// channel once the role says it is ready.
final class Connector: Sendable {
    /// The first server; `targets` holds it and any others (instances of one cluster).
    var target: BenchTarget { targets[0] }
    let targets: [BenchTarget]
    let loops: [EventLoop]
    let stats: [NIOLoopBound<LoopStats>]
    /// Pre-encoded CONNECT frames, one per token, used round-robin.
    private let connectFrames: [ByteBuffer]
    /// The upgrade request every connection sends (`UpgradeHandshake`), one per target.
    private let upgradeRequests: [ByteBuffer]
    /// Local addresses to connect from, round-robin (spreads ephemeral ports over several
    /// loopback addresses when one address's ~28 000 ports are not enough).
    private let sources: [SocketAddress]
    private let handshakeTimeout: TimeAmount

    init(
        targets: [BenchTarget], group: MultiThreadedEventLoopGroup, tokens: [String], sources: [SocketAddress],
        handshakeTimeout: TimeAmount = .seconds(30)
    ) async throws {
        precondition(!targets.isEmpty, "a connector needs a server")
        self.targets = targets
        self.loops = Array(group.makeIterator())
        var stats: [NIOLoopBound<LoopStats>] = []
        for loop in loops {
            stats.append(try await loop.submit { NIOLoopBound(LoopStats(), eventLoop: loop) }.get())
        }
        self.stats = stats
        self.connectFrames =
            tokens.isEmpty
            ? [ClientFrame.text("40")]
            : tokens.map { ClientFrame.text("40" + JSONWriter.string(.object(["token": .string($0)]))) }
        self.upgradeRequests = targets.map { UpgradeHandshake.request(target: $0) }
        self.sources = sources
        self.handshakeTimeout = handshakeTimeout
    }

    /// Connects connection `index` on loop `loopIndex` to `targets[targetIndex]`; `makeRole` runs on that loop.
    func connect(
        index: Int, loopIndex: Int, targetIndex: Int = 0,
        makeRole: @escaping @Sendable (EventLoop) -> any SessionRole
    ) -> EventLoopFuture<Channel> {
        let target = targets[targetIndex % targets.count]
        let loop = loops[loopIndex % loops.count]
        let ready = loop.makePromise(of: Channel.self)
        let statsBox = stats[loopIndex % loops.count]
        let connectFrame = connectFrames[index % connectFrames.count]
        let upgradeRequest = upgradeRequests[targetIndex % targets.count]
        let timeout = handshakeTimeout

        var bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.seconds(10))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = SocketIOConnection(
                        role: makeRole(channel.eventLoop), upgradeRequest: upgradeRequest, connectFrame: connectFrame,
                        stats: statsBox.value, ready: ready, loop: channel.eventLoop, handshakeTimeout: timeout)
                    // A connection that fails before it is ready (e.g. a timeout mid-upgrade) is closed.
                    ready.futureResult.whenFailure { _ in channel.close(promise: nil) }
                    try channel.pipeline.syncOperations.addHandler(connection)
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
