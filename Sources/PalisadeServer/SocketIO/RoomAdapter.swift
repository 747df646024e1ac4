import NIOCore
import PalisadeProtocol

/// Where room membership lives and where broadcasts go, as socket.io's `Adapter`: the sockets
/// and the policy only ever talk to the adapter, so a distributed one (Redis pub/sub, with the
/// in-process one for its local members) can stand in for the default `InProcessRoomAdapter`.
///
/// Every socket is in the room named by its id. Callable from any loop.
public protocol RoomAdapter: AnyObject, Sendable {
    /// `socket` joins `room` of its namespace.
    func join(_ room: String, socket: SocketHandle)
    func leave(_ room: String, socketID: String, namespace: String)
    /// Removes the socket from the rooms it joined (its tear-down).
    func leaveAll(socketID: String, rooms: Set<String>, namespace: String)
    /// Sends `packet` to the members of `target`.
    func broadcast(_ packet: SocketPacket, to target: BroadcastTarget)
    /// The ids of the members of `target`.
    func socketIDs(in target: BroadcastTarget) -> Set<String>
    /// The rooms of socket `socketID` (its own included); empty when it is unknown.
    func rooms(of socketID: String, namespace: String) -> Set<String>
    /// Disconnects the members of `target` (a socket: its own room); returns how many.
    @discardableResult func disconnect(_ target: BroadcastTarget) -> Int
    /// `socket` connected: it is now in its own room (its id), which `join` never names. An adapter
    /// that must act on that room (a distributed one subscribes to it) does so here; `leaveAll`
    /// ends it. Default: nothing.
    func connected(_ socket: SocketHandle)
    /// Completes on `loop` once the membership changes made before it are effective wherever the
    /// adapter listens (a distributed adapter: its subscriptions are live), or once that can no longer
    /// happen soon (its link is down). A CONNECT reply and a policy-checked join wait for it, as
    /// python-socketio's room-channel manager waits for its PING fence. Never fails. Default: at once.
    func fence(on loop: any EventLoop) -> EventLoopFuture<Void>
}

extension RoomAdapter {
    public func connected(_ socket: SocketHandle) {}

    public func fence(on loop: any EventLoop) -> EventLoopFuture<Void> { loop.makeSucceededVoidFuture() }
}

/// Whom a broadcast (or a lookup) reaches: the members of `rooms` of `namespace` (every socket
/// of the namespace when `rooms` is empty), each once, less the members of the `except` rooms.
public struct BroadcastTarget: Sendable, Equatable {
    public var namespace: String
    public var rooms: Set<String>
    public var except: Set<String>

    public init(namespace: String = "/", rooms: Set<String>, except: Set<String> = []) {
        self.namespace = namespace
        self.rooms = rooms
        self.except = except
    }
}
