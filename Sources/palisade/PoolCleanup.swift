import Logging
import NIOCore
import PalisadeRedisState
import PalisadeState

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The two cleanups of Open WebUI's pools, under Open WebUI's own lock names so that its
/// backend and every Palisade instance take turns (reference §5):
/// - the session pool reaper (`{prefix}:session_cleanup_lock`): entries not seen for
///   `SESSION_POOL_TIMEOUT`, checked every quarter of it (0.5 s to 30 s);
/// - the usage cleanup (`{prefix}:usage_cleanup_lock`): every 3 s, sids silent for 3 s.
/// Without Redis both run on the memory store, without a lock. Timers: `PoolCleanupSettings`.
struct PoolCleanup {
    let schedules: [LockedSchedule]

    /// Starts both cleanups on `loop` over `store` (the one behind `px.store`).
    static func start(
        store: any StateStore, link: RedisLink?, prefix: String, environment: [String: String], loop: any EventLoop, logger: Logger
    ) -> PoolCleanup {
        let settings = PoolCleanupSettings(environment: environment)
        let reaper = SessionPoolReaper(store: store, key: "\(prefix):session_pool", timeout: settings.sessionTimeout)
        let usage = UsagePoolCleanup(store: store, key: "\(prefix):usage_pool")
        let now: @Sendable () -> Double = { Date().timeIntervalSince1970 }
        let schedules = [
            LockedSchedule(
                name: "session_pool", lock: link?.lock(name: "\(prefix):session_cleanup_lock", ttl: settings.lockTTL),
                client: link?.client, interval: settings.sessionInterval, loop: loop, logger: logger
            ) { reaper.sweep(now: now(), on: loop) },
            LockedSchedule(
                name: "usage_pool", lock: link?.lock(name: "\(prefix):usage_cleanup_lock", ttl: settings.lockTTL),
                client: link?.client, interval: settings.usageInterval, loop: loop, logger: logger
            ) { usage.sweep(now: now(), on: loop) },
        ]
        for schedule in schedules { schedule.start() }
        return PoolCleanup(schedules: schedules)
    }

    func stop() {
        for schedule in schedules { schedule.stop() }
    }
}
