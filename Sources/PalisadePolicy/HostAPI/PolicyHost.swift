import Logging
import NIOConcurrencyHelpers
import PalisadeProtocol
import PalisadeServer

/// What the host API reaches outside Lua: settings, logging, and the socket server
/// (attached after it is built, since the server is built with the policy).
public final class PolicyHost: Sendable {
    public let logger: Logger
    /// `px.config`: the settings Lua may read (with the free-form `policy` section).
    public let config: JSONValue
    private let socketServer = NIOLockedValueBox<SocketServer?>(nil)

    public init(logger: Logger, config: JSONValue) {
        self.logger = logger
        self.config = config
    }

    public func attach(_ server: SocketServer) {
        socketServer.withLockedValue { $0 = server }
    }

    var server: SocketServer? { socketServer.withLockedValue { $0 } }
}
