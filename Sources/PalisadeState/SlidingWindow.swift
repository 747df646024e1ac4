/// One key's counters for `RateLimiter`'s formula: a ring of buckets covering the window, each
/// with its count and the offsets of its first and last counted hit. O(window / bucket) in size
/// (12 bytes a bucket). A pure value; `MemoryRateLimiter` keeps one per key under a lock.
///
/// Within a bucket, the `count` hits are modelled as evenly spaced from `first` to `last`:
/// hit `k` (0-based) at `first + floor(k × (last - first) / (count - 1))`. That is exact for a
/// bucket holding one or two hits, a burst at one instant, or a steady stream, and the hits of a
/// bucket are otherwise misplaced only within that bucket's own first-to-last span.
struct SlidingWindow: Sendable {
    struct Bucket: Sendable {
        var count: UInt32 = 0
        /// Milliseconds from the bucket's start to its first and last counted hit.
        var first: UInt32 = 0
        var last: UInt32 = 0
    }

    let geometry: RateLimitGeometry
    /// Bucket `i` at `buckets[i mod slotCount]`, for the `slotCount` buckets up to `newest`.
    private var buckets: [Bucket]
    /// The latest time seen; time never runs backwards for a key, whatever the clock does.
    private var latest: Int64
    /// The counts of every bucket in the ring, summed: `count(at:)` then only looks at the
    /// buckets the window's lower edge has reached (one or two) instead of the whole ring.
    private var ringTotal: Int64 = 0
    private var newest: Int64 { geometry.bucketIndex(latest) }

    init(geometry: RateLimitGeometry, now: Int64) {
        self.geometry = geometry
        self.buckets = Array(repeating: Bucket(), count: geometry.slotCount)
        self.latest = now
    }

    /// Decides a hit at `now`; counts it if allowed, or if `countRefused`.
    mutating func hit(limit: Int, countRefused: Bool, now: Int64) -> RateLimitResult {
        advance(to: now)
        var counted = count(at: latest)
        let allowed = counted < Int64(limit)
        if (allowed || countRefused) && record(at: latest) {
            counted += 1
        }
        let retryMs = allowed ? 0 : earliestAllowed(limit: limit) - latest
        return RateLimitResult(
            allowed: allowed,
            remaining: Int(max(0, Int64(limit) - counted)),
            retryAfter: Double(retryMs) / 1000
        )
    }

    /// True when no counted hit is left in the window at `now`: forgetting the key changes nothing.
    func isIdle(at now: Int64) -> Bool {
        count(at: max(now, latest)) == 0
    }

    /// A window with another geometry that holds this one's count at `now`, all placed at the
    /// latest counted hit (every one of them happened at or before it, so none is forgotten
    /// early). Used when a reload retunes a limit: a flood is neither reset nor blocked longer
    /// than the new window from its last counted hit.
    func carried(into geometry: RateLimitGeometry, now: Int64) -> SlidingWindow {
        let now = max(now, latest)
        var carried = SlidingWindow(geometry: geometry, now: now)
        let counted = count(at: now)
        guard counted > 0, let lastHit = latestHit, lastHit > now - geometry.windowMs else { return carried }
        let index = geometry.bucketIndex(lastHit)
        let offset = UInt32(lastHit - index * geometry.bucketMs)
        let kept = UInt32(min(counted, Int64(UInt32.max)))
        carried.buckets[carried.slot(index)] = Bucket(count: kept, first: offset, last: offset)
        carried.ringTotal = Int64(kept)
        return carried
    }

    // MARK: the formula

    /// Counted hits in the window `(t - window, t]`, for `t >= latest`: the ring's total less
    /// the hits at or before the edge, which only buckets up to the edge's own can hold.
    func count(at t: Int64) -> Int64 {
        let edge = t - geometry.windowMs
        let last = min(newest, geometry.bucketIndex(edge))
        var total = ringTotal
        var index = oldestStored
        while index <= last {
            let bucket = buckets[slot(index)]
            if bucket.count > 0 { total -= out(bucket, index, edge: edge) }
            index += 1
        }
        return total
    }

    /// How many of the bucket's modelled hits are at or before `edge` (out of the window):
    /// `#{k : first + floor(k × span / (count - 1)) <= edge}`, which is
    /// `ceil((edge - first + 1) × (count - 1) / span)` while the edge is inside the span.
    private func out(_ bucket: Bucket, _ index: Int64, edge: Int64) -> Int64 {
        let start = index * geometry.bucketMs
        let first = start + Int64(bucket.first)
        let last = start + Int64(bucket.last)
        let count = Int64(bucket.count)
        if edge < first { return 0 }
        if edge >= last { return count }
        // first <= edge < last: the span is positive and there are at least two hits.
        let span = Int128(last - first)
        let passed = Int128(edge - first + 1) * Int128(count - 1)
        return min(count, Int64((passed + span - 1) / span))
    }

    /// Time of the bucket's `k`th modelled hit (0-based).
    private func time(ofHit k: Int64, in bucket: Bucket, _ index: Int64) -> Int64 {
        let first = index * geometry.bucketMs + Int64(bucket.first)
        guard bucket.count > 1 else { return first }
        let span = Int128(bucket.last - bucket.first)
        return first + Int64(Int128(k) * span / Int128(bucket.count - 1))
    }

    /// The earliest `t > latest` at which fewer than `limit` counted hits are in the window,
    /// if nothing more is counted: the moment the `excess`th oldest hit still in the window
    /// leaves it, `window` after its (modelled) time.
    private func earliestAllowed(limit: Int) -> Int64 {
        let edge = latest - geometry.windowMs
        var excess = count(at: latest) - Int64(limit) + 1
        for index in oldestStored...newest {
            let bucket = buckets[slot(index)]
            guard bucket.count > 0 else { continue }
            let gone = out(bucket, index, edge: edge)
            let inside = Int64(bucket.count) - gone
            if inside < excess {
                excess -= inside
                continue
            }
            return time(ofHit: gone + excess - 1, in: bucket, index) + geometry.windowMs
        }
        return latest  // unreachable when refused: the excess is within the counted hits
    }

    // MARK: the ring

    private var oldestStored: Int64 { newest - Int64(buckets.count) + 1 }

    private func slot(_ index: Int64) -> Int {
        let size = Int64(buckets.count)
        let remainder = index % size
        return Int(remainder < 0 ? remainder + size : remainder)
    }

    /// The time of the latest counted hit still in the ring.
    private var latestHit: Int64? {
        for index in stride(from: newest, through: oldestStored, by: -1) {
            let bucket = buckets[slot(index)]
            if bucket.count > 0 { return index * geometry.bucketMs + Int64(bucket.last) }
        }
        return nil
    }

    /// Counts a hit at `latest` in the newest bucket; false when that bucket's count is saturated.
    private mutating func record(at t: Int64) -> Bool {
        let slot = self.slot(newest)
        let offset = UInt32(t - newest * geometry.bucketMs)
        guard buckets[slot].count < UInt32.max else { return false }
        if buckets[slot].count == 0 { buckets[slot].first = offset }
        buckets[slot].last = offset
        buckets[slot].count += 1
        ringTotal += 1
        return true
    }

    /// Moves `latest` to `now` (if later) and empties the buckets that enter the ring.
    private mutating func advance(to now: Int64) {
        guard now > latest else { return }
        let previous = newest
        latest = now
        let entering = newest - previous
        guard entering > 0 else { return }
        if entering >= Int64(buckets.count) {
            for slot in buckets.indices { buckets[slot] = Bucket() }
            ringTotal = 0
        } else {
            for index in (previous + 1)...newest {
                ringTotal -= Int64(buckets[slot(index)].count)
                buckets[slot(index)] = Bucket()
            }
        }
    }
}
