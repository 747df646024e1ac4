import NIOCore

/// One Engine.IO v4 packet.
public struct EnginePacket: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        case open = 0
        case close, ping, pong, message, upgrade, noop
    }

    public enum Payload: Sendable, Equatable {
        case text(String)
        /// Only message packets carry binary.
        case binary(ByteBuffer)
    }

    public var kind: Kind
    public var payload: Payload

    public init(_ kind: Kind, _ payload: Payload = .text("")) {
        self.kind = kind
        self.payload = payload
    }

    public static func message(_ text: String) -> EnginePacket { EnginePacket(.message, .text(text)) }
    public static func message(_ bytes: ByteBuffer) -> EnginePacket { EnginePacket(.message, .binary(bytes)) }
    public static let ping = EnginePacket(.ping)
    public static let pong = EnginePacket(.pong)
    public static let close = EnginePacket(.close)
    public static let noop = EnginePacket(.noop)
}

/// Why Engine.IO input was refused (the reference calls all of these "parse error").
public enum EngineDecodingError: Error, Sendable, Equatable {
    case emptyPacket
    case unknownPacketType(UInt8)
    case invalidBase64
    case invalidUTF8
}
