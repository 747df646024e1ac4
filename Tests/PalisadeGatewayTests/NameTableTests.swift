import Testing

@testable import PalisadeGateway

@Suite struct NameTableTests {
    /// Every name put in is found with its value, through collisions and wrap-around of the
    /// probe (300 names in 1 024 slots); names not put in, and near misses, are not.
    @Test func findsEveryNameAndNothingElse() {
        var entries: [String: Int] = [:]
        for index in 0..<300 { entries["event:\(index)"] = index }
        entries["ydoc:document:update"] = 1000
        entries["é ünïcode"] = 1001
        entries[""] = 1002
        let table = NameTable(entries)
        for (name, value) in entries { #expect(table[name] == value, "\(name)") }
        for name in ["event:300", "event:-1", "Event:1", "event:1 ", "ydoc:document:updat", "e ünïcode"] {
            #expect(table[name] == nil, "\(name)")
        }
    }

    @Test func anEmptyTableFindsNothing() {
        let table = NameTable<Int>()
        #expect(table["echo"] == nil && table[""] == nil)
    }

    /// FNV-1a's published test values (64 bits): "" and "a".
    @Test func hashIsFNV1a() {
        #expect(UInt64(bitPattern: Int64(NameTable<Int>.hash(""))) == 0xcbf2_9ce4_8422_2325)
        #expect(UInt64(bitPattern: Int64(NameTable<Int>.hash("a"))) == 0xaf63_dc4c_8601_ec8c)
    }
}
