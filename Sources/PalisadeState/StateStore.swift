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
/// - A key holds a string or a hash (field → string, fields compared byte for byte). A hash
///   operation on a string key, or `get`/`incr` on a hash key, fails with `wrongType`; `set` and
///   `del` replace or remove either. A hash is created by its first `hset`, has no TTL, and is
///   gone when its last field is deleted.
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

    /// Sets `field` of the hash `key` to `value`; true when the field is new (Redis `HSET`).
    /// Fails with `entryTooLarge` when key, field and value together pass the entry limit.
    func hset(_ key: String, field: String, to value: String, on loop: any EventLoop) -> EventLoopFuture<Bool>

    /// The value of `field` in the hash `key`, or nil (Redis `HGET`).
    func hget(_ key: String, field: String, on loop: any EventLoop) -> EventLoopFuture<String?>

    /// Removes `fields` from the hash `key`; how many were there (Redis `HDEL`).
    func hdel(_ key: String, fields: [String], on loop: any EventLoop) -> EventLoopFuture<Int>

    /// Every field of the hash `key` (empty when absent), in no particular order, as Redis
    /// `HGETALL` but bounded: a hash of more than `maxFields` fields fails with `tooLarge`
    /// (decided before anything is copied).
    func hgetall(_ key: String, maxFields: Int, on loop: any EventLoop) -> EventLoopFuture<[HashField]>

    /// One step of a walk over the hash `key`, as Redis `HSCAN key cursor COUNT count`: start with
    /// cursor "0", go on with the answer's cursor until it is "0" again. A field present the whole
    /// walk is seen at least once; `count` is a hint (a backend may answer every field at once).
    func hscan(_ key: String, cursor: String, count: Int, on loop: any EventLoop) -> EventLoopFuture<HashScanPage>

    /// Stores `value` with `ttl` only when `key` is absent (a string or a hash); true when stored
    /// (Redis `SET key value NX PX ms`). What a lock's taker calls.
    func setIfAbsent(_ key: String, to value: String, ttl: Double, on loop: any EventLoop) -> EventLoopFuture<Bool>

    /// Atomically: when the string `guardKey` holds `expected`, sets `key` to `value` with `ttl`
    /// (nil: no expiry), or removes `key` when `value` is nil, and answers true; otherwise
    /// changes nothing and answers false. A lock's holder writes under its lock with it (a write
    /// after the lock expired or passed to another is refused), and releases it with
    /// `guardKey == key` and `value` nil. In Redis, one script.
    func writeIfHeld(
        guardKey: String, expected: String, key: String, value: String?, ttl: Double?, on loop: any EventLoop
    ) -> EventLoopFuture<Bool>
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
