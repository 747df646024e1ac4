import NIOCore
import NIOHTTP1
import NIOPosix
import PalisadeTLS

/// A small HTTP/1.1 client on SwiftNIO for `px.http`: one connection per request
/// (`Connection: close`), TLS through OpenSSL (`PalisadeTLS`, peer verified), the whole
/// exchange bounded by one timeout and the body by a size cap. Redirects are not followed.
/// Futures complete on the loop the call names, which also runs the connection.
public final class HTTPClient: Sendable {
    private let tls: TLSContext

    /// - Parameter caFile: PEM roots for `https` (nil: the system's).
    public init(caFile: String? = nil) throws(TLSError) {
        tls = try TLSContext.client(verifyPeer: true, caFile: caFile)
    }

    public func execute(
        _ request: HTTPClientRequest, timeout: TimeAmount, maxResponseBytes: Int, on loop: any EventLoop
    ) -> EventLoopFuture<HTTPClientResponse> {
        let promise = loop.makePromise(of: HTTPClientResponse.self)
        let url = request.url
        let tls = url.isTLS ? self.tls : nil
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(OpenSSLHandler(context: tls, serverName: url.host)) }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise, maxBytes: maxResponseBytes))
                }
            }
        let connected = bootstrap.connect(host: url.host, port: url.port)
        let deadline = loop.scheduleTask(in: timeout) {
            promise.fail(HTTPClientError(.timeout, "no complete response within \(timeout.nanoseconds / 1_000_000) ms"))
            connected.whenSuccess { $0.close(promise: nil) }
        }
        connected.whenComplete { result in
            switch result {
            case .success(let channel):
                Self.send(request, on: channel)
            case .failure(let error):
                promise.fail(HTTPClientError(.connectionFailed, "\(url.hostHeader): \(error)"))
            }
        }
        promise.futureResult.whenComplete { _ in deadline.cancel() }
        return promise.futureResult
    }

    private static func send(_ request: HTTPClientRequest, on channel: any Channel) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: request.url.hostHeader)
        headers.add(name: "User-Agent", value: "palisade")
        headers.add(name: "Connection", value: "close")
        for (name, value) in request.headers { headers.add(name: name, value: value) }
        if let body = request.body { headers.replaceOrAdd(name: "Content-Length", value: String(body.count)) }
        let head = HTTPRequestHead(
            version: .http1_1, method: HTTPMethod(rawValue: request.method.uppercased()), uri: request.url.target, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body = request.body, !body.isEmpty {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
        }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }
}
