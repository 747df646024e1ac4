import NIOCore
import Synchronization

/// The embedded `RateLimiter` (semantics there): process memory, safe from every event loop,
/// bounded in keys and in state per key.
///
/// A hit takes no lock. Each key's counters are a `SlidingWindow`, changed with atomic
/// compare-and-exchange by whichever loop hits the key; a `RateLimitKey` keeps the window it was
/// given, so a policy's hits on a key it has hit before reach the counters directly. Finding a
/// key's window (its first hit from a caller, a hit by string, a window retired meanwhile) goes
/// through lock-striped shards of a table: keys are spread over them by a per-process seeded
/// hash of their bytes, and a lock is held for one table operation, never while calling out.
///
/// Bounds: a key keeps at most `maxBucketsPerWindow + 1` counters. At most `maxKeys` keys are
/// kept; a new key beyond that evicts an idle key (nothing left in its window, so forgetting it
/// changes no answer), else a key not hit lately (see `LimiterShard.evictOne`), whose count is
/// lost. `sweep(now:)` forgets idle keys ahead of need. An evicted window is retired, so a
/// caller still holding it fetches the key's window again on its next hit.
///
/// A call on a known key with a different window or bucket carries the key's current count into
/// the new geometry, placed at its latest counted hit (see `SlidingWindow.retireCarrying`): a
/// reload that retunes a limit neither resets a flood nor blocks a client for longer than the new
/// window.
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
    /// Tells this limiter's windows kept in a `RateLimitKey` from another limiter's.
    private let identity = MemoryRateLimiter.identities.add(1, ordering: .relaxed).newValue
    private static let identities = Atomic<Int>(0)

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
        try Self.check(limit: limit)
        let now = clock.milliseconds()
        // A window found for the same lengths still has the right geometry: hit it directly.
        if let held = key.held, held.limiter == identity, held.seconds == window, held.bucketSeconds == bucket {
            held.window.markReferenced()  // the table's use order does not see this hit
            if let result = held.window.hit(limit: limit, countRefused: countRefused, now: now) { return result }
            // Retired meanwhile (evicted, swept, replaced): the table has the key's window now.
        }
        let (result, found) = try hitThroughTable(
            key.key, limit: limit, window: window, bucket: bucket,
            countRefused: countRefused, now: now)
        key.held = HeldWindow(limiter: identity, window: found, seconds: window, bucketSeconds: bucket)
        return result
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
        try Self.check(limit: limit)
        return try hitThroughTable(
            ByteKey(key), limit: limit, window: window, bucket: bucket,
            countRefused: countRefused, now: now
        ).result
    }

    /// A window counts up to `UInt32.max` hits.
    private static func check(limit: Int) throws(StateError) {
        guard limit >= 1, limit <= Int(UInt32.max) else {
            throw StateError(.invalidArgument, "limit must be an integer in [1, \(UInt32.max)], got \(limit)")
        }
    }

    /// A hit on the window the key's shard gives (under its lock); returns the answer and the
    /// window that gave it.
    private func hitThroughTable(
        _ key: ByteKey, limit: Int, window: Double, bucket: Double?, countRefused: Bool, now: Int64
    ) throws(StateError) -> (result: RateLimitResult, window: SlidingWindow) {
        let geometry = try RateLimitGeometry(window: window, bucket: bucket, maxBuckets: configuration.maxBucketsPerWindow)
        while true {
            let window = shard(key).state.withLock { $0.window(for: key, geometry: geometry, now: now) }
            if let result = window.hit(limit: limit, countRefused: countRefused, now: now) { return (result, window) }
            // Retired between the fetch and the hit (another loop evicted it): fetch again.
        }
    }

    /// How many hits have needed the shard table (and its lock) so far: a key's first hit from
    /// a caller, hits by string, hits after a window was retired.
    var tableFetches: Int {
        shards.reduce(0) { total, shard in total + shard.state.withLock { $0.fetches } }
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
    /// a waiter spins briefly before it sleeps in the kernel, and the critical section is one
    /// table operation.
    private final class Shard: Sendable {
        let state: Mutex<LimiterShard>

        init(_ shard: LimiterShard) {
            state = Mutex(shard)
        }
    }
}
