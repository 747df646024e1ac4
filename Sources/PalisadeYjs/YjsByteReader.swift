/// A bounded reader of lib0 encodings over a byte array. Every read is checked and throws; nothing traps.
public struct YjsByteReader: Sendable {
    /// 2^53 − 1: the largest integer JavaScript peers hold exactly.
    public static let maxSafeInteger: UInt64 = (1 << 53) - 1

    public let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
    }

    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset >= bytes.count }

    public mutating func readUInt8() throws(YjsDecodingError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(offset: offset) }
        let byte = bytes[offset]
        offset += 1
        return byte
    }

    /// Unsigned LEB128, at most 8 bytes and at most 2^53 − 1.
    public mutating func readVarUInt() throws(YjsDecodingError) -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard shift < 56 else { throw .integerOverflow(offset: start) }
            let byte = try readUInt8()
            value |= UInt64(byte & 0x7F) << shift
            shift += 7
            if byte < 0x80 { break }
        }
        guard value <= Self.maxSafeInteger else { throw .integerOverflow(offset: start) }
        return value
    }

    /// A varUint that is also a count or length: at most `limit`, and small enough for `Int`.
    public mutating func readCount(
        max limit: Int, minBytesEach: Int, _ which: YjsLimit
    ) throws(YjsDecodingError) -> Int {
        let start = offset
        let value = try readVarUInt()
        guard value <= UInt64(max(limit, 0)) else { throw .limitExceeded(which, offset: start) }
        let count = Int(value)
        // Every element takes at least `minBytesEach` bytes: refuse counts the input cannot hold.
        guard minBytesEach == 0 || count <= remaining / minBytesEach else {
            throw .limitExceeded(.count, offset: start)
        }
        return count
    }

    /// lib0 varInt: sign and magnitude; the first byte holds the sign (0x40) and 6 bits.
    public mutating func readVarInt() throws(YjsDecodingError) -> (magnitude: UInt64, negative: Bool) {
        let start = offset
        let first = try readUInt8()
        var value = UInt64(first & 0x3F)
        let negative = first & 0x40 != 0
        var more = first & 0x80 != 0
        var shift: UInt64 = 6
        var length = 1
        while more {
            guard length < 8 else { throw .integerOverflow(offset: start) }
            let byte = try readUInt8()
            value |= UInt64(byte & 0x7F) << shift
            shift += 7
            length += 1
            more = byte & 0x80 != 0
        }
        guard value <= Self.maxSafeInteger else { throw .integerOverflow(offset: start) }
        return (value, negative)
    }

    /// `count` raw bytes.
    public mutating func readBytes(_ count: Int) throws(YjsDecodingError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw .truncated(offset: offset) }
        let slice = bytes[offset..<(offset + count)]
        offset += count
        return slice
    }

    /// A big-endian fixed-width unsigned integer of `width` ≤ 8 bytes.
    public mutating func readBigEndian(_ width: Int) throws(YjsDecodingError) -> UInt64 {
        let slice = try readBytes(width)
        var value: UInt64 = 0
        for byte in slice { value = value << 8 | UInt64(byte) }
        return value
    }

    /// varUint8Array.
    public mutating func readVarBytes(maxLength: Int) throws(YjsDecodingError) -> [UInt8] {
        let start = offset
        let length = try readVarUInt()
        guard length <= UInt64(max(maxLength, 0)) else { throw .limitExceeded(.binaryBytes, offset: start) }
        guard length <= UInt64(remaining) else { throw .truncated(offset: offset) }
        return Array(try readBytes(Int(length)))
    }

    /// varString: a byte count, then strict UTF-8. Returns the string and its length in UTF-16 units.
    public mutating func readVarStringWithUTF16Length(
        maxLength: Int
    ) throws(YjsDecodingError) -> (string: String, utf16Length: Int) {
        let start = offset
        let length = try readVarUInt()
        guard length <= UInt64(max(maxLength, 0)) else { throw .limitExceeded(.stringBytes, offset: start) }
        guard length <= UInt64(remaining) else { throw .truncated(offset: offset) }
        let bodyStart = offset
        let body = try readBytes(Int(length))
        guard let units = UTF8Validation.utf16Length(body) else { throw .invalidUTF8(offset: bodyStart) }
        return (String(decoding: body, as: UTF8.self), units)
    }

    public mutating func readVarString(maxLength: Int) throws(YjsDecodingError) -> String {
        try readVarStringWithUTF16Length(maxLength: maxLength).string
    }
}

enum UTF8Validation {
    /// The UTF-16 length of strict UTF-8 (no over-long forms, no surrogates, nothing above U+10FFFF), or nil.
    static func utf16Length(_ bytes: ArraySlice<UInt8>) -> Int? {
        var units = 0
        var index = bytes.startIndex
        let end = bytes.endIndex
        @inline(__always) func isContinuation(_ i: Int) -> Bool { i < end && bytes[i] & 0xC0 == 0x80 }
        while index < end {
            let lead = bytes[index]
            switch lead {
            case 0x00...0x7F:
                index += 1
                units += 1
            case 0xC2...0xDF:
                guard isContinuation(index + 1) else { return nil }
                index += 2
                units += 1
            case 0xE0...0xEF:
                guard index + 1 < end, isContinuation(index + 2) else { return nil }
                let second = bytes[index + 1]
                let low: UInt8 = lead == 0xE0 ? 0xA0 : 0x80
                let high: UInt8 = lead == 0xED ? 0x9F : 0xBF
                guard second >= low, second <= high else { return nil }
                index += 3
                units += 1
            case 0xF0...0xF4:
                guard index + 1 < end, isContinuation(index + 2), isContinuation(index + 3) else { return nil }
                let second = bytes[index + 1]
                let low: UInt8 = lead == 0xF0 ? 0x90 : 0x80
                let high: UInt8 = lead == 0xF4 ? 0x8F : 0xBF
                guard second >= low, second <= high else { return nil }
                index += 4
                units += 2
            default:
                return nil
            }
        }
        return units
    }
}
