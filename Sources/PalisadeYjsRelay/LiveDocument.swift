import NIOCore
import PalisadeDocuments

/// A document in memory while it has editors or work in flight. Lives on its home loop.
final class LiveDocument {
    /// An editor: a socket that joined the document.
    struct Member: Sendable {
        var socketID: String
        /// Whether it could write when it joined: only writers are listed in `sessions`,
        /// so a read-only client is never elected to seed the document (Open WebUI #28539).
        var canWrite: Bool
    }

    let id: String
    var members: [String: Member] = [:]
    /// The merged state up to `snapshotSequence`.
    var snapshot: [UInt8]?
    var snapshotSequence: Int64 = 0
    /// Stored updates after the snapshot, oldest first.
    var log: [(sequence: Int64, bytes: [UInt8])] = []
    var logBytes = 0
    /// Bytes of appends sent to the store and not yet confirmed.
    var reservedBytes = 0
    var appendsInFlight = 0
    /// The compaction under way, if any.
    var compaction: EventLoopFuture<Void>?
    /// Set when a compaction failed: the log then only grows until the document is reloaded.
    var compactionFailed = false
    /// Joins waiting for the state; the document stays loaded for them.
    var pendingJoins = 0
    /// The latest content snapshot's writer and token (last writer wins).
    var latestContent: (socketID: String, token: UInt64)?
    var nextContentToken: UInt64 = 1

    /// A document as the store gave it back (nil: the store has none yet).
    init(id: String, stored: StoredDocument?) {
        self.id = id
        snapshot = stored?.snapshot
        snapshotSequence = stored?.snapshotSequence ?? 0
        log = stored?.updates ?? []
        logBytes = log.reduce(0) { $0 + $1.bytes.count }
    }

    var storedBytes: Int { (snapshot?.count ?? 0) + logBytes }

    /// The `sessions` of `ydoc:document:state`: the editors that may write, sorted.
    var writerSessions: [String] {
        members.values.filter(\.canWrite).map(\.socketID).sorted()
    }

    /// Nothing keeps it in memory: no editors, no appends, no compaction, no joins.
    var isIdle: Bool {
        members.isEmpty && appendsInFlight == 0 && compaction == nil && pendingJoins == 0
    }

    /// The snapshot and log as one list of updates, oldest first.
    var parts: [[UInt8]] {
        (snapshot.map { [$0] } ?? []) + log.map(\.bytes)
    }
}
