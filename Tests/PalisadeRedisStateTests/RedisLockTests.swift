import NIOCore
import PalisadeRedis
import PalisadeRedisTestSupport
import Testing

@testable import PalisadeRedisState

/// The owner-checked lock, with two holders on two clients as two instances would be.
@Suite("RedisLock", .serialized)
struct RedisLockTests {
    @Test func twoHoldersCompeteAndOnlyOneWins() async throws {
        try await RedisFixture.with { fixture async throws in
            let other = try fixture.makeClient()
            try await other.waitUntilUp(timeout: .seconds(30)).get()
            let first = RedisLock(client: fixture.client, name: "palisade:tick:lock", owner: "a", ttl: .seconds(30))
            let second = RedisLock(client: other, name: "palisade:tick:lock", owner: "b", ttl: .seconds(30))
            async let firstWon = first.acquire(on: fixture.callerLoop).get()
            async let secondWon = second.acquire(on: fixture.callerLoop).get()
            let (a, b) = try await (firstWon, secondWon)
            #expect(a != b, "exactly one of two competing holders gets the lock")
            let (winner, loser) = a ? (first, second) : (second, first)
            #expect(try await winner.renew(on: fixture.callerLoop).get())
            #expect(try await !loser.renew(on: fixture.callerLoop).get(), "a holder without the lock cannot renew it")
            #expect(try await !loser.release(on: fixture.callerLoop).get(), "nor release it")
            #expect(try await winner.release(on: fixture.callerLoop).get())
            #expect(try await loser.acquire(on: fixture.callerLoop).get(), "released: the other takes it")
            try await other.close().get()
        }
    }

    @Test func whenTheWinnerDiesTheOtherTakesOverAndTheOldOwnerCannotRenew() async throws {
        try await RedisFixture.with { fixture async throws in
            let winner = RedisLock(client: fixture.client, name: "palisade:cleanup:lock", owner: "a", ttl: .milliseconds(300))
            let other = RedisLock(client: fixture.client, name: "palisade:cleanup:lock", owner: "b", ttl: .seconds(30))
            #expect(try await winner.acquire(on: fixture.callerLoop).get())
            #expect(try await !other.hold(on: fixture.callerLoop).get(), "held: the other waits")
            // The winner stops renewing (it died): its TTL runs out and the other takes over.
            let tookOver = try await eventually(10) { try await other.hold(on: fixture.callerLoop).get() }
            #expect(tookOver)
            #expect(try await !winner.renew(on: fixture.callerLoop).get(), "a renew after losing the lock fails")
            #expect(try await !winner.release(on: fixture.callerLoop).get(), "and its release leaves the new owner's lock alone")
            #expect(try await fixture.client.send("GET", "palisade:cleanup:lock").get().string == "b")
        }
    }

    @Test func renewingExtendsTheTTL() async throws {
        try await RedisFixture.with { fixture async throws in
            let lock = RedisLock(client: fixture.client, name: "palisade:l", owner: "a", ttl: .seconds(60))
            #expect(try await lock.acquire(on: fixture.callerLoop).get())
            // Shortened well below the lock's TTL, yet long enough to outlast a loaded machine's pause.
            _ = try await fixture.client.send("PEXPIRE", "palisade:l", 5_000).get()
            #expect(try await lock.renew(on: fixture.callerLoop).get())
            let ttl = try #require(try await fixture.client.send("PTTL", "palisade:l").get().integer)
            #expect(ttl > 30_000, "renewed to the lock's TTL")
        }
    }
}
