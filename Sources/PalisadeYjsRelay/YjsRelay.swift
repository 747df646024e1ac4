import Logging
import NIOCore
import NIOPosix
import PalisadeDocuments
import PalisadeGateway
import PalisadeJSON
import PalisadeYjs

/// The core's Yjs relay: Open WebUI's `ydoc:*` events (reference §4) done safely.
///
/// - every document id is normalised (`note_x` → `note:x`) and goes through the policy's
///   `authorize` (read to join, write to update or snapshot content);
/// - every update is decoded and validated as Yjs before it is stored, and relayed only
///   once it is durable;
/// - documents are a snapshot plus a log in the `DocumentStore`, compacted off the loop,
///   and outlive their editors;
/// - `sessions` lists only editors that may write, so a read-only client is never
///   elected to seed a document;
/// - joined editors get `ydoc:user:joined` / `ydoc:user:left` with the identity the
///   server knows, not what the client claims.
///
/// Install `handlers` and `disconnected` in the `SocketServer`, then `attach` it.
public final class YjsRelay: Sendable {
    private let context: RelayContext
    private let homes: [DocumentHome]

    /// - Parameters:
    ///   - loops: the server's event loops; each document lives on one of them.
    ///   - pool: where merges and large validations run.
    ///   - maxMessageBytes: the most a client may be sent at once (`socketio.max_outbound_bytes`);
    ///     documents are kept small enough for their state to fit.
    public init(
        settings: YjsSettings, store: any DocumentStore, policy: any GatewayPolicy,
        loops: [any EventLoop], pool: NIOThreadPool = .singleton,
        maxMessageBytes: Int = 8 << 20, logger: Logger
    ) {
        precondition(!loops.isEmpty, "the relay needs at least one event loop")
        _ = RelayMetrics.shared  // the relay's families show from the first scrape
        let context = RelayContext(
            settings: settings, store: store, policy: policy, pool: pool,
            maxMessageBytes: maxMessageBytes, logger: logger)
        self.context = context
        homes = loops.map { DocumentHome(loop: $0, context: context) }
    }

    /// The server whose rooms the relay emits to.
    public func attach(_ server: any GatewayRooms) {
        context.attach(server)
    }

    /// Event name → handler, for `SocketServer(handlers:)`. A client that asks for an ack gets
    /// an empty one at once, as Open WebUI's handlers answer None; an update with `initialize`
    /// is answered once it is decided (`update`).
    public var handlers: [String: EventHandler] {
        [
            YjsEvent.join: { socket, arguments, ack in Self.acking(ack) { self.join(socket, arguments.first) } },
            YjsEvent.update: { socket, arguments, ack in self.update(socket, arguments.first, ack: ack) },
            YjsEvent.state: { socket, arguments, ack in Self.acking(ack) { self.requestState(socket, arguments.first) } },
            YjsEvent.leave: { socket, arguments, ack in Self.acking(ack) { self.leave(socket, arguments.first) } },
            YjsEvent.awareness: { socket, arguments, ack in Self.acking(ack) { self.awareness(socket, arguments.first) } },
        ]
    }

    private static func acking(_ ack: Ack?, _ handle: () -> Void) {
        handle()
        ack?([])
    }

    /// A document's home: the same loop for the same id, always.
    private func home(of id: String) -> DocumentHome {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in id.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return homes[Int(hash % UInt64(homes.count))]
    }

    private func documents(of socket: any GatewaySocket) -> ConnectionDocuments {
        let perSecond = context.settings.awarenessPerSecond
        return socket.attachments.get(ConnectionDocuments.self) { ConnectionDocuments(awarenessPerSecond: perSecond) }
    }

    /// The id the relay shows for the socket's user: the identity's id, or the socket id.
    private func shownUserID(_ socket: any GatewaySocket) -> String { socket.userID ?? socket.id }

    // MARK: Join

    private func join(_ socket: any GatewaySocket, _ payload: JSONValue?) {
        guard let payload, let id = ClientDocumentID.normalised(payload) else {
            return socket.refuse(YjsEvent.join, "document_id is missing or invalid")
        }
        let documents = documents(of: socket)
        if documents.joined[id] != nil { return requestState(socket, payload) }
        guard !documents.joining.contains(id) else { return }
        guard documents.joined.count + documents.joining.count < context.settings.maxDocumentsPerConnection else {
            return socket.refuse(YjsEvent.join, "too many documents open on this connection")
        }
        documents.joining.insert(id)
        let color = payload["user_color"]?.stringValue.flatMap { $0.utf8.count <= 32 ? $0 : nil } ?? "#000000"
        documents.serially(on: socket.loop) {
            self.authorize(socket, "read", id).assumeIsolated().flatMap { canRead -> EventLoopFuture<Bool?> in
                guard canRead.allowed else {
                    socket.refuse(YjsEvent.join, canRead.reason)
                    return socket.loop.makeSucceededFuture(nil)
                }
                return self.authorize(socket, "write", id).map { Optional($0.allowed) }
            }.flatMap { canWrite -> EventLoopFuture<Void> in
                // nil: the read check refused.
                guard let canWrite, socket.isConnected, documents.joining.contains(id) else {
                    return socket.loop.makeSucceededVoidFuture()
                }
                return self.enter(socket, id, canWrite: canWrite, color: color, documents: documents)
            }.always { _ in documents.joining.remove(id) }.nonisolated()
        }
    }

    /// After the checks: joins the room, then gets the state (so no relayed update falls in between).
    private func enter(_ socket: any GatewaySocket, _ id: String, canWrite: Bool, color: String, documents: ConnectionDocuments)
        -> EventLoopFuture<Void>
    {
        documents.joined[id] = .init(canWrite: canWrite, writeCheckedAt: .now())
        let room = ClientDocumentID.room(id)
        let member = LiveDocument.Member(socketID: socket.id, canWrite: canWrite)
        // The room's channel is live before the document is read (with Redis: an update relayed by
        // another instance after the read arrives; one before it is in what is read).
        let joined = socket.joinAuthorized(room).flatMap { self.home(of: id).join(id, member: member) }
        return joined.hop(to: socket.loop).assumeIsolated().flatMap { reply -> EventLoopFuture<(DocumentHome.StateReply, JSONValue?)> in
            // Open WebUI's `content`: only a document with no update yet is seeded from it.
            guard reply.state == Self.emptyState else { return socket.loop.makeSucceededFuture((reply, nil)) }
            return self.context.policy.documentSeed(socket, documentID: id).hop(to: socket.loop)
                .map { (reply, $0) }
                .recover { _ in (reply, nil) }
        }.map { (reply: DocumentHome.StateReply, seed: JSONValue?) in
            guard socket.isConnected else {
                // The socket went while the document loaded: its `disconnected` may have left the
                // document before this join added it, so leave again (queued after the join).
                return self.home(of: id).leave(id, socketID: socket.id)
            }
            self.sendState(socket, id, reply, content: .some(seed ?? .null))
            RelayMetrics.shared.joins.increment()
            socket.broadcast(
                to: room, YjsEvent.userJoined,
                [
                    .object([
                        JSONMember("document_id", .string(id)),
                        JSONMember("user_id", .string(self.shownUserID(socket))),
                        JSONMember("user_name", .string(socket.userName ?? "Anonymous")),
                        JSONMember("user_color", .string(color)),
                    ])
                ])
        }.recover { error in
            self.context.logger.error("joining a Yjs document failed", metadata: ["document": "\(id)", "error": "\(error)"])
            documents.joined.removeValue(forKey: id)
            socket.leave(room)
            self.home(of: id).leave(id, socketID: socket.id)
            socket.refuse(YjsEvent.join, "the document could not be loaded")
        }.nonisolated()
    }

    /// The state of a document without any update (what Yjs encodes an empty document as).
    static let emptyState: [UInt8] = [0, 0]

    /// `content` is sent with the state of a join (Open WebUI 0.12.4: the note's saved content,
    /// or null), not with the answer to a state request.
    private func sendState(_ socket: any GatewaySocket, _ id: String, _ reply: DocumentHome.StateReply, content: JSONValue? = nil) {
        guard reply.state.count <= context.maxStateBytes else {
            // Only a document stored before its limit was lowered gets here: refused, not a closed connection.
            context.logger.error(
                "a Yjs document's state is too large to send",
                metadata: ["document": "\(id)", "bytes": "\(reply.state.count)"])
            return socket.refuse(YjsEvent.state, "document too large to send")
        }
        var fields = [
            JSONMember("document_id", .string(id)),
            JSONMember("state", YjsPayloadBytes.payload(reply.state)),
            JSONMember("sessions", .array(reply.sessions.map { .string($0) })),
        ]
        if let content { fields.append(JSONMember("content", content)) }
        socket.emit(YjsEvent.state, [.object(fields)])
    }

    // MARK: State re-request

    private func requestState(_ socket: any GatewaySocket, _ payload: JSONValue?) {
        guard let payload, let id = ClientDocumentID.normalised(payload) else {
            return socket.refuse(YjsEvent.state, "document_id is missing or invalid")
        }
        let documents = documents(of: socket)
        guard documents.joined[id] != nil else { return socket.refuse(YjsEvent.state, "join the document first") }
        documents.serially(on: socket.loop) {
            self.home(of: id).state(id, socketID: socket.id).hop(to: socket.loop).assumeIsolated().map { reply in
                guard let reply, socket.isConnected else { return }
                self.sendState(socket, id, reply)
            }.recover { _ in socket.refuse(YjsEvent.state, "the document could not be loaded") }.nonisolated()
        }
    }

    // MARK: Update

    /// An update, or Open WebUI 0.12.4's `initialize: true` seed (first write wins): stored only
    /// into a document that has no update yet, on any instance; its ack is the update when it
    /// was stored, the document's state when another came first, and nothing when refused. Other
    /// updates are acked (empty) at once.
    private func update(_ socket: any GatewaySocket, _ payload: JSONValue?, ack: Ack?) {
        let initialize = payload?["initialize"] == .bool(true)
        // Only an `initialize` waits for its outcome; any other update is acked now.
        if !initialize { ack?([]) }
        let answer = Self.answer(initialize ? ack : nil, on: socket.loop)
        guard let payload, let id = ClientDocumentID.normalised(payload) else {
            answer([.null])
            return socket.refuse(YjsEvent.update, "document_id is missing or invalid")
        }
        let documents = documents(of: socket)
        guard documents.joined[id] != nil || documents.joining.contains(id) else {
            answer([.null])
            return socket.refuse(YjsEvent.update, "join the document first")
        }
        var update: [UInt8]?
        if let value = payload["update"], value != .null {
            do throws(YjsPayloadBytes.Failure) {
                update = try YjsPayloadBytes.decode(value, maxBytes: context.settings.maxUpdateBytes)
            } catch {
                answer([.null])
                return socket.refuse(YjsEvent.update, error == .tooLarge ? "update too large" : "update must be bytes")
            }
        }
        let content = payload["data"]?["content"].flatMap { $0 == .null ? nil : $0 }
        guard update != nil || content != nil else {
            answer([.null])
            return socket.refuse(YjsEvent.update, "update or data.content is required")
        }
        documents.serially(on: socket.loop) {
            self.validate(update, on: socket.loop).assumeIsolated().flatMap { validity -> EventLoopFuture<Void> in
                guard validity.kind != .malformed else {
                    answer([.null])
                    socket.refuse(YjsEvent.update, "malformed Yjs update")
                    return socket.loop.makeSucceededVoidFuture()
                }
                return self.checkWrite(socket, id, documents).assumeIsolated().map { decision in
                    guard socket.isConnected, decision.allowed else {
                        answer([.null])
                        if socket.isConnected { socket.refuse(YjsEvent.update, decision.reason) }
                        return
                    }
                    if let update, validity.kind == .changes {
                        self.store(update, values: validity.values, of: id, from: socket, documents, initialize: initialize ? answer : nil)
                    } else {
                        answer([.null])
                    }
                    // Open WebUI schedules no content save for an `initialize` call.
                    if let content, !initialize { self.snapshotContent(socket, id, content, documents) }
                }.nonisolated()
            }.nonisolated()
        }
    }

    /// Sends `ack` once, from any loop (nil: the client asked for none).
    private static func answer(_ ack: Ack?, on loop: any EventLoop) -> @Sendable ([JSONValue]) -> Void {
        guard let ack else { return { _ in } }
        let bound = NIOLoopBound(ack, eventLoop: loop)
        return { arguments in
            if loop.inEventLoop { return bound.value(arguments) }
            loop.execute { bound.value(arguments) }
        }
    }

    /// Hands the update to its document's home; pauses the client's reading while too
    /// many of its updates wait for the store (a fast sender is slowed, never dropped).
    /// With `initialize`, only into an empty document, and the outcome answered through it.
    private func store(
        _ update: [UInt8], values: Int, of id: String, from socket: any GatewaySocket, _ documents: ConnectionDocuments,
        initialize: (@Sendable ([JSONValue]) -> Void)? = nil
    ) {
        documents.appendsInFlight += 1
        if !documents.readingPausedForAppends, documents.appendsInFlight >= ConnectionDocuments.maxAppendsInFlight {
            documents.readingPausedForAppends = true
            socket.pauseReading()
        }
        let bound = NIOLoopBound(documents, eventLoop: socket.loop)
        let reader = NIOLoopBound(socket, eventLoop: socket.loop)
        let loop = socket.loop
        let home = home(of: id)
        let socketID = socket.id
        home.append(
            id, update: update, values: values, from: socket.handle, userID: shownUserID(socket), onlyIfEmpty: initialize != nil
        ) { outcome in
            if case .stored = outcome {
                RelayMetrics.shared.updates.increment()
                RelayMetrics.shared.updateBytes.increment(by: update.count)
            }
            loop.execute {
                let documents = bound.value
                documents.appendsInFlight -= 1
                if documents.readingPausedForAppends, documents.appendsInFlight <= ConnectionDocuments.resumeAppendsAt {
                    documents.readingPausedForAppends = false
                    reader.value.resumeReading()
                }
            }
            guard let initialize else { return }
            switch outcome {
            case .stored: initialize([YjsPayloadBytes.jsonArray(update)])
            case .refused: initialize([.null])
            case .notEmpty:
                // Another seed came first: the document as it is, for the client to apply.
                home.state(id, socketID: socketID).whenComplete { result in
                    let state = (try? result.get()).flatMap { $0 }?.state
                    initialize([state.map(YjsPayloadBytes.jsonArray) ?? .null])
                }
            }
        }
    }

    /// Updates up to this size are validated on the socket's loop; larger ones on the pool.
    static let inlineValidationBytes = 64 << 10

    /// What validation found: nothing to store (no update, or one without structs or deletes),
    /// changes to store and relay, or bytes that are not a valid Yjs update; and the update's
    /// `YjsUpdate.valueCount`, for its document's memory budget.
    struct Validity: Sendable {
        enum Kind { case nothing, changes, malformed }
        var kind: Kind
        var values = 0
    }

    private func validate(_ update: [UInt8]?, on loop: any EventLoop) -> EventLoopFuture<Validity> {
        guard let update else { return loop.makeSucceededFuture(Validity(kind: .nothing)) }
        let limits = context.updateLimits
        let check: @Sendable () -> Validity = {
            guard let decoded = try? YjsUpdate.decode(update, limits: limits) else { return Validity(kind: .malformed) }
            if decoded.sections.isEmpty && decoded.deleteSet.isEmpty { return Validity(kind: .nothing) }
            return Validity(kind: .changes, values: decoded.valueCount)
        }
        if update.count <= Self.inlineValidationBytes { return loop.makeSucceededFuture(check()) }
        return context.pool.runIfActive(eventLoop: loop, check)
    }

    /// How long a write permission is reused as it is for the same socket and document:
    /// typing does not run the policy on every keystroke.
    static let writeDecisionLifetime = TimeAmount.seconds(1)
    /// After `writeDecisionLifetime`, updates still pass on the old permission while a
    /// re-check runs in the background, for at most this long: a revoked grant bites
    /// within about a second, never later than this, and a busy policy never makes an
    /// editor's keystrokes wait or fail.
    static let writeDecisionStaleLimit = TimeAmount.seconds(10)

    private func checkWrite(_ socket: any GatewaySocket, _ id: String, _ documents: ConnectionDocuments) -> EventLoopFuture<DocumentAccess>
    {
        if let joined = documents.joined[id], joined.canWrite {
            let age = NIODeadline.now() - joined.writeCheckedAt
            if age < Self.writeDecisionLifetime { return socket.loop.makeSucceededFuture(.allow) }
            if age < Self.writeDecisionStaleLimit {
                if !joined.recheckRunning { recheckWrite(socket, id, documents) }
                return socket.loop.makeSucceededFuture(.allow)
            }
        }
        return authorize(socket, "write", id).assumeIsolated().map { decision in
            documents.recordWrite(decision.allowed, for: id)
            return decision
        }.nonisolated()
    }

    /// The background re-check of a write permission in use; a refusal ends it.
    private func recheckWrite(_ socket: any GatewaySocket, _ id: String, _ documents: ConnectionDocuments) {
        documents.joined[id]?.recheckRunning = true
        authorize(socket, "write", id).assumeIsolated().whenComplete { result in
            documents.joined[id]?.recheckRunning = false
            guard let decision = try? result.get(), !decision.isFailure else {
                // No answer (a deadline under load) is not a revocation: the permission
                // stays until the stale limit, when a check must answer before any write.
                return
            }
            documents.recordWrite(decision.allowed, for: id)
        }
    }

    // MARK: Content snapshots

    /// Debounces `content` (last writer of the document wins), then hands it to the policy's `document_content`.
    private func snapshotContent(_ socket: any GatewaySocket, _ id: String, _ content: JSONValue, _ documents: ConnectionDocuments) {
        let home = home(of: id)
        home.claimContent(id, socketID: socket.id).hop(to: socket.loop).assumeIsolated().whenSuccess { token in
            guard let token, socket.isConnected else { return }
            documents.pendingContent[id]?.timer?.cancel()
            let delay = TimeAmount.milliseconds(Int64(self.context.settings.contentDebounceMs))
            let timer = socket.loop.assumeIsolated().scheduleTask(in: delay) {
                home.isLatestContent(id, socketID: socket.id, token: token).hop(to: socket.loop).assumeIsolated().whenSuccess { latest in
                    guard documents.pendingContent[id]?.token == token else { return }
                    documents.pendingContent.removeValue(forKey: id)
                    guard latest, socket.isConnected else { return }
                    self.context.policy.documentContent(socket, documentID: id, content: content)
                }
            }
            documents.pendingContent[id] = .init(content: content, token: token, timer: timer)
        }
    }

    /// Hands over the socket's pending snapshot of `id` now (it is leaving; a newer one
    /// from someone else, if any, still lands after it).
    private func flushContent(_ socket: any GatewaySocket, _ id: String, _ documents: ConnectionDocuments) {
        guard let pending = documents.pendingContent.removeValue(forKey: id) else { return }
        pending.timer?.cancel()
        context.policy.documentContent(socket, documentID: id, content: pending.content)
    }

    // MARK: Leave and disconnect

    private func leave(_ socket: any GatewaySocket, _ payload: JSONValue?) {
        guard let payload, let id = ClientDocumentID.normalised(payload) else {
            return socket.refuse(YjsEvent.leave, "document_id is missing or invalid")
        }
        let documents = documents(of: socket)
        guard documents.joined[id] != nil else { return socket.refuse(YjsEvent.leave, "not in this document") }
        documents.serially(on: socket.loop) {
            self.depart(socket, id, documents)
            return socket.loop.makeSucceededVoidFuture()
        }
    }

    private func depart(_ socket: any GatewaySocket, _ id: String, _ documents: ConnectionDocuments) {
        guard documents.joined.removeValue(forKey: id) != nil else { return }
        flushContent(socket, id, documents)
        let room = ClientDocumentID.room(id)
        socket.leave(room)
        home(of: id).leave(id, socketID: socket.id)
        socket.broadcast(
            to: room, YjsEvent.userLeft,
            [
                .object([
                    JSONMember("document_id", .string(id)),
                    JSONMember("user_id", .string(shownUserID(socket))),
                ])
            ])
    }

    /// For `SocketServer(onDisconnect:)`: the socket leaves every document it joined.
    public func disconnected(_ socket: any GatewaySocket, reason: String) {
        guard let documents = socket.attachments.get(ConnectionDocuments.self) else { return }
        documents.joining.removeAll()
        for id in Array(documents.joined.keys) { depart(socket, id, documents) }
    }

    // MARK: Awareness

    private func awareness(_ socket: any GatewaySocket, _ payload: JSONValue?) {
        guard let payload, let id = ClientDocumentID.normalised(payload) else {
            return socket.refuse(YjsEvent.awareness, "document_id is missing or invalid")
        }
        let documents = documents(of: socket)
        guard documents.joined[id] != nil else { return socket.refuse(YjsEvent.awareness, "join the document first") }
        guard let value = payload["update"] else { return socket.refuse(YjsEvent.awareness, "update is required") }
        let bytes: [UInt8]
        do throws(YjsPayloadBytes.Failure) {
            bytes = try YjsPayloadBytes.decode(value, maxBytes: context.settings.maxAwarenessBytes)
        } catch {
            return socket.refuse(YjsEvent.awareness, error == .tooLarge ? "awareness update too large" : "update must be bytes")
        }
        guard documents.awareness.take() else { return socket.refuse(YjsEvent.awareness, "awareness rate limit exceeded") }
        let update = value.arrayValue != nil ? value : YjsPayloadBytes.jsonArray(bytes)
        socket.broadcast(
            to: ClientDocumentID.room(id), YjsEvent.awareness,
            [
                .object([
                    JSONMember("document_id", .string(id)),
                    JSONMember("user_id", .string(shownUserID(socket))),
                    JSONMember("update", update),
                ])
            ])
    }

    // MARK: Policy

    struct DocumentAccess: Sendable {
        var allowed: Bool
        var reason: String
        /// The policy failed to answer (the decision is still a refusal).
        var isFailure = false
        static let allow = DocumentAccess(allowed: true, reason: "")
    }

    private func authorize(_ socket: any GatewaySocket, _ action: String, _ id: String) -> EventLoopFuture<DocumentAccess> {
        let resource = JSONValue.object([JSONMember("type", .string("document")), JSONMember("id", .string(id))])
        return context.policy.authorize(socket, action: action, resource: resource).map { decision in
            switch decision {
            case .allow: return .allow
            case .deny(let reason): return DocumentAccess(allowed: false, reason: reason, isFailure: decision.isPolicyFailure)
            }
        }.recover { _ in DocumentAccess(allowed: false, reason: "internal error", isFailure: true) }
    }

    // MARK: Maintenance

    /// Deletes documents nobody wrote for `retentionDays` (when set), once an hour on `loop`.
    public func startRetention(on loop: any EventLoop) -> RepeatedTask? {
        let days = context.settings.retentionDays
        guard days > 0 else { return nil }
        return loop.scheduleRepeatedTask(initialDelay: .seconds(60), delay: .hours(1)) { _ in
            self.context.store.purge(untouchedFor: Double(days) * 86_400, on: loop).whenComplete { result in
                switch result {
                case .success(let count) where count > 0:
                    self.context.logger.info(
                        "deleted Yjs documents past their retention", metadata: ["count": "\(count)", "days": "\(days)"])
                    for home in self.homes { home.forgetIdleDocuments() }
                case .success: break
                case .failure(let error):
                    self.context.logger.error("purging old Yjs documents failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
