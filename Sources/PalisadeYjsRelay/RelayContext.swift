import Logging
import NIOCore
import NIOPosix
import PalisadeDocuments
import PalisadeGateway
import PalisadeJSON
import PalisadeYjs
import Synchronization

/// What every part of the relay shares: settings, the store, the policy, the server.
final class RelayContext: Sendable {
    let settings: YjsSettings
    let store: any DocumentStore
    /// The store when it is shared by every instance (Redis): documents are then read from it
    /// for every join and state, never kept in memory (`DocumentHome+Shared`).
    let sharedStore: (any SharedDocumentStore)?
    let policy: any GatewayPolicy
    let logger: Logger
    /// Where merges run: never on an event loop.
    let pool: NIOThreadPool
    /// Limits for a client's update.
    let updateLimits: YjsDecodingLimits
    /// Limits for reading a stored document back (snapshot plus log): whatever was accepted loads again.
    let storedLimits: YjsDecodingLimits
    /// The largest document accepted, in stored bytes: `yjs.max_document_bytes`, but at most half the
    /// largest message a client may be sent, so the state of any stored document reaches a joiner
    /// (the half leaves room for what a compaction may add, and for the event around it).
    let maxDocumentBytes: Int
    /// The largest state sent to a joiner: a larger one would close the joiner as a client that does not read.
    let maxStateBytes: Int
    /// Set once by `attach`, read without a lock on every relay.
    private let server = AtomicLazyReference<Rooms>()

    init(
        settings: YjsSettings, store: any DocumentStore, policy: any GatewayPolicy, pool: NIOThreadPool,
        maxMessageBytes: Int, logger: Logger
    ) {
        self.settings = settings
        self.store = store
        sharedStore = store as? any SharedDocumentStore
        self.policy = policy
        self.pool = pool
        self.logger = logger
        updateLimits = YjsDecodingLimits(maxUpdateBytes: settings.maxUpdateBytes)
        storedLimits = .stored(acceptedWith: updateLimits)
        maxStateBytes = max(maxMessageBytes - Self.eventEnvelopeBytes, 0)
        maxDocumentBytes = min(settings.maxDocumentBytes, maxMessageBytes / 2)
    }

    /// Room for the event around a state: its name, the document id, the sessions.
    static let eventEnvelopeBytes = 64 << 10

    func attach(_ server: any GatewayRooms) {
        _ = self.server.storeIfNil(Rooms(server))
    }

    /// The server's rooms in a class of its own, which `AtomicLazyReference` needs.
    private final class Rooms: Sendable {
        let rooms: any GatewayRooms
        init(_ rooms: any GatewayRooms) { self.rooms = rooms }
    }

    /// Emits to a room from any loop.
    func emit(to room: String, _ event: String, _ arguments: [JSONValue], namespace: String, skipping: String?) {
        server.load()?.rooms.emit(to: room, event, arguments, namespace: namespace, skipping: skipping)
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
