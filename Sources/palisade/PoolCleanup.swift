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
/// Without Redis both run on the memory store, without a lock.
///
/// Environment, as Open WebUI reads it: `WEBSOCKET_HEARTBEAT_INTERVAL` (the timeout is then
/// `max(4 × it, 120)` s, else 120 s), `WEBSOCKET_REDIS_LOCK_TIMEOUT` (the locks' TTL, 60 s).
/// `PALISADE_SESSION_POOL_TIMEOUT` (seconds) sets the timeout outright (tests use a short one).
struct PoolCleanup {
    let schedules: [LockedSchedule]

    /// Starts both cleanups on `loop` over `store` (the one behind `px.store`).
    static func start(
        store: any StateStore, link: RedisLink?, prefix: String, environment: [String: String], loop: any EventLoop, logger: Logger
    ) -> PoolCleanup {
        let sessionTimeout = sessionPoolTimeout(environment)
        let lockTTL = TimeAmount.milliseconds(Int64(1000 * (seconds(environment["WEBSOCKET_REDIS_LOCK_TIMEOUT"]) ?? 60)))
        let reaper = SessionPoolReaper(store: store, key: "\(prefix):session_pool", timeout: sessionTimeout)
        let usage = UsagePoolCleanup(store: store, key: "\(prefix):usage_pool")
        let now: @Sendable () -> Double = { Date().timeIntervalSince1970 }
        let schedules = [
            LockedSchedule(
                name: "session_pool", lock: link?.lock(name: "\(prefix):session_cleanup_lock", ttl: lockTTL), client: link?.client,
                interval: .milliseconds(Int64(1000 * min(max(sessionTimeout / 4, 0.5), 30))), loop: loop, logger: logger
            ) { reaper.sweep(now: now(), on: loop) },
            LockedSchedule(
                name: "usage_pool", lock: link?.lock(name: "\(prefix):usage_cleanup_lock", ttl: lockTTL), client: link?.client,
                interval: .seconds(3), loop: loop, logger: logger
            ) { usage.sweep(now: now(), on: loop) },
        ]
        for schedule in schedules { schedule.start() }
        return PoolCleanup(schedules: schedules)
    }

    func stop() {
        for schedule in schedules { schedule.stop() }
    }

    /// `SESSION_POOL_TIMEOUT` in seconds, as Open WebUI computes it (or Palisade's override).
    static func sessionPoolTimeout(_ environment: [String: String]) -> Double {
        if let timeout = seconds(environment["PALISADE_SESSION_POOL_TIMEOUT"]) { return timeout }
        if let heartbeat = seconds(environment["WEBSOCKET_HEARTBEAT_INTERVAL"]) { return max(4 * heartbeat, 120) }
        return 120
    }

    /// A positive, finite number of seconds, or nil.
    private static func seconds(_ text: String?) -> Double? {
        guard let value = text.flatMap(Double.init), value.isFinite, value > 0, value <= 1e9 else { return nil }
        return value
    }
}
