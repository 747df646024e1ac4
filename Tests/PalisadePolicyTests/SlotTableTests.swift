import Testing

@testable import PalisadePolicy

@Suite struct SlotTableTests {
    @Test func findsWhatWasAddedUntilItIsRemoved() {
        var table = SlotTable<String>()
        let a = table.add("a"), b = table.add("b")
        #expect(a != b && table[a] == "a" && table[b] == "b" && table.count == 2)
        table.remove(a)
        #expect(table[a] == nil && table[b] == "b" && table.count == 1)
        table.remove(a)  // twice: nothing happens
        #expect(table.count == 1)
    }

    /// A slot is reused, its id is not: an id kept past its removal finds nothing, not the
    /// value added later in the same slot, and removing it again leaves that value alone.
    @Test func aStaleIDFindsNothing() {
        var table = SlotTable<Int>()
        let first = table.add(1)
        table.remove(first)
        let second = table.add(2)
        #expect(second & 0xFFFF_FFFF == first & 0xFFFF_FFFF, "the slot is reused")
        #expect(table[first] == nil && table[second] == 2)
        table.remove(first)
        #expect(table[second] == 2)
    }

    /// Past 2³¹ − 1 adds the count starts again at 1: ids stay positive and are found.
    @Test func theCountWrapsAndIDsStayValid() {
        var table = SlotTable<Int>(issued: SlotTable<Int>.maxCount - 1)
        let ids = (0..<3).map { table.add($0) }
        #expect(ids.allSatisfy { $0 > 0 })
        #expect(ids.map { $0 >> 32 } == [SlotTable<Int>.maxCount, 1, 2])
        for (value, id) in ids.enumerated() { #expect(table[id] == value) }
    }

    @Test func idsNeverHandedOutFindNothing() {
        var table = SlotTable<Int>()
        _ = table.add(1)
        for id in [0, -1, 1 << 32 | 5, 7, Int.max] { #expect(table[id] == nil) }
    }

    /// Many in flight, removed in another order: the next adds take the freed slots, and
    /// the table grows no larger than the most held at once.
    @Test func freedSlotsAreTakenFirst() {
        var table = SlotTable<Int>()
        let ids = (0..<100).map { table.add($0) }
        let removed = stride(from: 99, through: 0, by: -3).map { ids[$0] }
        for id in removed { table.remove(id) }
        for (index, id) in ids.enumerated() { #expect((table[id] == nil) == removed.contains(id), "\(index)") }
        let added = removed.map { table.add(1000 + ($0 & 0xFFFF_FFFF)) }
        #expect(Set(added.map { $0 & 0xFFFF_FFFF }) == Set(removed.map { $0 & 0xFFFF_FFFF }))
        #expect(table.count == 100)
    }
}
