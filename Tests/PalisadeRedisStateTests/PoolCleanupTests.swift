import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PalisadeRedis
import PalisadeRedisState
import PalisadeRedisTestSupport
import PalisadeState
import Testing

/// Open WebUI's pool cleanups: what a sweep deletes (on every backend), and the schedule that
/// runs one only while holding Open WebUI's lock, survives errors and stops.
@Suite("Pool cleanups", .serialized)
struct PoolCleanupTests {
    static func entry(lastSeen: Double) -> String {
        #"{"id":"u","last_seen_at":\#(Int(lastSeen)),"chat_ids":[]}"#
    }

    @Test(arguments: StoreKind.allCases)
    func reaperDeletesOnlyStaleEntries(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            let now = 1_000_000.0
            for index in 0..<450 {
                _ = try await store.hset("pool", field: "stale\(index)", to: Self.entry(lastSeen: now - 121), on: loop).get()
            }
            _ = try await store.hset("pool", field: "edge", to: Self.entry(lastSeen: now - 120), on: loop).get()
            _ = try await store.hset("pool", field: "fresh", to: Self.entry(lastSeen: now), on: loop).get()
            _ = try await store.hset("pool", field: "unreadable", to: "{", on: loop).get()
            _ = try await store.hset("pool", field: "no-time", to: #"{"id":"u"}"#, on: loop).get()
            let reaper = SessionPoolReaper(store: store, key: "pool", timeout: 120)
            #expect(try await reaper.sweep(now: now, on: loop).get() == 450)
            let left = try await store.hgetall("pool", maxFields: 1_000, on: loop).get().map(\.field)
            #expect(Set(left) == ["edge", "fresh", "unreadable", "no-time"], "exactly the timeout old is not stale yet")
            #expect(try await reaper.sweep(now: now, on: loop).get() == 0)
            #expect(try await SessionPoolReaper(store: store, key: "absent", timeout: 120).sweep(now: now, on: loop).get() == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func usageCleanupDropsSilentSocketsAndEmptyModels(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            let now = 1_000.0
            let pool: [(String, String)] = [
                ("gone", #"{"a":{"updated_at":990}}"#),
                ("mixed", #"{"a":{"updated_at":996},"b":{"updated_at":997},"c":{"updated_at":"x"}}"#),
                ("fresh", #"{"a":{"updated_at":1000}}"#),
                ("odd", #"["not","an","object"]"#),
            ]
            for (model, value) in pool { _ = try await store.hset("usage", field: model, to: value, on: loop).get() }
            let cleanup = UsagePoolCleanup(store: store, key: "usage")
            #expect(try await cleanup.sweep(now: now, on: loop).get() == 2)
            #expect(try await store.hget("usage", field: "gone", on: loop).get() == nil)
            #expect(try await store.hget("usage", field: "mixed", on: loop).get() == #"{"b":{"updated_at":997}}"#)
            #expect(try await store.hget("usage", field: "fresh", on: loop).get() == #"{"a":{"updated_at":1000}}"#)
            #expect(
                try await store.hget("usage", field: "odd", on: loop).get() == #"["not","an","object"]"#,
                "a shape it does not know is left alone")
        }
    }

    /// A job counter for the schedule tests; `failing` jobs fail (as a Redis error would).
    final class Runs: Sendable {
        private let box = NIOLockedValueBox<[NIODeadline]>([])
        private let failures: Int

        init(failing failures: Int = 0) { self.failures = failures }

        var count: Int { box.withLockedValue { $0.count } }
        var times: [NIODeadline] { box.withLockedValue { $0 } }

        func job(on loop: any EventLoop) -> @Sendable () -> EventLoopFuture<Int> {
            {
                let index = self.box.withLockedValue { runs in
                    runs.append(.now())
                    return runs.count
                }
                return index <= self.failures
                    ? loop.makeFailedFuture(RedisError(.connectionClosed, "test failure")) : loop.makeSucceededFuture(0)
            }
        }
    }

    @Test func scheduleRunsOnlyWhileHoldingTheLock() async throws {
        try await RedisFixture.with { fixture async throws in
            let loop = fixture.callerLoop
            _ = try await fixture.client.send("SET", "cleanup_lock", "open-webui", "EX", 60).get()
            let lock = RedisLock(client: fixture.client, name: "cleanup_lock", owner: "palisade", ttl: .seconds(4))
            let runs = Runs()
            let schedule = LockedSchedule(
                name: "test", lock: lock, client: fixture.client, interval: .milliseconds(100), loop: loop, logger: Logger(label: "test"),
                job: runs.job(on: loop))
            schedule.start()
            try await Task.sleep(for: .milliseconds(600))
            #expect(runs.count == 0, "another owner holds the lock")
            _ = try await fixture.client.send("DEL", "cleanup_lock").get()
            #expect(await eventually(10) { runs.count >= 3 }, "released: this holder takes it and runs every interval")
            #expect(try await fixture.client.send("GET", "cleanup_lock").get().string == "palisade")
            let ttl = try await fixture.client.send("PTTL", "cleanup_lock").get().integer ?? 0
            #expect(ttl > 1_000, "renewed at least every half TTL, while running every interval")
            schedule.stop()
            #expect(
                try await eventually(5) { try await fixture.client.send("EXISTS", "cleanup_lock").get().integer == 0 }, "released on stop")
            let stoppedAt = runs.count
            try await Task.sleep(for: .milliseconds(400))
            #expect(runs.count == stoppedAt, "no run after stop")
        }
    }

    @Test func scheduleSurvivesAnErrorReleasesTheLockAndRetriesAfterHalfToAllOfItsTTL() async throws {
        try await RedisFixture.with { fixture async throws in
            let loop = fixture.callerLoop
            let lock = RedisLock(client: fixture.client, name: "cleanup_lock", owner: "palisade", ttl: .seconds(2))
            let runs = Runs(failing: 1)
            let schedule = LockedSchedule(
                name: "test", lock: lock, client: fixture.client, interval: .milliseconds(100), loop: loop, logger: Logger(label: "test"),
                job: runs.job(on: loop))
            schedule.start()
            #expect(await eventually(10) { runs.count >= 1 })
            #expect(
                try await eventually(1) { try await fixture.client.send("EXISTS", "cleanup_lock").get().integer == 0 },
                "the failed holder released its lock at once")
            #expect(await eventually(10) { runs.count >= 2 }, "and ran again later")
            let times = runs.times
            let gap = times[1] - times[0]
            // The upper bound leaves a loaded machine 1.5 s of slack past the TTL.
            #expect(gap >= .milliseconds(950) && gap <= .milliseconds(3_500), "retried after \(gap.nanoseconds / 1_000_000) ms")
            schedule.stop()
        }
    }

    @Test func timersAreOpenWebUIs() {
        let defaults = PoolCleanupSettings(environment: [:])
        #expect(defaults.sessionTimeout == 120 && defaults.sessionInterval == .seconds(30) && defaults.lockTTL == .seconds(60))
        #expect(defaults.usageInterval == .seconds(3))
        #expect(PoolCleanupSettings(environment: ["WEBSOCKET_HEARTBEAT_INTERVAL": "10"]).sessionTimeout == 120, "at least 120 s")
        #expect(PoolCleanupSettings(environment: ["WEBSOCKET_HEARTBEAT_INTERVAL": "60"]).sessionTimeout == 240, "4 heartbeats")
        #expect(PoolCleanupSettings(environment: ["WEBSOCKET_HEARTBEAT_INTERVAL": "x"]).sessionTimeout == 120)
        let short = PoolCleanupSettings(environment: ["PALISADE_SESSION_POOL_TIMEOUT": "1", "WEBSOCKET_REDIS_LOCK_TIMEOUT": "5"])
        #expect(short.sessionTimeout == 1 && short.sessionInterval == .milliseconds(500) && short.lockTTL == .seconds(5))
        #expect(PoolCleanupSettings(environment: ["WEBSOCKET_REDIS_LOCK_TIMEOUT": "-1"]).lockTTL == .seconds(60))
    }

    @Test func withoutALockTheScheduleRunsByItself() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let runs = Runs(failing: 1)
        let schedule = LockedSchedule(
            name: "test", lock: nil, client: nil, interval: .milliseconds(100), loop: loop, logger: Logger(label: "test"),
            job: runs.job(on: loop))
        schedule.start()
        #expect(await eventually(10) { runs.count >= 3 }, "every interval, a failure only skipping to the next")
        schedule.stop()
    }
}
