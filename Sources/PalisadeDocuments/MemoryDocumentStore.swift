import NIOConcurrencyHelpers
import NIOCore

/// The `DocumentStore` in process memory, with the SQLite store's semantics (sequence numbers,
/// compaction rules, purge, id and size checks): for tests, and as a fallback for a gateway run
/// without a data directory, where documents live as long as the process.
///
/// One lock guards every document; it is held for one operation and never while calling out,
/// and futures are made after it is released, already complete. "Durable" here means: in this
/// process's memory before the future completes.
public final class MemoryDocumentStore: DocumentStore {
    private struct Document {
        var snapshot: [UInt8]?
        var snapshotSequence: Int64 = 0
        var lastSequence: Int64 = 0
        var updates: [(sequence: Int64, bytes: [UInt8])] = []
        var updatedAt: Int64
    }

    private struct State {
        var isOpen = true
        /// Keyed by the id's bytes, as SQLite compares them: Swift's `String` equality would
        /// merge `"caf\u{E9}"` and `"cafe\u{301}"`.
        var documents: [[UInt8]: Document] = [:]
    }

    /// The longest update or snapshot accepted; longer ones fail with `tooLarge`.
    public let maxBlobBytes: Int

    private let state = NIOLockedValueBox(State())
    private let clock: WallClock

    /// `maxBlobBytes` defaults to SQLite's default limit (1 GB), so both stores refuse the same.
    public convenience init(maxBlobBytes: Int = 1_000_000_000) {
        self.init(maxBlobBytes: maxBlobBytes, clock: systemWallClock)
    }

    /// `init` with the clock that stamps appends and drives `purge` (for tests).
    package init(maxBlobBytes: Int = 1_000_000_000, clock: @escaping WallClock) {
        self.maxBlobBytes = maxBlobBytes
        self.clock = clock
    }

    public func load(_ id: String, on loop: any EventLoop) -> EventLoopFuture<StoredDocument?> {
        loop.makeCompletedFuture(withResultOf: { () throws -> StoredDocument? in
            try DocumentID.validate(id)
            return try state.withLockedValue { state in
                try Self.checkOpen(state)
                return state.documents[Array(id.utf8)].map {
                    StoredDocument(snapshot: $0.snapshot, snapshotSequence: $0.snapshotSequence, updates: $0.updates)
                }
            }
        })
    }

    public func append(_ id: String, update: [UInt8], on loop: any EventLoop) -> EventLoopFuture<Int64> {
        loop.makeCompletedFuture(withResultOf: { () throws -> Int64 in
            try DocumentID.validate(id)
            try checkSize(update, "update")
            let now = clock()
            return try state.withLockedValue { state in
                try Self.checkOpen(state)
                var document = state.documents.removeValue(forKey: Array(id.utf8)) ?? Document(updatedAt: now)
                document.lastSequence += 1
                document.updates.append((document.lastSequence, update))
                document.updatedAt = now
                state.documents[Array(id.utf8)] = document
                return document.lastSequence
            }
        })
    }

    /// Same rules as `SQLiteDocumentStore.compact`.
    public func compact(_ id: String, snapshot: [UInt8], through sequence: Int64, on loop: any EventLoop) -> EventLoopFuture<Void> {
        loop.makeCompletedFuture(withResultOf: { () throws in
            try DocumentID.validate(id)
            try checkSize(snapshot, "snapshot")
            guard sequence >= 0 else {
                throw DocumentStoreError(.invalidArgument, "compaction through a negative sequence (\(sequence))")
            }
            try state.withLockedValue { state in
                try Self.checkOpen(state)
                let key = Array(id.utf8)
                guard var document = state.documents.removeValue(forKey: key) else { return }
                defer { state.documents[key] = document }
                guard sequence <= document.lastSequence else {
                    throw DocumentStoreError(
                        .invalidArgument, "compaction through sequence \(sequence), beyond the last update (\(document.lastSequence))")
                }
                guard sequence >= document.snapshotSequence else { return }
                document.snapshot = snapshot
                document.snapshotSequence = sequence
                document.updates.removeAll { $0.sequence <= sequence }
            }
        })
    }

    public func delete(_ id: String, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        loop.makeCompletedFuture(withResultOf: { () throws -> Bool in
            try DocumentID.validate(id)
            return try state.withLockedValue { state in
                try Self.checkOpen(state)
                return state.documents.removeValue(forKey: Array(id.utf8)) != nil
            }
        })
    }

    public func purge(untouchedFor seconds: Double, on loop: any EventLoop) -> EventLoopFuture<Int> {
        loop.makeCompletedFuture(withResultOf: { () throws -> Int in
            let cutoff = try purgeCutoff(untouchedFor: seconds, now: clock())
            return try state.withLockedValue { state in
                try Self.checkOpen(state)
                let before = state.documents.count
                state.documents = state.documents.filter { $0.value.updatedAt >= cutoff }
                return before - state.documents.count
            }
        })
    }

    /// Drops every document; later operations fail with `closed`.
    public func close() async {
        state.withLockedValue { state in
            state.isOpen = false
            state.documents = [:]
        }
    }

    private func checkSize(_ bytes: [UInt8], _ what: String) throws(DocumentStoreError) {
        guard bytes.count <= maxBlobBytes else {
            throw DocumentStoreError(.tooLarge, "the \(what) is \(bytes.count) bytes; at most \(maxBlobBytes) are stored")
        }
    }

    private static func checkOpen(_ state: State) throws(DocumentStoreError) {
        guard state.isOpen else { throw DocumentStoreError.closed }
    }
}
