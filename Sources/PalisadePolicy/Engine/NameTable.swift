/// Names to values, built once and read on every event (a runtime's event handlers): a
/// lookup hashes the name's bytes with FNV-1a and compares it once, where a `Dictionary`
/// ran Swift's seeded SipHash (~500 instructions for an event name).
///
/// Not for names an attacker can choose in bulk: the hash is unseeded. Here the table holds
/// the handlers the modules define, and a client's name is only looked up.
struct NameTable<Value> {
    private var slots: [(name: String, value: Value)?]
    private var mask: Int

    init(_ entries: [String: Value] = [:]) {
        var capacity = 8
        while capacity < entries.count * 2 { capacity *= 2 }
        slots = Array(repeating: nil, count: capacity)
        mask = capacity - 1
        for (name, value) in entries {
            var index = Self.hash(name) & mask
            while slots[index] != nil { index = (index + 1) & mask }
            slots[index] = (name, value)
        }
    }

    subscript(name: String) -> Value? {
        var index = Self.hash(name) & mask
        while let entry = slots[index] {
            if entry.name == name { return entry.value }
            index = (index + 1) & mask
        }
        return nil
    }

    /// FNV-1a (64 bits) of the name's UTF-8 bytes.
    static func hash(_ name: String) -> Int {
        var name = name
        return name.withUTF8 { bytes in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
            return Int(truncatingIfNeeded: hash)
        }
    }
}
