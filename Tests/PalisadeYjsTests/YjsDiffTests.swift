import Testing

@testable import PalisadeYjs

@Suite struct YjsDiffTests {
    @Test(arguments: YjsSequenceFixture.all)
    func diffAgainstTheFullStateVectorLeavesNoStructs(sequence: YjsSequenceFixture) throws {
        let merged = try YjsUpdates.merge(sequence.updates)
        let vector = try YjsUpdate.decode(merged).encodedStateVector
        let diff = try YjsUpdate.decode(YjsUpdates.diff(merged, against: vector))
        #expect(diff.sections.isEmpty)
        #expect(normalisedDeleteSet(diff) == normalisedDeleteSet(try YjsUpdate.decode(merged)))
    }

    @Test(arguments: YjsSequenceFixture.all)
    func diffAgainstTheEmptyVectorIsTheMerge(sequence: YjsSequenceFixture) throws {
        let merged = try YjsUpdates.merge(sequence.updates)
        #expect(try YjsUpdates.diff(merged, against: [0]) == merged)
    }

    /// A prefix's merge plus the diff of the whole against the prefix's vector holds everything.
    @Test(arguments: YjsSequenceFixture.all)
    func prefixPlusDiffReachesTheWholeState(sequence: YjsSequenceFixture) throws {
        let merged = try YjsUpdates.merge(sequence.updates)
        for cut in [0, sequence.updates.count / 4, sequence.updates.count / 2, sequence.updates.count] {
            let prefix = try YjsUpdates.merge(Array(sequence.updates[..<cut]))
            let vector = try YjsUpdate.decode(prefix).encodedStateVector
            let diff = try YjsUpdates.diff(merged, against: vector)
            let rebuilt = try YjsUpdate.decode(YjsUpdates.merge([prefix, diff]))
            #expect(rebuilt.stateVector == sequence.stateVector, "cut \(cut)")
        }
    }

    /// Reference §3.4 example 5: "😀😀" diffed against {5: 1} starts with U+FFFD.
    @Test func diffCutThroughASurrogatePair() throws {
        let update = hexBytes("01 01 05 00 04 01 01 74 08 f0 9f 98 80 f0 9f 98 80 00")
        #expect(
            try YjsUpdates.diff(update, against: [1, 5, 1])
                == hexBytes("01 01 05 01 84 05 00 07 ef bf bd f0 9f 98 80 00"))
    }

    @Test func leadingSkipsAreDroppedAndInnerOnesKept() throws {
        let update = hexBytes("01 03 05 00 04 01 01 74 01 61 0a 01 84 05 01 01 63 00")
        #expect(try YjsUpdates.diff(update, against: [1, 5, 1]) == hexBytes("01 01 05 02 84 05 01 01 63 00"))
        #expect(try YjsUpdates.diff(update, against: [0]) == update)
    }

    @Test func unknownClientsInTheVectorAreHarmless() throws {
        let update = hexBytes("01 01 05 00 04 01 01 74 01 61 00")
        #expect(try YjsUpdates.diff(update, against: [2, 9, 100, 6, 3]) == update)
    }

    @Test func stateVectorDecoding() throws {
        #expect(try YjsUpdates.decodeStateVector([0]).isEmpty)
        #expect(try YjsUpdates.decodeStateVector([2, 5, 1, 0x80, 0x01, 7]) == [5: 1, 128: 7])
        #expect(throws: YjsDecodingError.duplicateClient(5, offset: 3)) {
            try YjsUpdates.decodeStateVector([2, 5, 1, 5, 2])
        }
        #expect(throws: YjsDecodingError.trailingBytes(offset: 3)) { try YjsUpdates.decodeStateVector([1, 5, 1, 0]) }
        #expect(throws: YjsDecodingError.truncated(offset: 4)) { try YjsUpdates.decodeStateVector([1, 5, 0x80, 0x80]) }
        #expect(throws: YjsDecodingError.limitExceeded(.count, offset: 0)) {
            try YjsUpdates.decodeStateVector([100, 1, 1])
        }
        #expect(throws: YjsDecodingError.limitExceeded(.clients, offset: 0)) {
            try YjsUpdates.decodeStateVector([0xFF, 0xFF, 0x03, 1, 1])
        }
        #expect(throws: YjsDecodingError.truncated(offset: 0)) { try YjsUpdates.decodeStateVector([]) }
    }
}
