import NIOCore
import NIOEmbedded
import NIOWebSocket
import PalisadeProtocol
import Testing

@testable import PalisadeServer

/// Server frames read back with NIO's own decoder.
private func decode(_ bytes: ByteBuffer) throws -> [WebSocketFrame] {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
    try channel.writeInbound(bytes)
    var frames: [WebSocketFrame] = []
    while let frame = try channel.readInbound(as: WebSocketFrame.self) { frames.append(frame) }
    _ = try channel.finish()
    return frames
}

/// A broadcast's frames encoded once as WebSocket bytes: read back with NIO's own frame
/// decoder, at every length encoding (7-bit, 16-bit and 64-bit).
@Suite struct PreparedFramesTests {
    @Test(arguments: [0, 1, 125, 126, 127, 65535, 65536, 70000])
    func aTextAndABinaryFrameOfEveryLengthDecode(length: Int) throws {
        let text = ByteBuffer(repeating: UInt8(ascii: "x"), count: length)
        let binary = ByteBuffer(bytes: (0..<min(length, 300)).map { UInt8($0 % 256) })
        let prepared = PreparedFrames([.text(text), .binary(binary)])
        let frames = try decode(prepared.webSocketBytes)
        #expect(frames.count == 2)
        #expect(frames.allSatisfy { $0.fin && $0.maskKey == nil && $0.rsv1 == false })
        #expect(frames.first?.opcode == .text && frames.first?.data == text)
        #expect(frames.last?.opcode == .binary && frames.last?.data == binary)
    }
}

/// A frame written through `WebSocketTransport` has one owner, so the header goes into the
/// buffer's headroom: one buffer per frame on the wire, not two. (A WebSocket pipeline has no
/// frame encoder: the transport frames what it writes.)
@Suite struct WebSocketTransportWriteTests {
    @Test(arguments: [4, 200, 70000])  // the three header sizes
    func aSingleFrameLeavesAsOneBuffer(length: Int) throws {
        let channel = EmbeddedChannel()
        let transport = WebSocketTransport(channel: channel)
        let text = String(repeating: "p", count: length)
        var frames = SocketPacketEncoder.frames(SocketPacket(.ack, ackId: 7, data: .array([.string(text)])))
        transport.write(frames.removeLast())  // moved out, as Socket.sendPacket does
        channel.embeddedEventLoop.run()
        let wire = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "header and payload in one buffer")
        let decoded = try decode(wire)
        #expect(decoded.map(\.opcode) == [.text])
        #expect(decoded.first.map { String(buffer: $0.data) } == #"437[""# + text + #""]"#)
        _ = try channel.finish()
    }

    @Test func preparedFramesAreWrittenInOrder() throws {
        let channel = EmbeddedChannel()
        let transport = WebSocketTransport(channel: channel)
        transport.write([.text(ByteBuffer(string: "4first"))])
        transport.writeEncoded(PreparedFrames([.text(ByteBuffer(string: "4second"))]).webSocketBytes)
        channel.embeddedEventLoop.run()
        var wire = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { wire.writeBuffer(&part) }
        let frames = try decode(wire)
        #expect(frames.map { String(buffer: $0.data) } == ["4first", "4second"])
        _ = try channel.finish()
    }

    @Test func binaryFramesPongsAndCloseFramesAreFramedToo() throws {
        let channel = EmbeddedChannel()
        let transport = WebSocketTransport(channel: channel)
        let binary = ByteBuffer(bytes: [0, 1, 2, 255])  // no headroom: copied behind a header
        transport.write([.binary(binary)])
        channel.embeddedEventLoop.run()
        transport.pong(ByteBuffer(string: "ping-data"))
        transport.close(code: .protocolError)
        channel.embeddedEventLoop.run()
        var wire = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { wire.writeBuffer(&part) }
        let frames = try decode(wire)
        #expect(frames.map(\.opcode) == [.binary, .pong, .connectionClose])
        #expect(frames[0].data == binary && String(buffer: frames[1].data) == "ping-data")
        #expect(frames[2].data.getInteger(at: frames[2].data.readerIndex, as: UInt16.self) == 1002)
        _ = try? channel.finish()
    }

    @Test func writesAfterTheChannelClosedAreDropped() throws {
        let channel = EmbeddedChannel()
        let transport = WebSocketTransport(channel: channel)
        try channel.close().wait()
        var frames = SocketPacketEncoder.frames(SocketPacket(.ack, ackId: 1, data: .array([])))
        transport.write(frames.removeLast())
        transport.writeEncoded(PreparedFrames([.text(ByteBuffer(string: "4late"))]).webSocketBytes)
        channel.embeddedEventLoop.run()
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
    }
}
