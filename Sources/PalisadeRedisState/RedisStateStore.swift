import NIOCore
import PalisadeRedis
import PalisadeState

/// `StateStore` on Redis: `GET`, `SET [PX]`, `DEL`, and `incr` as one small script (`INCRBY`,
/// then `PEXPIRE` only when the key was absent), so a counter is created with its TTL atomically
/// and an existing one keeps its own, as `MemoryStateStore` does.
///
/// Keys are sent exactly as given (the caller adds the prefix). Arguments are validated here as
/// the memory store validates them (`Seconds`, `maxEntryBytes`), so both backends refuse the same
/// calls with the same `StateError`; Redis's own refusals of `INCRBY` (not an integer, overflow)
/// are mapped to the memory store's codes. Connection failures stay `RedisError`s: see
/// `FallbackStateStore` for what happens then. `getNow` answers nil: a read must wait for Redis.
///
/// Futures complete on the loop a call names.
public final class RedisStateStore: StateStore {
    public let client: RedisClient
    /// Largest key plus value a `set` accepts (UTF-8 bytes plus the memory store's 64 per entry),
    /// else `entryTooLarge`. Default 1 MiB, as the memory store's.
    public let maxEntryBytes: Int

    /// Returns the new value as the stored string (GET), not INCRBY's reply: a script's integers
    /// pass through Lua's doubles, which are exact only up to 2^53.
    static let incrScript = RedisScript(
        """
        local created = redis.call('EXISTS', KEYS[1]) == 0
        redis.call('INCRBY', KEYS[1], ARGV[1])
        if created and ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return redis.call('GET', KEYS[1])
        """)

    public init(client: RedisClient, maxEntryBytes: Int = 1 << 20) {
        self.client = client
        self.maxEntryBytes = maxEntryBytes
    }

    public func get(_ key: String, on loop: any EventLoop) -> EventLoopFuture<String?> {
        client.send(RedisCommand("GET", key)).hop(to: loop).flatMapThrowing { reply in
            switch reply {
            case .null: return nil
            case .bulkString(let bytes): return String(buffer: bytes)
            default: throw RedisError(.protocolError, "GET answered \(reply)")
            }
        }
        .flatMapErrorThrowing { error in throw Self.mapTypeError(error) }
    }

    public func set(_ key: String, to value: String, ttl: Double?, on loop: any EventLoop) -> EventLoopFuture<Void> {
        let command: RedisCommand
        do {
            try checkEntry(key, value)
            if let ttl {
                command = RedisCommand("SET", key, value, "PX", try Seconds.milliseconds(ttl, "ttl"))
            } else {
                command = RedisCommand("SET", key, value)
            }
        } catch {
            return loop.makeFailedFuture(error)
        }
        return client.send(command).hop(to: loop).map { _ in }
    }

    public func incr(_ key: String, by delta: Int64, ttl: Double?, on loop: any EventLoop) -> EventLoopFuture<Int64> {
        let ttlArgument: String
        do {
            ttlArgument = try ttl.map { try String(Seconds.milliseconds($0, "ttl")) } ?? ""
        } catch {
            return loop.makeFailedFuture(error)
        }
        return Self.incrScript.run(on: client, keys: [key], arguments: [delta, ttlArgument])
            .flatMapErrorThrowing { error in throw Self.mapIncrError(error) }
            .hop(to: loop)
            .flatMapThrowing { reply in
                guard let value = reply.string.flatMap({ Int64($0) }) else {
                    throw RedisError(.protocolError, "incr answered \(reply)")
                }
                return value
            }
    }

    public func del(_ key: String, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        client.send(RedisCommand("DEL", key)).hop(to: loop).flatMapThrowing { reply in
            guard let removed = reply.integer else { throw RedisError(.protocolError, "DEL answered \(reply)") }
            return removed > 0
        }
    }

    /// Refuses a key and value larger than `maxEntryBytes` (counted as the memory store counts).
    func checkEntry(_ key: String, _ value: String) throws {
        let cost = key.utf8.count + value.utf8.count + 64
        guard cost <= maxEntryBytes else {
            throw StateError(.entryTooLarge, "key and value take \(cost) bytes, the limit is \(maxEntryBytes)")
        }
    }

    /// Redis's refusals of `INCRBY` as the memory store's codes.
    static func mapIncrError(_ error: any Error) -> any Error {
        guard let error = error as? RedisError, error.code == .server else { return error }
        if error.message.contains("overflow") { return StateError(.overflow, "increment or decrement would overflow") }
        if error.message.contains("not an integer") { return StateError(.notAnInteger, "value is not an integer or out of range") }
        return mapTypeError(error)
    }

    /// Redis's `WRONGTYPE` (a string operation on a hash, or the other way) as the memory store's
    /// `wrongType`; other errors unchanged.
    static func mapTypeError(_ error: any Error) -> any Error {
        guard let error = error as? RedisError, error.code == .server, error.message.hasPrefix("WRONGTYPE") else { return error }
        return StateError(.wrongType, "operation against a key holding the wrong kind of value")
    }
}
