import PalisadeJSON
import Testing

@testable import PalisadeServer

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `server.audit` written to a file: one JSON object per line, in order, appended.
@Suite struct AuditStreamTests {
    @Test func linesAreAppendedAsJSONInOrder() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UInt64.random(in: 0...UInt64.max)).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "earlier line\n".write(toFile: path, atomically: true, encoding: .utf8)
        let stream = try AuditStream(destination: path)
        for index in 0..<100 {
            stream.record("test.kind", [JSONMember("n", .number("\(index)")), JSONMember("text", .string("a \"quoted\"\nline"))])
        }
        stream.flush()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 101 && lines[0] == "earlier line", "appended, not truncated")
        for (index, line) in lines.dropFirst().enumerated() {
            let value = try JSONParser.parse(Array(line.utf8))
            #expect(value["audit"] == .string("test.kind") && value["n"] == .number("\(index)"))
            #expect(value["text"] == .string("a \"quoted\"\nline") && value["ts"]?.stringValue?.hasSuffix("Z") == true)
        }
        #expect(stream.totals.written == 100 && stream.totals.dropped == 0)
    }

    @Test func aDestinationThatCannotBeOpenedIsAConfigurationError() {
        #expect(throws: ConfigurationError.self) { try AuditStream(destination: "/nonexistent-dir/audit.jsonl") }
    }
}
