import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import PalisadeServer

/// Client frames as NIO's own encoder writes them (masked), for the reader to read back.
private func clientBytes(_ frames: [WebSocketFrame]) throws -> ByteBuffer {
    let channel = EmbeddedChannel(handler: WebSocketFrameEncoder())
    var bytes = ByteBuffer()
    for frame in frames {
        try channel.writeOutbound(frame)
        while var part = try channel.readOutbound(as: ByteBuffer.self) { bytes.writeBuffer(&part) }
    }
    _ = try channel.finish()
    return bytes
}

private func read(_ bytes: ByteBuffer, chunk: Int = .max, max: Int = 1 << 20) throws(WebSocketFrameReader.Failure) -> [WebSocketFrameReader
    .Frame]
{
    var reader = WebSocketFrameReader(maxFrameBytes: max)
    var frames: [WebSocketFrameReader.Frame] = []
    var rest = bytes
    while rest.readableBytes > 0 {
        var part = rest.readSlice(length: Swift.min(chunk, rest.readableBytes))!
        reader.append(&part)
        while let frame = try reader.next(allocator: ByteBufferAllocator()) { frames.append(frame) }
    }
    return frames
}

private func header(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes + [1, 2, 3, 4]) }

@Suite struct WebSocketFrameReaderTests {
    @Test(arguments: [0, 1, 7, 8, 9, 125, 126, 127, 65535, 65536, 70001])
    func masksOfEveryLengthEncodingAreRemoved(length: Int) throws {
        let payload = ByteBuffer(bytes: (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        let mask = WebSocketMaskingKey([0x9A, 0x01, 0xF3, 0x5C])
        let bytes = try clientBytes([
            WebSocketFrame(fin: true, opcode: .text, maskKey: mask, data: payload),
            WebSocketFrame(fin: false, opcode: .binary, maskKey: .random(), data: payload),
        ])
        let frames = try read(bytes)
        #expect(frames.count == 2)
        #expect(frames[0].fin && frames[0].opcode == .text && frames[0].payload == payload)
        #expect(!frames[1].fin && frames[1].opcode == .binary && frames[1].payload == payload)
    }

    @Test func framesSplitAcrossReadsAtAnyByteAreReadWhole() throws {
        let payloads = [ByteBuffer(string: "4hello"), ByteBuffer(repeating: 0x41, count: 300), ByteBuffer()]
        let bytes = try clientBytes(
            payloads.map { WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: $0) }
                + [WebSocketFrame(fin: true, opcode: .ping, maskKey: .random(), data: ByteBuffer(string: "p"))])
        for chunk in [1, 2, 3, 5, 7, 13, 64] {
            let frames = try read(bytes, chunk: chunk)
            #expect(frames.map(\.payload) == payloads + [ByteBuffer(string: "p")], "in reads of \(chunk) bytes")
            #expect(frames.last?.opcode == .ping)
        }
    }

    @Test func unmaskingEightBytesAtATimeMatchesByteByByte() {
        let mask: [UInt8] = [0x12, 0x34, 0xAB, 0xCD]
        let key = UInt32(mask[0]) | UInt32(mask[1]) << 8 | UInt32(mask[2]) << 16 | UInt32(mask[3]) << 24
        for length in 0...33 {
            let masked = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 97) }
            let expected = masked.enumerated().map { $0.element ^ mask[$0.offset % 4] }
            let unmasked = WebSocketFrameReader.unmask(ByteBuffer(bytes: masked), with: key, allocator: ByteBufferAllocator())
            #expect(Array(unmasked.readableBytesView) == expected, "length \(length)")
        }
    }

    @Test(
        arguments: [
            ("a reserved bit", [0xC1, 0x80]),
            ("a reserved opcode", [0x83, 0x80]),
            ("an unmasked frame", [0x81, 0x05]),
            ("a fragmented ping", [0x09, 0x80]),
            ("a close of 126 bytes", [0x88, 0xFE, 0x00, 0x7E]),
            ("a 64-bit length with its top bit set", [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0]),
        ] as [(String, [UInt8])])
    func whatTheRFCForbidsIsAProtocolError(_ what: String, _ bytes: [UInt8]) {
        #expect(throws: WebSocketFrameReader.Failure.protocolError, "\(what)") { try read(header(bytes)) }
    }

    @Test func aFrameOverTheLimitIsRefusedFromItsHeaderAlone() {
        #expect(throws: WebSocketFrameReader.Failure.tooLarge) { try read(header([0x82, 0xFE, 0x01, 0x00]), max: 255) }
        #expect(throws: WebSocketFrameReader.Failure.tooLarge) { try read(header([0x82, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0]), max: 1 << 20) }
        #expect(throws: Never.self) { try read(header([0x82, 0xFE, 0x00, 0xFF]), max: 255) }  // 255 bytes: waits for them
    }

    @Test func theAcceptKeyIsTheRFCsExample() {
        // RFC 6455 §1.3.
        #expect(WebSocketUpgrader.acceptValue(for: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }
}
