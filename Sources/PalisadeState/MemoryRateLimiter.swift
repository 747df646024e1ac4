import NIOCore
import Synchronization

/// The embedded `RateLimiter` (semantics there): process memory, safe from every event loop,
/// bounded in keys and in state per key.
///
/// Keys are spread over lock-striped shards by a per-process seeded hash of their bytes; a lock
/// is held for one key's arithmetic (O(window / bucket)) and never while calling out.
///
/// Bounds: a key keeps at most `maxBucketsPerWindow + 1` counters. At most `maxKeys` keys are
/// kept; a new key beyond that evicts an idle key (nothing left in its window, so forgetting it
/// changes no answer) from the least recently hit end, or failing that the least recently hit
/// key, whose count is lost. `sweep(now:)` forgets idle keys ahead of need.
///
/// A call on a known key with a different window or bucket carries the key's current count into
/// the new geometry, placed at its latest counted hit (see `SlidingWindow.carried`): a reload that
/// retunes a limit neither resets a flood nor blocks a client for longer than the new window.
public final class MemoryRateLimiter: RateLimiter {
    public struct Configuration: Sendable {
        /// Most keys kept. Default 1,000,000: with the default ten buckets a key takes about
        /// 250–350 bytes (key, table slot, 11 buckets of 12 bytes), so a few hundred MB at worst. Enforced per shard
        /// (`maxKeys / shardCount` each).
        public var maxKeys: Int
        /// Most buckets per window: the bucket is raised to at least `window / maxBucketsPerWindow`.
        /// Default 100, which keeps a key's buckets under 1.3 KB whatever bucket a policy asks for.
        public var maxBucketsPerWindow: Int
        /// Lock stripes. Default 16 (see `MemoryStateStore.Configuration.shardCount`).
        public var shardCount: Int

        public init(maxKeys: Int = 1_000_000, maxBucketsPerWindow: Int = 100, shardCount: Int = 16) {
            self.maxKeys = maxKeys
            self.maxBucketsPerWindow = maxBucketsPerWindow
            self.shardCount = shardCount
        }
    }

    public let configuration: Configuration
    private let clock: StateClock
    private let shards: [Shard]

    public init(configuration: Configuration = .init(), clock: StateClock = .monotonic) {
        precondition(configuration.maxKeys >= 1 && configuration.maxBucketsPerWindow >= 1 && configuration.shardCount >= 1)
        let shardCount = min(configuration.shardCount, configuration.maxKeys)
        self.configuration = configuration
        self.clock = clock
        self.shards = (0..<shardCount).map { _ in Shard(LimiterShard(maxKeys: configuration.maxKeys / shardCount)) }
    }

    public func hit(
        _ key: String,
        limit: Int,
        window: Double,
        bucket: Double?,
        countRefused: Bool,
        on loop: any EventLoop
    ) -> EventLoopFuture<RateLimitResult> {
        loop.makeCompletedFuture(withResultOf: {
            try hit(key, limit: limit, window: window, bucket: bucket, countRefused: countRefused, now: clock.milliseconds())
        })
    }

    public func hitNow(
        _ key: RateLimitKey, limit: Int, window: Double, bucket: Double?, countRefused: Bool
    ) throws(StateError) -> RateLimitResult? {
        try hit(key.key, limit: limit, window: window, bucket: bucket, countRefused: countRefused, now: clock.milliseconds())
    }

    /// The same, synchronously, at `now` (milliseconds on this limiter's clock).
    public func hit(
        _ key: String,
        limit: Int,
        window: Double,
        bucket: Double? = nil,
        countRefused: Bool,
        now: Int64
    ) throws(StateError) -> RateLimitResult {
        try hit(ByteKey(key), limit: limit, window: window, bucket: bucket, countRefused: countRefused, now: now)
    }

    private func hit(
        _ key: ByteKey, limit: Int, window: Double, bucket: Double?, countRefused: Bool, now: Int64
    ) throws(StateError) -> RateLimitResult {
        guard limit >= 1, limit <= Int(UInt32.max) else {
            throw StateError(.invalidArgument, "limit must be an integer in [1, \(UInt32.max)], got \(limit)")
        }
        let geometry = try RateLimitGeometry(window: window, bucket: bucket, maxBuckets: configuration.maxBucketsPerWindow)
        return shard(key).state.withLock {
            $0.hit(key, geometry: geometry, limit: limit, countRefused: countRefused, now: now)
        }
    }

    /// Keys kept now, shard by shard.
    public var count: Int {
        shards.reduce(0) { total, shard in total + shard.state.withLock { $0.count } }
    }

    /// Forgets idle keys (default time: the limiter's clock); returns how many. Walks each
    /// shard from its least recently hit end and stops after a run of live keys, so it costs
    /// about what it frees.
    @discardableResult
    public func sweep(now: Int64? = nil) -> Int {
        let now = now ?? clock.milliseconds()
        return shards.reduce(0) { total, shard in total + shard.state.withLock { $0.sweep(now: now) } }
    }

    /// Runs `sweep()` on `loop` every `interval`; cancel the returned task to stop.
    public func scheduleSweeps(on loop: any EventLoop, every interval: TimeAmount) -> RepeatedTask {
        loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            sweep()
        }
    }

    private func shard(_ key: ByteKey) -> Shard {
        shards[Int(UInt(bitPattern: key.byteHash) % UInt(shards.count))]
    }

    /// One lock stripe. The standard library's `Mutex` rather than NIO's lock (a pthread mutex):
    /// with several loops hitting one key (every client behind one proxy shares its IP's
    /// key), a waiter spins briefly before it sleeps in the kernel, and the critical section
    /// is a few hundred instructions.
    private final class Shard: Sendable {
        let state: Mutex<LimiterShard>

        init(_ shard: LimiterShard) {
            state = Mutex(shard)
        }
    }
}
