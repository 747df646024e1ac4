import PalisadeYjs
import Testing

private func hex(_ text: String) -> [UInt8] {
    text.split(separator: " ").map { UInt8($0, radix: 16)! }
}

@Suite struct YjsUpdateVectorTests {
    @Test func emptyUpdate() throws {
        let update = try YjsUpdate.decode([0, 0])
        #expect(update.sections.isEmpty)
        #expect(update.deleteSet.isEmpty)
        #expect(update.stateVector.isEmpty)
        #expect(update.encodedStateVector == [0])
    }

    @Test func exampleATextWithNonBMPCharacter() throws {
        let update = try YjsUpdate.decode(hex("01 01 01 00 04 01 01 74 06 61 f0 9f 98 80 62 00"))
        #expect(update.sections.count == 1)
        let item = YjsItem(
            id: YjsID(client: 1, clock: 0), origin: nil, rightOrigin: nil, parent: .root("t"), parentSub: nil,
            content: .string("a😀b", utf16Length: 4))
        #expect(update.sections[0].structs == [.item(item)])
        #expect(update.stateVector == [1: 4])
        #expect(update.encodedStateVector == [1, 1, 4])
    }

    @Test func exampleBMapSetWithNestedAnyAndDelete() throws {
        let update = try YjsUpdate.decode(
            hex(
                "01 01 02 00 28 01 01 6d 01 6b 01 76 02 01 78 7c 3f c0 00 00 01 79 75 02 78 7e 01 01 01 00 01"))
        guard case .item(let item) = update.sections[0].structs[0] else {
            Issue.record("not an item")
            return
        }
        #expect(item.parent == .root("m"))
        #expect(item.parentSub == "k")
        #expect(
            item.content
                == .any([
                    .object([
                        YjsAnyEntry(key: "x", value: .float32(1.5)),
                        YjsAnyEntry(key: "y", value: .array([.bool(true), .null])),
                    ])
                ]))
        #expect(update.deleteSet == [YjsDeleteSetEntry(client: 1, ranges: [YjsDeleteRange(clock: 0, length: 1)])])
        #expect(update.stateVector == [2: 1])
    }

    @Test func exampleCXmlFragment() throws {
        let update = try YjsUpdate.decode(
            hex(
                "01 04 03 00 07 01 01 78 03 01 70 28 00 03 00 05 63 6c 61 73 73 01 77 01 63 "
                    + "07 00 03 00 06 04 00 03 02 02 68 69 00"))
        let structs = update.sections[0].structs
        #expect(structs.count == 4)
        guard case .item(let element) = structs[0], case .item(let attribute) = structs[1],
            case .item(let text) = structs[3]
        else {
            Issue.record("not items")
            return
        }
        #expect(element.content == .type(.xmlElement(name: "p")))
        #expect(attribute.parent == .item(YjsID(client: 3, clock: 0)))
        #expect(attribute.parentSub == "class")
        #expect(text.id == YjsID(client: 3, clock: 3))
        #expect(update.stateVector == [3: 5])
    }

    @Test func formatWithRightOriginAndParentSubBitIgnoredWithOrigin() throws {
        let update = try YjsUpdate.decode(
            hex(
                "01 02 04 02 46 04 00 04 62 6f 6c 64 04 74 72 75 65 c6 04 00 04 01 04 62 6f 6c 64 04 6e 75 6c 6c 00"))
        guard case .item(let start) = update.sections[0].structs[0] else {
            Issue.record("not an item")
            return
        }
        #expect(start.content == .format(key: "bold", valueJSON: "true"))
        #expect(start.rightOrigin == YjsID(client: 4, clock: 0))
        #expect(update.stateVector.isEmpty)  // the section starts at clock 2
        // 0xa8: origin + parentSub bit + Any: no parentSub string follows.
        let overwrite = try YjsUpdate.decode(hex("01 01 05 01 a8 05 00 01 7e 00"))
        guard case .item(let item) = overwrite.sections[0].structs[0] else {
            Issue.record("not an item")
            return
        }
        #expect(item.parentSub == nil)
        #expect(item.origin == YjsID(client: 5, clock: 0))
    }

    @Test func gcSkipAndStateVectorStopsAtSkip() throws {
        // Client 7: GC(0,2), Skip(2,3), Deleted(5,1) via root "t".
        let update = try YjsUpdate.decode(hex("01 03 07 00 00 02 0a 03 01 01 01 74 01 00"))
        #expect(update.sections[0].endClock == 6)
        #expect(update.stateVector == [7: 2])
    }

    @Test func allContentKinds() throws {
        // One section of client 9 with JSON, Binary, Embed, Type(XmlHook), Any(all tags), Doc.
        var bytes: [UInt8] = [0x01, 0x06, 0x09, 0x00]
        bytes += [0x02, 0x01, 0x01, 0x61, 0x02, 0x03, 0x31, 0x2e, 0x35, 0x09] + Array("undefined".utf8)
        bytes += [0x03, 0x01, 0x01, 0x61, 0x02, 0xDE, 0xAD]
        bytes += [0x05, 0x01, 0x01, 0x61, 0x0E] + Array(#"{"i":"\ud800"}"#.utf8)
        bytes += [0x07, 0x01, 0x01, 0x61, 0x05, 0x01, 0x68]
        bytes += [
            0x08, 0x01, 0x01, 0x61, 0x0C, 0x7F, 0x7E, 0x7D, 0x41, 0x7C, 0x3F, 0xC0, 0, 0,
            0x7B, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0, 0x7A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            0x79, 0x78, 0x77, 0x01, 0x73, 0x76, 0x00, 0x75, 0x00, 0x74, 0x01, 0x00,
        ]
        bytes += [0x09, 0x01, 0x01, 0x61, 0x01, 0x67, 0x76, 0x00]
        bytes += [0x00]
        let update = try YjsUpdate.decode(bytes, limits: YjsDecodingLimits(refusesYrsIncompatibleContent: false))
        let contents = update.sections[0].structs.compactMap { s -> YjsContent? in
            if case .item(let item) = s { return item.content } else { return nil }
        }
        #expect(
            contents == [
                .json(["1.5", nil]),
                .binary([0xDE, 0xAD]),
                .embed(json: #"{"i":"\ud800"}"#),
                .type(.xmlHook(name: "h")),
                .any([
                    .undefined, .null, .integer(-1), .float32(1.5), .float64(1), .bigint(-1), .bool(false),
                    .bool(true), .string("s"), .object([]), .array([]), .bytes([0]),
                ]),
                .doc(guid: "g", options: .object([])),
            ])
        #expect(update.stateVector == [9: 2 + 1 + 1 + 1 + 12 + 1])
    }
}

@Suite struct YjsUpdateValidationTests {
    @Test(
        arguments: [
            ("trailing", "00 00 01", YjsDecodingError.trailingBytes(offset: 2)),
            ("truncated", "01 01 01 00 04 01 01", .truncated(offset: 7)),
            ("struct count above bytes", "01 05 01 00 00 01 00", .limitExceeded(.count, offset: 1)),
            ("empty input", "", .truncated(offset: 0)),
            ("absurd section count", "ff ff ff 0f 00", .limitExceeded(.clients, offset: 0)),
            ("section count above bytes", "05 00 00", .limitExceeded(.count, offset: 0)),
            ("absurd struct count", "01 ff ff ff 0f 01 00 00", .limitExceeded(.structs, offset: 1)),
            ("GC with flags", "01 01 01 00 80 01 00", .invalidInfo(0x80, offset: 4)),
            ("Skip with flags", "01 01 01 00 8a 01 00", .invalidInfo(0x8A, offset: 4)),
            ("content ref 11", "01 01 01 00 0b 01 01 74 00 00", .invalidInfo(0x0B, offset: 4)),
            ("content ref 31", "01 01 01 00 1f 00", .invalidInfo(0x1F, offset: 4)),
            ("type ref 7", "01 01 01 00 07 01 01 74 07 00", .unknownTypeRef(7, offset: 8)),
            ("any tag 115", "01 01 01 00 08 01 01 74 01 73 00", .unknownAnyTag(0x73, offset: 9)),
            ("parent info 2", "01 01 01 00 04 02 01 74 01 61 00", .invalidParentInfo(2, offset: 5)),
            ("zero GC", "01 01 01 00 00 00 00", .zeroLength(offset: 4)),
            ("empty string", "01 01 01 00 04 01 01 74 00 00", .zeroLength(offset: 4)),
            ("zero delete range", "00 01 01 01 00 00", .zeroLength(offset: 4)),
            ("duplicate client", "02 01 01 00 00 01 01 01 02 00 01 00", .duplicateClient(1, offset: 7)),
            ("self origin", "01 01 01 00 84 01 00 01 61 00", .forwardReference(offset: 5)),
            ("self parent", "01 01 01 03 07 00 01 03 00 00", .forwardReference(offset: 6)),
            ("bad JSON embed", "01 01 01 00 05 01 01 74 03 7b 7d 7d 00", .invalidJSON(offset: 8)),
            ("bad UTF-8 root", "01 01 01 00 04 01 01 ff 01 61 00", .invalidUTF8(offset: 7)),
            ("clock past 2^32", "01 01 01 ff ff ff ff 0f 00 01 00", .clockOverflow(offset: 8)),
            ("delete past 2^32", "00 01 01 01 ff ff ff ff 0f 01", .clockOverflow(offset: 4)),
            ("varUint above 2^53", "01 01 ff ff ff ff ff ff ff 7f 00 00", .integerOverflow(offset: 2)),
        ] as [(String, String, YjsDecodingError)])
    func refused(name: String, bytes: String, error: YjsDecodingError) {
        #expect(throws: error, "\(name)") { try YjsUpdate.decode(hex(bytes)) }
    }

    @Test func anyDepthIsCapped() throws {
        let depth = 200
        var bytes: [UInt8] = [0x01, 0x01, 0x01, 0x00, 0x08, 0x01, 0x01, 0x74, 0x01]
        bytes += [UInt8](repeating: 0x75, count: 0) + Array(repeating: [0x75, 0x01], count: depth).flatMap { $0 }
        bytes += [0x7E, 0x00]
        #expect(throws: YjsDecodingError.limitExceeded(.anyDepth, offset: 9 + 2 * 128)) { try YjsUpdate.decode(bytes) }
        var relaxed = YjsDecodingLimits()
        relaxed.maxAnyDepth = 300
        _ = try YjsUpdate.decode(bytes, limits: relaxed)
    }

    @Test func configuredLimits() {
        var limits = YjsDecodingLimits()
        limits.maxStructs = 1
        #expect(throws: YjsDecodingError.limitExceeded(.structs, offset: 1)) {
            try YjsUpdate.decode(hex("01 02 01 00 00 01 00 01 00"), limits: limits)
        }
        limits = YjsDecodingLimits(maxUpdateBytes: 1)
        #expect(throws: YjsDecodingError.limitExceeded(.updateBytes, offset: 0)) {
            try YjsUpdate.decode([0, 0], limits: limits)
        }
        limits = YjsDecodingLimits(maxClock: 10)
        #expect(throws: YjsDecodingError.clockOverflow(offset: 4)) {
            try YjsUpdate.decode(hex("01 01 01 00 00 0b 00"), limits: limits)
        }
    }
}

@Suite struct YjsPycrdtFixtureTests {
    @Test func fixturesArePresent() {
        #expect(YjsFixture.all.count >= 10)
    }

    @Test(arguments: YjsFixture.all)
    func decodesAndMatchesPycrdtStateVector(fixture: YjsFixture) throws {
        let update = try YjsUpdate.decode(fixture.update)
        #expect(update.stateVector == fixture.stateVector)
    }

    @Test(arguments: YjsFixture.all)
    func everyTruncationThrows(fixture: YjsFixture) {
        for length in 0..<fixture.update.count {
            #expect(throws: YjsDecodingError.self, "prefix \(length)") {
                try YjsUpdate.decode(Array(fixture.update[..<length]))
            }
        }
    }

    @Test func randomMutationsNeverCrash() {
        var rng = SplitMix64(seed: 0x5EED_CAFE)
        let fixtures = YjsFixture.all
        var accepted = 0
        for _ in 0..<5000 {
            var bytes = fixtures[Int(rng.next() % UInt64(fixtures.count))].update
            for _ in 0..<(1 + rng.next() % 4) {
                guard !bytes.isEmpty else { break }
                let index = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0: bytes[index] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes[index] ^= UInt8(1) << (rng.next() % 8)
                case 2: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: index)
                default: bytes.remove(at: index)
                }
            }
            if let update = try? YjsUpdate.decode(bytes) {
                accepted += 1
                _ = update.stateVector
            }
        }
        #expect(accepted < 5000)
    }

    @Test func randomBytesNeverCrash() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<3000 {
            let bytes = (0..<(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? YjsUpdate.decode(bytes)
        }
    }
}

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
