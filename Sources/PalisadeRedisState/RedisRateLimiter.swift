import NIOCore
import PalisadeRedis
import PalisadeState

/// `RateLimiter` on Redis with `MemoryRateLimiter`'s semantics, answer for answer: the same
/// bucket geometry (`RateLimitGeometry`, the same `maxBucketsPerWindow`), the same per-bucket
/// count and first/last hit, `countRefused`, `retryAfter` exact to the millisecond, and the
/// count carried over when a key's window or bucket changes. Each hit is one server-side script
/// (`RateLimitScript`) in one round trip, so hits from any number of instances on one key are
/// decided one at a time against one count; the buckets live in a hash under the key as given
/// (the caller adds the prefix), with a TTL of the window.
///
/// Bounds: a key's hash holds its geometry, its latest time and at most `maxBucketsPerWindow + 1`
/// buckets, and disappears a window after its last hit. There is no bound on the number of keys
/// here, unlike `MemoryRateLimiter.Configuration.maxKeys`: Redis's `maxmemory` and its policy
/// govern that (a key with a TTL is what `volatile-ttl` evicts first). A key written by
/// something else with another type fails the hit with Redis's `WRONGTYPE` error.
///
/// ## Whose clock
///
/// By default the Redis server's (`TIME` inside the script). Instances on different machines
/// must place their hits on one timeline: each one's monotonic clock has its own origin, and
/// wall clocks drift apart by more than the millisecond `retryAfter` is exact to, so a lagging
/// instance's hits would land in the past and leave the window early. One clock, read where the
/// count is kept, has none of that. Redis 5 and later replicate a script's effects rather than
/// the script, so reading the time in a script that writes is allowed (the script also calls
/// `redis.replicate_commands()` for Redis 3.2–4). If the server's clock steps back, a key's time
/// does not: the hash keeps the latest time seen, as the memory limiter does.
///
/// `.caller(clock)` passes the caller's time instead; `hit(…, now:)` passes an explicit one.
/// Both are for tests that replay the same hits into this limiter and the memory one.
public final class RedisRateLimiter: RateLimiter {
    public enum TimeSource: Sendable {
        /// The Redis server's clock (`TIME`): what instances sharing a limit must use.
        case server
        /// This clock, in milliseconds, sent with each hit.
        case caller(StateClock)
    }

    public let client: RedisClient
    public let timeSource: TimeSource
    /// As `MemoryRateLimiter.Configuration.maxBucketsPerWindow` (default 100); give both the same
    /// value, or a key's buckets differ between them.
    public let maxBucketsPerWindow: Int

    static let script = RedisScript(RateLimitScript.source)

    public init(client: RedisClient, timeSource: TimeSource = .server, maxBucketsPerWindow: Int = 100) {
        precondition(maxBucketsPerWindow >= 1)
        self.client = client
        self.timeSource = timeSource
        self.maxBucketsPerWindow = maxBucketsPerWindow
    }

    public func hit(
        _ key: String,
        limit: Int,
        window: Double,
        bucket: Double?,
        countRefused: Bool,
        on loop: any EventLoop
    ) -> EventLoopFuture<RateLimitResult> {
        let now: Int64? =
            switch timeSource {
            case .server: nil
            case .caller(let clock): clock.milliseconds()
            }
        return hit(key, limit: limit, window: window, bucket: bucket, countRefused: countRefused, now: now, on: loop)
    }

    /// A hit at `now` (milliseconds), or on the server's clock when nil.
    public func hit(
        _ key: String, limit: Int, window: Double, bucket: Double?, countRefused: Bool, now: Int64?, on loop: any EventLoop
    ) -> EventLoopFuture<RateLimitResult> {
        let geometry: RateLimitGeometry
        do {
            guard limit >= 1, limit <= Int(UInt32.max) else {
                throw StateError(.invalidArgument, "limit must be an integer in [1, \(UInt32.max)], got \(limit)")
            }
            geometry = try RateLimitGeometry(window: window, bucket: bucket, maxBuckets: maxBucketsPerWindow)
        } catch {
            return loop.makeFailedFuture(error)
        }
        let arguments: [any RedisArgument] = [
            limit, geometry.windowMs, geometry.bucketMs, countRefused ? "1" : "0", now.map { String($0) } ?? "",
        ]
        return Self.script.run(on: client, keys: [key], arguments: arguments).hop(to: loop).flatMapThrowing { reply in
            guard let values = reply.array, values.count == 3,
                let allowed = values[0].integer, let remaining = values[1].integer, let retryMs = values[2].integer
            else { throw RedisError(.protocolError, "the rate-limit script answered \(reply)") }
            return RateLimitResult(allowed: allowed == 1, remaining: Int(remaining), retryAfter: Double(retryMs) / 1000)
        }
    }
}
