#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Wall-clock milliseconds since 1970: `updated_at` and the cut-off of `purge`. Stores take it
/// as a closure so tests can move time instead of sleeping.
package typealias WallClock = @Sendable () -> Int64

func systemWallClock() -> Int64 {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
}

/// The `updated_at` before which `purge(untouchedFor: seconds)` deletes, or nil when the age is
/// refused (negative, NaN, infinite). An age too long to subtract gives `Int64.min`: nothing
/// is that old. Never traps on a large Double.
func purgeCutoff(untouchedFor seconds: Double, now: Int64) throws(DocumentStoreError) -> Int64 {
    guard seconds.isFinite, seconds >= 0 else {
        throw DocumentStoreError(.invalidArgument, "purge needs a finite age of 0 seconds or more, got \(seconds)")
    }
    let milliseconds = (seconds * 1000).rounded(.down)
    // 2^62 ms is 146 million years: anything longer cuts off nothing.
    guard milliseconds < 0x1p62 else { return Int64.min }
    let (cutoff, overflow) = now.subtractingReportingOverflow(Int64(milliseconds))
    return overflow ? Int64.min : cutoff
}
