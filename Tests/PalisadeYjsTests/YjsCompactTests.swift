import Testing

@testable import PalisadeYjs

@Suite struct YjsCompactTests {
    @Test(arguments: YjsSequenceFixture.all)
    func compactKeepsStateVectorAndDeleteSet(sequence: YjsSequenceFixture) throws {
        let merged = try YjsUpdate.decode(YjsUpdates.merge(sequence.updates))
        let compacted = try YjsUpdates.compact(sequence.updates)
        let decoded = try YjsUpdate.decode(compacted)
        #expect(decoded.stateVector == sequence.stateVector)
        #expect(decoded.deleteSet == merged.deleteSet)
        #expect(compacted.count <= merged.encoded().count)
        #expect(try YjsUpdate.decode(YjsUpdates.compact([compacted])) == decoded, "compact is idempotent")
    }

    /// Typing "abc" one key at a time gives three items; compacted they are one.
    @Test func keystrokesAreSquashed() throws {
        let a = hexBytes("01 01 05 00 04 01 01 74 01 61 00")
        let b = hexBytes("01 01 05 01 84 05 00 01 62 00")
        let c = hexBytes("01 01 05 02 84 05 01 01 63 00")
        #expect(try YjsUpdates.compact([c, b, a]) == hexBytes("01 01 05 00 04 01 01 74 03 61 62 63 00"))
    }

    @Test func whollyDeletedItemsLoseTheirContent() throws {
        // "abc" as three items; "b" deleted: "a", Deleted(1), "c" (kinds differ, so no squash).
        let typed = [
            hexBytes("01 01 05 00 04 01 01 74 01 61 00"), hexBytes("01 01 05 01 84 05 00 01 62 00"),
            hexBytes("01 01 05 02 84 05 01 01 63 00"), hexBytes("00 01 05 01 01 01"),
        ]
        let compacted = try YjsUpdate.decode(YjsUpdates.compact(typed))
        let contents = compacted.sections[0].structs.map { structure -> YjsContent? in
            if case .item(let item) = structure { item.content } else { nil }
        }
        #expect(contents == [.string("a", utf16Length: 1), .deleted(length: 1), .string("c", utf16Length: 1)])
    }

    @Test func deletedTypesKeepTheirContent() throws {
        // Map "m", key "k" = nested Map (ContentType), deleted.
        let update = hexBytes("01 01 05 00 27 01 01 6d 01 6b 01 01 05 01 00 01")
        let compacted = try YjsUpdate.decode(YjsUpdates.compact([update]))
        guard case .item(let item) = compacted.sections[0].structs[0] else {
            Issue.record("not an item")
            return
        }
        #expect(item.content == .type(.map))
    }

    @Test func itemsWithDifferentRightOriginsStaySeparate() throws {
        let a = hexBytes("01 01 05 00 44 01 00 01 61 00")
        let b = hexBytes("01 01 05 01 c4 05 00 01 01 01 62 00")
        #expect(try YjsUpdate.decode(YjsUpdates.compact([a, b])).sections[0].structs.count == 2)
    }

    @Test func tenThousandKeystrokesShrink() throws {
        var updates: [[UInt8]] = []
        var total = 0
        for clock in 0..<10_000 {
            var bytes: [UInt8] = [1, 1, 5]
            YjsWriter.writeVarUInt(UInt64(clock), to: &bytes)
            if clock == 0 {
                bytes += [0x04, 0x01, 0x01, 0x74]
            } else {
                bytes.append(0x84)
                bytes.append(5)
                YjsWriter.writeVarUInt(UInt64(clock - 1), to: &bytes)
            }
            bytes += [1, 0x61 + UInt8(clock % 26), 0]
            updates.append(bytes)
            total += bytes.count
        }
        let compacted = try YjsUpdates.compact(updates.reversed())
        #expect(compacted.count < total / 10)
        let decoded = try YjsUpdate.decode(compacted)
        #expect(decoded.sections[0].structs.count == 1)
        #expect(decoded.stateVector == [5: 10_000])
    }
}
