import NIOCore

/// A JSON value that round-trips exactly: object keys keep their order, numbers keep
/// their text (`1` stays `1`, `1.50` stays `1.50`), and `{}`/`[]` stay distinct.
///
/// `.binary` never appears in JSON text: it is how Socket.IO attachments sit inside
/// an event's arguments once reassembled (and what the encoder turns into placeholders).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number exactly as written (validated against the JSON grammar).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])
    case binary(ByteBuffer)
}

/// One `key: value` pair of a JSON object, in document order.
public struct JSONMember: Sendable, Equatable {
    public var key: String
    public var value: JSONValue

    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}

extension JSONValue {
    public init(_ integer: Int) { self = .number(String(integer)) }

    public static func object(_ pairs: KeyValuePairs<String, JSONValue>) -> JSONValue {
        .object(pairs.map { JSONMember($0.key, $0.value) })
    }

    /// The first member named `key`, when this is an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    /// The number as an integer, when it is written as one and fits.
    public var intValue: Int? {
        if case .number(let text) = self { return Int(text) }
        return nil
    }

    /// The number as a `Double` (integer or not); nil for anything else.
    public var doubleValue: Double? {
        if case .number(let text) = self { return Double(text) }
        return nil
    }

    /// True when a `.binary` value occurs anywhere inside.
    public var containsBinary: Bool {
        switch self {
        case .binary: return true
        case .array(let items): return items.contains { $0.containsBinary }
        case .object(let members): return members.contains { $0.value.containsBinary }
        default: return false
        }
    }
}
