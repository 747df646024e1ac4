import NIOCore

/// One RESP2 reply. Bulk strings stay bytes; `string` reads them as UTF-8 when a caller wants text.
public enum RedisValue: Sendable, Equatable {
    /// `+OK`, `+PONG`: a status line.
    case simpleString(String)
    /// `-ERR …`: an error reply. At the top level `send` turns it into a thrown `RedisError(.server, …)`;
    /// inside an array (EXEC, a script's table) it stays a value.
    case error(String)
    case integer(Int64)
    case bulkString(ByteBuffer)
    /// `$-1` or `*-1`.
    case null
    case array([RedisValue])
}

extension RedisValue {
    /// Simple or bulk strings as text (bulk strings that are not valid UTF-8 are repaired, as `String(decoding:)` does).
    public var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let bytes): String(buffer: bytes)
        default: nil
        }
    }

    /// Integers, and bulk or simple strings holding a decimal integer (what GET returns after INCR).
    public var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .bulkString, .simpleString: string.flatMap { Int64($0) }
        default: nil
        }
    }

    public var bytes: ByteBuffer? {
        switch self {
        case .bulkString(let bytes): bytes
        case .simpleString(let text): ByteBuffer(string: text)
        default: nil
        }
    }

    public var array: [RedisValue]? {
        if case .array(let values) = self { values } else { nil }
    }

    public var isNull: Bool { self == .null }
}

extension RedisValue: CustomStringConvertible {
    public var description: String {
        switch self {
        case .simpleString(let text): "+\(text)"
        case .error(let text): "-\(text)"
        case .integer(let value): ":\(value)"
        case .bulkString(let bytes): "$\(bytes.readableBytes) \(String(buffer: bytes).debugDescription)"
        case .null: "nil"
        case .array(let values): "[\(values.map(\.description).joined(separator: ", "))]"
        }
    }
}
