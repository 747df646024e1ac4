/// Log-linear histogram of nanosecond values, HdrHistogram-style: 64 linear sub-buckets per
/// power of two, so every recorded value is kept within 1/64 (1.6 %) of itself. Fixed size
/// (2 304 counters cover up to 2^40 ns, about 18 minutes), one array index per record.
struct LatencyHistogram: Sendable {
    static let subBucketBits = 6
    static let subBuckets = 1 << subBucketBits
    static let bucketCount = (40 - subBucketBits + 2) * subBuckets

    private(set) var counts = [UInt64](repeating: 0, count: bucketCount)
    private(set) var total: UInt64 = 0
    private(set) var maximum: UInt64 = 0

    @inline(__always)
    static func index(of value: UInt64) -> Int {
        if value < UInt64(2 * subBuckets) { return Int(value) }
        let shift = (63 - value.leadingZeroBitCount) - subBucketBits
        return (shift + 1) * subBuckets + Int(value >> UInt64(shift)) - subBuckets
    }

    /// The largest value that lands in bucket `index` (percentiles report upper edges).
    static func upperBound(of index: Int) -> UInt64 {
        if index < 2 * subBuckets { return UInt64(index) }
        let shift = index / subBuckets - 1
        let sub = UInt64(index % subBuckets + subBuckets)
        return ((sub + 1) << UInt64(shift)) - 1
    }

    @inline(__always)
    mutating func record(_ nanoseconds: UInt64) {
        let index = min(Self.index(of: nanoseconds), Self.bucketCount - 1)
        counts[index] &+= 1
        total &+= 1
        if nanoseconds > maximum { maximum = nanoseconds }
    }

    mutating func merge(_ other: LatencyHistogram) {
        for index in counts.indices { counts[index] &+= other.counts[index] }
        total &+= other.total
        maximum = max(maximum, other.maximum)
    }

    /// The value at quantile `q` (0…1), in nanoseconds; 0 when empty.
    func percentile(_ q: Double) -> UInt64 {
        guard total > 0 else { return 0 }
        let rank = max(1, UInt64((Double(total) * q).rounded(.up)))
        var seen: UInt64 = 0
        for (index, count) in counts.enumerated() where count > 0 {
            seen += count
            if seen >= rank { return min(Self.upperBound(of: index), maximum) }
        }
        return maximum
    }
}
