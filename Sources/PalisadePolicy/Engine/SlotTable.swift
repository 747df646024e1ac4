/// Values by an id it hands out (a runtime's acks in progress): a slot array with a free
/// list, so that adding and removing one per event hashes nothing. An id is the slot (low 32
/// bits) and a count (the 31 bits above), so an id kept past its removal (an ack a script
/// held on to) finds nothing, not the value a later `add` put in the same slot, unless it
/// was kept across 2³¹ adds. The count wraps from 2³¹ − 1 to 1: ids stay positive.
struct SlotTable<Value> {
    private var slots: [(id: Int, value: Value)?] = []
    private var free: [Int] = []
    private var issued: Int

    /// `issued`: the count the last id carried (tests start near the wrap).
    init(issued: Int = 0) {
        self.issued = issued
    }

    mutating func add(_ value: Value) -> Int {
        issued = issued >= Self.maxCount ? 1 : issued + 1
        let slot = free.popLast() ?? slots.count
        let id = issued << 32 | slot
        if slot == slots.count { slots.append((id, value)) } else { slots[slot] = (id, value) }
        return id
    }

    subscript(id: Int) -> Value? {
        let slot = id & 0xFFFF_FFFF
        guard id > 0, slot < slots.count, let entry = slots[slot], entry.id == id else { return nil }
        return entry.value
    }

    mutating func remove(_ id: Int) {
        let slot = id & 0xFFFF_FFFF
        guard id > 0, slot < slots.count, slots[slot]?.id == id else { return }
        slots[slot] = nil
        free.append(slot)
    }

    /// Values added and not yet removed.
    var count: Int { slots.count - free.count }

    static var maxCount: Int { 0x7FFF_FFFF }
}
