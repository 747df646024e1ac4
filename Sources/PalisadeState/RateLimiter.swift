import NIOCore

/// The counters behind `px.ratelimit.hit(key, limit, window_s[, bucket_s])`.
///
/// ## Semantics: a sliding window that counts each hit for exactly `window`
///
/// A counted hit at time `h` is in the window at time `t` when `t - window < h <= t`: it counts
/// for exactly `window` after it happened, no longer. A hit at `t` is **allowed when fewer than
/// `limit` counted hits are in the window**, so `limit` hits pass, the next is refused, and a hit
/// is allowed again at the very millisecond the oldest counted one is `window` old. (Open
/// WebUI's limiter sums the current bucket and every bucket that started within the window, so
/// a hit keeps counting for up to `window + bucket`.)
///
/// To keep a key's state O(window / bucket) rather than O(limit), hits are kept per bucket of
/// `bucket` seconds (aligned to multiples of its length) as a count and the times of the
/// bucket's first and last counted hit; within a bucket the hits are taken as evenly spaced
/// between those two. The count is therefore exact when each bucket's hits are at most two, all
/// at one instant, or evenly spaced (a burst, a steady flood, a client at a regular rate).
/// Otherwise only the bucket that the window's lower edge cuts is approximate: its hits are
/// misplaced within its own first-to-last span, so they leave the window up to that span early
/// or late. Smaller buckets narrow this, at more memory.
///
/// `countRefused` decides whether a refused hit is counted too. Counted, a client that keeps
/// hitting stays refused for as long as it keeps hitting above the rate (right for a key the
/// client itself owns: its connection, user or IP). Not counted, refusals cost nothing, so a
/// third party hitting someone else's key (a sign-in keyed by the victim's name) cannot keep
/// the owner locked out (Open WebUI issue #21820).
///
/// `retryAfter` is the earliest time a hit would be allowed if nothing else were counted
/// meanwhile, exact to the millisecond for this formula.
///
/// Arguments: `limit` in [1, 2^32 - 1]; `window` in seconds, finite, positive, at most 1e9;
/// `bucket` in seconds, nil for `window / 10`, then clamped to `[window / maxBuckets, window]`
/// (see `MemoryRateLimiter.Configuration.maxBucketsPerWindow`) and at least 1 ms. Anything else
/// fails with `StateError.Code.invalidArgument`. Calls on one key are expected to use one
/// window and bucket; a call with different ones carries the current count over (see
/// `MemoryRateLimiter`).
///
/// Asynchronous and completing on `loop`, like `StateStore`, so a Redis backend (the same
/// buckets in a hash, updated by one server-side script) can replace the memory one.
public protocol RateLimiter: Sendable {
    func hit(
        _ key: String,
        limit: Int,
        window: Double,
        bucket: Double?,
        countRefused: Bool,
        on loop: any EventLoop
    ) -> EventLoopFuture<RateLimitResult>

    /// The same answer at once, for a backend that needs no I/O (memory); nil when the
    /// backend must wait (Redis), and then `hit` is the way. Saves a future per hit on the
    /// per-event path, and takes a key made ready once, in which the backend may keep what it
    /// found for the key (the memory backend keeps the key's window, so the next hit takes no
    /// lock). (Typed throws rather than a `Result`:
    /// a generic return type across a protocol cost a metadata lookup per hit.)
    func hitNow(
        _ key: RateLimitKey,
        limit: Int,
        window: Double,
        bucket: Double?,
        countRefused: Bool
    ) throws(StateError) -> RateLimitResult?
}

extension RateLimiter {
    public func hitNow(
        _ key: RateLimitKey, limit: Int, window: Double, bucket: Double?, countRefused: Bool
    ) throws(StateError) -> RateLimitResult? {
        nil
    }
}
