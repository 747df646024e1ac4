import NIOCore

/// Writes compact JSON (no whitespace, keys in stored order, `/` and non-ASCII unescaped),
/// as JavaScript's `JSON.stringify` does, so conformance output is byte-exact.
public enum JSONWriter {
    /// Appends `value` to `buffer`. `.binary` values must have been replaced by
    /// placeholders first; one left here is written as `null`.
    public static func write(_ value: JSONValue, into buffer: inout ByteBuffer) {
        switch value {
        case .null, .binary: buffer.writeStaticString("null")
        case .bool(let flag): buffer.writeStaticString(flag ? "true" : "false")
        case .number(let text): buffer.writeString(text)
        case .string(let text): writeString(text, into: &buffer)
        case .array(let items):
            buffer.writeInteger(UInt8(ascii: "["))
            for (position, item) in items.enumerated() {
                if position > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                write(item, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "]"))
        case .object(let members):
            buffer.writeInteger(UInt8(ascii: "{"))
            for (position, member) in members.enumerated() {
                if position > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                writeString(member.key, into: &buffer)
                buffer.writeInteger(UInt8(ascii: ":"))
                write(member.value, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "}"))
        }
    }

    public static func string(_ value: JSONValue) -> String {
        var buffer = ByteBuffer()
        write(value, into: &buffer)
        return String(buffer: buffer)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func writeString(_ text: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var runStart = 0
            for (position, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[runStart..<position]))
                runStart = position + 1
                switch byte {
                case 0x22: buffer.writeStaticString("\\\"")
                case 0x5C: buffer.writeStaticString("\\\\")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x09: buffer.writeStaticString("\\t")
                case 0x08: buffer.writeStaticString("\\b")
                case 0x0C: buffer.writeStaticString("\\f")
                default:
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hexDigits[Int(byte >> 4)])
                    buffer.writeInteger(hexDigits[Int(byte & 0x0F)])
                }
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[runStart...]))
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}
