import NIOCore

/// Byte-level look-ups in received frames, so receivers never parse whole JSON.
enum FrameScan {
    /// The unsigned integer right after the first occurrence of `key` (e.g. `"t":`).
    static func integer(after key: [UInt8], in frame: ByteBuffer) -> UInt64? {
        frame.withUnsafeReadableBytes { bytes -> UInt64? in
            guard let end = find(key, in: bytes, from: 0) else { return nil }
            var position = end
            var value: UInt64 = 0
            var digits = 0
            while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
                value = value &* 10 &+ UInt64(bytes[position] - UInt8(ascii: "0"))
                position += 1
                digits += 1
            }
            return digits > 0 ? value : nil
        }
    }

    /// Up to `limit` integers of the JSON array right after `key` (e.g. `"update":[`).
    static func integers(after key: [UInt8], in frame: ByteBuffer, limit: Int) -> [UInt64] {
        frame.withUnsafeReadableBytes { bytes -> [UInt64] in
            guard var position = find(key, in: bytes, from: 0) else { return [] }
            var values: [UInt64] = []
            values.reserveCapacity(limit)
            var value: UInt64 = 0
            var digits = 0
            while position < bytes.count, values.count < limit {
                let byte = bytes[position]
                if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                    value = value &* 10 &+ UInt64(byte - UInt8(ascii: "0"))
                    digits += 1
                } else {
                    if digits > 0 { values.append(value) }
                    value = 0
                    digits = 0
                    if byte == UInt8(ascii: "]") { break }
                }
                position += 1
            }
            return values
        }
    }

    /// The index just past the first occurrence of `needle`.
    static func find(_ needle: [UInt8], in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let first = needle.first, bytes.count >= needle.count else { return nil }
        var index = start
        let last = bytes.count - needle.count
        while index <= last {
            if bytes[index] == first {
                var matched = 1
                while matched < needle.count, bytes[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return index + needle.count }
            }
            index += 1
        }
        return nil
    }
}
