import PalisadeJSON
import Testing

/// `String(utf8Validating:)` accepts exactly what the standard library's validator accepts.
@Suite struct UTF8TextTests {
    private func text(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { String(utf8Validating: $0) }
    }

    @Test func asciiAndMultiByteTextComeBackUnchanged() {
        for sample in ["", "a", "1234567", "12345678", "123456789", #"{"n":1,"text":"hello"}"#, "é", "aaaaaaaaé", "日本語のテキスト", "🎉 party 🎉"] {
            #expect(text(Array(sample.utf8)) == sample)
        }
    }

    @Test func invalidSequencesAreRefusedWhereverTheyStand() {
        let invalid: [[UInt8]] = [
            [0xFF], [0x80], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE6, 0x97],
        ]
        for bad in invalid {
            for prefix in [0, 1, 7, 8, 9, 16] {
                let bytes = Array(repeating: UInt8(ascii: "x"), count: prefix) + bad + Array("tail".utf8)
                #expect(text(bytes) == nil, "\(bytes)")
            }
        }
    }

    @Test func agreesWithTheStandardLibraryOnRandomBytes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let count = Int.random(in: 0...24, using: &generator)
            // Mostly ASCII with some high bytes, so that both paths and their boundaries are taken.
            let bytes = (0..<count).map { _ in
                Bool.random(using: &generator)
                    ? UInt8.random(in: 0x20...0x7E, using: &generator) : UInt8.random(in: 0...255, using: &generator)
            }
            #expect(text(bytes) == String(validating: bytes, as: UTF8.self), "\(bytes)")
        }
    }
}
