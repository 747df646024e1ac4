import NIOConcurrencyHelpers
import NIOCore
import PalisadeJSON
import PalisadeProtocol

/// Every connected socket of a server, across loops: what the admin API lists and kicks, and
/// what a room adapter finds a socket's own room in.
public final class SocketRegistry: Sendable {
    private struct Entries {
        var sockets: [String: (handle: SocketHandle, userID: String?)] = [:]
        /// Connected sockets by the user they connected as (`limits.max_connections_per_user`).
        var perUser: [String: Int] = [:]
    }

    private let entries = NIOLockedValueBox(Entries())

    /// Adds the socket unless its user has `maxPerUser` sockets already (0: no cap); false then.
    /// The count and the add are one step, so sockets of one user connecting on several loops at
    /// once cannot pass the cap together.
    func add(_ socket: SocketHandle, userID: String?, maxPerUser: Int = 0) -> Bool {
        entries.withLockedValue { entries in
            if let userID, maxPerUser > 0, entries.perUser[userID, default: 0] >= maxPerUser { return false }
            entries.sockets[socket.id] = (socket, userID)
            if let userID { entries.perUser[userID, default: 0] += 1 }
            return true
        }
    }

    func remove(_ id: String) {
        entries.withLockedValue { entries in
            guard let removed = entries.sockets.removeValue(forKey: id), let userID = removed.userID else { return }
            let left = entries.perUser[userID, default: 1] - 1
            entries.perUser[userID] = left > 0 ? left : nil
        }
    }

    public var all: [SocketHandle] { entries.withLockedValue { $0.sockets.values.map(\.handle) } }

    public func handle(_ id: String) -> SocketHandle? { entries.withLockedValue { $0.sockets[id]?.handle } }

    /// How many sockets connected as `userID` are connected now.
    func count(ofUser userID: String) -> Int { entries.withLockedValue { $0.perUser[userID, default: 0] } }
}

/// A snapshot of one socket, taken on its loop.
public struct SocketInfo: Sendable, Equatable {
    public var sid: String
    public var namespace: String
    public var userID: String?
    public var ip: String
    public var transport: String
    public var rooms: [String]
    public var connectedAt: Double
    /// The `jti` of the token the client connected with (read, not verified: only used to
    /// find the sessions of a revoked token).
    public var tokenID: String?

    /// The `jti` claim of a JWT's payload, without checking the signature. On the bytes, with
    /// no intermediate arrays: it runs on every connect that brings a token.
    public static func unverifiedTokenID(_ token: String) -> String? {
        var token = token
        return token.withUTF8 { bytes -> String? in
            let dot = UInt8(ascii: ".")
            guard let first = bytes.firstIndex(of: dot), let last = bytes.lastIndex(of: dot), first < last,
                bytes[(first + 1)..<last].firstIndex(of: dot) == nil, last - first - 1 < 16 * 1024,
                let payload = Base64.decodeLenient(UnsafeBufferPointer(rebasing: bytes[(first + 1)..<last])),
                let claims = try? JSONParser.parse(payload)
            else { return nil }
            return claims["jti"]?.stringValue
        }
    }
}

extension SocketServer {
    /// Snapshots of the connected sockets, each read on its own loop.
    public func sessions(on loop: any EventLoop) -> EventLoopFuture<[SocketInfo]> {
        let futures = registry.all.map { handle in
            handle.loop.submit { handle.infoOnLoop() }
        }
        return EventLoopFuture.whenAllSucceed(futures, on: loop)
    }

    /// Disconnects the socket `sid`; false when it is unknown.
    public func disconnect(sid: String) -> Bool {
        guard let handle = registry.handle(sid) else { return false }
        handle.executeOnSocket { $0.disconnect() }
        return true
    }

    /// Disconnects every socket whose snapshot matches; returns how many.
    public func disconnect(where matches: @escaping @Sendable (SocketInfo) -> Bool, on loop: any EventLoop) -> EventLoopFuture<Int> {
        sessions(on: loop).map { infos in
            let chosen = infos.filter(matches)
            for info in chosen { _ = self.disconnect(sid: info.sid) }
            return chosen.count
        }
    }
}
