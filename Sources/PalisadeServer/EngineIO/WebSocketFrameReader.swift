import NIOCore

/// Reads a client's WebSocket frames (RFC 6455 §5.2) from the bytes of its connection and
/// unmasks their payloads. It replaces NIO's frame decoder and protocol error handler: two
/// pipeline handlers per connection, a decode loop and a boxed frame per message.
///
/// Strict where the RFC says a server must close: reserved bits set (no extension is
/// negotiated), a reserved opcode, an unmasked frame (§5.1), a control frame that is
/// fragmented or longer than 125 bytes (§5.5), a 64-bit length with its top bit set.
struct WebSocketFrameReader {
    enum Opcode: UInt8 {
        case continuation = 0x0
        case text = 0x1
        case binary = 0x2
        case close = 0x8
        case ping = 0x9
        case pong = 0xA

        var isControl: Bool { rawValue & 0x8 != 0 }
    }

    struct Frame {
        var fin: Bool
        var opcode: Opcode
        /// Unmasked.
        var payload: ByteBuffer
    }

    /// Why the connection must close, with the close code to send (RFC 6455 §7.4.1).
    enum Failure: Error, Equatable {
        /// 1002.
        case protocolError
        /// 1009: a frame longer than `maxFrameBytes`.
        case tooLarge
    }

    /// The longest payload one frame may carry.
    let maxFrameBytes: Int
    /// Bytes read but not yet taken as frames: the start of a frame whose rest has not come.
    private var buffered: ByteBuffer?

    /// Bytes held of frames not yet whole.
    var bufferedBytes: Int { buffered?.readableBytes ?? 0 }

    init(maxFrameBytes: Int) {
        self.maxFrameBytes = maxFrameBytes
    }

    /// Adds bytes read from the connection. The first read after a frame boundary is kept as
    /// it is (no copy); only the tail of a frame split across reads is gathered.
    mutating func append(_ bytes: inout ByteBuffer) {
        if buffered == nil {
            buffered = bytes
        } else {
            buffered!.writeBuffer(&bytes)
        }
    }

    /// The next whole frame, or nil until more bytes come.
    mutating func next(allocator: ByteBufferAllocator) throws(Failure) -> Frame? {
        guard var bytes = buffered, let header = try Self.header(of: bytes, maxFrameBytes: maxFrameBytes),
            bytes.readableBytes >= header.size + header.length
        else { return nil }
        let mask = bytes.getInteger(at: bytes.readerIndex + header.size - 4, endianness: .little, as: UInt32.self)!
        bytes.moveReaderIndex(forwardBy: header.size)
        let masked = bytes.readSlice(length: header.length)!
        // Let go of a read buffer once it is all taken, so NIO can read into it again.
        buffered = bytes.readableBytes > 0 ? bytes : nil
        return Frame(fin: header.fin, opcode: header.opcode, payload: Self.unmask(masked, with: mask, allocator: allocator))
    }

    private struct Header {
        var fin: Bool
        var opcode: Opcode
        /// The header's own bytes, mask key included.
        var size: Int
        var length: Int
    }

    /// The header at the start of `bytes`; nil when it has not all come.
    private static func header(of bytes: ByteBuffer, maxFrameBytes: Int) throws(Failure) -> Header? {
        guard let first = bytes.getInteger(at: bytes.readerIndex, as: UInt16.self) else { return nil }
        let byte0 = UInt8(first >> 8)
        let byte1 = UInt8(first & 0xFF)
        guard byte0 & 0x70 == 0, let opcode = Opcode(rawValue: byte0 & 0x0F), byte1 & 0x80 != 0 else {
            throw .protocolError  // reserved bits, a reserved opcode, or no mask
        }
        let fin = byte0 & 0x80 != 0
        var length = Int(byte1 & 0x7F)
        var size = 2
        if length == 126 {
            guard let extended = bytes.getInteger(at: bytes.readerIndex + 2, as: UInt16.self) else { return nil }
            length = Int(extended)
            size = 4
        } else if length == 127 {
            guard let extended = bytes.getInteger(at: bytes.readerIndex + 2, as: UInt64.self) else { return nil }
            guard extended >> 63 == 0 else { throw .protocolError }
            guard extended <= UInt64(maxFrameBytes) else { throw .tooLarge }
            length = Int(extended)
            size = 10
        }
        if opcode.isControl, !fin || length > 125 { throw .protocolError }
        guard length <= maxFrameBytes else { throw .tooLarge }
        return Header(fin: fin, opcode: opcode, size: size + 4, length: length)
    }

    /// `masked` XORed with the mask key, into a buffer of its own (the read buffer is shared
    /// with NIO's pool of receive buffers, so it is not changed in place): eight bytes at a time.
    static func unmask(_ masked: ByteBuffer, with mask: UInt32, allocator: ByteBufferAllocator) -> ByteBuffer {
        let count = masked.readableBytes
        var output = allocator.buffer(capacity: count)
        guard count > 0 else { return output }
        let wide = UInt64(mask) | UInt64(mask) << 32
        output.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { target in
            masked.withUnsafeReadableBytes { source in
                var index = 0
                while index + 8 <= count {
                    let word = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: index, as: UInt64.self)) ^ wide
                    target.storeBytes(of: word.littleEndian, toByteOffset: index, as: UInt64.self)
                    index += 8
                }
                while index < count {
                    target[index] = source[index] ^ UInt8(truncatingIfNeeded: mask >> (8 * UInt32(index & 3)))
                    index += 1
                }
            }
            return count
        }
        return output
    }
}
