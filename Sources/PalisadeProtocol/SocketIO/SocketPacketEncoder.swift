import NIOCore

/// Writes Socket.IO packets as Engine.IO messages: one text header, then one binary
/// message per attachment (depth-first order, as the reference numbers them).
public enum SocketPacketEncoder {
    public static func encode(_ packet: SocketPacket) -> [EnginePacket] {
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
        var header = ByteBuffer()
        header.writeInteger(UInt8(ascii: "0") + kind.rawValue)
        if kind == .binaryEvent || kind == .binaryAck {
            header.writeString(String(attachments.count))
            header.writeInteger(UInt8(ascii: "-"))
        }
        if packet.namespace != "/" {
            header.writeString(packet.namespace)
            header.writeInteger(UInt8(ascii: ","))
        }
        if let id = packet.ackId { header.writeString(String(id)) }
        if let data { JSONWriter.write(data, into: &header) }
        var packets = [EnginePacket.message(String(buffer: header))]
        for attachment in attachments { packets.append(.message(attachment)) }
        return packets
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
