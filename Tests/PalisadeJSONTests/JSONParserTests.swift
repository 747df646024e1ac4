import NIOCore
import PalisadeJSON
import PalisadeTestSupport
import Testing

/// The error `JSONParser` throws for `bytes`, or nil when it parses.
private func parseError(_ bytes: [UInt8], maxDepth: Int = JSONParser.defaultMaxDepth) -> JSONError? {
    do {
        _ = try JSONParser.parse(bytes, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

private func parseError(_ text: String) -> JSONError? { parseError(Array(text.utf8)) }

@Suite struct JSONParserTests {
    // MARK: Values

    @Test func literalsParse() throws {
        #expect(try JSONParser.parse("null") == .null)
        #expect(try JSONParser.parse("true") == .bool(true))
        #expect(try JSONParser.parse("false") == .bool(false))
    }

    @Test(arguments: ["0", "-0", "1", "1.50", "1e5", "1E+5", "-1.5e-10", "0.0", "123456789012345678901234567890", "2.5E07"])
    func numbersKeepTheirExactText(text: String) throws {
        #expect(try JSONParser.parse(text) == .number(text))
    }

    @Test func stringWithoutEscapesParses() throws {
        #expect(try JSONParser.parse(#""hello world""#) == .string("hello world"))
        #expect(try JSONParser.parse(#""""#) == .string(""))
    }

    @Test func shortEscapesAreDecoded() throws {
        #expect(try JSONParser.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
        #expect(try JSONParser.parse(#""a\nb""#) == .string("a\nb"))
    }

    @Test func rawUnicodeIsKept() throws {
        #expect(try JSONParser.parse(#""é中😀""#) == .string("é中😀"))
    }

    @Test func unicodeEscapesAreDecoded() throws {
        #expect(try JSONParser.parse(#""\u00e9""#) == .string("é"))
        #expect(try JSONParser.parse(#""\u00E9\u4E2D""#) == .string("é中"))
        #expect(try JSONParser.parse(#""\u0000""#) == .string("\u{0}"))
        #expect(try JSONParser.parse(#""x\u0041y""#) == .string("xAy"))
    }

    @Test func surrogatePairEscapeBecomesOneScalar() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try JSONParser.parse(#""\uD83D\uDE00!""#) == .string("😀!"))
    }

    @Test func loneSurrogateEscapesBecomeReplacementCharacters() throws {
        #expect(try JSONParser.parse(#""\ud800""#) == .string("\u{FFFD}"))
        #expect(try JSONParser.parse(#""\udc00""#) == .string("\u{FFFD}"))
        #expect(try JSONParser.parse(#""\ud800x""#) == .string("\u{FFFD}x"))
        // A high surrogate followed by an escape that is not a low surrogate keeps that escape.
        #expect(try JSONParser.parse(#""\ud800\u0041""#) == .string("\u{FFFD}A"))
        #expect(try JSONParser.parse(#""\ud800\ud83d\ude00""#) == .string("\u{FFFD}😀"))
    }

    @Test func escapesMixedWithRawUnicodeDecode() throws {
        #expect(try JSONParser.parse(#""é\n😀\u00e9""#) == .string("é\n😀é"))
    }

    @Test func objectKeepsKeyOrder() throws {
        let value = try JSONParser.parse(#"{"b":1,"a":2,"c":{"z":true,"y":null}}"#)
        #expect(
            value
                == .object([
                    JSONMember("b", .number("1")),
                    JSONMember("a", .number("2")),
                    JSONMember("c", .object([JSONMember("z", .bool(true)), JSONMember("y", .null)])),
                ]))
    }

    @Test func duplicateKeysAreKeptInOrder() throws {
        let value = try JSONParser.parse(#"{"a":1,"a":2}"#)
        #expect(value == .object([JSONMember("a", .number("1")), JSONMember("a", .number("2"))]))
        #expect(value["a"] == .number("1"))
    }

    @Test func emptyObjectAndEmptyArrayStayDistinct() throws {
        #expect(try JSONParser.parse("{}") == .object([]))
        #expect(try JSONParser.parse("[]") == .array([]))
        #expect(try JSONParser.parse("[{},[],{}]") == .array([.object([]), .array([]), .object([])]))
    }

    @Test func arrayHoldsEveryKindOfValue() throws {
        let value = try JSONParser.parse(#"["a",1,-2.5,true,false,null,{"k":"v"},[1]]"#)
        #expect(
            value
                == .array([
                    .string("a"), .number("1"), .number("-2.5"), .bool(true), .bool(false), .null,
                    .object([JSONMember("k", .string("v"))]), .array([.number("1")]),
                ]))
    }

    @Test func whitespaceAroundAndInsideIsAllowed() throws {
        let value = try JSONParser.parse(" \t\r\n{ \"a\" : [ 1 , 2 ] ,\n\"b\":{ } } \n\t ")
        #expect(
            value
                == .object([
                    JSONMember("a", .array([.number("1"), .number("2")])),
                    JSONMember("b", .object([])),
                ]))
        #expect(try JSONParser.parse("  7  ") == .number("7"))
    }

    @Test func everyInputFormParsesTheSame() throws {
        let text = #"{"a":[1,"é"]}"#
        let expected = try JSONParser.parse(text)
        let bytes = Array(text.utf8)
        #expect(try JSONParser.parse(bytes) == expected)
        #expect(try JSONParser.parse(bytes[...]) == expected)
        #expect(try JSONParser.parse(("xx" + text + "yy").dropFirst(2).dropLast(2)) == expected)
        // A collection without contiguous storage takes the copying path.
        #expect(try JSONParser.parse(bytes.lazy.map { $0 }) == expected)
        var buffer = ByteBuffer(string: "junk" + text)
        buffer.moveReaderIndex(forwardBy: 4)
        #expect(try JSONParser.parse(buffer.readableBytesView) == expected)
    }

    @Test func sliceIsParsedFromItsOwnStart() throws {
        let bytes = Array(#"42["x"]"#.utf8)
        #expect(try JSONParser.parse(bytes[2...]) == .array([.string("x")]))
    }

    // MARK: Errors

    @Test(arguments: ["", "   ", "[", "[1,", "[1", "{", #"{"a""#, #"{"a":"#, #"{"a":1"#, #""abc"#, #""\"#, #""\u12"#, "tru", "fals", "nul"])
    func truncatedInputIsUnexpectedEnd(text: String) {
        #expect(parseError(text)?.kind == .unexpectedEnd)
    }

    @Test(arguments: [
        "x", "[1 2]", "{a:1}", #"{"a" 1}"#, "[1,]", #"{"a":1,}"#, "trux", "nul!", "+1", ".5", "[,]", "{,}", #"{"a":1 "b":2}"#, "'a'",
        "True", "NaN", "\u{0C}1", "[1}", "{\"a\":1]",
    ])
    func misplacedByteIsUnexpectedByte(text: String) {
        #expect(parseError(text)?.kind == .unexpectedByte)
    }

    @Test(arguments: ["-", "-a", "1.", "1.e5", "1e", "1e+", "1E-", "-.5", "[-]", "1.x"])
    func malformedNumberIsInvalidNumber(text: String) {
        #expect(parseError(text)?.kind == .invalidNumber)
    }

    @Test(arguments: ["01", "-01", "00"])
    func leadingZeroIsRefused(text: String) {
        #expect(parseError(text)?.kind == .trailingData)
    }

    @Test(arguments: [#""\x""#, #""\u12G4""#, #""\U0041""#, #""\a""#, #""\'""#, #""\ud800\uZZZZ""#])
    func unknownOrMalformedEscapeIsInvalidEscape(text: String) {
        #expect(parseError(text)?.kind == .invalidEscape)
    }

    @Test(
        arguments: [
            [0x22, 0xFF, 0x22],  // never valid in UTF-8
            [0x22, 0xC0, 0x80, 0x22],  // overlong NUL
            [0x22, 0xE2, 0x82, 0x22],  // truncated sequence
            [0x22, 0xED, 0xA0, 0x80, 0x22],  // an encoded surrogate
            [0x22, 0x80, 0x22],  // lone continuation byte
            [0x22, 0x5C, 0x6E, 0xFF, 0x22],  // after an escape (slow path)
            [0x5B, 0x22, 0x61, 0xF0, 0x9F, 0x98, 0x22, 0x5D],  // truncated emoji inside an array
        ] as [[UInt8]])
    func invalidUTF8InStringIsRefused(bytes: [UInt8]) {
        #expect(parseError(bytes)?.kind == .invalidUTF8)
    }

    @Test(arguments: ["\"a\nb\"", "\"\u{01}\"", "\"\u{1F}\"", "\"tab\there\"", "\"\\n\u{1E}\"", "[\"\u{0}\"]"])
    func rawControlCharacterInStringIsRefused(text: String) {
        #expect(parseError(text)?.kind == .controlCharacterInString)
    }

    @Test func deleteCharacterIsNotAControlCharacter() throws {
        #expect(try JSONParser.parse("\"\u{7F}\"") == .string("\u{7F}"))
    }

    @Test(arguments: ["1 2", "{}{}", "[]x", "null,", "\"a\"\"b\"", "true false", "1]", "{}}"])
    func dataAfterTheValueIsTrailingData(text: String) {
        #expect(parseError(text)?.kind == .trailingData)
    }

    @Test(arguments: [
        ("[1,]", JSONError.Kind.unexpectedByte, 3),
        ("\"a\nb\"", .controlCharacterInString, 2),
        ("trux", .unexpectedByte, 3),
        ("tru", .unexpectedEnd, 3),
        ("[1, 2", .unexpectedEnd, 5),
        ("1 2", .trailingData, 2),
        (#""\q""#, .invalidEscape, 2),
        ("[1.]", .invalidNumber, 3),
    ])
    func errorOffsetPointsAtTheProblem(text: String, kind: JSONError.Kind, offset: Int) {
        let error = parseError(text)
        #expect(error?.kind == kind)
        #expect(error?.offset == offset)
    }

    @Test func invalidUTF8OffsetIsTheStartOfTheString() {
        let error = parseError([0x5B, 0x22, 0x61, 0xFF, 0x22, 0x5D])
        #expect(error?.kind == .invalidUTF8)
        #expect(error?.offset == 2)
    }

    @Test func errorDescriptionNamesKindAndOffset() {
        #expect(parseError("[1,]")?.description == "unexpected byte at byte 3")
        #expect(parseError("1 2")?.description == "data after the JSON value at byte 2")
    }

    // MARK: Depth

    @Test func nestingUpToTheLimitParses() throws {
        let depth = JSONParser.defaultMaxDepth
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(throws: Never.self) { _ = try JSONParser.parse(arrays) }
        let objects = String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
        #expect(throws: Never.self) { _ = try JSONParser.parse(objects) }
    }

    @Test func nestingPastTheLimitIsTooDeep() {
        let depth = JSONParser.defaultMaxDepth + 1
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(parseError(arrays)?.kind == .tooDeep)
        #expect(parseError(arrays)?.offset == depth - 1)
        let mixed = String(repeating: #"[{"k":"#, count: depth) + "1" + String(repeating: "}]", count: depth)
        #expect(parseError(mixed)?.kind == .tooDeep)
    }

    @Test func tenThousandOpenBracketsAreTooDeepNotACrash() {
        #expect(parseError(String(repeating: "[", count: 10_000))?.kind == .tooDeep)
        #expect(parseError(String(repeating: #"{"a":"#, count: 10_000))?.kind == .tooDeep)
        let balanced = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(parseError(balanced)?.kind == .tooDeep)
    }

    @Test func maxDepthIsConfigurable() throws {
        #expect(parseError(Array("[[1]]".utf8), maxDepth: 1)?.kind == .tooDeep)
        #expect(try JSONParser.parse("[[1]]", maxDepth: 2) == .array([.array([.number("1")])]))
        #expect(parseError(Array("{}".utf8), maxDepth: 0)?.kind == .tooDeep)
        #expect(try JSONParser.parse("7", maxDepth: 0) == .number("7"))
    }

    // MARK: JSONValue accessors

    @Test func accessorsReadTheMatchingCase() throws {
        let value = try JSONParser.parse(#"{"name":"x","list":[1],"n":42,"f":1.5,"big":123456789012345678901234567890}"#)
        #expect(value.isObject)
        #expect(value["name"]?.stringValue == "x")
        #expect(value["list"]?.arrayValue == [.number("1")])
        #expect(value["n"]?.intValue == 42)
        #expect(value["f"]?.intValue == nil)
        #expect(value["big"]?.intValue == nil)
        #expect(value["missing"] == nil)
        #expect(JSONValue.array([])["name"] == nil)
        #expect(JSONValue.string("s").arrayValue == nil)
        #expect(JSONValue.number("1").stringValue == nil)
        #expect(!JSONValue.array([]).isObject)
        #expect(JSONValue(-7) == .number("-7"))
        #expect(JSONValue.object(["a": .null, "b": .bool(true)]) == .object([JSONMember("a", .null), JSONMember("b", .bool(true))]))
    }

    @Test func containsBinaryLooksEverywhere() {
        let bytes = JSONValue.binary(ByteBuffer(bytes: [1]))
        #expect(bytes.containsBinary)
        #expect(JSONValue.array([.null, .array([bytes])]).containsBinary)
        #expect(JSONValue.object([JSONMember("a", .object([JSONMember("b", bytes)]))]).containsBinary)
        #expect(!JSONValue.array([.string("x"), .object([])]).containsBinary)
        #expect(!JSONValue.null.containsBinary)
    }

    // MARK: Fuzz

    private static let seeds = [
        #"{"a":[1,2.5,-0,1e5],"b":{"c":null,"d":true,"e":false},"f":"x\n\u00e9😀\ud83d\ude00"}"#,
        #"["message",{"_placeholder":true,"num":0},[[[]]],{}]"#,
        #""\"\\\/\b\f\n\r\t""#,
        "-12.5E+3",
    ]
    private static let alphabet = Array(#"{}[]",:0123456789.eE+-\/u tfnrlsabd"#.utf8) + [0xC3, 0xA9, 0x0A]

    @Test func randomAndMutatedBytesNeverCrashAndAcceptedOnesRoundTrip() throws {
        var random = SeededGenerator(seed: 0x5EED_0001)
        let seeds = Self.seeds.map { Array($0.utf8) }
        var accepted = 0
        for round in 0..<4000 {
            let input =
                round.isMultiple(of: 2)
                ? random.bytes(maxCount: 24, alphabet: Self.alphabet)
                : random.mutate(seeds[round / 2 % seeds.count], alphabet: Self.alphabet)
            guard let value = try? JSONParser.parse(input) else { continue }
            accepted += 1
            // Whatever is accepted must survive a write and a re-parse unchanged.
            let written = JSONWriter.string(value)
            let reparsed = try JSONParser.parse(written)
            #expect(reparsed == value, "input \(input)")
            #expect(JSONWriter.string(reparsed) == written)
        }
        #expect(accepted > 100)
    }
}
