import Logging
import NIOCore
import NIOHTTP1
import PalisadeGateway
import PalisadeProtocol

/// One Engine.IO v4 session: its transport (polling or WebSocket), the upgrade between
/// them, the outbound queue, and the heartbeat. Lives on one event loop; every method
/// runs there (`SessionHandle` hops to it).
public final class EngineSession {
    public let id: String
    public let loop: any EventLoop
    /// The client's IP address, from the request that opened the session. Only this is kept
    /// of the request: its headers and query are never read again, and idle connections are many.
    public let ip: String

    enum Transport {
        case polling
        case websocket(WebSocketTransport)
    }

    private enum State {
        case open
        /// Server-initiated close: queued packets (ending with `1`) still go out.
        case closing
        case closed
    }

    private let server: EngineServer
    private var settings: EngineSettings { server.settings }
    private var handler: (any EngineSessionHandler)?
    private var state = State.open
    private(set) var transport: Transport

    // Polling
    /// Frames for the next poll.
    private var outbox = PollingOutbox()
    private var pendingPoll: EventLoopPromise<PollingResponse>?
    private var postInProgress = false
    private var flushScheduled = false

    // Upgrade: its rules in `UpgradeProbe`; the deadline and the noop for a pending GET here.
    private var upgrade = UpgradeProbe<WebSocketTransport>()
    private var upgradeTimeout: Scheduled<Void>?
    private var probeDrain: Scheduled<Void>?

    // Heartbeat: its rules in `Heartbeat`; one wheel timer armed for its next deadline.
    /// This loop's timer wheel (the connection's connect deadline uses it too).
    lazy var timers = TimerWheel.on(loop)
    private let heartbeatTimer = WheelTimer()
    private var heartbeat: Heartbeat?
    private var closingDeadline: Scheduled<Void>?

    /// How long a GET pending at `2probe` waits before it gets its noop (the reference checks every 100 ms).
    static let probeDrainDelay = TimeAmount.milliseconds(100)

    init(id: String, loop: any EventLoop, request: HandshakeRequest, server: EngineServer, transport: Transport) {
        self.id = id
        self.loop = loop
        self.ip = request.ip
        self.server = server
        self.transport = transport
    }

    /// `polling` or `websocket`.
    public var transportName: String {
        if case .websocket = transport { return "websocket" }
        return "polling"
    }

    public var isOpen: Bool { state == .open }

    func start(handler: any EngineSessionHandler) {
        self.handler = handler
        heartbeat = Heartbeat(startingAt: .now(), interval: settings.pingInterval, timeout: settings.pingTimeout)
        armHeartbeat()
    }

    // MARK: Sending

    /// Queues frames for the client; they are written in order, never split across transports.
    public func send(_ frames: [EngineFrame]) {
        guard state == .open else { return }
        enqueue(frames)
    }

    public func send(_ frame: consuming EngineFrame) {
        guard state == .open else { return }
        guard case .websocket(let socket) = transport else { return enqueue([frame]) }
        socket.write(consume frame)
    }

    /// Frames prepared for many sessions: a WebSocket writes their wire bytes as they are.
    public func send(_ frames: PreparedFrames) {
        guard state == .open else { return }
        if case .websocket(let socket) = transport {
            socket.writeEncoded(frames.webSocketBytes)
        } else {
            enqueue(frames.frames)
        }
    }

    /// Stops reading the client's messages until every `pauseReading()` has had its
    /// `resumeReading()`: for a reader (the socket's event queue, the Yjs relay's store
    /// writes) that fell behind. WebSocket only; a polling client waits for its POST's
    /// answer anyway.
    public func pauseReading() {
        readPauses += 1
        if readPauses == 1, case .websocket(let socket) = transport { socket.setReading(false) }
    }

    public func resumeReading() {
        guard readPauses > 0 else { return }
        readPauses -= 1
        if readPauses == 0, case .websocket(let socket) = transport { socket.setReading(true) }
    }

    private var readPauses = 0

    private func enqueue(_ frames: [EngineFrame]) {
        if case .websocket(let socket) = transport {
            socket.write(frames)
            return
        }
        guard outbox.append(frames, limit: settings.maxOutboundBytes) else {
            server.logger.info("closing a session whose client does not poll", metadata: ["sid": "\(id)"])
            close(reason: .slowConsumer)
            return
        }
        scheduleFlush()
    }

    /// Defers answering a pending GET to the end of this loop tick, so packets sent
    /// together leave in one response.
    private func scheduleFlush() {
        guard pendingPoll != nil, !flushScheduled, !upgrade.isAnswered else { return }
        flushScheduled = true
        loop.assumeIsolated().execute {
            self.flushScheduled = false
            self.flushPendingPoll()
        }
    }

    private func flushPendingPoll() {
        guard let promise = pendingPoll, !outbox.isEmpty else { return }
        pendingPoll = nil
        promise.succeed(.payload(drainOutbox()))
    }

    /// Takes up to 16 queued frames as one polling body.
    private func drainOutbox() -> ByteBuffer {
        let body = outbox.takeBody()
        if state == .closing, outbox.isEmpty { finish(reason: .forcedClose, pollAnswer: nil) }
        return body
    }

    // MARK: Polling

    func handlePolling(method: HTTPMethod, body: ByteBuffer, contentType: String?, promise: EventLoopPromise<PollingResponse>) {
        if state == .closed {
            return promise.succeed(.error(.unknownSession))
        }
        if heartbeat?.hasTimedOut(at: .now()) == true {
            close(reason: .pingTimeout)
            return promise.succeed(.error(.unknownSession))
        }
        if case .websocket(let socket) = transport {
            return refuseAfterPendingWrites(promise, socket: socket)
        }
        switch method {
        case .GET: handlePoll(promise)
        case .POST: handlePost(body: body, contentType: contentType, promise: promise)
        default: promise.succeed(.empty(.internalServerError))
        }
    }

    private func handlePoll(_ promise: EventLoopPromise<PollingResponse>) {
        if pendingPoll != nil {
            // Overlapping GETs: refuse the newcomer, end the session.
            promise.succeed(.empty(.badRequest))
            close(reason: .transportError)
            return
        }
        if !outbox.isEmpty, !upgrade.isAnswered {
            return promise.succeed(.payload(drainOutbox()))
        }
        pendingPoll = promise
        if upgrade.isAnswered { scheduleProbeDrain() }
    }

    private func handlePost(body: ByteBuffer, contentType: String?, promise: EventLoopPromise<PollingResponse>) {
        if postInProgress {
            promise.succeed(.empty(.badRequest))
            close(reason: .transportError)
            return
        }
        if let contentType, contentType.lowercased().hasPrefix("application/octet-stream") {
            promise.succeed(.empty(.badRequest))
            close(reason: .parseError)
            return
        }
        postInProgress = true
        defer { postInProgress = false }
        let (packets, error) = EngineCodec.decodePayload(body)
        for packet in packets {
            guard state == .open else { break }
            receive(packet, from: nil)
        }
        if let error, state == .open {
            server.logger.debug("closing a session after a malformed polling payload", metadata: ["sid": "\(id)", "error": "\(error)"])
            close(reason: .parseError)
            return promise.succeed(.error(.badRequest))
        }
        promise.succeed(.ok)
    }

    /// The TCP connection of a pending GET went away: the client is gone.
    func pollingConnectionLost() {
        guard pendingPoll != nil, state != .closed else { return }
        pendingPoll = nil
        close(reason: .transportClose)
    }

    // MARK: WebSocket

    /// A WebSocket that arrived with this session's sid: becomes the upgrade probe if the
    /// session is on polling and not already upgrading; otherwise it is accepted and closed.
    func attachProbe(_ socket: WebSocketTransport) {
        var onPolling = false
        if case .polling = transport { onPolling = true }
        perform(upgrade.arrived(socket, canUpgrade: state == .open && onPolling && server.transports.websocket))
    }

    /// Does what the upgrade's state machine answered.
    private func perform(_ action: UpgradeProbe<WebSocketTransport>.Action) {
        switch action {
        case .refuse(let socket):
            socket.close()
        case .armDeadline:
            upgradeTimeout = loop.assumeIsolated().scheduleTask(in: settings.upgradeTimeout) {
                if let action = self.upgrade.deadlinePassed() { self.perform(action) }
            }
        case .answerProbe(let socket):
            socket.write([EngineFrame(EnginePacket(.pong, .text("probe")))])
            if pendingPoll != nil { scheduleProbeDrain() }
        case .complete(let socket):
            completeUpgrade(to: socket)
        case .abandon(let socket):
            stopUpgradeTimers()
            socket.close()
            scheduleFlush()
        }
    }

    private func stopUpgradeTimers() {
        upgradeTimeout?.cancel()
        upgradeTimeout = nil
        probeDrain?.cancel()
        probeDrain = nil
    }

    /// A message that arrived on a WebSocket of this session (the transport or the probe).
    func webSocketReceived(_ packet: EnginePacket, from socket: WebSocketTransport) {
        guard state != .closed else { return }
        if upgrade.isProbe(socket) {
            var isProbePing = false
            if packet.kind == .ping, case .text("probe") = packet.payload { isProbePing = true }
            if let action = upgrade.received(isProbePing: isProbePing, isUpgrade: packet.kind == .upgrade) { perform(action) }
            return
        }
        guard case .websocket(let current) = transport, current === socket else { return }
        receive(packet, from: socket)
    }

    /// While an upgrade is under way, a GET gets a noop so the client can pause polling
    /// and send `5`. Like the reference, not at once: the GET may have been sent after `5`
    /// on a connection that overtook the WebSocket, and `5` then refuses it instead.
    private func scheduleProbeDrain() {
        guard probeDrain == nil else { return }
        probeDrain = loop.assumeIsolated().scheduleTask(in: Self.probeDrainDelay) {
            self.probeDrain = nil
            guard self.upgrade.isAnswered, let promise = self.pendingPoll else { return }
            self.pendingPoll = nil
            promise.succeed(.payload(EngineCodec.encodePayload(frames: [.noop])))
        }
    }

    private func completeUpgrade(to socket: WebSocketTransport) {
        stopUpgradeTimers()
        transport = .websocket(socket)
        if let promise = pendingPoll {
            // A client pauses polling before it sends `5`, so this GET came after the
            // upgrade: polling is over for this session.
            pendingPoll = nil
            refuseAfterPendingWrites(promise, socket: socket)
        }
        let queued = outbox.takeAll()
        if !queued.isEmpty { socket.write(queued) }
        if state == .closing { finish(reason: .forcedClose, pollAnswer: nil) }
    }

    /// Polling on an upgraded session: 400, answered only after the WebSocket's loop has
    /// written what was queued for it (`3probe`), so the client sees them in that order.
    private func refuseAfterPendingWrites(_ promise: EventLoopPromise<PollingResponse>, socket: WebSocketTransport) {
        let channel = socket.channel
        channel.eventLoop.execute {
            // Writes wait for the flush at the end of their loop turn, which may come after this
            // task: flush now, so `3probe` leaves before the 400 does.
            channel.flush()
            promise.succeed(.error(.badRequest))
        }
    }

    /// The connection of a WebSocket of this session closed.
    func webSocketClosed(_ socket: WebSocketTransport) {
        if upgrade.closed(socket) {
            stopUpgradeTimers()
            scheduleFlush()
            return
        }
        if case .websocket(let current) = transport, current === socket, state != .closed {
            finish(reason: .transportClose, pollAnswer: nil)
        }
    }

    /// The client stopped reading and the WebSocket's buffer passed its high-water mark.
    func webSocketBackedUp(_ socket: WebSocketTransport) {
        guard case .websocket(let current) = transport, current === socket, state == .open else { return }
        server.logger.info("closing a session whose client does not read", metadata: ["sid": "\(id)"])
        close(reason: .slowConsumer)
    }

    // MARK: Incoming packets

    private func receive(_ packet: EnginePacket, from socket: WebSocketTransport?) {
        switch packet.kind {
        case .message:
            handler?.engineSession(self, received: packet.payload)
        case .pong:
            receivedPong()
        case .close:
            // Client close: a pending GET gets a noop, as in the reference.
            finish(reason: .clientClose, pollAnswer: .noop)
        default:
            // A ping from the client (v4 heartbeats go server → client), open, upgrade or
            // noop on the live transport: a protocol error.
            server.logger.debug("closing a session after an unexpected packet", metadata: ["sid": "\(id)", "type": "\(packet.kind)"])
            close(reason: .parseError)
        }
    }

    // MARK: Heartbeat

    /// Arms the timer for the heartbeat's next deadline.
    private func armHeartbeat() {
        guard let deadline = heartbeat?.nextDeadline else { return }
        timers.schedule(heartbeatTimer, in: max(deadline - .now(), .zero)) { [self] in
            heartbeatTimerFired()
        }
    }

    private func heartbeatTimerFired() {
        guard state == .open, var machine = heartbeat else { return }
        let action = machine.timerFired(at: .now())
        heartbeat = machine
        switch action {
        case .sendPing: enqueue([.ping])
        case .close: return close(reason: .pingTimeout)
        case .none: break
        }
        armHeartbeat()
    }

    private func receivedPong() {
        heartbeat?.pongReceived(at: .now())
        armHeartbeat()
    }

    // MARK: Closing

    /// Ends the session. `.forcedClose` is graceful (queued packets and a close packet
    /// still go out); every other reason is abrupt.
    public func close(reason: EngineCloseReason) {
        guard state == .open else { return }
        guard reason == .forcedClose || reason == .serverShutdown else {
            return finish(reason: reason, pollAnswer: .close)
        }
        switch transport {
        case .websocket(let socket):
            finish(reason: reason, pollAnswer: nil)
            socket.close(code: reason == .serverShutdown ? .goingAway : .normalClosure)
        case .polling:
            state = .closing
            _ = outbox.append([.close], limit: .max)  // the client must get it, whatever else waits
            stopTimers()
            if pendingPoll != nil {
                flushPendingPoll()
            } else {
                // The client gets one poll interval to collect the close packet.
                closingDeadline = loop.assumeIsolated().scheduleTask(in: settings.pingTimeout) {
                    self.finish(reason: reason, pollAnswer: nil)
                }
            }
        }
    }

    /// Removes the session for good; a pending GET gets `pollAnswer` (if any).
    private func finish(reason: EngineCloseReason, pollAnswer: EngineFrame?) {
        guard state != .closed else { return }
        state = .closed
        stopTimers()
        closingDeadline?.cancel()
        stopUpgradeTimers()
        server.remove(self)
        if let promise = pendingPoll {
            pendingPoll = nil
            promise.succeed(.payload(EngineCodec.encodePayload(frames: [pollAnswer ?? .close])))
        }
        upgrade.end()?.close()
        if case .websocket(let socket) = transport, reason != .forcedClose, reason != .serverShutdown {
            socket.close(code: reason == .slowConsumer ? .policyViolation : .normalClosure)
        }
        outbox.removeAll()
        let handler = self.handler
        self.handler = nil
        handler?.engineSessionClosed(self, reason: reason)
    }

    private func stopTimers() {
        heartbeat?.stop()
        timers.cancel(heartbeatTimer)
    }
}

@available(*, unavailable)
extension EngineSession: Sendable {}
