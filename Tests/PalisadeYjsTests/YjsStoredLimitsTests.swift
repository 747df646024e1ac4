import Testing

@testable import PalisadeYjs

/// What was accepted and then merged reads back; what yrs-based peers cannot load is refused;
/// value counts bound what merges hold.
@Suite struct YjsStoredLimitsTests {
    /// `varuint(n) ‖ n × (01 ‖ varuint(client) ‖ 00 00 01) ‖ 00`: one GC of one unit for each of n clients.
    static func oneGCPerClient(_ clients: Range<UInt64>) -> [UInt8] {
        var out: [UInt8] = []
        YjsWriter.writeVarUInt(UInt64(clients.count), to: &out)
        for client in clients {
            out.append(1)
            YjsWriter.writeVarUInt(client, to: &out)
            out += [0, 0, 1]
        }
        return out + [0]
    }

    @Test func aMergeOfAcceptedUpdatesWithTooManyClientsTogetherReadsBack() throws {
        let accepted = YjsDecodingLimits.default
        let first = Self.oneGCPerClient(0..<10_000)
        let second = Self.oneGCPerClient(20_000..<30_000)
        _ = try YjsUpdate.decode(first, limits: accepted)
        _ = try YjsUpdate.decode(second, limits: accepted)
        let stored = YjsDecodingLimits.stored(acceptedWith: accepted)
        let snapshot = try YjsUpdates.compact([first, second], limits: stored)
        #expect(throws: YjsDecodingError.self, "20 000 clients are past the limit of one update") {
            try YjsUpdate.decode(snapshot, limits: accepted)
        }
        let next: [UInt8] = [1, 1, 159, 141, 6, 0, 0, 1, 0]
        let again = try YjsUpdate.decode(YjsUpdates.compact([snapshot, next], limits: stored), limits: stored)
        #expect(again.sections.count == 20_001)
    }

    /// Keystrokes squash into one string longer than any accepted update may hold.
    @Test func aSquashedStringLongerThanAcceptedReadsBack() throws {
        let accepted = YjsDecodingLimits(maxStringBytes: 2)
        let keys = [
            hexBytes("01 01 05 00 04 01 01 74 02 61 62 00"),
            hexBytes("01 01 05 02 84 05 01 02 63 64 00"),
            hexBytes("01 01 05 04 84 05 03 02 65 66 00"),
        ]
        for key in keys { _ = try YjsUpdate.decode(key, limits: accepted) }
        let stored = YjsDecodingLimits.stored(acceptedWith: accepted)
        let snapshot = try YjsUpdates.compact(keys, limits: stored)
        guard case .item(let item) = try YjsUpdate.decode(snapshot, limits: stored).sections[0].structs[0] else {
            Issue.record("not an item")
            return
        }
        #expect(item.content == .string("abcdef", utf16Length: 6))
        #expect(throws: YjsDecodingError.limitExceeded(.stringBytes, offset: 8)) { try YjsUpdate.decode(snapshot, limits: accepted) }
    }

    @Test func storedLimitsKeepTheRulesAMergeKeeps() {
        let accepted = YjsDecodingLimits(maxClock: 1_000, maxAnyDepth: 3)
        let stored = YjsDecodingLimits.stored(acceptedWith: accepted)
        #expect(stored.maxClock == 1_000)
        #expect(stored.maxAnyDepth == 3)
        #expect(!stored.refusesYrsIncompatibleContent, "content stored before it was refused still loads")
    }

    /// The vectors of reference §5.3.9: Yjs reads them, pycrdt 0.14.13 cannot load a document holding them.
    @Test(arguments: [
        ("ContentJSON with undefined", "01 01 07 00 02 01 01 74 02 09 75 6e 64 65 66 69 6e 65 64 01 31 00", 8),
        ("ContentJSON", "01 01 07 00 02 01 01 74 01 01 31 00", 8),
        ("YXmlHook", "01 01 03 00 07 01 01 78 05 06 6d 79 68 6f 6f 6b 00", 8),
    ])
    func contentYrsCannotLoadIsRefused(name: String, hex: String, offset: Int) throws {
        let bytes = hexBytes(hex)
        #expect(throws: YjsDecodingError.yrsIncompatibleContent(offset: offset)) { try YjsUpdate.decode(bytes) }
        #expect(throws: YjsDecodingError.yrsIncompatibleContent(offset: offset)) { try YjsUpdates.merge([bytes]) }
        _ = try YjsUpdate.decode(bytes, limits: .stored(acceptedWith: .default))
    }

    /// Struct-dense updates: two bytes a struct, each a value; a compaction holds no more values than its inputs.
    @Test func valueCountsBoundCompactions() throws {
        // Client 1: GC, Skip, GC, … (2 bytes each); client 2: ContentDeleted items with origins in client 1.
        var dense: [UInt8] = [2, 100, 1, 0]
        for index in 0..<100 { dense += index % 2 == 0 ? [0, 1] : [10, 1] }
        dense += [100, 2, 0]
        for index in 0..<100 { dense += [0x81, 1, UInt8(index), 1] }
        dense += [0]
        let decoded = try YjsUpdate.decode(dense)
        #expect(decoded.valueCount == 2 + 100 + 100)
        #expect(decoded.valueCount <= dense.count)
        let shifted = hexBytes("01 03 01 01 0a 01 00 01 0a 01 00")  // overlaps client 1 with other holes
        let (compacted, values) = try YjsUpdates.compactCountingValues([dense, shifted, dense])
        #expect(values == (try YjsUpdate.decode(compacted)).valueCount)
        #expect(values <= 2 * decoded.valueCount + (try YjsUpdate.decode(shifted)).valueCount)
    }

    @Test func valueCountsCountNestedContent() throws {
        // ContentAny [[1, {"k": null}], "s"] and a delete set of one client with two ranges.
        let bytes = hexBytes("01 01 05 00 08 01 01 61 02 75 02 7d 01 76 01 01 6b 7e 77 01 73 01 05 02 00 01 03 01")
        #expect(try YjsUpdate.decode(bytes).valueCount == 1 + 1 + 5 + 1 + 2)
    }
}
