import Logging
import NIOCore
import PalisadeGateway
import PalisadeJSON
import PalisadeServer

/// The Socket.IO test app (the conformance suite's, plus rooms and server acks for the interop tests).
enum TestApplication {
    /// - Parameter adapter: the room adapter's factory (`--redis-url`: a `RedisRoomAdapter`); nil: in-process.
    static func makeSocketServer(
        configuration: ServerConfiguration, adapter: ((SocketRegistry) -> any RoomAdapter)? = nil, logger: Logger
    ) -> SocketServer {
        // Handlers reach the server through this box, filled right after it is made.
        let serverBox = ServerBox()
        let handlers: [String: EventHandler] = [
            "message": { socket, args, _ in socket.emit("message-back", args) },
            "message-with-ack": { _, args, ack in ack?(args) },
            "join": { socket, args, ack in
                guard let room = args.first?.stringValue else { return ack?([.bool(false)]) ?? () }
                socket.join(room).assumeIsolated().whenSuccess { joined in ack?([.bool(joined)]) }
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
            adapter: adapter,
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
