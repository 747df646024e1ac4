import NIOCore
import NIOWebSocket
import PalisadeGateway
import PalisadeProtocol

/// The thin loop around a session's WebSocket: reads frames off the connection
/// (`WebSocketFrameReader`), joins fragmented messages, decodes them into Engine.IO packets
/// and hands them to the session on its loop; reports the connection closing or backing up.
/// The only handler of a WebSocket's pipeline: framing, fragments and protocol errors are
/// handled here, not in NIO's decoder, aggregator and error handler.
/// On a mount whose application `echoesRawWebSocket` (the test server's Autobahn route), whole
/// messages go straight back to the client instead, with no session.
final class WebSocketTransportHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let engine: EngineServer
    /// Read once, when the handler is added; then dropped (its headers are not small).
    private var request: HandshakeRequest?
    private var socket: WebSocketTransport?
    /// Where whole messages go; nil once the socket is closing (what follows is not read).
    private var peer: Peer?
    private var reader: WebSocketFrameReader
    /// The message being received in fragments, if any (made only then).
    private var partial: PartialMessage?
    /// The largest message, all fragments together (`--max-payload`).
    private let maxMessageBytes: Int
    /// Most fragments one message may come in: one per 64 bytes of `maxMessageBytes`, at least
    /// 1024. A message of the largest size still passes in 64-byte fragments (Autobahn's case
    /// 9.3.1), and the work a stream of empty fragments causes stays bounded by the message limit.
    private var maxFragments: Int { max(1024, maxMessageBytes / 64) }
    /// This connection's share of the inbound budget (`InboundBudget.counted` of what it holds).
    private var budgeted = 0
    /// The client's address, for the audit stream.
    private let ip: String

    private enum Peer {
        case session(SessionHandle)
        case echo
    }

    init(engine: EngineServer, request: HandshakeRequest, maxMessageBytes: Int) {
        self.engine = engine
        self.request = request
        self.maxMessageBytes = maxMessageBytes
        ip = request.ip
        reader = WebSocketFrameReader(maxFrameBytes: maxMessageBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let socket = WebSocketTransport(channel: context.channel)
        self.socket = socket
        guard let request else { return }
        self.request = nil
        if engine.application.echoesRawWebSocket {
            peer = .echo
        } else if let sid = request.sid {
            peer = engine.attachWebSocket(sid: sid, socket: socket).map { .session($0) }
        } else {
            peer = engine.openWebSocketSession(request, socket: socket).map { .session($0) }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        reader.append(&bytes)
        // Stops at the first failure: the socket is closing, and what follows is not read.
        while peer != nil {
            let frame: WebSocketFrameReader.Frame?
            do {
                frame = try reader.next(allocator: context.channel.allocator)
            } catch {
                return protocolError(code: error == .tooLarge ? .messageTooLarge : .protocolError)
            }
            guard let frame else { return holdWithinBudget() }
            received(frame)
        }
    }

    /// Counts what this connection holds of messages not yet whole against the shared budget;
    /// closes it (1013, try again later) when that would pass the budget.
    private func holdWithinBudget() {
        let wanted = InboundBudget.counted(reader.bufferedBytes + (partial?.data.readableBytes ?? 0))
        guard engine.inbound.resize(from: budgeted, to: wanted) else {
            engine.logger.notice(
                "closing a WebSocket: the inbound buffer budget is spent",
                metadata: ["bytes": "\(wanted)", "budget": "\(engine.inbound.limit)"])
            engine.auditInbound(ip: ip)
            return protocolError(code: .unknown(1013))
        }
        budgeted = wanted
    }

    private func releaseBudget() {
        _ = engine.inbound.resize(from: budgeted, to: 0)
        budgeted = 0
    }

    private func received(_ frame: WebSocketFrameReader.Frame) {
        switch frame.opcode {
        case .text, .binary:
            // RFC 6455 §5.4: a new message may not start inside a fragmented one.
            guard partial == nil else { return protocolError(code: .protocolError) }
            if frame.fin {
                received(frame.opcode, frame.payload)
            } else {
                partial = PartialMessage(opcode: frame.opcode, data: frame.payload)
            }
        case .continuation:
            guard let partial else { return protocolError(code: .protocolError) }
            var fragment = frame.payload
            partial.fragments += 1
            guard partial.data.readableBytes + fragment.readableBytes <= maxMessageBytes,
                partial.fragments <= maxFragments
            else {
                return protocolError(code: .messageTooLarge)
            }
            partial.data.writeBuffer(&fragment)
            guard frame.fin else { return }
            self.partial = nil
            received(partial.opcode, partial.data)
        case .ping:
            socket?.pong(frame.payload)
        case .close:
            if let code = WebSocketCloseFrame.problem(in: frame.payload) { return protocolError(code: code) }
            socket?.close()
        case .pong:
            break
        }
    }

    /// A whole message: text is an Engine.IO packet, binary a binary message.
    private func received(_ opcode: WebSocketFrameReader.Opcode, _ message: ByteBuffer) {
        if case .echo? = peer { return echo(opcode, message) }
        guard opcode == .text else { return deliver(.message(message)) }
        do {
            deliver(try EngineCodec.decode(text: message))
        } catch {
            engine.logger.debug("closing a WebSocket after a malformed packet", metadata: ["error": "\(error)"])
            // RFC 6455 §7.4.1: 1007 for text that is not UTF-8, 1002 for other protocol errors.
            protocolError(code: error == .invalidUTF8 ? .dataInconsistentWithMessage : .protocolError)
        }
    }

    private func deliver(_ packet: EnginePacket) {
        guard case .session(let session)? = peer, let socket else { return }
        session.execute { $0.webSocketReceived(packet, from: socket) }
    }

    /// The raw echo route: the message back as it came; text must be UTF-8 (1007 otherwise),
    /// as the Engine.IO decoder requires of the session's text.
    private func echo(_ opcode: WebSocketFrameReader.Opcode, _ message: ByteBuffer) {
        if opcode == .text {
            let valid = message.withUnsafeReadableBytes { String(validating: $0, as: UTF8.self) != nil }
            guard valid else { return protocolError(code: .dataInconsistentWithMessage) }
        }
        socket?.write(opcode == .text ? .text(message) : .binary(message))
    }

    /// Malformed input: the socket closes with `code` and the session ends ("parse error").
    private func protocolError(code: WebSocketErrorCode) {
        releaseBudget()
        socket?.close(code: code)
        if case .session(let session)? = peer, let socket {
            session.execute { $0.webSocketClosed(socket) }
        }
        peer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        releaseBudget()
        if case .session(let session)? = peer, let socket {
            session.execute { $0.webSocketClosed(socket) }
        }
        peer = nil
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !context.channel.isWritable, case .session(let session)? = peer, let socket {
            session.execute { $0.webSocketBackedUp(socket) }
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        engine.logger.debug("WebSocket error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension WebSocketTransportHandler: Sendable {}

/// A message arriving in fragments: its opcode (text or binary) and the bytes so far.
private final class PartialMessage {
    let opcode: WebSocketFrameReader.Opcode
    var data: ByteBuffer
    var fragments = 1

    init(opcode: WebSocketFrameReader.Opcode, data: ByteBuffer) {
        self.opcode = opcode
        self.data = data
    }
}
