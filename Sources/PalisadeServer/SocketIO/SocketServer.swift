import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import PalisadeGateway
import PalisadeJSON
import PalisadeProtocol

/// Socket.IO v5 on top of Engine.IO: namespaces, the policy seam, event handlers, rooms.
public final class SocketServer: EngineApplication, GatewayRooms {
    let policy: any GatewayPolicy
    let logger: Logger
    /// Room membership and broadcasts (in-process unless another adapter is given).
    let rooms: any RoomAdapter
    /// Every connected socket, for the admin API.
    let registry: SocketRegistry
    let connectTimeout: TimeAmount
    let ackTimeout: TimeAmount
    /// Sockets one user may have connected at once (0: no cap).
    let maxConnectionsPerUser: Int
    /// CONNECTs refused for that cap since start.
    let refusedPerUser = NIOLockedValueBox(0)
    /// The audit stream (`server.audit`), nil: none.
    public let audit: (any AuditSink)?
    /// Addresses, networks and users refused at the handshake and at CONNECT.
    public let bans = BanList()
    /// The Engine.IO transports on now (starts as `socketio.transports` says).
    public let transports: TransportSwitch
    /// Rooms one socket may be in at once besides its own (0: no cap).
    let maxRoomsPerSocket: Int
    /// Joins refused for that cap since start.
    let refusedRooms = NIOLockedValueBox(0)
    private let namespaces: Set<String>
    private let handlers: NameTable<EventHandler>
    let connectHandler: ConnectHandler?
    let disconnectHandler: DisconnectHandler?

    /// - Parameters:
    ///   - namespaces: namespaces besides `/` that clients may join.
    ///   - handlers: event name → handler, run after the policy allowed the event.
    ///   - onConnect: run for each socket after its CONNECT reply.
    ///   - onDisconnect: run for each socket as it goes, before the policy hears of it.
    ///   - adapter: makes the room adapter from the server's socket registry (default: in-process).
    public init(
        configuration: ServerConfiguration,
        policy: any GatewayPolicy = AllowAllPolicy(),
        handlers: [String: EventHandler] = [:],
        onConnect: ConnectHandler? = nil,
        onDisconnect: DisconnectHandler? = nil,
        adapter: ((SocketRegistry) -> any RoomAdapter)? = nil,
        audit: (any AuditSink)? = nil,
        logger: Logger
    ) {
        self.audit = audit
        self.policy = policy
        self.logger = logger
        self.handlers = NameTable(handlers)
        self.connectHandler = onConnect
        self.disconnectHandler = onDisconnect
        registry = SocketRegistry()
        rooms = adapter?(registry) ?? InProcessRoomAdapter(sockets: registry)
        namespaces = Set(["/"] + configuration.namespaces)
        connectTimeout = .milliseconds(Int64(configuration.connectTimeoutMs))
        ackTimeout = .milliseconds(Int64(configuration.ackTimeoutMs))
        maxConnectionsPerUser = configuration.maxConnectionsPerUser
        maxRoomsPerSocket = configuration.maxRoomsPerSocket
        transports = TransportSwitch(
            polling: configuration.transports.allowsPolling, websocket: configuration.transports.allowsWebSocket)
    }

    func hasNamespace(_ namespace: String) -> Bool { namespaces.contains(namespace) }

    func handler(for event: String) -> EventHandler? { handlers[event] }

    /// Emits an event to everyone in `room` (of `namespace`), except the socket `skipping`.
    public func emit(to room: String, _ event: String, _ arguments: [JSONValue], namespace: String = "/", skipping: String? = nil) {
        let target = BroadcastTarget(namespace: namespace, rooms: [room], except: skipping.map { [$0] } ?? [])
        rooms.broadcast(.event(event, arguments, namespace: namespace), to: target)
    }

    /// The ids of the sockets in `room`.
    public func members(of room: String, namespace: String = "/") -> [String] {
        Array(rooms.socketIDs(in: BroadcastTarget(namespace: namespace, rooms: [room])))
    }

    /// How many sockets are in `room`.
    public func memberCount(of room: String, namespace: String = "/") -> Int {
        rooms.socketIDs(in: BroadcastTarget(namespace: namespace, rooms: [room])).count
    }

    // MARK: EngineApplication

    public func authorizeHandshake(_ request: HandshakeRequest, on loop: any EventLoop) -> EventLoopFuture<EngineRequestError?> {
        policy.handshake(request, on: loop).map { decision in
            switch decision {
            case .allow: return nil
            case .deny(let reason, let status):
                guard let status, (400...599).contains(status) else { return .forbidden(reason) }
                return EngineRequestError(code: 4, message: reason, status: HTTPResponseStatus(statusCode: status))
            }
        }
    }

    public func sessionOpened(_ session: EngineSession) -> any EngineSessionHandler {
        SocketConnection(session: session, server: self)
    }
}
