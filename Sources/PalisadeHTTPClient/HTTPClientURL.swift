/// An absolute `http://` or `https://` URL as `px.http` accepts it: no user info, no
/// fragment, no whitespace or control characters. The host is kept lowercased; the target
/// is the path and query as sent in the request line (`/` when the URL has no path).
public struct HTTPClientURL: Sendable, Equatable, CustomStringConvertible {
    public var isTLS: Bool
    /// A name, an IPv4 address, or an IPv6 address without its brackets.
    public var host: String
    public var port: Int
    /// Path and query, starting with `/`.
    public var target: String

    /// Parses `text`; nil when it is not such a URL.
    public init?(_ text: String) {
        guard !text.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") }) else { return nil }
        let lowered = text.lowercased()
        let rest: Substring
        if lowered.hasPrefix("https://") {
            isTLS = true
            rest = text.dropFirst("https://".count)
        } else if lowered.hasPrefix("http://") {
            isTLS = false
            rest = text.dropFirst("http://".count)
        } else {
            return nil
        }
        let withoutFragment = rest.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let authorityEnd = withoutFragment.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? withoutFragment.endIndex
        let authority = withoutFragment[..<authorityEnd]
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        var target = String(withoutFragment[authorityEnd...])
        if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
        self.target = target
        let defaultPort = isTLS ? 443 : 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close]).lowercased()
            let after = authority[authority.index(after: close)...]
            guard let port = Self.port(after, default: defaultPort) else { return nil }
            self.port = port
        } else {
            let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            host = String(parts[0]).lowercased()
            guard let port = Self.port(parts.count == 2 ? ":" + parts[1] : "", default: defaultPort) else { return nil }
            self.port = port
        }
        guard !host.isEmpty else { return nil }
    }

    /// `:1234` → 1234, empty → the default; anything else → nil.
    private static func port(_ text: Substring, default defaultPort: Int) -> Int? {
        if text.isEmpty { return defaultPort }
        guard text.hasPrefix(":"), let port = Int(text.dropFirst()), (1...65_535).contains(port) else { return nil }
        return port
    }

    /// The path without the query.
    public var path: Substring { target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0] }

    /// `Host` header value.
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (isTLS ? 443 : 80) ? name : "\(name):\(port)"
    }

    public var description: String { "\(isTLS ? "https" : "http")://\(hostHeader)\(target)" }
}
