import NIOHTTP1
import PalisadeGateway

/// Comma-separated token lists of HTTP headers (`Upgrade: websocket`, `Connection: keep-alive,
/// Upgrade`), matched on bytes: the canonical form and `lowercased()` make strings per request.
enum HTTPTokenList {
    /// True when a value of header `name` lists `token` (lowercase ASCII), in any case, with
    /// spaces or tabs around it.
    static func header(_ name: String, of headers: HTTPHeaders, lists token: String) -> Bool {
        let wanted = Array(token.utf8)
        return headers[name].contains { value in
            value.utf8.split(separator: UInt8(ascii: ",")).contains { matches($0, wanted) }
        }
    }

    /// `| 0x20` lowercases a letter and maps no other byte onto one.
    private static func matches(_ token: Substring.UTF8View, _ wanted: [UInt8]) -> Bool {
        var token = token
        while let first = token.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { token.removeFirst() }
        while let last = token.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { token.removeLast() }
        return token.count == wanted.count && zip(token, wanted).allSatisfy { $0 | 0x20 == $1 }
    }
}

extension HandshakeRequest {
    /// True when the request asks for a WebSocket upgrade: an `Upgrade` value lists
    /// `websocket`, in any case.
    var isWebSocketUpgrade: Bool {
        HTTPTokenList.header("upgrade", of: headers, lists: "websocket")
    }
}
