import CSQLite
import NIOConcurrencyHelpers

/// A store's prepared statements: finalized together when the connection closes.
package protocol SQLiteStatementSet {
    func finalize()
}

/// One open connection and its prepared statements behind one lock, so calls are serialised
/// even when they come from more than one thread (connections are opened with
/// `SQLITE_OPEN_NOMUTEX`; this lock is the only one). Every call blocks on SQLite and the disk:
/// the stores make them on their own threads, never on an event loop.
///
/// `@unchecked Sendable`: the handle and statements are only touched under `lock`.
package final class SQLiteHandle<Statements: SQLiteStatementSet>: @unchecked Sendable {
    private let lock = NIOLock()
    private var database: OpaquePointer?
    private var statements: Statements?

    /// Takes over a connection from `SQLiteDatabase.open`.
    package init(_ opened: (database: OpaquePointer, prepared: Statements)) {
        database = opened.database
        statements = opened.prepared
    }

    deinit {
        close()
    }

    /// Runs `body` with the connection and its statements, under the lock; after `close`, throws
    /// `closed` instead.
    package func withOpen<Result, Failure: Error>(
        orThrow closed: @autoclosure () -> Failure, _ body: (OpaquePointer, Statements) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        lock.lock()
        defer { lock.unlock() }
        guard let database, let statements else { throw closed() }
        return try body(database, statements)
    }

    /// Finalizes the statements and closes the connection (checkpointing the WAL into the file).
    /// Later calls throw their `closed` error.
    package func close() {
        lock.withLock {
            statements?.finalize()
            statements = nil
            if let database { sqlite3_close_v2(database) }
            database = nil
        }
    }
}
