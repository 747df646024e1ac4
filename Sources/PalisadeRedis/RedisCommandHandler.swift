import NIOCore

/// The command pipeline of one connection: commands are encoded into one outbound buffer and
/// written with a single flush per event-loop tick, replies are read by hiredis and complete the
/// oldest promise (RESP2 answers in order). Any failure — a protocol error, a command timeout,
/// the peer closing — fails every command in flight and closes the channel: after that, replies
/// could no longer be matched to commands.
final class RedisCommandHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var promise: EventLoopPromise<RedisValue>
        var name: ByteBuffer
        var sent: NIODeadline
        var deadline: NIODeadline?
    }

    private let reader: RedisReplyReader
    private let commandTimeout: TimeAmount?
    private let maxPending: Int
    private var pending = CircularBuffer<Pending>()
    private var outbound = ByteBuffer()
    private var flushScheduled = false
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var context: ChannelHandlerContext?
    /// Set once the connection is unusable; later sends fail with it.
    private(set) var failure: RedisError?

    init(limits: RedisReplyReader.Limits, commandTimeout: TimeAmount?, maxPending: Int) {
        reader = RedisReplyReader(limits: limits)
        self.commandTimeout = commandTimeout
        self.maxPending = maxPending
    }

    var inFlight: Int { pending.count }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        outbound = context.channel.allocator.buffer(capacity: 4096)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail(RedisError(.connectionClosed, "connection handler removed"), close: false)
        self.context = nil
    }

    /// Fails a command that was never sent (counted like any failed command).
    private func refuse(_ promise: EventLoopPromise<RedisValue>, _ error: RedisError) {
        RedisClientMetrics.shared.failed(error)
        promise.fail(error)
    }

    /// Queues `command`; it leaves with everything else queued in this tick. Call on the channel's loop.
    func send(_ command: RedisCommand, promise: EventLoopPromise<RedisValue>, timeout: TimeAmount? = nil) {
        if let failure { return refuse(promise, failure) }
        guard let context else { return refuse(promise, RedisError(.connectionClosed, "connection closed")) }
        guard pending.count < maxPending else {
            return refuse(promise, RedisError(.tooManyPending, "\(maxPending) commands already in flight"))
        }
        command.encode(into: &outbound)
        let (now, limit) = (NIODeadline.now(), timeout ?? commandTimeout)
        pending.append(Pending(promise: promise, name: command.arguments[0], sent: now, deadline: limit.map { now + $0 }))
        if let deadline = pending.last?.deadline, timerDeadline.map({ deadline < $0 }) ?? true {
            timer?.cancel()
            armTimer(deadline, context: context)
        }
        if !flushScheduled {
            flushScheduled = true
            context.eventLoop.assumeIsolated().execute { self.flush() }
        }
    }

    private func flush() {
        flushScheduled = false
        guard let context, failure == nil, outbound.readableBytes > 0 else { return }
        let bytes = outbound
        outbound = context.channel.allocator.buffer(capacity: 4096)
        context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reader.feed(unwrapInboundIn(data))
        do throws(RedisError) {
            while let reply = try reader.next() {
                guard let head = pending.popFirst() else {
                    throw RedisError(.protocolError, "a reply arrived with no command waiting for it")
                }
                if case .error(let message) = reply {
                    let error = RedisError(.server, message)
                    RedisClientMetrics.shared.finished(sentAt: head.sent, failure: error)
                    head.promise.fail(error)
                } else {
                    RedisClientMetrics.shared.finished(sentAt: head.sent, failure: nil)
                    head.promise.succeed(reply)
                }
            }
        } catch {
            fail(error, close: true)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(RedisError(.connectionClosed, "connection closed by peer"), close: false)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(RedisError(.connectionClosed, "connection error: \(error)"), close: true)
    }

    /// One timer for the earliest deadline. When it fires, the earliest deadline still in flight
    /// re-arms it, or, if passed, ends the connection. Deadlines mostly grow along the FIFO, so this is cheap.
    private func armTimer(_ deadline: NIODeadline, context: ChannelHandlerContext) {
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { self.timerFired() }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        guard let context else { return }
        var earliest: (deadline: NIODeadline, name: ByteBuffer)?
        for entry in pending {
            if let deadline = entry.deadline, earliest.map({ deadline < $0.deadline }) ?? true { earliest = (deadline, entry.name) }
        }
        guard let earliest else { return }
        if earliest.deadline > .now() { return armTimer(earliest.deadline, context: context) }
        let name = String(buffer: earliest.name).uppercased()
        fail(RedisError(.commandTimeout, "no reply to \(name) in time"), close: true)
    }

    /// Fails everything in flight with `error` and makes the connection unusable.
    func fail(_ error: RedisError, close: Bool) {
        if failure == nil { failure = error }
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        let failed = pending
        pending.removeAll()
        for entry in failed {
            RedisClientMetrics.shared.finished(sentAt: entry.sent, failure: error)
            entry.promise.fail(error)
        }
        if close, let context { context.close(promise: nil) }
    }
}

@available(*, unavailable)
extension RedisCommandHandler: Sendable {}
