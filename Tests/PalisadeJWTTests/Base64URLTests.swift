import Testing

@testable import PalisadeJWT

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

    /// A foreign byte is refused wherever it stands: in a group of four or in either tail.
    @Test func aForeignByteAnywhereIsRefused() {
        let valid = Array("Zm9vYmFyYmF6".utf8)  // "foobarbaz"
        for length in [4, 6, 7, 8, 12] {
            for position in 0..<length {
                for foreign in [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "/"), 0x00, 0x80, 0xFF] {
                    var text = Array(valid[..<length])
                    text[position] = foreign
                    #expect(Base64URL.decode(text) == nil, "\(length) \(position) \(foreign)")
                }
            }
        }
    }

    /// Collections without contiguous storage decode the same.
    @Test func anyCollectionDecodes() {
        let text = Array("Zm9vYmFyYg".utf8)
        #expect(Base64URL.decode(text.lazy.map { $0 }) == Array("foobarb".utf8))
        #expect(Base64URL.decode(text[2...]) == Base64URL.decode(Array(text[2...])))
    }

    @Test func everyByteStringRoundTrips() {
        var bytes: [UInt8] = []
        for length in 0..<70 {
            let encoded = Base64URL.encode(bytes)
            #expect(Base64URL.decode(encoded.utf8) == bytes)
            #expect(Base64URL.decode(Array(encoded.utf8)[...]) == bytes)
            bytes.append(UInt8(truncatingIfNeeded: length &* 37 &+ 11))
        }
    }
}
