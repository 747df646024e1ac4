import NIOCore
import NIOPosix
import Testing

@testable import PalisadeState

@Suite("MemoryRateLimiter")
struct MemoryRateLimiterTests {
    let t0 = ManualClock.start

    /// One hit at `now` on a fresh or given limiter; the flat parameters keep the tests short.
    private func hit(
        _ limiter: MemoryRateLimiter, _ key: String = "k", at now: Int64,
        limit: Int, window: Double, bucket: Double? = nil, countRefused: Bool = false
    ) throws -> RateLimitResult {
        try limiter.hit(key, limit: limit, window: window, bucket: bucket, countRefused: countRefused, now: now)
    }

    // MARK: the limit

    @Test func limitIsReachedExactlyAtLimitHits() throws {
        let limiter = MemoryRateLimiter()
        let results = try (0..<6).map { _ in try hit(limiter, at: t0, limit: 5, window: 10) }
        #expect(results.map(\.allowed) == [true, true, true, true, true, false])
        #expect(results.map(\.remaining) == [4, 3, 2, 1, 0, 0])
        #expect(results.map(\.retryAfter) == [0, 0, 0, 0, 0, 10])
    }

    @Test func hitNowAnswersAtOnceAndSharesTheWindowWithHit() throws {
        let limiter = MemoryRateLimiter()
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let viaFuture = try limiter.hit("k", limit: 2, window: 60, bucket: nil, countRefused: false, on: loop).wait()
        let second = try #require(try limiter.hitNow(RateLimitKey("k"), limit: 2, window: 60, bucket: nil, countRefused: false))
        let third = try #require(try limiter.hitNow(RateLimitKey("k"), limit: 2, window: 60, bucket: nil, countRefused: false))
        #expect(viaFuture.allowed && second.allowed, "both paths count in one window")
        #expect(!third.allowed, "the third hit of a limit of 2 is refused")
        #expect(throws: StateError.self) { try limiter.hitNow(RateLimitKey("k"), limit: 0, window: 60, bucket: nil, countRefused: false) }
    }

    @Test func keysAreCountedApart() throws {
        let limiter = MemoryRateLimiter()
        #expect(try hit(limiter, "a", at: t0, limit: 1, window: 10).allowed)
        #expect(try !hit(limiter, "a", at: t0, limit: 1, window: 10).allowed)
        #expect(try hit(limiter, "b", at: t0, limit: 1, window: 10).allowed)
        // Byte-wise keys, as in Redis: canonically equivalent spellings are different keys.
        #expect(try hit(limiter, "caf\u{E9}", at: t0, limit: 1, window: 10).allowed)
        #expect(try hit(limiter, "cafe\u{301}", at: t0, limit: 1, window: 10).allowed)
    }

    // MARK: the window is exactly the window

    /// A client at one hit per second against 10 per 10 s with 1 s buckets. Its first hit is
    /// exactly 10 s old at t0 + 10 s, so a hit is allowed there and not one millisecond before.
    /// Open WebUI sums the current bucket and the ten before it, so it still counts the t0 bucket
    /// until t0 + 11 s: it would refuse the hit at t0 + 10 s (and up to t0 + 10.999 s).
    @Test func hitCountsForExactlyTheWindowNotWindowPlusBucketAsInOpenWebUI() throws {
        let limiter = MemoryRateLimiter()
        for second in 0..<10 {
            #expect(try hit(limiter, at: t0 + Int64(second) * 1000, limit: 10, window: 10, bucket: 1).allowed)
        }
        let early = try hit(limiter, at: t0 + 9_999, limit: 10, window: 10, bucket: 1)
        #expect(!early.allowed)
        #expect(early.retryAfter == 0.001)
        let onTime = try hit(limiter, at: t0 + 10_000, limit: 10, window: 10, bucket: 1)
        #expect(onTime.allowed)
        #expect(onTime.remaining == 0)
        // The next slot frees when the t0 + 1 s hit is 10 s old, and not before.
        #expect(try !hit(limiter, at: t0 + 10_999, limit: 10, window: 10, bucket: 1).allowed)
        #expect(try hit(limiter, at: t0 + 11_000, limit: 10, window: 10, bucket: 1).allowed)
    }

    /// The same with hits in the middle of their buckets: alignment does not matter.
    @Test func hitsInTheMiddleOfBucketsLeaveExactlyAWindowLater() throws {
        let limiter = MemoryRateLimiter()
        for second in 0..<10 {
            #expect(try hit(limiter, at: t0 + 437 + Int64(second) * 1000, limit: 10, window: 10, bucket: 1).allowed)
        }
        #expect(try !hit(limiter, at: t0 + 10_436, limit: 10, window: 10, bucket: 1).allowed)
        #expect(try hit(limiter, at: t0 + 10_437, limit: 10, window: 10, bucket: 1).allowed)
    }

    /// A burst inside one bucket leaves all at once, `window` after it, not at the bucket's end.
    @Test func burstLeavesTheWindowAllAtOnceExactlyAWindowLater() throws {
        let limiter = MemoryRateLimiter()
        for _ in 0..<10 { #expect(try hit(limiter, at: t0 + 300, limit: 10, window: 10).allowed) }
        let early = try hit(limiter, at: t0 + 10_299, limit: 10, window: 10)
        #expect(!early.allowed && early.retryAfter == 0.001)
        let back = try hit(limiter, at: t0 + 10_300, limit: 10, window: 10)
        #expect(back.allowed && back.remaining == 9)
    }

    // MARK: refused hits

    /// A flood at 10 hits/s against 5 per 10 s. Counting refusals, it stays refused for as long
    /// as it keeps hitting; not counting them, it gets its 5 in every 10 s.
    @Test func floodStaysBlockedOnlyWhenRefusedHitsCount() throws {
        for countRefused in [true, false] {
            let limiter = MemoryRateLimiter()
            var allowedAt: [Int64] = []
            for step in 0..<600 {  // 60 s
                let now = t0 + Int64(step) * 100
                if try hit(limiter, at: now, limit: 5, window: 10, bucket: 1, countRefused: countRefused).allowed {
                    allowedAt.append(now - t0)
                }
            }
            if countRefused {
                #expect(allowedAt == [0, 100, 200, 300, 400])
                // Once the flood stops (last hit at 59.9 s), a hit is allowed when its fifth
                // newest hit (59.5 s) is 10 s old.
                #expect(try !hit(limiter, at: t0 + 69_499, limit: 5, window: 10, bucket: 1).allowed)
                #expect(try hit(limiter, at: t0 + 69_500, limit: 5, window: 10, bucket: 1).allowed)
            } else {
                #expect(allowedAt.count == 30)
                #expect(allowedAt.prefix(10) == [0, 100, 200, 300, 400, 10_000, 10_100, 10_200, 10_300, 10_400])
            }
        }
    }

    @Test func countedRefusalPushesRetryAfterBack() throws {
        for countRefused in [true, false] {
            let limiter = MemoryRateLimiter()
            for _ in 0..<2 { #expect(try hit(limiter, at: t0, limit: 2, window: 10, countRefused: countRefused).allowed) }
            // Either way the t0 hits must leave first: at t0 + 10 s.
            let first = try hit(limiter, at: t0 + 1_000, limit: 2, window: 10, countRefused: countRefused)
            #expect(!first.allowed && first.retryAfter == 9)
            // Counted, the refusal at t0 + 1 s must leave too, at t0 + 11 s; not counted, t0 + 10 s still frees a slot.
            let second = try hit(limiter, at: t0 + 5_000, limit: 2, window: 10, countRefused: countRefused)
            #expect(!second.allowed && second.retryAfter == (countRefused ? 6 : 5))
        }
    }

    // MARK: retryAfter

    @Test func retryAfterIsWhenTheOldestCountedHitLeaves() throws {
        let limiter = MemoryRateLimiter()
        for offset: Int64 in [0, 5_000, 20_000] {
            #expect(try hit(limiter, at: t0 + offset, limit: 3, window: 60).allowed)
        }
        #expect(try hit(limiter, at: t0 + 30_000, limit: 3, window: 60).retryAfter == 30)
        #expect(try hit(limiter, at: t0 + 59_999, limit: 3, window: 60).retryAfter == 0.001)
        #expect(try hit(limiter, at: t0 + 60_000, limit: 3, window: 60).allowed)
        // Counted at t0 + 5 s, 20 s, 60 s: the next slot is when the t0 + 5 s hit leaves.
        #expect(try hit(limiter, at: t0 + 60_000, limit: 3, window: 60).retryAfter == 5)
    }

    /// Random traffic checked against an exact sliding log (every hit's time kept). The bucket
    /// model is exact when no bucket holds more than two hits, or a bucket's hits are at one
    /// instant; both kinds of traffic are generated here, with refusals counted so the log is
    /// simply every hit. `retryAfter` is also checked by probing a millisecond before it.
    @Test(arguments: [false, true])
    func decisionsAndRetryAfterMatchAnExactLog(bursts: Bool) throws {
        var generator = SplitMix64(seed: bursts ? 7 : 11)
        let window: Int64 = 10_000
        let limit = 6
        let geometry = RateLimitGeometry(windowMs: window, bucketMs: 1_000)
        let state = SlidingWindow(geometry: geometry, now: t0)
        var log: [Int64] = []
        var now = t0
        for _ in 0..<3_000 {
            if generator.next() % 3 == 0 { now += Int64(generator.next() % 15_000) }  // idle gaps
            // A later bucket each round: a burst at one instant, or two hits.
            let bucketStart = (now / 1_000 + 1) * 1_000
            let first = bucketStart + Int64(generator.next() % 1_000)
            let times: [Int64] =
                bursts
                ? Array(repeating: first, count: Int(generator.next() % 4) + 1)
                : [first, first + Int64(generator.next() % UInt64(bucketStart + 1_000 - first))]
            for time in times {
                let inWindow = log.filter { $0 > time - window }.sorted()
                let result = try #require(state.hit(limit: limit, countRefused: true, now: time))
                #expect(result.allowed == (inWindow.count < limit))
                if !result.allowed {
                    // The refusal is counted too: it joins the window before the answer is computed.
                    let counted = inWindow + [time]
                    let expectedRetry = counted[counted.count - limit] + window - time
                    #expect(result.retryAfter == Double(expectedRetry) / 1000)
                    var probe = state.copied()
                    #expect(try #require(probe.hit(limit: limit, countRefused: false, now: time + expectedRetry - 1)).allowed == false)
                    probe = state.copied()
                    #expect(try #require(probe.hit(limit: limit, countRefused: false, now: time + expectedRetry)).allowed)
                }
                log.append(time)
                now = time
            }
        }
    }

    /// Where the model approximates (three or more uneven hits in one bucket), `retryAfter` is
    /// still exactly the first moment the limiter itself allows a hit.
    @Test func retryAfterIsTheFirstAllowedMomentForUnevenBuckets() throws {
        var generator = SplitMix64(seed: 3)
        for _ in 0..<300 {
            let limit = Int(generator.next() % 8) + 1
            let state = SlidingWindow(geometry: RateLimitGeometry(windowMs: 5_000, bucketMs: 1_000), now: t0)
            var now = t0
            for _ in 0..<(limit + Int(generator.next() % 12)) {
                now += Int64(generator.next() % 400)
                let result = try #require(state.hit(limit: limit, countRefused: generator.next() % 2 == 0, now: now))
                guard !result.allowed else { continue }
                let retry = Int64((result.retryAfter * 1000).rounded())
                #expect(retry >= 1)
                var probe = state.copied()
                #expect(try #require(probe.hit(limit: limit, countRefused: false, now: now + retry - 1)).allowed == false)
                probe = state.copied()
                #expect(try #require(probe.hit(limit: limit, countRefused: false, now: now + retry)).allowed)
            }
        }
    }

    // MARK: arguments and geometry

    @Test func bucketDefaultsToATenthOfTheWindowAndIsClamped() throws {
        #expect(try RateLimitGeometry(window: 10, bucket: nil, maxBuckets: 100).bucketMs == 1_000)
        #expect(try RateLimitGeometry(window: 10, bucket: 60, maxBuckets: 100).bucketMs == 10_000)
        #expect(try RateLimitGeometry(window: 10, bucket: 0.001, maxBuckets: 100).bucketMs == 100)
        #expect(try RateLimitGeometry(window: 0.005, bucket: nil, maxBuckets: 100).bucketMs == 1)
        #expect(try RateLimitGeometry(window: 10, bucket: 3, maxBuckets: 100).slotCount == 5)
    }

    @Test func badArgumentsFailWithInvalidArgument() async throws {
        let limiter = MemoryRateLimiter()
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let cases: [(Int, Double, Double?)] = [
            (0, 10, nil), (-1, 10, nil), (5, 0, nil), (5, -1, nil), (5, .nan, nil), (5, .infinity, nil),
            (5, 10, 0), (5, 10, -2), (5, 10, .nan), (5, 2e9, nil),
        ]
        for (limit, window, bucket) in cases {
            let asyncError = await #expect(throws: StateError.self) {
                try await limiter.hit("k", limit: limit, window: window, bucket: bucket, countRefused: false, on: loop).get()
            }
            #expect(asyncError?.code == .invalidArgument)
            let syncError = #expect(throws: StateError.self) {
                try limiter.hit("k", limit: limit, window: window, bucket: bucket, countRefused: false, now: 0)
            }
            #expect(syncError?.code == .invalidArgument)
        }
    }

    @Test func asyncHitCompletesOnTheGivenLoop() async throws {
        let clock = ManualClock()
        let limiter = MemoryRateLimiter(clock: clock.stateClock)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let future = limiter.hit("k", limit: 1, window: 5, bucket: nil, countRefused: false, on: loop)
        #expect(future.eventLoop === loop)
        #expect(try await future.get() == RateLimitResult(allowed: true, remaining: 0, retryAfter: 0))
        clock.advance(by: 1_250)
        let refused = try await limiter.hit("k", limit: 1, window: 5, bucket: nil, countRefused: false, on: loop).get()
        #expect(refused == RateLimitResult(allowed: false, remaining: 0, retryAfter: 3.75))
    }

    /// A reload that changes a limit's window keeps the key's count (a flood is not reset) and
    /// counts it from the latest counted hit in the new window.
    @Test func changingTheWindowCarriesTheCountOver() throws {
        let limiter = MemoryRateLimiter()
        for _ in 0..<3 { #expect(try hit(limiter, at: t0, limit: 3, window: 10).allowed) }
        let refused = try hit(limiter, at: t0 + 1_000, limit: 3, window: 20)
        #expect(!refused.allowed && refused.retryAfter == 19)
        #expect(try hit(limiter, at: t0 + 20_000, limit: 3, window: 20).allowed)
    }

    // MARK: bounds

    @Test func manyKeysStayWithinTheKeyBound() throws {
        for shardCount in [1, 16] {
            let limiter = MemoryRateLimiter(configuration: .init(maxKeys: 100, shardCount: shardCount))
            for index in 0..<10_000 {
                #expect(try hit(limiter, "key-\(index)", at: t0 + Int64(index), limit: 3, window: 60).allowed)
            }
            #expect(limiter.count <= 100)
            #expect(limiter.count >= 100 - shardCount)  // per-shard bounds round down
        }
    }

    @Test func idleKeysAreEvictedBeforeLiveOnes() throws {
        let limiter = MemoryRateLimiter(configuration: .init(maxKeys: 10, shardCount: 1))
        // The least recently hit key has a long window and is still live ...
        #expect(try hit(limiter, "live", at: t0, limit: 1, window: 1_000).allowed)
        // ... the nine after it have a 1 s window and are idle 2 s later.
        for index in 0..<9 { #expect(try hit(limiter, "short-\(index)", at: t0, limit: 1, window: 1).allowed) }
        #expect(try hit(limiter, "new", at: t0 + 2_000, limit: 1, window: 1).allowed)
        #expect(limiter.count == 10)
        // "live" kept its count, so it is still refused.
        #expect(try !hit(limiter, "live", at: t0 + 2_000, limit: 1, window: 1_000).allowed)
    }

    @Test func withNoIdleKeyTheLeastRecentlyHitIsEvicted() throws {
        let limiter = MemoryRateLimiter(configuration: .init(maxKeys: 3, shardCount: 1))
        for key in ["a", "b", "c"] { #expect(try hit(limiter, key, at: t0, limit: 1, window: 1_000).allowed) }
        #expect(try !hit(limiter, "a", at: t0 + 1, limit: 1, window: 1_000).allowed)  // "a" is now the most recent
        #expect(try hit(limiter, "d", at: t0 + 2, limit: 1, window: 1_000).allowed)  // evicts "b"
        #expect(try !hit(limiter, "a", at: t0 + 3, limit: 1, window: 1_000).allowed)
        #expect(try !hit(limiter, "c", at: t0 + 4, limit: 1, window: 1_000).allowed)
        #expect(try hit(limiter, "b", at: t0 + 5, limit: 1, window: 1_000).allowed)  // forgotten: counts afresh
        #expect(limiter.count == 3)
    }

    @Test func sweepForgetsIdleKeysOnly() throws {
        let limiter = MemoryRateLimiter()
        for index in 0..<50 { _ = try hit(limiter, "short-\(index)", at: t0, limit: 5, window: 1) }
        for index in 0..<5 { _ = try hit(limiter, "long-\(index)", at: t0, limit: 5, window: 60) }
        #expect(limiter.sweep(now: t0 + 999) == 0)
        #expect(limiter.sweep(now: t0 + 1_000) == 50)
        #expect(limiter.count == 5)
    }

    // MARK: threads

    /// 4 loops × 2,500 hits on one key at one instant: exactly `limit` are allowed.
    @Test func concurrentHitsFromFourLoopsNeverAllowMoreThanTheLimit() async throws {
        let clock = ManualClock()
        let limiter = MemoryRateLimiter(clock: clock.stateClock)
        let perLoop = try await withFourLoops { loops in
            try await withThrowingTaskGroup(of: Int.self) { tasks in
                for loop in loops {
                    tasks.addTask {
                        try await loop.flatSubmit {
                            let hits = (0..<2_500).map { _ in
                                limiter.hit("shared", limit: 100, window: 10, bucket: nil, countRefused: true, on: loop)
                            }
                            return EventLoopFuture.whenAllSucceed(hits, on: loop).map { $0.filter(\.allowed).count }
                        }.get()
                    }
                }
                return try await tasks.reduce(into: [Int]()) { $0.append($1) }
            }
        }
        #expect(perLoop.count == 4)
        #expect(perLoop.reduce(0, +) == 100)
    }

    /// The same on the real monotonic clock, with a window far longer than the test.
    @Test func concurrentHitsOnTheRealClockNeverAllowMoreThanTheLimit() throws {
        let limiter = MemoryRateLimiter()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 4)
        defer { try? group.syncShutdownGracefully() }
        let counts = try (0..<4).map { _ in
            group.next().submit {
                (0..<5_000).reduce(0) { allowed, _ in
                    let result = try? limiter.hit(
                        "shared", limit: 250, window: 600, countRefused: false, now: StateClock.monotonic.milliseconds())
                    return allowed + (result?.allowed == true ? 1 : 0)
                }
            }
        }.map { try $0.wait() }
        #expect(counts.reduce(0, +) == 250)
    }
}

/// A small deterministic generator, so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
