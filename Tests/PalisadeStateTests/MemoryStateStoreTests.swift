import NIOCore
import NIOPosix
import Testing

@testable import PalisadeState

@Suite("MemoryStateStore")
struct MemoryStateStoreTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()

    private func makeStore(_ configuration: MemoryStateStore.Configuration = .init()) -> (MemoryStateStore, ManualClock) {
        let clock = ManualClock()
        return (MemoryStateStore(configuration: configuration, clock: clock.stateClock), clock)
    }

    private func code(_ body: () async throws -> Void) async -> StateError.Code? {
        do {
            try await body()
            return nil
        } catch let error as StateError {
            return error.code
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    // MARK: get, set, del

    @Test func setThenGetThenDel() async throws {
        let (store, _) = makeStore()
        #expect(try await store.get("a", on: loop).get() == nil)
        try await store.set("a", to: "1", on: loop).get()
        #expect(try await store.get("a", on: loop).get() == "1")
        try await store.set("a", to: "two", on: loop).get()
        #expect(try await store.get("a", on: loop).get() == "two")
        #expect(try await store.del("a", on: loop).get())
        #expect(try await !store.del("a", on: loop).get())
        #expect(try await store.get("a", on: loop).get() == nil)
    }

    /// `getNow` answers what `get` does, without a future: the value, or an absent key as
    /// `.some(nil)` (a bare nil would tell the caller to wait for `get`).
    @Test func getNowAnswersAtOnceAsGetDoes() async throws {
        let (store, clock) = makeStore()
        #expect(store.getNow("a") == .some(nil))
        try await store.set("a", to: "1", ttl: 1, on: loop).get()
        #expect(store.getNow("a") == .some("1"))
        clock.advance(by: 1000)
        #expect(store.getNow("a") == .some(nil), "expired")
    }

    @Test func futuresCompleteOnTheGivenLoop() {
        let (store, _) = makeStore()
        #expect(store.get("a", on: loop).eventLoop === loop)
        #expect(store.set("a", to: "1", on: loop).eventLoop === loop)
        #expect(store.incr("n", on: loop).eventLoop === loop)
        #expect(store.del("a", on: loop).eventLoop === loop)
    }

    /// Redis compares keys byte for byte; Swift's String equality would merge these two.
    @Test func keysAreComparedByBytes() async throws {
        let (store, _) = makeStore()
        try await store.set("user:caf\u{E9}", to: "composed", on: loop).get()
        try await store.set("user:cafe\u{301}", to: "decomposed", on: loop).get()
        #expect(try await store.get("user:caf\u{E9}", on: loop).get() == "composed")
        #expect(try await store.get("user:cafe\u{301}", on: loop).get() == "decomposed")
        #expect(store.count == 2)
    }

    // MARK: TTL

    @Test func keyExpiresExactlyAtItsTTL() async throws {
        let (store, clock) = makeStore()
        try await store.set("a", to: "1", ttl: 1.5, on: loop).get()
        clock.advance(by: 1_499)
        #expect(try await store.get("a", on: loop).get() == "1")
        clock.advance(by: 1)
        #expect(try await store.get("a", on: loop).get() == nil)
        #expect(try await !store.del("a", on: loop).get())  // expired counts as absent
        #expect(store.count == 0)  // and the read reclaimed it
    }

    @Test func setWithoutTTLClearsAnEarlierTTL() async throws {
        let (store, clock) = makeStore()
        try await store.set("a", to: "1", ttl: 1, on: loop).get()
        try await store.set("a", to: "2", on: loop).get()
        clock.advance(by: 5_000)
        #expect(try await store.get("a", on: loop).get() == "2")
        #expect(store.sweep() == 0)
    }

    @Test func invalidTTLsAreRefused() async throws {
        let (store, _) = makeStore()
        for ttl in [0, -1, .nan, .infinity, 2e9] as [Double] {
            #expect(await code { try await store.set("a", to: "1", ttl: ttl, on: loop).get() } == .invalidArgument)
            #expect(await code { _ = try await store.incr("n", by: 1, ttl: ttl, on: loop).get() } == .invalidArgument)
        }
        #expect(store.count == 0)
        // A tiny positive TTL rounds up to a millisecond instead of expiring at once.
        try await store.set("a", to: "1", ttl: 0.0001, on: loop).get()
        #expect(try await store.get("a", on: loop).get() == "1")
    }

    // MARK: incr

    @Test func incrCreatesWithTTLAndKeepsItAfterwards() async throws {
        let (store, clock) = makeStore()
        #expect(try await store.incr("n", by: 1, ttl: 10, on: loop).get() == 1)
        clock.advance(by: 6_000)
        // A later TTL does not extend the key: Redis INCR keeps the TTL it finds.
        #expect(try await store.incr("n", by: 5, ttl: 10, on: loop).get() == 6)
        clock.advance(by: 3_999)
        #expect(try await store.get("n", on: loop).get() == "6")
        clock.advance(by: 1)
        #expect(try await store.get("n", on: loop).get() == nil)
        // Expired, it counts from zero again with a new TTL.
        #expect(try await store.incr("n", by: -2, ttl: 1, on: loop).get() == -2)
        #expect(try await store.incr("n", on: loop).get() == -1)
    }

    @Test func incrRefusesWhatRedisRefuses() async throws {
        let (store, _) = makeStore()
        for value in ["abc", "", " 1", "1 ", "+5", "007", "-0", "1.5", "99999999999999999999"] {
            try await store.set("v", to: value, on: loop).get()
            #expect(await code { _ = try await store.incr("v", on: loop).get() } == .notAnInteger, "value \(value)")
            #expect(try await store.get("v", on: loop).get() == value)  // untouched
        }
        for (value, expected) in [("0", 1), ("-12", -11), ("41", 42)] as [(String, Int64)] {
            try await store.set("v", to: value, on: loop).get()
            #expect(try await store.incr("v", on: loop).get() == expected)
        }
        try await store.set("v", to: String(Int64.max), on: loop).get()
        #expect(await code { _ = try await store.incr("v", on: loop).get() } == .overflow)
        try await store.set("v", to: String(Int64.min), on: loop).get()
        #expect(await code { _ = try await store.incr("v", by: -1, ttl: nil, on: loop).get() } == .overflow)
    }

    /// 4 loops × 5,000 increments of one key: no update is lost and each new value is returned once.
    @Test func incrIsAtomicAcrossThreads() async throws {
        let (store, _) = makeStore()
        let returned = try await withFourLoops { loops in
            try await withThrowingTaskGroup(of: [Int64].self) { tasks in
                for loop in loops {
                    tasks.addTask {
                        try await loop.flatSubmit {
                            EventLoopFuture.whenAllSucceed((0..<5_000).map { _ in store.incr("counter", on: loop) }, on: loop)
                        }.get()
                    }
                }
                return try await tasks.reduce(into: [Int64]()) { $0 += $1 }
            }
        }
        #expect(returned.count == 20_000)
        #expect(Set(returned) == Set(1...20_000))
        #expect(try await store.get("counter", on: loop).get() == "20000")
    }

    // MARK: sweep and bounds

    @Test func sweepRemovesExpiredKeysOnly() async throws {
        let (store, clock) = makeStore()
        for index in 0..<100 { try await store.set("short-\(index)", to: "x", ttl: 1, on: loop).get() }
        for index in 0..<50 { try await store.set("long-\(index)", to: "x", ttl: 60, on: loop).get() }
        for index in 0..<50 { try await store.set("forever-\(index)", to: "x", on: loop).get() }
        #expect(store.sweep() == 0)
        clock.advance(by: 1_000)
        #expect(store.sweep() == 100)
        #expect(store.count == 100)
        #expect(store.sweep(now: clock.now + 60_000) == 50)
        #expect(store.count == 50)
    }

    @Test func overwritesDoNotGrowTheExpiryIndexWithoutBound() async throws {
        let (store, clock) = makeStore(.init(shardCount: 1))
        for round in 0..<10_000 { try await store.set("a", to: "\(round)", ttl: 5, on: loop).get() }
        clock.advance(by: 5_000)
        #expect(store.sweep() == 1)
        #expect(store.count == 0)
    }

    @Test func manyKeysStayWithinTheKeyBound() async throws {
        for shardCount in [1, 4, 16] {
            let (store, _) = makeStore(.init(maxKeys: 100, shardCount: shardCount))
            for index in 0..<5_000 { try await store.set("key-\(index)", to: "x", ttl: Double(index % 90 + 1), on: loop).get() }
            #expect(store.count <= 100)
            #expect(store.count >= 100 - shardCount)
        }
    }

    /// `volatile-ttl`: expired first, then closest to expiry; keys without a TTL are never evicted.
    @Test func fullStoreEvictsClosestToExpiryAndNeverKeysWithoutTTL() async throws {
        let (store, clock) = makeStore(.init(maxKeys: 3, shardCount: 1))
        try await store.set("a", to: "1", ttl: 100, on: loop).get()
        try await store.set("b", to: "1", ttl: 10, on: loop).get()
        try await store.set("c", to: "1", on: loop).get()
        try await store.set("d", to: "1", ttl: 50, on: loop).get()  // evicts b (10 s)
        #expect(try await store.get("b", on: loop).get() == nil)
        #expect(try await store.get("a", on: loop).get() == "1")
        _ = try await store.incr("e", on: loop).get()  // no TTL; evicts d (50 s)
        #expect(try await store.get("d", on: loop).get() == nil)
        try await store.set("f", to: "1", on: loop).get()  // evicts a, the last key with a TTL
        #expect(try await store.get("a", on: loop).get() == nil)
        #expect(await code { try await store.set("g", to: "1", ttl: 1, on: loop).get() } == .full)
        #expect(await code { _ = try await store.incr("g", on: loop).get() } == .full)
        // Existing keys are untouched and can still be rewritten.
        try await store.set("c", to: "2", ttl: 5, on: loop).get()
        #expect(try await store.get("c", on: loop).get() == "2")
        #expect(try await store.get("e", on: loop).get() == "1")
        #expect(store.count == 3)
        // Once c expires, there is room again.
        clock.advance(by: 5_000)
        try await store.set("g", to: "1", on: loop).get()
        #expect(try await store.get("g", on: loop).get() == "1")
    }

    @Test func fullStoreEvictsExpiredKeysFirst() async throws {
        let (store, clock) = makeStore(.init(maxKeys: 2, shardCount: 1))
        try await store.set("soon", to: "1", ttl: 1, on: loop).get()
        try await store.set("later", to: "1", ttl: 100, on: loop).get()
        clock.advance(by: 2_000)
        try await store.set("new", to: "1", ttl: 200, on: loop).get()
        #expect(try await store.get("later", on: loop).get() == "1")
        #expect(try await store.get("new", on: loop).get() == "1")
    }

    @Test func byteBoundAndEntrySizeAreEnforced() async throws {
        let (store, _) = makeStore(.init(maxBytes: 10_000, maxEntryBytes: 500, shardCount: 1))
        let big = String(repeating: "x", count: 500)
        #expect(await code { try await store.set("big", to: big, on: loop).get() } == .entryTooLarge)
        let value = String(repeating: "y", count: 100)
        for index in 0..<1_000 { try await store.set("k\(index)", to: value, ttl: 60, on: loop).get() }
        // Each entry costs its key and value bytes plus 64.
        #expect(store.count <= 10_000 / (4 + 100 + 64))
        #expect(store.count >= 10_000 / (5 + 100 + 64) - 1)
    }

    @Test func scheduledSweepsReclaimExpiredKeys() async throws {
        let (store, clock) = makeStore()
        for index in 0..<10 { try await store.set("k\(index)", to: "x", ttl: 1, on: loop).get() }
        clock.advance(by: 1_000)
        let task = store.scheduleSweeps(on: loop, every: .milliseconds(5))
        defer { task.cancel() }
        for _ in 0..<400 where store.count > 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(store.count == 0)
    }
}
