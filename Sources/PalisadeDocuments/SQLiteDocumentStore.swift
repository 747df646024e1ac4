import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PalisadeSQLite

/// The embedded `DocumentStore`: one SQLite file, `<dataDirectory>/documents.sqlite3`, with
/// `documents(id, snapshot, snapshot_seq, last_seq, updated_at)` and `updates(id, seq, bytes)`.
///
/// Durability: WAL journal with `synchronous=NORMAL`. A committed transaction is in the WAL
/// file (in the kernel's page cache) before `COMMIT` returns, so it survives the process being
/// killed (`kill -9`, a crash) and is replayed on the next open. Losing power or the kernel may
/// lose the last commits, never consistency: WAL is synced at checkpoints only. `append`
/// completes after the `COMMIT` of its update.
///
/// Group commit: SQLite blocks, so every call runs on this store's own one-thread
/// `NIOThreadPool`, in the order asked. Appends that queue up while that thread is busy are
/// written in one transaction when it gets to them: a burst of appends costs a few commits,
/// not one each. Each caller's future completes (on the caller's loop) after the commit that
/// holds its update. Other calls keep their place in the order: an append asked after a
/// `delete` is never swept into a transaction that runs before it.
///
/// Open it at start-up (`init` blocks; `open` does the same off the caller's thread) and
/// `close()` it at shutdown.
public final class SQLiteDocumentStore: DocumentStore {
    public struct Configuration: Sendable {
        /// How long a statement waits for another process's lock on the file (a backup, the
        /// `sqlite3` shell) before failing with `storageFailure`. Default 5 s: longer than any
        /// such lock should last, short enough that a stuck one shows as errors, not a hang.
        /// The wait is on the store's thread, never on an event loop.
        public var busyTimeoutMilliseconds: Int32
        /// The longest update or snapshot accepted; longer ones fail with `tooLarge` before
        /// reaching SQLite. nil (the default) takes SQLite's own limit (`SQLITE_LIMIT_LENGTH`,
        /// 1 GB unless the library was built otherwise); a value can only lower it. The relay
        /// sets its own, far smaller limits; this one keeps SQLite's from ever being hit hard.
        public var maxBlobBytes: Int?

        public init(busyTimeoutMilliseconds: Int32 = 5000, maxBlobBytes: Int? = nil) {
            self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
            self.maxBlobBytes = maxBlobBytes
        }
    }

    /// The database's file name inside the data directory.
    public static let fileName = "documents.sqlite3"

    /// The database file's path.
    public let path: String
    /// The longest update or snapshot this store accepts (see `Configuration.maxBlobBytes`).
    /// A BLOB within it can still fail with `tooLarge` when the id pushes the row over SQLite's
    /// limit.
    public let maxBlobBytes: Int

    private let database: DocumentDatabase
    private let pool: NIOThreadPool
    private let queue = NIOLockedValueBox(WorkQueue())
    private let clock: WallClock

    /// Work waiting for the store's thread, in the order asked.
    private struct WorkQueue {
        /// False once `close()` has begun: no work is queued after that.
        var isOpen = true
        var items: [Work] = []
        /// True while a drain is submitted to the pool and has not yet found the queue empty.
        var isDraining = false
    }

    private enum Work: Sendable {
        case append(id: String, bytes: [UInt8], promise: EventLoopPromise<Int64>)
        /// Any other call: runs alone and completes its own promise.
        case other(@Sendable (DocumentDatabase, NIOThreadPool.WorkItemState) -> Void)
    }

    /// Creates `dataDirectory` (and its parents, mode 0700) when missing, then opens or creates
    /// the database in it. Blocks on the file system: call it at start-up, not on an event loop.
    ///
    /// Fails with `cannotOpen` when the folder cannot be created, is not a folder, or the file
    /// cannot be opened, is not an SQLite database, or cannot be set up.
    public convenience init(dataDirectory: String, configuration: Configuration = .init()) throws(DocumentStoreError) {
        try self.init(dataDirectory: dataDirectory, configuration: configuration, clock: systemWallClock)
    }

    /// `init` with the clock that stamps `updated_at` and drives `purge` (for tests).
    package init(dataDirectory: String, configuration: Configuration = .init(), clock: @escaping WallClock) throws(DocumentStoreError) {
        do {
            try DataDirectory.create(dataDirectory)
        } catch {
            throw DocumentStoreError(.cannotOpen, error.message)
        }
        let folder = dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory
        path = folder + "/" + Self.fileName
        database = try DocumentDatabase(
            path: path, busyTimeoutMilliseconds: configuration.busyTimeoutMilliseconds,
            maxBlobBytes: configuration.maxBlobBytes)
        maxBlobBytes = database.maxBlobBytes
        self.clock = clock
        pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
    }

    /// `init` run on NIO's shared blocking pool, for async start-up code.
    public static func open(
        dataDirectory: String, configuration: Configuration = .init()
    ) async throws -> SQLiteDocumentStore {
        try await NIOThreadPool.singleton.runIfActive {
            try SQLiteDocumentStore(dataDirectory: dataDirectory, configuration: configuration)
        }
    }

    /// A safety net for a store dropped without `close()`: queued work is cancelled (its futures
    /// fail with `closed`) and the database closes when the last queued closure lets go of it.
    deinit {
        if queue.withLockedValue({ $0.isOpen }) {
            pool.shutdownGracefully { _ in }
        }
    }

    /// Write transactions committed since the store was opened: how tests see group commit.
    package var transactionCount: Int { database.transactionCount }

    public func load(_ id: String, on loop: any EventLoop) -> EventLoopFuture<StoredDocument?> {
        do throws(DocumentStoreError) {
            try DocumentID.validate(id)
        } catch {
            return loop.makeFailedFuture(error)
        }
        return run(on: loop) { database throws(DocumentStoreError) in try database.load(id) }
    }

    public func append(_ id: String, update: [UInt8], on loop: any EventLoop) -> EventLoopFuture<Int64> {
        do throws(DocumentStoreError) {
            try DocumentID.validate(id)
            try checkSize(update, "update")
        } catch {
            return loop.makeFailedFuture(error)
        }
        let promise = loop.makePromise(of: Int64.self)
        if !enqueue(.append(id: id, bytes: update, promise: promise)) {
            promise.fail(DocumentStoreError.closed)
        }
        return promise.futureResult
    }

    /// Compaction (see `DocumentStore`). A compaction of an unknown document, or one whose
    /// `through` is older than the stored snapshot, changes nothing and succeeds: it lost a race
    /// with a deletion or a newer compaction. A negative `through`, or one beyond the document's
    /// last sequence number, fails with `invalidArgument`. Compaction does not count as a write
    /// for `purge`: it rewrites what users wrote, and must not keep an idle document alive.
    public func compact(_ id: String, snapshot: [UInt8], through sequence: Int64, on loop: any EventLoop) -> EventLoopFuture<Void> {
        do throws(DocumentStoreError) {
            try DocumentID.validate(id)
            try checkSize(snapshot, "snapshot")
            guard sequence >= 0 else {
                throw DocumentStoreError(.invalidArgument, "compaction through a negative sequence (\(sequence))")
            }
        } catch {
            return loop.makeFailedFuture(error)
        }
        return run(on: loop) { database throws(DocumentStoreError) in
            try database.compact(id, snapshot: snapshot, through: sequence)
        }
    }

    public func delete(_ id: String, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        do throws(DocumentStoreError) {
            try DocumentID.validate(id)
        } catch {
            return loop.makeFailedFuture(error)
        }
        return run(on: loop) { database throws(DocumentStoreError) in try database.delete(id) }
    }

    /// Deletes the documents whose last append is more than `seconds` ago (millisecond
    /// resolution). A negative or non-finite age fails with `invalidArgument`.
    public func purge(untouchedFor seconds: Double, on loop: any EventLoop) -> EventLoopFuture<Int> {
        let clock = self.clock
        do throws(DocumentStoreError) {
            _ = try purgeCutoff(untouchedFor: seconds, now: 0)
        } catch {
            return loop.makeFailedFuture(error)
        }
        return run(on: loop) { database throws(DocumentStoreError) in
            try database.purge(before: purgeCutoff(untouchedFor: seconds, now: clock()))
        }
    }

    /// Stops taking work, lets every call already queued finish, closes the database (folding
    /// the WAL back into the file) and stops the thread. Later calls fail with `closed`; a
    /// second `close()` returns at once.
    public func close() async {
        let wasOpen = queue.withLockedValue { queue in
            defer { queue.isOpen = false }
            return queue.isOpen
        }
        guard wasOpen else { return }
        // The pool's one thread runs work in order and a drain runs until the queue is empty;
        // nothing joins the queue once `isOpen` is false, so this runs after all of it.
        let database = self.database
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            pool.submit { _ in
                database.close()
                done.resume()
            }
        }
        try? await pool.shutdownGracefully()
    }

    /// Test hook: queues a call that holds the store's thread until the returned closure is
    /// called, so a test can pile work up behind it deterministically.
    package func holdThread() -> @Sendable () -> Void {
        let gate = ConditionLock(value: false)
        _ = enqueue(
            .other { _, _ in
                gate.lock(whenValue: true)
                gate.unlock()
            })
        return {
            gate.lock()
            gate.unlock(withValue: true)
        }
    }

    private func checkSize(_ bytes: [UInt8], _ what: String) throws(DocumentStoreError) {
        guard bytes.count <= maxBlobBytes else {
            throw DocumentStoreError(.tooLarge, "the \(what) is \(bytes.count) bytes; at most \(maxBlobBytes) are stored")
        }
    }

    /// Queues `body` on the store's thread and completes the returned future on `loop` with its
    /// result.
    private func run<Value: Sendable>(
        on loop: any EventLoop,
        _ body: @escaping @Sendable (DocumentDatabase) throws(DocumentStoreError) -> Value
    ) -> EventLoopFuture<Value> {
        let promise = loop.makePromise(of: Value.self)
        let queued = enqueue(
            .other { database, state in
                guard case .active = state else {
                    promise.fail(DocumentStoreError.closed)
                    return
                }
                do throws(DocumentStoreError) {
                    promise.succeed(try body(database))
                } catch {
                    promise.fail(error)
                }
            })
        if !queued { promise.fail(DocumentStoreError.closed) }
        return promise.futureResult
    }

    /// Adds `work` to the queue and, when no drain is under way, submits one. Both happen under
    /// the queue's lock, so nothing is queued or submitted after `close()`'s final item. (A
    /// stopped pool would run the drain at once on this thread, under this lock, and deadlock;
    /// the pool stops only after `isOpen` is false or in `deinit`, so that cannot happen.)
    private func enqueue(_ work: Work) -> Bool {
        let database = self.database
        let queue = self.queue
        let clock = self.clock
        return queue.withLockedValue { state in
            guard state.isOpen else { return false }
            state.items.append(work)
            if !state.isDraining {
                state.isDraining = true
                pool.submit { poolState in
                    Self.drain(queue, database: database, clock: clock, poolState: poolState)
                }
            }
            return true
        }
    }

    /// At most this many updates share one transaction: enough that a burst costs a handful of
    /// commits, few enough that the first caller of a huge burst does not wait for all of it.
    static let maxBatchUpdates = 1024
    /// At most about this many bytes of updates share one transaction (16 MiB), which bounds
    /// the WAL's growth between checkpoints and the memory of one batch.
    static let maxBatchBytes = 16 << 20

    /// On the store's thread: takes everything queued, runs it in order, and again, until the
    /// queue is empty. Appends next to each other in the queue share one transaction, up to
    /// `maxBatchUpdates` and `maxBatchBytes`.
    private static func drain(
        _ queue: NIOLockedValueBox<WorkQueue>, database: DocumentDatabase, clock: WallClock,
        poolState: NIOThreadPool.WorkItemState
    ) {
        while true {
            let items = queue.withLockedValue { state -> [Work] in
                if state.items.isEmpty { state.isDraining = false }
                defer { state.items = [] }
                return state.items
            }
            guard !items.isEmpty else { return }

            var appends: [(id: String, bytes: [UInt8])] = []
            var promises: [EventLoopPromise<Int64>] = []
            var batchBytes = 0
            func commitAppends() {
                guard !appends.isEmpty else { return }
                defer { batchBytes = 0 }
                let results: [Result<Int64, DocumentStoreError>]
                if case .active = poolState {
                    results = database.append(appends, now: clock())
                } else {
                    results = appends.map { _ in .failure(DocumentStoreError.closed) }
                }
                for (promise, result) in zip(promises, results) {
                    switch result {
                    case .success(let sequence): promise.succeed(sequence)
                    case .failure(let error): promise.fail(error)
                    }
                }
                appends.removeAll(keepingCapacity: true)
                promises.removeAll(keepingCapacity: true)
            }
            for item in items {
                switch item {
                case .append(let id, let bytes, let promise):
                    appends.append((id, bytes))
                    promises.append(promise)
                    batchBytes += bytes.count
                    if appends.count >= maxBatchUpdates || batchBytes >= maxBatchBytes { commitAppends() }
                case .other(let body):
                    commitAppends()
                    body(database, poolState)
                }
            }
            commitAppends()
        }
    }
}
