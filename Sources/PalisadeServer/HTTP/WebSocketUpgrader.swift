import COpenSSL
import NIOCore
import NIOHTTP1
import NIOWebSocket
import PalisadeGateway
import PalisadeProtocol

/// The WebSocket upgrade (RFC 6455 §4.2): checks the request's key and version, asks the
/// engine of the path (its policy's handshake hook), answers 101 with the accept key, and
/// then puts the one handler a WebSocket needs in the pipeline (`WebSocketTransportHandler`,
/// which does its own framing). NIO's upgrader would add its frame encoder, decoder and error
/// handler as well: three more handlers per connection, each passed by every message.
final class WebSocketUpgrader: HTTPServerProtocolUpgrader, Sendable {
    let supportedProtocol = "websocket"
    /// None: RFC 6455 does not make clients name its headers in `Connection`; they are
    /// checked in `buildUpgradeResponse`.
    let requiredUpgradeHeaders: [String] = []

    private let router: HTTPRouter
    /// The request as parsed when the upgrade was decided, for `upgrade` (one per connection).
    private let parsed: NIOLoopBoundBox<HandshakeRequest?>

    init(router: HTTPRouter, channel: any Channel) {
        self.router = router
        parsed = NIOLoopBoundBox(nil, eventLoop: channel.eventLoop)
    }

    func buildUpgradeResponse(
        channel: any Channel, upgradeRequest head: HTTPRequestHead,
        initialResponseHeaders: HTTPHeaders
    ) -> EventLoopFuture<HTTPHeaders> {
        let keys = head.headers["sec-websocket-key"]  // canonicalForm would split values on commas: allocations per connect
        // RFC 6455 §4.2.1: one valid key, version 13, and `Upgrade` among the `Connection` tokens.
        guard keys.count == 1, Self.isValidKey(keys[0]), head.headers["sec-websocket-version"] == ["13"],
            HTTPTokenList.header("connection", of: head.headers, lists: "upgrade")
        else {
            return channel.eventLoop.makeFailedFuture(NIOWebSocketUpgradeError.invalidUpgradeHeader)
        }
        let accept = Self.acceptValue(for: String(keys[0]))
        let request = router.request(head, from: channel.remoteAddress)
        parsed.value = request
        guard let engine = router.engine(for: request.path) else {
            return channel.eventLoop.makeFailedFuture(NIOWebSocketUpgradeError.unsupportedWebSocketTarget)
        }
        return engine.shouldUpgrade(request, on: channel.eventLoop).flatMapThrowing { extra in
            guard var headers = extra else { throw NIOWebSocketUpgradeError.unsupportedWebSocketTarget }
            headers.replaceOrAdd(name: "Upgrade", value: "websocket")
            headers.replaceOrAdd(name: "Connection", value: "upgrade")
            headers.add(name: "Sec-WebSocket-Accept", value: accept)
            return headers
        }
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest head: HTTPRequestHead) -> EventLoopFuture<Void> {
        let channel = context.channel
        let request = parsed.value ?? router.request(head, from: channel.remoteAddress)
        parsed.value = nil
        guard let engine = router.engine(for: request.path) else { return channel.close() }
        return engine.webSocketUpgraded(request, channel: channel)
    }

    /// RFC 6455 §4.1: the key is 16 random bytes in base64, so 22 characters of the alphabet
    /// (the last one carrying 2 bits, the rest zero: one of `AQgw`) and `==`.
    static func isValidKey(_ key: some StringProtocol) -> Bool {
        let bytes = Array(key.utf8)
        guard bytes.count == 24, bytes[22] == UInt8(ascii: "="), bytes[23] == UInt8(ascii: "=") else { return false }
        guard bytes[..<21].allSatisfy(isBase64Character) else { return false }
        return [UInt8(ascii: "A"), UInt8(ascii: "Q"), UInt8(ascii: "g"), UInt8(ascii: "w")].contains(bytes[21])
    }

    private static func isBase64Character(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "+"), UInt8(ascii: "/"):
            true
        default: false
        }
    }

    /// SHA-1 fetched from OpenSSL's provider once: `EVP_sha1()` makes `EVP_Digest` look the
    /// implementation up again on every call, a large part of a connect.
    /// Read-only after it is made; OpenSSL allows a fetched digest to be shared by threads.
    private nonisolated(unsafe) static let sha1: OpaquePointer? = EVP_MD_fetch(nil, "SHA1", nil)

    /// `Sec-WebSocket-Accept`: base64 of the SHA-1 of the client's key and the protocol's GUID.
    static func acceptValue(for key: String) -> String {
        let input = Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8)
        var digest = [UInt8](repeating: 0, count: 20)
        var length: UInt32 = 0
        let done = input.withUnsafeBytes { bytes in
            EVP_Digest(bytes.baseAddress, bytes.count, &digest, &length, Self.sha1 ?? EVP_sha1(), nil)
        }
        precondition(done == 1 && length == 20, "SHA-1 is always available in OpenSSL")
        var encoded = ByteBuffer()
        Base64.encode(ByteBuffer(bytes: digest), into: &encoded)
        return String(buffer: encoded)
    }
}
