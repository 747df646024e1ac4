import CSQLite

/// One prepared statement, prepared once and reused: bind, step, read, reset.
///
/// Used only under its connection's lock, like the connection it belongs to (the directory's
/// `SQLiteConnection`, the documents' `DocumentDatabase`).
package final class SQLiteStatement {
    package let handle: OpaquePointer

    package init(_ sql: String, database: OpaquePointer) throws(SQLiteFailure) {
        var handle: OpaquePointer?
        let status = sqlite3_prepare_v3(database, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
        guard status == SQLITE_OK, let handle else {
            sqlite3_finalize(handle)
            throw SQLiteFailure(database: database, status: status)
        }
        self.handle = handle
    }

    /// Binds `text` to parameter `index` (1-based); SQLite keeps its own copy.
    package func bind(_ text: String, at index: Int32) {
        // withCString never passes nil (which would bind NULL), even for "".
        _ = text.withCString { palisade_sqlite3_bind_text_transient(handle, index, $0, Int32(text.utf8.count)) }
    }

    package func bind(_ integer: Int64, at index: Int32) {
        sqlite3_bind_int64(handle, index, integer)
    }

    /// Binds `bytes` to parameter `index` (1-based) as a BLOB; SQLite keeps its own copy.
    /// An empty array binds an empty BLOB, not NULL.
    ///
    /// Throws (`SQLITE_TOOBIG`) when `bytes` is longer than the connection's
    /// `SQLITE_LIMIT_LENGTH`, instead of letting a length overflow a C `int`.
    package func bind(_ bytes: [UInt8], at index: Int32) throws(SQLiteFailure) {
        let status = bytes.withUnsafeBytes { raw -> Int32 in
            // A nil base address would bind NULL; zeroblob(0) is the empty BLOB.
            guard let base = raw.baseAddress, !raw.isEmpty else { return sqlite3_bind_zeroblob(handle, index, 0) }
            return sqlite3_bind_blob64(handle, index, base, sqlite3_uint64(raw.count), Self.transient)
        }
        guard status == SQLITE_OK else { throw SQLiteFailure(database: sqlite3_db_handle(handle), status: status) }
    }

    /// `SQLITE_TRANSIENT`: SQLite copies the value before the bind call returns. The C macro is
    /// a cast of -1 to a function pointer, which Swift does not import.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// One step: true when a row is ready, false when done.
    package func step(database: OpaquePointer) throws(SQLiteFailure) -> Bool {
        let status = sqlite3_step(handle)
        switch status {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteFailure(database: database, status: status)
        }
    }

    /// The bytes of text column `column` of the current row, valid until the next step or reset.
    package func withText<Result, Failure: Error>(
        column: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let pointer = sqlite3_column_text(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        return try body(UnsafeBufferPointer(start: pointer, count: pointer == nil ? 0 : count))
    }

    /// Integer column `column` of the current row (0 for NULL).
    package func integer(column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    /// A copy of BLOB column `column` of the current row; nil when the value is NULL.
    package func blob(column: Int32) -> [UInt8]? {
        guard sqlite3_column_type(handle, column) != SQLITE_NULL else { return nil }
        // column_blob before column_bytes, as SQLite's documentation asks; an empty BLOB has a
        // nil pointer.
        guard let pointer = sqlite3_column_blob(handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, column))
        return [UInt8](UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Ends the current use: the statement is ready to run again and holds no bound text.
    package func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Runs `sql` (a pragma, say) and returns the first column of its first row, if any.
    package static func firstText(_ sql: String, database: OpaquePointer) throws(SQLiteFailure) -> String? {
        let statement = try SQLiteStatement(sql, database: database)
        defer { statement.finalize() }
        guard try statement.step(database: database) else { return nil }
        guard let text = sqlite3_column_text(statement.handle, 0) else { return nil }
        return String(cString: text)
    }

    package func finalize() {
        sqlite3_finalize(handle)
    }
}

@available(*, unavailable)
extension SQLiteStatement: Sendable {}

/// An SQLite result code and the connection's message for it.
package struct SQLiteFailure: Error {
    package let status: Int32
    package let message: String

    package init(database: OpaquePointer?, status: Int32) {
        self.status = status
        if let database, let text = sqlite3_errmsg(database) {
            message = String(cString: text)
        } else if let text = sqlite3_errstr(status) {
            message = String(cString: text)
        } else {
            message = "SQLite error"
        }
    }

    package init(status: Int32, message: String) {
        self.status = status
        self.message = message
    }

    package var description: String { "\(message) (SQLite code \(status))" }
}
