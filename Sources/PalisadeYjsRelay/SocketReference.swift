import NIOCore
import PalisadeProtocol
import PalisadeServer

/// A socket that work on another loop (a document's home loop) can reach back to.
struct SocketReference: Sendable {
    let id: String
    let loop: any EventLoop
    private let bound: NIOLoopBound<Socket>

    /// Must be created on the socket's loop.
    init(_ socket: Socket) {
        id = socket.id
        loop = socket.loop
        bound = NIOLoopBound(socket, eventLoop: socket.loop)
    }

    /// Runs `body` with the socket on its loop, if it is still connected.
    func withSocket(_ body: @escaping @Sendable (Socket) -> Void) {
        let bound = bound
        if loop.inEventLoop {
            if bound.value.isConnected { body(bound.value) }
        } else {
            loop.execute { if bound.value.isConnected { body(bound.value) } }
        }
    }
}

extension Socket {
    /// The relay's refusal: an `error` event `{message, event}` (what the stock policies send too).
    func refuse(_ event: String, _ message: String) {
        emit("error", [.object([JSONMember("message", .string(message)), JSONMember("event", .string(event))])])
    }

    /// The identity's `id` (a string or an integer), or nil for anonymous sockets.
    var userID: String? {
        guard let id = identity?["id"] else { return nil }
        return id.stringValue ?? id.intValue.map(String.init)
    }

    /// The identity's `name`, if any.
    var userName: String? { identity?["name"]?.stringValue }
}
