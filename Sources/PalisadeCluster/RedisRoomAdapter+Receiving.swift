import NIOCore
import PalisadeGateway
import PalisadeJSON
import PalisadeProtocol
import PalisadeRedis
import PalisadeServer

/// What other processes publish, performed on the local members (python-socketio 5.16.2's
/// `AsyncPubSubManager._thread` and `_handle_*`): messages with this process's `host_id` are its own
/// and ignored; `callback`s are only for the process that asked, and this one never asks.
extension RedisRoomAdapter {
    func received(_ message: RedisPubSubMessage) {
        guard let decoded = PubSubMessage(decoding: message.payload) else {
            logger.debug("ignored a pub/sub message that is not python-socketio's", metadata: ["channel": "\(message.channel)"])
            return
        }
        if case .callback = decoded { return }
        guard decoded.hostID != hostID else { return }
        switch decoded {
        case .emit(let emit):
            deliver(emit)
        case .disconnect(let sid, let namespace, _):
            _ = local.disconnect(BroadcastTarget(namespace: namespace, rooms: [sid]))
        case .enterRoom(let sid, let room, let namespace, _):
            localSocket(sid, namespace: namespace)?.execute { $0.joinAuthorized(room) }
        case .leaveRoom(let sid, let room, let namespace, _):
            localSocket(sid, namespace: namespace)?.execute { $0.leave(room) }
        case .closeRoom(let room, let namespace, _):
            for sid in local.socketIDs(in: BroadcastTarget(namespace: namespace, rooms: [room])) {
                localSocket(sid, namespace: namespace)?.execute { $0.leave(room) }
            }
        case .callback:
            break
        }
    }

    private func localSocket(_ sid: String, namespace: String) -> SocketHandle? {
        guard let handle = sockets.handle(sid), handle.namespace == namespace else { return nil }
        return handle
    }

    /// An emit from elsewhere, to the local members of its target. One that asks for an answer
    /// (`callback: [room, namespace, id]`) asks each local recipient for an ack and publishes each
    /// answer as a `callback` to the origin's `host_id`, as python-socketio's `_return_callback` does.
    private func deliver(_ emit: PubSubMessage.Emit) {
        let target = BroadcastTarget(namespace: emit.namespace, rooms: emit.room.names, except: Set(emit.skip))
        guard let request = emit.callback, let origin = emit.hostID else {
            local.broadcast(.event(emit.event, emit.arguments, namespace: emit.namespace), to: target)
            return
        }
        let timeout = settings.callbackTimeout
        for sid in local.socketIDs(in: target) {
            localSocket(sid, namespace: emit.namespace)?.execute { socket in
                guard let socket = socket as? Socket else { return }
                socket.emit(emit.event, emit.arguments, timeout: timeout) { result in
                    // No answer in time: python-socketio's caller times out on its own.
                    guard case .success(let answer) = result else { return }
                    let callback = PubSubMessage.Callback(
                        hostID: origin, sid: request.room, namespace: request.namespace, id: request.id, arguments: answer)
                    self.publish(.callback(callback))
                }
            }
        }
    }
}
