import NIOCore
import PalisadeRedis
import PalisadeState

/// A `StateStore` that is Redis while its client is up and memory while it is not, so `px.store`
/// keeps answering during an outage, with the same semantics and nothing waiting longer than the
/// client's command timeout.
///
/// What is guaranteed, and what not:
/// - While the client is up, every call goes to Redis. A call that then fails for want of Redis
///   (the connection drops, the command times out) is answered by memory instead. Such a call
///   may or may not have been applied in Redis too: an `incr` or `set` in flight when Redis dies
///   can land in both.
/// - While the client is down (or connecting), every call is answered by memory at once; `getNow`
///   answers from memory too.
/// - Nothing moves between the two. Keys written in memory during an outage are not copied to
///   Redis when it returns (they become invisible, and visible again in a later outage while
///   their TTL lasts); keys in Redis are not visible during an outage, and are there again after
///   it if Redis kept them. A counter can therefore restart from zero in memory and go back to
///   its Redis value afterwards. During an outage each instance has its own memory, so a value
///   is shared by nobody else.
/// - Errors that are answers (`StateError`: a bad TTL, not an integer, overflow; an error reply
///   from a Redis that is up) are passed on, not retried in memory.
public final class FallbackStateStore: StateStore {
    public let redis: RedisStateStore
    public let memory: any StateStore

    public init(redis: RedisStateStore, memory: any StateStore) {
        self.redis = redis
        self.memory = memory
    }

    /// Whether calls go to Redis right now.
    public var usesRedis: Bool { RedisAvailability.isUp(redis.client) }

    public func get(_ key: String, on loop: any EventLoop) -> EventLoopFuture<String?> {
        route(on: loop, redis: { self.redis.get(key, on: loop) }, memory: { self.memory.get(key, on: loop) })
    }

    public func getNow(_ key: String) -> String?? {
        guard !usesRedis else { return nil }
        RedisMetrics.shared.state.fallbacks.increment()
        return memory.getNow(key)
    }

    public func set(_ key: String, to value: String, ttl: Double?, on loop: any EventLoop) -> EventLoopFuture<Void> {
        route(
            on: loop, redis: { self.redis.set(key, to: value, ttl: ttl, on: loop) },
            memory: { self.memory.set(key, to: value, ttl: ttl, on: loop) })
    }

    public func incr(_ key: String, by delta: Int64, ttl: Double?, on loop: any EventLoop) -> EventLoopFuture<Int64> {
        route(
            on: loop, redis: { self.redis.incr(key, by: delta, ttl: ttl, on: loop) },
            memory: { self.memory.incr(key, by: delta, ttl: ttl, on: loop) })
    }

    public func del(_ key: String, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        route(on: loop, redis: { self.redis.del(key, on: loop) }, memory: { self.memory.del(key, on: loop) })
    }

    public func hset(_ key: String, field: String, to value: String, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        route(
            on: loop, redis: { self.redis.hset(key, field: field, to: value, on: loop) },
            memory: { self.memory.hset(key, field: field, to: value, on: loop) })
    }

    public func hget(_ key: String, field: String, on loop: any EventLoop) -> EventLoopFuture<String?> {
        route(
            on: loop, redis: { self.redis.hget(key, field: field, on: loop) },
            memory: { self.memory.hget(key, field: field, on: loop) })
    }

    public func hdel(_ key: String, fields: [String], on loop: any EventLoop) -> EventLoopFuture<Int> {
        route(
            on: loop, redis: { self.redis.hdel(key, fields: fields, on: loop) },
            memory: { self.memory.hdel(key, fields: fields, on: loop) })
    }

    public func hgetall(_ key: String, maxFields: Int, on loop: any EventLoop) -> EventLoopFuture<[HashField]> {
        route(
            on: loop, redis: { self.redis.hgetall(key, maxFields: maxFields, on: loop) },
            memory: { self.memory.hgetall(key, maxFields: maxFields, on: loop) })
    }

    /// A walk begun on one side and continued on the other sees that side's fields from the
    /// cursor on; a cleanup walk is only ever short of some fields until its next walk.
    public func hscan(_ key: String, cursor: String, count: Int, on loop: any EventLoop) -> EventLoopFuture<HashScanPage> {
        route(
            on: loop, redis: { self.redis.hscan(key, cursor: cursor, count: count, on: loop) },
            memory: { self.memory.hscan(key, cursor: cursor, count: count, on: loop) })
    }

    public func setIfAbsent(_ key: String, to value: String, ttl: Double, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        route(
            on: loop, redis: { self.redis.setIfAbsent(key, to: value, ttl: ttl, on: loop) },
            memory: { self.memory.setIfAbsent(key, to: value, ttl: ttl, on: loop) })
    }

    /// A lock taken in Redis is not held in memory: during an outage its holder's writes are
    /// refused until it takes the lock again (fail closed).
    public func writeIfHeld(
        guardKey: String, expected: String, key: String, value: String?, ttl: Double?, on loop: any EventLoop
    ) -> EventLoopFuture<Bool> {
        route(
            on: loop,
            redis: { self.redis.writeIfHeld(guardKey: guardKey, expected: expected, key: key, value: value, ttl: ttl, on: loop) },
            memory: { self.memory.writeIfHeld(guardKey: guardKey, expected: expected, key: key, value: value, ttl: ttl, on: loop) })
    }

    private func route<Value: Sendable>(
        on loop: any EventLoop,
        redis: () -> EventLoopFuture<Value>,
        memory: @escaping @Sendable () -> EventLoopFuture<Value>
    ) -> EventLoopFuture<Value> {
        let metrics = RedisMetrics.shared.state
        guard usesRedis else {
            metrics.fallbacks.increment()
            return memory()
        }
        return metrics.timed(redis).flatMapError { error in
            guard RedisAvailability.isOutage(error) else { return loop.makeFailedFuture(error) }
            metrics.fallbacks.increment()
            return memory()
        }
    }
}
