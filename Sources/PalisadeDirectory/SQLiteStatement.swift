import CSQLite

/// One prepared statement, prepared once and reused: bind, step, read, reset.
///
/// Used only under `SQLiteConnection`'s lock, like the connection it belongs to.
final class SQLiteStatement {
    let handle: OpaquePointer

    init(_ sql: String, database: OpaquePointer) throws(SQLiteFailure) {
        var handle: OpaquePointer?
        let status = sqlite3_prepare_v3(database, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
        guard status == SQLITE_OK, let handle else {
            sqlite3_finalize(handle)
            throw SQLiteFailure(database: database, status: status)
        }
        self.handle = handle
    }

    /// Binds `text` to parameter `index` (1-based); SQLite keeps its own copy.
    func bind(_ text: String, at index: Int32) {
        // withCString never passes nil (which would bind NULL), even for "".
        _ = text.withCString { palisade_sqlite3_bind_text_transient(handle, index, $0, Int32(text.utf8.count)) }
    }

    func bind(_ integer: Int64, at index: Int32) {
        sqlite3_bind_int64(handle, index, integer)
    }

    /// One step: true when a row is ready, false when done.
    func step(database: OpaquePointer) throws(SQLiteFailure) -> Bool {
        let status = sqlite3_step(handle)
        switch status {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteFailure(database: database, status: status)
        }
    }

    /// The bytes of text column `column` of the current row, valid until the next step or reset.
    func withText<Result>(column: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws(DirectoryError) -> Result) throws(DirectoryError) -> Result {
        let pointer = sqlite3_column_text(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        return try body(UnsafeBufferPointer(start: pointer, count: pointer == nil ? 0 : count))
    }

    /// Ends the current use: the statement is ready to run again and holds no bound text.
    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func finalize() {
        sqlite3_finalize(handle)
    }
}

@available(*, unavailable)
extension SQLiteStatement: Sendable {}

/// An SQLite result code and the connection's message for it.
struct SQLiteFailure: Error {
    let status: Int32
    let message: String

    init(database: OpaquePointer?, status: Int32) {
        self.status = status
        if let database, let text = sqlite3_errmsg(database) {
            message = String(cString: text)
        } else if let text = sqlite3_errstr(status) {
            message = String(cString: text)
        } else {
            message = "SQLite error"
        }
    }

    init(status: Int32, message: String) {
        self.status = status
        self.message = message
    }

    var description: String { "\(message) (SQLite code \(status))" }
}
