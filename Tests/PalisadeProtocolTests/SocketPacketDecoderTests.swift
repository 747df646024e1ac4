import NIOCore
import PalisadeJSON
import PalisadeProtocol
import PalisadeTestSupport
import Testing

private func placeholder(_ number: Int) -> JSONValue {
    .object([JSONMember("_placeholder", .bool(true)), JSONMember("num", JSONValue(number))])
}

private func header(_ text: String) throws(SocketDecodingError) -> SocketPacket {
    try SocketPacketDecoder.decodeHeader(text).0
}

private func attachment(_ bytes: UInt8...) -> ByteBuffer { ByteBuffer(bytes: bytes) }

/// One Socket.IO header from §2.2 (the EIO message payload, without the leading `4`).
struct WireCase: Sendable, CustomTestStringConvertible {
    var header: String
    var packet: SocketPacket
    var attachments = 0

    var testDescription: String { header }
}

@Suite struct SocketPacketDecoderTests {
    static let wireExamples: [WireCase] = [
        WireCase(header: "0", packet: SocketPacket(.connect)),
        WireCase(header: "0/admin,", packet: SocketPacket(.connect, namespace: "/admin")),
        WireCase(header: #"0{"token":"123"}"#, packet: SocketPacket(.connect, data: .object(["token": .string("123")]))),
        WireCase(header: #"0{"sid":"x"}"#, packet: SocketPacket(.connect, data: .object(["sid": .string("x")]))),
        WireCase(
            header: #"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#,
            packet: SocketPacket(.connect, data: .object(["sid": .string("wZX3oN0bSVIhsaknAAAI")]))),
        WireCase(
            header: #"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#,
            packet: SocketPacket(.connect, namespace: "/admin", data: .object(["sid": .string("oSO0OpakMV_3jnilAAAA")]))),
        WireCase(header: "0{}", packet: SocketPacket(.connect, data: .object([]))),
        WireCase(header: "1", packet: SocketPacket(.disconnect)),
        WireCase(header: "1/admin,", packet: SocketPacket(.disconnect, namespace: "/admin")),
        WireCase(header: #"2["foo"]"#, packet: .event("foo", [])),
        WireCase(header: #"2/admin,["bar"]"#, packet: .event("bar", [], namespace: "/admin")),
        WireCase(header: #"212["foo"]"#, packet: .event("foo", [], ackId: 12)),
        WireCase(
            header: #"2456["message-with-ack",1,"2",{"3":[false]}]"#,
            packet: .event("message-with-ack", [.number("1"), .string("2"), .object(["3": .array([.bool(false)])])], ackId: 456)),
        WireCase(header: #"3/admin,13["bar"]"#, packet: SocketPacket(.ack, namespace: "/admin", ackId: 13, data: .array([.string("bar")]))),
        WireCase(header: "3456[]", packet: SocketPacket(.ack, ackId: 456, data: .array([]))),
        WireCase(
            header: #"4{"message":"Not authorized"}"#,
            packet: SocketPacket(.connectError, data: .object(["message": .string("Not authorized")]))),
        WireCase(
            header: #"4/random,{"message":"Invalid namespace"}"#,
            packet: SocketPacket(.connectError, namespace: "/random", data: .object(["message": .string("Invalid namespace")]))),
        WireCase(
            header: #"51-["baz",{"_placeholder":true,"num":0}]"#,
            packet: SocketPacket(.binaryEvent, data: .array([.string("baz"), placeholder(0)])), attachments: 1),
        WireCase(
            header: #"61-15["bar",{"_placeholder":true,"num":0}]"#,
            packet: SocketPacket(.binaryAck, ackId: 15, data: .array([.string("bar"), placeholder(0)])), attachments: 1),
        WireCase(
            header: #"52-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
            packet: SocketPacket(.binaryEvent, data: .array([.string("message-back"), placeholder(0), placeholder(1)])),
            attachments: 2),
    ]

    // MARK: Headers

    @Test(arguments: wireExamples)
    func wireExampleDecodes(example: WireCase) throws {
        let (packet, count) = try SocketPacketDecoder.decodeHeader(example.header)
        #expect(packet == example.packet)
        #expect(count == example.attachments)
    }

    @Test(arguments: wireExamples)
    func engineMessageCarriesTheSocketPacket(example: WireCase) throws {
        let message = try EngineCodec.decode(text: ByteBuffer(string: "4" + example.header))
        #expect(message == .message(example.header))
        var decoder = SocketPacketDecoder()
        let packet = try decoder.receive(message.payload)
        if example.attachments == 0 {
            #expect(packet == example.packet)
            #expect(!decoder.isAwaitingAttachments)
        } else {
            #expect(packet == nil)
            #expect(decoder.isAwaitingAttachments)
        }
    }

    @Test(arguments: [("0/custom", SocketPacket.Kind.connect), ("1/custom", .disconnect), ("0/random", .connect)])
    func namespaceWithoutCommaRunsToTheEnd(text: String, kind: SocketPacket.Kind) throws {
        let packet = try header(text)
        #expect(packet == SocketPacket(kind, namespace: String(text.dropFirst())))
    }

    @Test func namespaceIsTakenVerbatim() throws {
        #expect(try header("0/admin?x=1,").namespace == "/admin?x=1")
        #expect(try header("0/é,").namespace == "/é")
        #expect(try header("0/,").namespace == "/")
        #expect(try header("0/a/b,{}") == SocketPacket(.connect, namespace: "/a/b", data: .object([])))
    }

    @Test func ackIdZeroIsValid() throws {
        #expect(try header(#"20["foo"]"#) == .event("foo", [], ackId: 0))
        #expect(try header("30[]") == SocketPacket(.ack, ackId: 0, data: .array([])))
        #expect(try header(#"3/admin,0[]"#) == SocketPacket(.ack, namespace: "/admin", ackId: 0, data: .array([])))
    }

    @Test func largestJavaScriptSafeAckIdIsValid() throws {
        #expect(try header(#"29007199254740992["a"]"#).ackId == 9_007_199_254_740_992)
    }

    @Test func eventWithNumericNameIsAccepted() throws {
        let packet = try header(#"2[1,"a"]"#)
        #expect(packet.eventNameAndArguments?.name == "1")
        #expect(packet.eventNameAndArguments?.arguments.elementsEqual([.string("a")]) == true)
        #expect(try header("2[-1.5]").eventNameAndArguments?.name == "-1.5")
    }

    @Test func eventNameAndArgumentsSplitsTheArray() throws {
        let packet = try header(#"2/admin,7["chat",{"text":"hi"},2]"#)
        #expect(packet.eventNameAndArguments?.name == "chat")
        #expect(Array(packet.eventNameAndArguments?.arguments ?? []) == [.object(["text": .string("hi")]), .number("2")])
        #expect(try header("3[]").eventNameAndArguments == nil)
    }

    @Test(arguments: ["Connect", "connected", " connect", "disconnect_", "message", "error"])
    func eventNameCloseToAReservedOneIsAccepted(name: String) throws {
        #expect(try header(#"2[""# + name + #""]"#) == .event(name, []))
    }

    @Test func connectErrorWithStringPayloadIsAccepted() throws {
        #expect(try header(#"4"Unable to connect""#) == SocketPacket(.connectError, data: .string("Unable to connect")))
    }

    @Test func binaryHeaderWithTenAttachmentsIsAccepted() throws {
        let (packet, count) = try SocketPacketDecoder.decodeHeader(#"510-["a"]"#)
        #expect(packet.kind == .binaryEvent)
        #expect(count == 10)
    }

    @Test func binaryHeaderWithNamespaceAndAckId() throws {
        let (packet, count) = try SocketPacketDecoder.decodeHeader(#"61-/admin,15["bar",{"_placeholder":true,"num":0}]"#)
        #expect(packet == SocketPacket(.binaryAck, namespace: "/admin", ackId: 15, data: .array([.string("bar"), placeholder(0)])))
        #expect(count == 1)
    }

    @Test func whitespaceAroundThePayloadIsAllowed() throws {
        #expect(try header(#"2 ["a"] "#) == .event("a", []))
    }

    // MARK: Header errors

    @Test(arguments: ["", "7", "9[\"a\"]", "abc", "/admin,", "é", " 2[\"a\"]", "-1", "b"])
    func unknownPacketTypeIsRefused(text: String) {
        #expect(throws: SocketDecodingError.unknownPacketType) { _ = try header(text) }
    }

    @Test(arguments: [
        "2{}", "2[]", "2", #"2abc["a"]"#, "2[null]", "2[{}]", "2[[]]", "2[true]", #"2"foo""#, "2null",
        "2/admin,", "2/admin", #"2/admin["a"]"#, "2/admin,12", "212", #"2["a""#, #"2["a"]x"#, #"2["a"],"#,
    ])
    func eventWithoutANamedArrayIsRefused(text: String) {
        #expect(throws: SocketDecodingError.invalidPayload) { _ = try header(text) }
    }

    @Test(arguments: ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"])
    func eventWithReservedNameIsRefused(name: String) {
        #expect(throws: SocketDecodingError.reservedEventName(name)) { _ = try header(#"2[""# + name + #"",1]"#) }
        #expect(throws: SocketDecodingError.reservedEventName(name)) { _ = try header(#"2/admin,7[""# + name + #""]"#) }
        #expect(throws: SocketDecodingError.reservedEventName(name)) {
            _ = try header(#"51-[""# + name + #"",{"_placeholder":true,"num":0}]"#)
        }
    }

    @Test func reservedNamesAreTheSixOfTheReference() {
        #expect(
            SocketPacketDecoder.reservedEventNames == [
                "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
            ])
        for name in SocketPacketDecoder.reservedEventNames { #expect(SocketPacketDecoder.isReserved(name)) }
        for name in ["", "echo", "Connect", "connect ", "connec", "connect_errors", "newlistener"] {
            #expect(!SocketPacketDecoder.isReserved(name))
        }
    }

    @Test(arguments: ["1{}", "1[]", #"1"x""#, "1null", "1/admin,{}", "1/admin,[]", "1 "])
    func disconnectWithPayloadIsRefused(text: String) {
        #expect(throws: SocketDecodingError.invalidPayload) { _ = try header(text) }
    }

    @Test(arguments: ["0[]", "0null", #"0"x""#, "0[1]", "0true", "0/admin,[]", "0 1", "0{", #"0{"a":1}}"#])
    func connectWithPayloadThatIsNotAnObjectIsRefused(text: String) {
        #expect(throws: SocketDecodingError.invalidPayload) { _ = try header(text) }
    }

    @Test(arguments: ["3{}", #"3"x""#, "3null", "3", "3/admin,13", #"313{"a":1}"#, "61-{}", "60-"])
    func ackWithoutAnArrayIsRefused(text: String) {
        #expect(throws: SocketDecodingError.invalidPayload) { _ = try header(text) }
    }

    @Test(arguments: ["4[]", "4null", "4", "41", "4true", "4/admin,"])
    func connectErrorWithoutObjectOrStringIsRefused(text: String) {
        #expect(throws: SocketDecodingError.invalidPayload) { _ = try header(text) }
    }

    @Test(arguments: ["51-{}", "51-[]", "51-", #"51-"a""#, "51-[null]"])
    func binaryEventWithoutANamedArrayIsRefused(text: String) {
        #expect(throws: SocketDecodingError.invalidPayload) { _ = try header(text) }
    }

    @Test(arguments: [
        #"5["a"]"#, #"51["a"]"#, #"5-["a"]"#, #"5a-["a"]"#, "5", "6", "51", #"61["a"]"#,
        #"51000-["a"]"#, #"5/admin,1-["a"]"#, #"5 1-["a"]"#,
    ])
    func attachmentCountWithoutDashOrDigitsIsIllegal(text: String) {
        #expect(throws: SocketDecodingError.illegalAttachments) { _ = try header(text) }
    }

    @Test(arguments: [#"511-["a"]"#, #"5999-["a"]"#, "611-[]", #"520-["a"]"#])
    func moreThanTenAttachmentsIsRefused(text: String) {
        #expect(throws: SocketDecodingError.tooManyAttachments) { _ = try header(text) }
    }

    @Test(arguments: [
        "2" + String(repeating: "1", count: 17) + #"["a"]"#,  // longer than any JavaScript number
        #"29007199254740993["a"]"#,  // one past 2^53
        #"29999999999999999["a"]"#,
        #"2/admin,99999999999999999["a"]"#,
        "3" + String(repeating: "9", count: 40) + "[]",
    ])
    func ackIdTooLongIsRefused(text: String) {
        #expect(throws: SocketDecodingError.invalidAckId) { _ = try header(text) }
    }

    // MARK: Attachments

    @Test func textPacketIsReturnedAtOnce() throws {
        var decoder = SocketPacketDecoder()
        #expect(try decoder.receive(.text(#"2["foo"]"#)) == .event("foo", []))
        #expect(!decoder.isAwaitingAttachments)
    }

    @Test func binaryEventWaitsForItsAttachment() throws {
        var decoder = SocketPacketDecoder()
        #expect(try decoder.receive(.text(#"51-["baz",{"_placeholder":true,"num":0}]"#)) == nil)
        #expect(decoder.isAwaitingAttachments)
        let packet = try decoder.receive(.binary(attachment(1, 2, 3)))
        #expect(packet == SocketPacket(.binaryEvent, data: .array([.string("baz"), .binary(attachment(1, 2, 3))])))
        #expect(!decoder.isAwaitingAttachments)
    }

    @Test func attachmentsReplacePlaceholdersNestedInObjectsAndArrays() throws {
        var decoder = SocketPacketDecoder()
        let text =
            #"53-["ev",{"a":{"_placeholder":true,"num":1},"b":[{"_placeholder":true,"num":0},{"c":{"_placeholder":true,"num":2}}]},"x"]"#
        #expect(try decoder.receive(.text(text)) == nil)
        #expect(try decoder.receive(.binary(attachment(0))) == nil)
        #expect(try decoder.receive(.binary(attachment(1))) == nil)
        let packet = try decoder.receive(.binary(attachment(2)))
        #expect(
            packet
                == SocketPacket(
                    .binaryEvent,
                    data: .array([
                        .string("ev"),
                        .object([
                            JSONMember("a", .binary(attachment(1))),
                            JSONMember("b", .array([.binary(attachment(0)), .object(["c": .binary(attachment(2))])])),
                        ]),
                        .string("x"),
                    ])))
    }

    @Test func attachmentsArriveInDepthFirstOrder() throws {
        // What the reference encoder emits for ["m", b0, {"k": [b1]}, b2].
        var decoder = SocketPacketDecoder()
        let text = #"53-["m",{"_placeholder":true,"num":0},{"k":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":2}]"#
        _ = try decoder.receive(.text(text))
        _ = try decoder.receive(.binary(attachment(10)))
        _ = try decoder.receive(.binary(attachment(11)))
        let packet = try decoder.receive(.binary(attachment(12)))
        #expect(
            packet?.data
                == .array([
                    .string("m"), .binary(attachment(10)), .object(["k": .array([.binary(attachment(11))])]), .binary(attachment(12)),
                ]))
    }

    @Test func binaryAckIsReassembled() throws {
        var decoder = SocketPacketDecoder()
        #expect(try decoder.receive(.text(#"61-15["bar",{"_placeholder":true,"num":0}]"#)) == nil)
        let packet = try decoder.receive(.binary(attachment(4, 5, 6)))
        #expect(packet == SocketPacket(.binaryAck, ackId: 15, data: .array([.string("bar"), .binary(attachment(4, 5, 6))])))
    }

    @Test func binaryAckWithOnlyAnAttachmentIsReassembled() throws {
        var decoder = SocketPacketDecoder()
        _ = try decoder.receive(.text(#"61-/admin,0[{"_placeholder":true,"num":0}]"#))
        let packet = try decoder.receive(.binary(attachment()))
        #expect(packet == SocketPacket(.binaryAck, namespace: "/admin", ackId: 0, data: .array([.binary(attachment())])))
    }

    @Test func binaryPacketWithZeroAttachmentsIsDispatchedAtOnce() throws {
        var decoder = SocketPacketDecoder()
        #expect(try decoder.receive(.text(#"50-["ev"]"#)) == SocketPacket(.binaryEvent, data: .array([.string("ev")])))
        #expect(!decoder.isAwaitingAttachments)
        #expect(try decoder.receive(.text("60-3[]")) == SocketPacket(.binaryAck, ackId: 3, data: .array([])))
    }

    @Test func tenAttachmentsAreReassembled() throws {
        var decoder = SocketPacketDecoder()
        let placeholders = (0..<10).map { JSONWriter.string(placeholder($0)) }.joined(separator: ",")
        #expect(try decoder.receive(.text(#"510-["many","# + placeholders + "]")) == nil)
        var packet: SocketPacket?
        for number in 0..<10 {
            #expect(packet == nil)
            packet = try decoder.receive(.binary(attachment(UInt8(number))))
        }
        let expected: [JSONValue] = [.string("many")] + (0..<10).map { JSONValue.binary(attachment(UInt8($0))) }
        #expect(packet?.data == .array(expected))
    }

    /// The reference parser lets two placeholders share an attachment; no client sends that, and
    /// each reference would become a copy wherever the arguments are converted (a Lua policy's are).
    @Test func sameAttachmentReferencedTwiceIsRefused() throws {
        var decoder = SocketPacketDecoder()
        _ = try decoder.receive(.text(#"51-["a",{"_placeholder":true,"num":0},[{"_placeholder":true,"num":0}]]"#))
        #expect(throws: SocketDecodingError.repeatedPlaceholder) { _ = try decoder.receive(.binary(attachment(7))) }
        #expect(!decoder.isAwaitingAttachments)
    }

    @Test func objectThatIsNotAPlaceholderIsLeftAlone() throws {
        var decoder = SocketPacketDecoder()
        let text = #"51-["a",{"_placeholder":false,"num":0},{"num":0},{"_placeholder":"true","num":0},{"_placeholder":true,"num":0}]"#
        _ = try decoder.receive(.text(text))
        let packet = try decoder.receive(.binary(attachment(1)))
        #expect(
            packet?.data
                == .array([
                    .string("a"),
                    .object([JSONMember("_placeholder", .bool(false)), JSONMember("num", .number("0"))]),
                    .object(["num": .number("0")]),
                    .object([JSONMember("_placeholder", .string("true")), JSONMember("num", .number("0"))]),
                    .binary(attachment(1)),
                ]))
    }

    @Test func decoderCarriesOnAfterABinaryPacket() throws {
        var decoder = SocketPacketDecoder()
        _ = try decoder.receive(.text(#"51-["a",{"_placeholder":true,"num":0}]"#))
        _ = try decoder.receive(.binary(attachment(1)))
        #expect(try decoder.receive(.text(#"2["b"]"#)) == .event("b", []))
        #expect(try decoder.receive(.text(#"51-["c",{"_placeholder":true,"num":0}]"#)) == nil)
        #expect(try decoder.receive(.binary(attachment(2)))?.data == .array([.string("c"), .binary(attachment(2))]))
    }

    @Test func messagesFedOneAtATimeYieldPacketsInOrder() throws {
        let messages: [EnginePacket.Payload] = [
            .text("0"),
            .text(#"2["a"]"#),
            .text(#"52-/admin,4["b",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#),
            .binary(attachment(1)),
            .binary(attachment(2)),
            .text("3/admin,9[]"),
            .text(#"61-9[{"_placeholder":true,"num":0}]"#),
            .binary(attachment(3)),
            .text("1"),
        ]
        var decoder = SocketPacketDecoder()
        var packets: [SocketPacket] = []
        for message in messages {
            if let packet = try decoder.receive(message) { packets.append(packet) }
        }
        #expect(
            packets == [
                SocketPacket(.connect),
                .event("a", []),
                SocketPacket(
                    .binaryEvent, namespace: "/admin", ackId: 4,
                    data: .array([.string("b"), .binary(attachment(1)), .binary(attachment(2))])),
                SocketPacket(.ack, namespace: "/admin", ackId: 9, data: .array([])),
                SocketPacket(.binaryAck, ackId: 9, data: .array([.binary(attachment(3))])),
                SocketPacket(.disconnect),
            ])
    }

    @Test func pollingPayloadWithAttachmentsDecodesEndToEnd() throws {
        let body = ByteBuffer(
            string: #"452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"# + "\u{1E}bAQID\u{1E}bBAUG")
        let (messages, error) = EngineCodec.decodePayload(body)
        #expect(error == nil)
        var decoder = SocketPacketDecoder()
        var packets: [SocketPacket] = []
        for message in messages {
            if let packet = try decoder.receive(message.payload) { packets.append(packet) }
        }
        #expect(
            packets == [
                SocketPacket(
                    .binaryEvent, data: .array([.string("message-back"), .binary(attachment(1, 2, 3)), .binary(attachment(4, 5, 6))]))
            ])
    }

    // MARK: Attachment errors

    @Test func binaryWhenNoneExpectedIsRefused() throws {
        var decoder = SocketPacketDecoder()
        #expect(throws: SocketDecodingError.unexpectedBinary) { _ = try decoder.receive(.binary(attachment(1))) }
        _ = try decoder.receive(.text(#"51-["a",{"_placeholder":true,"num":0}]"#))
        _ = try decoder.receive(.binary(attachment(1)))
        #expect(throws: SocketDecodingError.unexpectedBinary) { _ = try decoder.receive(.binary(attachment(2))) }
    }

    @Test func textWhileAttachmentsPendingIsRefused() throws {
        var decoder = SocketPacketDecoder()
        _ = try decoder.receive(.text(#"52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#))
        _ = try decoder.receive(.binary(attachment(1)))
        #expect(throws: SocketDecodingError.unexpectedText) { _ = try decoder.receive(.text(#"2["b"]"#)) }
    }

    @Test(arguments: [
        #"{"_placeholder":true,"num":1}"#,  // out of range: one attachment
        #"{"_placeholder":true,"num":-1}"#,
        #"{"_placeholder":true,"num":99999999999999999999}"#,
        #"{"_placeholder":true}"#,
        #"{"_placeholder":true,"num":"0"}"#,
        #"{"_placeholder":true,"num":0.5}"#,
        #"{"_placeholder":true,"num":null}"#,
    ])
    func badPlaceholderIsRefused(object: String) throws {
        var decoder = SocketPacketDecoder()
        _ = try decoder.receive(.text(#"51-["a","# + object + "]"))
        #expect(throws: SocketDecodingError.invalidPlaceholder) { _ = try decoder.receive(.binary(attachment(1))) }
    }

    @Test func badPlaceholderDeepInsideIsRefused() throws {
        var decoder = SocketPacketDecoder()
        _ = try decoder.receive(.text(#"62-[{"a":[{"_placeholder":true,"num":0},{"b":{"_placeholder":true,"num":2}}]}]"#))
        _ = try decoder.receive(.binary(attachment(1)))
        #expect(throws: SocketDecodingError.invalidPlaceholder) { _ = try decoder.receive(.binary(attachment(2))) }
    }

    @Test func attachmentNamedTwiceIsRefused() throws {
        var decoder = SocketPacketDecoder()
        _ = try decoder.receive(.text(#"52-["a",{"_placeholder":true,"num":1},[{"x":{"_placeholder":true,"num":1}}]]"#))
        _ = try decoder.receive(.binary(attachment(1)))
        #expect(throws: SocketDecodingError.repeatedPlaceholder) { _ = try decoder.receive(.binary(attachment(2))) }
        #expect(!decoder.isAwaitingAttachments)
    }

    @Test func everyAttachmentNamedOnceIsAccepted() throws {
        var decoder = SocketPacketDecoder()
        _ = try decoder.receive(.text(#"52-["a",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]"#))
        _ = try decoder.receive(.binary(attachment(1)))
        let packet = try #require(try decoder.receive(.binary(attachment(2))))
        guard case .array(let items)? = packet.data, items.count == 3, case .binary = items[1], case .binary = items[2] else {
            Issue.record("attachments not substituted: \(String(describing: packet.data))")
            return
        }
    }

    @Test func decoderIsNotLeftWaitingAfterABadPlaceholder() throws {
        var decoder = SocketPacketDecoder()
        _ = try decoder.receive(.text(#"51-["a",{"_placeholder":true,"num":5}]"#))
        #expect(throws: SocketDecodingError.invalidPlaceholder) { _ = try decoder.receive(.binary(attachment(1))) }
        #expect(!decoder.isAwaitingAttachments)
        #expect(throws: SocketDecodingError.unexpectedBinary) { _ = try decoder.receive(.binary(attachment(2))) }
    }

    @Test func headerErrorsComeThroughReceive() {
        var decoder = SocketPacketDecoder()
        #expect(throws: SocketDecodingError.tooManyAttachments) { _ = try decoder.receive(.text(#"511-["a"]"#)) }
        #expect(throws: SocketDecodingError.invalidPayload) { _ = try decoder.receive(.text("2{}")) }
        #expect(throws: SocketDecodingError.reservedEventName("connect")) { _ = try decoder.receive(.text(#"2["connect"]"#)) }
        #expect(!decoder.isAwaitingAttachments)
    }

    // MARK: Fuzz

    private static let alphabet = Array(#"0123456-/,adminfoo[]{}":_placeholdertruenum 9"#.utf8) + [0xC3, 0xA9]

    @Test func randomAndMutatedHeadersNeverCrashAndAcceptedOnesRoundTrip() throws {
        var random = SeededGenerator(seed: 0x50C_0005)
        let seeds = Self.wireExamples.map { Array($0.header.utf8) } + [Array(#"53-/a,1[{"_placeholder":true,"num":2}]"#.utf8)]
        var accepted = 0
        for round in 0..<4000 {
            let bytes =
                round.isMultiple(of: 2)
                ? random.bytes(maxCount: 20, alphabet: Self.alphabet)
                : random.mutate(seeds[round / 2 % seeds.count], alphabet: Self.alphabet)
            let text = String(decoding: bytes, as: UTF8.self)
            guard let result = try? SocketPacketDecoder.decodeHeader(text) else { continue }
            let (packet, count) = result
            accepted += 1
            #expect(count >= 0 && count <= SocketPacketDecoder.maxAttachments)
            guard packet.kind != .binaryEvent, packet.kind != .binaryAck else { continue }
            // Whatever is accepted must survive our own encoder unchanged.
            let encoded = SocketPacketEncoder.encode(packet)
            #expect(encoded.count == 1)
            guard case .text(let again)? = encoded.first?.payload else {
                Issue.record("no text header for \(text)")
                continue
            }
            #expect(try header(again) == packet, "input \(text)")
        }
        #expect(accepted > 100)
    }

    @Test func randomMessageSequencesNeverCrash() {
        var random = SeededGenerator(seed: 0x50C_0006)
        let texts = Self.wireExamples.map(\.header) + [#"53-["a",{"_placeholder":true,"num":2}]"#, "2{}", #"510-["x"]"#]
        var decoder = SocketPacketDecoder()
        var decoded = 0
        for _ in 0..<3000 {
            let message: EnginePacket.Payload =
                Int.random(in: 0..<3, using: &random) == 0
                ? .binary(ByteBuffer(bytes: random.bytes(maxCount: 4, alphabet: [0, 1])))
                : .text(texts.randomElement(using: &random)!)
            // A real connection closes on an error; here the same decoder goes on, to
            // show that no error leaves it in a state that crashes.
            if (try? decoder.receive(message)) != nil { decoded += 1 }
        }
        #expect(decoded > 50)
    }
}
