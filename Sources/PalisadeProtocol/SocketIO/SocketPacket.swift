import PalisadeJSON

/// One Socket.IO v5 packet, with binary attachments already placed inside `data`
/// (as `.binary` values) when it came in as BINARY_EVENT or BINARY_ACK.
public struct SocketPacket: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        case connect = 0
        case disconnect, event, ack, connectError, binaryEvent, binaryAck
    }

    public var kind: Kind
    /// `/` for the main namespace.
    public var namespace: String
    public var ackId: UInt64?
    public var data: JSONValue?

    public init(_ kind: Kind, namespace: String = "/", ackId: UInt64? = nil, data: JSONValue? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.ackId = ackId
        self.data = data
    }

    /// EVENT `[name, args…]`; the encoder turns it into BINARY_EVENT when an argument holds binary.
    public static func event(_ name: String, _ args: [JSONValue], namespace: String = "/", ackId: UInt64? = nil) -> SocketPacket {
        SocketPacket(.event, namespace: namespace, ackId: ackId, data: .array([.string(name)] + args))
    }

    /// The event name and arguments of an EVENT/BINARY_EVENT.
    public var eventNameAndArguments: (name: String, arguments: ArraySlice<JSONValue>)? {
        guard kind == .event || kind == .binaryEvent, case .array(let items)? = data,
            let first = items.first
        else { return nil }
        switch first {
        case .string(let name): return (name, items.dropFirst())
        case .number(let text): return (text, items.dropFirst())
        default: return nil
        }
    }
}

/// Why a Socket.IO packet was refused. Every case closes the Engine.IO connection.
public enum SocketDecodingError: Error, Sendable, Equatable {
    case unknownPacketType
    case illegalAttachments
    case tooManyAttachments
    case invalidAckId
    case invalidPayload
    case reservedEventName(String)
    /// A text packet arrived while attachments were expected, or binary with none expected.
    case unexpectedBinary
    case unexpectedText
    case invalidPlaceholder
    /// Two placeholders name the same attachment.
    case repeatedPlaceholder
}
