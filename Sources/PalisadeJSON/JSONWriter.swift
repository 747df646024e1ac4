import NIOCore

/// Writes compact JSON (no whitespace, keys in stored order, `/` and non-ASCII unescaped),
/// as JavaScript's `JSON.stringify` does, so conformance output is byte-exact.
///
/// The text is built in a byte array and copied into a `ByteBuffer` once: each write to a
/// `ByteBuffer` checks its capacity and its storage's exclusive access, which cost about 250
/// instructions per one-byte write, a dozen of them for a small event.
public enum JSONWriter {
    /// Appends `value` to `buffer`. `.binary` values must have been replaced by
    /// placeholders first; one left here is written as `null`.
    public static func write(_ value: JSONValue, into buffer: inout ByteBuffer) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        write(value, into: &bytes)
        buffer.writeBytes(bytes)
    }

    /// Appends `value` to `bytes`.
    public static func write(_ value: JSONValue, into bytes: inout [UInt8]) {
        switch value {
        case .null, .binary: append("null", to: &bytes)
        case .bool(let flag): append(flag ? "true" : "false", to: &bytes)
        case .number(let text): append(text, to: &bytes)
        case .string(let text): writeString(text, into: &bytes)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (position, item) in items.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                write(item, into: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (position, member) in members.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                writeString(member.key, into: &bytes)
                bytes.append(UInt8(ascii: ":"))
                write(member.value, into: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    public static func string(_ value: JSONValue) -> String {
        var bytes: [UInt8] = []
        write(value, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A JSON string literal for `text`, quotes included.
    public static func quoted(_ text: String) -> String {
        string(.string(text))
    }

    /// Appends the UTF-8 of `text` as it is (no quotes, no escapes).
    public static func append(_ text: String, to bytes: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func writeString(_ text: String, into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var runStart = 0
            for (position, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<position]))
                runStart = position + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case 0x22: bytes.append(UInt8(ascii: "\""))
                case 0x5C: bytes.append(UInt8(ascii: "\\"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                default:
                    bytes.append(UInt8(ascii: "u"))
                    bytes.append(UInt8(ascii: "0"))
                    bytes.append(UInt8(ascii: "0"))
                    bytes.append(hexDigits[Int(byte >> 4)])
                    bytes.append(hexDigits[Int(byte & 0x0F)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
