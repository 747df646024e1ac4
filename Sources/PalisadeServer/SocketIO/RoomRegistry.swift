import NIOConcurrencyHelpers
import NIOCore
import PalisadeGateway
import PalisadeProtocol

/// Who is in which room, for every namespace, across all event loops.
/// A broadcast is encoded once; each loop gets one task that writes to its members.
///
/// Every socket is in the room named by its id. That room is implied, not stored: its
/// member is found in the socket registry (storing it cost ~600 B per idle connection).
final class RoomRegistry: Sendable {
    private struct Key: Hashable {
        var namespace: String
        var room: String
    }

    private let rooms = NIOLockedValueBox<[Key: [String: SocketHandle]]>([:])
    private let sockets: SocketRegistry

    init(sockets: SocketRegistry) {
        self.sockets = sockets
    }

    /// The socket whose own room `room` is, if it is in `namespace`.
    private func owner(of room: String, namespace: String) -> SocketHandle? {
        guard let socket = sockets.handle(room), socket.namespace == namespace else { return nil }
        return socket
    }

    func join(_ room: String, socket: SocketHandle, namespace: String) {
        rooms.withLockedValue { $0[Key(namespace: namespace, room: room), default: [:]][socket.id] = socket }
    }

    func leave(_ room: String, socketID: String, namespace: String) {
        rooms.withLockedValue { rooms in
            let key = Key(namespace: namespace, room: room)
            rooms[key]?.removeValue(forKey: socketID)
            if rooms[key]?.isEmpty == true { rooms.removeValue(forKey: key) }
        }
    }

    func members(of room: String, namespace: String) -> [SocketHandle] {
        let stored = rooms.withLockedValue { $0[Key(namespace: namespace, room: room)] }
        var members = stored.map { Array($0.values) } ?? []
        if let owner = owner(of: room, namespace: namespace), stored?[owner.id] == nil {
            members.append(owner)
        }
        return members
    }

    func count(of room: String, namespace: String) -> Int {
        let stored = rooms.withLockedValue { $0[Key(namespace: namespace, room: room)] }
        guard let owner = owner(of: room, namespace: namespace), stored?[owner.id] == nil else { return stored?.count ?? 0 }
        return (stored?.count ?? 0) + 1
    }

    /// Sends `frames` to every member of `room` except the socket `skipping`: at once to
    /// those on this loop, with one task per other loop for the rest.
    func broadcast(_ frames: [EngineFrame], to room: String, namespace: String, skipping: String?) {
        let frames = PreparedFrames(frames)
        var elsewhere: [ObjectIdentifier: (any EventLoop, [SocketHandle])] = [:]
        for member in members(of: room, namespace: namespace) where member.id != skipping {
            if member.loop.inEventLoop {
                member.sendOnLoop(frames)
            } else {
                elsewhere[ObjectIdentifier(member.loop), default: (member.loop, [])].1.append(member)
            }
        }
        for (_, (loop, members)) in elsewhere {
            loop.execute {
                for member in members { member.sendOnLoop(frames) }
            }
        }
    }
}

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
