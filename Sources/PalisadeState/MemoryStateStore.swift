import NIOConcurrencyHelpers
import NIOCore

/// The embedded `StateStore`: process memory, safe from every event loop, bounded.
///
/// Keys are spread over lock-striped shards (by a per-process seeded hash of their bytes), so
/// loops contend only when they touch the same stripe, and a lock is held for one map operation
/// and never while calling out. Futures are created after the lock is released and are already
/// complete.
///
/// Expired keys are invisible at once and reclaimed lazily (when touched), by `sweep(now:)`
/// (call it periodically, e.g. from `scheduleSweeps(on:every:)`), and by eviction.
///
/// When full, eviction is Redis's `volatile-ttl`: expired keys first, then the keys closest to
/// expiry; keys without a TTL are never evicted, and a write that needs room when only those are
/// left fails with `StateError.Code.full`. Why: this store holds revocation markers and bans
/// (which carry a TTL equal to the remaining life of what they block, so the one closest to
/// expiry is the one that matters least) and per-client counters an attacker can multiply.
/// Refusing writes when full would let such a flood block a revocation; evicting at random or
/// by LRU could drop a fresh revocation. A Redis deployment configured with
/// `maxmemory-policy volatile-ttl` behaves the same way.
public final class MemoryStateStore: StateStore {
    public struct Configuration: Sendable {
        /// Most keys held at once. Default 1,000,000: at about 100–200 bytes per small entry,
        /// a few hundred MB at most. Enforced per shard (`maxKeys / shardCount` each), so a
        /// shard may evict before the whole store is full.
        public var maxKeys: Int
        /// Most bytes held, counting key and value UTF-8 bytes plus 64 per entry. Default
        /// 256 MiB, so a policy storing large values cannot take the process's memory.
        public var maxBytes: Int
        /// Largest single key plus value; larger writes fail with `entryTooLarge`. Default 1 MiB
        /// (the Engine.IO payload limit's order of size). Capped at one shard's share of `maxBytes`.
        public var maxEntryBytes: Int
        /// Lock stripes. Default 16: enough that loops on a few cores rarely wait on each other,
        /// few enough that the per-shard bounds stay close to the global ones. Lowered to
        /// `maxKeys` when that is smaller.
        public var shardCount: Int

        public init(
            maxKeys: Int = 1_000_000,
            maxBytes: Int = 256 << 20,
            maxEntryBytes: Int = 1 << 20,
            shardCount: Int = 16
        ) {
            self.maxKeys = maxKeys
            self.maxBytes = maxBytes
            self.maxEntryBytes = maxEntryBytes
            self.shardCount = shardCount
        }
    }

    public let configuration: Configuration
    private let clock: StateClock
    private let shards: [NIOLockedValueBox<StoreShard>]
    private let maxEntryBytes: Int

    public init(configuration: Configuration = .init(), clock: StateClock = .monotonic) {
        precondition(configuration.maxKeys >= 1 && configuration.maxBytes >= 1 && configuration.shardCount >= 1)
        let shardCount = min(configuration.shardCount, configuration.maxKeys)
        let shardBytes = max(1, configuration.maxBytes / shardCount)
        self.configuration = configuration
        self.clock = clock
        self.maxEntryBytes = min(configuration.maxEntryBytes, shardBytes)
        self.shards = (0..<shardCount).map { _ in
            NIOLockedValueBox(StoreShard(maxKeys: configuration.maxKeys / shardCount, maxBytes: shardBytes))
        }
    }

    public func get(_ key: String, on loop: any EventLoop) -> EventLoopFuture<String?> {
        loop.makeCompletedFuture(withResultOf: { try value(key) })
    }

    /// A hash key answers nil here, so the caller goes through `get` and its `wrongType`.
    public func getNow(_ key: String) -> String?? {
        do {
            return .some(try value(key))
        } catch {
            return nil
        }
    }

    private func value(_ key: String) throws -> String? {
        let key = ByteKey(key)
        let now = clock.milliseconds()
        return try shard(key).withLockedValue { try $0.get(key, now: now) }
    }

    public func set(_ key: String, to value: String, ttl: Double?, on loop: any EventLoop) -> EventLoopFuture<Void> {
        let key = ByteKey(key)
        return loop.makeCompletedFuture(withResultOf: {
            let now = clock.milliseconds()
            let expiresAt = try expiry(ttl, key: key, value: value, now: now)
            try shard(key).withLockedValue { try $0.set(key, value, expiresAt: expiresAt, now: now) }
        })
    }

    public func incr(_ key: String, by delta: Int64, ttl: Double?, on loop: any EventLoop) -> EventLoopFuture<Int64> {
        let key = ByteKey(key)
        return loop.makeCompletedFuture(withResultOf: {
            let ttlMs = try ttl.map { try Seconds.milliseconds($0, "ttl") }
            let now = clock.milliseconds()
            return try shard(key).withLockedValue { try $0.incr(key, by: delta, ttlMs: ttlMs, now: now) }
        })
    }

    public func del(_ key: String, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        let key = ByteKey(key)
        let now = clock.milliseconds()
        let removed = shard(key).withLockedValue { $0.remove(key, now: now) }
        return loop.makeSucceededFuture(removed)
    }

    public func hset(_ key: String, field: String, to value: String, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        let (key, field) = (ByteKey(key), ByteKey(field))
        return loop.makeCompletedFuture(withResultOf: {
            let cost = StoreShard.cost(key, value) + field.byteCount
            guard cost <= maxEntryBytes else {
                throw StateError(.entryTooLarge, "key, field and value take \(cost) bytes, the limit is \(maxEntryBytes)")
            }
            let now = clock.milliseconds()
            return try shard(key).withLockedValue { try $0.hset(key, field: field, value: value, now: now) }
        })
    }

    public func hget(_ key: String, field: String, on loop: any EventLoop) -> EventLoopFuture<String?> {
        let (key, field) = (ByteKey(key), ByteKey(field))
        let now = clock.milliseconds()
        return loop.makeCompletedFuture(withResultOf: { try shard(key).withLockedValue { try $0.hget(key, field: field, now: now) } })
    }

    public func hdel(_ key: String, fields: [String], on loop: any EventLoop) -> EventLoopFuture<Int> {
        let key = ByteKey(key)
        let fields = fields.map(ByteKey.init)
        let now = clock.milliseconds()
        return loop.makeCompletedFuture(withResultOf: { try shard(key).withLockedValue { try $0.hdel(key, fields: fields, now: now) } })
    }

    public func hgetall(_ key: String, maxFields: Int, on loop: any EventLoop) -> EventLoopFuture<[HashField]> {
        let key = ByteKey(key)
        let now = clock.milliseconds()
        return loop.makeCompletedFuture(withResultOf: {
            try shard(key).withLockedValue { try $0.hgetall(key, maxFields: maxFields, now: now) }
        })
    }

    /// Answers every field at once (cursor "0"), as Redis does for a small hash: the copy is one
    /// pass under the shard's lock.
    public func hscan(_ key: String, cursor: String, count: Int, on loop: any EventLoop) -> EventLoopFuture<HashScanPage> {
        guard cursor == "0" else { return loop.makeSucceededFuture(HashScanPage(cursor: "0", fields: [])) }
        return hgetall(key, maxFields: .max, on: loop).map { HashScanPage(cursor: "0", fields: $0) }
    }

    /// Keys held now, including expired ones not reclaimed yet. Locks each shard in turn, so
    /// under concurrent writes it is a snapshot per shard, not of the whole store.
    public var count: Int {
        shards.reduce(0) { total, shard in total + shard.withLockedValue { $0.count } }
    }

    /// Reclaims every key expired at `now` (default: the store's clock); returns how many.
    /// One shard is locked at a time, and the cost is O(log n) per key reclaimed.
    @discardableResult
    public func sweep(now: Int64? = nil) -> Int {
        let now = now ?? clock.milliseconds()
        return shards.reduce(0) { total, shard in total + shard.withLockedValue { $0.sweep(now: now) } }
    }

    /// Runs `sweep()` on `loop` every `interval`; cancel the returned task to stop.
    public func scheduleSweeps(on loop: any EventLoop, every interval: TimeAmount) -> RepeatedTask {
        loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            sweep()
        }
    }

    private func shard(_ key: ByteKey) -> NIOLockedValueBox<StoreShard> {
        shards[shardIndex(key)]
    }

    private func shardIndex(_ key: ByteKey) -> Int {
        Int(UInt(bitPattern: key.byteHash) % UInt(shards.count))
    }
}

// MARK: locks

extension MemoryStateStore {
    public func setIfAbsent(_ key: String, to value: String, ttl: Double, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        let key = ByteKey(key)
        return loop.makeCompletedFuture(withResultOf: {
            let now = clock.milliseconds()
            let expiresAt = try expiry(ttl, key: key, value: value, now: now)
            return try shard(key).withLockedValue { shard in
                guard !shard.contains(key, now: now) else { return false }
                try shard.set(key, value, expiresAt: expiresAt, now: now)
                return true
            }
        })
    }

    /// Both shards are locked for the check and the write, the lower index first (every other
    /// operation holds one shard at a time, so this order cannot deadlock).
    public func writeIfHeld(
        guardKey: String, expected: String, key: String, value: String?, ttl: Double?, on loop: any EventLoop
    ) -> EventLoopFuture<Bool> {
        let (guardKey, key) = (ByteKey(guardKey), ByteKey(key))
        return loop.makeCompletedFuture(withResultOf: {
            let now = clock.milliseconds()
            let expiresAt = try value.map { try expiry(ttl, key: key, value: $0, now: now) } ?? nil
            func held(_ shard: inout StoreShard) -> Bool { (try? shard.get(guardKey, now: now)) == expected }
            func write(_ shard: inout StoreShard) throws {
                if let value {
                    try shard.set(key, value, expiresAt: expiresAt, now: now)
                } else {
                    _ = shard.remove(key, now: now)
                }
            }
            let (guardIndex, keyIndex) = (shardIndex(guardKey), shardIndex(key))
            if guardIndex == keyIndex {
                return try shards[guardIndex].withLockedValue { shard in
                    guard held(&shard) else { return false }
                    try write(&shard)
                    return true
                }
            }
            return try shards[min(guardIndex, keyIndex)].withLockedValue { first in
                try shards[max(guardIndex, keyIndex)].withLockedValue { second in
                    guard guardIndex < keyIndex ? held(&first) : held(&second) else { return false }
                    try guardIndex < keyIndex ? write(&second) : write(&first)
                    return true
                }
            }
        })
    }

    /// The deadline for a write of `value` under `key` that lives `ttl` seconds (nil: none),
    /// after the checks `set` makes.
    private func expiry(_ ttl: Double?, key: ByteKey, value: String, now: Int64) throws -> Int64? {
        let ttlMs = try ttl.map { try Seconds.milliseconds($0, "ttl") }
        let cost = StoreShard.cost(key, value)
        guard cost <= maxEntryBytes else {
            throw StateError(.entryTooLarge, "key and value take \(cost) bytes, the limit is \(maxEntryBytes)")
        }
        return ttlMs.map { now + $0 }
    }
}
