import CSQLite
import NIOConcurrencyHelpers
import PalisadeSQLite

/// The documents' SQLite database: one connection, its prepared statements, blocking calls.
///
/// Every method blocks on SQLite and the disk, so `SQLiteDocumentStore` calls them on its own
/// thread, never on an event loop. `SQLiteHandle` serialises them.
final class DocumentDatabase: Sendable {
    /// The schema this code writes, kept in `PRAGMA user_version`. A file with a higher number
    /// comes from a newer Palisade and is refused rather than misread.
    static let schemaVersion: Int64 = 1

    private let path: String
    private let handle: SQLiteHandle<Statements>
    /// Write transactions committed so far (appends, compactions, deletions, purges).
    private let commits = NIOLockedValueBox(0)
    /// The longest BLOB SQLite accepts on this connection (`SQLITE_LIMIT_LENGTH`).
    let maxBlobBytes: Int

    private struct Statements: SQLiteStatementSet {
        let begin: SQLiteStatement
        let beginRead: SQLiteStatement
        let commit: SQLiteStatement
        let rollback: SQLiteStatement
        let loadDocument: SQLiteStatement
        let loadUpdates: SQLiteStatement
        let nextSequence: SQLiteStatement
        let insertUpdate: SQLiteStatement
        let sequences: SQLiteStatement
        let setSnapshot: SQLiteStatement
        let dropUpdatesThrough: SQLiteStatement
        let deleteDocument: SQLiteStatement
        let deleteUpdates: SQLiteStatement
        let purgeUpdates: SQLiteStatement
        let purgeDocuments: SQLiteStatement

        func finalize() {
            for statement in [
                begin, beginRead, commit, rollback, loadDocument, loadUpdates, nextSequence, insertUpdate, sequences,
                setSnapshot, dropUpdatesThrough, deleteDocument, deleteUpdates, purgeUpdates, purgeDocuments,
            ] {
                statement.finalize()
            }
        }
    }

    /// Opens (creating) the database at `path`, switches it to WAL with `synchronous=NORMAL`
    /// and creates the tables. Any failure is `cannotOpen`, naming the path.
    ///
    /// `maxBlobBytes`, when given, lowers SQLite's `SQLITE_LIMIT_LENGTH` on this connection
    /// (it can only be lowered below the library's compiled-in limit, 1 GB by default).
    init(path: String, busyTimeoutMilliseconds: Int32, maxBlobBytes: Int?) throws(DocumentStoreError) {
        self.path = path
        do throws(SQLiteFailure) {
            let opened = try SQLiteDatabase.open(
                path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds, maxLength: maxBlobBytes,
                prepare: Self.prepare)
            handle = SQLiteHandle(opened)
            self.maxBlobBytes = Int(sqlite3_limit(opened.database, SQLITE_LIMIT_LENGTH, -1))
        } catch {
            throw DocumentStoreError(.cannotOpen, "cannot open \(path): \(error.description)")
        }
    }

    /// Write transactions committed since the database was opened.
    var transactionCount: Int { commits.withLockedValue { $0 } }

    func load(_ id: String) throws(DocumentStoreError) -> StoredDocument? {
        try withStatements { database, statements throws(DocumentStoreError) in
            // One read transaction, so the snapshot and the updates belong together even if
            // another process (a backup tool) writes between the two queries.
            try run(statements.beginRead, database: database)
            do throws(DocumentStoreError) {
                let document = try Self.read(id, statements: statements, database: database, path: path)
                try run(statements.commit, database: database)
                return document
            } catch {
                try? run(statements.rollback, database: database)
                throw error
            }
        }
    }

    private static func read(
        _ id: String, statements: Statements, database: OpaquePointer, path: String
    ) throws(DocumentStoreError) -> StoredDocument? {
        let head = statements.loadDocument
        defer { head.reset() }
        head.bind(id, at: 1)
        guard try step(head, database: database, path: path) else { return nil }
        let snapshot = head.blob(column: 0)
        let snapshotSequence = head.integer(column: 1)

        let tail = statements.loadUpdates
        defer { tail.reset() }
        tail.bind(id, at: 1)
        var updates: [(sequence: Int64, bytes: [UInt8])] = []
        while try step(tail, database: database, path: path) {
            guard let bytes = tail.blob(column: 1) else {
                throw DocumentStoreError(.corruptDocument, "\(path): an update of a document has no bytes")
            }
            updates.append((tail.integer(column: 0), bytes))
        }
        return StoredDocument(snapshot: snapshot, snapshotSequence: snapshotSequence, updates: updates)
    }

    /// Appends every update in `batch`, in order, in one transaction (group commit) and answers
    /// one result per update. When that transaction fails, each update is retried in its own
    /// transaction, so one bad update (a row SQLite finds too big) fails only its own caller.
    func append(_ batch: [(id: String, bytes: [UInt8])], now: Int64) -> [Result<Int64, DocumentStoreError>] {
        do throws(DocumentStoreError) {
            let sequences = try withStatements { database, statements throws(DocumentStoreError) in
                try transaction(statements, database: database) { () throws(DocumentStoreError) in
                    var sequences: [Result<Int64, DocumentStoreError>] = []
                    sequences.reserveCapacity(batch.count)
                    for update in batch {
                        sequences.append(.success(try insert(update, now: now, statements: statements, database: database)))
                    }
                    return sequences
                }
            }
            return sequences
        } catch {
            guard batch.count > 1, error.code != .closed else { return batch.map { _ in .failure(error) } }
        }
        return batch.map { update in
            do throws(DocumentStoreError) {
                return .success(
                    try withStatements { database, statements throws(DocumentStoreError) in
                        try transaction(statements, database: database) { () throws(DocumentStoreError) in
                            try insert(update, now: now, statements: statements, database: database)
                        }
                    })
            } catch {
                return .failure(error)
            }
        }
    }

    /// Takes the document's next sequence number (creating the document) and writes the update.
    private func insert(
        _ update: (id: String, bytes: [UInt8]), now: Int64, statements: Statements, database: OpaquePointer
    ) throws(DocumentStoreError) -> Int64 {
        let next = statements.nextSequence
        defer { next.reset() }
        next.bind(update.id, at: 1)
        next.bind(now, at: 2)
        guard try step(next, database: database) else {
            throw DocumentStoreError(.storageFailure, "\(path): taking a sequence number returned no row")
        }
        let sequence = next.integer(column: 0)
        _ = try step(next, database: database)

        let insert = statements.insertUpdate
        defer { insert.reset() }
        insert.bind(update.id, at: 1)
        insert.bind(sequence, at: 2)
        try bind(update.bytes, to: insert, at: 3)
        _ = try step(insert, database: database)
        return sequence
    }

    /// The compaction of `DocumentStore.compact`: unknown documents and stale compactions (older
    /// than the stored snapshot) change nothing; a `through` beyond the last sequence is refused.
    func compact(_ id: String, snapshot: [UInt8], through: Int64) throws(DocumentStoreError) {
        try withStatements { database, statements throws(DocumentStoreError) in
            try transaction(statements, database: database) { () throws(DocumentStoreError) in
                let sequences = statements.sequences
                defer { sequences.reset() }
                sequences.bind(id, at: 1)
                guard try step(sequences, database: database) else { return }
                let snapshotSequence = sequences.integer(column: 0)
                let lastSequence = sequences.integer(column: 1)
                sequences.reset()
                guard through <= lastSequence else {
                    throw DocumentStoreError(
                        .invalidArgument, "compaction through sequence \(through), beyond the last update (\(lastSequence))")
                }
                guard through >= snapshotSequence else { return }

                let set = statements.setSnapshot
                defer { set.reset() }
                set.bind(id, at: 1)
                try bind(snapshot, to: set, at: 2)
                set.bind(through, at: 3)
                _ = try step(set, database: database)

                let drop = statements.dropUpdatesThrough
                defer { drop.reset() }
                drop.bind(id, at: 1)
                drop.bind(through, at: 2)
                _ = try step(drop, database: database)
            }
        }
    }

    func delete(_ id: String) throws(DocumentStoreError) -> Bool {
        try withStatements { database, statements throws(DocumentStoreError) in
            try transaction(statements, database: database) { () throws(DocumentStoreError) in
                let updates = statements.deleteUpdates
                defer { updates.reset() }
                updates.bind(id, at: 1)
                _ = try step(updates, database: database)

                let document = statements.deleteDocument
                defer { document.reset() }
                document.bind(id, at: 1)
                _ = try step(document, database: database)
                return sqlite3_changes(database) > 0
            }
        }
    }

    /// Deletes the documents whose `updated_at` is before `cutoff` (milliseconds since 1970)
    /// and their updates; answers how many documents went.
    func purge(before cutoff: Int64) throws(DocumentStoreError) -> Int {
        try withStatements { database, statements throws(DocumentStoreError) in
            try transaction(statements, database: database) { () throws(DocumentStoreError) in
                let updates = statements.purgeUpdates
                defer { updates.reset() }
                updates.bind(cutoff, at: 1)
                _ = try step(updates, database: database)

                let documents = statements.purgeDocuments
                defer { documents.reset() }
                documents.bind(cutoff, at: 1)
                _ = try step(documents, database: database)
                return Int(sqlite3_changes(database))
            }
        }
    }

    /// Finalizes the statements and closes the database (checkpointing the WAL into the file).
    /// Later calls fail with `closed`.
    func close() {
        handle.close()
    }

    private func withStatements<Result>(
        _ body: (OpaquePointer, Statements) throws(DocumentStoreError) -> Result
    ) throws(DocumentStoreError) -> Result {
        try handle.withOpen(orThrow: DocumentStoreError.closed, body)
    }

    /// `BEGIN IMMEDIATE` (takes the write lock up front, so a busy file fails here and not at
    /// COMMIT), `body`, `COMMIT`; `ROLLBACK` when either throws.
    private func transaction<Result>(
        _ statements: Statements, database: OpaquePointer, _ body: () throws(DocumentStoreError) -> Result
    ) throws(DocumentStoreError) -> Result {
        try run(statements.begin, database: database)
        do throws(DocumentStoreError) {
            let result = try body()
            try run(statements.commit, database: database)
            commits.withLockedValue { $0 += 1 }
            return result
        } catch {
            // After a failed COMMIT SQLite may already have rolled back; a second ROLLBACK then
            // fails harmlessly.
            try? run(statements.rollback, database: database)
            throw error
        }
    }

    private func run(_ statement: SQLiteStatement, database: OpaquePointer) throws(DocumentStoreError) {
        defer { statement.reset() }
        _ = try step(statement, database: database)
    }

    private func step(_ statement: SQLiteStatement, database: OpaquePointer) throws(DocumentStoreError) -> Bool {
        try Self.step(statement, database: database, path: path)
    }

    private static func step(_ statement: SQLiteStatement, database: OpaquePointer, path: String) throws(DocumentStoreError) -> Bool {
        do {
            return try statement.step(database: database)
        } catch {
            throw Self.error(error, path: path)
        }
    }

    private func bind(_ bytes: [UInt8], to statement: SQLiteStatement, at index: Int32) throws(DocumentStoreError) {
        do {
            try statement.bind(bytes, at: index)
        } catch {
            throw Self.error(error, path: path)
        }
    }

    /// `SQLITE_TOOBIG` is the caller's doing (`tooLarge`); anything else is the disk's or the file's.
    private static func error(_ failure: SQLiteFailure, path: String) -> DocumentStoreError {
        if failure.status & 0xFF == SQLITE_TOOBIG {
            return DocumentStoreError(.tooLarge, "\(path): \(failure.description)")
        }
        return DocumentStoreError(.storageFailure, "\(path): \(failure.description)")
    }

    /// Checks the schema version, creates the tables and prepares the statements.
    private static func prepare(_ database: OpaquePointer) throws(SQLiteFailure) -> Statements {
        let version = Int64(try SQLiteStatement.firstText("PRAGMA user_version", database: database) ?? "0") ?? 0
        guard version <= schemaVersion else {
            throw SQLiteFailure(
                status: SQLITE_CANTOPEN,
                message: "the file has schema version \(version), written by a newer Palisade; this one reads \(schemaVersion)")
        }
        // `last_seq` keeps the sequence counter in the document's row, so it survives a
        // compaction that removes every update and a restart; `updated_at` is indexed for purge.
        // Updates live in a rowid table: they can be large, and WITHOUT ROWID suits small rows.
        try execute(
            """
            BEGIN;
            CREATE TABLE IF NOT EXISTS documents(
                id TEXT NOT NULL PRIMARY KEY,
                snapshot BLOB,
                snapshot_seq INTEGER NOT NULL DEFAULT 0,
                last_seq INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            );
            CREATE INDEX IF NOT EXISTS documents_by_age ON documents(updated_at);
            CREATE TABLE IF NOT EXISTS updates(
                id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                bytes BLOB NOT NULL,
                PRIMARY KEY(id, seq)
            );
            PRAGMA user_version = \(schemaVersion);
            COMMIT;
            """,
            database: database)
        return Statements(
            begin: try SQLiteStatement("BEGIN IMMEDIATE", database: database),
            beginRead: try SQLiteStatement("BEGIN", database: database),
            commit: try SQLiteStatement("COMMIT", database: database),
            rollback: try SQLiteStatement("ROLLBACK", database: database),
            loadDocument: try SQLiteStatement("SELECT snapshot, snapshot_seq FROM documents WHERE id = ?1", database: database),
            loadUpdates: try SQLiteStatement("SELECT seq, bytes FROM updates WHERE id = ?1 ORDER BY seq", database: database),
            nextSequence: try SQLiteStatement(
                """
                INSERT INTO documents(id, last_seq, updated_at) VALUES (?1, 1, ?2)
                ON CONFLICT(id) DO UPDATE SET last_seq = last_seq + 1, updated_at = excluded.updated_at
                RETURNING last_seq
                """,
                database: database),
            insertUpdate: try SQLiteStatement("INSERT INTO updates(id, seq, bytes) VALUES (?1, ?2, ?3)", database: database),
            sequences: try SQLiteStatement("SELECT snapshot_seq, last_seq FROM documents WHERE id = ?1", database: database),
            setSnapshot: try SQLiteStatement(
                "UPDATE documents SET snapshot = ?2, snapshot_seq = ?3 WHERE id = ?1", database: database),
            dropUpdatesThrough: try SQLiteStatement("DELETE FROM updates WHERE id = ?1 AND seq <= ?2", database: database),
            deleteDocument: try SQLiteStatement("DELETE FROM documents WHERE id = ?1", database: database),
            deleteUpdates: try SQLiteStatement("DELETE FROM updates WHERE id = ?1", database: database),
            purgeUpdates: try SQLiteStatement(
                "DELETE FROM updates WHERE id IN (SELECT id FROM documents WHERE updated_at < ?1)", database: database),
            purgeDocuments: try SQLiteStatement("DELETE FROM documents WHERE updated_at < ?1", database: database)
        )
    }

    private static func execute(_ sql: String, database: OpaquePointer) throws(SQLiteFailure) {
        let status = sqlite3_exec(database, sql, nil, nil, nil)
        guard status == SQLITE_OK else {
            let failure = SQLiteFailure(database: database, status: status)
            _ = sqlite3_exec(database, "ROLLBACK", nil, nil, nil)
            throw failure
        }
    }
}
