import NIOCore
import NIOWebSocket
import PalisadeGateway
import PalisadeProtocol

/// The thin loop around a session's WebSocket: reads frames off the connection
/// (`WebSocketFrameReader`), joins fragmented messages, decodes them into Engine.IO packets
/// and hands them to the session on its loop; reports the connection closing or backing up.
/// The only handler of a WebSocket's pipeline: framing, fragments and protocol errors are
/// handled here, not in NIO's decoder, aggregator and error handler.
final class WebSocketTransportHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let engine: EngineServer
    /// Read once, when the handler is added; then dropped (its headers are not small).
    private var request: HandshakeRequest?
    private var socket: WebSocketTransport?
    private var session: SessionHandle?
    private var reader: WebSocketFrameReader
    /// The message being received in fragments, if any (made only then).
    private var partial: PartialMessage?
    /// The largest message, all fragments together (`--max-payload`).
    private let maxMessageBytes: Int
    /// Most fragments one message may come in.
    static let maxFragments = 1024
    /// This connection's share of the inbound budget (`InboundBudget.counted` of what it holds).
    private var budgeted = 0
    /// The client's address, for the audit stream.
    private let ip: String

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
        if let sid = request.sid {
            session = engine.attachWebSocket(sid: sid, socket: socket)
        } else {
            session = engine.openWebSocketSession(request, socket: socket)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        reader.append(&bytes)
        // Stops at the first failure: the socket is closing, and what follows is not read.
        while session != nil {
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
                partial.fragments <= Self.maxFragments
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
        guard let session, let socket else { return }
        session.execute { $0.webSocketReceived(packet, from: socket) }
    }

    /// Malformed input: the socket closes with `code` and the session ends ("parse error").
    private func protocolError(code: WebSocketErrorCode) {
        releaseBudget()
        socket?.close(code: code)
        if let session, let socket {
            session.execute { $0.webSocketClosed(socket) }
        }
        session = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        releaseBudget()
        if let session, let socket {
            session.execute { $0.webSocketClosed(socket) }
        }
        session = nil
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !context.channel.isWritable, let session, let socket {
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
