/// Parsers for the settings whose values have a shape of their own.
extension SettingValue {
    /// A URL path: starts with `/`, no query, fragment or whitespace. Trailing slashes are dropped
    /// (`/ws/socket.io/` → `/ws/socket.io`) so the router compares one spelling.
    func urlPath() throws -> String {
        let expected = "a path starting with / (no spaces, ? or #)"
        var path = try text(expected: expected)
        guard path.hasPrefix("/"), !path.contains(where: { $0.isWhitespace || $0 == "?" || $0 == "#" }) else {
            throw invalid(expected)
        }
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return path
    }

    /// `both`, `websocket` or `polling`; also a list of `polling`/`websocket` (socket.io's own
    /// `transports` option is a list), which is their union.
    func transports() throws -> ServerConfiguration.Transports {
        let expected = "one of both|websocket|polling"
        let names = items()
        guard !names.isEmpty else { throw invalid(expected) }
        var polling = false
        var webSocket = false
        for name in names {
            switch ServerConfiguration.Transports(rawValue: name.lowercased()) {
            case .both: (polling, webSocket) = (true, true)
            case .polling: polling = true
            case .websocket: webSocket = true
            case nil: throw invalid(expected)
            }
        }
        return polling && webSocket ? .both : polling ? .polling : .websocket
    }

    /// `*` alone, or a list of `scheme://host[:port]`, separated by `,` or `;` (Open WebUI's
    /// `CORS_ALLOW_ORIGIN` uses `;`). An empty list means same-origin only. Origins are lower-cased,
    /// as browsers send them.
    func allowedOrigins() throws -> ServerConfiguration.AllowedOrigins {
        let expected = "* or a list of origins like https://chat.example.com[:port], separated by , or ;"
        let entries = items(separators: [",", ";"])
        if entries == ["*"] { return .any }
        if entries.isEmpty { return .sameOrigin }
        var origins: [String] = []
        for entry in entries {
            guard let origin = Self.normalizedOrigin(entry) else { throw invalid(expected) }
            if !origins.contains(origin) { origins.append(origin) }
        }
        return .list(origins)
    }

    /// A comma list of IPv4/IPv6 addresses or CIDR networks (`10.0.0.0/8, ::1`).
    func networks() throws -> [String] {
        let entries = items()
        guard entries.allSatisfy({ IPNetwork($0) != nil }) else {
            throw invalid("a comma list of IP addresses or CIDR networks, like 10.0.0.0/8,::1")
        }
        return entries
    }

    /// A comma list of absolute http(s) URLs (no query, no fragment).
    func baseURLs() throws -> [String] {
        let entries = items()
        let valid = entries.allSatisfy { entry in
            let lowered = entry.lowercased()
            return (lowered.hasPrefix("http://") || lowered.hasPrefix("https://")) && !entry.contains("?") && !entry.contains("#")
                && entry.split(separator: "/", omittingEmptySubsequences: false).count >= 3
        }
        guard valid, !entries.isEmpty else { throw invalid("a comma list of http(s) base URLs, like http://127.0.0.1:8080/api/") }
        return entries
    }

    /// A comma list of namespaces, each starting with `/`; `/` itself (always served) and repeats are dropped.
    func namespaces() throws -> [String] {
        let expected = "a comma list of namespaces starting with /, like /admin,/chat"
        var namespaces: [String] = []
        for name in items() {
            guard name.hasPrefix("/"), !name.contains(where: { $0.isWhitespace || $0 == "?" || $0 == "#" }) else {
                throw invalid(expected)
            }
            if name != "/", !namespaces.contains(name) { namespaces.append(name) }
        }
        return namespaces
    }

    /// `scheme://host[:port]` in lower case without a default port, or nil. No path, query, user
    /// info or trailing slash: the `Origin` header never has them, so such an entry could never match.
    static func normalizedOrigin(_ text: String) -> String? {
        let origin = text.lowercased()
        guard let separator = origin.firstRange(of: "://") else { return nil }
        let scheme = origin[..<separator.lowerBound]
        let authority = origin[separator.upperBound...]
        guard let first = scheme.first, first.isASCII, first.isLetter,
            scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else { return nil }

        let host: Substring
        let port: Substring?
        if authority.hasPrefix("[") {
            // IPv6 literal: [::1] or [::1]:8080
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let rest = authority[authority.index(after: close)...]
            guard host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }), host.contains(":") else { return nil }
            if rest.isEmpty {
                port = nil
            } else {
                guard rest.hasPrefix(":") else { return nil }
                port = rest.dropFirst()
            }
        } else {
            let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return nil }
            host = parts[0]
            port = parts.count == 2 ? parts[1] : nil
            guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0)) }) else {
                return nil
            }
        }
        guard !host.isEmpty else { return nil }
        if let port {
            guard port.count <= 5, port.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(port), (1...65535).contains(number)
            else { return nil }
            // Browsers leave the scheme's default port out of `Origin`; so must the entry, to match.
            if (scheme == "http" && number == 80) || (scheme == "https" && number == 443) {
                return String(origin.dropLast(port.count + 1))
            }
        }
        return origin
    }
}
