import PalisadeYjs
import Testing

@Suite struct YjsByteReaderTests {
    @Test(
        arguments: [
            ([0x00], UInt64(0)), ([0x7F], 127), ([0x80, 0x01], 128), ([0xAC, 0x02], 300),
            ([0xFF, 0xFF, 0xFF, 0xFF, 0x0F], UInt64(UInt32.max)),
            ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], (1 << 53) - 1),
            ([0x80, 0x80, 0x00], 0),  // over-long but in range
        ] as [([UInt8], UInt64)])
    func varUIntReadsLib0Examples(bytes: [UInt8], value: UInt64) throws {
        var reader = YjsByteReader(bytes)
        #expect(try reader.readVarUInt() == value)
        #expect(reader.isAtEnd)
    }

    @Test func varUIntRefusesOverflowAndTruncation() {
        var big = YjsByteReader([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])  // 2^56 − 1
        #expect(throws: YjsDecodingError.integerOverflow(offset: 0)) { try big.readVarUInt() }
        var long = YjsByteReader([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00])  // 9 bytes
        #expect(throws: YjsDecodingError.integerOverflow(offset: 0)) { try long.readVarUInt() }
        var short = YjsByteReader([0x80])
        #expect(throws: YjsDecodingError.truncated(offset: 1)) { try short.readVarUInt() }
        var empty = YjsByteReader([])
        #expect(throws: YjsDecodingError.truncated(offset: 0)) { try empty.readUInt8() }
    }

    @Test(
        arguments: [
            ([0x00], UInt64(0), false), ([0x01], 1, false), ([0x41], 1, true), ([0x3F], 63, false),
            ([0x80, 0x01], 64, false), ([0xC0, 0x01], 64, true), ([0x40], 0, true),
            ([0xBF, 0xFF, 0xFF, 0xFF, 0x0F], (1 << 31) - 1, false), ([0xFF, 0xFF, 0xFF, 0xFF, 0x0F], (1 << 31) - 1, true),
        ] as [([UInt8], UInt64, Bool)])
    func varIntReadsSignAndMagnitude(bytes: [UInt8], magnitude: UInt64, negative: Bool) throws {
        var reader = YjsByteReader(bytes)
        let value = try reader.readVarInt()
        #expect(value.magnitude == magnitude)
        #expect(value.negative == negative)
        #expect(reader.isAtEnd)
    }

    @Test func varStringCountsUTF16UnitsAndRefusesBadUTF8() throws {
        var reader = YjsByteReader([0x06, 0x61, 0xF0, 0x9F, 0x98, 0x80, 0x62])
        let (text, units) = try reader.readVarStringWithUTF16Length(maxLength: 100)
        #expect(text == "a😀b")
        #expect(units == 4)
        for bad: [UInt8] in [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80], [0xE2, 0x82], [0xFF]] {
            var badReader = YjsByteReader([UInt8(bad.count)] + bad)
            #expect(throws: YjsDecodingError.invalidUTF8(offset: 1)) { try badReader.readVarString(maxLength: 100) }
        }
        var bom = YjsByteReader([0x03, 0xEF, 0xBB, 0xBF])
        #expect(try bom.readVarString(maxLength: 100) == "\u{FEFF}")
        var huge = YjsByteReader([0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        #expect(throws: YjsDecodingError.truncated(offset: 5)) { try huge.readVarString(maxLength: Int.max) }
        var capped = YjsByteReader([0x05, 1, 2, 3, 4, 5])
        #expect(throws: YjsDecodingError.limitExceeded(.stringBytes, offset: 0)) { try capped.readVarString(maxLength: 4) }
    }

    @Test func bytesAndFixedWidths() throws {
        var reader = YjsByteReader([0x02, 0xAA, 0xBB, 0x3F, 0xC0, 0x00, 0x00])
        #expect(try reader.readVarBytes(maxLength: 10) == [0xAA, 0xBB])
        #expect(try reader.readBigEndian(4) == 0x3FC0_0000)
        #expect(throws: YjsDecodingError.truncated(offset: 7)) { try reader.readBigEndian(8) }
    }
}
