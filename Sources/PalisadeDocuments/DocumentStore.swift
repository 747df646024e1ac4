import NIOCore

/// One Yjs document as stored: a compact snapshot plus the updates appended after it,
/// in the order they were appended.
public struct StoredDocument: Sendable, Equatable {
    /// The merged state up to `snapshotSequence` (nil: no snapshot yet).
    public var snapshot: [UInt8]?
    /// The sequence number the snapshot covers (0 when there is none).
    public var snapshotSequence: Int64
    /// Updates after the snapshot, oldest first, with their sequence numbers.
    public var updates: [(sequence: Int64, bytes: [UInt8])]

    public init(snapshot: [UInt8]?, snapshotSequence: Int64, updates: [(sequence: Int64, bytes: [UInt8])]) {
        self.snapshot = snapshot
        self.snapshotSequence = snapshotSequence
        self.updates = updates
    }

    public static func == (lhs: StoredDocument, rhs: StoredDocument) -> Bool {
        lhs.snapshot == rhs.snapshot && lhs.snapshotSequence == rhs.snapshotSequence
            && lhs.updates.map(\.sequence) == rhs.updates.map(\.sequence)
            && lhs.updates.map(\.bytes) == rhs.updates.map(\.bytes)
    }
}

/// Where Yjs documents live. The relay validates every update before it gets here;
/// the store keeps bytes. Futures complete on the loop passed in.
///
/// `append` succeeds only once the update is durable (it survives the process being
/// killed); the relay relays an update only after that.
public protocol DocumentStore: Sendable {
    /// The document, or nil when the store has none under `id`.
    func load(_ id: String, on loop: any EventLoop) -> EventLoopFuture<StoredDocument?>
    /// Appends one update to the log of `id` (creating the document) and answers its sequence number.
    func append(_ id: String, update: [UInt8], on loop: any EventLoop) -> EventLoopFuture<Int64>
    /// Compaction: replaces the snapshot and every update with a sequence ≤ `sequence`
    /// by `snapshot`, in one transaction. Updates appended meanwhile stay.
    func compact(_ id: String, snapshot: [UInt8], through sequence: Int64, on loop: any EventLoop) -> EventLoopFuture<Void>
    /// Deletes the document; answers whether there was one.
    func delete(_ id: String, on loop: any EventLoop) -> EventLoopFuture<Bool>
    /// Deletes every document not written for `seconds`; answers how many went.
    func purge(untouchedFor seconds: Double, on loop: any EventLoop) -> EventLoopFuture<Int>
    /// Finishes queued work and closes. No call may follow.
    func close() async
}
