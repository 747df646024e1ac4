import NIOCore
import PalisadeProtocol
import PalisadeTestSupport
import Testing

private func encoded(_ bytes: [UInt8]) -> String {
    var output = ByteBuffer()
    Base64.encode(ByteBuffer(bytes: bytes), into: &output)
    return String(buffer: output)
}

@Suite struct Base64Tests {
    /// RFC 4648 §10, plus the bytes the Engine.IO suite and reference use.
    static let vectors: [([UInt8], String)] = [
        ([], ""),
        (Array("f".utf8), "Zg=="),
        (Array("fo".utf8), "Zm8="),
        (Array("foo".utf8), "Zm9v"),
        (Array("foob".utf8), "Zm9vYg=="),
        (Array("fooba".utf8), "Zm9vYmE="),
        (Array("foobar".utf8), "Zm9vYmFy"),
        ([1, 2, 3, 4], "AQIDBA=="),
        ([1, 2, 3], "AQID"),
        ([4, 5, 6], "BAUG"),
        ([0xFB, 0xFF], "+/8="),
        ([0x00], "AA=="),
        ([0xFF, 0xFF, 0xFF], "////"),
    ]

    @Test(arguments: vectors)
    func encodingMatchesTheStandardWithPadding(plain: [UInt8], encoded expected: String) {
        #expect(encoded(plain) == expected)
    }

    @Test(arguments: vectors)
    func decodingMatchesTheStandard(plain: [UInt8], encoded text: String) {
        #expect(Base64.decode(text.utf8)?.bytes == plain)
    }

    @Test func encodeAppendsAfterExistingOutput() {
        var output = ByteBuffer(string: "b")
        Base64.encode(ByteBuffer(bytes: [1, 2, 3, 4]), into: &output)
        #expect(String(buffer: output) == "bAQIDBA==")
    }

    @Test func encodeReadsOnlyTheReadableBytes() {
        var input = ByteBuffer(bytes: [9, 9, 1, 2, 3])
        input.moveReaderIndex(forwardBy: 2)
        var output = ByteBuffer()
        Base64.encode(input, into: &output)
        #expect(String(buffer: output) == "AQID")
        #expect(input.readableBytes == 3)
    }

    @Test func decodeAcceptsAnyByteCollection() {
        #expect(Base64.decode(Array("AQIDBA==".utf8))?.bytes == [1, 2, 3, 4])
        #expect(Base64.decode(Array("xAQID".utf8).dropFirst())?.bytes == [1, 2, 3])
        #expect(Base64.decode(ByteBuffer(string: "BAUG").readableBytesView)?.bytes == [4, 5, 6])
    }

    @Test func everyByteValueRoundTrips() {
        let all = (0...255).map { UInt8($0) }
        let text = encoded(all)
        #expect(text.utf8.count == 344)
        #expect(Base64.decode(text.utf8)?.bytes == all)
    }

    @Test func randomBytesRoundTripAtEveryLength() {
        var random = SeededGenerator(seed: 0xBA5E_0064)
        for length in 0..<200 {
            let plain = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            let text = encoded(plain)
            #expect(text.utf8.count == (length + 2) / 3 * 4)
            #expect(Base64.decode(text.utf8)?.bytes == plain, "length \(length)")
        }
    }

    @Test(arguments: [
        "A", "AQI", "AQIDB",  // length not a multiple of 4
        "AQIDBA", "Zg", "Zm8",  // padding left out
        "AQ!D", "AQ-_", "AQ D", "AQI\n", "AQ\u{0}D", "AQ\u{E9}",  // outside the alphabet (incl. base64url)
        "AQ==AQID", "A===", "====", "AB=C", "=AQI", "AQ=D",  // misplaced padding
    ])
    func malformedBase64IsRefused(text: String) {
        #expect(Base64.decode(text.utf8) == nil)
    }

    @Test func highBytesAreRefused() {
        #expect(Base64.decode([0x41, 0x51, 0xFF, 0x3D] as [UInt8]) == nil)
        #expect(Base64.decode([0x80, 0x80, 0x80, 0x80] as [UInt8]) == nil)
    }

    @Test func emptyInputDecodesToNoBytes() {
        #expect(Base64.decode("".utf8)?.readableBytes == 0)
    }

    @Test func randomInputNeverCrashes() {
        var random = SeededGenerator(seed: 0xBA5E_0065)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=".utf8)
        var accepted = 0
        for _ in 0..<3000 {
            let input = random.bytes(maxCount: 16, alphabet: alphabet)
            guard let decoded = Base64.decode(input) else { continue }
            accepted += 1
            #expect(decoded.readableBytes <= input.count / 4 * 3)
        }
        #expect(accepted > 50)
    }

    // MARK: lenient (JWT segments read without verifying)

    private func lenient(_ text: String) -> [UInt8]? {
        Array(text.utf8).withUnsafeBufferPointer { Base64.decodeLenient($0) }
    }

    @Test(arguments: vectors)
    func lenientDecodingTakesPaddedAndUnpaddedStandardText(plain: [UInt8], encoded text: String) {
        #expect(lenient(text) == plain)
        #expect(lenient(String(text.prefix { $0 != "=" })) == plain, "padding left out")
    }

    @Test func lenientDecodingTakesTheURLAlphabet() {
        #expect(lenient("-_8") == [0xFB, 0xFF])
        #expect(lenient("-_8=") == [0xFB, 0xFF])
        #expect(lenient("eyJqdGkiOiAiYT4_YiJ9") == Array(#"{"jti": "a>?b"}"#.utf8))
    }

    @Test(arguments: [
        "A", "AQIDB",  // a lone last character
        "AQ===", "AQI==", "AQID=", "====", "A===",  // more padding than the length calls for
        "AQ!D", "AQ D", "AQ=D", "AQ\u{0}D",  // outside both alphabets, or misplaced padding
    ])
    func lenientDecodingRefusesMalformedText(text: String) {
        #expect(lenient(text) == nil)
    }
}
