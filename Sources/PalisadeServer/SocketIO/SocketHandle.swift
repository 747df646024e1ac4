import NIOCore
import PalisadeGateway

/// A reference to a `Socket` that may cross loops (rooms, the registry and core handlers
/// such as the Yjs relay hold these). One per connected socket (`Socket.handle`), shared by
/// every room it is in: a class, so a broadcast's member list costs one retain per member.
public final class SocketHandle: GatewaySocketHandle {
    public let id: String
    public let namespace: String
    public let loop: any EventLoop
    private let bound: NIOLoopBound<Socket>

    init(_ socket: Socket) {
        id = socket.id
        namespace = socket.namespace
        loop = socket.loop
        bound = NIOLoopBound(socket, eventLoop: socket.loop)
    }

    /// Must be called on `loop`.
    func sendOnLoop(_ frames: PreparedFrames) {
        bound.value.sendFrames(frames)
    }

    /// Must be called on `loop`.
    func infoOnLoop() -> SocketInfo {
        bound.value.info
    }

    /// Must be called on `loop`.
    func credentialsOnLoop() -> SocketCredentials? {
        bound.value.credentials
    }

    /// Runs `body` with the socket on its loop: at once when already there, else queued.
    public func execute(_ body: @escaping @Sendable (any GatewaySocket) -> Void) {
        executeOnSocket(body)
    }

    /// `execute` with the server's own socket type.
    func executeOnSocket(_ body: @escaping @Sendable (Socket) -> Void) {
        if loop.inEventLoop {
            body(bound.value)
        } else {
            let bound = bound
            loop.execute { body(bound.value) }
        }
    }
}
