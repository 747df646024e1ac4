import NIOCore
import PalisadeJSON

/// Writes Socket.IO packets as Engine.IO messages: one text header, then one binary
/// message per attachment (depth-first order, as the reference numbers them).
public enum SocketPacketEncoder {
    public static func encode(_ packet: SocketPacket) -> [EnginePacket] {
        var text: [UInt8] = []
        let attachments = write(packet, into: &text)
        var packets = [EnginePacket.message(String(decoding: text, as: UTF8.self))]
        for attachment in attachments { packets.append(.message(attachment)) }
        return packets
    }

    /// Bytes kept free in front of a text frame: the longest WebSocket header a server
    /// writes (2 + 8 length bytes). NIO's frame encoder writes the header there, in place,
    /// rather than in a buffer of its own sent as a second piece.
    public static let webSocketHeadroom = 10

    /// The packet as Engine.IO frames ready for the wire. The text message (`4` and the
    /// Socket.IO text) is copied into its frame's buffer after the headroom.
    public static func frames(_ packet: SocketPacket) -> [EngineFrame] {
        // The text is built in an array and copied into the frame's buffer once (see JSONWriter).
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128)
        bytes.append(UInt8(ascii: "4"))  // Engine.IO message
        let attachments = write(packet, into: &bytes)
        var text = ByteBuffer()
        text.reserveCapacity(webSocketHeadroom + bytes.count)
        text.moveWriterIndex(forwardBy: webSocketHeadroom)
        text.moveReaderIndex(forwardBy: webSocketHeadroom)
        text.writeBytes(bytes)
        var frames = [EngineFrame.text(text)]
        for attachment in attachments { frames.append(.binary(attachment)) }
        return frames
    }

    /// Writes the packet's text (§2.6) into `text`; returns its binary attachments in order.
    private static func write(_ packet: SocketPacket, into text: inout [UInt8]) -> [ByteBuffer] {
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
        text.append(UInt8(ascii: "0") + kind.rawValue)
        if kind == .binaryEvent || kind == .binaryAck {
            JSONWriter.append(String(attachments.count), to: &text)
            text.append(UInt8(ascii: "-"))
        }
        if packet.namespace != "/" {
            JSONWriter.append(packet.namespace, to: &text)
            text.append(UInt8(ascii: ","))
        }
        if let id = packet.ackId { JSONWriter.append(String(id), to: &text) }
        if let data { JSONWriter.write(data, into: &text) }
        return attachments
    }

    /// Replaces each `.binary` with `{"_placeholder":true,"num":N}` and collects the bytes.
    package static func extractBinary(from value: JSONValue, into attachments: inout [ByteBuffer]) -> JSONValue {
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
