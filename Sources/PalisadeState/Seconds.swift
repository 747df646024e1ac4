/// Durations cross the host API as seconds (`ttl_s`, `window_s`) and are kept in milliseconds.
/// Public so that every backend validates and rounds them alike.
public enum Seconds {
    /// The longest duration accepted, about 31 years: beyond any real TTL or window, and it keeps
    /// every millisecond sum far from `Int64` overflow.
    public static let maximum: Double = 1e9

    /// Converts a positive, finite number of seconds to whole milliseconds, rounding up so that
    /// a tiny positive duration is at least 1 ms rather than zero (which would mean "already over").
    public static func milliseconds(_ seconds: Double, _ what: String) throws(StateError) -> Int64 {
        guard seconds.isFinite, seconds > 0, seconds <= maximum else {
            throw StateError(.invalidArgument, "\(what) must be a number of seconds in (0, 1e9], got \(seconds)")
        }
        return max(1, Int64((seconds * 1000).rounded(.up)))
    }
}
