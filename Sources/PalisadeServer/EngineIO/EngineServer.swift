import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOWebSocket
import PalisadeGateway
import PalisadeJSON
import PalisadeProtocol

/// Engine.IO v4 on one path: validates requests, opens sessions, routes polling
/// requests and WebSockets to them. Thread-safe; sessions themselves are loop-bound.
public final class EngineServer: Sendable {
    /// The mount path without a trailing slash, e.g. `/ws/socket.io`.
    public let path: String
    let settings: EngineSettings
    let application: any EngineApplication
    let origins: OriginPolicy
    let logger: Logger
    private let sessions = NIOLockedValueBox<[String: SessionHandle]>([:])
    /// Sessions open at once, in total and per client address.
    let caps: ConnectionCaps
    /// Incoming messages being received, across every connection.
    let inbound: InboundBudget
    /// The application's audit stream, when it is a `SocketServer` with one.
    let audit: (any AuditSink)?
    /// The application's bans, when it is a `SocketServer`.
    let bans: BanList?
    /// The transports on now: the application's switch, or fixed by the settings.
    let transports: TransportSwitch

    init(path: String, settings: EngineSettings, origins: OriginPolicy, application: any EngineApplication, logger: Logger) {
        self.path = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
        self.settings = settings
        self.origins = origins
        self.application = application
        self.logger = logger
        caps = ConnectionCaps(maxTotal: settings.maxConnections, maxPerIP: settings.maxConnectionsPerIP)
        inbound = InboundBudget(limit: settings.maxInboundBufferBytes)
        let socketServer = application as? SocketServer
        audit = socketServer?.audit
        bans = socketServer?.bans
        transports =
            socketServer?.transports ?? TransportSwitch(polling: settings.allowsPolling, websocket: settings.allowsWebSocket)
    }

    /// True when `requestPath` is this mount (with or without the trailing slash).
    func matches(_ requestPath: String) -> Bool {
        requestPath == path || requestPath == path + "/"
    }

    public var sessionCount: Int { sessions.withLockedValue { $0.count } }

    /// What a request is, once its query and headers have been checked.
    enum RequestKind {
        case handshake
        case existing(SessionHandle)
    }

    /// The synchronous checks, in the reference's order (§1.9 of the protocol notes).
    func classify(_ request: HandshakeRequest) -> Result<RequestKind, EngineRequestError> {
        guard transports.allows(request.transport) else { return .failure(.unknownTransport) }
        if !origins.allows(request) { return .failure(.forbidden) }
        if let sid = request.sid {
            guard let handle = sessions.withLockedValue({ $0[sid] }) else { return .failure(.unknownSession) }
            if request.transport == "websocket", !request.isWebSocketUpgrade { return .failure(.badRequest) }
            return .success(.existing(handle))
        }
        guard request.method == .GET else { return .failure(.badHandshakeMethod) }
        if request.transport == "websocket", !request.isWebSocketUpgrade { return .failure(.badRequest) }
        guard request.query["EIO"] == "4" else { return .failure(.unsupportedProtocolVersion) }
        if let ban = bans?.ban(forIP: request.ip) {
            ServerMetrics.shared.refused(ban: ban)
            audit?.record(
                "ban.refused",
                [JSONMember("ip", .string(request.ip)), JSONMember("ban", .string(ban.field)), JSONMember("reason", .string(ban.reason))])
            return .failure(.banned)
        }
        if let refusal = caps.refusal(for: request.ip) {
            auditCap(refusal, ip: request.ip)
            return .failure(refusal)
        }
        return .success(.handshake)
    }

    // MARK: Polling

    /// Answers a polling request (or a plain-HTTP request on the Engine.IO path).
    func handleHTTP(_ request: HandshakeRequest, body: ByteBuffer, on loop: any EventLoop) -> EventLoopFuture<PollingResponse> {
        switch classify(request) {
        case .failure(let error):
            return loop.makeSucceededFuture(.error(error))
        case .success(.existing(let handle)):
            if request.transport != "polling" { return loop.makeSucceededFuture(.error(.badRequest)) }
            let promise = loop.makePromise(of: PollingResponse.self)
            let method = request.method
            let contentType = request.headers.first(name: "content-type")
            handle.execute { session in
                session.handlePolling(method: method, body: body, contentType: contentType, promise: promise)
            }
            return promise.futureResult
        case .success(.handshake):
            return application.authorizeHandshake(request, on: loop).map { refusal in
                if let refusal { return .error(refusal) }
                if let refusal = self.caps.open(ip: request.ip) {
                    self.auditCap(refusal, ip: request.ip)
                    return .error(refusal)
                }
                let session = self.openSession(request, on: loop, transport: .polling)
                let open = EnginePacket(.open, .text(self.settings.openPayload(sid: session.id, upgrades: self.transports.websocket)))
                return .payload(EngineCodec.encodePayload([open]))
            }
        }
    }

    /// The pending GET of session `sid` lost its connection.
    func pollingConnectionLost(sid: String) {
        sessions.withLockedValue { $0[sid] }?.execute { $0.pollingConnectionLost() }
    }

    // MARK: WebSocket

    /// Decides a WebSocket upgrade on this path: headers to accept, nil to refuse
    /// (the HTTP handler then answers the request with the error).
    func shouldUpgrade(_ request: HandshakeRequest, on loop: any EventLoop) -> EventLoopFuture<HTTPHeaders?> {
        if application.echoesRawWebSocket { return loop.makeSucceededFuture(HTTPHeaders()) }
        switch classify(request) {
        case .failure:
            return loop.makeSucceededFuture(nil)
        case .success(.existing):
            return loop.makeSucceededFuture(request.transport == "websocket" ? HTTPHeaders() : nil)
        case .success(.handshake):
            return application.authorizeHandshake(request, on: loop).map { $0 == nil ? HTTPHeaders() : nil }
        }
    }

    /// After the 101: installs the frame handling and opens or joins the session.
    func webSocketUpgraded(_ request: HandshakeRequest, channel: any Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(
                WebSocketTransportHandler(engine: self, request: request, maxMessageBytes: settings.maxPayload)
            )
            // Synchronously, on the loop: the asynchronous `setOption` made a future per connect.
            try? channel.syncOptions?.setOption(
                ChannelOptions.writeBufferWaterMark,
                value: .init(low: settings.maxOutboundBytes / 2, high: settings.maxOutboundBytes))
        }
    }

    /// Opens a session on a fresh WebSocket (no sid): sends the open packet first. Nil when a
    /// connection cap filled up since the upgrade was allowed: the WebSocket closes (1013, try
    /// again later).
    func openWebSocketSession(_ request: HandshakeRequest, socket: WebSocketTransport) -> SessionHandle? {
        if let refusal = caps.open(ip: request.ip) {
            auditCap(refusal, ip: request.ip)
            socket.close(code: .unknown(1013))
            return nil
        }
        let loop = socket.channel.eventLoop
        let sid = RandomID.make()
        let open = EnginePacket(.open, .text(settings.openPayload(sid: sid, upgrades: false)))
        socket.write([EngineFrame(open)])
        let session = openSession(request, on: loop, transport: .websocket(socket), sid: sid)
        return SessionHandle(session)
    }

    /// A WebSocket with a sid: the upgrade probe, or a duplicate to accept and close.
    func attachWebSocket(sid: String, socket: WebSocketTransport) -> SessionHandle? {
        guard let handle = sessions.withLockedValue({ $0[sid] }) else {
            socket.close()
            return nil
        }
        handle.execute { $0.attachProbe(socket) }
        return handle
    }

    // MARK: Sessions

    /// Records a connection cap's refusal: 503 is the total, 429 one address's.
    func auditCap(_ refusal: EngineRequestError, ip: String) {
        let cap = refusal.status == .serviceUnavailable ? "connections" : "connections_per_ip"
        ServerMetrics.shared.refused(cap: cap)
        audit?.record("cap.refused", [JSONMember("cap", .string(cap)), JSONMember("ip", .string(ip))])
    }

    /// Records a refusal for the inbound buffer budget.
    func auditInbound(ip: String) {
        ServerMetrics.shared.refused(cap: "inbound_buffer")
        audit?.record("cap.refused", [JSONMember("cap", .string("inbound_buffer")), JSONMember("ip", .string(ip))])
    }

    /// The session's place under the caps is already taken (`caps.open`); `remove` gives it back.
    private func openSession(
        _ request: HandshakeRequest, on loop: any EventLoop, transport: EngineSession.Transport, sid: String = RandomID.make()
    ) -> EngineSession {
        let session = EngineSession(id: sid, loop: loop, request: request, server: self, transport: transport)
        sessions.withLockedValue { $0[sid] = SessionHandle(session) }
        ServerMetrics.shared.opened(websocket: session.transportName == "websocket")
        session.start(handler: application.sessionOpened(session))
        logger.debug("session opened", metadata: ["sid": "\(sid)", "transport": "\(session.transportName)", "ip": "\(request.ip)"])
        return session
    }

    func remove(_ session: EngineSession) {
        guard sessions.withLockedValue({ $0.removeValue(forKey: session.id) }) != nil else { return }
        caps.closed(ip: session.ip)
    }

    /// Closes every session (graceful shutdown).
    func closeAllSessions(reason: EngineCloseReason) {
        let all = sessions.withLockedValue { Array($0.values) }
        for handle in all {
            handle.execute { $0.close(reason: reason) }
        }
    }
}
