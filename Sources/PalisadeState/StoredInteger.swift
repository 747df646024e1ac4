/// The integers `incr` accepts in a stored value, with Redis's rules (`string2ll`): optional `-`,
/// decimal digits, no `+`, no spaces, no leading zeros, no `-0`, within `Int64`.
///
/// Swift's `Int64(_:)` alone would also take `+5` and `007`, which Redis refuses; keeping the
/// same rule keeps the memory and Redis backends interchangeable.
enum StoredInteger {
    static func parse(_ text: String) -> Int64? {
        let bytes = text.utf8
        guard let first = bytes.first, bytes.count <= 20 else { return nil }
        let digits = first == UInt8(ascii: "-") ? bytes.dropFirst() : bytes[...]
        guard let lead = digits.first else { return nil }
        if lead == UInt8(ascii: "0") {
            return digits.count == 1 && first != UInt8(ascii: "-") ? 0 : nil
        }
        guard digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return Int64(text)
    }
}
