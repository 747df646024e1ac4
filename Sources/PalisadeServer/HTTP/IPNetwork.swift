#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`, `::1/128`; a bare address is its
/// own /32 or /128), and whether an address is in it. IPv4-mapped IPv6 addresses
/// (`::ffff:10.1.2.3`) count as their IPv4 address.
struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    /// 16 bytes; IPv4 as its IPv4-mapped IPv6 form.
    private let prefix: [UInt8]
    /// Prefix length in bits of the 128-bit form.
    private let length: Int
    let description: String

    /// Parses `text`; nil when it is not an address or CIDR network.
    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let (bytes, isIPv4) = Self.parse(String(parts[0])) else { return nil }
        let maxBits = isIPv4 ? 32 : 128
        var bits = maxBits
        if parts.count == 2 {
            guard let given = Int(parts[1]), (0...maxBits).contains(given) else { return nil }
            bits = given
        }
        length = isIPv4 ? 96 + bits : bits
        prefix = Self.masked(bytes, to: length)
        description = text
    }

    /// Whether `address` (text, as `SocketAddress.ipAddress` gives it) is in this network.
    func contains(_ address: String) -> Bool {
        guard let (bytes, _) = Self.parse(address) else { return false }
        return Self.masked(bytes, to: length) == prefix
    }

    /// The 16 bytes of an IPv4 or IPv6 address, and whether it was IPv4 (or IPv4-mapped).
    static func parse(_ text: String) -> ([UInt8], Bool)? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            let raw = withUnsafeBytes(of: &v4) { Array($0) }
            return ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + raw, true)
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let raw = withUnsafeBytes(of: &v6) { Array($0) }
        let mapped = raw[0..<10].allSatisfy { $0 == 0 } && raw[10] == 0xFF && raw[11] == 0xFF
        return (raw, mapped)
    }

    private static func masked(_ bytes: [UInt8], to bits: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let kept = max(0, min(8, bits - index * 8))
            return kept == 8 ? byte : byte & ~(0xFF >> UInt8(kept))
        }
    }
}
