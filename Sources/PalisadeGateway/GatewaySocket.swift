import NIOCore
import PalisadeJSON

/// What a policy and a core handler may see of a socket (one client's connection to one
/// namespace) and do with it. The server's socket implements it; the policy engine and the
/// Yjs relay know no more of it than this. Every member is used on the socket's `loop`.
///
/// Class-bound: these are read on every event, and a class existential is passed with one
/// retain where any other is copied through its value witness.
public protocol GatewaySocket: AnyObject {
    /// The socket id the client sees (not the Engine.IO sid, which is secret).
    var id: String { get }
    var namespace: String { get }
    /// The client's IP address (`""` when unknown).
    var ip: String { get }
    /// `polling` or `websocket`; it changes on an upgrade.
    var transport: String { get }
    var loop: any EventLoop { get }
    /// Who the socket acts as (nil: anonymous). A policy may set it after connect (`conn:set_user`).
    var identity: JSONValue? { get set }
    /// The identity's `id`, or nil.
    var userID: String? { get }
    /// Connected: the CONNECT was accepted and the socket has not gone.
    var isConnected: Bool { get }
    /// Over: torn down after it was connected, or abandoned before. Never false again.
    var hasEnded: Bool { get }
    /// The rooms it is in, its own room (its id) included.
    var rooms: Set<String> { get }
    /// The policy engine's per-socket state: the engine puts what it keeps here and takes it
    /// away when it forgets the socket; the server never reads it.
    var policyState: AnyObject? { get set }
    /// Per-socket state of core handlers, one object per type.
    var attachments: SocketAttachments { get set }
    /// A reference to this socket that may cross event loops.
    var handle: any GatewaySocketHandle { get }

    /// Sends an event to this client.
    func emit(_ event: String, _ arguments: [JSONValue])
    /// Answers the client's event `ackID` (through `Ack`).
    func sendAck(_ ackID: UInt64, _ arguments: [JSONValue])
    /// Emits to a room of this socket's namespace, skipping this socket.
    func broadcast(to room: String, _ event: String, _ arguments: [JSONValue])
    /// Joins `room` if the policy allows it; the future says whether it did.
    @discardableResult func join(_ room: String) -> EventLoopFuture<Bool>
    /// Joins `room` without asking the policy: for core handlers that authorized the resource
    /// behind the room themselves. The future completes once an emit to the room from any
    /// instance reaches the socket (the room adapter's fence).
    @discardableResult func joinAuthorized(_ room: String) -> EventLoopFuture<Void>
    func leave(_ room: String)
    /// Disconnects from the server side: the client gets DISCONNECT.
    func disconnect()
    /// Closes the transport if the socket still has no identity after `delay`.
    func closeIfAnonymous(after delay: TimeAmount)
    /// Stops reading from the client until `resumeReading` (a handler whose work backs up).
    func pauseReading()
    func resumeReading()
}

/// A reference to a socket that may cross event loops (rooms and core handlers hold these).
public protocol GatewaySocketHandle: AnyObject, Sendable {
    var id: String { get }
    var namespace: String { get }
    var loop: any EventLoop { get }
    /// Runs `body` with the socket on its loop: at once when already there, else queued.
    func execute(_ body: @escaping @Sendable (any GatewaySocket) -> Void)
}

/// What a policy or a core handler may do with rooms and sockets server-wide, from any loop.
public protocol GatewayRooms: AnyObject, Sendable {
    /// Emits to everyone in `room` of `namespace`, except the socket `skipping`.
    func emit(to room: String, _ event: String, _ arguments: [JSONValue], namespace: String, skipping: String?)
    /// The ids of the sockets in `room`.
    func members(of room: String, namespace: String) -> [String]
    /// Disconnects socket `sid`; false when it is unknown.
    func disconnect(sid: String) -> Bool
}

/// The reply to an event the client sent with an ack id. Only the first call is sent.
public final class Ack {
    /// Strong: a weak reference would give every socket a side table, which makes each
    /// retain and release of it slower. An ack is let go once its handler is done.
    private let socket: any GatewaySocket
    private let id: UInt64
    private var sent = false

    public init(socket: any GatewaySocket, id: UInt64) {
        self.socket = socket
        self.id = id
    }

    public func callAsFunction(_ arguments: [JSONValue]) {
        guard !sent else { return }  // the socket drops it if it has gone
        sent = true
        socket.sendAck(id, arguments)
    }
}

@available(*, unavailable)
extension Ack: Sendable {}

/// Handles one named event after the policy allowed it: `(socket, arguments, ack)`.
/// `ack` is nil unless the client asked for one. Runs on the socket's loop.
public typealias EventHandler = @Sendable (any GatewaySocket, [JSONValue], Ack?) -> Void

/// Handles a freshly connected socket (after the CONNECT reply went out).
public typealias ConnectHandler = @Sendable (any GatewaySocket) -> Void

/// Handles a socket that is going away, before the policy's `disconnected` and while it
/// still has its rooms: `(socket, reason)`. Runs on the socket's loop.
public typealias DisconnectHandler = @Sendable (any GatewaySocket, String) -> Void
