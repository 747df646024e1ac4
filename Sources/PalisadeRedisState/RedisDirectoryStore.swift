import NIOConcurrencyHelpers
import NIOCore
import PalisadeDirectory
import PalisadeJSON
import PalisadeRedis

/// `DirectoryStore` on Redis, shared by every instance: one hash per kind,
/// `{prefix}:palisade:directory:{kind}`, field = the id's bytes, value = the record's JSON text
/// as `DirectoryRecord.encode` writes it (so a record reads back byte for byte, as from SQLite).
///
/// Every operation is one command (`HGET`, `HMGET`, `HSET`, `HDEL`, `HKEYS`); kinds, ids and
/// records are checked before Redis is reached, with the same errors as the other backends.
/// Redis being down or slow is a `storageFailure`; a policy reading then fails closed.
/// Futures complete on the loop a call names.
public final class RedisDirectoryStore: DirectoryStore {
    private let client: RedisClient
    private let prefix: String
    private let isOpen = NIOLockedValueBox(true)

    /// - Parameter prefix: the keys' prefix (`redis.prefix`, `open-webui` by default).
    public init(client: RedisClient, prefix: String) {
        self.client = client
        self.prefix = prefix
    }

    /// The hash that holds the records of `kind`.
    public func key(of kind: String) -> String { "\(prefix):palisade:directory:\(kind)" }

    public func get(kind: String, id: String, on loop: any EventLoop) -> EventLoopFuture<JSONValue?> {
        run(
            on: loop, RedisCommand("HGET", key(of: kind), id),
            check: { () throws(DirectoryError) in
                try DirectoryKey.validate(kind: kind, id: id)
            }
        ) { reply throws(DirectoryError) in
            try Self.record(reply)
        }
    }

    public func getMany(kind: String, ids: [String], on loop: any EventLoop) -> EventLoopFuture<[String: JSONValue]> {
        guard !ids.isEmpty else {
            return loop.makeCompletedFuture { () throws -> [String: JSONValue] in
                try DirectoryKey.validate(kind: kind, ids: ids)
                try self.checkOpen()
                return [:]
            }
        }
        let command = RedisCommand("HMGET", arguments: [key(of: kind)] + ids)
        return run(
            on: loop, command,
            check: { () throws(DirectoryError) in
                try DirectoryKey.validate(kind: kind, ids: ids)
            }
        ) { reply throws(DirectoryError) in
            guard let values = reply.array, values.count == ids.count else {
                throw DirectoryError(.storageFailure, "HMGET answered \(reply.array?.count ?? -1) values for \(ids.count) ids")
            }
            var records: [String: JSONValue] = [:]
            for (id, value) in zip(ids, values) {
                if let record = try Self.record(value) { records[id] = record }
            }
            return records
        }
    }

    public func put(kind: String, id: String, record: JSONValue, on loop: any EventLoop) -> EventLoopFuture<Void> {
        let text: String
        do throws(DirectoryError) {
            try DirectoryKey.validate(kind: kind, id: id)
            text = try DirectoryRecord.encode(record)
        } catch {
            return loop.makeFailedFuture(error)
        }
        return run(on: loop, RedisCommand("HSET", key(of: kind), id, text), check: {}) { _ throws(DirectoryError) in }
    }

    public func delete(kind: String, id: String, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        run(
            on: loop, RedisCommand("HDEL", key(of: kind), id),
            check: { () throws(DirectoryError) in
                try DirectoryKey.validate(kind: kind, id: id)
            }
        ) { reply throws(DirectoryError) in
            (reply.integer ?? 0) > 0
        }
    }

    public func list(kind: String, on loop: any EventLoop) -> EventLoopFuture<[String]> {
        run(
            on: loop, RedisCommand("HKEYS", key(of: kind)),
            check: { () throws(DirectoryError) in
                try DirectoryKey.validate(kind: kind)
            }
        ) { reply throws(DirectoryError) in
            let ids = (reply.array ?? []).compactMap { $0.bytes.map { Array($0.readableBytesView) } }
            return ids.sorted { $0.lexicographicallyPrecedes($1) }.map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// Later calls fail with `closed`; the client belongs to the caller and stays open.
    public func close() async {
        isOpen.withLockedValue { $0 = false }
    }

    // MARK: Helpers

    private func checkOpen() throws(DirectoryError) {
        guard isOpen.withLockedValue({ $0 }) else { throw DirectoryError(.closed, "the directory store is closed") }
    }

    /// Checks, sends `command`, and reads its reply on `loop`; Redis's failures become `storageFailure`.
    private func run<Value: Sendable>(
        on loop: any EventLoop, _ command: RedisCommand, check: () throws(DirectoryError) -> Void,
        read: @escaping @Sendable (RedisValue) throws(DirectoryError) -> Value
    ) -> EventLoopFuture<Value> {
        do throws(DirectoryError) {
            try check()
            try checkOpen()
        } catch {
            return loop.makeFailedFuture(error)
        }
        return client.send(command).hop(to: loop).flatMapErrorThrowing { error in
            throw DirectoryError(.storageFailure, "Redis: \(error)")
        }.flatMapThrowing { reply in try read(reply) }
    }

    /// A stored record, or nil for Redis's nil.
    private static func record(_ reply: RedisValue) throws(DirectoryError) -> JSONValue? {
        guard let buffer = reply.bytes else { return nil }
        let result = buffer.withUnsafeReadableBytes { raw in
            Result { () throws(DirectoryError) in try DirectoryRecord.decode(raw.bindMemory(to: UInt8.self)) }
        }
        return try result.get()
    }
}
