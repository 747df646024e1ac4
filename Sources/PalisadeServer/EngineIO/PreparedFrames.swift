import NIOCore
import PalisadeProtocol

/// Engine.IO frames sent to many sessions (a room broadcast), with their WebSocket wire
/// bytes built once: every WebSocket member gets the same buffer, instead of a frame made
/// per member. Polling members take `frames` into their outbox.
public final class PreparedFrames: Sendable {
    public let frames: [EngineFrame]
    /// Each frame as a server WebSocket frame (final, unmasked), one after the other.
    let webSocketBytes: ByteBuffer

    public init(_ frames: [EngineFrame]) {
        self.frames = frames
        let size = frames.reduce(0) { $0 + Self.headerSize(of: $1.byteCount) + $1.byteCount }
        var bytes = ByteBuffer()
        bytes.reserveCapacity(size)
        for frame in frames {
            var payload = frame.bytes
            Self.writeHeader(opcode: frame.isText ? 0x1 : 0x2, length: payload.readableBytes, into: &bytes)
            bytes.writeBuffer(&payload)
        }
        webSocketBytes = bytes
    }

    /// Appends the header of a final frame carrying `length` bytes.
    static func writeHeader(opcode: UInt8, length: Int, into bytes: inout ByteBuffer) {
        let start = bytes.writerIndex
        bytes.writeRepeatingByte(0, count: headerSize(of: length))
        setHeader(opcode: opcode, length: length, at: start, in: &bytes)
    }

    /// Writes the header of a final frame in front of `bytes`' readable bytes, in the room
    /// before its reader index; false (and nothing changed) when there is not enough room.
    static func prependHeader(opcode: UInt8, to bytes: inout ByteBuffer) -> Bool {
        let length = bytes.readableBytes
        let start = bytes.readerIndex - headerSize(of: length)
        guard start >= 0 else { return false }
        bytes.moveReaderIndex(to: start)
        setHeader(opcode: opcode, length: length, at: start, in: &bytes)
        return true
    }

    /// RFC 6455 §5.2: FIN and the opcode, then the length in 7 bits, or 126 and 16 bits, or 127 and 64 bits.
    /// The first two bytes are set as one integer: each write to a buffer checks its storage's
    /// exclusive access.
    private static func setHeader(opcode: UInt8, length: Int, at start: Int, in bytes: inout ByteBuffer) {
        let first = UInt16(0x80 | opcode) << 8
        switch length {
        case ..<126:
            bytes.setInteger(first | UInt16(length), at: start)
        case ..<65536:
            bytes.setInteger(first | 126, at: start)
            bytes.setInteger(UInt16(length), at: start + 2)
        default:
            bytes.setInteger(first | 127, at: start)
            bytes.setInteger(UInt64(length), at: start + 2)
        }
    }

    static func headerSize(of length: Int) -> Int {
        length < 126 ? 2 : length < 65536 ? 4 : 10
    }
}

extension EngineFrame {
    var bytes: ByteBuffer {
        switch self {
        case .text(let bytes), .binary(let bytes): bytes
        }
    }

    var isText: Bool {
        if case .text = self { return true }
        return false
    }
}
