import Testing

@testable import PalisadeYjs

@Suite struct YjsEncoderTests {
    @Test(arguments: YjsFixture.all)
    func fixtureRoundTrips(fixture: YjsFixture) throws {
        let decoded = try YjsUpdate.decode(fixture.update)
        let encoded = decoded.encoded()
        #expect(try YjsUpdate.decode(encoded) == decoded)
        #expect(try YjsUpdate.decode(encoded).encoded() == encoded)
    }

    @Test(arguments: YjsSequenceFixture.all)
    func sequenceUpdatesRoundTrip(sequence: YjsSequenceFixture) throws {
        for update in sequence.updates {
            let decoded = try YjsUpdate.decode(update)
            #expect(try YjsUpdate.decode(decoded.encoded()) == decoded)
        }
    }

    /// Without a parentSub bit on items with origins, and with sections already descending, pycrdt's bytes
    /// come back unchanged.
    @Test func referenceExamplesReencodeByteForByte() throws {
        for text in [
            "01 01 01 00 04 01 01 74 06 61 f0 9f 98 80 62 00",
            "01 01 02 00 28 01 01 6d 01 6b 01 76 02 01 78 7c 3f c0 00 00 01 79 75 02 78 7e 01 01 01 00 01",
            "01 04 03 00 07 01 01 78 03 01 70 28 00 03 00 05 63 6c 61 73 73 01 77 01 63 07 00 03 00 06 04 00 03 02 02 68 69 00",
            "01 02 04 02 46 04 00 04 62 6f 6c 64 04 74 72 75 65 c6 04 00 04 01 04 62 6f 6c 64 04 6e 75 6c 6c 00",
            "01 01 04 00 29 01 01 6d 03 73 75 62 02 67 31 76 00 00",
            "01 01 05 00 03 01 01 61 02 01 02 00",
            "01 03 05 00 04 01 01 74 01 61 0a 01 84 05 01 01 63 00",
            "01 03 07 00 00 02 0a 03 01 01 01 74 01 00",
        ] {
            let bytes = hexBytes(text)
            #expect(try YjsUpdate.decode(bytes).encoded() == bytes, "\(text)")
        }
    }

    @Test func parentSubBitIsDroppedWhereAnOriginImpliesTheKey() throws {
        let decoded = try YjsUpdate.decode(hexBytes("01 01 05 01 a8 05 00 01 7e 00"))
        #expect(decoded.encoded() == hexBytes("01 01 05 01 88 05 00 01 7e 00"))
    }

    @Test func everyAnyTagAndContentKindRoundTrips() throws {
        let values: [YjsAny] = [
            .undefined, .null, .integer(0), .integer(-1), .integer(63), .integer(64), .integer(-64),
            .integer(Int64(Int32.max)), .integer((1 << 53) - 1), .float32(1.5), .float64(0.1), .bigint(-1),
            .bigint(Int64.max), .bool(false), .bool(true), .string("é😀"), .object([YjsAnyEntry(key: "k", value: .null)]),
            .array([.array([])]), .bytes([0, 255]),
        ]
        let contents: [YjsContent] = [
            .deleted(length: 300), .json(["1", nil, "{\"a\":[]}"]), .binary([1, 2]), .string("a😀b", utf16Length: 4),
            .embed(json: "{}"), .format(key: "bold", valueJSON: "true"), .type(.array), .type(.map), .type(.text),
            .type(.xmlElement(name: "p")), .type(.xmlFragment), .type(.xmlHook(name: "h")), .type(.xmlText),
            .any(values), .doc(guid: "g", options: .object([])),
        ]
        var structs: [YjsStruct] = [.gc(YjsID(client: 300, clock: 0), length: 2)]
        var clock: UInt64 = 2
        for (index, content) in contents.enumerated() {
            let item = YjsItem(
                id: YjsID(client: 300, clock: clock),
                origin: index % 2 == 0 ? YjsID(client: 300, clock: clock - 1) : nil,
                rightOrigin: index % 3 == 0 ? YjsID(client: 7, clock: 1) : nil,
                parent: index % 2 == 0 || index % 3 == 0 ? nil : (index % 4 == 1 ? .root("r") : .item(YjsID(client: 9, clock: 4))),
                parentSub: index == 1 ? "key" : nil, content: content)
            structs.append(.item(item))
            clock += content.length
        }
        structs.append(.skip(YjsID(client: 300, clock: clock), length: 1 << 31))
        let update = YjsUpdate(
            sections: [
                YjsClientSection(client: 1, firstClock: 5, structs: [.gc(YjsID(client: 1, clock: 5), length: 1)]),
                YjsClientSection(client: 300, firstClock: 0, structs: structs),
            ],
            deleteSet: [YjsDeleteSetEntry(client: 300, ranges: [YjsDeleteRange(clock: 2, length: 3)])])
        let decoded = try YjsUpdate.decode(update.encoded(), limits: YjsDecodingLimits(refusesYrsIncompatibleContent: false))
        #expect(decoded.sections.map(\.client) == [300, 1], "sections are written in descending client order")
        #expect(decoded.sections[0] == update.sections[1])
        #expect(decoded.sections[1] == update.sections[0])
        #expect(decoded.deleteSet == update.deleteSet)
    }

    @Test func varIntEncodingMatchesLib0() {
        let cases: [(Int64, String)] = [
            (0, "00"), (1, "01"), (-1, "41"), (63, "3f"), (64, "80 01"), (-64, "c0 01"),
            (Int64(Int32.max), "bf ff ff ff 0f"), (-Int64(Int32.max), "ff ff ff ff 0f"),
        ]
        for (value, text) in cases {
            var out: [UInt8] = []
            YjsWriter.writeVarInt(value, to: &out)
            #expect(out == hexBytes(text), "\(value)")
        }
    }
}

func hexBytes(_ text: String) -> [UInt8] {
    text.split(separator: " ").map { UInt8($0, radix: 16)! }
}
