#if canImport(Glibc)
    import Glibc
#endif

/// Wall-clock time in Unix seconds.
enum UnixTime {
    static func now() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
