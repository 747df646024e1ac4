import Logging
import NIOCore
import NIOPosix
import PalisadeDocuments
import PalisadeGateway
import PalisadeJSON
import PalisadeYjs

enum RelayError: Error {
    /// The document left memory between its load and its use (a purge); the client may retry.
    case documentUnavailable
}

/// The live documents whose home is one event loop, and everything done to them.
/// A document always lives on the same loop (chosen by its id), so its state needs no
/// lock; sockets on other loops reach it with `execute`/`submit`. Every method that
/// is not `nonisolated`-safe must run on `loop`.
final class DocumentHome: Sendable {
    let loop: any EventLoop
    let table: NIOLoopBoundBox<Table>
    let context: RelayContext

    final class Table {
        var documents: [String: LiveDocument] = [:]
        var loading: [String: EventLoopFuture<Void>] = [:]
        /// Shared store: the documents this instance is compacting (`DocumentHome+Shared`).
        var sharedCompactions: Set<String> = []
    }

    init(loop: any EventLoop, context: RelayContext) {
        self.loop = loop
        self.context = context
        table = .makeBoxSendingValue(Table(), eventLoop: loop)
    }

    /// What became of an update handed to `append`.
    enum AppendOutcome: Sendable {
        /// Stored and relayed.
        case stored
        /// Not stored; the sender was told why (an `error` event).
        case refused
        /// Not stored: `onlyIfEmpty`, and the document has updates already.
        case notEmpty
    }

    /// The state a joining or re-requesting editor gets.
    struct StateReply: Sendable {
        var state: [UInt8]
        var sessions: [String]
    }

    // MARK: Editors

    /// Adds `member` to the document (loading it first) and answers its state.
    func join(_ id: String, member: LiveDocument.Member) -> EventLoopFuture<StateReply> {
        if let shared = context.sharedStore { return sharedJoin(id, member: member, store: shared) }
        return loop.flatSubmit {
            self.load(id).assumeIsolated().flatMap { () -> EventLoopFuture<StateReply> in
                guard let document = self.table.value.documents[id] else {
                    return self.loop.makeFailedFuture(RelayError.documentUnavailable)
                }
                document.members[member.socketID] = member
                return self.reply(document)
            }.nonisolated()
        }
    }

    /// The state again (`ydoc:document:state`), for a member only: nil otherwise.
    func state(_ id: String, socketID: String) -> EventLoopFuture<StateReply?> {
        if let shared = context.sharedStore { return sharedState(id, socketID: socketID, store: shared) }
        return loop.flatSubmit {
            guard let document = self.table.value.documents[id], document.members[socketID] != nil else {
                return self.loop.makeSucceededFuture(nil)
            }
            return self.reply(document).map { Optional($0) }
        }
    }

    /// The state and the writers, keeping the document loaded until they are known.
    private func reply(_ document: LiveDocument) -> EventLoopFuture<StateReply> {
        document.pendingJoins += 1
        return state(of: document).assumeIsolated().map { state in
            StateReply(state: state, sessions: document.writerSessions)
        }.always { _ in
            document.pendingJoins -= 1
            self.unloadIfIdle(document)
        }.nonisolated()
    }

    /// Takes the editor out; the last one out compacts what is left and unloads the document.
    func leave(_ id: String, socketID: String) {
        if let shared = context.sharedStore { return sharedLeave(id, socketID: socketID, store: shared) }
        loop.execute {
            guard let document = self.table.value.documents[id] else { return }
            document.members.removeValue(forKey: socketID)
            if document.latestContent?.socketID == socketID { document.latestContent = nil }
            if document.members.isEmpty, !document.log.isEmpty { self.compactInBackground(document) }
            self.unloadIfIdle(document)
        }
    }

    // MARK: Updates

    /// Stores a validated update (`values`: its `YjsUpdate.valueCount`), then relays it to the
    /// document's other editors. Refusals and failures go back to the sender as `error` events;
    /// `finished` runs (on this loop) once the update is stored, refused or failed.
    func append(
        _ id: String, update: [UInt8], values: Int, from sender: any GatewaySocketHandle, userID: String,
        onlyIfEmpty: Bool = false, finished: @escaping @Sendable (AppendOutcome) -> Void
    ) {
        if let shared = context.sharedStore {
            return sharedAppend(
                id, update: update, values: values, from: sender, userID: userID, store: shared, onlyIfEmpty: onlyIfEmpty,
                finished: finished)
        }
        loop.execute {
            guard let document = self.table.value.documents[id], document.members[sender.id] != nil else {
                finished(.refused)
                return Self.refuse(sender, YjsEvent.update, "join the document first")
            }
            // First write wins: this instance owns the document, and its loop runs one at a time.
            if onlyIfEmpty, document.snapshot != nil || !document.log.isEmpty || document.appendsInFlight > 0 {
                return finished(.notEmpty)
            }
            let projected = document.storedBytes + document.reservedBytes + update.count
            let projectedValues = document.storedValues + document.reservedValues + values
            guard projected <= self.context.maxDocumentBytes,
                projectedValues <= self.context.settings.maxDocumentValues
            else {
                finished(.refused)
                return Self.refuse(sender, YjsEvent.update, "document too large")
            }
            document.reservedBytes += update.count
            document.reservedValues += values
            document.appendsInFlight += 1
            self.context.store.append(id, update: update, on: self.loop).assumeIsolated().whenComplete { result in
                document.reservedBytes -= update.count
                document.reservedValues -= values
                document.appendsInFlight -= 1
                switch result {
                case .success(let sequence):
                    document.appendToLog(.init(sequence: sequence, bytes: update, values: values))
                    self.relay(id, update: update, from: sender, userID: userID)
                    self.compactIfDue(document)
                    finished(.stored)
                case .failure(let error):
                    self.context.logger.error("storing a Yjs update failed", metadata: ["document": "\(id)", "error": "\(error)"])
                    Self.refuse(sender, YjsEvent.update, "the update could not be stored")
                    finished(.refused)
                }
                self.unloadIfIdle(document)
            }
        }
    }

    /// Relays a stored update to the document's other editors, on every instance.
    func relay(_ id: String, update: [UInt8], from sender: any GatewaySocketHandle, userID: String) {
        context.emit(
            to: ClientDocumentID.room(id), YjsEvent.update,
            [
                .object([
                    JSONMember("document_id", .string(id)),
                    JSONMember("user_id", .string(userID)),
                    JSONMember("update", YjsPayloadBytes.payload(update)),
                    JSONMember("socket_id", .string(sender.id)),
                ])
            ], namespace: sender.namespace, skipping: sender.id)
    }

    // MARK: Content snapshots

    /// Records `socketID` as the latest content writer; answers its token, or nil when it is not an editor.
    func claimContent(_ id: String, socketID: String) -> EventLoopFuture<UInt64?> {
        loop.submit {
            guard let document = self.table.value.documents[id], document.members[socketID] != nil else { return nil }
            let token = document.nextContentToken
            document.nextContentToken += 1
            document.latestContent = (socketID, token)
            return token
        }
    }

    /// Whether `token` of `socketID` is still the latest content snapshot (no one wrote one since).
    func isLatestContent(_ id: String, socketID: String, token: UInt64) -> EventLoopFuture<Bool> {
        loop.submit {
            guard let latest = self.table.value.documents[id]?.latestContent else { return false }
            return latest.socketID == socketID && latest.token == token
        }
    }

    // MARK: Loading, state, compaction

    /// Sends the sender an `error` for its update, on its loop, if it is still connected.
    static func refuse(_ sender: any GatewaySocketHandle, _ event: String, _ message: String) {
        sender.execute { socket in
            if socket.isConnected { socket.refuse(event, message) }
        }
    }

    /// Loads the document into the table unless it is there; loads of one id are shared.
    /// Its parts are counted off the loop, for its memory budget.
    private func load(_ id: String) -> EventLoopFuture<Void> {
        let table = table.value
        if table.documents[id] != nil { return loop.makeSucceededVoidFuture() }
        if let loading = table.loading[id] { return loading }
        let limits = context.storedLimits
        let pool = context.pool
        let loop = loop
        let loading = context.store.load(id, on: loop).flatMap { stored in
            pool.runIfActive(eventLoop: loop) { (stored, StoredValues.of(stored, limits: limits)) }
        }.assumeIsolated().map { stored, values -> Void in
            table.documents[id] = LiveDocument(id: id, stored: stored, snapshotValues: values.snapshot, logValues: values.log)
            RelayMetrics.shared.documents.increment()
        }.always { _ in table.loading.removeValue(forKey: id) }.nonisolated()
        table.loading[id] = loading
        return loading
    }

    /// The whole document as one compact update: the snapshot when the log is empty,
    /// otherwise after compacting everything stored so far.
    private func state(of document: LiveDocument) -> EventLoopFuture<[UInt8]> {
        if document.log.isEmpty { return loop.makeSucceededFuture(document.snapshot ?? Self.emptyState) }
        if document.compactionFailed { return mergeOffLoop(document.parts).map(\.update) }
        let compaction = document.compaction ?? compact(document)
        return compaction.assumeIsolated().flatMap { () -> EventLoopFuture<[UInt8]> in
            if document.log.isEmpty { return self.loop.makeSucceededFuture(document.snapshot ?? Self.emptyState) }
            return self.mergeOffLoop(document.parts).map(\.update)
        }.nonisolated()
    }

    /// The encoding of an empty document (no structs, no deletes), as Open WebUI sends it.
    static let emptyState: [UInt8] = [0, 0]

    private func compactIfDue(_ document: LiveDocument) {
        let settings = context.settings
        guard document.log.count >= settings.compactAfterUpdates || document.logBytes >= settings.compactAfterBytes else { return }
        compactInBackground(document)
    }

    private func compactInBackground(_ document: LiveDocument) {
        guard document.compaction == nil, !document.compactionFailed, !document.log.isEmpty else { return }
        _ = compact(document)
    }

    /// Merges the snapshot and the log as it is now into a new snapshot (off the loop),
    /// installs it, and tells the store. Updates stored meanwhile stay in the log.
    private func compact(_ document: LiveDocument) -> EventLoopFuture<Void> {
        guard let through = document.log.last?.sequence else { return loop.makeSucceededVoidFuture() }
        let id = document.id
        let started = NIODeadline.now()
        let before = document.storedBytes
        let running = mergeOffLoop(document.parts).assumeIsolated().map { merged, values -> Void in
            document.installSnapshot(merged, values: values, through: through)
            self.context.logger.debug(
                "compacted a Yjs document",
                metadata: [
                    "document": "\(id)", "bytes_before": "\(before)", "bytes_after": "\(merged.count)",
                    "ms": "\((NIODeadline.now() - started).nanoseconds / 1_000_000)",
                ])
            self.context.store.compact(id, snapshot: merged, through: through, on: self.loop).whenFailure { error in
                self.context.logger.error("storing a compacted Yjs document failed", metadata: ["document": "\(id)", "error": "\(error)"])
            }
        }.flatMapErrorThrowing { error in
            document.compactionFailed = true
            self.context.logger.error(
                "compacting a Yjs document failed; its log will only grow", metadata: ["document": "\(id)", "error": "\(error)"])
            throw error
        }.nonisolated()
        document.compaction = running
        running.assumeIsolated().whenComplete { _ in
            document.compaction = nil
            self.unloadIfIdle(document)
        }
        return running
    }

    func mergeOffLoop(_ parts: [[UInt8]]) -> EventLoopFuture<(update: [UInt8], valueCount: Int)> {
        let limits = context.storedLimits
        return context.pool.runIfActive(eventLoop: loop) { () throws -> (update: [UInt8], valueCount: Int) in
            try YjsUpdates.compactCountingValues(parts, limits: limits)
        }
    }

    func unloadIfIdle(_ document: LiveDocument) {
        guard document.isIdle, table.value.documents[document.id] === document else { return }
        table.value.documents.removeValue(forKey: document.id)
        RelayMetrics.shared.documents.decrement()
    }

    /// Drops idle documents (after a purge deleted stored ones).
    func forgetIdleDocuments() {
        loop.execute {
            for document in self.table.value.documents.values { self.unloadIfIdle(document) }
        }
    }
}
