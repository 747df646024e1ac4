import NIOCore
import NIOEmbedded
import NIOWebSocket
import PalisadeProtocol
import Testing

@testable import PalisadeServer

/// A broadcast's frames encoded once as WebSocket bytes: read back with NIO's own frame
/// decoder, at every length encoding (7-bit, 16-bit and 64-bit).
@Suite struct PreparedFramesTests {
    private func decode(_ bytes: ByteBuffer) throws -> [WebSocketFrame] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        try channel.writeInbound(bytes)
        var frames: [WebSocketFrame] = []
        while let frame = try channel.readInbound(as: WebSocketFrame.self) { frames.append(frame) }
        _ = try channel.finish()
        return frames
    }

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
