import NIOCore

/// Where the server is: parsed once from `--url` (`http://host:port/path/`, `ws://` too).
struct BenchTarget: Sendable {
    var host: String
    var port: Int
    /// The Socket.IO path with its trailing slash, e.g. `/ws/socket.io/`.
    var path: String
    var address: SocketAddress

    var hostHeader: String { "\(host):\(port)" }
    var upgradeURI: String { path + "?EIO=4&transport=websocket" }
    var isLoopback: Bool { host.hasPrefix("127.") || host == "localhost" }

    init(url: String) throws {
        var rest = Substring(url)
        var defaultPort = 80
        for scheme in ["http://", "ws://"] where rest.hasPrefix(scheme) { rest = rest.dropFirst(scheme.count) }
        for scheme in ["https://", "wss://"] where rest.hasPrefix(scheme) {
            throw BenchError("TLS is not supported: use a plain http:// or ws:// URL")
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var path = String(rest[slash...])
        if path.isEmpty { path = "/socket.io/" }
        if let query = path.firstIndex(of: "?") { path = String(path[..<query]) }
        if !path.hasSuffix("/") { path += "/" }
        if let colon = authority.lastIndex(of: ":") {
            guard let port = Int(authority[authority.index(after: colon)...]) else { throw BenchError("bad port in \(url)") }
            host = String(authority[..<colon])
            defaultPort = port
        } else {
            host = String(authority)
        }
        port = defaultPort
        self.path = path
        address = try SocketAddress.makeAddressResolvingHost(host == "localhost" ? "127.0.0.1" : host, port: port)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
