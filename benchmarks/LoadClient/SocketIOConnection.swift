import NIOCore

/// The Engine.IO v4 / Socket.IO v5 client side of one WebSocket, the only handler of its
/// channel: sends the upgrade request and reads the 101 (`UpgradeHandshake`), answers pings,
/// sends the CONNECT with auth, dispatches ACKs and EVENTs to its role, and batches every frame it
/// writes during one read burst into a single buffer flushed at `channelReadComplete`.
///
/// It splits frames itself (`ServerFrameParser`) and writes client frames as raw bytes
/// (`ClientFrame`). The dispatch
/// reads the first two bytes of a message and, for an ACK, the digits of its id: no JSON is
/// parsed on the message path.
final class SocketIOConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Why a connection did not become ready; the connect report counts these by `kind`.
    struct Failure: Error, Sendable {
        var kind: String
    }

    private static let pongFrame = ClientFrame.text("3")
    /// Pre-encoded `41` + EIO close, sent when the driver stops the run.
    private static let goodbyeFrames: ByteBuffer = {
        var buffer = ClientFrame.text("41")
        buffer.writeImmutableBuffer(ClientFrame.text("1"))
        return buffer
    }()

    let stats: LoopStats
    private let role: any SessionRole
    private let connectFrame: ByteBuffer
    private let upgradeRequest: ByteBuffer
    /// Reads the upgrade's response; nil once upgraded.
    private var handshake: UpgradeHandshake? = UpgradeHandshake()
    private var ready: EventLoopPromise<Channel>?
    private var handshakeTimeout: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    private var connected = false
    private var stopping = false
    private var reading = false
    private var parser = ServerFrameParser()
    /// Frames written since the last flush.
    var outbound = ByteBuffer()

    init(
        role: any SessionRole, upgradeRequest: ByteBuffer, connectFrame: ByteBuffer, stats: LoopStats,
        ready: EventLoopPromise<Channel>, loop: EventLoop, handshakeTimeout: TimeAmount
    ) {
        self.role = role
        self.upgradeRequest = upgradeRequest
        self.connectFrame = connectFrame
        self.stats = stats
        self.ready = ready
        self.handshakeTimeout = loop.assumeIsolated().scheduleTask(in: handshakeTimeout) { [weak self] in
            self?.fail(Failure(kind: "handshake_timeout"))
        }
    }

    // MARK: Called by roles

    /// Fulfils the connection's ready future (once).
    func markReady() {
        handshakeTimeout?.cancel()
        handshakeTimeout = nil
        guard let ready, let channel = context?.channel else { return }
        self.ready = nil
        ready.succeed(channel)
    }

    /// Flushes `outbound` now, unless a read burst is in progress (then it goes at its end).
    func flushSoon() {
        if !reading { flushOutbound() }
    }

    /// Fails the ready future with `failure` and closes the channel.
    func fail(_ failure: Failure) {
        handshakeTimeout?.cancel()
        handshakeTimeout = nil
        if let ready {
            self.ready = nil
            ready.fail(failure)
        }
        context?.close(promise: nil)
    }

    // MARK: ChannelHandler

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        outbound = context.channel.allocator.buffer(capacity: 256)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(upgradeRequest), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reading = true
        var bytes = unwrapInboundIn(data)
        if handshake != nil {
            switch handshake!.feed(bytes) {
            case .incomplete:
                return
            case .refused(let kind):
                fail(Failure(kind: kind))
                return
            case .upgraded(let leftover):
                handshake = nil
                bytes = leftover
            }
        }
        do {
            try parser.feed(bytes) { message in
                switch message {
                case .text(let text):
                    receive(text)
                case .ping(let payload):
                    ClientFrame.writeHeader(opcode: ClientFrame.pongOpcode, length: payload.readableBytes, into: &outbound)
                    outbound.writeImmutableBuffer(payload)
                case .close:
                    context.close(promise: nil)
                case .ignored:
                    break
                }
            }
        } catch {
            fail(Failure(kind: "frame_too_large"))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        reading = false
        flushOutbound()
    }

    func channelInactive(context: ChannelHandlerContext) {
        role.stop()
        if ready != nil {
            let kind = handshake != nil ? "closed_during_upgrade" : connected ? "closed_before_ready" : "closed_before_connect"
            fail(Failure(kind: kind))
        } else if !stopping {
            stats.dropped += 1
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(Failure(kind: "error_\(Self.describe(error))"))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event as? BenchSignal {
        case .start?:
            role.start(self)
            flushOutbound()
        case .stop?:
            stopping = true
            role.stop()
            outbound.writeImmutableBuffer(Self.goodbyeFrames)
            flushOutbound()
            context.close(promise: nil)
        case nil:
            context.fireUserInboundEventTriggered(event)
        }
    }

    // MARK: Engine.IO / Socket.IO dispatch

    @inline(__always)
    private func receive(_ frame: ByteBuffer) {
        let start = frame.readerIndex
        guard let first = frame.getInteger(at: start, as: UInt8.self) else { return }
        switch first {
        case UInt8(ascii: "4"):
            switch frame.getInteger(at: start + 1, as: UInt8.self) {
            case UInt8(ascii: "3")?:
                var id: UInt64 = 0
                var position = start + 2
                while let digit = frame.getInteger(at: position, as: UInt8.self),
                    digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9")
                {
                    id = id &* 10 &+ UInt64(digit - UInt8(ascii: "0"))
                    position += 1
                }
                role.ack(self, id: id, frame: frame)
            case UInt8(ascii: "2")?:
                role.event(self, frame: frame)
            case UInt8(ascii: "0")?:
                guard !connected else { return }
                connected = true
                role.connected(self)
            case UInt8(ascii: "4")?:
                fail(Failure(kind: "connect_error"))
            case UInt8(ascii: "1")?:
                context?.close(promise: nil)
            default:
                stats.errors += 1
            }
        case UInt8(ascii: "2"):
            outbound.writeImmutableBuffer(Self.pongFrame)
        case UInt8(ascii: "0"):
            outbound.writeImmutableBuffer(connectFrame)
        case UInt8(ascii: "1"):
            context?.close(promise: nil)
        default:
            break
        }
    }

    private func flushOutbound() {
        guard outbound.readableBytes > 0, let context else { return }
        let bytes = outbound
        // A fresh buffer: the written one is held by the socket until it is sent.
        outbound = context.channel.allocator.buffer(capacity: max(256, bytes.readableBytes))
        context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
    }

    /// A short, stable name for an error, for the failure counts.
    static func describe(_ error: Error) -> String {
        if let io = error as? IOError { return "errno_\(io.errnoCode)" }
        if let failure = error as? Failure { return failure.kind }
        let text = String(describing: error)
        return String(text.prefix { $0 != "(" && $0 != ":" })
    }
}

@available(*, unavailable) extension SocketIOConnection: Sendable {}
