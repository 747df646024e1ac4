import NIOCore

/// An Engine.IO packet already encoded for the wire, so a broadcast is encoded once
/// and the same bytes go to every member (WebSocket frame data or polling element).
public enum EngineFrame: Sendable, Equatable {
    /// `<digit><payload>` text.
    case text(ByteBuffer)
    /// A binary message's raw bytes.
    case binary(ByteBuffer)

    public init(_ packet: EnginePacket) {
        switch packet.payload {
        case .text:
            var buffer = ByteBuffer()
            EngineCodec.encodeText(packet, into: &buffer)
            self = .text(buffer)
        case .binary(let bytes):
            self = .binary(bytes)
        }
    }

    /// Bytes this frame costs in an outbound queue.
    public var byteCount: Int {
        switch self {
        case .text(let bytes), .binary(let bytes): bytes.readableBytes
        }
    }

    public static let ping = EngineFrame(.ping)
    public static let noop = EngineFrame(.noop)
    public static let close = EngineFrame(.close)
}

extension EngineCodec {
    /// Joins encoded frames into one polling response body (binary as `b` + base64).
    public static func encodePayload(frames: some Sequence<EngineFrame>) -> ByteBuffer {
        var body = ByteBuffer()
        var first = true
        for frame in frames {
            if !first { body.writeInteger(recordSeparator) }
            first = false
            switch frame {
            case .text(let bytes):
                body.writeImmutableBuffer(bytes)
            case .binary(let bytes):
                body.writeInteger(UInt8(ascii: "b"))
                Base64.encode(bytes, into: &body)
            }
        }
        return body
    }
}
