import Synchronization

/// One key's counters for `RateLimiter`'s formula, shared by every event loop that hits the key
/// and changed without a lock: a ring of buckets covering the window, each one 16-byte word
/// swapped with a compare-and-exchange.
///
/// A word holds its bucket's index (the low 32 bits, as a tag: a slot whose tag is not the
/// bucket expected there is stale and reads as empty), count, and the offsets of its first and
/// last counted hit. A hit reads every slot into a `WindowSnapshot`, decides on it, and counts
/// itself by exchanging the newest slot's word for one with the hit added; if another loop
/// changed that word meanwhile, it reads and decides again. So concurrent hits in one bucket
/// never allow more than `limit`. (Hits from two loops a few microseconds apart on either side
/// of a bucket boundary each change a different slot and can each be allowed once at the
/// limit: at most one extra per loop, only at that instant.)
///
/// A window can be retired (evicted, or replaced by one with another geometry): every slot is
/// exchanged for a marker, and a hit that meets the marker answers nil, so its caller fetches the
/// key's window again. Retiring happens only under the limiter shard's lock, which that fetch
/// also takes, so the fetch finds either the window restored or its replacement.
final class SlidingWindow: @unchecked Sendable {  // the slots are touched only through atomics
    typealias Bucket = WindowSnapshot.Bucket

    let geometry: RateLimitGeometry
    private let slotCount: Int
    /// Bucket `i`'s word at `slots[i mod slotCount]`.
    private let slots: UnsafeMutablePointer<Atomic<WordPair>>
    /// The latest time seen; time never runs backwards for a key, whatever the clocks of the
    /// loops hitting it do.
    private let latest: Atomic<Int64>
    /// Set by hits that skip the shard's table (`markReferenced`), cleared by eviction's walk: a
    /// key hit that way since the walk last passed it gets a second chance
    /// (`LimiterShard.evictOne`), which keeps a hot key's count although its hits do not move it
    /// in the table's use order. A new key starts without one.
    private let referenced = Atomic<Bool>(false)

    /// Counts stop here, one short of the retired marker's.
    private static let maxCount = UInt32.max - 1
    private static let retired = WordPair(first: .max, second: .max)

    init(geometry: RateLimitGeometry, now: Int64) {
        self.geometry = geometry
        slotCount = geometry.slotCount
        slots = .allocate(capacity: slotCount)
        for slot in 0..<slotCount {
            (slots + slot).initialize(to: Atomic(WordPair(first: 0, second: 0)))
        }
        latest = Atomic(now)
    }

    deinit {
        slots.deinitialize(count: slotCount)
        slots.deallocate()
    }

    /// Decides a hit at `now`; counts it if allowed, or if `countRefused`. Nil when the window
    /// has been retired: the caller fetches the key's window again.
    func hit(limit: Int, countRefused: Bool, now: Int64) -> RateLimitResult? {
        let t = advance(to: now)
        let newest = geometry.bucketIndex(t)
        return withUnsafeTemporaryAllocation(of: Bucket.self, capacity: slotCount) { buffer in
            var snapshot = WindowSnapshot(geometry: geometry, newest: newest, buckets: buffer)
            while true {
                guard let newestWord = read(into: &snapshot) else { return nil }
                var counted = snapshot.count(at: t)
                let allowed = counted < Int64(limit)
                if allowed || countRefused, let recorded = recording(t, in: snapshot[newest], newest) {
                    let (exchanged, _) = slots[slot(newest)].compareExchange(
                        expected: newestWord, desired: Self.word(newest, recorded), ordering: .acquiringAndReleasing)
                    guard exchanged else { continue }  // another loop counted a hit first: decide again
                    snapshot[newest] = recorded
                    snapshot.total += 1
                    counted += 1
                }
                let retryMs = allowed ? 0 : snapshot.earliestAllowed(limit: limit, after: t) - t
                return RateLimitResult(
                    allowed: allowed,
                    remaining: Int(max(0, Int64(limit) - counted)),
                    retryAfter: Double(retryMs) / 1000
                )
            }
        }
    }

    /// True when no counted hit is left in the window at `now`: forgetting the key changes nothing.
    func isIdle(at now: Int64) -> Bool {
        let t = max(now, latest.load(ordering: .relaxed))
        return withUnsafeTemporaryAllocation(of: Bucket.self, capacity: slotCount) { buffer in
            var snapshot = WindowSnapshot(geometry: geometry, newest: geometry.bucketIndex(t), buckets: buffer)
            guard read(into: &snapshot) != nil else { return true }
            return snapshot.count(at: t) == 0
        }
    }

    /// A separate window holding the same counters, for asking "what if" without changing this
    /// one (tests probe the moment `retryAfter` names).
    func copied() -> SlidingWindow {
        let copy = SlidingWindow(geometry: geometry, now: latest.load(ordering: .relaxed))
        for slot in 0..<slotCount {
            copy.slots[slot].store(slots[slot].load(ordering: .acquiring), ordering: .relaxed)
        }
        return copy
    }

    /// Notes a hit that did not go through the shard's table (a caller held the window).
    func markReferenced() {
        if !referenced.load(ordering: .relaxed) { referenced.store(true, ordering: .relaxed) }
    }

    /// Clears the flag `markReferenced` sets; returns whether it was set.
    func takeReferenced() -> Bool {
        referenced.exchange(false, ordering: .relaxed)
    }

    // MARK: retiring (only under the shard's lock)

    /// Retires the window if it is idle at `now`; false (and the window as it was) when a hit is
    /// still in its window or lands while it is being retired.
    func retireIfIdle(at now: Int64) -> Bool {
        guard isIdle(at: now) else { return false }
        return retire(at: now, force: false) != nil
    }

    /// Retires the window whatever it holds and returns one with `geometry` that holds its
    /// count at `now`, all placed at its latest counted hit (every one of them happened at or
    /// before it, so none is forgotten early). Used when a reload retunes a limit: a flood is
    /// neither reset nor blocked longer than the new window from its last counted hit.
    func retireCarrying(into geometry: RateLimitGeometry, now: Int64) -> SlidingWindow {
        let now = max(now, latest.load(ordering: .relaxed))
        let carried = SlidingWindow(geometry: geometry, now: now)
        guard let (count, latestHit) = retire(at: now, force: true),
            count > 0, let lastHit = latestHit, lastHit > now - geometry.windowMs
        else { return carried }
        let index = geometry.bucketIndex(lastHit)
        let offset = UInt32(lastHit - index * geometry.bucketMs)
        let kept = UInt32(min(count, Int64(Self.maxCount)))
        carried.slots[carried.slot(index)].store(Self.word(index, Bucket(count: kept, first: offset, last: offset)), ordering: .releasing)
        return carried
    }

    /// Retires the window whatever it holds (eviction of a live key: its count is lost).
    func retire(at now: Int64) {
        _ = retire(at: now, force: true)
    }

    /// Exchanges every slot for the marker, oldest bucket first, and returns the count and
    /// latest hit they held. Unless `force`, a slot that changes under it (a hit landed) or a
    /// count above zero puts back every slot taken and answers nil.
    private func retire(at now: Int64, force: Bool) -> (count: Int64, latestHit: Int64?)? {
        let t = max(now, latest.load(ordering: .relaxed))
        return withUnsafeTemporaryAllocation(of: WordPair.self, capacity: slotCount) { taken in
            withUnsafeTemporaryAllocation(of: Bucket.self, capacity: slotCount) { buffer in
                var snapshot = WindowSnapshot(geometry: geometry, newest: geometry.bucketIndex(t), buckets: buffer)
                func putBack(_ count: Int) {
                    for k in 0..<count { slots[slot(snapshot.oldest + Int64(k))].store(taken[k], ordering: .releasing) }
                }
                for k in 0..<slotCount {
                    let index = snapshot.oldest + Int64(k)
                    var word = slots[slot(index)].load(ordering: .acquiring)
                    while true {
                        let (exchanged, current) = slots[slot(index)].compareExchange(
                            expected: word, desired: Self.retired, ordering: .acquiringAndReleasing)
                        if exchanged { break }
                        guard force else {
                            putBack(k)
                            return nil
                        }
                        word = current
                    }
                    taken[k] = word
                    let bucket = word == Self.retired ? Bucket() : Self.bucket(word, index)
                    snapshot[index] = bucket
                    snapshot.total += Int64(bucket.count)
                }
                let count = snapshot.count(at: t)
                guard force || count == 0 else {
                    putBack(slotCount)
                    return nil
                }
                return (count, snapshot.latestHit)
            }
        }
    }

    // MARK: slots

    /// Reads every slot into `snapshot`, oldest bucket first; returns the newest slot's word as
    /// read (what a hit exchanges), or nil when the window is retired.
    private func read(into snapshot: inout WindowSnapshot) -> WordPair? {
        var word = WordPair(first: 0, second: 0)
        var slot = self.slot(snapshot.oldest)
        var tag = UInt32(truncatingIfNeeded: snapshot.oldest)
        snapshot.total = 0
        for k in 0..<slotCount {
            word = slots[slot].load(ordering: .acquiring)
            if word == Self.retired { return nil }
            let bucket = Self.bucket(word, tag: tag)
            snapshot.buckets[k] = bucket
            snapshot.total += Int64(bucket.count)
            slot = slot + 1 == slotCount ? 0 : slot + 1
            tag &+= 1
        }
        return word
    }

    /// The newest bucket with a hit at `t` added; nil when its count is saturated.
    private func recording(_ t: Int64, in bucket: Bucket, _ index: Int64) -> Bucket? {
        let offset = UInt32(t - index * geometry.bucketMs)
        guard bucket.count > 0 else { return Bucket(count: 1, first: offset, last: offset) }
        guard bucket.count < Self.maxCount else { return nil }
        return Bucket(count: bucket.count + 1, first: min(bucket.first, offset), last: max(bucket.last, offset))
    }

    private func slot(_ index: Int64) -> Int {
        let size = Int64(slotCount)
        let remainder = index % size
        return Int(remainder < 0 ? remainder + size : remainder)
    }

    /// Moves `latest` to `now` if later; returns the time to decide at (the later of the two).
    private func advance(to now: Int64) -> Int64 {
        var seen = latest.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, current) = latest.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { return now }
            seen = current
        }
        return seen
    }

    /// Word layout: `first` is the tag (the bucket index's low 32 bits) and the count;
    /// `second` the first and last hit's offsets.
    private static func word(_ index: Int64, _ bucket: Bucket) -> WordPair {
        WordPair(
            first: UInt(UInt32(truncatingIfNeeded: index)) << 32 | UInt(bucket.count),
            second: UInt(bucket.first) << 32 | UInt(bucket.last)
        )
    }

    /// The bucket a word holds for `index`; empty when the word is for another bucket (stale).
    private static func bucket(_ word: WordPair, _ index: Int64) -> Bucket {
        bucket(word, tag: UInt32(truncatingIfNeeded: index))
    }

    /// The same, given the index's tag. (A slot left untouched for exactly a multiple of 2^32
    /// buckets would pass for current: 49 days at the smallest bucket, 1 ms, far past the sweep
    /// that forgets an idle key.)
    private static func bucket(_ word: WordPair, tag: UInt32) -> Bucket {
        let count = UInt32(truncatingIfNeeded: word.first)
        guard count > 0, UInt32(truncatingIfNeeded: word.first >> 32) == tag else { return Bucket() }
        return Bucket(count: count, first: UInt32(truncatingIfNeeded: word.second >> 32), last: UInt32(truncatingIfNeeded: word.second))
    }
}
