import NIOCore

/// The cross-connection key/value store behind `px.store.get/set/incr/del(key[, value, ttl_s])`.
///
/// Semantics are Redis's, so a Redis backend can replace the memory one without a policy
/// noticing:
/// - Keys are used exactly as given and compared byte for byte; the caller adds the
///   `{prefix}:` namespace.
/// - Values are strings; the Lua side serialises anything else.
/// - A TTL is in seconds, finite, positive and at most 1e9; it is kept to the millisecond,
///   rounded up. Anything else fails with `StateError.Code.invalidArgument`.
/// - An expired key is absent for every operation, at once, whether or not it has been
///   reclaimed yet.
///
/// Every operation is asynchronous and completes on `loop`, so a Lua hook can yield on it
/// whatever the backend. The memory backend completes immediately.
public protocol StateStore: Sendable {
    /// The value, or nil when the key is absent or expired (Redis `GET`).
    func get(_ key: String, on loop: any EventLoop) -> EventLoopFuture<String?>

    /// `get`'s answer at once, for a backend that needs no I/O (memory): `.some(value)`, the
    /// value itself nil when the key is absent. Nil when the backend must wait (Redis), and
    /// then `get` is the way. Saves the hook a future and its callbacks per read.
    func getNow(_ key: String) -> String??

    /// Stores `value`, replacing any value and TTL; with `ttl` nil the key never expires
    /// (Redis `SET key value [PX ms]`).
    func set(_ key: String, to value: String, ttl: Double?, on loop: any EventLoop) -> EventLoopFuture<Void>

    /// Adds `delta` to the integer in `key` atomically and returns the new value; an absent or
    /// expired key counts as 0 and is created with `ttl` (nil: no expiry). An existing key keeps
    /// its TTL, as with Redis `INCRBY`. Fails with `notAnInteger` when the value is not a
    /// decimal 64-bit integer, `overflow` when the sum leaves that range.
    func incr(_ key: String, by delta: Int64, ttl: Double?, on loop: any EventLoop) -> EventLoopFuture<Int64>

    /// Removes the key; true when a live (unexpired) key was removed (Redis `DEL`).
    func del(_ key: String, on loop: any EventLoop) -> EventLoopFuture<Bool>
}

extension StateStore {
    public func getNow(_ key: String) -> String?? { nil }

    public func set(_ key: String, to value: String, on loop: any EventLoop) -> EventLoopFuture<Void> {
        set(key, to: value, ttl: nil, on: loop)
    }

    public func incr(_ key: String, on loop: any EventLoop) -> EventLoopFuture<Int64> {
        incr(key, by: 1, ttl: nil, on: loop)
    }
}
