import NIOCore
import PalisadeJSON

/// A message of python-socketio's pub/sub managers (5.16.2, `async_pubsub_manager.py`), which Open WebUI
/// 0.12.4's backend and any `AsyncRedisManager` publish on `socketio` and on the room channels: a JSON
/// object with a `method` and the origin's `host_id`. Encoding and decoding are in `PubSubMessage+JSON.swift`.
public enum PubSubMessage: Sendable, Equatable {
    case emit(Emit)
    /// A client's answer to an emit that asked for one, for the host whose id is `hostID` only.
    case callback(Callback)
    case disconnect(sid: String, namespace: String, hostID: String?)
    case enterRoom(sid: String, room: String, namespace: String, hostID: String?)
    case leaveRoom(sid: String, room: String, namespace: String, hostID: String?)
    case closeRoom(room: String, namespace: String, hostID: String?)

    /// An event for the members of `room`, less `skip`.
    public struct Emit: Sendable, Equatable {
        public var event: String
        /// The event's arguments, binary attachments in place (`.binary`).
        public var arguments: [JSONValue]
        public var namespace: String
        public var room: Room
        public var skip: [String]
        /// Set when the origin wants the client's answer: `[room, namespace, id]` on the wire.
        public var callback: CallbackRequest?
        public var hostID: String?

        public init(
            event: String, arguments: [JSONValue], namespace: String = "/", room: Room, skip: [String] = [],
            callback: CallbackRequest? = nil, hostID: String?
        ) {
            self.event = event
            self.arguments = arguments
            self.namespace = namespace
            self.room = room
            self.skip = skip
            self.callback = callback
            self.hostID = hostID
        }
    }

    /// Whom an emit is for: `null`, one room (a sid is a room), or a list of rooms on the wire.
    public enum Room: Sendable, Equatable {
        case everyone
        case one(String)
        case many([String])

        /// As a `BroadcastTarget`'s rooms (empty: everyone).
        public var names: Set<String> {
            switch self {
            case .everyone: []
            case .one(let room): [room]
            case .many(let rooms): Set(rooms)
            }
        }
    }

    /// Where a client's answer goes back to: the origin keeps a callback under `room` and `id`
    /// (python-socketio's ack ids are integers; kept as JSON so it is echoed exactly).
    public struct CallbackRequest: Sendable, Equatable {
        public var room: String
        public var namespace: String
        public var id: JSONValue

        public init(room: String, namespace: String, id: JSONValue) {
            self.room = room
            self.namespace = namespace
            self.id = id
        }
    }

    public struct Callback: Sendable, Equatable {
        /// The origin host's id: the only host that handles it.
        public var hostID: String
        /// The room the emit was for (the sid of a `sio.call`).
        public var sid: String
        public var namespace: String
        public var id: JSONValue
        public var arguments: [JSONValue]

        public init(hostID: String, sid: String, namespace: String, id: JSONValue, arguments: [JSONValue]) {
            self.hostID = hostID
            self.sid = sid
            self.namespace = namespace
            self.id = id
            self.arguments = arguments
        }
    }

    /// The origin's `host_id` (for a callback, its addressee's).
    public var hostID: String? {
        switch self {
        case .emit(let emit): emit.hostID
        case .callback(let callback): callback.hostID
        case .disconnect(_, _, let host), .enterRoom(_, _, _, let host), .leaveRoom(_, _, _, let host), .closeRoom(_, _, let host): host
        }
    }
}
