import NIOCore
import PalisadeRedis
import PalisadeRedisState
import PalisadeState
import Testing

/// The Redis limiter on the server's clock, as instances use it: one limit shared by two
/// clients, the hash it keeps, and the script forgotten by the server.
@Suite("RedisRateLimiter", .serialized)
struct RedisRateLimiterTests {
    /// Two instances (two clients, two loops) hit one key at once: together they are allowed
    /// exactly `limit`, whichever instance each allowed hit came from.
    @Test func twoInstancesShareOneLimit() async throws {
        try await RedisFixture.with { fixture async throws in
            let other = try fixture.makeClient()
            try await other.waitUntilUp(timeout: .seconds(30)).get()
            let limiters = [RedisRateLimiter(client: fixture.client), RedisRateLimiter(client: other)]
            let loops = [fixture.client.eventLoop, other.eventLoop]
            let allowed = try await withThrowingTaskGroup(of: Int.self) { tasks in
                for (limiter, loop) in zip(limiters, loops) {
                    tasks.addTask {
                        try await loop.flatSubmit {
                            let hits = (0..<500).map { _ in
                                limiter.hit("shared", limit: 120, window: 600, bucket: nil, countRefused: true, on: loop)
                            }
                            return EventLoopFuture.whenAllSucceed(hits, on: loop).map { $0.filter(\.allowed).count }
                        }.get()
                    }
                }
                return try await tasks.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(allowed.reduce(0, +) == 120, "allowed per instance: \(allowed)")
            // Either instance now sees the shared count, and both agree when it frees.
            let a = try await limiters[0].hit("shared", limit: 120, window: 600, bucket: nil, countRefused: false, on: loops[0]).get()
            let b = try await limiters[1].hit("shared", limit: 120, window: 600, bucket: nil, countRefused: false, on: loops[1]).get()
            #expect(!a.allowed && !b.allowed)
            #expect(a.retryAfter > 590 && a.retryAfter <= 600 && b.retryAfter <= a.retryAfter)
            // In turn: what one instance counted is what the other sees.
            func hits(_ index: Int, _ count: Int) async throws -> Int {
                var allowed = 0
                for _ in 0..<count {
                    let result = try await limiters[index].hit(
                        "turns", limit: 100, window: 600, bucket: nil, countRefused: false, on: loops[index]
                    )
                    .get()
                    allowed += result.allowed ? 1 : 0
                }
                return allowed
            }
            #expect(try await hits(0, 60) == 60)
            #expect(try await hits(1, 60) == 40)
            #expect(try await hits(0, 1) == 0)
            try await other.close().get()
        }
    }

    /// On the server's clock a refusal's retryAfter is a real duration, and the hit is allowed again then.
    @Test func serverClockRetryAfterIsRealTime() async throws {
        try await RedisFixture.with { fixture async throws in
            let limiter = RedisRateLimiter(client: fixture.client)
            let loop = fixture.callerLoop
            #expect(try await limiter.hit("k", limit: 1, window: 0.5, bucket: nil, countRefused: false, on: loop).get().allowed)
            let refused = try await limiter.hit("k", limit: 1, window: 0.5, bucket: nil, countRefused: false, on: loop).get()
            #expect(!refused.allowed && refused.retryAfter > 0 && refused.retryAfter <= 0.5)
            try await Task.sleep(for: .milliseconds(Int(refused.retryAfter * 1000) + 1))
            #expect(try await limiter.hit("k", limit: 1, window: 0.5, bucket: nil, countRefused: false, on: loop).get().allowed)
        }
    }

    /// The hash holds the geometry, the latest time and at most the window's buckets, and expires
    /// with the window.
    @Test func theHashStaysWithinTheWindowAndExpiresWithIt() async throws {
        try await RedisFixture.with { fixture async throws in
            let limiter = RedisRateLimiter(client: fixture.client)
            let loop = fixture.callerLoop
            for step in 0..<200 {
                _ = try await limiter.hit(
                    "k", limit: 5, window: 10, bucket: 1, countRefused: true, now: 1_000_000 + Int64(step) * 300, on: loop
                )
                .get()
            }
            let length = try #require(try await fixture.client.send("HLEN", "k").get().integer)
            #expect(length <= 2 + 11, "g, t and at most ceil(window / bucket) + 1 buckets")
            let ttl = try #require(try await fixture.client.send("PTTL", "k").get().integer)
            #expect(ttl > 5_000 && ttl <= 10_000)
            let geometry = try #require(try await fixture.client.send("HGET", "k", "g").get().string)
            #expect(geometry == "10000:1000")
        }
    }

    @Test func forgottenScriptIsSentAgain() async throws {
        try await RedisFixture.with { fixture async throws in
            let limiter = RedisRateLimiter(client: fixture.client)
            let loop = fixture.callerLoop
            for round in 0..<3 {
                for _ in 0..<3 {
                    _ = try await limiter.hit("k\(round)", limit: 2, window: 60, bucket: nil, countRefused: false, on: loop).get()
                }
                _ = try await fixture.client.send("SCRIPT", "FLUSH").get()
                let refused = try await limiter.hit("k\(round)", limit: 2, window: 60, bucket: nil, countRefused: false, on: loop).get()
                #expect(!refused.allowed)
            }
        }
    }
}
