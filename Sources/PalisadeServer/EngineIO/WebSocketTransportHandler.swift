import NIOCore
import NIOWebSocket
import PalisadeProtocol

/// The thin loop around a session's WebSocket: decodes frames into Engine.IO packets and
/// hands them to the session on its loop; reports the connection closing or backing up.
final class WebSocketTransportHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let engine: EngineServer
    /// Read once, when the handler is added; then dropped (its headers are not small).
    private var request: HandshakeRequest?
    private var socket: WebSocketTransport?
    private var session: SessionHandle?

    init(engine: EngineServer, request: HandshakeRequest) {
        self.engine = engine
        self.request = request
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
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            do {
                deliver(try EngineCodec.decode(text: frame.unmaskedData))
            } catch {
                engine.logger.debug("closing a WebSocket after a malformed packet", metadata: ["error": "\(error)"])
                // RFC 6455 §7.4.1: 1007 for text that is not UTF-8, 1002 for other protocol errors.
                protocolError(code: error == .invalidUTF8 ? .dataInconsistentWithMessage : .protocolError)
            }
        case .binary:
            deliver(.message(frame.unmaskedData))
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            socket?.close()
        default:
            break
        }
    }

    private func deliver(_ packet: EnginePacket) {
        guard let session, let socket else { return }
        session.execute { $0.webSocketReceived(packet, from: socket) }
    }

    /// Malformed input: the socket closes with `code` and the session ends ("parse error").
    private func protocolError(code: WebSocketErrorCode) {
        socket?.close(code: code)
        if let session, let socket {
            session.execute { $0.webSocketClosed(socket) }
        }
        session = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
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
