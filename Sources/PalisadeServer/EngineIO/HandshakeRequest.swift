import NIOCore
import NIOHTTP1

/// What is known of an HTTP request that opens or continues an Engine.IO session.
public struct HandshakeRequest: Sendable {
    public var method: HTTPMethod
    /// The path without the query string.
    public var path: String
    public var query: [String: String]
    public var headers: HTTPHeaders
    /// The client's IP address as text (`127.0.0.1`, `::1`), or `""` when unknown.
    public var ip: String
    /// `polling` or `websocket`, as the client asked.
    public var transport: String? { query["transport"] }
    public var sid: String? { query["sid"] }
    public var origin: String? { headers.first(name: "origin") }

    public init(head: HTTPRequestHead, remoteAddress: SocketAddress?) {
        method = head.method
        let (path, query) = URLQuery.split(head.uri)
        self.path = path
        self.query = query
        headers = head.headers
        ip = remoteAddress?.ipAddress ?? ""
    }

    /// True when the request asks for a WebSocket upgrade.
    public var isWebSocketUpgrade: Bool {
        headers[canonicalForm: "upgrade"].contains { $0.lowercased() == "websocket" }
    }
}

/// Splits `/path?a=1&b=2` and percent-decodes the query.
enum URLQuery {
    static func split(_ uri: String) -> (path: String, query: [String: String]) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri, [:]) }
        var query: [String: String] = [:]
        for pair in uri[uri.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = percentDecode(parts[0])
            if query[key] == nil { query[key] = parts.count > 1 ? percentDecode(parts[1]) : "" }
        }
        return (String(uri[..<mark]), query)
    }

    static func percentDecode(_ text: Substring) -> String {
        guard text.contains("%") || text.contains("+") else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), iterator.count >= 2,
                      let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
