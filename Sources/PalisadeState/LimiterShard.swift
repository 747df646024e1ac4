/// One lock stripe of `MemoryRateLimiter`: its keys' windows, in the order they were last
/// fetched. A value type changed only inside its shard's lock; the windows themselves are
/// hit without it (`SlidingWindow`).
struct LimiterShard: Sendable {
    /// How far from the least recently fetched end eviction and the sweep look before settling:
    /// keeps both O(1) per call whatever the shard's size.
    static let idleLookahead = 16

    let maxKeys: Int
    private var windows = LRUTable<SlidingWindow>()

    init(maxKeys: Int) {
        self.maxKeys = maxKeys
    }

    var count: Int { windows.count }
    /// Calls of `window(for:)`: how often a hit needed the table (and its lock).
    private(set) var fetches = 0

    /// The window to hit `key` with, under `geometry`: the key's own, made the most recently
    /// fetched; or, when the key's window has another geometry, a new one carrying its count
    /// (the old one retired); or a new one, evicting a key if the shard is full.
    mutating func window(for key: ByteKey, geometry: RateLimitGeometry, now: Int64) -> SlidingWindow {
        fetches += 1
        let known = windows.use(key) { window in
            if window.geometry != geometry { window = window.retireCarrying(into: geometry, now: now) }
            return window
        }
        if let known { return known }
        if windows.count >= maxKeys { evictOne(now: now) }
        let window = SlidingWindow(geometry: geometry, now: now)
        windows.insert(key, window)
        return window
    }

    /// Makes room for one key, looking at most `idleLookahead` keys from the least recently
    /// fetched end: the first idle one is evicted. Failing that, the walk starts again from that
    /// end: a key hit past the table since the walk last passed it
    /// (`SlidingWindow.markReferenced`) gets a second chance, moved to the newest end; the first
    /// key without one is evicted, its count lost (the bound wins over that key). If every key
    /// walked had a second chance, the first of them goes.
    private mutating func evictOne(now: Int64) {
        var candidate = windows.oldestHandle
        for _ in 0..<Self.idleLookahead {
            guard let handle = candidate else { break }
            if windows.value(at: handle).retireIfIdle(at: now) {
                windows.remove(at: handle)
                return
            }
            candidate = windows.newer(than: handle)
        }
        var firstChanced: LRUTable<SlidingWindow>.Handle?
        for _ in 0..<min(Self.idleLookahead, windows.count) {
            guard let handle = windows.oldestHandle else { return }
            guard windows.value(at: handle).takeReferenced() else { return evict(handle, now: now) }
            windows.makeNewest(handle)
            firstChanced = firstChanced ?? handle
        }
        if let victim = firstChanced ?? windows.oldestHandle { evict(victim, now: now) }
    }

    private mutating func evict(_ handle: LRUTable<SlidingWindow>.Handle, now: Int64) {
        windows.value(at: handle).retire(at: now)
        windows.remove(at: handle)
    }

    /// Forgets idle keys, walking from the least recently fetched and moving live keys to the
    /// newest end; stops after `idleLookahead` live keys in a row (keys fetched later are
    /// mostly live too) or once every key has been looked at. Returns how many were removed.
    mutating func sweep(now: Int64) -> Int {
        var removed = 0
        var live = 0
        for _ in 0..<windows.count {
            guard live < Self.idleLookahead, let handle = windows.oldestHandle else { break }
            if windows.value(at: handle).retireIfIdle(at: now) {
                windows.remove(at: handle)
                removed += 1
                live = 0
            } else {
                windows.makeNewest(handle)
                live += 1
            }
        }
        return removed
    }
}
