import NIOCore
import PalisadeJSON
import PalisadeState

/// Deletes the entries of Open WebUI's session pool (`{prefix}:session_pool`, sid → JSON user
/// with `last_seen_at` in seconds) not seen for longer than `timeout`: the sockets of an
/// instance that died, whose disconnect never removed them. A page of `HSCAN` at a time, one
/// `HDEL` per page, as Open WebUI's `periodic_session_pool_cleanup` does. An entry whose
/// `last_seen_at` cannot be read is left alone (it is not ours to judge).
public struct SessionPoolReaper: Sendable {
    public let store: any StateStore
    public let key: String
    /// `SESSION_POOL_TIMEOUT`, in seconds.
    public let timeout: Double

    public init(store: any StateStore, key: String, timeout: Double) {
        self.store = store
        self.key = key
        self.timeout = timeout
    }

    /// One sweep at wall-clock `now` (seconds); how many entries it deleted.
    public func sweep(now: Double, on loop: any EventLoop) -> EventLoopFuture<Int> {
        let (store, key, timeout) = (store, key, timeout)
        return HashWalk(store: store, key: key).run(on: loop) { fields in
            let stale = fields.filter { Self.isStale($0.value, now: now, timeout: timeout) }.map(\.field)
            return stale.isEmpty ? loop.makeSucceededFuture(0) : store.hdel(key, fields: stale, on: loop)
        }
    }

    public static func isStale(_ entry: String, now: Double, timeout: Double) -> Bool {
        guard let lastSeen = (try? JSONParser.parse(entry))?["last_seen_at"]?.doubleValue else { return false }
        return now - lastSeen > timeout
    }
}
