import NIOCore
import PalisadeJSON

/// Yjs bytes as they travel in events: a JSON array of integers 0–255 (what Open WebUI's
/// client sends) or a Socket.IO binary attachment (what its older client sent).
enum YjsPayloadBytes {
    enum Failure: Error, Equatable {
        case notBytes
        case tooLarge
    }

    /// The bytes of `value`, refusing anything else and anything over `maxBytes`.
    static func decode(_ value: JSONValue, maxBytes: Int) throws(Failure) -> [UInt8] {
        switch value {
        case .binary(let buffer):
            guard buffer.readableBytes <= maxBytes else { throw .tooLarge }
            return Array(buffer.readableBytesView)
        case .array(let elements):
            guard elements.count <= maxBytes else { throw .tooLarge }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(elements.count)
            for element in elements {
                guard case .number(let text) = element, let byte = UInt8(text) else { throw .notBytes }
                bytes.append(byte)
            }
            return bytes
        default:
            throw .notBytes
        }
    }

    /// Bytes up to this size go out as JSON arrays, larger ones as binary attachments.
    static let largestJSONArray = 64 << 10

    /// `bytes` for an outgoing event: a JSON array of integers, the form Open WebUI's own server sends,
    /// or past `largestJSONArray` a binary attachment, which its client reads the same way
    /// (`new Uint8Array(data.state)`) at one byte per byte instead of up to four, and without
    /// a JSON value per byte on the way out.
    static func payload(_ bytes: [UInt8]) -> JSONValue {
        bytes.count <= largestJSONArray ? jsonArray(bytes) : .binary(ByteBuffer(bytes: bytes))
    }

    /// `bytes` as a JSON array of integers, the form every Open WebUI client reads.
    static func jsonArray(_ bytes: [UInt8]) -> JSONValue {
        .array(bytes.map { byteValues[Int($0)] })
    }

    private static let byteValues: [JSONValue] = (0...255).map { .number(String($0)) }
}
