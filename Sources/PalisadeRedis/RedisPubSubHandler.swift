import NIOCore

/// The subscriber connection's pipeline once it is in subscribe mode (RESP2): `message` and
/// `pmessage` pushes go to `onMessage`; (un)subscribe confirmations are only counted; the answer to
/// `PING <token>` (`["pong", token]`) completes that PING's fence, in order. Anything else, or a
/// fence answered out of order, is a protocol error that closes the connection.
final class RedisPubSubHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let reader: RedisReplyReader
    private let onMessage: @Sendable (RedisPubSubMessage) -> Void
    private var fences = CircularBuffer<(token: String, promise: EventLoopPromise<Void>)>()
    private var context: ChannelHandlerContext?
    private(set) var failure: RedisError?
    /// Subscriptions the server reports (channels plus patterns), from the last confirmation.
    private(set) var serverCount = 0
    /// Reads from the connection so far: a link that delivers is alive without a fence.
    private(set) var reads = 0

    init(limits: RedisReplyReader.Limits, onMessage: @escaping @Sendable (RedisPubSubMessage) -> Void) {
        reader = RedisReplyReader(limits: limits)
        self.onMessage = onMessage
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail(RedisError(.connectionClosed, "subscriber handler removed"), close: false)
        self.context = nil
    }

    /// Writes `command` (SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE); confirmations are not awaited.
    func write(_ commands: [RedisCommand]) throws(RedisError) {
        if let failure { throw failure }
        guard let context else { throw RedisError(.connectionClosed, "subscriber closed") }
        var buffer = context.channel.allocator.buffer(capacity: 256)
        for command in commands { command.encode(into: &buffer) }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    /// Sends `PING token`; the promise completes when its PONG arrives, after every earlier command took effect.
    func fence(token: String, promise: EventLoopPromise<Void>) {
        do {
            try write([RedisCommand("PING", token)])
            fences.append((token, promise))
        } catch {
            promise.fail(error)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reads &+= 1
        reader.feed(unwrapInboundIn(data))
        do throws(RedisError) {
            while let reply = try reader.next() { try handle(reply) }
        } catch {
            fail(error, close: true)
        }
    }

    private func handle(_ reply: RedisValue) throws(RedisError) {
        if case .error(let message) = reply { throw RedisError(.server, message) }
        // Out of subscribe mode (nothing subscribed yet, or everything unsubscribed) PING answers plainly.
        if let token = reply.string, let fence = fences.first, fence.token == token {
            fences.removeFirst()
            return fence.promise.succeed()
        }
        guard let parts = reply.array, let kind = parts.first?.string else {
            throw RedisError(.protocolError, "unexpected reply in subscribe mode: \(reply)")
        }
        switch (kind, parts.count) {
        case ("message", 3):
            onMessage(RedisPubSubMessage(channel: parts[1].string ?? "", payload: parts[2].bytes ?? ByteBuffer()))
        case ("pmessage", 4):
            onMessage(RedisPubSubMessage(channel: parts[2].string ?? "", pattern: parts[1].string, payload: parts[3].bytes ?? ByteBuffer()))
        case ("subscribe", 3), ("unsubscribe", 3), ("psubscribe", 3), ("punsubscribe", 3):
            serverCount = Int(parts[2].integer ?? 0)
        case ("pong", 2):
            guard let fence = fences.popFirst(), fence.token == parts[1].string else {
                throw RedisError(.protocolError, "a PONG arrived for no PING in flight")
            }
            fence.promise.succeed()
        default:
            throw RedisError(.protocolError, "unexpected reply in subscribe mode: \(reply)")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(RedisError(.connectionClosed, "connection closed by peer"), close: false)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(RedisError(.connectionClosed, "connection error: \(error)"), close: true)
    }

    func fail(_ error: RedisError, close: Bool) {
        if failure == nil { failure = error }
        let waiting = fences
        fences.removeAll()
        for fence in waiting { fence.promise.fail(error) }
        if close, let context { context.close(promise: nil) }
    }
}

@available(*, unavailable)
extension RedisPubSubHandler: Sendable {}
