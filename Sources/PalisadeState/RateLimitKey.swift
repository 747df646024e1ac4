/// A rate-limit key made ready once (its bytes, kept contiguous, and their hash), for a caller
/// that hits the same keys again and again: `px.ratelimit.hit` keeps one per key string a
/// policy uses, so an event's hits make no string and hash no bytes.
public struct RateLimitKey: Sendable {
    let key: ByteKey

    public init(_ string: String) {
        key = ByteKey(string)
    }

    public var string: String { key.string }
}
