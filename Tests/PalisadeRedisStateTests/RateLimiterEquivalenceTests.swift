import NIOCore
import PalisadeRedis
import PalisadeRedisState
import PalisadeState
import PalisadeTestSupport
import Testing

/// The Redis limiter answers exactly as the memory one: `MemoryRateLimiter`'s scenarios (their
/// expected answers too), then long random sequences compared answer by answer. Times are passed
/// in, so both limiters see the same clock; Redis's own keys still expire on its real clock, so
/// windows here are long enough (≥ 5 s) that no key's hash expires between two of its hits.
@Suite("Redis rate limiter equals memory", .serialized)
struct RateLimiterEquivalenceTests {
    let t0: Int64 = 1_000_000

    @Test func limitIsReachedExactlyAtLimitHits() async throws {
        try await RedisFixture.with { fixture async throws in
            let pair = LimiterPair(fixture)
            var results: [RateLimitResult] = []
            for _ in 0..<6 { results.append(try await pair.hit(at: t0, limit: 5, window: 10)) }
            #expect(results.map(\.allowed) == [true, true, true, true, true, false])
            #expect(results.map(\.remaining) == [4, 3, 2, 1, 0, 0])
            #expect(results.map(\.retryAfter) == [0, 0, 0, 0, 0, 10])
        }
    }

    @Test func hitCountsForExactlyTheWindow() async throws {
        try await RedisFixture.with { fixture async throws in
            let pair = LimiterPair(fixture)
            for second in 0..<10 {
                #expect(try await pair.hit(at: t0 + Int64(second) * 1000, limit: 10, window: 10, bucket: 1).allowed)
            }
            let early = try await pair.hit(at: t0 + 9_999, limit: 10, window: 10, bucket: 1)
            #expect(!early.allowed && early.retryAfter == 0.001)
            let onTime = try await pair.hit(at: t0 + 10_000, limit: 10, window: 10, bucket: 1)
            #expect(onTime.allowed && onTime.remaining == 0)
            #expect(try await !pair.hit(at: t0 + 10_999, limit: 10, window: 10, bucket: 1).allowed)
            #expect(try await pair.hit(at: t0 + 11_000, limit: 10, window: 10, bucket: 1).allowed)
            // Mid-bucket hits and a burst leave exactly a window later too.
            for second in 0..<10 {
                try await pair.hit("mid", at: t0 + 437 + Int64(second) * 1000, limit: 10, window: 10, bucket: 1)
            }
            #expect(try await !pair.hit("mid", at: t0 + 10_436, limit: 10, window: 10, bucket: 1).allowed)
            #expect(try await pair.hit("mid", at: t0 + 10_437, limit: 10, window: 10, bucket: 1).allowed)
            for _ in 0..<10 { try await pair.hit("burst", at: t0 + 300, limit: 10, window: 10) }
            let back = try await pair.hit("burst", at: t0 + 10_300, limit: 10, window: 10)
            #expect(back.allowed && back.remaining == 9)
        }
    }

    @Test func refusedHitsCountOnlyWhenAskedTo() async throws {
        try await RedisFixture.with { fixture async throws in
            let pair = LimiterPair(fixture)
            for countRefused in [true, false] {
                let key = "flood-\(countRefused)"
                var allowed = 0
                for step in 0..<200 {  // 20 s at 10 hits/s against 5 per 10 s
                    let result = try await pair.hit(
                        key, at: t0 + Int64(step) * 100, limit: 5, window: 10, bucket: 1, countRefused: countRefused)
                    allowed += result.allowed ? 1 : 0
                }
                #expect(allowed == (countRefused ? 5 : 10))
            }
            for countRefused in [true, false] {
                let key = "refusal-\(countRefused)"
                for _ in 0..<2 { try await pair.hit(key, at: t0, limit: 2, window: 10, countRefused: countRefused) }
                #expect(try await pair.hit(key, at: t0 + 1_000, limit: 2, window: 10, countRefused: countRefused).retryAfter == 9)
                let second = try await pair.hit(key, at: t0 + 5_000, limit: 2, window: 10, countRefused: countRefused)
                #expect(second.retryAfter == (countRefused ? 6 : 5))
            }
        }
    }

    @Test func retryAfterIsWhenTheOldestCountedHitLeaves() async throws {
        try await RedisFixture.with { fixture async throws in
            let pair = LimiterPair(fixture)
            for offset: Int64 in [0, 5_000, 20_000] { try await pair.hit(at: t0 + offset, limit: 3, window: 60) }
            #expect(try await pair.hit(at: t0 + 30_000, limit: 3, window: 60).retryAfter == 30)
            #expect(try await pair.hit(at: t0 + 59_999, limit: 3, window: 60).retryAfter == 0.001)
            #expect(try await pair.hit(at: t0 + 60_000, limit: 3, window: 60).allowed)
            #expect(try await pair.hit(at: t0 + 60_000, limit: 3, window: 60).retryAfter == 5)
        }
    }

    @Test func changingTheWindowCarriesTheCountOver() async throws {
        try await RedisFixture.with { fixture async throws in
            let pair = LimiterPair(fixture)
            for _ in 0..<3 { try await pair.hit(at: t0, limit: 3, window: 10) }
            let refused = try await pair.hit(at: t0 + 1_000, limit: 3, window: 20)
            #expect(!refused.allowed && refused.retryAfter == 19)
            #expect(try await pair.hit(at: t0 + 20_000, limit: 3, window: 20).allowed)
            // And back to a shorter window and other buckets.
            try await pair.hit(at: t0 + 20_500, limit: 3, window: 10, bucket: 0.5)
            try await pair.hit(at: t0 + 21_000, limit: 2, window: 5, bucket: 5)
        }
    }

    /// Time never runs backwards for a key: a hit stamped earlier than one already seen is
    /// decided at the later time, by both.
    @Test func anEarlierTimeIsTakenAsTheLatestSeen() async throws {
        try await RedisFixture.with { fixture async throws in
            let pair = LimiterPair(fixture)
            try await pair.hit(at: t0 + 5_000, limit: 1, window: 10)
            let refused = try await pair.hit(at: t0, limit: 1, window: 10)
            #expect(!refused.allowed && refused.retryAfter == 10)
        }
    }

    @Test func badArgumentsFailWithInvalidArgument() async throws {
        try await RedisFixture.with { fixture async throws in
            let limiter = RedisRateLimiter(client: fixture.client)
            let cases: [(Int, Double, Double?)] = [
                (0, 10, nil), (-1, 10, nil), (5, 0, nil), (5, -1, nil), (5, .nan, nil), (5, .infinity, nil),
                (5, 10, 0), (5, 10, -2), (5, 10, .nan), (5, 2e9, nil), (Int(UInt32.max) + 1, 10, nil),
            ]
            for (limit, window, bucket) in cases {
                let code = await stateErrorCode {
                    _ = try await limiter.hit(
                        "k", limit: limit, window: window, bucket: bucket, countRefused: false, on: fixture.callerLoop
                    )
                    .get()
                }
                #expect(code == .invalidArgument, "limit \(limit) window \(window) bucket \(String(describing: bucket))")
            }
            let exists = try await fixture.client.send("EXISTS", "k").get()
            #expect(exists == .integer(0), "nothing was written")
        }
    }

    /// The property: thousands of hits on a few keys, with every shape of traffic (bursts at one
    /// instant, evenly spaced, random, idle gaps, refusals counted or not, windows and buckets
    /// that change), give the same answer from both limiters every time.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func randomTrafficGetsTheSameAnswers(seed: UInt64) async throws {
        try await RedisFixture.with { fixture async throws in
            let pair = LimiterPair(fixture)
            var random = SeededGenerator(seed: seed)
            let windows: [Double] = [5, 10, 60]
            let buckets: [Double?] = [nil, 1, 0.25, 3, 100, 0.001]
            var settings: [String: (limit: Int, window: Double, bucket: Double?)] = [:]
            var now = t0 + Int64(random.next() % 1_000)
            var answers: [String: Int] = [:]
            for _ in 0..<1_500 {
                let key = "key-\(random.next() % 4)"
                if settings[key] == nil || random.next() % 200 == 0 {  // a reload retunes the limit now and then
                    settings[key] = (
                        Int(random.next() % 8) + 1, windows[Int(random.next() % 3)], buckets[Int(random.next() % UInt64(buckets.count))]
                    )
                }
                let (limit, window, bucket) = settings[key]!
                switch random.next() % 10 {
                case 0: now += Int64(random.next() % 20_000)  // an idle gap
                case 1, 2: break  // a burst: the same instant
                case 3, 4, 5: now += 250  // a steady stream
                default: now += Int64(random.next() % 700)
                }
                let result = try await pair.hit(
                    key, at: now, limit: limit, window: window, bucket: bucket, countRefused: random.next() % 3 == 0)
                answers[result.allowed ? "allowed" : "refused", default: 0] += 1
            }
            // The traffic was neither all allowed nor all refused.
            #expect(answers["allowed", default: 0] >= 300 && answers["refused", default: 0] >= 300, "\(answers)")
        }
    }
}
