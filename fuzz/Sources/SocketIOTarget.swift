import NIOCore
import PalisadeProtocol

/// Socket.IO v5 packets with binary attachments: the input is a run of Engine.IO messages
/// separated by 0x1E; one starting with 0x00 is a binary message (its other bytes), any other a
/// text message. They go through one decoder as a connection's messages would. Each packet it
/// completes must encode to messages that a fresh decoder turns back into the same packet (`plain`).
enum SocketIOTarget {
    static func run(_ bytes: [UInt8]) {
        var decoder = SocketPacketDecoder()
        for message in FuzzInput.split(bytes, on: EngineCodec.recordSeparator) {
            let payload: EnginePacket.Payload
            if message.first == 0 {
                payload = .binary(ByteBuffer(bytes: message.dropFirst()))
            } else if let text = String(validating: message, as: UTF8.self) {
                payload = .text(text)
            } else {
                continue
            }
            do {
                if let packet = try decoder.receive(payload) { checkRoundTrip(packet) }
            } catch {
                return  // the server closes the connection here
            }
        }
    }

    static func checkRoundTrip(_ packet: SocketPacket) {
        var decoder = SocketPacketDecoder()
        var decoded: SocketPacket?
        for message in SocketPacketEncoder.encode(packet) {
            check(decoded == nil, "\(packet) encodes to messages past its end")
            do {
                decoded = try decoder.receive(message.payload)
            } catch {
                check(false, "\(packet) encodes to messages that fail to decode: \(error)")
            }
        }
        check(decoded.map(plain) == plain(packet), "\(packet) comes back as \(String(describing: decoded))")
    }

    /// The packet as the application sees it: a BINARY_EVENT whose attachments no placeholder
    /// used carries no binary, and is encoded again as a plain EVENT (likewise acks).
    static func plain(_ packet: SocketPacket) -> SocketPacket {
        var packet = packet
        if packet.kind == .binaryEvent { packet.kind = .event }
        if packet.kind == .binaryAck { packet.kind = .ack }
        return packet
    }
}
