/// Helpers that cut one fuzzer input into the parts a target needs.
enum FuzzInput {
    /// `bytes` split at every `separator` (empty parts kept).
    static func split(_ bytes: [UInt8], on separator: UInt8) -> [ArraySlice<UInt8>] {
        bytes.split(separator: separator, omittingEmptySubsequences: false)
    }

    /// `bytes` in pieces of `size` (at least 1) bytes, the last one shorter.
    static func chunks(_ bytes: ArraySlice<UInt8>, size: Int) -> [ArraySlice<UInt8>] {
        let size = max(size, 1)
        return stride(from: bytes.startIndex, to: bytes.endIndex, by: size).map {
            bytes[$0..<min($0 + size, bytes.endIndex)]
        }
    }
}
