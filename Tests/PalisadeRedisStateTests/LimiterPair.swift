import NIOCore
import PalisadeRedisState
import PalisadeState
import Testing

/// The memory limiter and the Redis one fed the same hits at the same explicit times: `hit`
/// records an issue whenever their answers differ, and returns the (common) answer.
struct LimiterPair {
    let memory = MemoryRateLimiter()
    let redis: RedisRateLimiter
    let loop: any EventLoop

    init(_ fixture: RedisFixture) {
        redis = RedisRateLimiter(client: fixture.client)
        loop = fixture.callerLoop
    }

    @discardableResult
    func hit(
        _ key: String = "k", at now: Int64, limit: Int, window: Double, bucket: Double? = nil, countRefused: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> RateLimitResult {
        let fromMemory = try memory.hit(key, limit: limit, window: window, bucket: bucket, countRefused: countRefused, now: now)
        let fromRedis = try await redis.hit(
            key, limit: limit, window: window, bucket: bucket, countRefused: countRefused, now: now, on: loop
        ).get()
        #expect(fromRedis == fromMemory, "hit on \(key) at \(now)", sourceLocation: sourceLocation)
        return fromMemory
    }
}
