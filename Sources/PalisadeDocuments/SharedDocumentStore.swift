import NIOCore

/// What an append to a shared store answers: the update's sequence number and the log as it
/// is now, so whichever instance's append crossed a compaction threshold starts the compaction.
public struct SharedAppendReceipt: Sendable, Equatable {
    public var sequence: Int64
    /// Updates stored after the snapshot (this one included).
    public var logUpdates: Int
    /// Their bytes.
    public var logBytes: Int

    public init(sequence: Int64, logUpdates: Int, logBytes: Int) {
        self.sequence = sequence
        self.logUpdates = logUpdates
        self.logBytes = logBytes
    }
}

/// A `DocumentStore` shared by every instance of the gateway (Redis): no instance may keep a
/// document's state in memory, the size budget is checked by the store for all of them, and the
/// editors of a document are listed in the store so each instance sees the others'.
///
/// The memory and SQLite stores are not shared: the relay keeps their documents in memory.
public protocol SharedDocumentStore: DocumentStore {
    /// Appends like `append`, refusing with `documentFull` (and storing nothing) when the document
    /// would pass `maxDocumentBytes` bytes or `maxDocumentValues` decoded values (`values`: the
    /// update's), counted across every instance.
    /// With `onlyIfEmpty` (Open WebUI's first-write-wins `initialize`), it stores nothing and fails
    /// with `notEmpty` when the document has any update, checked with the append in one step.
    func append(
        _ id: String, update: [UInt8], values: Int, maxDocumentBytes: Int, maxDocumentValues: Int, onlyIfEmpty: Bool,
        on loop: any EventLoop
    ) -> EventLoopFuture<SharedAppendReceipt>
    /// Compacts like `compact`, with the snapshot's decoded values (for the value budget).
    func compact(_ id: String, snapshot: [UInt8], values: Int, through sequence: Int64, on loop: any EventLoop) -> EventLoopFuture<Void>
    /// Records `socketID` as an editor of `id` (and as a writer when `canWrite`).
    func addEditor(_ id: String, socketID: String, canWrite: Bool, on loop: any EventLoop) -> EventLoopFuture<Void>
    /// Forgets `socketID` as an editor and writer of `id`.
    func removeEditor(_ id: String, socketID: String, on loop: any EventLoop) -> EventLoopFuture<Void>
    /// The writers of `id` on every instance, sorted.
    func writers(_ id: String, on loop: any EventLoop) -> EventLoopFuture<[String]>
}
