import Testing

@testable import PalisadeYjs

/// The delete set as client → sorted, joined ranges: the order-free view of it.
func normalisedDeleteSet(_ update: YjsUpdate) -> [UInt64: [YjsDeleteRange]] {
    var result: [UInt64: [YjsDeleteRange]] = [:]
    for entry in YjsDeleteSets.union([update.deleteSet]) { result[entry.client] = entry.ranges }
    return result
}

@Suite struct YjsMergeTests {
    @Test(arguments: YjsSequenceFixture.all)
    func mergeOfASequenceHasTheDocumentsStateVector(sequence: YjsSequenceFixture) throws {
        let merged = try YjsUpdate.decode(YjsUpdates.merge(sequence.updates))
        #expect(merged.stateVector == sequence.stateVector)
        #expect(!merged.sections.flatMap(\.structs).contains { if case .skip = $0 { true } else { false } })
        #expect(merged.sections.map(\.client) == merged.sections.map(\.client).sorted(by: >))
    }

    @Test(arguments: YjsSequenceFixture.all)
    func mergeIsIdempotent(sequence: YjsSequenceFixture) throws {
        let merged = try YjsUpdates.merge(sequence.updates)
        #expect(try YjsUpdate.decode(YjsUpdates.merge([merged])) == YjsUpdate.decode(merged))
        #expect(try YjsUpdate.decode(YjsUpdates.merge([merged, merged])) == YjsUpdate.decode(merged))
        #expect(try YjsUpdate.decode(YjsUpdates.merge(sequence.updates + sequence.updates)) == YjsUpdate.decode(merged))
    }

    @Test(arguments: YjsSequenceFixture.all)
    func mergeIsOrderIndependent(sequence: YjsSequenceFixture) throws {
        let reference = try YjsUpdate.decode(YjsUpdates.merge(sequence.updates))
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<5 {
            let shuffled = try YjsUpdate.decode(YjsUpdates.merge(sequence.updates.shuffled(using: &generator)))
            #expect(shuffled.stateVector == reference.stateVector)
            #expect(shuffled.deleteSet == reference.deleteSet)
            #expect(shuffled.sections.map(\.client) == reference.sections.map(\.client))
        }
    }

    @Test(arguments: YjsSequenceFixture.all)
    func mergeOfMergesEqualsTheWholeMerge(sequence: YjsSequenceFixture) throws {
        let half = sequence.updates.count / 2
        let left = try YjsUpdates.merge(Array(sequence.updates[..<half]))
        let right = try YjsUpdates.merge(Array(sequence.updates[half...]))
        let whole = try YjsUpdate.decode(YjsUpdates.merge(sequence.updates))
        let ofMerges = try YjsUpdate.decode(YjsUpdates.merge([right, left]))
        #expect(ofMerges.stateVector == whole.stateVector)
        #expect(ofMerges.deleteSet == whole.deleteSet)
    }

    @Test func emptyInputGivesTheEmptyUpdate() throws {
        #expect(try YjsUpdates.merge([]) == [0, 0])
        #expect(try YjsUpdates.merge([[0, 0], [0, 0]]) == [0, 0])
    }

    /// Reference §3.4 example 4: "a", "b", "c" typed by client 5; merging the first and third leaves a hole.
    @Test func holeBecomesOneSkip() throws {
        let a = hexBytes("01 01 05 00 04 01 01 74 01 61 00")
        let c = hexBytes("01 01 05 02 84 05 01 01 63 00")
        #expect(try YjsUpdates.merge([c, a]) == hexBytes("01 03 05 00 04 01 01 74 01 61 0a 01 84 05 01 01 63 00"))
        let b = hexBytes("01 01 05 01 84 05 00 01 62 00")
        let filled = try YjsUpdate.decode(YjsUpdates.merge([YjsUpdates.merge([c, a]), b]))
        #expect(filled.stateVector == [5: 3])
        #expect(filled.sections[0].structs.count == 3)
    }

    @Test func hugeHoleIsOneSkip() throws {
        let low = hexBytes("01 01 05 00 04 01 01 74 01 61 00")
        var high: [UInt8] = [1, 1, 5]
        YjsWriter.writeVarUInt(4_000_000_000, to: &high)
        high += [0x04, 0x01, 0x01, 0x74, 0x01, 0x7A, 0x00]
        let merged = try YjsUpdate.decode(YjsUpdates.merge([high, low]))
        #expect(
            merged.sections[0].structs == [
                merged.sections[0].structs[0], .skip(YjsID(client: 5, clock: 1), length: 3_999_999_999),
                merged.sections[0].structs[2],
            ])
    }

    @Test func overlappingStringsAreSlicedWithTheUnitBeforeAsOrigin() throws {
        // Client 5: "abc" at 0 in one input, "bcde" at 1 (as an item of its own) in another.
        let first = hexBytes("01 01 05 00 04 01 01 74 03 61 62 63 00")
        let second = hexBytes("01 01 05 01 84 05 00 04 62 63 64 65 00")
        let merged = try YjsUpdate.decode(YjsUpdates.merge([first, second]))
        let structs = merged.sections[0].structs
        #expect(structs.count == 2)
        guard case .item(let right) = structs[1] else {
            Issue.record("not an item")
            return
        }
        #expect(right.id == YjsID(client: 5, clock: 3))
        #expect(right.origin == YjsID(client: 5, clock: 2))
        #expect(right.content == .string("de", utf16Length: 2))
    }

    @Test func surrogatePairCutBecomesReplacementCharacters() {
        let item = YjsItem(
            id: YjsID(client: 5, clock: 0), origin: nil, rightOrigin: YjsID(client: 1, clock: 0), parent: nil,
            parentSub: nil, content: .string("😀😀", utf16Length: 4))
        let right = YjsStruct.item(item).sliced(from: 1)
        guard case .item(let sliced) = right else {
            Issue.record("not an item")
            return
        }
        #expect(sliced.content == .string("\u{FFFD}😀", utf16Length: 3))
        #expect(sliced.rightOrigin == YjsID(client: 1, clock: 0))
        #expect(sliced.origin == YjsID(client: 5, clock: 0))
    }

    @Test func realStructsWinOverSkips() throws {
        let withSkip = hexBytes("01 03 05 00 04 01 01 74 01 61 0a 01 84 05 01 01 63 00")
        let b = hexBytes("01 01 05 01 84 05 00 01 62 00")
        let merged = try YjsUpdate.decode(YjsUpdates.merge([withSkip, b]))
        #expect(!merged.sections[0].structs.contains { if case .skip = $0 { true } else { false } })
    }

    @Test func adjacentGCsAreJoined() throws {
        let first = hexBytes("01 01 05 00 00 02 00")
        let second = hexBytes("01 01 05 02 00 03 00")
        #expect(try YjsUpdates.merge([second, first]) == hexBytes("01 01 05 00 00 05 00"))
    }

    @Test func deleteSetsAreSortedAndJoined() throws {
        let first = hexBytes("00 02 03 02 05 01 00 02 07 01 02 02")
        let second = hexBytes("00 02 07 01 03 02 03 01 0a 01")
        let merged = try YjsUpdate.decode(YjsUpdates.merge([first, second]))
        #expect(
            merged.deleteSet == [
                YjsDeleteSetEntry(client: 7, ranges: [YjsDeleteRange(clock: 2, length: 3)]),
                YjsDeleteSetEntry(
                    client: 3,
                    ranges: [
                        YjsDeleteRange(clock: 0, length: 2), YjsDeleteRange(clock: 5, length: 1), YjsDeleteRange(clock: 10, length: 1),
                    ]),
            ])
    }

    @Test func invalidInputIsRefused() {
        #expect(throws: YjsDecodingError.trailingBytes(offset: 2)) {
            try YjsUpdates.merge([[0, 0], [0, 0, 1]])
        }
    }
}
