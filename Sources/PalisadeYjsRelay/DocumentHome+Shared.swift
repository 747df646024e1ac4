import NIOCore
import PalisadeDocuments
import PalisadeGateway
import PalisadeYjs

/// The relay on a store shared by every instance (`SharedDocumentStore`, Redis). No document
/// is kept in memory: a join and a state request read it from the store, so an editor sees
/// what was written through any instance; the store checks the budgets (bytes and decoded values)
/// across instances; the append that leaves the log past a threshold starts a compaction, on
/// whichever instance made it. The `LiveDocument` here only holds this instance's editors (and content tokens).
///
/// An update is relayed only once the store has it: every update relayed to any editor is in
/// the store. While the store is unreachable, appends fail (the sender gets an `error`),
/// joins fail, and nothing is relayed.
extension DocumentHome {
    func sharedJoin(_ id: String, member: LiveDocument.Member, store: any SharedDocumentStore) -> EventLoopFuture<StateReply> {
        loop.flatSubmit {
            let document = self.editors(of: id)
            document.members[member.socketID] = member
            document.pendingJoins += 1
            return store.addEditor(id, socketID: member.socketID, canWrite: member.canWrite, on: self.loop).flatMap {
                self.sharedReply(id, store: store)
            }.assumeIsolated().always { _ in
                document.pendingJoins -= 1
                self.unloadIfIdle(document)
            }.nonisolated()
        }
    }

    func sharedState(_ id: String, socketID: String, store: any SharedDocumentStore) -> EventLoopFuture<StateReply?> {
        loop.flatSubmit {
            guard let document = self.table.value.documents[id], document.members[socketID] != nil else {
                return self.loop.makeSucceededFuture(nil)
            }
            document.pendingJoins += 1
            return self.sharedReply(id, store: store).map { Optional($0) }.assumeIsolated().always { _ in
                document.pendingJoins -= 1
                self.unloadIfIdle(document)
            }.nonisolated()
        }
    }

    func sharedLeave(_ id: String, socketID: String, store: any SharedDocumentStore) {
        loop.execute {
            if let document = self.table.value.documents[id] {
                document.members.removeValue(forKey: socketID)
                if document.latestContent?.socketID == socketID { document.latestContent = nil }
                self.unloadIfIdle(document)
            }
            self.forgetEditor(id, socketID: socketID, store: store, attempt: 1)
        }
    }

    /// Tries again every `forgetRetryDelay` while the store is unreachable (for up to
    /// `forgetAttempts` tries), so an outage does not leave the editor listed in `sessions`;
    /// stops if the socket joined the document again meanwhile.
    private func forgetEditor(_ id: String, socketID: String, store: any SharedDocumentStore, attempt: Int) {
        if attempt > 1, table.value.documents[id]?.members[socketID] != nil { return }
        store.removeEditor(id, socketID: socketID, on: loop).whenFailure { error in
            guard attempt < Self.forgetAttempts else {
                return self.context.logger.warning(
                    "forgetting a Yjs editor in the shared store failed", metadata: ["document": "\(id)", "error": "\(error)"])
            }
            self.loop.scheduleTask(in: Self.forgetRetryDelay) {
                self.forgetEditor(id, socketID: socketID, store: store, attempt: attempt + 1)
            }
        }
    }

    static let forgetRetryDelay = TimeAmount.seconds(5)
    static let forgetAttempts = 60

    /// With `onlyIfEmpty`, the store's script stores only into an empty document, across instances.
    func sharedAppend(
        _ id: String, update: [UInt8], values: Int, from sender: any GatewaySocketHandle, userID: String,
        store: any SharedDocumentStore, onlyIfEmpty: Bool, finished: @escaping @Sendable (AppendOutcome) -> Void
    ) {
        loop.execute {
            guard let document = self.table.value.documents[id], document.members[sender.id] != nil else {
                finished(.refused)
                return Self.refuse(sender, YjsEvent.update, "join the document first")
            }
            document.appendsInFlight += 1
            store.append(
                id, update: update, values: values, maxDocumentBytes: self.context.maxDocumentBytes,
                maxDocumentValues: self.context.settings.maxDocumentValues, onlyIfEmpty: onlyIfEmpty, on: self.loop
            ).assumeIsolated()
                .whenComplete { result in
                    document.appendsInFlight -= 1
                    switch result {
                    case .success(let receipt):
                        self.relay(id, update: update, from: sender, userID: userID)
                        let settings = self.context.settings
                        if receipt.logUpdates >= settings.compactAfterUpdates || receipt.logBytes >= settings.compactAfterBytes {
                            self.sharedCompact(id, store: store)
                        }
                        finished(.stored)
                    case .failure(let error as DocumentStoreError) where error.code == .notEmpty:
                        finished(.notEmpty)
                    case .failure(let error as DocumentStoreError) where error.code == .documentFull:
                        Self.refuse(sender, YjsEvent.update, "document too large")
                        finished(.refused)
                    case .failure(let error):
                        self.context.logger.error("storing a Yjs update failed", metadata: ["document": "\(id)", "error": "\(error)"])
                        Self.refuse(sender, YjsEvent.update, "the update could not be stored")
                        finished(.refused)
                    }
                    self.unloadIfIdle(document)
                }
        }
    }

    /// This instance's editors of `id`, made on first use.
    private func editors(of id: String) -> LiveDocument {
        if let document = table.value.documents[id] { return document }
        let document = LiveDocument(id: id, stored: nil, snapshotValues: 0, logValues: [])
        table.value.documents[id] = document
        RelayMetrics.shared.documents.increment()
        return document
    }

    /// The document as the store has it now, merged off the loop, and its writers on every instance.
    private func sharedReply(_ id: String, store: any SharedDocumentStore) -> EventLoopFuture<StateReply> {
        let loaded = store.load(id, on: loop).flatMap { stored in self.mergedState(stored) }
        return loaded.and(store.writers(id, on: loop)).map { state, writers in
            StateReply(state: state, sessions: writers)
        }
    }

    private func mergedState(_ stored: StoredDocument?) -> EventLoopFuture<[UInt8]> {
        let parts = Self.parts(of: stored)
        if parts.isEmpty { return loop.makeSucceededFuture(Self.emptyState) }
        if parts.count == 1 { return loop.makeSucceededFuture(parts[0]) }
        return mergeOffLoop(parts).map(\.update)
    }

    private static func parts(of stored: StoredDocument?) -> [[UInt8]] {
        guard let stored else { return [] }
        return (stored.snapshot.map { [$0] } ?? []) + stored.updates.map(\.bytes)
    }

    /// Reads the document, merges it off the loop and hands the store the snapshot: the store's
    /// script replaces only what the snapshot covers, so appends and other instances' compactions
    /// meanwhile lose nothing. One at a time per document on this instance.
    private func sharedCompact(_ id: String, store: any SharedDocumentStore) {
        guard table.value.sharedCompactions.insert(id).inserted else { return }
        let loop = loop
        store.load(id, on: loop).flatMap { stored -> EventLoopFuture<Void> in
            guard let stored, let through = stored.updates.last?.sequence else { return loop.makeSucceededVoidFuture() }
            return self.mergeOffLoop(Self.parts(of: stored)).flatMap { merged in
                store.compact(id, snapshot: merged.update, values: merged.valueCount, through: through, on: loop)
            }
        }.assumeIsolated().whenComplete { result in
            self.table.value.sharedCompactions.remove(id)
            if case .failure(let error) = result {
                self.context.logger.error("compacting a shared Yjs document failed", metadata: ["document": "\(id)", "error": "\(error)"])
            }
        }
    }
}
