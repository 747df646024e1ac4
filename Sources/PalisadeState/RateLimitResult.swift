/// The answer to one `RateLimiter.hit`, what `px.ratelimit.hit` returns to Lua.
public struct RateLimitResult: Hashable, Sendable {
    /// Whether this hit is within the limit.
    public var allowed: Bool
    /// How many more hits would be allowed right now, after this one (0 when refused).
    public var remaining: Int
    /// Seconds until the earliest moment a hit would be allowed, if nothing else is counted
    /// meanwhile; 0 when allowed. Millisecond resolution.
    public var retryAfter: Double

    public init(allowed: Bool, remaining: Int, retryAfter: Double) {
        self.allowed = allowed
        self.remaining = remaining
        self.retryAfter = retryAfter
    }
}
