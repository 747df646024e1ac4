/// Checks that already-UTF-8-valid bytes are one JSON value (RFC 8259, as `JSON.parse` accepts it:
/// surrounding whitespace allowed, lone-surrogate `\u` escapes allowed). Depth-capped; no allocation.
enum YjsJSONValidation {
    static func isValid<C: RandomAccessCollection<UInt8>>(bytes: C, maxDepth: Int) -> Bool where C.Index == Int {
        var parser = Parser(bytes: bytes, index: bytes.startIndex, maxDepth: maxDepth)
        parser.skipWhitespace()
        guard parser.value(depth: 0) else { return false }
        parser.skipWhitespace()
        return parser.index == bytes.endIndex
    }

    private struct Parser<C: RandomAccessCollection<UInt8>> where C.Index == Int {
        let bytes: C
        var index: Int
        let maxDepth: Int

        var peek: UInt8? { index < bytes.endIndex ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        mutating func literal(_ word: String) -> Bool {
            for byte in word.utf8 {
                guard peek == byte else { return false }
                index += 1
            }
            return true
        }

        mutating func value(depth: Int) -> Bool {
            guard let byte = peek else { return false }
            switch byte {
            case UInt8(ascii: "{"):
                guard depth < maxDepth else { return false }
                index += 1
                skipWhitespace()
                if peek == UInt8(ascii: "}") {
                    index += 1
                    return true
                }
                while true {
                    skipWhitespace()
                    guard peek == UInt8(ascii: "\""), string() else { return false }
                    skipWhitespace()
                    guard peek == UInt8(ascii: ":") else { return false }
                    index += 1
                    skipWhitespace()
                    guard value(depth: depth + 1) else { return false }
                    skipWhitespace()
                    if peek == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    guard peek == UInt8(ascii: "}") else { return false }
                    index += 1
                    return true
                }
            case UInt8(ascii: "["):
                guard depth < maxDepth else { return false }
                index += 1
                skipWhitespace()
                if peek == UInt8(ascii: "]") {
                    index += 1
                    return true
                }
                while true {
                    skipWhitespace()
                    guard value(depth: depth + 1) else { return false }
                    skipWhitespace()
                    if peek == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    guard peek == UInt8(ascii: "]") else { return false }
                    index += 1
                    return true
                }
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return number()
            }
        }

        mutating func string() -> Bool {
            index += 1  // opening quote
            while let byte = peek {
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return true
                case UInt8(ascii: "\\"):
                    guard let escape = peek else { return false }
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                        UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        continue
                    case UInt8(ascii: "u"):
                        for _ in 0..<4 {
                            guard let hex = peek, isHex(hex) else { return false }
                            index += 1
                        }
                    default: return false
                    }
                case 0x00..<0x20: return false
                default: continue
                }
            }
            return false
        }

        func isHex(_ byte: UInt8) -> Bool {
            (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
        }

        mutating func digits() -> Bool {
            let start = index
            while let byte = peek, (0x30...0x39).contains(byte) { index += 1 }
            return index > start
        }

        mutating func number() -> Bool {
            if peek == UInt8(ascii: "-") { index += 1 }
            if peek == UInt8(ascii: "0") {
                index += 1
            } else {
                guard let byte = peek, (0x31...0x39).contains(byte), digits() else { return false }
            }
            if peek == UInt8(ascii: ".") {
                index += 1
                guard digits() else { return false }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                index += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
                guard digits() else { return false }
            }
            return true
        }
    }
}
