import NIOConcurrencyHelpers
import NIOCore
import PalisadeProtocol

/// Who is in which room, for every namespace, across all event loops.
/// A broadcast is encoded once; each loop gets one task that writes to its members.
final class RoomRegistry: Sendable {
    private struct Key: Hashable {
        var namespace: String
        var room: String
    }

    private let rooms = NIOLockedValueBox<[Key: [String: SocketHandle]]>([:])

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
        rooms.withLockedValue { $0[Key(namespace: namespace, room: room)].map { Array($0.values) } ?? [] }
    }

    func count(of room: String, namespace: String) -> Int {
        rooms.withLockedValue { $0[Key(namespace: namespace, room: room)]?.count ?? 0 }
    }

    /// Sends `frames` to every member of `room` except the socket `skipping`.
    func broadcast(_ frames: [EngineFrame], to room: String, namespace: String, skipping: String?) {
        var byLoop: [ObjectIdentifier: (any EventLoop, [SocketHandle])] = [:]
        for member in members(of: room, namespace: namespace) where member.id != skipping {
            byLoop[ObjectIdentifier(member.loop), default: (member.loop, [])].1.append(member)
        }
        for (_, (loop, members)) in byLoop {
            if loop.inEventLoop {
                for member in members { member.sendOnLoop(frames) }
            } else {
                loop.execute {
                    for member in members { member.sendOnLoop(frames) }
                }
            }
        }
    }
}

/// A reference to a `Socket` that may cross loops (rooms hold these).
struct SocketHandle: Sendable {
    let id: String
    let loop: any EventLoop
    private let bound: NIOLoopBound<Socket>

    init(_ socket: Socket) {
        id = socket.id
        loop = socket.loop
        bound = NIOLoopBound(socket, eventLoop: socket.loop)
    }

    /// Must be called on `loop`.
    func sendOnLoop(_ frames: [EngineFrame]) {
        bound.value.sendFrames(frames)
    }

    /// Must be called on `loop`.
    func infoOnLoop() -> SocketInfo {
        bound.value.info
    }

    func execute(_ body: @escaping @Sendable (Socket) -> Void) {
        if loop.inEventLoop {
            body(bound.value)
        } else {
            let bound = bound
            loop.execute { body(bound.value) }
        }
    }
}
