import Logging
import NIOCore
import NIOPosix
import PalisadeDocuments
import PalisadeProtocol
import PalisadeServer
import PalisadeYjs
import Synchronization

/// What every part of the relay shares: settings, the store, the policy, the server.
final class RelayContext: Sendable {
    let settings: YjsSettings
    let store: any DocumentStore
    let policy: any GatewayPolicy
    let logger: Logger
    /// Where merges run: never on an event loop.
    let pool: NIOThreadPool
    /// Limits for a client's update.
    let updateLimits: YjsDecodingLimits
    /// Limits for a stored document (snapshot plus log), which may be far larger than one update.
    let storedLimits: YjsDecodingLimits
    /// Set once by `attach`, read without a lock on every relay.
    private let server = AtomicLazyReference<SocketServer>()

    init(settings: YjsSettings, store: any DocumentStore, policy: any GatewayPolicy, pool: NIOThreadPool, logger: Logger) {
        self.settings = settings
        self.store = store
        self.policy = policy
        self.pool = pool
        self.logger = logger
        updateLimits = YjsDecodingLimits(maxUpdateBytes: settings.maxUpdateBytes)
        let documentBytes = max(settings.maxDocumentBytes, settings.maxUpdateBytes)
        storedLimits = YjsDecodingLimits(
            maxUpdateBytes: documentBytes, maxStructs: max(1_000_000, documentBytes / 2),
            maxStringBytes: documentBytes, maxBinaryBytes: documentBytes, maxDeleteRanges: max(1_000_000, documentBytes / 2)
        )
    }

    func attach(_ server: SocketServer) {
        _ = self.server.storeIfNil(server)
    }

    /// Emits to a room from any loop.
    func emit(to room: String, _ event: String, _ arguments: [JSONValue], namespace: String, skipping: String?) {
        server.load()?.emit(to: room, event, arguments, namespace: namespace, skipping: skipping)
    }
}

/// The event names of Open WebUI's collaborative editor.
enum YjsEvent {
    static let join = "ydoc:document:join"
    static let state = "ydoc:document:state"
    static let update = "ydoc:document:update"
    static let leave = "ydoc:document:leave"
    static let awareness = "ydoc:awareness:update"
    static let userJoined = "ydoc:user:joined"
    static let userLeft = "ydoc:user:left"
}
