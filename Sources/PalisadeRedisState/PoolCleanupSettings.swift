import NIOCore

/// The timers of Open WebUI's pool cleanups, read from the environment as Open WebUI reads them
/// (reference §5):
/// - `SESSION_POOL_TIMEOUT`: `max(4 × WEBSOCKET_HEARTBEAT_INTERVAL, 120)` s when that is set,
///   else 120 s; `PALISADE_SESSION_POOL_TIMEOUT` (seconds) sets it outright (tests use a short one);
/// - the locks' TTL: `WEBSOCKET_REDIS_LOCK_TIMEOUT` (60 s).
/// A value that is not a positive number of seconds is ignored.
public struct PoolCleanupSettings: Sendable, Equatable {
    /// Seconds after `last_seen_at` when a session pool entry is stale.
    public var sessionTimeout: Double
    /// How often the reaper sweeps: a quarter of the timeout, within [0.5 s, 30 s].
    public var sessionInterval: TimeAmount
    /// How often the usage cleanup runs (Open WebUI's `TIMEOUT_DURATION`, also the sids' expiry).
    public var usageInterval: TimeAmount = .seconds(3)
    public var lockTTL: TimeAmount

    public init(environment: [String: String]) {
        if let timeout = Self.seconds(environment["PALISADE_SESSION_POOL_TIMEOUT"]) {
            sessionTimeout = timeout
        } else if let heartbeat = Self.seconds(environment["WEBSOCKET_HEARTBEAT_INTERVAL"]) {
            sessionTimeout = max(4 * heartbeat, 120)
        } else {
            sessionTimeout = 120
        }
        sessionInterval = .milliseconds(Int64(1000 * min(max(sessionTimeout / 4, 0.5), 30)))
        lockTTL = .milliseconds(Int64(1000 * (Self.seconds(environment["WEBSOCKET_REDIS_LOCK_TIMEOUT"]) ?? 60)))
    }

    /// A positive, finite number of seconds (at most 1e9), or nil.
    private static func seconds(_ text: String?) -> Double? {
        guard let value = text.flatMap(Double.init), value.isFinite, value > 0, value <= 1e9 else { return nil }
        return value
    }
}
