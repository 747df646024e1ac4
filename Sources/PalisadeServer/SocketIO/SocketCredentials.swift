import NIOCore

/// What a revocation check needs of an authenticated socket: whose it is and which token it
/// connected with (the identity's `jti` and `iat`, as the stock policy keeps them).
public struct SocketCredentials: Sendable, Equatable {
    public var sid: String
    public var userID: String
    public var tokenID: String?
    public var issuedAt: Double?
}

extension SocketServer {
    /// The credentials of every authenticated socket, read on each socket's loop: one task per
    /// loop, not one per socket (this runs every few seconds over every connection).
    public func credentials(on loop: any EventLoop) -> EventLoopFuture<[SocketCredentials]> {
        var byLoop: [ObjectIdentifier: (any EventLoop, [SocketHandle])] = [:]
        for handle in registry.all {
            byLoop[ObjectIdentifier(handle.loop), default: (handle.loop, [])].1.append(handle)
        }
        let futures = byLoop.values.map { socketLoop, handles in
            socketLoop.submit { handles.compactMap { $0.credentialsOnLoop() } }
        }
        return EventLoopFuture.whenAllSucceed(futures, on: loop).map { $0.flatMap { $0 } }
    }
}

extension Socket {
    /// Nil for an anonymous or disconnected socket.
    var credentials: SocketCredentials? {
        guard isConnected, let userID, let identity else { return nil }
        return SocketCredentials(
            sid: id, userID: userID, tokenID: identity["jti"]?.stringValue ?? authTokenID,
            issuedAt: identity["iat"]?.doubleValue)
    }
}
