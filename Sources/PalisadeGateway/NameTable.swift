/// Names to values, built once and read on every event (the core's built-in handlers, a
/// policy runtime's plugin handlers): a lookup hashes the name's bytes with FNV-1a and
/// compares it once, where a `Dictionary` runs Swift's seeded SipHash over it.
///
/// Not for names an attacker can choose in bulk: the hash is unseeded. The tables hold the
/// handlers the server and its modules define; a client's name is only looked up.
public struct NameTable<Value> {
    /// Open addressing over `entries`: each slot holds a name's full hash and its entry's
    /// index (-1: empty), so a probe that meets another name compares two integers and
    /// copies nothing.
    @usableFromInline var slots: [(hash: Int, entry: Int)]
    @usableFromInline var entries: [(name: String, value: Value)] = []
    @usableFromInline var mask: Int

    public init(_ entries: [String: Value] = [:]) {
        var capacity = 8
        while capacity < entries.count * 2 { capacity *= 2 }
        slots = Array(repeating: (0, -1), count: capacity)
        mask = capacity - 1
        for (name, value) in entries {
            let hash = Self.hash(name)
            var index = hash & mask
            while slots[index].entry >= 0 { index = (index + 1) & mask }
            slots[index] = (hash, self.entries.count)
            self.entries.append((name, value))
        }
    }

    /// Inlinable (as `hash`), so each module's lookups are specialised for its values.
    @inlinable
    public subscript(name: String) -> Value? {
        let hash = Self.hash(name)
        var index = hash & mask
        while true {
            let slot = slots[index]
            if slot.entry < 0 { return nil }
            if slot.hash == hash, entries[slot.entry].name == name { return entries[slot.entry].value }
            index = (index + 1) & mask
        }
    }

    /// FNV-1a (64 bits) of the name's UTF-8 bytes.
    @inlinable
    static func hash(_ name: String) -> Int {
        var name = name
        return name.withUTF8 { bytes in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
            return Int(truncatingIfNeeded: hash)
        }
    }
}

extension NameTable: Sendable where Value: Sendable {}
