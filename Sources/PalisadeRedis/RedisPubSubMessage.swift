import NIOCore

/// A message from a subscribed channel or pattern. Channel names are text (what Socket.IO managers
/// use); the payload stays bytes.
public struct RedisPubSubMessage: Sendable, Equatable {
    public var channel: String
    /// The pattern that matched, for PSUBSCRIBE deliveries; nil for a plain subscription.
    public var pattern: String?
    public var payload: ByteBuffer

    public init(channel: String, pattern: String? = nil, payload: ByteBuffer) {
        self.channel = channel
        self.pattern = pattern
        self.payload = payload
    }
}
