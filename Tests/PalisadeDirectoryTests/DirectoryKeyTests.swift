import PalisadeDirectory
import PalisadeJSON
import Testing

@Suite("DirectoryKey and DirectoryRecord")
struct DirectoryKeyTests {
    @Test(arguments: ["user", "group", "note", "channel", "a", "x-y_z09"])
    func validKindsPass(kind: String) throws {
        try DirectoryKey.validate(kind: kind)
    }

    @Test(arguments: ["", "User", "a.b", "a/b", "ü", " user", String(repeating: "a", count: 129)])
    func invalidKindsFail(kind: String) {
        #expect(
            throws: DirectoryError(
                .invalidKind, kind.isEmpty || kind.utf8.count > 128 ? "kind must be 1 to 128 bytes" : "kind must use only a-z, 0-9, _ and -"
            )
        ) {
            try DirectoryKey.validate(kind: kind)
        }
    }

    @Test func idLimitIsCountedInBytes() throws {
        try DirectoryKey.validate(id: String(repeating: "\u{20AC}", count: 42))  // 126 bytes
        #expect(throws: DirectoryError.self) { try DirectoryKey.validate(id: String(repeating: "\u{20AC}", count: 43)) }
    }

    @Test func encodedRecordIsCompactJSONInTheGivenOrder() throws {
        let text = #"{"b":1.0,"a":[],"c":{}}"#
        #expect(try DirectoryRecord.encode(JSONParser.parse(text)) == text)
    }

    @Test func overDeepRecordIsRefused() {
        var value = JSONValue.null
        for _ in 0..<JSONParser.defaultMaxDepth + 1 { value = .array([value]) }
        #expect(throws: DirectoryError.self) { try DirectoryRecord.encode(.object(["deep": value])) }
    }
}
