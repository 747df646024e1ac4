import Logging
import NIOHTTP1
import NIOCore
import PalisadeGateway
import PalisadeJSON
import PalisadeProtocol

/// Socket.IO v5 on top of Engine.IO: namespaces, the policy seam, event handlers, rooms.
public final class SocketServer: EngineApplication, GatewayRooms {
    let policy: any GatewayPolicy
    let logger: Logger
    let rooms: RoomRegistry
    /// Every connected socket, for the admin API.
    let registry: SocketRegistry
    let connectTimeout: TimeAmount
    let ackTimeout: TimeAmount
    private let namespaces: Set<String>
    private let handlers: NameTable<EventHandler>
    let connectHandler: ConnectHandler?
    let disconnectHandler: DisconnectHandler?

    /// - Parameters:
    ///   - namespaces: namespaces besides `/` that clients may join.
    ///   - handlers: event name → handler, run after the policy allowed the event.
    ///   - onConnect: run for each socket after its CONNECT reply.
    ///   - onDisconnect: run for each socket as it goes, before the policy hears of it.
    public init(
        configuration: ServerConfiguration,
        policy: any GatewayPolicy = AllowAllPolicy(),
        handlers: [String: EventHandler] = [:],
        onConnect: ConnectHandler? = nil,
        onDisconnect: DisconnectHandler? = nil,
        logger: Logger
    ) {
        self.policy = policy
        self.logger = logger
        self.handlers = NameTable(handlers)
        self.connectHandler = onConnect
        self.disconnectHandler = onDisconnect
        registry = SocketRegistry()
        rooms = RoomRegistry(sockets: registry)
        namespaces = Set(["/"] + configuration.namespaces)
        connectTimeout = .milliseconds(Int64(configuration.connectTimeoutMs))
        ackTimeout = .milliseconds(Int64(configuration.ackTimeoutMs))
    }

    func hasNamespace(_ namespace: String) -> Bool { namespaces.contains(namespace) }

    func handler(for event: String) -> EventHandler? { handlers[event] }

    /// Emits an event to everyone in `room` (of `namespace`), except the socket `skipping`.
    public func emit(to room: String, _ event: String, _ arguments: [JSONValue], namespace: String = "/", skipping: String? = nil) {
        let frames = SocketPacketEncoder.frames(.event(event, arguments, namespace: namespace))
        rooms.broadcast(frames, to: room, namespace: namespace, skipping: skipping)
    }

    /// The ids of the sockets in `room`.
    public func members(of room: String, namespace: String = "/") -> [String] {
        rooms.members(of: room, namespace: namespace).map(\.id)
    }

    /// How many sockets are in `room`.
    public func memberCount(of room: String, namespace: String = "/") -> Int {
        rooms.count(of: room, namespace: namespace)
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
