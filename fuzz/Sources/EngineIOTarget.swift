import NIOCore
import PalisadeProtocol

/// Engine.IO v4: the input as one packet (a WebSocket text frame) and as a polling POST body.
/// Every packet decoded must encode back to text that decodes to the same packet.
enum EngineIOTarget {
    static func run(_ bytes: [UInt8]) {
        let buffer = ByteBuffer(bytes: bytes)
        if let packet = try? EngineCodec.decode(text: buffer) {
            checkRoundTrip(packet)
        }
        let (packets, error) = EngineCodec.decodePayload(buffer)
        for packet in packets { checkRoundTrip(packet) }
        if error == nil {
            let again = EngineCodec.decodePayload(EngineCodec.encodePayload(packets))
            check(again.error == nil && again.packets == packets, "a polling payload does not survive encoding")
        }
    }

    static func checkRoundTrip(_ packet: EnginePacket) {
        var text = ByteBuffer()
        EngineCodec.encodeText(packet, into: &text)
        let decoded = try? EngineCodec.decode(text: text)
        check(decoded == packet, "\(packet) encodes to text that decodes to \(String(describing: decoded))")
    }
}
