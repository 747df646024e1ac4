import NIOCore
import PalisadeDocuments
import PalisadeRedis

/// Yjs documents in Redis, shared by every instance (`SharedDocumentStore`), in Open WebUI
/// 0.12.4's key layout (`RedisDocumentKeys`). Each append and each compaction is one script
/// (`RedisDocumentScripts`), atomic on the server: the byte budget is checked across instances
/// before the update is pushed, and a compaction replaces only what its snapshot covers.
///
/// `append` succeeds once Redis has the update; the relay relays an update only then, so every
/// update relayed to any editor is in Redis (as durable as Redis's own persistence). While Redis
/// is down every operation fails (the relay answers the sender with an error); the client
/// reconnects by itself.
///
/// With `retentionDays` > 0 a document's keys expire that many days after its last append or
/// compaction, and `purge` has nothing to do (answers 0); otherwise nothing expires.
/// Futures complete on the loop a call names.
public final class RedisDocumentStore: SharedDocumentStore {
    public let client: RedisClient
    /// The largest document a load reads (`yjs.max_document_bytes`, and twice it for what a
    /// compaction may add); a larger one fails with `tooLarge` without being read.
    public let maxDocumentBytes: Int
    /// The most elements a load reads.
    public let maxLogUpdates: Int
    /// The most decoded values a document holds when `append` is called without a count.
    public let maxDocumentValues: Int
    private let keys: RedisDocumentKeys
    private let ttlSeconds: Int

    public init(
        client: RedisClient, prefix: String, maxDocumentBytes: Int, maxDocumentValues: Int = largestExactInteger, retentionDays: Int = 0,
        maxLogUpdates: Int = 100_000
    ) {
        self.client = client
        self.maxDocumentBytes = maxDocumentBytes
        self.maxDocumentValues = maxDocumentValues
        self.maxLogUpdates = maxLogUpdates
        keys = RedisDocumentKeys(prefix: prefix)
        ttlSeconds = max(retentionDays, 0) * 86_400
    }

    // MARK: DocumentStore

    public func load(_ id: String, on loop: any EventLoop) -> EventLoopFuture<StoredDocument?> {
        checked(id, on: loop) {
            RedisDocumentScripts.load.run(
                on: client, keys: keys.log(id), arguments: [maxDocumentBytes * 2, maxLogUpdates]
            ).hop(to: loop).flatMapThrowing { reply in try Self.document(from: reply) }
        }
    }

    /// Counts the update's bytes as its values (a bound on them): the relay calls the shared variant.
    public func append(_ id: String, update: [UInt8], on loop: any EventLoop) -> EventLoopFuture<Int64> {
        append(
            id, update: update, values: update.count, maxDocumentBytes: maxDocumentBytes, maxDocumentValues: maxDocumentValues,
            onlyIfEmpty: false, on: loop
        ).map(\.sequence)
    }

    /// Counts the snapshot's bytes as its values (a bound on them): the relay calls the shared variant.
    public func compact(_ id: String, snapshot: [UInt8], through sequence: Int64, on loop: any EventLoop) -> EventLoopFuture<Void> {
        compact(id, snapshot: snapshot, values: snapshot.count, through: sequence, on: loop)
    }

    public func compact(_ id: String, snapshot: [UInt8], values: Int, through sequence: Int64, on loop: any EventLoop)
        -> EventLoopFuture<Void>
    {
        checked(id, on: loop) {
            guard sequence >= 0 else {
                return loop.makeFailedFuture(DocumentStoreError(.invalidArgument, "compaction through a negative sequence (\(sequence))"))
            }
            let arguments: [any RedisArgument] = [YjsUpdateText.encode(snapshot), snapshot.count, sequence, ttlSeconds, values]
            return RedisDocumentScripts.compact.run(on: client, keys: keys.log(id), arguments: arguments).hop(to: loop)
                .flatMapThrowing { reply in
                    guard let answer = reply.integer else { throw RedisError(.protocolError, "compaction answered \(reply)") }
                    guard answer >= 0 else {
                        throw DocumentStoreError(.invalidArgument, "compaction through sequence \(sequence), beyond the last update")
                    }
                }
        }
    }

    public func delete(_ id: String, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        checked(id, on: loop) {
            let all = keys.log(id) + [keys.users(id), keys.writers(id)]
            return RedisDocumentScripts.delete.run(on: client, keys: all, arguments: []).hop(to: loop).map { $0.integer == 1 }
        }
    }

    /// Expiry does the retention's work (see the type's comment): nothing to purge.
    public func purge(untouchedFor seconds: Double, on loop: any EventLoop) -> EventLoopFuture<Int> {
        loop.makeSucceededFuture(0)
    }

    /// The client belongs to its owner (the Redis link), who closes it.
    public func close() async {}

    // MARK: SharedDocumentStore

    public func append(
        _ id: String, update: [UInt8], values: Int, maxDocumentBytes budget: Int, maxDocumentValues valueBudget: Int,
        onlyIfEmpty: Bool = false, on loop: any EventLoop
    ) -> EventLoopFuture<SharedAppendReceipt> {
        checked(id, on: loop) {
            let arguments: [any RedisArgument] = [
                YjsUpdateText.encode(update), update.count, budget, ttlSeconds, values, min(valueBudget, Self.largestExactInteger),
                onlyIfEmpty ? "1" : "0",
            ]
            return RedisDocumentScripts.append.run(on: client, keys: keys.log(id), arguments: arguments).hop(to: loop)
                .flatMapThrowing { reply in
                    if reply.integer == -1 {
                        throw DocumentStoreError(.documentFull, "the document would pass its budget of bytes or values")
                    }
                    if reply.integer == -2 { throw DocumentStoreError(.notEmpty, "the document has updates already") }
                    guard let parts = reply.array?.compactMap(\.integer), parts.count == 3 else {
                        throw RedisError(.protocolError, "append answered \(reply)")
                    }
                    return SharedAppendReceipt(sequence: parts[0], logUpdates: Int(parts[1]), logBytes: Int(parts[2]))
                }
        }
    }

    public func addEditor(_ id: String, socketID: String, canWrite: Bool, on loop: any EventLoop) -> EventLoopFuture<Void> {
        var commands = [
            RedisCommand("SADD", keys.users(id), socketID),
            RedisCommand("SADD", keys.documents(ofSession: socketID), id),
        ]
        if canWrite { commands.append(RedisCommand("SADD", keys.writers(id), socketID)) }
        return checked(id, on: loop) { run(commands, on: loop) }
    }

    public func removeEditor(_ id: String, socketID: String, on loop: any EventLoop) -> EventLoopFuture<Void> {
        checked(id, on: loop) {
            run(
                [
                    RedisCommand("SREM", keys.users(id), socketID),
                    RedisCommand("SREM", keys.writers(id), socketID),
                    RedisCommand("SREM", keys.documents(ofSession: socketID), id),
                ], on: loop)
        }
    }

    public func writers(_ id: String, on loop: any EventLoop) -> EventLoopFuture<[String]> {
        checked(id, on: loop) {
            client.send(RedisCommand("SMEMBERS", keys.writers(id))).hop(to: loop).map { reply in
                (reply.array ?? []).compactMap(\.string).sorted()
            }
        }
    }

    // MARK: Helpers

    /// Lua's numbers are doubles: budgets above 2^53 are the same as none.
    public static let largestExactInteger = 1 << 53

    /// Runs `body` for a valid id; an invalid one fails as the other stores fail it.
    private func checked<Value>(_ id: String, on loop: any EventLoop, _ body: () -> EventLoopFuture<Value>) -> EventLoopFuture<Value> {
        do throws(DocumentStoreError) {
            try DocumentID.validate(id)
        } catch {
            return loop.makeFailedFuture(error)
        }
        return body()
    }

    /// Sends `commands` together; fails with the first failure.
    private func run(_ commands: [RedisCommand], on loop: any EventLoop) -> EventLoopFuture<Void> {
        client.send(batch: commands).hop(to: loop).flatMapThrowing { results in
            for result in results { _ = try result.get() }
        }
    }

    /// The load script's answer as a document: nil, -1 (past the bounds) or {sequence, elements}.
    static func document(from reply: RedisValue) throws -> StoredDocument? {
        if reply.isNull { return nil }
        if reply.integer == -1 { throw DocumentStoreError(.tooLarge, "the stored document is past the bounds of a load") }
        guard let parts = reply.array, parts.count == 2, let base = parts[0].integer, let elements = parts[1].array else {
            throw RedisError(.protocolError, "load answered an unexpected reply")
        }
        var texts = try elements.map { element throws -> [UInt8] in
            guard let text = element.bytes else { throw DocumentStoreError(.corruptDocument, "a stored update is not a string") }
            return try YjsUpdateText.decode(text)
        }
        var snapshot: [UInt8]?
        if base > 0, !texts.isEmpty { snapshot = texts.removeFirst() }
        let updates = texts.enumerated().map { (sequence: base + Int64($0.offset) + 1, bytes: $0.element) }
        return StoredDocument(snapshot: snapshot, snapshotSequence: base, updates: updates)
    }
}
