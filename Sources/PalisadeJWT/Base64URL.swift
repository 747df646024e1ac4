/// base64url without padding (RFC 7515 §2), the encoding of every JWS segment.
///
/// Decoding is strict: no padding, no whitespace, no other alphabet, and the unused
/// bits of the last character must be zero, so one token has exactly one spelling.
enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// 0–63 for alphabet bytes, 0xFF for everything else.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        return table
    }()

    static func encode<Bytes: Collection<UInt8>>(_ input: Bytes) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((input.count + 2) / 3 * 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in input {
            accumulator = accumulator << 8 | UInt32(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                output.append(alphabet[Int(accumulator >> UInt32(bits) & 63)])
            }
            accumulator &= (1 << UInt32(bits)) - 1
        }
        if bits > 0 {
            output.append(alphabet[Int(accumulator << UInt32(6 - bits) & 63)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The decoded bytes, or nil when `input` is not canonical unpadded base64url.
    static func decode<Bytes: Collection<UInt8>>(_ input: Bytes) -> [UInt8]? {
        if let decoded = input.withContiguousStorageIfAvailable({ decode(contiguous: $0) }) { return decoded }
        return Array(input).withUnsafeBufferPointer { decode(contiguous: $0) }
    }

    /// Four characters at a time into three bytes; a tail of two or three characters makes
    /// one or two bytes, and the bits it leaves over must be zero. (A token is decoded on
    /// every connect, so not a character at a time through an accumulator.)
    private static func decode(contiguous input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let tail = input.count % 4
        // A lone trailing character carries only 6 bits: never a whole byte.
        guard tail != 1 else { return nil }
        let quads = input.count / 4
        let count = quads * 3 + (tail == 0 ? 0 : tail - 1)
        return decodeTable.withUnsafeBufferPointer { table -> [UInt8]? in
            var valid = true
            let output = [UInt8](unsafeUninitializedCapacity: count) { output, initialized in
                // Valid values are 0–63; the table's 0xFF for a foreign byte sets bit 7 of `seen`.
                var seen: UInt8 = 0
                for quad in 0..<quads {
                    let i = quad * 4
                    let a = table[Int(input[i])], b = table[Int(input[i + 1])]
                    let c = table[Int(input[i + 2])], d = table[Int(input[i + 3])]
                    seen |= a | b | c | d
                    let bits = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    output[quad * 3] = UInt8(truncatingIfNeeded: bits >> 16)
                    output[quad * 3 + 1] = UInt8(truncatingIfNeeded: bits >> 8)
                    output[quad * 3 + 2] = UInt8(truncatingIfNeeded: bits)
                }
                let i = quads * 4, o = quads * 3
                if tail == 2 {
                    let a = table[Int(input[i])], b = table[Int(input[i + 1])]
                    seen |= a | b
                    if b & 0x0F != 0 { valid = false }
                    output[o] = UInt8(truncatingIfNeeded: UInt32(a) << 2 | UInt32(b) >> 4)
                } else if tail == 3 {
                    let a = table[Int(input[i])], b = table[Int(input[i + 1])], c = table[Int(input[i + 2])]
                    seen |= a | b | c
                    if c & 0x03 != 0 { valid = false }
                    let bits = UInt32(a) << 12 | UInt32(b) << 6 | UInt32(c)
                    output[o] = UInt8(truncatingIfNeeded: bits >> 10)
                    output[o + 1] = UInt8(truncatingIfNeeded: bits >> 2)
                }
                if seen & 0x80 != 0 { valid = false }
                initialized = count
            }
            return valid ? output : nil
        }
    }
}
