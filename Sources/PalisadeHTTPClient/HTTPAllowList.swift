/// The base URLs `px.http` may reach, from the configuration, never from a script: a request
/// is allowed when its scheme, host and port are a base's and its path lies under the base's
/// path (`http://ow:8080/api/` allows `/api/v1/notes/1`, not `/apix` nor `/admin`).
///
/// Paths that could climb out of a base once a server normalises them are refused outright:
/// dot segments (`/../`, `/./`) and their percent-encoded forms, encoded slashes and
/// backslashes. Redirects are never followed (the caller sees the 3xx), so an allowed server
/// cannot send a request elsewhere.
public struct HTTPAllowList: Sendable {
    public let bases: [HTTPClientURL]

    /// Fails with the first entry that is not an absolute http(s) URL.
    public init(_ entries: [String]) throws(HTTPClientError) {
        bases = try entries.map { entry throws(HTTPClientError) in
            guard let url = HTTPClientURL(entry), !url.target.contains("?") else {
                throw HTTPClientError(.invalidURL, "not an http(s) base URL: \(entry)")
            }
            return url
        }
    }

    public var isEmpty: Bool { bases.isEmpty }

    public func allows(_ url: HTTPClientURL) -> Bool {
        guard !Self.mayClimb(url.path) else { return false }
        return bases.contains { base in
            guard base.isTLS == url.isTLS, base.host == url.host, base.port == url.port else { return false }
            let basePath = base.path.hasSuffix("/") ? base.path : base.path + "/"
            return url.path == base.path || url.path.hasPrefix(basePath)
        }
    }

    /// Dot segments, or encodings a server may decode into `.` or `/` before routing.
    private static func mayClimb(_ path: Substring) -> Bool {
        let lowered = path.lowercased()
        if lowered.contains("%2e") || lowered.contains("%2f") || lowered.contains("%5c") { return true }
        return path.split(separator: "/", omittingEmptySubsequences: false).contains { $0 == "." || $0 == ".." }
    }
}
