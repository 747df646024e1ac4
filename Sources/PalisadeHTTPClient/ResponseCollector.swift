import NIOCore
import NIOHTTP1

/// Reads one response into memory, up to `maxBytes` of body, then closes the connection.
/// Fails the promise if the body is larger, the response is malformed, or the connection
/// ends first. Loop-confined.
final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<HTTPClientResponse>
    private let maxBytes: Int
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []

    init(promise: EventLoopPromise<HTTPClientResponse>, maxBytes: Int) {
        self.promise = promise
        self.maxBytes = maxBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > maxBytes {
                return fail(context, HTTPClientError(.tooLarge, "the response announces \(length) bytes, the limit is \(maxBytes)"))
            }
            self.head = head
        case .body(let buffer):
            guard body.count + buffer.readableBytes <= maxBytes else {
                return fail(context, HTTPClientError(.tooLarge, "the response is over \(maxBytes) bytes"))
            }
            body += buffer.readableBytesView
        case .end:
            guard let head else { return fail(context, HTTPClientError(.protocolError, "a response ended before its head")) }
            let headers = head.headers.map { (name: $0.name.lowercased(), value: $0.value) }
            promise.succeed(HTTPClientResponse(status: Int(head.status.code), headers: headers, body: body))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(HTTPClientError(.connectionFailed, "the connection closed before the response ended"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context, HTTPClientError(.protocolError, "\(error)"))
    }

    private func fail(_ context: ChannelHandlerContext, _ error: HTTPClientError) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
