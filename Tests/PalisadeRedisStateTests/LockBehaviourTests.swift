import NIOCore
import PalisadeRedis
import PalisadeRedisState
import PalisadeRedisTestSupport
import PalisadeState
import Testing

/// The lock primitives (`setIfAbsent`, `writeIfHeld`) behave alike on every backend, as redis-py's
/// `Lock` and Open WebUI's fenced encryption writes expect.
@Suite("State store locks", .serialized)
struct LockBehaviourTests {
    @Test(arguments: StoreKind.allCases)
    func onlyTheFirstTakerGetsTheLock(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            #expect(try await store.setIfAbsent("lock", to: "a", ttl: 10, on: loop).get())
            #expect(try await !store.setIfAbsent("lock", to: "b", ttl: 10, on: loop).get(), "held by a")
            #expect(try await store.get("lock", on: loop).get() == "a")
            _ = try await store.hset("hash", field: "f", to: "v", on: loop).get()
            #expect(try await !store.setIfAbsent("hash", to: "b", ttl: 10, on: loop).get(), "a hash is a present key too")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func theLockExpiresWithItsTTL(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            #expect(try await store.setIfAbsent("lock", to: "a", ttl: 0.05, on: loop).get())
            try await Task.sleep(for: .milliseconds(120))
            #expect(try await store.setIfAbsent("lock", to: "b", ttl: 10, on: loop).get(), "a's lock ran out")
            let late = try await store.writeIfHeld(guardKey: "lock", expected: "a", key: "state", value: "x", ttl: nil, on: loop).get()
            #expect(!late, "a holder whose lock expired cannot write")
            #expect(try await store.get("state", on: loop).get() == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func writesAndDeletesOnlyUnderTheHeldLock(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            _ = try await store.setIfAbsent("lock", to: "mine", ttl: 10, on: loop).get()
            #expect(try await store.writeIfHeld(guardKey: "lock", expected: "mine", key: "state", value: "v1", ttl: 1, on: loop).get())
            #expect(try await store.get("state", on: loop).get() == "v1")
            #expect(try await !store.writeIfHeld(guardKey: "lock", expected: "theirs", key: "state", value: "v2", ttl: nil, on: loop).get())
            #expect(try await store.get("state", on: loop).get() == "v1", "a wrong token changes nothing")
            try await Task.sleep(for: .milliseconds(1_200))
            #expect(try await store.get("state", on: loop).get() == nil, "the write's TTL applies")
            _ = try await store.writeIfHeld(guardKey: "lock", expected: "mine", key: "state", value: "v3", ttl: nil, on: loop).get()
            #expect(try await store.writeIfHeld(guardKey: "lock", expected: "mine", key: "state", value: nil, ttl: nil, on: loop).get())
            #expect(try await store.get("state", on: loop).get() == nil, "nil deletes")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func releaseIsTheGuardDeletingItself(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            _ = try await store.setIfAbsent("lock", to: "mine", ttl: 10, on: loop).get()
            #expect(try await !store.writeIfHeld(guardKey: "lock", expected: "other", key: "lock", value: nil, ttl: nil, on: loop).get())
            #expect(try await store.writeIfHeld(guardKey: "lock", expected: "mine", key: "lock", value: nil, ttl: nil, on: loop).get())
            #expect(try await store.setIfAbsent("lock", to: "next", ttl: 10, on: loop).get(), "released")
        }
    }

    /// Many keys, so the guard and the written key land in different memory shards too.
    @Test(arguments: StoreKind.allCases)
    func guardAndKeyInAnyShards(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            _ = try await store.setIfAbsent("g", to: "t", ttl: 10, on: loop).get()
            for index in 0..<40 {
                #expect(
                    try await store.writeIfHeld(guardKey: "g", expected: "t", key: "k\(index)", value: "\(index)", ttl: nil, on: loop).get()
                )
                #expect(try await store.get("k\(index)", on: loop).get() == "\(index)")
            }
        }
    }
}
