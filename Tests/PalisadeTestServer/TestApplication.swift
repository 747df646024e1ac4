import Logging
import NIOCore
import PalisadeCluster
import PalisadeGateway
import PalisadeJSON
import PalisadeRedis
import PalisadeServer

/// The Socket.IO test app (the conformance suite's, plus rooms and server acks for the interop tests).
enum TestApplication {
    static func makeSocketServer(configuration: ServerConfiguration, cluster: Cluster? = nil, logger: Logger) -> SocketServer {
        // Handlers reach the server through this box, filled right after it is made.
        let serverBox = ServerBox()
        let handlers: [String: EventHandler] = [
            "message": { socket, args, _ in socket.emit("message-back", args) },
            "message-with-ack": { _, args, ack in ack?(args) },
            "join": { socket, args, ack in
                guard let room = args.first?.stringValue else { return ack?([.bool(false)]) ?? () }
                // With Redis, the ack waits for the room channel's SUBSCRIBE (the fence), so a test may publish at once.
                let loop = socket.loop
                socket.join(room).flatMap { joined in cluster?.fence(on: loop).map { joined } ?? loop.makeSucceededFuture(joined) }
                    .assumeIsolated().whenSuccess { joined in ack?([.bool(joined)]) }
            },
            "leave": { socket, args, ack in
                if let room = args.first?.stringValue { socket.leave(room) }
                ack?([.bool(true)])
            },
            "broadcast": { socket, args, ack in
                if args.count >= 3, let room = args[0].stringValue, let event = args[1].stringValue {
                    socket.broadcast(to: room, event, [args[2]])
                }
                ack?([.bool(true)])
            },
            "rooms": { socket, _, ack in
                ack?([.array(socket.rooms.sorted().map { .string($0) })])
            },
            "server-ack": { socket, args, _ in
                // Server-to-client acks are the server's own (the contract has none yet).
                (socket as? Socket)?.emit("server-ack-request", args) { result in
                    if case .success(let reply) = result { socket.emit("server-ack-result", [.array(reply)]) }
                }
            },
            // Acks once the socket's own room channel (subscribed at connect) is live in Redis.
            "fence": { socket, _, ack in
                let loop = socket.loop
                (cluster?.fence(on: loop) ?? loop.makeSucceededVoidFuture()).assumeIsolated().whenComplete { _ in ack?([.bool(true)]) }
            },
            "disconnect-me": { socket, _, _ in socket.disconnect() },
            "member-count": { socket, args, ack in
                let room = args.first?.stringValue ?? ""
                ack?([JSONValue(serverBox.server?.memberCount(of: room, namespace: socket.namespace) ?? 0)])
            },
        ]
        let server = SocketServer(
            configuration: configuration,
            policy: TestPolicy(),
            handlers: handlers,
            onConnect: { socket in socket.emit("auth", [(socket as? Socket)?.auth ?? .null]) },
            adapter: cluster.map { cluster in { registry in cluster.makeAdapter(registry) } },
            logger: logger
        )
        serverBox.server = server
        return server
    }
}

/// Refuses a CONNECT whose auth carries `{"refuse": reason}`; allows everything else.
final class TestPolicy: GatewayPolicy {
    func authenticate(_ socket: any GatewaySocket, auth: JSONValue) -> EventLoopFuture<ConnectDecision> {
        if let reason = auth["refuse"]?.stringValue {
            return socket.loop.makeSucceededFuture(.refuse(message: reason, data: nil))
        }
        return socket.loop.makeSucceededFuture(.accept(identity: nil))
    }
}

/// Set once at start-up, read by handlers afterwards.
final class ServerBox: @unchecked Sendable {
    // Safe: written once before the server accepts connections, only read after.
    var server: SocketServer?
}

extension TestApplication {
    /// The Redis room adapter of `--redis-url`, made when the server makes its adapter.
    final class Cluster: @unchecked Sendable {
        // Safe: `adapter` is written once, while the server is made, before any connection; only read after.
        private var adapter: RedisRoomAdapter?
        private let redis: RedisConfiguration
        private let settings: RedisRoomAdapterSettings
        private let eventLoop: any EventLoop
        private let logger: Logger

        init(redis: RedisConfiguration, settings: RedisRoomAdapterSettings, eventLoop: any EventLoop, logger: Logger) {
            self.redis = redis
            self.settings = settings
            self.eventLoop = eventLoop
            self.logger = logger
        }

        func makeAdapter(_ registry: SocketRegistry) -> any RoomAdapter {
            let adapter = RedisRoomAdapter(sockets: registry, redis: redis, eventLoop: eventLoop, settings: settings, logger: logger)
            self.adapter = adapter
            return adapter
        }

        /// The adapter's fence, on `loop`; a fence that fails (Redis down) completes too.
        func fence(on loop: any EventLoop) -> EventLoopFuture<Void> {
            guard let adapter else { return loop.makeSucceededVoidFuture() }
            return adapter.fence().hop(to: loop).recover { _ in }
        }
    }
}
