import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PalisadeRedis
import PalisadeRedisState
import PalisadeRedisTestSupport
import PalisadeState
import Testing

/// Redis killed (SIGKILL) in the middle of traffic and started again: the fallback wrappers keep
/// answering from memory, no call waits past the command timeout, and Redis is used again once
/// it is back. The restarted Redis is empty (the test server keeps nothing on disk), which shows
/// which backend answers.
@Suite("Fallback to memory", .serialized)
struct FallbackTests {
    static let commandTimeout = TimeAmount.seconds(3)

    @Test func killedAndRestartedRedisIsSurvived() async throws {
        try await RedisFixture.with(commandTimeout: Self.commandTimeout) { fixture async throws in
            let loop = fixture.callerLoop
            let store = FallbackStateStore(redis: RedisStateStore(client: fixture.client), memory: MemoryStateStore())
            let limiter = FallbackRateLimiter(redis: RedisRateLimiter(client: fixture.client), memory: MemoryRateLimiter())
            #expect(store.usesRedis && limiter.usesRedis)
            try await store.set("before", to: "redis", on: loop).get()
            #expect(try await fixture.client.send("GET", "before").get().string == "redis", "written to Redis")
            #expect(store.getNow("before") == nil, "reads wait for Redis while it is up")
            #expect(try limiter.hitNow(RateLimitKey("r"), limit: 2, window: 60, bucket: nil, countRefused: false) == nil)

            // Traffic in flight while Redis dies: every call completes, and successfully: what
            // Redis could not answer, memory did. None waits past the command timeout.
            let started = NIODeadline.now()
            let increments = (0..<2_000).map { _ in store.incr("n", on: loop) }
            let hits = (0..<2_000).map { _ in limiter.hit("r", limit: 10_000, window: 60, bucket: nil, countRefused: false, on: loop) }
            fixture.server.kill()
            for future in increments { _ = try await future.get() }
            for future in hits { #expect(try await future.get().allowed) }
            // Bounded by the command timeout, not by Redis coming back; the margin is for 4 000 answers
            // on a loaded 2-core machine (5.1 s was seen while other suites ran; a hang never ends).
            #expect(NIODeadline.now() - started < Self.commandTimeout * 2 + .seconds(2))

            // Down: memory answers at once.
            #expect(await eventually { !store.usesRedis && !limiter.usesRedis })
            let during = NIODeadline.now()
            #expect(try await store.get("before", on: loop).get() == nil, "Redis's keys are not visible from memory")
            try await store.set("outage", to: "memory", ttl: 60, on: loop).get()
            #expect(try await store.get("outage", on: loop).get() == "memory")
            #expect(store.getNow("outage") == .some("memory"))
            let first = try #require(try limiter.hitNow(RateLimitKey("limited"), limit: 1, window: 60, bucket: nil, countRefused: false))
            let second = try await limiter.hit("limited", limit: 1, window: 60, bucket: nil, countRefused: false, on: loop).get()
            #expect(first.allowed && !second.allowed, "the same limit, counted in memory")
            #expect(await stateErrorCode { _ = try await store.incr("outage", on: loop).get() } == .notAnInteger)
            #expect(NIODeadline.now() - during < .seconds(2), "no call waited for Redis")

            // Back: Redis answers again; what memory counted is not carried over.
            try fixture.server.restart()
            #expect(await eventually { store.usesRedis && limiter.usesRedis })
            #expect(try await store.get("outage", on: loop).get() == nil)
            try await store.set("after", to: "redis", on: loop).get()
            #expect(try await fixture.client.send("GET", "after").get().string == "redis")
            #expect(try await limiter.hit("limited", limit: 1, window: 60, bucket: nil, countRefused: false, on: loop).get().allowed)
            #expect(try await fixture.client.send("EXISTS", "limited").get() == .integer(1), "counted in Redis")
            #expect(store.getNow("after") == nil)
        }
    }

    /// A Redis that is up but does not answer (`DEBUG SLEEP`, as a stalled server or a lost
    /// network would): a call waits for the command timeout, no longer, and is answered by memory;
    /// Redis is used again once it answers.
    @Test func unresponsiveRedisCostsAtMostTheCommandTimeout() async throws {
        try await RedisFixture.with(commandTimeout: .seconds(1), serverArguments: ["--enable-debug-command", "yes"]) {
            fixture async throws in
            let loop = fixture.callerLoop
            let store = FallbackStateStore(redis: RedisStateStore(client: fixture.client), memory: MemoryStateStore())
            let limiter = FallbackRateLimiter(redis: RedisRateLimiter(client: fixture.client), memory: MemoryRateLimiter())
            try await store.set("n", to: "41", on: loop).get()
            let sleeper = try fixture.makeClient()
            try await sleeper.waitUntilUp(timeout: .seconds(30)).get()
            let sleeping = sleeper.send("DEBUG", "SLEEP", 8)
            try await Task.sleep(for: .milliseconds(1_000))  // the server is asleep now (for 8 s)

            let started = NIODeadline.now()
            async let increment = store.incr("n", on: loop).get()
            async let hit = limiter.hit("k", limit: 1, window: 60, bucket: nil, countRefused: false, on: loop).get()
            #expect(try await increment == 1, "memory answered: it has no n")
            #expect(try await hit.allowed)
            let waited = NIODeadline.now() - started
            // At most the 1 s timeout plus slack for a loaded machine (less when the client's own
            // periodic PING timed out first and closed the connection under the call).
            #expect(waited < .seconds(5), "waited \(waited.nanoseconds / 1_000_000) ms")

            _ = try await sleeping.get()
            #expect(await eventually { store.usesRedis && limiter.usesRedis })
            // Redis's value (41, or 42 if the INCR sent before the timeout ran when it woke), not memory's 1.
            let value = try await store.get("n", on: loop).get()
            #expect(value == "41" || value == "42", "Redis answers again")
            try await sleeper.close().get()
        }
    }

    /// Redis that never came up: both wrappers serve from memory from the start.
    @Test func redisDownAtStartServesFromMemory() async throws {
        let port = try RedisServerProcess.freePort()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let client = RedisClient(configuration: try .test("redis://127.0.0.1:\(port)"), eventLoop: loop)
        let store = FallbackStateStore(redis: RedisStateStore(client: client), memory: MemoryStateStore())
        let limiter = FallbackRateLimiter(redis: RedisRateLimiter(client: client), memory: MemoryRateLimiter())
        #expect(!store.usesRedis)
        #expect(try await store.incr("n", by: 2, ttl: 10, on: loop).get() == 2)
        #expect(store.getNow("n") == .some("2"))
        #expect(try await limiter.hit("k", limit: 1, window: 10, bucket: nil, countRefused: false, on: loop).get().allowed)
        #expect(try await !limiter.hit("k", limit: 1, window: 10, bucket: nil, countRefused: false, on: loop).get().allowed)
        // A bad argument is still an error, from either backend.
        #expect(
            await stateErrorCode { _ = try await limiter.hit("k", limit: 0, window: 10, bucket: nil, countRefused: false, on: loop).get() }
                == .invalidArgument)
        try await client.close().get()
        try await group.shutdownGracefully()
    }

    /// Hashes through a Redis outage: written to Redis while it is up, to memory while it is
    /// down (Redis's fields invisible meanwhile), to Redis again once it is back.
    @Test func hashesFollowRedisThroughAnOutage() async throws {
        try await RedisFixture.with(commandTimeout: Self.commandTimeout) { fixture async throws in
            let loop = fixture.callerLoop
            let store = FallbackStateStore(redis: RedisStateStore(client: fixture.client), memory: MemoryStateStore())
            _ = try await store.hset("pool", field: "before", to: "redis", on: loop).get()
            #expect(try await fixture.client.send("HGET", "pool", "before").get().string == "redis", "written to Redis")

            fixture.server.kill()
            #expect(await eventually { !store.usesRedis })
            #expect(try await store.hget("pool", field: "before", on: loop).get() == nil, "Redis's fields are not visible")
            #expect(try await store.hset("pool", field: "outage", to: "memory", on: loop).get())
            #expect(try await store.hgetall("pool", maxFields: 10, on: loop).get() == [HashField("outage", "memory")])
            #expect(try await store.hscan("pool", cursor: "0", count: 200, on: loop).get().fields.count == 1)
            #expect(try await store.hdel("pool", fields: ["outage"], on: loop).get() == 1)

            try fixture.server.restart()
            #expect(await eventually { store.usesRedis })
            _ = try await store.hset("pool", field: "after", to: "redis", on: loop).get()
            #expect(try await fixture.client.send("HGET", "pool", "after").get().string == "redis")
        }
    }
}
