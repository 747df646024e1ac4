import CSQLite

/// Opening a database file the way every store here does: WAL, so readers (a backup, `sqlite3`
/// at a shell) run while the gateway writes; `synchronous=NORMAL`, durable against a crash of
/// the process (power loss may lose the last commits, never consistency); extended result codes
/// and a busy timeout for another process's locks.
package enum SQLiteDatabase {
    /// Opens (creating) the file at `path`, sets it up, then runs `prepare` (tables, statements)
    /// on it. On any failure the connection is closed again and the failure thrown.
    ///
    /// `maxLength`, when given, lowers SQLite's `SQLITE_LIMIT_LENGTH` on this connection (it can
    /// only go below the library's compiled-in limit, 1 GB by default).
    package static func open<Prepared>(
        path: String, busyTimeoutMilliseconds: Int32, maxLength: Int? = nil,
        prepare: (OpaquePointer) throws(SQLiteFailure) -> Prepared
    ) throws(SQLiteFailure) -> (database: OpaquePointer, prepared: Prepared) {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let failure = SQLiteFailure(database: handle, status: status)
            sqlite3_close_v2(handle)
            throw failure
        }
        if let maxLength { sqlite3_limit(handle, SQLITE_LIMIT_LENGTH, Int32(clamping: max(maxLength, 1))) }
        do throws(SQLiteFailure) {
            sqlite3_extended_result_codes(handle, 1)
            sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
            let mode = try SQLiteStatement.firstText("PRAGMA journal_mode=WAL", database: handle)
            guard mode == "wal" else {
                throw SQLiteFailure(status: SQLITE_CANTOPEN, message: "the file system refused WAL journal mode (got \(mode ?? "nothing"))")
            }
            _ = try SQLiteStatement.firstText("PRAGMA synchronous=NORMAL", database: handle)
            return (handle, try prepare(handle))
        } catch {
            // Finalize whatever was prepared, or close_v2 would leave a zombie connection open.
            while let statement = sqlite3_next_stmt(handle, nil) { sqlite3_finalize(statement) }
            sqlite3_close_v2(handle)
            throw error
        }
    }

    /// Runs `sql` (one or more statements without results).
    package static func execute(_ sql: String, database: OpaquePointer) throws(SQLiteFailure) {
        let status = sqlite3_exec(database, sql, nil, nil, nil)
        guard status == SQLITE_OK else { throw SQLiteFailure(database: database, status: status) }
    }
}
