import NIOConcurrencyHelpers
import NIOCore
import PalisadeGateway
import PalisadeProtocol

/// The default `RoomAdapter`: who is in which room, for every namespace, in this process,
/// across all event loops. A broadcast is encoded once; each loop gets one task that writes
/// to its members.
///
/// Public so that a distributed adapter can keep its local members in one.
///
/// Every socket is in the room named by its id. That room is implied, not stored: its
/// member is found in the socket registry (storing it would cost every idle connection an entry).
public final class InProcessRoomAdapter: RoomAdapter {
    private struct Key: Hashable {
        var namespace: String
        var room: String
    }

    private let rooms = NIOLockedValueBox<[Key: [String: SocketHandle]]>([:])
    private let sockets: SocketRegistry

    public init(sockets: SocketRegistry) {
        self.sockets = sockets
    }

    /// The socket whose own room `room` is, if it is in `namespace`.
    private func owner(of room: String, namespace: String) -> SocketHandle? {
        guard let socket = sockets.handle(room), socket.namespace == namespace else { return nil }
        return socket
    }

    public func join(_ room: String, socket: SocketHandle) {
        rooms.withLockedValue { $0[Key(namespace: socket.namespace, room: room), default: [:]][socket.id] = socket }
    }

    public func leave(_ room: String, socketID: String, namespace: String) {
        rooms.withLockedValue { rooms in
            let key = Key(namespace: namespace, room: room)
            rooms[key]?.removeValue(forKey: socketID)
            if rooms[key]?.isEmpty == true { rooms.removeValue(forKey: key) }
        }
    }

    public func leaveAll(socketID: String, rooms joined: Set<String>, namespace: String) {
        rooms.withLockedValue { rooms in
            for room in joined {
                let key = Key(namespace: namespace, room: room)
                rooms[key]?.removeValue(forKey: socketID)
                if rooms[key]?.isEmpty == true { rooms.removeValue(forKey: key) }
            }
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

    public func socketIDs(in target: BroadcastTarget) -> Set<String> {
        Set(recipients(of: target).map(\.id))
    }

    public func rooms(of socketID: String, namespace: String) -> Set<String> {
        guard let socket = sockets.handle(socketID), socket.namespace == namespace else { return [] }
        let joined = rooms.withLockedValue { rooms in
            rooms.compactMap { key, members in key.namespace == namespace && members[socketID] != nil ? key.room : nil }
        }
        return Set(joined).union([socketID])
    }

    public func disconnect(_ target: BroadcastTarget) -> Int {
        let chosen = recipients(of: target)
        for member in chosen { member.executeOnSocket { $0.disconnect() } }
        return chosen.count
    }

    /// The members of `target`: of its rooms (every socket of the namespace when none is
    /// named), each once, less the members of its `except` rooms.
    private func recipients(of target: BroadcastTarget) -> [SocketHandle] {
        var candidates: [SocketHandle]
        if target.rooms.isEmpty {
            candidates = sockets.all.filter { $0.namespace == target.namespace }
        } else if target.rooms.count == 1 {
            candidates = members(of: target.rooms.first!, namespace: target.namespace)
        } else {
            var seen = Set<String>()
            candidates = target.rooms.flatMap { members(of: $0, namespace: target.namespace) }.filter { seen.insert($0.id).inserted }
        }
        guard !target.except.isEmpty else { return candidates }
        // The usual exception is the sender's own room: its id, without a lookup of members.
        let excluded =
            target.except.count == 1 && sockets.handle(target.except.first!) != nil
            ? target.except
            : Set(target.except.flatMap { members(of: $0, namespace: target.namespace).map(\.id) })
        return candidates.filter { !excluded.contains($0.id) }
    }

    public func broadcast(_ packet: SocketPacket, to target: BroadcastTarget) {
        let frames = PreparedFrames(SocketPacketEncoder.frames(packet))
        var elsewhere: [ObjectIdentifier: (any EventLoop, [SocketHandle])] = [:]
        for member in recipients(of: target) {
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
