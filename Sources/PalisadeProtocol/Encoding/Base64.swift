import NIOCore

/// Standard base64 with padding (RFC 4648 §4), as Engine.IO polling carries binary messages.
public enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// 0–63 for alphabet bytes, 0xFF for everything else.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        return table
    }()

    public static func encode(_ input: ByteBuffer, into output: inout ByteBuffer) {
        input.withUnsafeReadableBytes { bytes in
            output.reserveCapacity(minimumWritableBytes: (bytes.count + 2) / 3 * 4)
            var index = 0
            while index + 3 <= bytes.count {
                let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
                output.writeInteger(alphabet[Int(chunk >> 18 & 63)])
                output.writeInteger(alphabet[Int(chunk >> 12 & 63)])
                output.writeInteger(alphabet[Int(chunk >> 6 & 63)])
                output.writeInteger(alphabet[Int(chunk & 63)])
                index += 3
            }
            let rest = bytes.count - index
            if rest > 0 {
                let chunk = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
                output.writeInteger(alphabet[Int(chunk >> 18 & 63)])
                output.writeInteger(alphabet[Int(chunk >> 12 & 63)])
                output.writeInteger(rest == 2 ? alphabet[Int(chunk >> 6 & 63)] : UInt8(ascii: "="))
                output.writeInteger(UInt8(ascii: "="))
            }
        }
    }

    /// Decodes padded base64; nil on any byte outside the alphabet or a bad length.
    public static func decode<Bytes: Collection<UInt8>>(_ input: Bytes) -> ByteBuffer? {
        let bytes = Array(input)
        guard bytes.count % 4 == 0 else { return nil }
        var output = ByteBuffer()
        output.reserveCapacity(bytes.count / 4 * 3)
        var index = 0
        while index < bytes.count {
            let isLast = index + 4 == bytes.count
            let padding = isLast ? (bytes[index + 3] == UInt8(ascii: "=") ? (bytes[index + 2] == UInt8(ascii: "=") ? 2 : 1) : 0) : 0
            var chunk: UInt32 = 0
            for offset in 0..<(4 - padding) {
                let value = decodeTable[Int(bytes[index + offset])]
                guard value != 0xFF else { return nil }
                chunk |= UInt32(value) << UInt32(18 - 6 * offset)
            }
            output.writeInteger(UInt8(chunk >> 16 & 0xFF))
            if padding < 2 { output.writeInteger(UInt8(chunk >> 8 & 0xFF)) }
            if padding < 1 { output.writeInteger(UInt8(chunk & 0xFF)) }
            index += 4
        }
        return output
    }
}
