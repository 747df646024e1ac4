import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PalisadeJSON
import PalisadeSQLite

/// The embedded `DirectoryStore`: one SQLite file, `<dataDirectory>/directory.sqlite3`, with
/// one table `records(kind, id, body, updated_at)`.
///
/// SQLite blocks, so every call runs on this store's own one-thread `NIOThreadPool`, in the
/// order asked, and its result is delivered on the caller's loop. One thread is enough: each
/// call is one indexed statement on a small table, and directory reads come per handshake or
/// per join, not per message. It also means calls never wait on each other for SQLite's locks.
///
/// Open it at start-up (`init` blocks; `open` does the same off the caller's thread) and
/// `close()` it at shutdown.
public final class SQLiteDirectoryStore: DirectoryStore {
    public struct Configuration: Sendable {
        /// How long a statement waits for another process's lock on the file (a backup, the
        /// `sqlite3` shell) before failing with `storageFailure`. Default 5 s: longer than any
        /// such lock should last, short enough that a stuck one shows as errors, not a hang.
        /// The wait is on the store's thread, never on an event loop.
        public var busyTimeoutMilliseconds: Int32

        public init(busyTimeoutMilliseconds: Int32 = 5000) {
            self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        }
    }

    /// The database's file name inside the data directory.
    public static let fileName = "directory.sqlite3"

    /// The database file's path.
    public let path: String

    private let connection: SQLiteConnection
    private let pool: NIOThreadPool
    /// False once `close()` has begun: no work is queued after that.
    private let isOpen = NIOLockedValueBox(true)

    /// Creates `dataDirectory` (and its parents) when missing, then opens or creates the
    /// database in it. Blocks on the file system: call it at start-up, not on an event loop.
    ///
    /// Fails with `cannotOpen` when the folder cannot be created, is not a folder, or the file
    /// cannot be opened, is not an SQLite database, or cannot be set up.
    public init(dataDirectory: String, configuration: Configuration = .init()) throws(DirectoryError) {
        do throws(SQLiteFailure) {
            try DataDirectory.create(dataDirectory)
        } catch {
            throw DirectoryError(.cannotOpen, error.message)
        }
        let folder = dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory
        path = folder + "/" + Self.fileName
        connection = try SQLiteConnection(path: path, busyTimeoutMilliseconds: configuration.busyTimeoutMilliseconds)
        pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
    }

    /// `init` run on NIO's shared blocking pool, for async start-up code.
    public static func open(
        dataDirectory: String, configuration: Configuration = .init()
    ) async throws -> SQLiteDirectoryStore {
        try await NIOThreadPool.singleton.runIfActive {
            try SQLiteDirectoryStore(dataDirectory: dataDirectory, configuration: configuration)
        }
    }

    /// A safety net for a store dropped without `close()`: queued work is cancelled (its futures
    /// fail with `closed`) and the database closes when the last queued closure lets go of it.
    deinit {
        if isOpen.withLockedValue({ $0 }) {
            pool.shutdownGracefully { _ in }
        }
    }

    public func get(kind: String, id: String, on loop: any EventLoop) -> EventLoopFuture<JSONValue?> {
        do throws(DirectoryError) {
            try DirectoryKey.validate(kind: kind, id: id)
        } catch {
            return loop.makeFailedFuture(error)
        }
        return run(on: loop) { connection throws(DirectoryError) in try connection.get(kind: kind, id: id) }
    }

    public func getMany(kind: String, ids: [String], on loop: any EventLoop) -> EventLoopFuture<[String: JSONValue]> {
        do throws(DirectoryError) {
            try DirectoryKey.validate(kind: kind, ids: ids)
        } catch {
            return loop.makeFailedFuture(error)
        }
        return run(on: loop) { connection throws(DirectoryError) in
            var records: [String: JSONValue] = [:]
            for id in ids where records[id] == nil {
                if let record = try connection.get(kind: kind, id: id) { records[id] = record }
            }
            return records
        }
    }

    public func put(kind: String, id: String, record: JSONValue, on loop: any EventLoop) -> EventLoopFuture<Void> {
        let body: String
        do throws(DirectoryError) {
            try DirectoryKey.validate(kind: kind, id: id)
            body = try DirectoryRecord.encode(record)
        } catch {
            return loop.makeFailedFuture(error)
        }
        return run(on: loop) { connection throws(DirectoryError) in try connection.put(kind: kind, id: id, body: body) }
    }

    public func delete(kind: String, id: String, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        do throws(DirectoryError) {
            try DirectoryKey.validate(kind: kind, id: id)
        } catch {
            return loop.makeFailedFuture(error)
        }
        return run(on: loop) { connection throws(DirectoryError) in try connection.delete(kind: kind, id: id) }
    }

    public func list(kind: String, on loop: any EventLoop) -> EventLoopFuture<[String]> {
        do throws(DirectoryError) {
            try DirectoryKey.validate(kind: kind)
        } catch {
            return loop.makeFailedFuture(error)
        }
        return run(on: loop) { connection throws(DirectoryError) in try connection.list(kind: kind) }
    }

    /// Stops taking work, lets every call already queued finish, closes the database (folding
    /// the WAL back into the file) and stops the thread. Later calls fail with `closed`; a
    /// second `close()` returns at once.
    public func close() async {
        let wasOpen = isOpen.withLockedValue { isOpen in
            defer { isOpen = false }
            return isOpen
        }
        guard wasOpen else { return }
        // The pool's one thread runs work in order, so this runs after everything queued before
        // `isOpen` turned false. (Its own graceful shutdown would cancel queued work instead.)
        let connection = self.connection
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            pool.submit { _ in
                connection.close()
                done.resume()
            }
        }
        try? await pool.shutdownGracefully()
    }

    /// Queues `body` on the store's thread and completes the returned future on `loop` with its
    /// result. Queuing happens under the `isOpen` lock, so nothing is queued after `close()`'s
    /// final item.
    private func run<Value: Sendable>(
        on loop: any EventLoop,
        _ body: @escaping @Sendable (SQLiteConnection) throws(DirectoryError) -> Value
    ) -> EventLoopFuture<Value> {
        let promise = loop.makePromise(of: Value.self)
        let connection = self.connection
        let queued = isOpen.withLockedValue { isOpen in
            guard isOpen else { return false }
            pool.submit { state in
                guard case .active = state else {
                    promise.fail(DirectoryError(.closed, "the directory store is closed"))
                    return
                }
                do throws(DirectoryError) {
                    promise.succeed(try body(connection))
                } catch {
                    promise.fail(error)
                }
            }
            return true
        }
        if !queued { promise.fail(DirectoryError(.closed, "the directory store is closed")) }
        return promise.futureResult
    }
}
