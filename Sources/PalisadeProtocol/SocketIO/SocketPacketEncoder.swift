import NIOCore

/// Writes Socket.IO packets as Engine.IO messages: one text header, then one binary
/// message per attachment (depth-first order, as the reference numbers them).
public enum SocketPacketEncoder {
    public static func encode(_ packet: SocketPacket) -> [EnginePacket] {
        var text = ByteBuffer()
        let attachments = write(packet, into: &text)
        var packets = [EnginePacket.message(String(buffer: text))]
        for attachment in attachments { packets.append(.message(attachment)) }
        return packets
    }

    /// Bytes kept free in front of a text frame: the longest WebSocket header a server
    /// writes (2 + 8 length bytes). NIO's frame encoder writes the header there, in place,
    /// rather than in a buffer of its own sent as a second piece.
    public static let webSocketHeadroom = 10

    /// The packet as Engine.IO frames ready for the wire. The text message (`4` and the
    /// Socket.IO text) is written straight into its frame's buffer, after the headroom.
    public static func frames(_ packet: SocketPacket) -> [EngineFrame] {
        var text = ByteBuffer()
        text.reserveCapacity(webSocketHeadroom + 128)
        text.moveWriterIndex(forwardBy: webSocketHeadroom)
        text.moveReaderIndex(forwardBy: webSocketHeadroom)
        text.writeInteger(UInt8(ascii: "4"))  // Engine.IO message
        let attachments = write(packet, into: &text)
        var frames = [EngineFrame.text(text)]
        for attachment in attachments { frames.append(.binary(attachment)) }
        return frames
    }

    /// Writes the packet's text (§2.6) into `text`; returns its binary attachments in order.
    private static func write(_ packet: SocketPacket, into text: inout ByteBuffer) -> [ByteBuffer] {
        var attachments: [ByteBuffer] = []
        var kind = packet.kind
        var data = packet.data
        if let value = data, value.containsBinary {
            data = extractBinary(from: value, into: &attachments)
            if kind == .event { kind = .binaryEvent }
            if kind == .ack { kind = .binaryAck }
        } else {
            // 5/6 only when there is binary (§2.6), e.g. when relaying a decoded `50-[...]`.
            if kind == .binaryEvent { kind = .event }
            if kind == .binaryAck { kind = .ack }
        }
        text.writeInteger(UInt8(ascii: "0") + kind.rawValue)
        if kind == .binaryEvent || kind == .binaryAck {
            text.writeString(String(attachments.count))
            text.writeInteger(UInt8(ascii: "-"))
        }
        if packet.namespace != "/" {
            text.writeString(packet.namespace)
            text.writeInteger(UInt8(ascii: ","))
        }
        if let id = packet.ackId { text.writeString(String(id)) }
        if let data { JSONWriter.write(data, into: &text) }
        return attachments
    }

    /// Replaces each `.binary` with `{"_placeholder":true,"num":N}` and collects the bytes.
    static func extractBinary(from value: JSONValue, into attachments: inout [ByteBuffer]) -> JSONValue {
        switch value {
        case .binary(let bytes):
            attachments.append(bytes)
            return .object([JSONMember("_placeholder", .bool(true)), JSONMember("num", JSONValue(attachments.count - 1))])
        case .array(let items):
            return .array(items.map { extractBinary(from: $0, into: &attachments) })
        case .object(let members):
            return .object(members.map { JSONMember($0.key, extractBinary(from: $0.value, into: &attachments)) })
        default:
            return value
        }
    }
}
