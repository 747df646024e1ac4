import NIOCore

/// The WebSocket upgrade as raw bytes: the request written once per run, the response read by
/// `feed`. A connection's pipeline then holds `SocketIOConnection` alone. NIO's HTTP codec and
/// client upgrader (five handlers added and removed, a dozen futures) cost the client about as
/// much per connect as the server's whole handshake, which made the client the limit of
/// `connect` runs.
///
/// Every connection sends RFC 6455's sample key (§1.3) and checks the response against the
/// accept value the RFC publishes for it, so the check does not depend on the server's own
/// code. One key for all is fine for a load generator: a key's randomness guards against
/// caching intermediaries, and there are none on the benchmark's path.
struct UpgradeHandshake {
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="
    static let expectedAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    /// A response head longer than this is refused (`upgrade_response_too_large`).
    static let maxHeadBytes = 8192

    enum Outcome: Equatable {
        /// The head has not fully arrived yet.
        case incomplete
        /// Upgraded; `leftover` is what followed the head (often the server's open packet).
        case upgraded(leftover: ByteBuffer)
        /// Not upgraded; `kind` names why, for the failure counts.
        case refused(kind: String)
    }

    /// The GET that asks for the upgrade to Engine.IO's WebSocket transport.
    static func request(target: BenchTarget) -> ByteBuffer {
        ByteBuffer(
            string: "GET \(target.upgradeURI) HTTP/1.1\r\nHost: \(target.hostHeader)\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n")
    }

    /// Bytes of a head split over reads, kept until its blank line arrives.
    private var pending: ByteBuffer?

    /// Reads the next bytes of the response.
    mutating func feed(_ bytes: ByteBuffer) -> Outcome {
        var buffer: ByteBuffer
        if var pending {
            pending.writeImmutableBuffer(bytes)
            buffer = pending
        } else {
            buffer = bytes
        }
        guard let headLength = Self.headLength(buffer) else {
            guard buffer.readableBytes <= Self.maxHeadBytes else { return .refused(kind: "upgrade_response_too_large") }
            pending = buffer
            return .incomplete
        }
        pending = nil
        let head = buffer.readSlice(length: headLength)!
        if let refusal = Self.refusal(head) { return .refused(kind: refusal) }
        return .upgraded(leftover: buffer)
    }

    /// Length of the head up to and including its blank line; nil until it has arrived.
    private static func headLength(_ buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { bytes in
            guard bytes.count >= 4 else { return nil }
            for end in 3..<bytes.count where bytes[end] == 10 && bytes[end - 1] == 13 && bytes[end - 2] == 10 && bytes[end - 3] == 13 {
                return end + 1
            }
            return nil
        }
    }

    /// Why `head` is not a valid 101 answer to `request`; nil when it is one.
    private static func refusal(_ head: ByteBuffer) -> String? {
        let lines = String(buffer: head).split(separator: "\r\n", omittingEmptySubsequences: true)
        guard let status = lines.first, status.hasPrefix("HTTP/1.1 "),
            let code = Int(status.dropFirst(9).prefix(3))
        else { return "upgrade_bad_status_line" }
        guard code == 101 else { return "http_\(code)" }
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":"),
                line[..<colon].lowercased() == "sec-websocket-accept"
            else { continue }
            var value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            while value.last == " " || value.last == "\t" { value.removeLast() }
            return value == expectedAccept ? nil : "upgrade_bad_accept"
        }
        return "upgrade_bad_accept"
    }
}
