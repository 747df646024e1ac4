import NIOCore
import NIOPosix
import PalisadeRedis
import PalisadeRedisState
import PalisadeState
import Testing

/// `MemoryStateStore`'s behaviours (its own suite in PalisadeStateTests), checked on every
/// backend alike. The memory suite moves a manual clock; here TTLs run on the real clock, with
/// margins a loaded machine keeps (the Redis suite checks the TTLs to the millisecond with PTTL).
@Suite("State store behaviour", .serialized)
struct StoreBehaviourTests {
    @Test(arguments: StoreKind.allCases)
    func setThenGetThenDel(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            #expect(try await store.get("a", on: loop).get() == nil)
            try await store.set("a", to: "1", on: loop).get()
            #expect(try await store.get("a", on: loop).get() == "1")
            try await store.set("a", to: "two", on: loop).get()
            #expect(try await store.get("a", on: loop).get() == "two")
            #expect(try await store.del("a", on: loop).get())
            #expect(try await !store.del("a", on: loop).get())
            #expect(try await store.get("a", on: loop).get() == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func futuresCompleteOnTheGivenLoop(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            let futures = [
                store.get("a", on: loop).map { _ in loop.inEventLoop },
                store.set("a", to: "1", on: loop).map { _ in loop.inEventLoop },
                store.incr("n", on: loop).map { _ in loop.inEventLoop },
                store.del("a", on: loop).map { _ in loop.inEventLoop },
            ]
            for future in futures {
                #expect(future.eventLoop === loop)
                #expect(try await future.get(), "the callback ran on the caller's loop")
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func keysAreComparedByBytes(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            try await store.set("user:caf\u{E9}", to: "composed", on: loop).get()
            try await store.set("user:cafe\u{301}", to: "decomposed", on: loop).get()
            #expect(try await store.get("user:caf\u{E9}", on: loop).get() == "composed")
            #expect(try await store.get("user:cafe\u{301}", on: loop).get() == "decomposed")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func keyExpiresAfterItsTTL(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            try await store.set("a", to: "1", ttl: 60, on: loop).get()
            try await store.set("b", to: "1", ttl: 0.2, on: loop).get()
            #expect(try await eventually { try await store.get("b", on: loop).get() == nil })
            #expect(try await !store.del("b", on: loop).get(), "expired counts as absent")
            #expect(try await store.get("a", on: loop).get() == "1")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func setWithoutTTLClearsAnEarlierTTL(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            try await store.set("a", to: "1", ttl: 0.1, on: loop).get()
            try await store.set("a", to: "2", on: loop).get()
            try await store.set("probe", to: "x", ttl: 0.2, on: loop).get()
            #expect(try await eventually { try await store.get("probe", on: loop).get() == nil })
            #expect(try await store.get("a", on: loop).get() == "2")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func invalidTTLsAreRefused(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            for ttl in [0, -1, .nan, .infinity, 2e9] as [Double] {
                #expect(await stateErrorCode { try await store.set("a", to: "1", ttl: ttl, on: loop).get() } == .invalidArgument)
                #expect(await stateErrorCode { _ = try await store.incr("n", by: 1, ttl: ttl, on: loop).get() } == .invalidArgument)
            }
            #expect(try await store.get("a", on: loop).get() == nil)
            #expect(try await store.get("n", on: loop).get() == nil)
        }
    }

    /// The first `incr` sets the TTL, later ones keep it (Redis INCR's rule): the counter is gone
    /// after its first TTL although the second call asked for 100 s.
    @Test(arguments: StoreKind.allCases)
    func incrCreatesWithTTLAndKeepsItAfterwards(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            #expect(try await store.incr("n", by: 1, ttl: 0.3, on: loop).get() == 1)
            #expect(try await store.incr("n", by: 5, ttl: 100, on: loop).get() == 6)
            #expect(try await eventually { try await store.get("n", on: loop).get() == nil })
            // Expired, it counts from zero again with a new TTL.
            #expect(try await store.incr("n", by: -2, ttl: 60, on: loop).get() == -2)
            #expect(try await store.incr("n", on: loop).get() == -1)
            #expect(try await store.get("n", on: loop).get() == "-1")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func incrRefusesWhatRedisRefuses(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            for value in ["abc", "", " 1", "1 ", "+5", "007", "-0", "1.5", "99999999999999999999"] {
                try await store.set("v", to: value, on: loop).get()
                #expect(await stateErrorCode { _ = try await store.incr("v", on: loop).get() } == .notAnInteger, "value \(value)")
                #expect(try await store.get("v", on: loop).get() == value)  // untouched
            }
            for (value, expected) in [("0", 1), ("-12", -11), ("41", 42)] as [(String, Int64)] {
                try await store.set("v", to: value, on: loop).get()
                #expect(try await store.incr("v", on: loop).get() == expected)
            }
            try await store.set("v", to: String(Int64.max - 1), on: loop).get()
            #expect(try await store.incr("v", on: loop).get() == Int64.max, "exact at the top of the range")
            #expect(await stateErrorCode { _ = try await store.incr("v", on: loop).get() } == .overflow)
            try await store.set("v", to: String(Int64.min), on: loop).get()
            #expect(await stateErrorCode { _ = try await store.incr("v", by: -1, ttl: nil, on: loop).get() } == .overflow)
        }
    }

    /// 4 loops × 1,000 increments of one key: no update is lost and each new value is returned once.
    @Test(arguments: StoreKind.allCases)
    func incrIsAtomicAcrossThreads(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let store = kind.makeStore(fixture)
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 4)
            let returned = try await withThrowingTaskGroup(of: [Int64].self) { tasks in
                for _ in 0..<4 {
                    let loop = group.next()
                    tasks.addTask {
                        try await loop.flatSubmit {
                            EventLoopFuture.whenAllSucceed((0..<1_000).map { _ in store.incr("counter", on: loop) }, on: loop)
                        }.get()
                    }
                }
                return try await tasks.reduce(into: [Int64]()) { $0 += $1 }
            }
            try await group.shutdownGracefully()
            #expect(returned.count == 4_000)
            #expect(Set(returned) == Set(1...4_000))
            #expect(try await store.get("counter", on: fixture.callerLoop).get() == "4000")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func entriesLargerThanTheBoundAreRefused(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture, maxEntryBytes: 500), fixture.callerLoop)
            let big = String(repeating: "x", count: 500)
            #expect(await stateErrorCode { try await store.set("big", to: big, on: loop).get() } == .entryTooLarge)
            #expect(try await store.get("big", on: loop).get() == nil)
            try await store.set("small", to: String(repeating: "y", count: 100), on: loop).get()
            #expect(try await store.get("small", on: loop).get()?.count == 100)
        }
    }
}
