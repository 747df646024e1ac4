import NIOCore
import Testing

@testable import PalisadeYjsRelay

/// The relay's input checks: document ids, byte payloads, the awareness budget.
@Suite struct RelayInputTests {
    @Test func documentIDsAreNormalisedAndBounded() {
        #expect(ClientDocumentID.normalised(.object(["document_id": .string("note_abc")])) == "note:abc")
        #expect(ClientDocumentID.normalised(.object(["document_id": .string("note:abc")])) == "note:abc")
        #expect(ClientDocumentID.normalised(.object(["document_id": .string("sheet:1")])) == "sheet:1")
        #expect(ClientDocumentID.normalised(.object(["document_id": .string("")])) == nil)
        #expect(ClientDocumentID.normalised(.object(["document_id": .number("1")])) == nil)
        #expect(ClientDocumentID.normalised(.object(["document_id": .string("a\nb")])) == nil, "a control character would forge log lines")
        #expect(ClientDocumentID.normalised(.object(["document_id": .string(String(repeating: "x", count: 257))])) == nil)
        #expect(ClientDocumentID.normalised(.object(["other": .string("x")])) == nil)
        #expect(ClientDocumentID.room("note:abc") == "doc_note:abc")
    }

    @Test func bytesComeAsIntegerArraysOrAttachments() throws {
        #expect(try YjsPayloadBytes.decode(.array([.number("0"), .number("255")]), maxBytes: 10) == [0, 255])
        #expect(try YjsPayloadBytes.decode(.binary(ByteBuffer(bytes: [1, 2, 3])), maxBytes: 10) == [1, 2, 3])
        #expect(throws: YjsPayloadBytes.Failure.notBytes) { try YjsPayloadBytes.decode(.array([.number("256")]), maxBytes: 10) }
        #expect(throws: YjsPayloadBytes.Failure.notBytes) { try YjsPayloadBytes.decode(.array([.number("-1")]), maxBytes: 10) }
        #expect(throws: YjsPayloadBytes.Failure.notBytes) { try YjsPayloadBytes.decode(.array([.number("1.5")]), maxBytes: 10) }
        #expect(throws: YjsPayloadBytes.Failure.notBytes) { try YjsPayloadBytes.decode(.array([.string("1")]), maxBytes: 10) }
        #expect(throws: YjsPayloadBytes.Failure.notBytes) { try YjsPayloadBytes.decode(.string("AAA="), maxBytes: 10) }
        #expect(throws: YjsPayloadBytes.Failure.tooLarge) {
            try YjsPayloadBytes.decode(.array(Array(repeating: .number("1"), count: 11)), maxBytes: 10)
        }
        #expect(throws: YjsPayloadBytes.Failure.tooLarge) {
            try YjsPayloadBytes.decode(.binary(ByteBuffer(repeating: 0, count: 11)), maxBytes: 10)
        }
        #expect(YjsPayloadBytes.jsonArray([0, 7, 255]) == .array([.number("0"), .number("7"), .number("255")]))
    }

    @Test func largeBytesGoOutAsBinaryAttachments() {
        let small = [UInt8](repeating: 7, count: YjsPayloadBytes.largestJSONArray)
        #expect(YjsPayloadBytes.payload(small) == YjsPayloadBytes.jsonArray(small), "as Open WebUI's server sends them")
        let large = small + [8]
        #expect(YjsPayloadBytes.payload(large) == .binary(ByteBuffer(bytes: large)), "one byte per byte, not up to four")
    }

    /// A document's value count bounds what a compaction holds: the log's counts add up, and a
    /// compaction replaces the counts of what it folded in with its own.
    @Test func documentValuesFollowTheLogAndCompactions() {
        let document = LiveDocument(id: "d", stored: nil, snapshotValues: 0, logValues: [])
        document.appendToLog(.init(sequence: 1, bytes: [1, 2, 3], values: 3))
        document.appendToLog(.init(sequence: 2, bytes: [4, 5], values: 2))
        #expect(document.storedValues == 5)
        #expect(document.storedBytes == 5)
        document.installSnapshot([9, 9, 9, 9], values: 4, through: 1)
        #expect(document.storedValues == 4 + 2)
        #expect(document.storedBytes == 4 + 2)
        #expect(document.log.map(\.sequence) == [2])
    }

    @Test func awarenessBudgetAllowsABurstThenRefills() {
        let start = NIODeadline.now()
        var bucket = TokenBucket(perSecond: 5)
        var taken: [Bool] = []
        func take(_ at: NIODeadline) { taken.append(bucket.take(now: at)) }
        for _ in 0..<6 { take(start) }
        #expect(taken == [true, true, true, true, true, false], "a burst of 5, then nothing")
        taken = []
        take(start + .milliseconds(100))  // half a token is not a token
        take(start + .milliseconds(250))
        take(start + .milliseconds(250))
        #expect(taken == [false, true, false])
        taken = []
        for _ in 0..<6 { take(start + .seconds(10)) }
        #expect(taken == [true, true, true, true, true, false], "idle time refills to the burst, not beyond")
    }
}
