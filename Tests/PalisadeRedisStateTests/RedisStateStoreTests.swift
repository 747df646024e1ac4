import NIOCore
import PalisadeRedis
import PalisadeRedisTestSupport
import PalisadeState
import Testing

@testable import PalisadeRedisState

/// What only the Redis store has to show: its keys and TTLs as Redis holds them, and its script.
@Suite("RedisStateStore", .serialized)
struct RedisStateStoreTests {
    /// PTTL of `key` in ms (-1: no TTL, -2: absent).
    private func pttl(_ fixture: RedisFixture, _ key: String) async throws -> Int64 {
        try #require(try await fixture.client.send("PTTL", key).get().integer)
    }

    @Test func keysAreUsedExactlyAsGiven() async throws {
        try await RedisFixture.with { fixture async throws in
            let store = RedisStateStore(client: fixture.client)
            try await store.set("palisade:auth:token:j1:revoked", to: "1", on: fixture.callerLoop).get()
            _ = try await store.incr("palisade:n", on: fixture.callerLoop).get()
            let keys = try #require(try await fixture.client.send("KEYS", "*").get().array).compactMap(\.string).sorted()
            #expect(keys == ["palisade:auth:token:j1:revoked", "palisade:n"])
            // And what others write straight into Redis is read as it is.
            _ = try await fixture.client.send("SET", "palisade:user:7:revoked_at", "1700000000").get()
            #expect(try await store.get("palisade:user:7:revoked_at", on: fixture.callerLoop).get() == "1700000000")
        }
    }

    /// TTLs reach Redis in milliseconds, rounded up as the memory store rounds them.
    @Test func ttlsAreKeptToTheMillisecond() async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (RedisStateStore(client: fixture.client), fixture.callerLoop)
            try await store.set("a", to: "1", ttl: 1.5, on: loop).get()
            let a = try await pttl(fixture, "a")
            #expect(a > 500 && a <= 1_500)
            try await store.set("a", to: "1", on: loop).get()
            #expect(try await pttl(fixture, "a") == -1)
            try await store.set("b", to: "1", ttl: 100.0001, on: loop).get()
            let b = try await pttl(fixture, "b")
            #expect(b > 99_000 && b <= 100_001)
            // incr: created with its TTL, kept afterwards; without a TTL, none.
            _ = try await store.incr("n", by: 1, ttl: 10, on: loop).get()
            let first = try await pttl(fixture, "n")
            _ = try await store.incr("n", by: 1, ttl: 1_000, on: loop).get()
            let second = try await pttl(fixture, "n")
            #expect(first > 5_000 && first <= 10_000 && second <= first)
            _ = try await store.incr("m", on: loop).get()
            #expect(try await pttl(fixture, "m") == -1)
            // A TTL on a key that existed without one is not added by incr.
            try await store.set("c", to: "5", on: loop).get()
            #expect(try await store.incr("c", by: 1, ttl: 10, on: loop).get() == 6)
            #expect(try await pttl(fixture, "c") == -1)
        }
    }

    @Test func getNowSaysWait() async throws {
        try await RedisFixture.with { fixture async throws in
            let store = RedisStateStore(client: fixture.client)
            try await store.set("a", to: "1", on: fixture.callerLoop).get()
            #expect(store.getNow("a") == nil)
        }
    }

    /// A key of another type is refused as the wrong type (as the memory store refuses a hash),
    /// and left alone.
    @Test func incrOnAnotherTypeIsWrongType() async throws {
        try await RedisFixture.with { fixture async throws in
            let store = RedisStateStore(client: fixture.client)
            _ = try await fixture.client.send("SADD", "s", "f").get()
            #expect(await stateErrorCode { _ = try await store.incr("s", on: fixture.callerLoop).get() } == .wrongType)
            #expect(await stateErrorCode { _ = try await store.get("s", on: fixture.callerLoop).get() } == .wrongType)
            #expect(try await fixture.client.send("SCARD", "s").get().integer == 1)
        }
    }

    /// A restarted Redis (or SCRIPT FLUSH) forgets scripts: EVALSHA's NOSCRIPT falls back to EVAL.
    @Test func forgottenScriptIsSentAgain() async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (RedisStateStore(client: fixture.client), fixture.callerLoop)
            #expect(try await store.incr("n", on: loop).get() == 1)
            #expect(await eventually { RedisStateStore.incrScript.digest != nil })
            #expect(try await store.incr("n", on: loop).get() == 2)
            _ = try await fixture.client.send("SCRIPT", "FLUSH").get()
            #expect(try await store.incr("n", on: loop).get() == 3)
            #expect(try await store.incr("n", on: loop).get() == 4)
            let digest = try #require(RedisStateStore.incrScript.digest)
            let exists = try await fixture.client.send("SCRIPT", "EXISTS", digest).get()
            #expect(exists == .array([.integer(1)]), "the EVAL after NOSCRIPT cached it again")
        }
    }
}
