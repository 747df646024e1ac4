import PalisadeJSON
import PalisadeProtocol

/// Handles one named event after the policy allowed it: `(socket, arguments, ack)`.
/// `ack` is nil unless the client asked for one. Runs on the socket's loop.
public typealias EventHandler = @Sendable (Socket, [JSONValue], Ack?) -> Void

/// Handles a freshly connected socket (after the CONNECT reply went out).
public typealias ConnectHandler = @Sendable (Socket) -> Void

/// Handles a socket that is going away, before the policy's `disconnected` and while it
/// still has its rooms: `(socket, reason)`. Runs on the socket's loop.
public typealias DisconnectHandler = @Sendable (Socket, String) -> Void

/// The reply to an event the client sent with an ack id. Only the first call is sent.
public final class Ack {
    /// Strong: a weak reference would give every socket a side table, which makes each
    /// retain and release of it slower. An ack is let go once its handler is done.
    private let socket: Socket
    private let id: UInt64
    private var sent = false

    init(socket: Socket, id: UInt64) {
        self.socket = socket
        self.id = id
    }

    public func callAsFunction(_ arguments: [JSONValue]) {
        guard !sent else { return }  // `sendPacket` drops it if the socket has gone
        sent = true
        socket.sendPacket(SocketPacket(.ack, namespace: socket.namespace, ackId: id, data: .array(arguments)))
    }
}

@available(*, unavailable)
extension Ack: Sendable {}
