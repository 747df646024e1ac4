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

}

/// Splits `/path?a=1&b=2` and percent-decodes the query, on the UTF-8 bytes (no `Character`
/// or Foundation searches: this runs on every connect).
public enum URLQuery {
    public static func split(_ uri: String) -> (path: String, query: [String: String]) {
        let bytes = uri.utf8
        guard let mark = bytes.firstIndex(of: UInt8(ascii: "?")) else { return (uri, [:]) }
        var query: [String: String] = [:]
        for pair in bytes[bytes.index(after: mark)...].split(separator: UInt8(ascii: "&")) {
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            let key = percentDecode(equals.map { pair[..<$0] } ?? pair)
            if query[key] == nil { query[key] = equals.map { percentDecode(pair[pair.index(after: $0)...]) } ?? "" }
        }
        return (String(uri[..<mark]), query)
    }

    public static func percentDecode(_ text: Substring) -> String {
        percentDecode(text.utf8)
    }

    /// `+` is a space and `%XX` a byte; a `%` without two hex digits stays as it is.
    static func percentDecode(_ text: Substring.UTF8View) -> String {
        guard text.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else {
            return String(Substring(text))
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var index = text.startIndex
        while index != text.endIndex {
            let byte = text[index]
            text.formIndex(after: &index)
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index != text.endIndex, let high = hexValue(text[index]),
                text.index(after: index) != text.endIndex, let low = hexValue(text[text.index(after: index)])
            {
                bytes.append(high << 4 | low)
                text.formIndex(&index, offsetBy: 2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
