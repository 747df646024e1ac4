/// A rate-limit key made ready once (its bytes, kept contiguous, and their hash), for a caller
/// that hits the same keys again and again: `px.ratelimit.hit` keeps one per key string a
/// policy uses, so an event's hits make no string and hash no bytes.
///
/// It also keeps the memory limiter's window for the key once found, so a hit goes straight to
/// the window's counters without the limiter's table or its lock. Not for sharing: one caller
/// (one Lua runtime, on its loop) holds it.
public final class RateLimitKey {
    let key: ByteKey
    /// The window `MemoryRateLimiter` found for this key.
    var held: HeldWindow?

    public init(_ string: String) {
        key = ByteKey(string)
    }

    public var string: String { key.string }
}

/// A window a `RateLimitKey` keeps: which limiter it belongs to, and the window and bucket
/// lengths a hit asked for, so a hit with the same ones skips checking them again.
struct HeldWindow {
    let limiter: Int
    let window: SlidingWindow
    let seconds: Double
    let bucketSeconds: Double?
}
