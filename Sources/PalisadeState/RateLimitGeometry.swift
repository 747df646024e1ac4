/// A limit's window and bucket lengths in milliseconds, validated and clamped. Public so that
/// another backend (Redis) lays out the same buckets as the memory limiter.
public struct RateLimitGeometry: Hashable, Sendable {
    public let windowMs: Int64
    public let bucketMs: Int64

    /// Buckets a key keeps: enough to cover the window wherever its lower edge falls,
    /// `ceil(window / bucket) + 1`.
    public var slotCount: Int { Int((windowMs + bucketMs - 1) / bucketMs) + 1 }

    /// `bucket` nil means a tenth of the window; the result is clamped to
    /// `[window / maxBuckets, window]` (rounded up) and to at least 1 ms, so a key's state stays
    /// at most `maxBuckets + 1` counters and a bucket never outlasts the window.
    public init(window: Double, bucket: Double?, maxBuckets: Int) throws(StateError) {
        let windowMs = try Seconds.milliseconds(window, "window")
        let requested = try bucket.map { bucket throws(StateError) in try Seconds.milliseconds(bucket, "bucket") } ?? windowMs / 10
        let smallest = (windowMs + Int64(maxBuckets) - 1) / Int64(maxBuckets)
        let bucketMs = min(windowMs, max(requested, smallest, 1))
        // Hit offsets inside a bucket are kept as UInt32 milliseconds (49.7 days); only a window
        // of over 13 years at 100 buckets would need more.
        guard bucketMs <= Int64(UInt32.max) else {
            throw StateError(.invalidArgument, "window \(window) s needs buckets over 49 days; use a shorter window")
        }
        self.windowMs = windowMs
        self.bucketMs = bucketMs
    }

    public init(windowMs: Int64, bucketMs: Int64) {
        precondition(windowMs >= 1 && bucketMs >= 1 && bucketMs <= windowMs && bucketMs <= Int64(UInt32.max))
        self.windowMs = windowMs
        self.bucketMs = bucketMs
    }

    /// The bucket holding the instant `ms` (floor division, so negative test times work too).
    public func bucketIndex(_ ms: Int64) -> Int64 {
        let quotient = ms / bucketMs
        return ms % bucketMs < 0 ? quotient - 1 : quotient
    }
}
