import NIOCore
import PalisadeJSON

/// Encodes and decodes Engine.IO v4 packets for WebSocket frames and polling payloads.
///
/// Polling payloads join packets with the record separator 0x1E; binary messages travel
/// there as `b` + base64. On WebSocket, binary messages are raw binary frames.
public enum EngineCodec {
    public static let recordSeparator: UInt8 = 0x1E

    // MARK: Decoding

    /// Decodes one text packet (a WebSocket text frame or one polling element).
    public static func decode(text bytes: ByteBuffer) throws(EngineDecodingError) -> EnginePacket {
        guard let first = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self) else { throw .emptyPacket }
        if first == UInt8(ascii: "b") {
            let encoded = bytes.readableBytesView.dropFirst()
            guard let decoded = Base64.decode(encoded) else { throw .invalidBase64 }
            return .message(decoded)
        }
        guard first >= UInt8(ascii: "0"), let kind = EnginePacket.Kind(rawValue: first - UInt8(ascii: "0")) else {
            throw .unknownPacketType(first)
        }
        let decoded = bytes.withUnsafeReadableBytes { String(utf8Validating: UnsafeRawBufferPointer(rebasing: $0.dropFirst())) }
        guard let text = decoded else { throw .invalidUTF8 }
        return EnginePacket(kind, .text(text))
    }

    /// Decodes a polling POST body: packets separated by 0x1E, processed in order.
    /// Stops at the first bad element; the packets before it are returned with the error.
    public static func decodePayload(_ body: ByteBuffer) -> (packets: [EnginePacket], error: EngineDecodingError?) {
        var packets: [EnginePacket] = []
        var rest = body
        while true {
            let separator = rest.readableBytesView.firstIndex(of: recordSeparator)
            let length = (separator ?? rest.writerIndex) - rest.readerIndex
            let element = rest.readSlice(length: length)!
            do throws(EngineDecodingError) {
                packets.append(try decode(text: element))
            } catch {
                return (packets, error)
            }
            guard separator != nil else { return (packets, nil) }
            rest.moveReaderIndex(forwardBy: 1)
        }
    }

    // MARK: Encoding

    /// Writes a packet as text: `<digit><payload>`, or `b<base64>` for binary (polling form).
    public static func encodeText(_ packet: EnginePacket, into buffer: inout ByteBuffer) {
        switch packet.payload {
        case .text(let text):
            buffer.writeInteger(UInt8(ascii: "0") + packet.kind.rawValue)
            buffer.writeString(text)
        case .binary(let bytes):
            buffer.writeInteger(UInt8(ascii: "b"))
            Base64.encode(bytes, into: &buffer)
        }
    }

    /// Joins packets into one polling response body.
    public static func encodePayload(_ packets: some Sequence<EnginePacket>) -> ByteBuffer {
        var buffer = ByteBuffer()
        var first = true
        for packet in packets {
            if !first { buffer.writeInteger(recordSeparator) }
            first = false
            encodeText(packet, into: &buffer)
        }
        return buffer
    }
}
