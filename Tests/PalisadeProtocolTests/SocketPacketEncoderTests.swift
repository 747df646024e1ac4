import NIOCore
import PalisadeJSON
import PalisadeProtocol
import Testing

private func placeholder(_ number: Int) -> JSONValue {
    .object([JSONMember("_placeholder", .bool(true)), JSONMember("num", JSONValue(number))])
}

private func attachment(_ bytes: UInt8...) -> ByteBuffer { ByteBuffer(bytes: bytes) }

/// The text header of an encoded packet; records an issue when the first message is not text.
private func header(of packet: SocketPacket) -> String? {
    guard case .text(let text)? = SocketPacketEncoder.encode(packet).first?.payload else {
        Issue.record("first message is not text")
        return nil
    }
    return text
}

/// The binary attachments after the header.
private func attachments(of packet: SocketPacket) -> [ByteBuffer] {
    SocketPacketEncoder.encode(packet).dropFirst().compactMap { message in
        guard message.kind == .message, case .binary(let bytes) = message.payload else {
            Issue.record("attachment is not a binary message")
            return nil
        }
        return bytes
    }
}

@Suite struct SocketPacketEncoderTests {
    // MARK: Every type, byte for byte (§2.2)

    @Test(arguments: SocketPacketDecoderTests.wireExamples.filter { $0.attachments == 0 })
    func textWireExampleEncodes(example: WireCase) {
        #expect(header(of: example.packet) == example.header)
        #expect(SocketPacketEncoder.encode(example.packet).count == 1)
    }

    @Test func connectEncodes() {
        #expect(header(of: SocketPacket(.connect)) == "0")
        #expect(header(of: SocketPacket(.connect, namespace: "/admin")) == "0/admin,")
        #expect(header(of: SocketPacket(.connect, data: .object(["sid": .string("x")]))) == #"0{"sid":"x"}"#)
        #expect(
            header(of: SocketPacket(.connect, namespace: "/admin", data: .object(["sid": .string("oSO0OpakMV_3jnilAAAA")])))
                == #"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#)
    }

    @Test func disconnectEncodes() {
        #expect(header(of: SocketPacket(.disconnect)) == "1")
        #expect(header(of: SocketPacket(.disconnect, namespace: "/admin")) == "1/admin,")
    }

    @Test func eventEncodes() {
        #expect(header(of: .event("foo", [])) == #"2["foo"]"#)
        #expect(header(of: .event("bar", [], namespace: "/admin")) == #"2/admin,["bar"]"#)
        #expect(header(of: .event("foo", [], ackId: 12)) == #"212["foo"]"#)
        #expect(header(of: .event("foo", [.number("1"), .string("2")], namespace: "/admin", ackId: 7)) == #"2/admin,7["foo",1,"2"]"#)
    }

    @Test func ackEncodes() {
        #expect(header(of: SocketPacket(.ack, namespace: "/admin", ackId: 13, data: .array([.string("bar")]))) == #"3/admin,13["bar"]"#)
        #expect(header(of: SocketPacket(.ack, ackId: 456, data: .array([]))) == "3456[]")
    }

    @Test func connectErrorEncodes() {
        #expect(
            header(of: SocketPacket(.connectError, data: .object(["message": .string("Not authorized")])))
                == #"4{"message":"Not authorized"}"#)
        #expect(
            header(of: SocketPacket(.connectError, namespace: "/random", data: .object(["message": .string("Invalid namespace")])))
                == #"4/random,{"message":"Invalid namespace"}"#)
        let withData = SocketPacket(.connectError, data: .object(["message": .string("no"), "data": .object(["code": JSONValue(7)])]))
        #expect(header(of: withData) == #"4{"message":"no","data":{"code":7}}"#)
    }

    @Test func binaryEventEncodesWithPlaceholderAndAttachment() {
        let packet = SocketPacket.event("baz", [.binary(attachment(1, 2, 3, 4))])
        #expect(header(of: packet) == #"51-["baz",{"_placeholder":true,"num":0}]"#)
        #expect(attachments(of: packet) == [attachment(1, 2, 3, 4)])
    }

    @Test func binaryAckEncodesWithAckIdAfterTheCount() {
        let packet = SocketPacket(.ack, ackId: 15, data: .array([.string("bar"), .binary(attachment(9))]))
        #expect(header(of: packet) == #"61-15["bar",{"_placeholder":true,"num":0}]"#)
        #expect(attachments(of: packet) == [attachment(9)])
    }

    @Test func binaryPacketsPutTheNamespaceAfterTheCount() {
        #expect(
            header(of: .event("baz", [.binary(attachment(1))], namespace: "/admin")) == #"51-/admin,["baz",{"_placeholder":true,"num":0}]"#)
        #expect(
            header(of: SocketPacket(.ack, namespace: "/admin", ackId: 15, data: .array([.binary(attachment(1))])))
                == #"61-/admin,15[{"_placeholder":true,"num":0}]"#)
    }

    // MARK: Namespaces and ack ids

    @Test func mainNamespaceIsNeverWritten() {
        for packet in [SocketPacket(.connect), SocketPacket(.disconnect), .event("a", []), SocketPacket(.ack, ackId: 1, data: .array([]))] {
            #expect(header(of: packet)?.contains("/") == false)
        }
    }

    @Test func customNamespaceAlwaysGetsItsComma() {
        #expect(header(of: SocketPacket(.connect, namespace: "/custom")) == "0/custom,")
        #expect(header(of: SocketPacket(.disconnect, namespace: "/custom")) == "1/custom,")
        #expect(header(of: SocketPacket(.connect, namespace: "/custom", data: .object([]))) == "0/custom,{}")
    }

    @Test func ackIdZeroIsWritten() {
        #expect(header(of: .event("foo", [], ackId: 0)) == #"20["foo"]"#)
        #expect(header(of: SocketPacket(.ack, ackId: 0, data: .array([]))) == "30[]")
        #expect(header(of: SocketPacket(.ack, namespace: "/admin", ackId: 0, data: .array([]))) == "3/admin,0[]")
    }

    // MARK: Binary

    @Test func eventWithoutBinaryStaysAnEvent() {
        let packet = SocketPacket.event("m", [.object(["a": .array([.number("1")])])], ackId: 3)
        #expect(header(of: packet) == #"23["m",{"a":[1]}]"#)
        #expect(SocketPacketEncoder.encode(packet).count == 1)
    }

    @Test func ackWithoutBinaryStaysAnAck() {
        let packet = SocketPacket(.ack, ackId: 3, data: .array([.string("x")]))
        #expect(header(of: packet) == #"33["x"]"#)
        #expect(SocketPacketEncoder.encode(packet).count == 1)
    }

    @Test func binaryKindWithoutBinaryIsSentAsPlainText() {
        // A decoded `50-[...]` relayed onwards must not go out as 5/6 (§2.6 step 4).
        #expect(header(of: SocketPacket(.binaryEvent, data: .array([.string("ev")]))) == #"2["ev"]"#)
        #expect(header(of: SocketPacket(.binaryAck, ackId: 4, data: .array([]))) == "34[]")
        #expect(SocketPacketEncoder.encode(SocketPacket(.binaryEvent, data: .array([.string("ev")]))).count == 1)
    }

    @Test func binaryKindWithBinaryStaysBinary() {
        #expect(
            header(of: SocketPacket(.binaryEvent, data: .array([.string("ev"), .binary(attachment(1))])))
                == #"51-["ev",{"_placeholder":true,"num":0}]"#)
        #expect(
            header(of: SocketPacket(.binaryAck, ackId: 2, data: .array([.binary(attachment(1))])))
                == #"61-2[{"_placeholder":true,"num":0}]"#)
    }

    @Test func placeholdersAreNumberedDepthFirstThroughObjectsAndArrays() {
        let packet = SocketPacket.event(
            "m",
            [
                .binary(attachment(0)),
                .object([
                    JSONMember("x", .array([.string("s"), .binary(attachment(1))])),
                    JSONMember("y", .binary(attachment(2))),
                    JSONMember("z", .object(["deep": .array([.array([.binary(attachment(3))])])])),
                ]),
                .binary(attachment(4)),
            ])
        let p = { (n: Int) in JSONWriter.string(placeholder(n)) }
        #expect(
            header(of: packet)
                == #"55-["m","# + p(0) + #",{"x":["s","# + p(1) + #"],"y":"# + p(2) + #","z":{"deep":[["# + p(3) + #"]]}},"# + p(4) + "]")
        #expect(attachments(of: packet) == (0...4).map { attachment(UInt8($0)) })
    }

    @Test func placeholderIsExactlyTheReferenceObject() {
        let packet = SocketPacket.event("a", [.binary(attachment(1)), .binary(attachment(2))])
        #expect(header(of: packet) == #"52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
    }

    @Test func attachmentsFollowTheHeaderAsBinaryMessages() {
        let messages = SocketPacketEncoder.encode(.event("message-back", [.binary(attachment(1, 2, 3)), .binary(attachment(4, 5, 6))]))
        #expect(
            messages == [
                .message(#"52-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#),
                .message(attachment(1, 2, 3)),
                .message(attachment(4, 5, 6)),
            ])
    }

    @Test func emptyAttachmentIsStillAnAttachment() {
        let packet = SocketPacket.event("e", [.binary(ByteBuffer())])
        #expect(header(of: packet) == #"51-["e",{"_placeholder":true,"num":0}]"#)
        #expect(attachments(of: packet) == [ByteBuffer()])
    }

    @Test func tenAttachmentsGiveATwoDigitCount() {
        let packet = SocketPacket.event("many", (0..<10).map { JSONValue.binary(attachment(UInt8($0))) })
        #expect(header(of: packet)?.hasPrefix(#"510-["many",{"_placeholder":true,"num":0},"#) == true)
        #expect(header(of: packet)?.hasSuffix(#"{"_placeholder":true,"num":9}]"#) == true)
        #expect(attachments(of: packet).count == 10)
    }

    // MARK: Whole frames

    @Test(arguments: [
        ("40", SocketPacket(.connect)),
        ("40/admin,", SocketPacket(.connect, namespace: "/admin")),
        (#"40{"token":"123"}"#, SocketPacket(.connect, data: .object(["token": .string("123")]))),
        (#"44{"message":"Not authorized"}"#, SocketPacket(.connectError, data: .object(["message": .string("Not authorized")]))),
        (#"42["foo"]"#, .event("foo", [])),
        (#"42/admin,["bar"]"#, .event("bar", [], namespace: "/admin")),
        (#"4212["foo"]"#, .event("foo", [], ackId: 12)),
        (#"43/admin,13["bar"]"#, SocketPacket(.ack, namespace: "/admin", ackId: 13, data: .array([.string("bar")]))),
        ("41", SocketPacket(.disconnect)),
        ("41/admin,", SocketPacket(.disconnect, namespace: "/admin")),
    ])
    func engineFrameIsByteExact(frame: String, packet: SocketPacket) {
        let body = EngineCodec.encodePayload(SocketPacketEncoder.encode(packet))
        #expect(String(buffer: body) == frame)
    }

    @Test func pollingPayloadCarriesAttachmentsAsBase64() {
        let packet = SocketPacket.event("message-back", [.binary(attachment(1, 2, 3)), .binary(attachment(4, 5, 6))])
        let body = EngineCodec.encodePayload(SocketPacketEncoder.encode(packet))
        #expect(
            String(buffer: body)
                == #"452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"# + "\u{1E}bAQID\u{1E}bBAUG")
    }

    @Test func binaryAckPollingPayloadIsByteExact() {
        let packet = SocketPacket(.ack, ackId: 15, data: .array([.string("bar"), .binary(attachment(1, 2, 3, 4))]))
        let body = EngineCodec.encodePayload(SocketPacketEncoder.encode(packet))
        #expect(String(buffer: body) == #"461-15["bar",{"_placeholder":true,"num":0}]"# + "\u{1E}bAQIDBA==")
    }

    @Test func jsonInEventsIsCompactWithRawUnicodeAndSlash() {
        #expect(header(of: .event("chat", [.string("a/b é 😀"), .string("line\nbreak")])) == "2[\"chat\",\"a/b é 😀\",\"line\\nbreak\"]")
    }

    // MARK: Round trips

    @Test func binaryPacketsComeBackThroughTheDecoder() throws {
        let sent = [
            SocketPacket.event(
                "m", [.binary(attachment(1)), .object(["k": .array([.binary(attachment(2))])])], namespace: "/admin", ackId: 5),
            SocketPacket(.ack, ackId: 0, data: .array([.binary(attachment(3)), .string("x")])),
        ]
        var decoder = SocketPacketDecoder()
        var received: [SocketPacket] = []
        for packet in sent {
            for message in SocketPacketEncoder.encode(packet) {
                if let packet = try decoder.receive(message.payload) { received.append(packet) }
            }
        }
        #expect(received.map(\.kind) == [.binaryEvent, .binaryAck])
        #expect(received.map(\.data) == sent.map(\.data))
        #expect(received.map(\.namespace) == sent.map(\.namespace))
        #expect(received.map(\.ackId) == sent.map(\.ackId))
    }

    @Test(arguments: SocketPacketDecoderTests.wireExamples.filter { $0.attachments == 0 })
    func textPacketsComeBackThroughTheDecoder(example: WireCase) throws {
        var decoder = SocketPacketDecoder()
        let messages = SocketPacketEncoder.encode(example.packet)
        #expect(try decoder.receive(messages[0].payload) == example.packet)
    }

    // MARK: Wire frames

    @Test func framesAreTheEncodedMessagesWithRoomForAWebSocketHeader() {
        let packets = [
            SocketPacket.event(
                "m", [.binary(attachment(1)), .object(["k": .array([.binary(attachment(2))])])], namespace: "/admin", ackId: 5),
            SocketPacket(.ack, ackId: 0, data: .array([.string(String(repeating: "x", count: 5000))])),
            SocketPacket.event("chat", [.string("a/b é 😀")]),
            SocketPacket(.connect, namespace: "/", data: .object(["sid": .string("abc")])),
        ]
        for packet in packets {
            let frames = SocketPacketEncoder.frames(packet)
            #expect(frames == SocketPacketEncoder.encode(packet).map(EngineFrame.init))
            guard case .text(let text)? = frames.first else {
                Issue.record("no text frame first")
                continue
            }
            #expect(text.readerIndex == SocketPacketEncoder.webSocketHeadroom, "headroom kept through the buffer's growth")
        }
    }
}
