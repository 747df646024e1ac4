/// lib0 writers beyond `writeVarUInt`: the inverse of `YjsByteReader`.
extension YjsWriter {
    /// lib0 varInt: sign and magnitude. The first byte holds the sign (0x40) and the 6 lowest bits.
    static func writeVarInt(_ value: Int64, to out: inout [UInt8]) {
        var magnitude = value.magnitude
        let sign: UInt8 = value < 0 ? 0x40 : 0
        let more: UInt8 = magnitude > 0x3F ? 0x80 : 0
        out.append(more | sign | UInt8(magnitude & 0x3F))
        magnitude >>= 6
        while magnitude > 0 {
            let more: UInt8 = magnitude > 0x7F ? 0x80 : 0
            out.append(more | UInt8(magnitude & 0x7F))
            magnitude >>= 7
        }
    }

    /// varString: the UTF-8 byte count, then the bytes.
    static func writeString(_ value: String, to out: inout [UInt8]) {
        var value = value
        value.withUTF8 { utf8 in
            writeVarUInt(UInt64(utf8.count), to: &out)
            out.append(contentsOf: utf8)
        }
    }

    /// varUint8Array.
    static func writeBytes(_ value: [UInt8], to out: inout [UInt8]) {
        writeVarUInt(UInt64(value.count), to: &out)
        out.append(contentsOf: value)
    }

    static func writeBigEndian(_ value: UInt64, width: Int, to out: inout [UInt8]) {
        for index in stride(from: width - 1, through: 0, by: -1) {
            out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))))
        }
    }

    /// One value of lib0's *any* encoding, with the tag the value was decoded with.
    static func writeAny(_ value: YjsAny, to out: inout [UInt8]) {
        switch value {
        case .undefined: out.append(127)
        case .null: out.append(126)
        case .integer(let integer):
            out.append(125)
            writeVarInt(integer, to: &out)
        case .float32(let float):
            out.append(124)
            writeBigEndian(UInt64(float.bitPattern), width: 4, to: &out)
        case .float64(let double):
            out.append(123)
            writeBigEndian(double.bitPattern, width: 8, to: &out)
        case .bigint(let integer):
            out.append(122)
            writeBigEndian(UInt64(bitPattern: integer), width: 8, to: &out)
        case .bool(let flag): out.append(flag ? 120 : 121)
        case .string(let string):
            out.append(119)
            writeString(string, to: &out)
        case .object(let entries):
            out.append(118)
            writeVarUInt(UInt64(entries.count), to: &out)
            for entry in entries {
                writeString(entry.key, to: &out)
                writeAny(entry.value, to: &out)
            }
        case .array(let elements):
            out.append(117)
            writeVarUInt(UInt64(elements.count), to: &out)
            for element in elements { writeAny(element, to: &out) }
        case .bytes(let bytes):
            out.append(116)
            writeBytes(bytes, to: &out)
        }
    }
}
