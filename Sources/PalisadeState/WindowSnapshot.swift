/// `RateLimiter`'s formula over one key's buckets as read at one moment: the buckets
/// `oldest...newest` (the ring `SlidingWindow` keeps), each with its count and the offsets of
/// its first and last counted hit, in memory the caller owns (a stack buffer per hit).
///
/// Within a bucket, the `count` hits are modelled as evenly spaced from `first` to `last`:
/// hit `k` (0-based) at `first + floor(k × (last - first) / (count - 1))`. That is exact for a
/// bucket holding one or two hits, a burst at one instant, or a steady stream, and the hits of a
/// bucket are otherwise misplaced only within that bucket's own first-to-last span.
struct WindowSnapshot {
    struct Bucket: Sendable, Equatable {
        var count: UInt32 = 0
        /// Milliseconds from the bucket's start to its first and last counted hit.
        var first: UInt32 = 0
        var last: UInt32 = 0
    }

    let geometry: RateLimitGeometry
    /// The bucket of the time the snapshot was read at.
    let newest: Int64
    /// Bucket `oldest + k` at `buckets[k]`, for the `geometry.slotCount` buckets up to `newest`.
    let buckets: UnsafeMutableBufferPointer<Bucket>
    /// The buckets' counts summed, kept by whoever fills or changes them.
    var total: Int64 = 0

    var oldest: Int64 { newest - Int64(buckets.count) + 1 }

    subscript(index: Int64) -> Bucket {
        get { buckets[Int(index - oldest)] }
        nonmutating set { buckets[Int(index - oldest)] = newValue }
    }

    /// Counted hits in the window `(t - window, t]`, for `t` in the newest bucket: every stored
    /// hit less those at or before the edge, which only buckets up to the edge's own can hold
    /// (one or two: the ring starts just before the edge).
    func count(at t: Int64) -> Int64 {
        let edge = t - geometry.windowMs
        let last = min(newest, geometry.bucketIndex(edge))
        var count = total
        var index = oldest
        while index <= last {
            let bucket = self[index]
            if bucket.count > 0 { count -= out(bucket, index, edge: edge) }
            index += 1
        }
        return count
    }

    /// The earliest `t' > t` at which fewer than `limit` counted hits are in the window, if
    /// nothing more is counted: the moment the `excess`th oldest hit still in the window leaves
    /// it, `window` after its (modelled) time.
    func earliestAllowed(limit: Int, after t: Int64) -> Int64 {
        let edge = t - geometry.windowMs
        var excess = count(at: t) - Int64(limit) + 1
        for index in oldest...newest {
            let bucket = self[index]
            guard bucket.count > 0 else { continue }
            let gone = out(bucket, index, edge: edge)
            let inside = Int64(bucket.count) - gone
            if inside < excess {
                excess -= inside
                continue
            }
            return time(ofHit: gone + excess - 1, in: bucket, index) + geometry.windowMs
        }
        return t  // unreachable when refused: the excess is within the counted hits
    }

    /// The time of the latest counted hit in the snapshot.
    var latestHit: Int64? {
        for index in stride(from: newest, through: oldest, by: -1) {
            let bucket = self[index]
            if bucket.count > 0 { return index * geometry.bucketMs + Int64(bucket.last) }
        }
        return nil
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
}
