import NIOCore

/// How a `RedisRoomAdapter` talks on Redis. The defaults are Open WebUI 0.12.4's.
public struct RedisRoomAdapterSettings: Sendable, Equatable {
    /// python-socketio's base channel. Open WebUI passes none, so it is the default `socketio`, not
    /// prefixed with `REDIS_KEY_PREFIX`.
    public var channel: String
    /// One channel per room (`{channel}#{namespace}#{room}`) for emits to one room, subscribed only
    /// while a local member exists, as Open WebUI 0.12.4's `AsyncRedisRoomChannelManager`; off: every
    /// message on `channel` (python-socketio's stock `AsyncRedisManager`). It must be the same across
    /// the fleet: a node with it off misses room emits from nodes with it on.
    public var roomChannels: Bool
    /// How long a PUBLISH waits for Redis's reply before it is given up and logged. Nothing waits on it.
    public var publishTimeout: TimeAmount
    /// How long a client has to answer an emit from another process that asked for one (a `sio.call`);
    /// python-socketio's `call` waits 60 s by default, so a longer wait would answer no one.
    public var callbackTimeout: TimeAmount

    public init(
        channel: String = "socketio", roomChannels: Bool = true, publishTimeout: TimeAmount = .seconds(2),
        callbackTimeout: TimeAmount = .seconds(60)
    ) {
        self.channel = channel
        self.roomChannels = roomChannels
        self.publishTimeout = publishTimeout
        self.callbackTimeout = callbackTimeout
    }

    /// `roomChannels` from the value of `WEBSOCKET_REDIS_ROOM_CHANNELS` as Open WebUI reads it
    /// (env.py 496-500): unset is true; otherwise true only for `true`, in any case.
    public static func roomChannels(fromEnvironmentValue value: String?) -> Bool {
        guard let value else { return true }
        return value.lowercased() == "true"
    }

    /// The channel of `room` of `namespace` (redis_room_channels.py 16-18). Namespaces hold no `#`; rooms may.
    public func roomChannel(_ room: String, namespace: String) -> String {
        "\(channel)#\(namespace)#\(room)"
    }
}
