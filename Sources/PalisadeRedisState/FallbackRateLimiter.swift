import NIOCore
import PalisadeRedis
import PalisadeState

/// A `RateLimiter` that is Redis while its client is up and memory while it is not, so
/// `px.ratelimit` keeps deciding during an outage, by the same formula, and no hit waits longer
/// than the client's command timeout.
///
/// What is guaranteed, and what not:
/// - While the client is up, every hit is decided by Redis, against the count all instances
///   share. A hit that fails for want of Redis (the connection drops, the command times out) is
///   decided by memory instead; it may also have been counted in Redis.
/// - While the client is down (or connecting), every hit is decided by this process's memory at
///   once (`hitNow` too), with the same semantics but a count of its own: during an outage each
///   instance allows up to `limit` per window by itself.
/// - Counts do not move between the two: hits counted in memory during an outage are not added
///   to Redis when it returns, and Redis's count (if it kept it) applies again as it was, less
///   what has left its window meanwhile. Memory's count is kept for a later outage while its
///   window lasts.
/// - Argument errors (`StateError.invalidArgument`) are passed on, as from either backend.
public final class FallbackRateLimiter: RateLimiter {
    public let redis: RedisRateLimiter
    public let memory: any RateLimiter

    public init(redis: RedisRateLimiter, memory: any RateLimiter) {
        self.redis = redis
        self.memory = memory
    }

    /// Whether hits go to Redis right now.
    public var usesRedis: Bool { RedisAvailability.isUp(redis.client) }

    public func hit(
        _ key: String,
        limit: Int,
        window: Double,
        bucket: Double?,
        countRefused: Bool,
        on loop: any EventLoop
    ) -> EventLoopFuture<RateLimitResult> {
        let memory = self.memory
        let metrics = RedisMetrics.shared.rateLimit
        let fromMemory: @Sendable () -> EventLoopFuture<RateLimitResult> = {
            metrics.fallbacks.increment()
            return memory.hit(key, limit: limit, window: window, bucket: bucket, countRefused: countRefused, on: loop)
        }
        guard usesRedis else { return fromMemory() }
        return metrics.timed {
            redis.hit(key, limit: limit, window: window, bucket: bucket, countRefused: countRefused, on: loop)
        }.flatMapError { error in
            RedisAvailability.isOutage(error) ? fromMemory() : loop.makeFailedFuture(error)
        }
    }

    public func hitNow(
        _ key: RateLimitKey, limit: Int, window: Double, bucket: Double?, countRefused: Bool
    ) throws(StateError) -> RateLimitResult? {
        guard !usesRedis else { return nil }
        RedisMetrics.shared.rateLimit.fallbacks.increment()
        return try memory.hitNow(key, limit: limit, window: window, bucket: bucket, countRefused: countRefused)
    }
}
