import NIOCore

/// Client-to-server WebSocket frames written as raw bytes, bypassing `WebSocketFrameEncoder`.
///
/// RFC 6455 requires clients to mask; the mask key here is all zeros, which is a valid key
/// whose XOR is the identity, so payloads are written as they are and frames can be built
/// straight into one outbound buffer (no second buffer per frame, no masking pass).
enum ClientFrame {
    static let textOpcode: UInt8 = 0x1
    static let closeOpcode: UInt8 = 0x8
    static let pongOpcode: UInt8 = 0xA

    /// Writes the header of a final frame carrying `length` payload bytes.
    @inline(__always)
    static func writeHeader(opcode: UInt8 = textOpcode, length: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger(0x80 | opcode)
        if length < 126 {
            buffer.writeInteger(UInt8(0x80 | length))
        } else if length <= 0xFFFF {
            buffer.writeInteger(UInt8(0x80 | 126))
            buffer.writeInteger(UInt16(length))
        } else {
            buffer.writeInteger(UInt8(0x80 | 127))
            buffer.writeInteger(UInt64(length))
        }
        buffer.writeInteger(UInt32(0))  // mask key
    }

    /// A complete text frame around `payload`.
    static func text(_ payload: some Collection<UInt8>) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(payload.count + 14)
        writeHeader(length: payload.count, into: &buffer)
        buffer.writeBytes(payload)
        return buffer
    }

    static func text(_ payload: String) -> ByteBuffer { text(Array(payload.utf8)) }

    /// Decimal digits of `value`, for computing a frame length before writing it.
    @inline(__always)
    static func digitCount(_ value: UInt64) -> Int {
        var count = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }

    /// Writes `value` in decimal without going through `String`.
    @inline(__always)
    static func writeDecimal(_ value: UInt64, into buffer: inout ByteBuffer) {
        let count = digitCount(value)
        var rest = value
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
            for position in stride(from: count - 1, through: 0, by: -1) {
                raw[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
            return count
        }
    }
}
