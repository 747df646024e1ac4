import NIOCore
import NIOPosix
import Testing

@testable import PalisadeState

/// Hits that go straight to a key's window (`RateLimitKey` keeps it): no lock, and still exact
/// when the window is evicted, swept or replaced while callers hold it.
@Suite("Lock-free rate-limit hits")
struct LockFreeHitTests {
    let t0 = ManualClock.start

    private func hitNow(
        _ limiter: MemoryRateLimiter, _ key: RateLimitKey, limit: Int, window: Double = 60,
        countRefused: Bool = false
    ) throws -> RateLimitResult {
        try #require(try limiter.hitNow(key, limit: limit, window: window, bucket: nil, countRefused: countRefused))
    }

    @Test func aHeldKeySharesItsWindowWithHitsByString() throws {
        let clock = ManualClock()
        let limiter = MemoryRateLimiter(clock: clock.stateClock)
        let held = RateLimitKey("k")
        #expect(try hitNow(limiter, held, limit: 3).allowed)
        #expect(try limiter.hit("k", limit: 3, window: 60, countRefused: false, now: clock.now).allowed)
        #expect(try hitNow(limiter, held, limit: 3).allowed)
        #expect(try !hitNow(limiter, held, limit: 3).allowed)
        #expect(try !limiter.hit("k", limit: 3, window: 60, countRefused: false, now: clock.now).allowed)
    }

    /// The point of holding a key: after its first hit, hits skip the shard's table and its lock.
    @Test func aHeldKeysHitsAfterTheFirstSkipTheTable() throws {
        let limiter = MemoryRateLimiter()
        let held = RateLimitKey("held")
        for _ in 0..<100 { _ = try hitNow(limiter, held, limit: 1_000) }
        #expect(limiter.tableFetches == 1)
        _ = try hitNow(limiter, held, limit: 1_000, window: 30)
        #expect(limiter.tableFetches == 2, "another window length replaces the window through the table")
        _ = try limiter.hit("held", limit: 1_000, window: 30, countRefused: false, now: 0)
        #expect(limiter.tableFetches == 3, "hits by string always go through the table")
    }

    /// With the retirement check removed, the held window (still holding its hit) would refuse.
    @Test func aHeldKeyWhoseKeyWasEvictedCountsAfresh() throws {
        let clock = ManualClock()
        let limiter = MemoryRateLimiter(configuration: .init(maxKeys: 2, shardCount: 1), clock: clock.stateClock)
        let held = RateLimitKey("held")
        #expect(try hitNow(limiter, held, limit: 1).allowed)
        for index in 0..<10 { _ = try limiter.hit("other-\(index)", limit: 1, window: 60, countRefused: false, now: clock.now) }
        #expect(limiter.count == 2)
        #expect(try hitNow(limiter, held, limit: 1).allowed, "evicted: its count is lost and it counts afresh")
        #expect(try !hitNow(limiter, held, limit: 1).allowed)
        #expect(limiter.count == 2)
    }

    /// A key hit through its held window never moves in the table's use order; its hits still
    /// give it a second chance when new keys fill the table, so it keeps its count.
    @Test func aHotHeldKeyKeepsItsCountWhileNewKeysFillTheTable() throws {
        let clock = ManualClock()
        let limiter = MemoryRateLimiter(configuration: .init(maxKeys: 8, shardCount: 1), clock: clock.stateClock)
        let hot = RateLimitKey("hot")
        #expect(try hitNow(limiter, hot, limit: 100).remaining == 99)
        for index in 0..<50 {
            _ = try limiter.hit("new-\(index)", limit: 1, window: 60, countRefused: false, now: clock.now)
            #expect(try hitNow(limiter, hot, limit: 100).remaining == 98 - index, "hit \(index + 2) of the hot key")
        }
        #expect(limiter.count == 8)
    }

    @Test func aHeldKeyWhoseKeyWasSweptCountsInTheTablesWindow() throws {
        let clock = ManualClock()
        let limiter = MemoryRateLimiter(clock: clock.stateClock)
        let held = RateLimitKey("held")
        #expect(try hitNow(limiter, held, limit: 1, window: 1).allowed)
        clock.advance(by: 1_000)
        #expect(limiter.sweep() == 1)
        #expect(try hitNow(limiter, held, limit: 1, window: 1).allowed)
        #expect(limiter.count == 1, "the held key's hit went to a window the table knows")
        #expect(try !limiter.hit("held", limit: 1, window: 1, countRefused: false, now: clock.now).allowed)
    }

    @Test func aLiveWindowIsNotRetiredAsIdle() throws {
        let window = SlidingWindow(geometry: RateLimitGeometry(windowMs: 10_000, bucketMs: 1_000), now: t0)
        #expect(try #require(window.hit(limit: 2, countRefused: false, now: t0)).allowed)
        #expect(!window.retireIfIdle(at: t0 + 9_999))
        #expect(try #require(window.hit(limit: 2, countRefused: false, now: t0 + 9_999)).allowed)
        #expect(try !#require(window.hit(limit: 2, countRefused: false, now: t0 + 9_999)).allowed)
        #expect(window.retireIfIdle(at: t0 + 20_000))
        #expect(window.hit(limit: 2, countRefused: false, now: t0 + 20_000) == nil, "a retired window answers nil")
    }

    /// 4 loops × 2,500 hits on one key at one instant, each loop holding its own key: exactly
    /// `limit` are allowed, whether the loops agree on the window or two of them keep replacing
    /// it with another window length (each replacement retires the window under the others'
    /// feet and carries its count over). A hit lost or counted twice across a replacement
    /// changes the total.
    @Test(arguments: [false, true])
    func heldKeysOnFourLoopsAllowExactlyTheLimit(replacing: Bool) async throws {
        let clock = ManualClock()
        let limiter = MemoryRateLimiter(clock: clock.stateClock)
        let allowed = try await withFourLoops { loops in
            try await withThrowingTaskGroup(of: Int.self) { tasks in
                for (number, loop) in loops.enumerated() {
                    let window: Double = replacing && number >= 2 ? 601 : 600
                    tasks.addTask {
                        try await loop.submit {
                            let key = RateLimitKey("shared")
                            return try (0..<2_500).reduce(0) { allowed, _ in
                                let result = try limiter.hitNow(key, limit: 1_000, window: window, bucket: nil, countRefused: false)
                                return allowed + (result?.allowed == true ? 1 : 0)
                            }
                        }.get()
                    }
                }
                return try await tasks.reduce(0, +)
            }
        }
        #expect(allowed == 1_000)
    }
}
