import NIOCore
import PalisadeJSON

/// Turns Engine.IO messages into Socket.IO packets, collecting binary attachments.
///
/// Follows the reference parser's algorithm exactly (the conformance suite probes its
/// corners), but strictly: a missing EVENT payload is an error too.
public struct SocketPacketDecoder: Sendable {
    /// socket.io-parser 4.2.6 caps attachments at 10; more is a parse error. (At most 16 here:
    /// `replacePlaceholders` marks the attachments it has used in a UInt16.)
    public static let maxAttachments = 10
    /// Event names that would collide with the client library's own events.
    public static let reservedEventNames = [
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
    ]

    /// Whether `name` is one of `reservedEventNames`, asked of every event: comparing a short
    /// string six times costs a fraction of hashing it for a set.
    public static func isReserved(_ name: String) -> Bool {
        reservedEventNames.contains(name)
    }

    private var pending: SocketPacket?
    private var expectedAttachments = 0
    private var attachments: [ByteBuffer] = []

    public init() {}

    /// True while a binary packet waits for its attachments.
    public var isAwaitingAttachments: Bool { pending != nil }

    /// Feeds one Engine.IO message; returns a packet once it is complete.
    public mutating func receive(_ payload: EnginePacket.Payload) throws(SocketDecodingError) -> SocketPacket? {
        switch payload {
        case .text(let text):
            guard pending == nil else { throw .unexpectedText }
            let (packet, count) = try Self.decodeHeader(text)
            if count == 0 { return packet }
            pending = packet
            expectedAttachments = count
            attachments.reserveCapacity(count)
            return nil
        case .binary(let bytes):
            guard var packet = pending else { throw .unexpectedBinary }
            attachments.append(bytes)
            guard attachments.count == expectedAttachments else { return nil }
            // Reset before substituting, so a bad placeholder does not leave the packet pending.
            let complete = attachments
            pending = nil
            attachments = []
            expectedAttachments = 0
            var used: UInt16 = 0
            packet.data = try packet.data.map { value throws(SocketDecodingError) in
                try Self.replacePlaceholders(in: value, with: complete, used: &used)
            }
            return packet
        }
    }

    /// Decodes the text part of a packet; returns it with its attachment count.
    public static func decodeHeader(_ text: String) throws(SocketDecodingError) -> (SocketPacket, Int) {
        let bytes = Array(text.utf8)
        var index = 0
        guard let first = bytes.first, first >= UInt8(ascii: "0"),
            let kind = SocketPacket.Kind(rawValue: first - UInt8(ascii: "0"))
        else { throw .unknownPacketType }
        index = 1

        var attachmentCount = 0
        if kind == .binaryEvent || kind == .binaryAck {
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, index > start, index - start <= 3,
                let count = Int(String(decoding: bytes[start..<index], as: UTF8.self))
            else { throw .illegalAttachments }
            guard count <= maxAttachments else { throw .tooManyAttachments }
            attachmentCount = count
            index += 1
        }

        var namespace = "/"
        if index < bytes.count, bytes[index] == UInt8(ascii: "/") {
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: ",") { index += 1 }
            namespace = String(decoding: bytes[start..<index], as: UTF8.self)
            if index < bytes.count { index += 1 }
        }

        var ackId: UInt64?
        let digitsStart = index
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
        if index > digitsStart {
            // Ack ids are JavaScript numbers; anything past 2^53 cannot come from a real client.
            guard index - digitsStart <= 16,
                let id = UInt64(String(decoding: bytes[digitsStart..<index], as: UTF8.self)),
                id <= 1 << 53
            else { throw .invalidAckId }
            ackId = id
        }

        var data: JSONValue?
        if index < bytes.count {
            do {
                data = try JSONParser.parse(bytes[index...])
            } catch {
                throw .invalidPayload
            }
        }
        try validate(kind: kind, data: data)
        return (SocketPacket(kind, namespace: namespace, ackId: ackId, data: data), attachmentCount)
    }

    private static func validate(kind: SocketPacket.Kind, data: JSONValue?) throws(SocketDecodingError) {
        switch kind {
        case .connect:
            if let data, !data.isObject { throw .invalidPayload }
        case .disconnect:
            if data != nil { throw .invalidPayload }
        case .event, .binaryEvent:
            guard case .array(let items)? = data, let first = items.first else { throw .invalidPayload }
            switch first {
            case .string(let name):
                if isReserved(name) { throw .reservedEventName(name) }
            case .number: break
            default: throw .invalidPayload
            }
        case .ack, .binaryAck:
            guard case .array? = data else { throw .invalidPayload }
        case .connectError:
            switch data {
            case .object?, .string?: break
            default: throw .invalidPayload
            }
        }
    }

    /// Replaces every `{"_placeholder":true,"num":N}` by attachment N. Each attachment may be
    /// referenced once (`used` has bit N set once it is): clients send one attachment per
    /// buffer, and a packet naming one 1 MB attachment a hundred times would otherwise become a
    /// hundred copies wherever its arguments are converted (a Lua policy's arguments are).
    package static func replacePlaceholders(
        in value: JSONValue, with attachments: [ByteBuffer],
        used: inout UInt16
    ) throws(SocketDecodingError) -> JSONValue {
        switch value {
        case .array(let items):
            var result: [JSONValue] = []
            result.reserveCapacity(items.count)
            for item in items { result.append(try replacePlaceholders(in: item, with: attachments, used: &used)) }
            return .array(result)
        case .object(let members):
            if value["_placeholder"] == .bool(true) {
                guard let number = value["num"]?.intValue, attachments.indices.contains(number) else {
                    throw .invalidPlaceholder
                }
                let bit: UInt16 = 1 << number
                guard used & bit == 0 else { throw .repeatedPlaceholder }
                used |= bit
                return .binary(attachments[number])
            }
            var result: [JSONMember] = []
            result.reserveCapacity(members.count)
            for member in members {
                result.append(JSONMember(member.key, try replacePlaceholders(in: member.value, with: attachments, used: &used)))
            }
            return .object(result)
        default:
            return value
        }
    }
}
