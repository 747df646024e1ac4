import NIOCore
import PalisadeJSON
import Testing

@Suite struct JSONWriterTests {
    @Test func scalarsAreWrittenAsJSON() {
        #expect(JSONWriter.string(.null) == "null")
        #expect(JSONWriter.string(.bool(true)) == "true")
        #expect(JSONWriter.string(.bool(false)) == "false")
        #expect(JSONWriter.string(.string("hi")) == #""hi""#)
    }

    @Test(arguments: ["1", "1.50", "-0", "1e5", "1E+5", "-1.5e-10", "0", "123456789012345678901234567890"])
    func numbersAreWrittenWithTheirOriginalText(text: String) {
        #expect(JSONWriter.string(.number(text)) == text)
    }

    @Test func outputIsCompactAndKeepsKeyOrder() {
        let value = JSONValue.object([
            JSONMember("z", .number("1")),
            JSONMember("a", .array([.bool(true), .null, .object([]), .array([])])),
            JSONMember("m", .object([JSONMember("y", .string("v")), JSONMember("x", .number("2"))])),
        ])
        #expect(JSONWriter.string(value) == #"{"z":1,"a":[true,null,{},[]],"m":{"y":"v","x":2}}"#)
    }

    @Test func emptyContainersAreWrittenAsThemselves() {
        #expect(JSONWriter.string(.object([])) == "{}")
        #expect(JSONWriter.string(.array([])) == "[]")
        #expect(JSONWriter.string(.array([.array([]), .object([])])) == "[[],{}]")
    }

    @Test func placeholderObjectIsWrittenInItsKeyOrder() {
        let placeholder = JSONValue.object([JSONMember("_placeholder", .bool(true)), JSONMember("num", JSONValue(0))])
        #expect(JSONWriter.string(placeholder) == #"{"_placeholder":true,"num":0}"#)
    }

    @Test func slashIsNotEscaped() {
        #expect(JSONWriter.string(.string("a/b</script>")) == #""a/b</script>""#)
    }

    @Test func nonASCIIIsWrittenRaw() {
        #expect(JSONWriter.string(.string("é中😀")) == "\"é中😀\"")
        // JavaScript's JSON.stringify leaves the line and paragraph separators raw too.
        #expect(JSONWriter.string(.string("\u{2028}\u{2029}")) == "\"\u{2028}\u{2029}\"")
    }

    @Test func quoteAndBackslashAreEscaped() {
        #expect(JSONWriter.string(.string(#"say "hi" \ bye"#)) == #""say \"hi\" \\ bye""#)
    }

    @Test func controlCharactersWithShortFormsUseThem() {
        #expect(JSONWriter.string(.string("\n\r\t\u{08}\u{0C}")) == #""\n\r\t\b\f""#)
    }

    @Test func otherControlCharactersAreLowercaseUnicodeEscapes() {
        #expect(JSONWriter.string(.string("\u{0}")) == #""\u0000""#)
        #expect(JSONWriter.string(.string("\u{01}a\u{1E}b\u{1F}")) == #""\u0001a\u001eb\u001f""#)
        #expect(JSONWriter.string(.string("\u{0B}")) == #""\u000b""#)
    }

    @Test func recordSeparatorNeverAppearsRaw() {
        let written = JSONWriter.string(.array([.string("a\u{1E}b"), .object([JSONMember("\u{1E}", .null)])]))
        #expect(!written.utf8.contains(0x1E))
        #expect(written == #"["a\u001eb",{"\u001e":null}]"#)
    }

    @Test func deleteCharacterIsWrittenRaw() {
        #expect(JSONWriter.string(.string("\u{7F}")) == "\"\u{7F}\"")
    }

    @Test func keysAreEscapedLikeStrings() {
        let value = JSONValue.object([JSONMember("a\"b\n/é", .null)])
        #expect(JSONWriter.string(value) == #"{"a\"b\n/é":null}"#)
    }

    @Test func escapesBetweenRawRunsKeepEveryByte() {
        #expect(JSONWriter.string(.string("ab\"cd\\ef\ngh")) == #""ab\"cd\\ef\ngh""#)
        #expect(JSONWriter.string(.string("\"")) == #""\"""#)
        #expect(JSONWriter.string(.string("é\né")) == #""é\né""#)
    }

    @Test func leftoverBinaryIsWrittenAsNull() {
        #expect(JSONWriter.string(.array([.binary(ByteBuffer(bytes: [1, 2]))])) == "[null]")
    }

    @Test func writeAppendsToTheBuffer() {
        var buffer = ByteBuffer(string: "42")
        JSONWriter.write(.array([.string("foo")]), into: &buffer)
        #expect(String(buffer: buffer) == #"42["foo"]"#)
    }

    @Test(arguments: [
        #"{"b":1,"a":[true,false,null,{},[]],"c":"x/y"}"#,
        #"[1,1.50,-0,1e5,-1.5E-7,0.0]"#,
        #"["é中😀",""]"#,
        #"{"_placeholder":true,"num":0}"#,
        #"["a\"b\\c\n\r\t\b\f\u0001\u001f"]"#,
        #"{"":{"":[]}}"#,
        "true", "null", "{}", "[]", "-0", #""""#,
    ])
    func compactInputRoundTripsByteForByte(text: String) throws {
        #expect(JSONWriter.string(try JSONParser.parse(text)) == text)
    }

    @Test func whitespaceIsDroppedOnRoundTrip() throws {
        #expect(JSONWriter.string(try JSONParser.parse(" { \"a\" : [ 1 , 2 ] } ")) == #"{"a":[1,2]}"#)
    }

    @Test func unicodeEscapesAreWrittenRaw() throws {
        // python-socketio sends \u escapes; we answer with raw UTF-8, as the reference does.
        #expect(JSONWriter.string(try JSONParser.parse(#""\u00e9\ud83d\ude00""#)) == "\"é😀\"")
        #expect(JSONWriter.string(try JSONParser.parse(#""\/""#)) == #""/""#)
        #expect(JSONWriter.string(try JSONParser.parse(#""\u001E\u0041""#)) == #""\u001eA""#)
    }
}
