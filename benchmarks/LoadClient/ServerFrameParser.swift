import NIOCore

/// Splits the server's byte stream into WebSocket messages without NIO's frame decoder: one
/// less pipeline hop and no boxed `WebSocketFrame` per message, which is most of a receiver's
/// user-space cost in fan-out runs. Server frames are unmasked (RFC 6455 §5.1); a masked one
/// is unmasked anyway. Fragmented messages are joined.
struct ServerFrameParser {
    enum Message {
        case text(ByteBuffer)
        case ping(ByteBuffer)
        case close
        /// Binary and pong frames: nothing to do.
        case ignored
    }

    enum ParseError: Error { case frameTooLarge }

    /// Largest message accepted (Yjs states can be large, nothing else is).
    static let maxMessage = 1 << 24

    private var pending: ByteBuffer?
    private var fragments: ByteBuffer?
    private var fragmentOpcode: UInt8 = 0

    /// Feeds bytes read from the socket; calls `deliver` for each complete message.
    mutating func feed(_ input: ByteBuffer, deliver: (Message) -> Void) throws {
        var buffer: ByteBuffer
        if var stored = pending {
            pending = nil
            var input = input
            stored.writeBuffer(&input)
            buffer = stored
        } else {
            buffer = input
        }
        while let message = try next(&buffer) { deliver(message) }
        if buffer.readableBytes > 0 {
            // A partial frame: keep a compact copy until the rest arrives.
            var rest = ByteBuffer()
            rest.reserveCapacity(max(buffer.readableBytes, 512))
            rest.writeBuffer(&buffer)
            pending = rest
        }
    }

    private mutating func next(_ buffer: inout ByteBuffer) throws -> Message? {
        while true {
            let start = buffer.readerIndex
            guard let first = buffer.getInteger(at: start, as: UInt8.self),
                let second = buffer.getInteger(at: start + 1, as: UInt8.self)
            else { return nil }
            var headerLength = 2
            var length = Int(second & 0x7F)
            if length == 126 {
                guard let extended = buffer.getInteger(at: start + 2, as: UInt16.self) else { return nil }
                length = Int(extended)
                headerLength = 4
            } else if length == 127 {
                guard let extended = buffer.getInteger(at: start + 2, as: UInt64.self) else { return nil }
                guard extended <= UInt64(Self.maxMessage) else { throw ParseError.frameTooLarge }
                length = Int(extended)
                headerLength = 10
            }
            let masked = second & 0x80 != 0
            let maskOffset = start + headerLength
            if masked { headerLength += 4 }
            guard buffer.readableBytes >= headerLength + length else { return nil }
            var payload = buffer.getSlice(at: start + headerLength, length: length)!
            if masked, let key = buffer.getBytes(at: maskOffset, length: 4) {
                var bytes = Array(payload.readableBytesView)
                for index in bytes.indices { bytes[index] ^= key[index & 3] }
                payload = ByteBuffer(bytes: bytes)
            }
            buffer.moveReaderIndex(forwardBy: headerLength + length)

            let fin = first & 0x80 != 0
            let opcode = first & 0x0F
            switch opcode {
            case 0x0:  // continuation
                guard var joined = fragments else { continue }
                joined.writeBuffer(&payload)
                guard joined.readableBytes <= Self.maxMessage else { throw ParseError.frameTooLarge }
                if !fin {
                    fragments = joined
                    continue
                }
                fragments = nil
                return fragmentOpcode == 0x1 ? .text(joined) : .ignored
            case 0x1, 0x2:
                if !fin {
                    fragments = payload
                    fragmentOpcode = opcode
                    continue
                }
                return opcode == 0x1 ? .text(payload) : .ignored
            case 0x8:
                return .close
            case 0x9:
                return .ping(payload)
            default:
                return .ignored
            }
        }
    }
}
