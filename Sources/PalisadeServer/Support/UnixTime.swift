#if canImport(Glibc)
    import Glibc
#endif

/// Wall-clock time in Unix seconds.
public enum UnixTime {
    public static func now() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// The wall clock, to format later with `timestamp(of:)`.
    public static func wallClock() -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return now
    }

    /// `2025-01-31T12:34:56.789Z`, from the wall clock without Foundation's formatters.
    public static func timestamp() -> String {
        timestamp(of: wallClock())
    }

    /// `time` as `2025-01-31T12:34:56.789Z`.
    public static func timestamp(of now: timespec) -> String {
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return padded(Int(parts.tm_year) + 1900, 4) + "-" + padded(Int(parts.tm_mon) + 1, 2) + "-"
            + padded(Int(parts.tm_mday), 2) + "T" + padded(Int(parts.tm_hour), 2) + ":"
            + padded(Int(parts.tm_min), 2) + ":" + padded(Int(parts.tm_sec), 2) + "."
            + padded(Int(now.tv_nsec) / 1_000_000, 3) + "Z"
    }
}
