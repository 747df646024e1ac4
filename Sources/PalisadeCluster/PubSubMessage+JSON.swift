import NIOCore
import PalisadeJSON

/// The wire text, member for member in python-socketio's order (psio 5.16.2
/// `async_pubsub_manager.py`: `emit` 83-96, `callback` 197-206, the room methods 98-140), compact
/// as orjson writes it (Open WebUI's default). Receivers parse JSON, so spacing never matters.
extension PubSubMessage {
    public func encoded() -> ByteBuffer {
        var buffer = ByteBuffer()
        JSONWriter.write(json, into: &buffer)
        return buffer
    }

    var json: JSONValue {
        switch self {
        case .emit(let emit):
            let (data, binary) = PubSubBinary.deconstruct(emit.arguments)
            let skip: JSONValue =
                switch emit.skip.count {
                case 0: .null
                case 1: .string(emit.skip[0])
                default: .array(emit.skip.map { .string($0) })
                }
            let callback: JSONValue = emit.callback.map { .array([.string($0.room), .string($0.namespace), $0.id]) } ?? .null
            return .object([
                "method": .string("emit"), "event": .string(emit.event), "data": .array(data), "binary": .bool(binary),
                "namespace": .string(emit.namespace), "room": emit.room.json, "skip_sid": skip, "callback": callback,
                "host_id": emit.hostID.map { .string($0) } ?? .null,
            ])
        case .callback(let callback):
            return .object([
                "method": .string("callback"), "host_id": .string(callback.hostID), "sid": .string(callback.sid),
                "namespace": .string(callback.namespace), "id": callback.id, "args": .array(callback.arguments),
            ])
        case .disconnect(let sid, let namespace, let host):
            return .object(["method": .string("disconnect"), "sid": .string(sid), "namespace": .string(namespace), "host_id": host.json])
        case .enterRoom(let sid, let room, let namespace, let host):
            return .object([
                "method": .string("enter_room"), "sid": .string(sid), "room": .string(room), "namespace": .string(namespace),
                "host_id": host.json,
            ])
        case .leaveRoom(let sid, let room, let namespace, let host):
            return .object([
                "method": .string("leave_room"), "sid": .string(sid), "room": .string(room), "namespace": .string(namespace),
                "host_id": host.json,
            ])
        case .closeRoom(let room, let namespace, let host):
            return .object(["method": .string("close_room"), "room": .string(room), "namespace": .string(namespace), "host_id": host.json])
        }
    }

    /// The message in `payload`, or nil when it is not JSON, has no known `method`, or lacks a member
    /// its method needs (python-socketio skips such messages too). A missing `namespace` is `/`.
    public init?(decoding payload: ByteBuffer) {
        guard let value = try? JSONParser.parse(payload.readableBytesView), let method = value["method"]?.stringValue else {
            return nil
        }
        let namespace = value["namespace"]?.stringValue ?? "/"
        let host = value["host_id"]?.stringValue
        switch method {
        case "emit":
            guard let emit = Self.decodeEmit(value, namespace: namespace, host: host) else { return nil }
            self = .emit(emit)
        case "callback":
            guard let host, let sid = value["sid"]?.stringValue, let id = value["id"], let args = value["args"]?.arrayValue else {
                return nil
            }
            self = .callback(Callback(hostID: host, sid: sid, namespace: namespace, id: id, arguments: args))
        case "disconnect":
            guard let sid = value["sid"]?.stringValue else { return nil }
            self = .disconnect(sid: sid, namespace: namespace, hostID: host)
        case "enter_room", "leave_room":
            guard let sid = value["sid"]?.stringValue, let room = value["room"]?.stringValue else { return nil }
            self =
                method == "enter_room"
                ? .enterRoom(sid: sid, room: room, namespace: namespace, hostID: host)
                : .leaveRoom(sid: sid, room: room, namespace: namespace, hostID: host)
        case "close_room":
            guard let room = value["room"]?.stringValue else { return nil }
            self = .closeRoom(room: room, namespace: namespace, hostID: host)
        default:
            return nil
        }
    }

    private static func decodeEmit(_ value: JSONValue, namespace: String, host: String?) -> Emit? {
        guard let event = value["event"]?.stringValue, let data = value["data"] else { return nil }
        let arguments: [JSONValue]
        if value["binary"] == .bool(true) {
            guard let reassembled = PubSubBinary.reconstruct(data) else { return nil }
            arguments = reassembled
        } else {
            // python-socketio passes a non-list `data` on as one argument.
            arguments = data.arrayValue ?? [data]
        }
        let room: Room
        switch value["room"] {
        case .string(let name)?: room = .one(name)
        case .array(let names)?: room = .many(names.compactMap(\.stringValue))
        default: room = .everyone
        }
        let skip: [String]
        switch value["skip_sid"] {
        case .string(let sid)?: skip = [sid]
        case .array(let sids)?: skip = sids.compactMap(\.stringValue)
        default: skip = []
        }
        var callback: CallbackRequest?
        if case .array(let parts)? = value["callback"], parts.count == 3, let room = parts[0].stringValue {
            callback = CallbackRequest(room: room, namespace: parts[1].stringValue ?? namespace, id: parts[2])
        }
        return Emit(event: event, arguments: arguments, namespace: namespace, room: room, skip: skip, callback: callback, hostID: host)
    }
}

extension PubSubMessage.Room {
    var json: JSONValue {
        switch self {
        case .everyone: .null
        case .one(let room): .string(room)
        case .many(let rooms): .array(rooms.map { .string($0) })
        }
    }
}

extension String? {
    fileprivate var json: JSONValue { map { .string($0) } ?? .null }
}
