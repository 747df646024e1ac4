/// A key compared and hashed by its UTF-8 bytes, as Redis compares keys.
///
/// Swift's `String` equality is Unicode canonical equivalence (`"é" == "e\u{301}"`), which would
/// let two keys that Redis keeps apart share one counter or one revocation entry here.
struct ByteKey: Hashable, Sendable {
    let string: String

    init(_ string: String) {
        var string = string
        string.makeContiguousUTF8()  // so hashing and comparing take the fast, buffer path
        self.string = string
    }

    /// Bytes of the key, for the store's memory accounting.
    var byteCount: Int { string.utf8.count }

    static func == (lhs: ByteKey, rhs: ByteKey) -> Bool {
        lhs.string.utf8.elementsEqual(rhs.string.utf8)
    }

    func hash(into hasher: inout Hasher) {
        let hashed: Void? = string.utf8.withContiguousStorageIfAvailable { bytes in
            hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        }
        if hashed == nil {
            for byte in string.utf8 { hasher.combine(byte) }
        }
    }
}
