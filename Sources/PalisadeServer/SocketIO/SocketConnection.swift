import Logging
import NIOCore
import PalisadeJSON
import PalisadeProtocol

/// The Socket.IO side of one Engine.IO session: decodes packets and dispatches them to
/// the session's sockets (one per joined namespace). Lives on the session's loop.
final class SocketConnection: EngineSessionHandler {
    let session: EngineSession
    let server: SocketServer
    private var decoder = SocketPacketDecoder()
    private var sockets: [String: Socket] = [:]
    /// The socket most packets are for (the last one joined): found without hashing the namespace.
    private var lastJoined: Socket?
    /// Namespaces whose CONNECT waits for the policy's answer.
    private var connecting: Set<String> = []
    /// Until the first namespace is joined (a wheel timer: cancelled on nearly every connect).
    private var connectTimer: WheelTimer?

    /// The connect hooks run this long after the CONNECT reply is written, so the reply
    /// reaches the client in a read of its own. Clients that take "the next message" one
    /// at a time (the conformance suite's) miss a packet that arrives in the same read;
    /// one loop tick was measured to be too short for that (2 misses in 300), 1 ms enough (0 in 600).
    static let connectHookDelay = TimeAmount.milliseconds(1)

    init(session: EngineSession, server: SocketServer) {
        self.session = session
        self.server = server
        let connectTimer = WheelTimer()
        self.connectTimer = connectTimer
        session.timers.schedule(connectTimer, in: server.connectTimeout) {
            // No namespace joined in time: the reference closes the connection.
            session.close(reason: .forcedClose)
        }
    }

    func engineSession(_ session: EngineSession, received payload: EnginePacket.Payload) {
        do {
            if let packet = try decoder.receive(payload) { dispatch(packet) }
        } catch {
            server.logger.debug(
                "closing a connection after a malformed Socket.IO packet", metadata: ["sid": "\(session.id)", "error": "\(error)"])
            session.close(reason: .parseError)
        }
    }

    private func dispatch(_ packet: SocketPacket) {
        let namespace = packet.namespace
        switch packet.kind {
        case .connect:
            guard sockets[namespace] == nil, !connecting.contains(namespace) else {
                return session.close(reason: .parseError)
            }
            connect(namespace: namespace, auth: packet.data ?? .object([]))
        case .disconnect:
            guard let socket = sockets[namespace] else { return session.close(reason: .parseError) }
            socketDisconnected(socket, reason: "client namespace disconnect", closeIfLast: false)
        case .event, .binaryEvent, .ack, .binaryAck:
            guard let socket = socket(in: namespace) else { return session.close(reason: .parseError) }
            socket.received(packet)
        case .connectError:
            session.close(reason: .parseError)
        }
    }

    private func connect(namespace: String, auth: JSONValue) {
        guard server.hasNamespace(namespace) else {
            let error = SocketPacket(.connectError, namespace: namespace, data: .object(["message": .string("Invalid namespace")]))
            return session.send(SocketPacketEncoder.frames(error))
        }
        connecting.insert(namespace)
        let socket = Socket(id: RandomID.make(), namespace: namespace, auth: auth, connection: self)
        server.policy.authenticate(socket, auth: auth).assumeIsolated().whenComplete { result in
            self.connecting.remove(namespace)
            if self.connecting.isEmpty { self.connecting = [] }  // frees the set's storage (192 B per idle connection)
            guard self.session.isOpen else { return socket.abandon() }
            switch result {
            case .success(.accept(let identity)):
                if let userID = Socket.userID(of: identity), let ban = self.server.bans.ban(forUser: userID) {
                    socket.abandon()
                    ServerMetrics.shared.refused(ban: ban)
                    self.server.audit?.record(
                        "ban.refused", [JSONMember("user_id", .string(userID)), JSONMember("ban", .string(ban.field))])
                    return self.refuse(namespace: namespace, message: "banned", data: nil)
                }
                guard self.accept(socket, as: identity) else {
                    socket.abandon()
                    ServerMetrics.shared.refused(cap: "connections_per_user")
                    return self.refuse(namespace: namespace, message: "too many connections for this user", data: nil)
                }
                self.server.audit?.record(
                    "auth.accepted",
                    [JSONMember("sid", .string(socket.id)), JSONMember("ip", .string(self.session.ip))]
                        + (socket.userID.map { [JSONMember("user_id", .string($0))] } ?? [JSONMember("anonymous", .bool(true))]))
            case .success(.refuse(let message, let data)):
                socket.abandon()
                self.refuse(namespace: namespace, message: message, data: data)
            case .failure:
                socket.abandon()
                self.refuse(namespace: namespace, message: "internal error", data: nil)
            }
        }
    }

    /// False when the user's connection cap refused the socket (nothing changed then).
    private func accept(_ socket: Socket, as identity: JSONValue?) -> Bool {
        guard socket.markConnected(as: identity) else { return false }
        sockets[socket.namespace] = socket
        lastJoined = socket
        cancelConnectTimer()
        // The reply waits for the room adapter's fence (with Redis: the sid's channel is live), so an emit
        // to the new sid from another process is not missed. In-process it passes at once, in this call.
        server.rooms.fence(on: session.loop).assumeIsolated().whenComplete { _ in
            guard socket.isConnected else { return }
            socket.sendPacket(SocketPacket(.connect, namespace: socket.namespace, data: .object(["sid": .string(socket.id)])))
            self.server.logger.debug(
                "socket connected", metadata: ["sid": "\(socket.id)", "namespace": "\(socket.namespace)", "ip": "\(self.session.ip)"])
            self.session.loop.assumeIsolated().scheduleTask(in: Self.connectHookDelay) {
                guard socket.isConnected else { return }
                self.server.policy.connected(socket)
                self.server.connectHandler?(socket)
                socket.releaseAuth()
            }
        }
        return true
    }

    /// The connected socket of `namespace`, if any.
    private func socket(in namespace: String) -> Socket? {
        if let lastJoined, lastJoined.namespace == namespace { return lastJoined }
        return sockets[namespace]
    }

    private func cancelConnectTimer() {
        if let connectTimer { session.timers.cancel(connectTimer) }
        connectTimer = nil
    }

    private func refuse(namespace: String, message: String, data: JSONValue?) {
        server.audit?.record("auth.refused", [JSONMember("ip", .string(session.ip)), JSONMember("reason", .string(message))])
        var body: [JSONMember] = [JSONMember("message", .string(message))]
        if let data { body.append(JSONMember("data", data)) }
        session.send(SocketPacketEncoder.frames(SocketPacket(.connectError, namespace: namespace, data: .object(body))))
    }

    /// A socket left (client DISCONNECT or server `disconnect()`).
    func socketDisconnected(_ socket: Socket, reason: String, closeIfLast: Bool) {
        guard sockets[socket.namespace] === socket else { return }
        sockets.removeValue(forKey: socket.namespace)
        if lastJoined === socket { lastJoined = nil }
        socket.tearDown(reason: reason)
        if closeIfLast, sockets.isEmpty, connecting.isEmpty {
            session.close(reason: .forcedClose)
        }
    }

    func engineSessionClosed(_ session: EngineSession, reason: EngineCloseReason) {
        cancelConnectTimer()
        let all = sockets.values
        sockets.removeAll()
        lastJoined = nil
        for socket in all { socket.tearDown(reason: reason.rawValue) }
    }
}

@available(*, unavailable)
extension SocketConnection: Sendable {}
