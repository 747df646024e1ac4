import NIOCore
import NIOEmbedded
import NIOHTTP1
import PalisadeGateway

@testable import PalisadeServer

/// Request bytes through NIO's HTTP/1.1 decoder with the server's limits, then everything the
/// server reads from a request head before routing it: path and query, the client address
/// behind trusted proxies, origin and CORS, the WebSocket upgrade headers and key.
enum HTTPHeadTarget {
    static let proxies = TrustedProxies([IPNetwork("10.0.0.0/8")!, IPNetwork("::1/128")!])
    static let origins = [
        OriginPolicy(allowed: .sameOrigin), OriginPolicy(allowed: .any), OriginPolicy(allowed: .list(["https://a.example"])),
    ]
    static let peer = try! SocketAddress(ipAddress: "10.1.2.3", port: 40000)

    static func run(_ bytes: [UInt8]) {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = ServerConfiguration().maxHeaderBytes
        limits.maxHeaderFieldSize = ServerConfiguration().maxHeaderBytes
        try! channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withPipeliningAssistance: false, withServerUpgrade: nil, withErrorHandling: true,
            withOutboundHeaderValidation: true, withEncoderConfiguration: .init(), withDecoderLimitConfiguration: limits)
        _ = try? channel.writeInbound(ByteBuffer(bytes: bytes))
        while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
            if case .head(let head) = part { inspect(head) }
        }
    }

    static func inspect(_ head: HTTPRequestHead) {
        let request = HandshakeRequest(head: head, remoteAddress: peer)
        let ip = proxies.clientAddress(peer: request.ip, headers: request.headers)
        check(!ip.isEmpty, "an empty client address for \(head.headers)")
        _ = request.isWebSocketUpgrade
        _ = HTTPTokenList.header("connection", of: request.headers, lists: "upgrade")
        for policy in origins {
            _ = policy.corsHeaders(for: request)
            _ = policy.preflightHeaders(for: request)
        }
        if let key = request.headers.first(name: "sec-websocket-key"), WebSocketUpgrader.isValidKey(key) {
            check(WebSocketUpgrader.acceptValue(for: key).utf8.count == 28, "accept value of \(key)")
        }
    }
}
