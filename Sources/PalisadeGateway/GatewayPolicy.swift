import NIOCore
import PalisadeJSON

/// The seam where decisions are made: the connect, event, join and disconnect paths
/// of the core call it, and nothing else decides. The default allows everything;
/// the Lua policy engine implements it.
///
/// Every method is called on the socket's event loop and may answer later (the
/// returned future), so a decision can wait for I/O without blocking the loop.
///
/// Class-bound: the core reads its policy on every event, and a class existential is
/// copied with one retain where any other is copied through its value witness.
public protocol GatewayPolicy: AnyObject, Sendable {
    /// Before a transport opens (polling handshake or WebSocket upgrade).
    func handshake(_ request: HandshakeRequest, on loop: any EventLoop) -> EventLoopFuture<HandshakeDecision>
    /// On a Socket.IO CONNECT, with the client's auth payload (`{}` when it sent none).
    func authenticate(_ socket: any GatewaySocket, auth: JSONValue) -> EventLoopFuture<ConnectDecision>
    /// After a successful connect (the CONNECT reply has been sent).
    func connected(_ socket: any GatewaySocket)
    /// Every incoming event, before any handler: answered at once when the decision needed no
    /// I/O (most do), so the core makes no future per event, or later. With
    /// `.decideAndHandle`, an allowed event that the policy itself handles (a Lua plugin's
    /// handler) is handled in the same call and answered `.handled`.
    func decideEvent(_ socket: any GatewaySocket, name: String, arguments: [JSONValue], handling: EventHandling) -> PolicyAnswer<
        EventDecision
    >
    /// Before a socket joins a room.
    func authorizeJoin(_ socket: any GatewaySocket, room: String) -> EventLoopFuture<AccessDecision>
    /// Before a document read or write, or any other access the core checks itself:
    /// `action` is `"read"` or `"write"`, `resource` is `{type, id}` (a Yjs document:
    /// `{type: "document", id: "note:abc"}`).
    func authorize(_ socket: any GatewaySocket, action: String, resource: JSONValue) -> EventLoopFuture<AccessDecision>
    /// A Yjs update carried `data.content` (a snapshot of the document for the app),
    /// after the write check and the debounce: the app's chance to persist it.
    func documentContent(_ socket: any GatewaySocket, documentID: String, content: JSONValue)
    /// When a socket joins a document that has no update yet: the app's content to seed it with
    /// (Open WebUI's `content` in `ydoc:document:state`: the note's saved `{md, html, json}`), or
    /// nil. The client seeds the document from it.
    func documentSeed(_ socket: any GatewaySocket, documentID: String) -> EventLoopFuture<JSONValue?>
    /// When the socket's session ends.
    func disconnected(_ socket: any GatewaySocket, reason: String)
    /// A socket that never connected: its CONNECT was refused, or its session closed while
    /// `authenticate` decided. No hook runs; the policy forgets what it kept of the socket.
    func abandoned(_ socket: any GatewaySocket)
}

/// A decision made at once, or one that waits for I/O.
public enum PolicyAnswer<Decision> {
    case now(Decision)
    case later(EventLoopFuture<Decision>)
}

public enum HandshakeDecision: Sendable, Equatable {
    case allow
    /// Refuse with an HTTP error: 403 unless `status` says otherwise (e.g. 429).
    case deny(reason: String, status: Int? = nil)
}

public enum ConnectDecision: Sendable, Equatable {
    /// Accept, with the identity the socket acts as (nil: anonymous).
    case accept(identity: JSONValue?)
    /// Refuse: the client gets CONNECT_ERROR `{"message": message, "data": data}`.
    case refuse(message: String, data: JSONValue?)
}

/// Whether `decideEvent` may also handle the event it allows.
public enum EventHandling {
    /// Decide only: a built-in handler takes the event, or nothing does.
    case decideOnly
    /// Decide, and when allowed let the policy's own handler take it; `ack` is the
    /// client's ack, nil unless it asked for one.
    case decideAndHandle(ack: Ack?)
}

public enum EventDecision: Sendable, Equatable {
    case allow
    /// Allowed, and the policy's own handler took it in the same call (`EventHandling`).
    case handled
    /// Ignore the event silently.
    case drop
    /// Refuse: the sender gets an `error` event `{"message": reason, "event": name, …details}`
    /// (details such as `retry_after`).
    case deny(reason: String, details: [JSONMember] = [])
}

/// The answer to an access check: joining a room, reading or writing a resource.
public enum AccessDecision: Sendable, Equatable {
    case allow
    case deny(reason: String)

    /// The reason of a deny that is no decision: the policy failed to answer (an error,
    /// an overrun, a deadline). Callers refuse on it like on any deny (fail closed), but
    /// need not take it as a change of mind about an earlier allow.
    public static let policyFailureReason = "policy error"

    /// Whether this is a deny because the policy failed to answer.
    public var isPolicyFailure: Bool { self == .deny(reason: Self.policyFailureReason) }
}

extension GatewayPolicy {
    public func handshake(_ request: HandshakeRequest, on loop: any EventLoop) -> EventLoopFuture<HandshakeDecision> {
        loop.makeSucceededFuture(.allow)
    }

    public func authenticate(_ socket: any GatewaySocket, auth: JSONValue) -> EventLoopFuture<ConnectDecision> {
        socket.loop.makeSucceededFuture(.accept(identity: nil))
    }

    public func connected(_ socket: any GatewaySocket) {}

    public func decideEvent(
        _ socket: any GatewaySocket, name: String, arguments: [JSONValue],
        handling: EventHandling
    ) -> PolicyAnswer<EventDecision> {
        .now(.allow)
    }

    public func authorizeJoin(_ socket: any GatewaySocket, room: String) -> EventLoopFuture<AccessDecision> {
        socket.loop.makeSucceededFuture(.allow)
    }

    public func authorize(_ socket: any GatewaySocket, action: String, resource: JSONValue) -> EventLoopFuture<AccessDecision> {
        socket.loop.makeSucceededFuture(.allow)
    }

    public func documentContent(_ socket: any GatewaySocket, documentID: String, content: JSONValue) {}

    public func documentSeed(_ socket: any GatewaySocket, documentID: String) -> EventLoopFuture<JSONValue?> {
        socket.loop.makeSucceededFuture(nil)
    }

    public func disconnected(_ socket: any GatewaySocket, reason: String) {}

    public func abandoned(_ socket: any GatewaySocket) {}
}

/// The default policy: everything is allowed. For development and for apps that
/// put their decisions elsewhere.
public final class AllowAllPolicy: GatewayPolicy {
    public init() {}
}
