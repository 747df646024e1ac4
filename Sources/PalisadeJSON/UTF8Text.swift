extension String {
    /// `bytes` as a string when they are valid UTF-8; nil when they are not.
    ///
    /// ASCII, nearly all protocol text, is recognised eight bytes at a time and handed to the
    /// standard library's non-generic UTF-8 path. `String(validating:as:)` is generic and not
    /// specialised outside the standard library: it looks up type metadata on every call.
    public init?(utf8Validating bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else {
            self = ""
            return
        }
        let count = bytes.count
        var index = 0
        while index + 8 <= count, base.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
            index += 8
        }
        while index < count, bytes[index] < 0x80 { index += 1 }
        let utf8 = bytes.assumingMemoryBound(to: UInt8.self)
        if index == count {
            self = String(decoding: utf8, as: UTF8.self)  // ASCII: nothing to repair
        } else {
            guard let text = String(validating: utf8, as: UTF8.self) else { return nil }
            self = text
        }
    }
}
