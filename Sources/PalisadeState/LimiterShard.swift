/// One lock stripe of `MemoryRateLimiter`: its keys' sliding windows in use order.
/// A value type mutated only inside its shard's lock.
struct LimiterShard: Sendable {
    /// How far from the least recently hit end eviction and the sweep look for idle keys
    /// before settling: keeps both O(1) per call whatever the shard's size.
    static let idleLookahead = 16

    let maxKeys: Int
    private var windows = LRUTable<SlidingWindow>()

    init(maxKeys: Int) {
        self.maxKeys = maxKeys
    }

    var count: Int { windows.count }

    mutating func hit(
        _ key: ByteKey,
        geometry: RateLimitGeometry,
        limit: Int,
        countRefused: Bool,
        now: Int64
    ) -> RateLimitResult {
        let known = windows.use(key) { window in
            if window.geometry != geometry { window = window.carried(into: geometry, now: now) }
            return window.hit(limit: limit, countRefused: countRefused, now: now)
        }
        if let known { return known }
        if windows.count >= maxKeys { evictOne(now: now) }
        var window = SlidingWindow(geometry: geometry, now: now)
        let result = window.hit(limit: limit, countRefused: countRefused, now: now)
        windows.insert(key, window)
        return result
    }

    /// Makes room for one key: the first idle key among the `idleLookahead` least recently hit,
    /// else the least recently hit key (whose count is then lost: the bound wins over that key).
    private mutating func evictOne(now: Int64) {
        guard let oldest = windows.oldestHandle else { return }
        var candidate: LRUTable<SlidingWindow>.Handle? = oldest
        for _ in 0..<Self.idleLookahead {
            guard let handle = candidate else { break }
            if windows.value(at: handle).isIdle(at: now) {
                windows.remove(at: handle)
                return
            }
            candidate = windows.newer(than: handle)
        }
        windows.remove(at: oldest)
    }

    /// Forgets idle keys, walking from the least recently hit; stops after `idleLookahead` live
    /// keys in a row, since keys hit later are mostly live too. Returns how many were removed.
    mutating func sweep(now: Int64) -> Int {
        var removed = 0
        var live = 0
        var candidate = windows.oldestHandle
        while let handle = candidate, live < Self.idleLookahead {
            candidate = windows.newer(than: handle)
            if windows.value(at: handle).isIdle(at: now) {
                windows.remove(at: handle)
                removed += 1
                live = 0
            } else {
                live += 1
            }
        }
        return removed
    }
}
