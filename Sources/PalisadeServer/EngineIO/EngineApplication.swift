import NIOCore
import PalisadeGateway
import PalisadeProtocol

/// What runs on top of Engine.IO sessions: Socket.IO in the product, an echo in the tests.
public protocol EngineApplication: Sendable {
    /// Decides whether a handshake may open a session; nil allows it. Runs before the open packet.
    func authorizeHandshake(_ request: HandshakeRequest, on loop: any EventLoop) -> EventLoopFuture<EngineRequestError?>

    /// Called on the session's loop right after it opens; the returned handler receives its messages.
    func sessionOpened(_ session: EngineSession) -> any EngineSessionHandler

    /// True makes the mount a plain WebSocket echo without Engine.IO: every upgrade is accepted and
    /// each whole message goes back as it came, through the product's WebSocket handling. Only the
    /// test server's Autobahn route sets it (RFC 6455 conformance, `make autobahn`).
    var echoesRawWebSocket: Bool { get }
}

extension EngineApplication {
    public func authorizeHandshake(_ request: HandshakeRequest, on loop: any EventLoop) -> EventLoopFuture<EngineRequestError?> {
        loop.makeSucceededFuture(nil)
    }

    public var echoesRawWebSocket: Bool { false }
}

/// Receives one session's messages, on the session's loop.
public protocol EngineSessionHandler: AnyObject {
    func engineSession(_ session: EngineSession, received payload: EnginePacket.Payload)
    /// The session has ended; nothing more can be sent.
    func engineSessionClosed(_ session: EngineSession, reason: EngineCloseReason)
}

/// Why a session ended (the reasons socket.io-client and the reference use).
public enum EngineCloseReason: String, Sendable {
    case transportClose = "transport close"
    case transportError = "transport error"
    case pingTimeout = "ping timeout"
    case parseError = "parse error"
    case clientClose = "client close"
    case forcedClose = "forced close"
    case slowConsumer = "slow consumer"
    case serverShutdown = "server shutting down"
}
