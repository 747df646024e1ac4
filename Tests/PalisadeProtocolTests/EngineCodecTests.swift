import NIOCore
import PalisadeProtocol
import PalisadeTestSupport
import Testing

private let separator = "\u{1E}"

private func decode(_ text: String) throws(EngineDecodingError) -> EnginePacket {
    try EngineCodec.decode(text: ByteBuffer(string: text))
}

private func decode(_ bytes: [UInt8]) throws(EngineDecodingError) -> EnginePacket {
    try EngineCodec.decode(text: ByteBuffer(bytes: bytes))
}

private func encodeText(_ packet: EnginePacket) -> String {
    var buffer = ByteBuffer()
    EngineCodec.encodeText(packet, into: &buffer)
    return String(buffer: buffer)
}

private func decodePayload(_ text: String) -> (packets: [EnginePacket], error: EngineDecodingError?) {
    EngineCodec.decodePayload(ByteBuffer(string: text))
}

@Suite struct EngineCodecTests {
    static let openPayload =
        #"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#

    /// Every packet type in its text form, as §1.2 lists them.
    static let textPackets: [(String, EnginePacket)] = [
        ("0" + openPayload, EnginePacket(.open, .text(openPayload))),
        ("1", .close),
        ("2", .ping),
        ("2probe", EnginePacket(.ping, .text("probe"))),
        ("3", .pong),
        ("3probe", EnginePacket(.pong, .text("probe"))),
        ("4hello", .message("hello")),
        ("4", .message("")),
        (#"42["foo"]"#, .message(#"2["foo"]"#)),
        ("4héllo 😀", .message("héllo 😀")),
        ("5", EnginePacket(.upgrade)),
        ("6", .noop),
    ]

    // MARK: Single packets

    @Test(arguments: textPackets)
    func textPacketDecodes(text: String, packet: EnginePacket) throws {
        #expect(try decode(text) == packet)
    }

    @Test(arguments: textPackets)
    func textPacketEncodes(text: String, packet: EnginePacket) {
        #expect(encodeText(packet) == text)
    }

    @Test func staticPacketsHaveTheirTypeAndNoPayload() {
        #expect(EnginePacket.close == EnginePacket(.close, .text("")))
        #expect(EnginePacket.ping.kind == .ping)
        #expect(EnginePacket.pong.kind == .pong)
        #expect(EnginePacket.noop.kind == .noop)
        #expect(EnginePacket(.upgrade).payload == .text(""))
    }

    @Test func binaryMessageDecodesFromBase64() throws {
        #expect(try decode("bAQIDBA==") == .message(ByteBuffer(bytes: [1, 2, 3, 4])))
        #expect(try decode("bAQID") == .message(ByteBuffer(bytes: [1, 2, 3])))
        #expect(try decode("bAQ==") == .message(ByteBuffer(bytes: [1])))
    }

    @Test func bareBIsAnEmptyBinaryMessage() throws {
        #expect(try decode("b") == .message(ByteBuffer()))
    }

    @Test func binaryMessageEncodesAsBPlusPaddedBase64() {
        #expect(encodeText(.message(ByteBuffer(bytes: [1, 2, 3, 4]))) == "bAQIDBA==")
        #expect(encodeText(.message(ByteBuffer(bytes: [1, 2]))) == "bAQI=")
        #expect(encodeText(.message(ByteBuffer(bytes: [1, 2, 3]))) == "bAQID")
        #expect(encodeText(.message(ByteBuffer())) == "b")
    }

    @Test func encodeTextAppendsToTheBuffer() {
        var buffer = ByteBuffer(string: "x")
        EngineCodec.encodeText(.ping, into: &buffer)
        #expect(String(buffer: buffer) == "x2")
    }

    @Test func decodeReadsFromTheReaderIndex() throws {
        var buffer = ByteBuffer(string: "junk4hello")
        buffer.moveReaderIndex(forwardBy: 4)
        #expect(try EngineCodec.decode(text: buffer) == .message("hello"))
        var binary = ByteBuffer(string: "4xbAQID")
        binary.moveReaderIndex(forwardBy: 2)
        #expect(try EngineCodec.decode(text: binary) == .message(ByteBuffer(bytes: [1, 2, 3])))
    }

    // MARK: Malformed single packets

    @Test func emptyPacketIsRefused() {
        #expect(throws: EngineDecodingError.emptyPacket) { _ = try decode("") }
        var consumed = ByteBuffer(string: "4a")
        consumed.moveReaderIndex(forwardBy: 2)
        #expect(throws: EngineDecodingError.emptyPacket) { _ = try EngineCodec.decode(text: consumed) }
    }

    @Test(arguments: ["7", "9x", "x", "/", "B", " 4", separator])
    func unknownPacketTypeIsRefused(text: String) {
        #expect(throws: EngineDecodingError.unknownPacketType(text.utf8.first!)) { _ = try decode(text) }
    }

    @Test func nonASCIIFirstByteIsAnUnknownType() {
        #expect(throws: EngineDecodingError.unknownPacketType(0xFF)) { _ = try decode([0xFF, 0x31]) }
        #expect(throws: EngineDecodingError.unknownPacketType(0xC3)) { _ = try decode("é") }
    }

    @Test(arguments: ["bAQI", "bAQIDBA", "b!!!!", "bAQ-_", "bAQ==AQID", "bA===", "b====", "bAQID\n"])
    func badBase64IsRefused(text: String) {
        #expect(throws: EngineDecodingError.invalidBase64) { _ = try decode(text) }
    }

    @Test(
        arguments: [
            [0x34, 0xFF],  // message, byte never valid
            [0x34, 0x61, 0xC3],  // message, truncated sequence
            [0x30, 0xED, 0xA0, 0x80],  // open, an encoded surrogate
            [0x32, 0xC0, 0xAF],  // ping, overlong "/"
            [0x34, 0x80],  // message, lone continuation byte
        ] as [[UInt8]])
    func invalidUTF8IsRefused(bytes: [UInt8]) {
        #expect(throws: EngineDecodingError.invalidUTF8) { _ = try decode(bytes) }
    }

    // MARK: Polling payloads

    @Test func payloadWithThreeMessagesDecodes() {
        let result = decodePayload("4test1\u{1E}4test2\u{1E}4test3")
        #expect(result.packets == [.message("test1"), .message("test2"), .message("test3")])
        #expect(result.error == nil)
    }

    @Test func payloadWithTextAndBinaryDecodes() {
        let result = decodePayload("4hello\u{1E}bAQIDBA==")
        #expect(result.packets == [.message("hello"), .message(ByteBuffer(bytes: [1, 2, 3, 4]))])
        #expect(result.error == nil)
    }

    @Test func payloadWithOnePacketDecodes() {
        let result = decodePayload("1")
        #expect(result.packets == [.close])
        #expect(result.error == nil)
    }

    @Test func payloadOfMixedTypesKeepsOrder() {
        let result = decodePayload(["3", "40", #"42["foo"]"#, "b", "bAQID", "41", "1"].joined(separator: separator))
        #expect(
            result.packets == [
                .pong, .message("0"), .message(#"2["foo"]"#), .message(ByteBuffer()),
                .message(ByteBuffer(bytes: [1, 2, 3])), .message("1"), .close,
            ])
        #expect(result.error == nil)
    }

    @Test func payloadDecodesFromTheReaderIndex() {
        var body = ByteBuffer(string: "xx4a\u{1E}4b")
        body.moveReaderIndex(forwardBy: 2)
        let result = EngineCodec.decodePayload(body)
        #expect(result.packets == [.message("a"), .message("b")])
        #expect(result.error == nil)
    }

    @Test func emptyBodyIsAnEmptyPacket() {
        let result = decodePayload("")
        #expect(result.packets.isEmpty)
        #expect(result.error == .emptyPacket)
    }

    @Test func emptyElementStopsDecoding() {
        #expect(decodePayload("4a\u{1E}").packets == [.message("a")])
        #expect(decodePayload("4a\u{1E}").error == .emptyPacket)
        #expect(decodePayload("\u{1E}4a").packets.isEmpty)
        #expect(decodePayload("\u{1E}4a").error == .emptyPacket)
        // Nothing after the bad element is returned.
        #expect(decodePayload("4a\u{1E}\u{1E}4b").packets == [.message("a")])
        #expect(decodePayload("4a\u{1E}\u{1E}4b").error == .emptyPacket)
    }

    @Test func firstBadElementStopsDecodingAndKeepsEarlierPackets() {
        let unknown = decodePayload(["4a", "4b", "9", "4c"].joined(separator: separator))
        #expect(unknown.packets == [.message("a"), .message("b")])
        #expect(unknown.error == .unknownPacketType(UInt8(ascii: "9")))

        let base64 = decodePayload(["4a", "bAQI", "4c"].joined(separator: separator))
        #expect(base64.packets == [.message("a")])
        #expect(base64.error == .invalidBase64)

        var body = ByteBuffer(string: "4a\u{1E}4")
        body.writeBytes([0xFF])
        body.writeString("\u{1E}4c")
        let utf8 = EngineCodec.decodePayload(body)
        #expect(utf8.packets == [.message("a")])
        #expect(utf8.error == .invalidUTF8)
    }

    @Test func payloadOfThreeMessagesEncodesExactly() {
        let body = EngineCodec.encodePayload([.message("test1"), .message("test2"), .message("test3")])
        #expect(body.bytes == Array("4test1\u{1E}4test2\u{1E}4test3".utf8))
    }

    @Test func payloadOfTextAndBinaryEncodesExactly() {
        let body = EngineCodec.encodePayload([.message("hello"), .message(ByteBuffer(bytes: [1, 2, 3, 4]))])
        #expect(String(buffer: body) == "4hello\u{1E}bAQIDBA==")
    }

    @Test func payloadOfOnePacketHasNoSeparator() {
        #expect(String(buffer: EngineCodec.encodePayload([EnginePacket.ping])) == "2")
        #expect(String(buffer: EngineCodec.encodePayload([EnginePacket.noop])) == "6")
    }

    @Test func emptyPayloadEncodesToNothing() {
        #expect(EngineCodec.encodePayload([EnginePacket]()).readableBytes == 0)
    }

    @Test func binaryPaddingVariesWithLengthInsideAPayload() {
        let body = EngineCodec.encodePayload([
            .message(ByteBuffer(bytes: [1])), .message(ByteBuffer(bytes: [1, 2])), .message(ByteBuffer(bytes: [1, 2, 3])),
        ])
        #expect(String(buffer: body) == "bAQ==\u{1E}bAQI=\u{1E}bAQID")
    }

    @Test func everyPacketTypeRoundTripsThroughAPayload() {
        let packets = Self.textPackets.map { $0.1 } + [.message(ByteBuffer(bytes: [0, 0x1E, 0xFF])), .message(ByteBuffer())]
        let result = EngineCodec.decodePayload(EngineCodec.encodePayload(packets))
        #expect(result.packets == packets)
        #expect(result.error == nil)
    }

    @Test func payloadDecodesTheSameAsItsElementsOneByOne() throws {
        let elements = ["4test1", "bAQIDBA==", "2probe", "6", "4"]
        let batched = decodePayload(elements.joined(separator: separator))
        let single = try elements.map { try decode($0) }
        #expect(batched.packets == single)
        #expect(batched.error == nil)
    }

    // MARK: Fuzz

    @Test func randomAndMutatedPayloadsNeverCrashAndAcceptedOnesRoundTrip() {
        var random = SeededGenerator(seed: 0xE10_0004)
        let alphabet = Array("0123456789bAQIDBZg=+/ahelo[]\"{}".utf8) + [0x1E, 0x1E, 0xC3, 0xA9]
        let seeds = [
            "4test1\u{1E}4test2\u{1E}4test3", "4hello\u{1E}bAQIDBA==", "2probe", "0" + Self.openPayload,
            #"451-["baz",{"_placeholder":true,"num":0}]"# + "\u{1E}bAQID",
        ].map { Array($0.utf8) }
        var accepted = 0
        for round in 0..<4000 {
            let input =
                round.isMultiple(of: 2)
                ? random.bytes(maxCount: 24, alphabet: alphabet)
                : random.mutate(seeds[round / 2 % seeds.count], alphabet: alphabet)
            let result = EngineCodec.decodePayload(ByteBuffer(bytes: input))
            #expect(result.packets.count <= input.count)
            guard result.error == nil else { continue }
            accepted += 1
            let again = EngineCodec.decodePayload(EngineCodec.encodePayload(result.packets))
            #expect(again.packets == result.packets, "input \(input)")
            #expect(again.error == nil)
        }
        #expect(accepted > 100)
    }
}
