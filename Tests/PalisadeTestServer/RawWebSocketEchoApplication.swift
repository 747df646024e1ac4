import PalisadeServer

/// The Autobahn Testsuite's route (`make autobahn`): a plain WebSocket echo through the product's
/// WebSocket handling, without Engine.IO. Sessions never open on it.
struct RawWebSocketEchoApplication: EngineApplication {
    var echoesRawWebSocket: Bool { true }

    func sessionOpened(_ session: EngineSession) -> any EngineSessionHandler {
        EchoHandler()
    }
}
