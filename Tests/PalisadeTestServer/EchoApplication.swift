import PalisadeProtocol
import PalisadeServer

/// The Engine.IO conformance suite's application: every message goes back as it came.
struct EchoApplication: EngineApplication {
    func sessionOpened(_ session: EngineSession) -> any EngineSessionHandler {
        EchoHandler()
    }
}

final class EchoHandler: EngineSessionHandler {
    func engineSession(_ session: EngineSession, received payload: EnginePacket.Payload) {
        session.send(EngineFrame(EnginePacket(.message, payload)))
    }

    func engineSessionClosed(_ session: EngineSession, reason: EngineCloseReason) {}
}
