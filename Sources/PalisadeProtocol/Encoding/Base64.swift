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
            let count = (bytes.count + 2) / 3 * 4
            // Into the buffer in one write, not a `writeInteger` (with its checks) per character.
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { target in
                alphabet.withUnsafeBufferPointer { alphabet in
                    var index = 0, out = 0
                    while index + 3 <= bytes.count {
                        let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
                        target[out] = alphabet[Int(chunk >> 18 & 63)]
                        target[out + 1] = alphabet[Int(chunk >> 12 & 63)]
                        target[out + 2] = alphabet[Int(chunk >> 6 & 63)]
                        target[out + 3] = alphabet[Int(chunk & 63)]
                        index += 3
                        out += 4
                    }
                    let rest = bytes.count - index
                    if rest > 0 {
                        let chunk = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
                        target[out] = alphabet[Int(chunk >> 18 & 63)]
                        target[out + 1] = alphabet[Int(chunk >> 12 & 63)]
                        target[out + 2] = rest == 2 ? alphabet[Int(chunk >> 6 & 63)] : UInt8(ascii: "=")
                        target[out + 3] = UInt8(ascii: "=")
                    }
                }
                return count
            }
        }
    }

    /// Decodes padded base64; nil on any byte outside the alphabet or a bad length.
    public static func decode(_ input: some Collection<UInt8>) -> ByteBuffer? {
        let decoded =
            input.withContiguousStorageIfAvailable { decode($0, lenient: false) }
            ?? Array(input).withUnsafeBufferPointer { decode($0, lenient: false) }
        return decoded.map { ByteBuffer(bytes: $0) }
    }

    /// Decodes base64 in the standard or the URL alphabet (`+/` or `-_`), padded or not (what
    /// a JWT segment is, read by a caller that only looks and never verifies); nil on any
    /// other byte, a lone last character, or more padding than the length calls for.
    public static func decodeLenient(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        decode(input, lenient: true)
    }

    /// 0–63 for bytes of either alphabet, 0xFF for everything else.
    private static let lenientTable: [UInt8] = {
        var table = decodeTable
        table[Int(UInt8(ascii: "-"))] = 62
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    /// Strict: a length that is a multiple of 4, padded to it. Lenient: padding optional, but
    /// never past the next multiple of 4. Either way the padding is at most two `=`.
    private static func decode(_ bytes: UnsafeBufferPointer<UInt8>, lenient: Bool) -> [UInt8]? {
        guard lenient || bytes.count % 4 == 0 else { return nil }
        var end = bytes.count
        while end > 0, bytes.count - end < 2, bytes[end - 1] == UInt8(ascii: "=") { end -= 1 }
        let padding = bytes.count - end
        let tail = end % 4
        guard tail != 1, padding == 0 || padding <= (4 - tail) % 4 else { return nil }
        let table = lenient ? lenientTable : decodeTable
        var output: [UInt8] = []
        output.reserveCapacity(end / 4 * 3 + 2)
        var chunk: UInt32 = 0
        for index in 0..<end {
            let value = table[Int(bytes[index])]
            guard value != 0xFF else { return nil }
            chunk = chunk << 6 | UInt32(value)
            if index % 4 == 3 {
                output.append(UInt8(truncatingIfNeeded: chunk >> 16))
                output.append(UInt8(truncatingIfNeeded: chunk >> 8))
                output.append(UInt8(truncatingIfNeeded: chunk))
                chunk = 0
            }
        }
        // The last 2 or 3 characters carry 1 or 2 bytes (their unused low bits are dropped).
        if tail == 2 { output.append(UInt8(truncatingIfNeeded: chunk >> 4)) }
        if tail == 3 {
            output.append(UInt8(truncatingIfNeeded: chunk >> 10))
            output.append(UInt8(truncatingIfNeeded: chunk >> 2))
        }
        return output
    }
}
