/// One lock stripe of `MemoryStateStore`: its entries, their expiry index and a memory account.
/// A value type mutated only inside its shard's lock.
///
/// Eviction is Redis's `volatile-ttl`: when an insert would pass `maxKeys` or `maxBytes`, expired
/// entries go first, then the entries closest to expiry; entries without a TTL are never evicted,
/// and when only those are left the insert fails with `StateError.Code.full`.
struct StoreShard: Sendable {
    struct Entry: Sendable {
        var value: String
        /// Milliseconds on the store's clock; nil = no expiry.
        var expiresAt: Int64?
        /// Set when the key holds a hash (then `value` is empty and `expiresAt` nil).
        var fields: [ByteKey: String]?
        /// What `fields` costs, kept as they change (`fieldCost` each).
        var fieldBytes = 0
    }

    /// A rough per-entry cost beyond the key and value bytes (dictionary slot, string headers,
    /// heap item). It only has to keep `maxBytes` honest to within a small factor.
    static let entryOverhead = 64

    static func cost(_ key: ByteKey, _ value: String) -> Int {
        key.byteCount + value.utf8.count + entryOverhead
    }

    static func cost(_ key: ByteKey, _ entry: Entry) -> Int {
        cost(key, entry.value) + entry.fieldBytes
    }

    static func fieldCost(_ field: ByteKey, _ value: String) -> Int {
        field.byteCount + value.utf8.count + entryOverhead
    }

    static let wrongType = StateError(.wrongType, "operation against a key holding the wrong kind of value")

    let maxKeys: Int
    let maxBytes: Int
    private var entries: [ByteKey: Entry] = [:]
    private var expiries = ExpiryHeap()
    private(set) var bytes = 0

    init(maxKeys: Int, maxBytes: Int) {
        self.maxKeys = maxKeys
        self.maxBytes = maxBytes
    }

    /// Entries held, including expired ones not reclaimed yet.
    var count: Int { entries.count }

    mutating func get(_ key: ByteKey, now: Int64) throws(StateError) -> String? {
        guard let entry = live(key, now: now) else { return nil }
        guard entry.fields == nil else { throw Self.wrongType }
        return entry.value
    }

    mutating func set(_ key: ByteKey, _ value: String, expiresAt: Int64?, now: Int64) throws(StateError) {
        let old = entries[key]
        if let old { removeEntry(key, old) }
        do {
            try makeRoom(addingKeys: 1, bytes: Self.cost(key, value), now: now)
        } catch {
            // It fitted before; a failed set leaves the old value, as a refused Redis SET does.
            if let old { insert(key, old) }
            throw error
        }
        insert(key, Entry(value: value, expiresAt: expiresAt))
    }

    mutating func incr(_ key: ByteKey, by delta: Int64, ttlMs: Int64?, now: Int64) throws(StateError) -> Int64 {
        guard var entry = live(key, now: now) else {
            try makeRoom(addingKeys: 1, bytes: Self.cost(key, String(delta)), now: now)
            insert(key, Entry(value: String(delta), expiresAt: ttlMs.map { now + $0 }))
            return delta
        }
        guard entry.fields == nil else { throw Self.wrongType }
        guard let current = StoredInteger.parse(entry.value) else {
            throw StateError(.notAnInteger, "value is not an integer or out of range")
        }
        let (sum, overflow) = current.addingReportingOverflow(delta)
        guard !overflow else { throw StateError(.overflow, "increment or decrement would overflow") }
        // In place: the deadline is unchanged, so the key's heap item stays valid.
        let newValue = String(sum)
        bytes += newValue.utf8.count - entry.value.utf8.count
        entry.value = newValue
        entries[key] = entry
        // A longer number can pass maxBytes by a few bytes; reclaim what volatile-ttl allows
        // (which may be this very key, if it is the closest to expiry: the answer stands).
        if bytes > maxBytes { try? makeRoom(addingKeys: 0, bytes: 0, now: now) }
        return sum
    }

    /// Sets `field` of the hash at `key`, creating the hash; true when the field is new.
    mutating func hset(_ key: ByteKey, field: ByteKey, value: String, now: Int64) throws(StateError) -> Bool {
        let added = Self.fieldCost(field, value)
        guard live(key, now: now) != nil else {
            var created = Entry(value: "", expiresAt: nil, fields: [field: value])
            created.fieldBytes = added
            try makeRoom(addingKeys: 1, bytes: Self.cost(key, created), now: now)
            insert(key, created)
            return true
        }
        // Read through `entries` without keeping a copy, so the write below does not copy the hash.
        guard entries[key]?.fields != nil else { throw Self.wrongType }
        let previous = entries[key]?.fields?[field]
        let delta = added - (previous.map { Self.fieldCost(field, $0) } ?? 0)
        try makeRoom(addingKeys: 0, bytes: max(delta, 0), now: now)
        // In place, so the hash is not copied: its key has no TTL, so makeRoom left it alone.
        entries[key]?.fields?[field] = value
        entries[key]?.fieldBytes += delta
        bytes += delta
        return previous == nil
    }

    mutating func hget(_ key: ByteKey, field: ByteKey, now: Int64) throws(StateError) -> String? {
        guard let entry = live(key, now: now) else { return nil }
        guard let fields = entry.fields else { throw Self.wrongType }
        return fields[field]
    }

    /// Removes `fields` from the hash at `key` (and the key with its last field); how many were there.
    mutating func hdel(_ key: ByteKey, fields: [ByteKey], now: Int64) throws(StateError) -> Int {
        guard live(key, now: now) != nil else { return 0 }
        guard entries[key]?.fields != nil else { throw Self.wrongType }
        var removed = 0
        for field in fields {
            guard let value = entries[key]?.fields?.removeValue(forKey: field) else { continue }
            let freed = Self.fieldCost(field, value)
            entries[key]?.fieldBytes -= freed
            bytes -= freed
            removed += 1
        }
        if let left = entries[key], left.fields?.isEmpty == true { removeEntry(key, left) }
        return removed
    }

    /// The fields of the hash at `key`; `tooLarge` past `maxFields`.
    mutating func hgetall(_ key: ByteKey, maxFields: Int, now: Int64) throws(StateError) -> [HashField] {
        guard let entry = live(key, now: now) else { return [] }
        guard let fields = entry.fields else { throw Self.wrongType }
        guard fields.count <= maxFields else {
            throw StateError(.tooLarge, "hash has \(fields.count) fields, more than the limit of \(maxFields)")
        }
        return fields.map { HashField($0.key.string, $0.value) }
    }

    /// True when `key` holds a live string or hash.
    mutating func contains(_ key: ByteKey, now: Int64) -> Bool { live(key, now: now) != nil }

    /// True when a live key was removed.
    mutating func remove(_ key: ByteKey, now: Int64) -> Bool {
        guard let entry = entries[key] else { return false }
        removeEntry(key, entry)
        return entry.expiresAt.map { $0 > now } ?? true
    }

    /// Removes every entry whose deadline is at or before `now`; returns how many.
    /// Costs O(log n) per entry removed, nothing for the others.
    mutating func sweep(now: Int64) -> Int {
        var removed = 0
        while let item = expiries.min, item.deadline <= now {
            expiries.popMin()
            if let entry = entries[item.key], entry.expiresAt == item.deadline {
                removeEntry(item.key, entry)
                removed += 1
            }
        }
        return removed
    }

    // MARK: internals

    /// The entry when present and unexpired; an expired one is removed on the way (lazy expiry).
    private mutating func live(_ key: ByteKey, now: Int64) -> Entry? {
        guard let entry = entries[key] else { return nil }
        if let deadline = entry.expiresAt, deadline <= now {
            removeEntry(key, entry)
            return nil
        }
        return entry
    }

    /// Evicts until `extraKeys` more entries and `cost` more bytes fit (both 0: until the shard
    /// is within `maxBytes` again), by `volatile-ttl`.
    private mutating func makeRoom(addingKeys extraKeys: Int, bytes cost: Int, now: Int64) throws(StateError) {
        func fits(_ shard: StoreShard) -> Bool {
            shard.entries.count + extraKeys <= shard.maxKeys && shard.bytes + cost <= shard.maxBytes
        }
        guard !fits(self) else { return }
        _ = sweep(now: now)
        while !fits(self) {
            guard let item = expiries.popMin() else {
                throw StateError(.full, "store is full of keys without a TTL (\(entries.count) keys, \(bytes) bytes)")
            }
            if let entry = entries[item.key], entry.expiresAt == item.deadline {
                removeEntry(item.key, entry)
            }
        }
    }

    private mutating func insert(_ key: ByteKey, _ entry: Entry) {
        entries[key] = entry
        bytes += Self.cost(key, entry)
        guard let deadline = entry.expiresAt else { return }
        expiries.push(.init(deadline: deadline, key: key))
        // Overwrites leave stale items behind; rebuild when the heap passes twice the entries, so
        // it stays O(keys) and each O(keys) rebuild is paid for by at least as many pushes.
        if expiries.count > 2 * entries.count + 64 {
            expiries = ExpiryHeap(
                entries.compactMap { key, entry in
                    entry.expiresAt.map { ExpiryHeap.Item(deadline: $0, key: key) }
                })
        }
    }

    /// Forgets the entry; its heap item, if any, becomes stale.
    private mutating func removeEntry(_ key: ByteKey, _ entry: Entry) {
        entries[key] = nil
        bytes -= Self.cost(key, entry)
    }
}
