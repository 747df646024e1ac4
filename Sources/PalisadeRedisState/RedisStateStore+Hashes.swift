import NIOCore
import PalisadeRedis
import PalisadeState

/// The hash operations on Redis: `HSET`, `HGET`, `HDEL`, `HSCAN`, and `hgetall` as a script
/// that counts the fields (`HLEN`) before `HGETALL`, so an oversized hash is refused in Redis
/// and never crosses the network. `WRONGTYPE` becomes `StateError.Code.wrongType`, as in memory.
extension RedisStateStore {
    static let boundedHashScript = RedisScript(
        """
        local count = redis.call('HLEN', KEYS[1])
        if count > tonumber(ARGV[1]) then return redis.error_reply('TOOLARGE ' .. count) end
        return redis.call('HGETALL', KEYS[1])
        """)

    public func hset(_ key: String, field: String, to value: String, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        let cost = key.utf8.count + field.utf8.count + value.utf8.count + 64
        guard cost <= maxEntryBytes else {
            return loop.makeFailedFuture(
                StateError(.entryTooLarge, "key, field and value take \(cost) bytes, the limit is \(maxEntryBytes)"))
        }
        return hashCommand(RedisCommand("HSET", key, field, value), on: loop) { reply in
            guard let added = reply.integer else { throw RedisError(.protocolError, "HSET answered \(reply)") }
            return added > 0
        }
    }

    public func hget(_ key: String, field: String, on loop: any EventLoop) -> EventLoopFuture<String?> {
        hashCommand(RedisCommand("HGET", key, field), on: loop) { reply in
            if reply.isNull { return nil }
            guard let value = reply.string else { throw RedisError(.protocolError, "HGET answered \(reply)") }
            return value
        }
    }

    public func hdel(_ key: String, fields: [String], on loop: any EventLoop) -> EventLoopFuture<Int> {
        guard !fields.isEmpty else { return loop.makeSucceededFuture(0) }
        return hashCommand(RedisCommand("HDEL", arguments: [key] + fields), on: loop) { reply in
            guard let removed = reply.integer else { throw RedisError(.protocolError, "HDEL answered \(reply)") }
            return Int(removed)
        }
    }

    public func hgetall(_ key: String, maxFields: Int, on loop: any EventLoop) -> EventLoopFuture<[HashField]> {
        Self.boundedHashScript.run(on: client, keys: [key], arguments: [maxFields])
            .flatMapErrorThrowing { error in
                if let error = error as? RedisError, error.code == .server, error.message.hasPrefix("TOOLARGE") {
                    let count = error.message.dropFirst("TOOLARGE ".count)
                    throw StateError(.tooLarge, "hash has \(count) fields, more than the limit of \(maxFields)")
                }
                throw Self.mapTypeError(error)
            }
            .hop(to: loop)
            .flatMapThrowing { reply in try Self.fields(of: reply, "HGETALL") }
    }

    public func hscan(_ key: String, cursor: String, count: Int, on loop: any EventLoop) -> EventLoopFuture<HashScanPage> {
        hashCommand(RedisCommand("HSCAN", key, cursor, "COUNT", max(count, 1)), on: loop) { reply in
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string else {
                throw RedisError(.protocolError, "HSCAN answered \(reply)")
            }
            return HashScanPage(cursor: next, fields: try Self.fields(of: parts[1], "HSCAN"))
        }
    }

    /// Sends `command`, maps `WRONGTYPE`, and reads the reply on `loop`.
    private func hashCommand<Value: Sendable>(
        _ command: RedisCommand, on loop: any EventLoop, read: @escaping @Sendable (RedisValue) throws -> Value
    ) -> EventLoopFuture<Value> {
        client.send(command)
            .flatMapErrorThrowing { error in throw Self.mapTypeError(error) }
            .hop(to: loop)
            .flatMapThrowing(read)
    }

    /// A flat `[field, value, field, value, …]` reply as fields.
    private static func fields(of reply: RedisValue, _ command: String) throws -> [HashField] {
        guard let items = reply.array, items.count % 2 == 0 else { throw RedisError(.protocolError, "\(command) answered \(reply)") }
        return try stride(from: 0, to: items.count, by: 2).map { index in
            guard let field = items[index].string, let value = items[index + 1].string else {
                throw RedisError(.protocolError, "\(command) answered \(reply)")
            }
            return HashField(field, value)
        }
    }
}
