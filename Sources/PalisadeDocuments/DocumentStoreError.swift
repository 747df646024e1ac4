/// The one error type of this module: a code a caller can branch on and a message for the log.
///
/// Messages never echo a refused id or the bytes of an update: those come from clients.
public struct DocumentStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        /// An id that is empty or longer than `DocumentID.maxBytes` bytes of UTF-8.
        case invalidID
        /// An update or snapshot longer than the store's `maxBlobBytes` (or a row SQLite finds
        /// too big once the id is added).
        case tooLarge
        /// A shared store's document would pass its size budget (`SharedDocumentStore`).
        case documentFull
        /// A first write (`onlyIfEmpty`) found the document already written (`SharedDocumentStore`).
        case notEmpty
        /// An argument out of range: a negative or future `through` for `compact`, a negative or
        /// non-finite age for `purge`.
        case invalidArgument
        /// The data directory or the database file could not be created, opened or set up.
        case cannotOpen
        /// SQLite failed while reading or writing (disk full, I/O error, locked past the busy timeout).
        case storageFailure
        /// A stored row does not have the shape this version writes (edited or damaged outside Palisade).
        case corruptDocument
        /// The store has been closed.
        case closed
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    static let closed = DocumentStoreError(.closed, "the document store is closed")
}
