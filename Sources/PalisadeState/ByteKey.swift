#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A key compared and hashed by its UTF-8 bytes, as Redis compares keys.
///
/// Swift's `String` equality is Unicode canonical equivalence (`"é" == "e\u{301}"`), which would
/// let two keys that Redis keeps apart share one counter or one revocation entry here.
struct ByteKey: Hashable, Sendable {
    let string: String
    /// The bytes' hash, computed once: a key picks its shard and then its table slot, and
    /// hashing the bytes twice per rate-limit hit showed in profiles.
    let byteHash: Int

    init(_ string: String) {
        var string = string
        string.makeContiguousUTF8()  // so hashing and comparing take the fast, buffer path
        self.string = string
        var hasher = Hasher()
        let hashed: Void? = string.utf8.withContiguousStorageIfAvailable { bytes in
            hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        }
        if hashed == nil {
            for byte in string.utf8 { hasher.combine(byte) }
        }
        byteHash = hasher.finalize()
    }

    /// Bytes of the key, for the store's memory accounting.
    var byteCount: Int { string.utf8.count }

    /// Byte for byte (never Unicode equivalence); one `memcmp` on the contiguous UTF-8
    /// (the generic `elementsEqual` was a visible part of every rate-limit hit).
    static func == (lhs: ByteKey, rhs: ByteKey) -> Bool {
        guard lhs.byteHash == rhs.byteHash else { return false }
        let left = lhs.string.utf8, right = rhs.string.utf8
        guard left.count == right.count else { return false }
        let compared: Bool?? = left.withContiguousStorageIfAvailable { a in
            right.withContiguousStorageIfAvailable { b in
                a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
            }
        }
        if let compared = compared ?? nil { return compared }
        return left.elementsEqual(right)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(byteHash)
    }
}
