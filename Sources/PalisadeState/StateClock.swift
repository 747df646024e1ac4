import NIOCore

/// Where the memory store and rate limiter read the time, in milliseconds.
///
/// Injected so tests can move time by hand. The default is monotonic (system uptime), not wall
/// time: TTLs and windows are durations, and a wall-clock step (NTP, a VM resume) must neither
/// expire every key at once nor keep them forever. Only differences between readings matter.
public struct StateClock: Sendable {
    /// Reads the current time in milliseconds.
    public let milliseconds: @Sendable () -> Int64

    public init(milliseconds: @escaping @Sendable () -> Int64) {
        self.milliseconds = milliseconds
    }

    /// Milliseconds since an arbitrary point (the system's uptime clock, via `NIODeadline`).
    public static let monotonic = StateClock {
        Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000)
    }
}
