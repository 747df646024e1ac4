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
    /// A stored update after the snapshot, with its `YjsUpdate.valueCount`.
    struct Logged {
        var sequence: Int64
        var bytes: [UInt8]
        var values: Int
    }

    /// The merged state up to `snapshotSequence`.
    var snapshot: [UInt8]?
    var snapshotSequence: Int64 = 0
    /// The snapshot's `YjsUpdate.valueCount`.
    var snapshotValues: Int
    /// Stored updates after the snapshot, oldest first.
    var log: [Logged] = []
    var logBytes = 0
    var logValues = 0
    /// Bytes and values of appends sent to the store and not yet confirmed.
    var reservedBytes = 0
    var reservedValues = 0
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

    /// A document as the store gave it back (nil: the store has none yet), with the value counts of
    /// its snapshot and of each logged update (`DocumentLoad`).
    init(id: String, stored: StoredDocument?, snapshotValues: Int, logValues: [Int]) {
        self.id = id
        snapshot = stored?.snapshot
        snapshotSequence = stored?.snapshotSequence ?? 0
        self.snapshotValues = snapshotValues
        log = zip(stored?.updates ?? [], logValues).map { Logged(sequence: $0.sequence, bytes: $0.bytes, values: $1) }
        logBytes = log.reduce(0) { $0 + $1.bytes.count }
        self.logValues = log.reduce(0) { $0 + $1.values }
    }

    var storedBytes: Int { (snapshot?.count ?? 0) + logBytes }

    /// A bound on the values of the document's decoded form, and of any compaction of it.
    var storedValues: Int { snapshotValues + logValues }

    func appendToLog(_ entry: Logged) {
        log.append(entry)
        logBytes += entry.bytes.count
        logValues += entry.values
    }

    /// Installs a compaction of everything up to `through`; later updates stay in the log.
    func installSnapshot(_ merged: [UInt8], values: Int, through: Int64) {
        snapshot = merged
        snapshotSequence = through
        snapshotValues = values
        log.removeAll { $0.sequence <= through }
        logBytes = log.reduce(0) { $0 + $1.bytes.count }
        logValues = log.reduce(0) { $0 + $1.values }
    }

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
