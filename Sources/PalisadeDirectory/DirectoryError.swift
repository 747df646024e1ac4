/// The one error type of this module: a code a caller can branch on and a message for the log.
///
/// Messages never echo a refused kind, id or record: those come from requests and may hold
/// control characters or be large.
public struct DirectoryError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        /// A kind that is empty, longer than `DirectoryKey.maxBytes` or not `[a-z0-9_-]+`.
        case invalidKind
        /// An id that is empty, longer than `DirectoryKey.maxBytes`, or holds `/` or a
        /// character that is not printable.
        case invalidID
        /// A record that is not a JSON object, holds binary data, or does not read back as JSON
        /// (a number whose text is not a JSON number, nesting deeper than the parser allows).
        case invalidRecord
        /// A record whose JSON text is longer than `DirectoryRecord.maxBytes`.
        case recordTooLarge
        /// The data directory or the database file could not be created, opened or set up.
        case cannotOpen
        /// The backend failed while reading or writing: SQLite (disk full, I/O error, locked past the
        /// busy timeout) or Redis (down, timed out).
        case storageFailure
        /// A stored body is not a JSON object (the file was edited or damaged outside Palisade).
        case corruptRecord
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
}
