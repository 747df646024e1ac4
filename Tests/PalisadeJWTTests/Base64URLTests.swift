@testable import PalisadeJWT
import Testing

@Suite struct Base64URLTests {
    @Test(arguments: [
        ([UInt8](), ""),
        (Array("f".utf8), "Zg"),
        (Array("fo".utf8), "Zm8"),
        (Array("foo".utf8), "Zm9v"),
        (Array("foob".utf8), "Zm9vYg"),
        ([0xFB, 0xFF, 0xBF], "-_-_"),
        ([0x03, 0xE0], "A-A"),
    ])
    func encodingIsUnpaddedURLSafeBase64(plain: [UInt8], encoded: String) {
        #expect(Base64URL.encode(plain) == encoded)
        #expect(Base64URL.decode(encoded.utf8) == plain)
    }

    @Test(arguments: ["Zg==", "Zm9v+", "Zm9v/", "Z", "Zm9vY", "Zh", "Zm9", "Zm 9v", "Zm9v\n"])
    func nonCanonicalOrForeignTextIsRefused(text: String) {
        #expect(Base64URL.decode(text.utf8) == nil)
    }

    @Test func everyByteStringRoundTrips() {
        var bytes: [UInt8] = []
        for length in 0..<70 {
            #expect(Base64URL.decode(Base64URL.encode(bytes).utf8) == bytes)
            bytes.append(UInt8(truncatingIfNeeded: length &* 37 &+ 11))
        }
    }
}
