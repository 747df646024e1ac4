import NIOCore
import PalisadeJSON
import PalisadeState

/// Expires Open WebUI's usage pool (`{prefix}:usage_pool`, model id → JSON
/// `{sid: {"updated_at": seconds}}`), as its `periodic_usage_pool_cleanup` does: sids whose last
/// report is older than `expiry` go, and a model left without any is deleted. Like Open WebUI's,
/// it reads and writes a model back without a transaction: a report landing in between can be
/// lost, and the client's next one (a second later) puts it back.
public struct UsagePoolCleanup: Sendable {
    public let store: any StateStore
    public let key: String
    /// `TIMEOUT_DURATION`, in seconds.
    public var expiry: Double

    public init(store: any StateStore, key: String, expiry: Double = 3) {
        self.store = store
        self.key = key
        self.expiry = expiry
    }

    /// One sweep at wall-clock `now` (seconds); how many models it changed or deleted.
    public func sweep(now: Double, on loop: any EventLoop) -> EventLoopFuture<Int> {
        let (store, key, expiry) = (store, key, expiry)
        return HashWalk(store: store, key: key).run(on: loop) { fields in
            var gone: [String] = []
            var writes: [EventLoopFuture<Bool>] = []
            for entry in fields {
                guard let kept = Self.fresh(entry.value, now: now, expiry: expiry) else { continue }
                if kept.isEmpty {
                    gone.append(entry.field)
                } else {
                    writes.append(store.hset(key, field: entry.field, to: JSONWriter.string(.object(kept)), on: loop))
                }
            }
            let changed = gone.count + writes.count
            if !gone.isEmpty { writes.append(store.hdel(key, fields: gone, on: loop).map { _ in true }) }
            return EventLoopFuture.whenAllSucceed(writes, on: loop).map { _ in changed }
        }
    }

    /// The sids of `entry` reported within `expiry`; nil when nothing changes (all are fresh, or
    /// the entry is not the shape this cleanup knows).
    public static func fresh(_ entry: String, now: Double, expiry: Double) -> [JSONMember]? {
        guard case .object(let sids) = try? JSONParser.parse(entry) else { return nil }
        let kept = sids.filter { member in
            guard let updatedAt = member.value["updated_at"]?.doubleValue else { return false }
            return now - updatedAt <= expiry
        }
        return kept.count == sids.count ? nil : kept
    }
}
