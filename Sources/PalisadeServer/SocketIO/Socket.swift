import NIOCore
import PalisadeGateway
import PalisadeJSON
import PalisadeProtocol

/// One client's connection to one namespace (what Socket.IO calls a socket).
/// Lives on its session's loop; every method must be called there.
public final class Socket: GatewaySocket {
    /// The socket id the client sees in the CONNECT reply (not the Engine.IO sid, which is secret).
    public let id: String
    public let namespace: String
    /// The auth payload of the client's CONNECT (`{}` when it sent none). Released (`{}`)
    /// once the connect hooks and handler ran: a token is a few hundred bytes per idle socket.
    public private(set) var auth: JSONValue
    /// The token's id (`jti`, read unverified) that the admin API matches revocations
    /// against, taken from `auth` when the socket connects.
    private(set) var authTokenID: String?
    /// Who the socket acts as, as the policy decided at connect (nil: anonymous).
    /// Kept as JSON text, one block instead of a tree of members and strings (about 150 bytes
    /// less per idle socket), and parsed when read: reads are rare (admin API, Yjs joins).
    public var identity: JSONValue? {
        get {
            switch storedIdentity {
            case nil: nil
            case .text(let text)?: try? JSONParser.parse(text)
            case .value(let value)?: value
            }
        }
        set {
            if isConnected, (storedIdentity == nil) != (newValue == nil) {
                ServerMetrics.shared.socket(authenticated: newValue != nil, by: 1)
                ServerMetrics.shared.socket(authenticated: storedIdentity != nil, by: -1)
            }
            userID = Self.userID(of: newValue)
            // A socket that signs in later (`user-join`) as a banned user goes, as at CONNECT.
            if isConnected, let userID, server.bans.ban(forUser: userID) != nil {
                loop.assumeIsolated().execute { self.disconnect() }
            }
            armExpiry(at: newValue?["expires_at"]?.doubleValue)
            guard let newValue else { return storedIdentity = nil }
            storedIdentity = newValue.containsBinary ? .value(newValue) : .text(JSONWriter.string(newValue))
        }
    }
    /// The identity's `id` (a string or an integer), or nil for anonymous sockets. Kept apart
    /// from the identity's text: the Yjs relay names the sender of every update with it.
    public private(set) var userID: String?
    private var storedIdentity: StoredIdentity?
    /// Closes the socket when its identity's `expires_at` passes (Socket+Expiry.swift).
    var expiryTimer: Scheduled<Void>?
    private enum StoredIdentity {
        case text(String)
        /// Binary values have no JSON text; such an identity is kept as it is.
        case value(JSONValue)
    }
    public var isAnonymous: Bool { storedIdentity == nil }

    /// An identity's `id` (a string or an integer), or nil.
    static func userID(of identity: JSONValue?) -> String? {
        identity?["id"].flatMap { $0.stringValue ?? $0.intValue.map(String.init) }
    }
    /// The rooms the socket is in, its own room (its id) included.
    public var rooms: Set<String> { isConnected ? joinedRooms.union([id]) : [] }
    /// The rooms joined; the own room is implied (see `RoomRegistry`).
    private var joinedRooms: Set<String> = []
    /// What the registry, the rooms and core handlers on other loops hold of this socket:
    /// one per connected socket, kept until tear-down (it refers back to the socket).
    private var handleStorage: SocketHandle?
    public var handle: any GatewaySocketHandle { socketHandle }

    /// The concrete handle, for the registry and the rooms.
    var socketHandle: SocketHandle {
        if let handleStorage { return handleStorage }
        let handle = SocketHandle(self)
        if isConnected { handleStorage = handle }  // never kept (a cycle) after tear-down
        return handle
    }
    public private(set) var isConnected = false
    /// True once the socket is over: torn down after it was connected, or abandoned before
    /// (its CONNECT refused, or its connection gone first). Never false again.
    public private(set) var hasEnded = false
    /// Unix seconds when the CONNECT was accepted.
    public private(set) var connectedAt: Double = 0
    /// Per-socket state of core handlers (the Yjs relay's joined documents, say), by type.
    public var attachments = SocketAttachments()
    /// The policy engine's state of this socket (`GatewaySocket.policyState`); never read here.
    public var policyState: AnyObject?

    let connection: SocketConnection
    var server: SocketServer { connection.server }
    private var nextAckID: UInt64 = 0
    private var pendingAcks: [UInt64: PendingAck] = [:]
    /// Events wait here while the policy decides on an earlier one (`Socket+Events.swift`).
    var events = SocketEventQueue()

    private struct PendingAck {
        var callback: (Result<[JSONValue], AckTimeoutError>) -> Void
        var timeout: Scheduled<Void>?
    }

    init(id: String, namespace: String, auth: JSONValue, connection: SocketConnection) {
        self.id = id
        self.namespace = namespace
        self.auth = auth
        self.connection = connection
    }

    public var loop: any EventLoop { connection.session.loop }
    public var session: EngineSession { connection.session }
    /// The client's IP address.
    public var ip: String { connection.session.ip }
    public var transport: String { connection.session.transportName }

    // MARK: Emitting

    /// Sends an event to this client.
    public func emit(_ event: String, _ arguments: [JSONValue]) {
        sendPacket(.event(event, arguments, namespace: namespace))
    }

    /// Sends an event and asks the client for an ack; `callback` gets its arguments,
    /// or a timeout after `timeout` (the server's ack timeout by default).
    public func emit(
        _ event: String, _ arguments: [JSONValue], timeout: TimeAmount? = nil,
        ack callback: @escaping (Result<[JSONValue], AckTimeoutError>) -> Void
    ) {
        guard isConnected else { return callback(.failure(AckTimeoutError())) }
        let id = nextAckID
        nextAckID += 1
        let task = loop.assumeIsolated().scheduleTask(in: timeout ?? server.ackTimeout) {
            if let pending = self.pendingAcks.removeValue(forKey: id) {
                pending.callback(.failure(AckTimeoutError()))
            }
        }
        pendingAcks[id] = PendingAck(callback: callback, timeout: task)
        sendPacket(.event(event, arguments, namespace: namespace, ackId: id))
    }

    /// Emits to a room of this socket's namespace, skipping this socket.
    public func broadcast(to room: String, _ event: String, _ arguments: [JSONValue]) {
        server.emit(to: room, event, arguments, namespace: namespace, skipping: id)
    }

    public func sendAck(_ ackID: UInt64, _ arguments: [JSONValue]) {
        sendPacket(SocketPacket(.ack, namespace: namespace, ackId: ackID, data: .array(arguments)))
    }

    public func pauseReading() { connection.session.pauseReading() }

    public func resumeReading() { connection.session.resumeReading() }

    func sendPacket(_ packet: SocketPacket) {
        guard isConnected else { return }
        if packet.kind == .event || packet.kind == .binaryEvent { ServerMetrics.shared.eventsOut.increment() }
        var frames = SocketPacketEncoder.frames(packet)
        guard frames.count == 1 else { return connection.session.send(frames) }
        // Moved out of the array: the buffer has one owner when the WebSocket header is
        // written into its headroom (`WebSocketTransport`), so no copy is made.
        connection.session.send(frames.removeLast())
    }

    func sendFrames(_ frames: PreparedFrames) {
        guard isConnected else { return }
        ServerMetrics.shared.eventsOut.increment()
        connection.session.send(frames)
    }

    // MARK: Rooms

    /// Joins `room` if the policy allows it; the future says whether it did, once the room adapter's
    /// fence passed (with Redis: the room's channel is subscribed, so an emit to it from now on arrives).
    @discardableResult
    public func join(_ room: String) -> EventLoopFuture<Bool> {
        let loop = self.loop
        if server.maxRoomsPerSocket > 0, joinedRooms.count >= server.maxRoomsPerSocket, !joinedRooms.contains(room) {
            ServerMetrics.shared.refused(cap: "rooms_per_socket")
            server.audit?.record(
                "cap.refused",
                [JSONMember("cap", .string("rooms_per_socket")), JSONMember("sid", .string(id)), JSONMember("ip", .string(ip))])
            server.logger.notice("a join refused: the socket is in as many rooms as allowed", metadata: ["sid": "\(id)"])
            return loop.makeSucceededFuture(false)
        }
        return server.policy.authorizeJoin(self, room: room).assumeIsolated().flatMap { decision in
            guard decision == .allow, self.isConnected else { return loop.makeSucceededFuture(false) }
            self.joinWithoutCheck(room)
            return self.server.rooms.fence(on: loop).map { true }
        }.nonisolated()
    }

    /// Joins `room` without asking the policy: for core handlers that authorized the
    /// resource behind the room themselves (the Yjs relay's `doc_{id}` after a read check).
    /// The future completes once the room adapter's fence passed, as for `join`.
    @discardableResult
    public func joinAuthorized(_ room: String) -> EventLoopFuture<Void> {
        guard isConnected else { return loop.makeSucceededVoidFuture() }
        joinWithoutCheck(room)
        return server.rooms.fence(on: loop)
    }

    func joinWithoutCheck(_ room: String) {
        guard room != id, joinedRooms.insert(room).inserted else { return }
        server.rooms.join(room, socket: socketHandle)
    }

    public func leave(_ room: String) {
        guard joinedRooms.remove(room) != nil else { return }
        server.rooms.leave(room, socketID: id, namespace: namespace)
    }

    // MARK: Lifecycle

    /// False, and nothing changed, when the identity's user already has as many sockets as
    /// `limits.max_connections_per_user` allows.
    func markConnected(as identity: JSONValue?) -> Bool {
        let userID = Socket.userID(of: identity)
        guard server.registry.add(socketHandle, userID: userID, maxPerUser: server.maxConnectionsPerUser) else { return false }
        self.identity = identity
        isConnected = true
        ServerMetrics.shared.socket(authenticated: !isAnonymous, by: 1)
        connectedAt = UnixTime.now()
        if identity?["jti"]?.stringValue == nil {
            authTokenID = auth["token"]?.stringValue.flatMap(SocketInfo.unverifiedTokenID)
        }
        server.rooms.connected(socketHandle)
        return true
    }

    /// What the admin API shows of this socket.
    var info: SocketInfo {
        SocketInfo(
            sid: id, namespace: namespace, userID: userID,
            ip: ip, transport: transport, rooms: rooms.sorted(), connectedAt: connectedAt,
            tokenID: identity?["jti"]?.stringValue ?? authTokenID
        )
    }

    /// Drops the CONNECT's auth payload (after the connect hooks and handler read it).
    func releaseAuth() {
        auth = .object([])
    }

    /// Disconnects this socket from the server side: the client gets DISCONNECT; when it
    /// was the connection's last socket, the connection closes too.
    public func disconnect() {
        guard isConnected else { return }
        sendPacket(SocketPacket(.disconnect, namespace: namespace))
        connection.socketDisconnected(self, reason: "server namespace disconnect", closeIfLast: true)
    }

    /// Closes the connection's transport (no Socket.IO DISCONNECT, so clients reconnect)
    /// if this socket still has no identity after `delay`: how an unauthenticated
    /// socket that never speaks is bounded in time.
    public func closeIfAnonymous(after delay: TimeAmount) {
        loop.assumeIsolated().scheduleTask(in: delay) {
            guard self.isConnected, self.isAnonymous else { return }
            self.server.logger.info(
                "closing a socket that did not authenticate in time", metadata: ["sid": "\(self.id)", "ip": "\(self.ip)"])
            self.connection.session.close(reason: .forcedClose)
        }
    }

    /// A socket that never connected (its CONNECT refused, or its connection closed while the
    /// policy decided): the policy forgets it.
    func abandon() {
        guard !hasEnded else { return }
        hasEnded = true
        armExpiry(at: nil)
        server.policy.abandoned(self)
    }

    /// Leaves every room, fails pending acks, tells the policy. Called once.
    func tearDown(reason: String) {
        guard isConnected else { return }
        hasEnded = true
        armExpiry(at: nil)
        server.disconnectHandler?(self, reason)
        isConnected = false
        ServerMetrics.shared.socket(authenticated: !isAnonymous, by: -1)
        server.registry.remove(id)
        server.rooms.leaveAll(socketID: id, rooms: joinedRooms, namespace: namespace)
        joinedRooms.removeAll()
        handleStorage = nil
        events.removeAll()
        let acks = pendingAcks
        pendingAcks.removeAll()
        for (_, ack) in acks {
            ack.timeout?.cancel()
            ack.callback(.failure(AckTimeoutError()))
        }
        server.policy.disconnected(self, reason: reason)
    }

    // MARK: Incoming

    /// A packet for this socket: events go to the queue (`Socket+Events.swift`), acks to the
    /// emit that asked for them.
    func received(_ packet: SocketPacket) {
        switch packet.kind {
        case .event, .binaryEvent:
            receivedEvent(packet)
        case .ack, .binaryAck:
            guard let id = packet.ackId, let pending = pendingAcks.removeValue(forKey: id) else { return }
            pending.timeout?.cancel()
            pending.callback(.success(packet.data?.arrayValue ?? []))
        default:
            break
        }
    }
}

/// A server-initiated emit got no ack in time (or the socket went away first).
public struct AckTimeoutError: Error, Sendable {}

@available(*, unavailable)
extension Socket: Sendable {}
