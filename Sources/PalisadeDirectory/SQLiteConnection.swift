import CSQLite
import PalisadeJSON
import PalisadeSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The directory's SQLite database: one connection, its four prepared statements, blocking calls.
///
/// Every method blocks on SQLite and the disk, so `SQLiteDirectoryStore` calls them on its own
/// thread, never on an event loop. `SQLiteHandle` serialises them.
final class SQLiteConnection: Sendable {
    private let path: String
    private let handle: SQLiteHandle<Statements>

    private struct Statements: SQLiteStatementSet {
        let get: SQLiteStatement
        let put: SQLiteStatement
        let delete: SQLiteStatement
        let list: SQLiteStatement

        func finalize() {
            for statement in [get, put, delete, list] { statement.finalize() }
        }
    }

    /// Opens (creating) the database at `path` (`SQLiteDatabase.open`: WAL, `synchronous=NORMAL`)
    /// and creates the table. Any failure is `cannotOpen`, naming the path.
    init(path: String, busyTimeoutMilliseconds: Int32) throws(DirectoryError) {
        self.path = path
        do throws(SQLiteFailure) {
            handle = SQLiteHandle(
                try SQLiteDatabase.open(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds, prepare: Self.prepare))
        } catch {
            throw DirectoryError(.cannotOpen, "cannot open \(path): \(error.description)")
        }
    }

    func get(kind: String, id: String) throws(DirectoryError) -> JSONValue? {
        try withStatements { database, statements throws(DirectoryError) in
            let statement = statements.get
            defer { statement.reset() }
            statement.bind(kind, at: 1)
            statement.bind(id, at: 2)
            guard try step(statement, database: database) else { return nil }
            return try statement.withText(column: 0) { bytes throws(DirectoryError) in
                try DirectoryRecord.decode(bytes)
            }
        }
    }

    /// Stores `body` (text from `DirectoryRecord.encode`) with the current time in milliseconds
    /// since 1970 as `updated_at`.
    func put(kind: String, id: String, body: String) throws(DirectoryError) {
        try withStatements { database, statements throws(DirectoryError) in
            let statement = statements.put
            defer { statement.reset() }
            statement.bind(kind, at: 1)
            statement.bind(id, at: 2)
            statement.bind(body, at: 3)
            statement.bind(Self.now(), at: 4)
            _ = try step(statement, database: database)
        }
    }

    func delete(kind: String, id: String) throws(DirectoryError) -> Bool {
        try withStatements { database, statements throws(DirectoryError) in
            let statement = statements.delete
            defer { statement.reset() }
            statement.bind(kind, at: 1)
            statement.bind(id, at: 2)
            _ = try step(statement, database: database)
            return sqlite3_changes(database) > 0
        }
    }

    /// Ids in ascending byte order (SQLite's default BINARY collation compares UTF-8 bytes).
    func list(kind: String) throws(DirectoryError) -> [String] {
        try withStatements { database, statements throws(DirectoryError) in
            let statement = statements.list
            defer { statement.reset() }
            statement.bind(kind, at: 1)
            var ids: [String] = []
            while try step(statement, database: database) {
                ids.append(statement.withText(column: 0) { String(decoding: $0, as: UTF8.self) })
            }
            return ids
        }
    }

    /// Finalizes the statements and closes the database (checkpointing the WAL into the file).
    /// Later calls fail with `closed`.
    func close() {
        handle.close()
    }

    private func withStatements<Result>(
        _ body: (OpaquePointer, Statements) throws(DirectoryError) -> Result
    ) throws(DirectoryError) -> Result {
        try handle.withOpen(orThrow: DirectoryError(.closed, "the directory store is closed"), body)
    }

    private func step(_ statement: SQLiteStatement, database: OpaquePointer) throws(DirectoryError) -> Bool {
        do {
            return try statement.step(database: database)
        } catch {
            throw DirectoryError(.storageFailure, "\(path): \(error.description)")
        }
    }

    /// The table and the statements.
    private static func prepare(_ database: OpaquePointer) throws(SQLiteFailure) -> Statements {
        try SQLiteDatabase.execute(
            """
            CREATE TABLE IF NOT EXISTS records(
                kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, updated_at INTEGER NOT NULL,
                PRIMARY KEY(kind, id)
            ) WITHOUT ROWID
            """,
            database: database)
        return Statements(
            get: try SQLiteStatement("SELECT body FROM records WHERE kind = ?1 AND id = ?2", database: database),
            put: try SQLiteStatement(
                """
                INSERT INTO records(kind, id, body, updated_at) VALUES (?1, ?2, ?3, ?4)
                ON CONFLICT(kind, id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at
                """,
                database: database),
            delete: try SQLiteStatement("DELETE FROM records WHERE kind = ?1 AND id = ?2", database: database),
            list: try SQLiteStatement("SELECT id FROM records WHERE kind = ?1 ORDER BY id", database: database)
        )
    }

    /// Wall-clock milliseconds since 1970, for `updated_at` (read by people, not by Palisade).
    private static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}
